package api

import (
	"net/http"
	"net/http/httptest"

	"github.com/gin-gonic/gin"

	"github.com/wangge/wangge"
)

// OpenRoute makes a route public until restore is called: the benchmark's
// baseline of a request that carries no credential to check.
func OpenRoute(key string) (restore func()) {
	saved := routes[key]
	routes[key] = open(wangge.PermPublic)
	return func() { routes[key] = saved }
}

// Authenticator runs the credential check alone on a request, again and
// again: what a bearer token adds to any route.
func (s *Server) Authenticator(r *http.Request) func() error {
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	c.Request = r
	return func() error {
		_, err := s.authenticate(c)
		return err
	}
}
