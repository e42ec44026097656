package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/api"
	"github.com/wangge/wangge/api/apitest"
	"github.com/wangge/wangge/postgis"
	"github.com/wangge/wangge/postgis/pgtest"
)

// accessServer serves only the access routes (session, users, tokens,
// audit) over a fresh database, with its credential cache following
// NOTIFY like a replica in service.
func accessServer(t *testing.T, db *postgis.DB) *httptest.Server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a := apitest.Access(t, db)
	a.Cache = api.NewPrincipalCache(time.Minute)
	ready := make(chan struct{})
	go a.Cache.Follow(ctx, db, postgis.AuthChannel, log)
	go func() { // the listener is up once a NOTIFY round-trips; wait briefly
		time.Sleep(200 * time.Millisecond)
		close(ready)
	}()
	<-ready
	hs := httptest.NewServer(api.New(api.Deps{Log: log, Health: db, MaxBodyBytes: 1 << 16, Access: a}).Handler())
	t.Cleanup(func() { hs.Close(); cancel() })
	return hs
}

type answer struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func send(t *testing.T, method, url, body string, header ...string) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] == "Host" {
			req.Host = header[i+1]
			continue
		}
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	a := answer{status: res.StatusCode, header: res.Header}
	raw, _ := io.ReadAll(res.Body)
	a.raw = string(raw)
	_ = json.Unmarshal(raw, &a.body)
	return a
}

func (a answer) want(t *testing.T, status int, reason string) {
	t.Helper()
	if a.status != status {
		t.Fatalf("status %d, want %d (%v)", a.status, status, a.body)
	}
	if reason != "" {
		msg, _ := a.body["error"].(string)
		if !strings.Contains(msg, reason) || a.body["code"] == nil {
			t.Fatalf("error %q (code %v), want it to say %q", msg, a.body["code"], reason)
		}
	}
}

func TestLoginSessionLogout(t *testing.T) {
	db, _ := pgtest.New(t)
	hs := accessServer(t, db)
	name, _ := apitest.User(t, db, wangge.RoleCommander, "500103", nil)
	login := func(pw string, header ...string) answer {
		return send(t, "POST", hs.URL+"/api/v1/session", `{"name":"`+name+`","password":"`+pw+`"}`, header...)
	}

	send(t, "GET", hs.URL+"/api/v1/session", "").want(t, 401, "log in")
	login("wrong password!").want(t, 401, "wrong name or password")
	send(t, "POST", hs.URL+"/api/v1/session", `{"name":"nobody-at-all","password":"whatever it is"}`).want(t, 401, "wrong name or password")
	send(t, "POST", hs.URL+"/api/v1/session", `{"name":"x","password":"`+strings.Repeat("p", 300)+`"}`).want(t, 400, "too long")
	send(t, "POST", hs.URL+"/api/v1/session", `{"name":`).want(t, 400, "malformed JSON")

	ok := login(apitest.Password)
	ok.want(t, 201, "")
	cookie := ok.header.Get("Set-Cookie")
	for _, want := range []string{"wangge_session=wgs_", "HttpOnly", "SameSite=Strict", "Path=/"} {
		if !strings.Contains(cookie, want) {
			t.Errorf("Set-Cookie %q lacks %q", cookie, want)
		}
	}
	if strings.Contains(cookie, "Secure") {
		t.Errorf("Secure cookie over plain HTTP would never be sent back: %q", cookie)
	}
	if ok.body["role"] != "commander" || ok.body["region"] != "500103" {
		t.Errorf("login answer %v", ok.body)
	}
	c := strings.Split(cookie, ";")[0]
	who := send(t, "GET", hs.URL+"/api/v1/session", "", "Cookie", c)
	who.want(t, 200, "")
	if who.body["name"] != name || !contains(who.body["permissions"], "events.handle") || contains(who.body["permissions"], "plans.apply") {
		t.Errorf("who am I: %v", who.body)
	}
	origin := "Origin"
	send(t, "DELETE", hs.URL+"/api/v1/session", "", "Cookie", c, origin, hs.URL).want(t, 204, "")
	// The session is revoked: the cookie now reads as anonymous.
	send(t, "GET", hs.URL+"/api/v1/session", "", "Cookie", c).want(t, 401, "log in")
}

func contains(list any, s string) bool {
	l, _ := list.([]any)
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func TestLoginThrottled(t *testing.T) {
	db, _ := pgtest.New(t)
	hs := accessServer(t, db)
	name, _ := apitest.User(t, db, wangge.RoleViewer, "", nil)
	for i := 0; i < 5; i++ {
		send(t, "POST", hs.URL+"/api/v1/session", `{"name":"`+name+`","password":"guess number `+string(rune('a'+i))+`"}`).want(t, 401, "")
	}
	a := send(t, "POST", hs.URL+"/api/v1/session", `{"name":"`+name+`","password":"`+apitest.Password+`"}`)
	a.want(t, 429, "too many failed logins")
	if a.header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	var n int
	if err := db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM credentials WHERE kind = 'session'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("sessions stored after refused logins: %d (%v)", n, err)
	}
}

