package api

import "github.com/wangge/wangge"

// OpenRoute makes a route public until restore is called: the benchmark's
// baseline of a request that carries no credential to check.
func OpenRoute(key string) (restore func()) {
	saved := routes[key]
	routes[key] = open(wangge.PermPublic)
	return func() { routes[key] = saved }
}