func TestBearerTokens(t *testing.T) {
	db, _ := pgtest.New(t)
	hs := accessServer(t, db)
	ctx := context.Background()
	bearer := func(tok string) []string { return []string{"Authorization", "Bearer " + tok} }
	_, good := apitest.User(t, db, wangge.RoleAdmin, "", nil)
	send(t, "GET", hs.URL+"/api/v1/users", "", bearer(good)...).want(t, 200, "")

	expName, expired := apitest.User(t, db, wangge.RoleAdmin, "", nil)
	if _, err := db.Pool.Exec(ctx, `UPDATE credentials SET expires_at = now() - interval '1 s'
		WHERE user_id = (SELECT id FROM users WHERE name = $1)`, expName); err != nil {
		t.Fatal(err)
	}
	revName, revoked := apitest.User(t, db, wangge.RoleAdmin, "", nil)
	if _, err := db.Pool.Exec(ctx, `UPDATE credentials SET revoked_at = now() WHERE user_id = (SELECT id FROM users WHERE name = $1)`, revName); err != nil {
		t.Fatal(err)
	}
	offName, disabled := apitest.User(t, db, wangge.RoleAdmin, "", nil)
	if err := db.DisableUser(ctx, wangge.CityScope(), offName); err != nil {
		t.Fatal(err)
	}
	unknown, _ := wangge.NewSecret(wangge.TokenPrefix)
	tests := []struct {
		name, header, reason string
	}{
		{"expired", "Bearer " + expired, "credential expired"},
		{"revoked", "Bearer " + revoked, "credential revoked"},
		{"disabled account", "Bearer " + disabled, "revoked"},
		{"unknown", "Bearer " + unknown, "unknown credential"},
		{"malformed", "Bearer not-a-token", "malformed credential"},
		{"wrong scheme", "Basic " + good, "malformed credential"},
		{"oversized", "Bearer " + strings.Repeat("x", 4096), "too long"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := send(t, "GET", hs.URL+"/api/v1/users", "", "Authorization", tc.header)
			a.want(t, 401, tc.reason)
			if a.header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
	// A viewer's valid token is 403 on an admin route: the role, not the credential.
	_, viewer := apitest.User(t, db, wangge.RoleViewer, "", nil)
	send(t, "GET", hs.URL+"/api/v1/users", "", bearer(viewer)...).want(t, 403, "may not users.manage")
	// Public routes answer whatever credential comes along.
	send(t, "GET", hs.URL+"/healthz", "", "Authorization", "Bearer junk").want(t, 200, "")
}

// TestRevocationReachesEveryReplica: two replicas have the token cached;
// a revocation made elsewhere (the CLI) stops it on both within a second.
func TestRevocationReachesEveryReplica(t *testing.T) {
	db, _ := pgtest.New(t)
	a, b := accessServer(t, db), accessServer(t, db)
	_, tok := apitest.User(t, db, wangge.RoleAdmin, "", nil)
	for _, hs := range []*httptest.Server{a, b} {
		send(t, "GET", hs.URL+"/api/v1/users", "", "Authorization", "Bearer "+tok).want(t, 200, "")
	}
	var id int64
	if err := db.Pool.QueryRow(context.Background(), `SELECT max(id) FROM credentials`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if err := db.RevokeCredential(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	for _, hs := range []*httptest.Server{a, b} {
		deadline := time.Now().Add(time.Second)
		for {
			st := send(t, "GET", hs.URL+"/api/v1/users", "", "Authorization", "Bearer "+tok).status
			if st == 401 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("revoked token still answered %d after 1 s", st)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func TestBrowserAndNetworkHygiene(t *testing.T) {
	db, _ := pgtest.New(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	acc := apitest.Access(t, db)
	hs := httptest.NewUnstartedServer(nil)
	acc.AllowedHosts = []string{hs.Listener.Addr().String()}
	hs.Config.Handler = api.New(api.Deps{Log: log, Health: db, MaxBodyBytes: 1 << 16, Access: acc}).Handler()
	hs.Start()
	t.Cleanup(hs.Close)
	name, tok := apitest.User(t, db, wangge.RoleAdmin, "", nil)
	login := send(t, "POST", hs.URL+"/api/v1/session", `{"name":"`+name+`","password":"`+apitest.Password+`"}`)
	login.want(t, 201, "")
	cookie := strings.Split(login.header.Get("Set-Cookie"), ";")[0]
	user := `{"name":"newcomer","role":"viewer","password":"a good long password"}`

	send(t, "GET", hs.URL+"/healthz", "", "Host", "evil.example:80").want(t, 421, "does not answer for host")
	send(t, "POST", hs.URL+"/api/v1/users", user, "Cookie", cookie).want(t, 403, "Origin header missing")
	send(t, "POST", hs.URL+"/api/v1/users", user, "Cookie", cookie, "Origin", "http://evil.example").want(t, 403, "Origin does not match")
	send(t, "POST", hs.URL+"/api/v1/users", user, "Cookie", cookie, "Origin", hs.URL, "Content-Type", "text/plain").want(t, 403, "application/json")
	var n int
	if err := db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM users WHERE name = 'newcomer'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("refused writes stored a user: %d %v", n, err)
	}
	send(t, "POST", hs.URL+"/api/v1/users", user, "Cookie", cookie, "Origin", hs.URL).want(t, 201, "")
	// A bearer token is never sent by a browser on its own: no Origin needed.
	send(t, "POST", hs.URL+"/api/v1/users", strings.Replace(user, "newcomer", "newcomer2", 1), "Authorization", "Bearer "+tok).want(t, 201, "")

	a := send(t, "GET", hs.URL+"/healthz", "")
	for h, want := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
		"Content-Security-Policy": "frame-ancestors 'none'"} {
		if !strings.Contains(a.header.Get(h), want) {
			t.Errorf("%s = %q, want %q", h, a.header.Get(h), want)
		}
	}
	if a.header.Get("Access-Control-Allow-Origin") != "" {
		t.Error("CORS answered without being configured")
	}
}
