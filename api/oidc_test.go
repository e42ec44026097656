package api_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wangge/wangge/api"
	"github.com/wangge/wangge/api/apitest"
	"github.com/wangge/wangge/postgis/pgtest"
)

// issuer is an OpenID provider the test runs itself: discovery, keys and a
// token endpoint that checks the PKCE verifier and signs what the test
// case asks for.
type issuer struct {
	*httptest.Server
	key    *rsa.PrivateKey
	claims func(nonce string) map[string]any
	signer *rsa.PrivateKey   // nil: key
	codes  map[string]string // code → nonce
	pkce   map[string]string // code → challenge
	t      *testing.T
}

func newIssuer(t *testing.T) *issuer {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	is := &issuer{key: key, codes: map[string]string{}, pkce: map[string]string{}, t: t}
	mux := http.NewServeMux()
	is.Server = httptest.NewServer(mux)
	t.Cleanup(is.Close)
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"issuer": is.URL, "authorization_endpoint": is.URL + "/authorize",
			"token_endpoint": is.URL + "/token", "jwks_uri": is.URL + "/jwks"})
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) {
		b64 := base64.RawURLEncoding
		json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{"kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256",
			"n": b64.EncodeToString(key.N.Bytes()), "e": b64.EncodeToString(big.NewInt(int64(key.E)).Bytes())}}})
	})
	mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		code := r.PostForm.Get("code")
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		if id, secret, _ := r.BasicAuth(); id != "wangge" || secret != "s3cret" ||
			base64.RawURLEncoding.EncodeToString(sum[:]) != is.pkce[code] {
			w.WriteHeader(400)
			json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant"})
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"id_token": is.sign(is.claims(is.codes[code])), "token_type": "Bearer"})
	})
	return is
}

func (is *issuer) sign(claims map[string]any) string {
	b64 := base64.RawURLEncoding
	h, _ := json.Marshal(map[string]string{"alg": "RS256", "kid": "k1", "typ": "JWT"})
	c, _ := json.Marshal(claims)
	in := b64.EncodeToString(h) + "." + b64.EncodeToString(c)
	sum := sha256.Sum256([]byte(in))
	k := is.key
	if is.signer != nil {
		k = is.signer
	}
	sig, err := rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, sum[:])
	if err != nil {
		is.t.Fatal(err)
	}
	return in + "." + b64.EncodeToString(sig)
}

func TestOIDCLogin(t *testing.T) {
	db, _ := pgtest.New(t)
	is := newIssuer(t)
	acc := apitest.Access(t, db)
	acc.OIDC = &api.OIDC{Issuer: is.URL, ClientID: "wangge", ClientSecret: "s3cret", Users: db}
	hs := httptest.NewServer(api.New(api.Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Health: db,
		MaxBodyBytes: 1 << 16, Access: acc}).Handler())
	t.Cleanup(hs.Close)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	good := func(nonce string) map[string]any {
		now := time.Now().Unix()
		return map[string]any{"iss": is.URL, "sub": "u-1001", "aud": "wangge", "exp": now + 300, "iat": now, "nonce": nonce,
			"preferred_username": "li.si", "wangge_role": "commander", "wangge_region": "500103"}
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	tests := []struct {
		name     string
		claims   func(nonce string) map[string]any
		signer   *rsa.PrivateKey
		badState bool
		status   int
		reason   string
	}{
		{name: "good", claims: good, status: 303},
		{name: "forged signature", claims: good, signer: other, status: 401, reason: "signature"},
		{name: "replayed nonce", claims: func(string) map[string]any { return good("someone else's") }, status: 401, reason: "nonce"},
		{name: "another client's token", claims: func(n string) map[string]any { c := good(n); c["aud"] = "other-app"; return c }, status: 401, reason: "aud"},
		{name: "expired", claims: func(n string) map[string]any { c := good(n); c["exp"] = time.Now().Unix() - 3600; return c }, status: 401, reason: "expired"},
		{name: "other issuer", claims: func(n string) map[string]any { c := good(n); c["iss"] = "https://evil.example"; return c }, status: 401, reason: "issuer"},
		{name: "no role", claims: func(n string) map[string]any { c := good(n); delete(c, "wangge_role"); return c }, status: 403, reason: "no wangge role"},
		{name: "state mismatch", claims: good, badState: true, status: 401, reason: "state"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			is.claims, is.signer = tc.claims, tc.signer
			res, err := noFollow.Get(hs.URL + "/api/v1/session/oidc")
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			loc, _ := url.Parse(res.Header.Get("Location"))
			if res.StatusCode != 302 || !strings.HasPrefix(loc.String(), is.URL+"/authorize") || loc.Query().Get("code_challenge_method") != "S256" {
				t.Fatalf("start: %d to %s", res.StatusCode, loc)
			}
			code := "code-" + tc.name
			is.codes[code], is.pkce[code] = loc.Query().Get("nonce"), loc.Query().Get("code_challenge")
			state := loc.Query().Get("state")
			if tc.badState {
				state = "forged"
			}
			req, _ := http.NewRequest("GET", hs.URL+"/api/v1/session/oidc/callback?code="+url.QueryEscape(code)+"&state="+state, nil)
			for _, c := range res.Cookies() {
				req.AddCookie(c)
			}
			back, err := noFollow.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(back.Body)
			back.Body.Close()
			if back.StatusCode != tc.status || !strings.Contains(string(body), tc.reason) {
				t.Fatalf("callback: %d %s, want %d %q", back.StatusCode, body, tc.status, tc.reason)
			}
			if tc.status != 303 {
				return
			}
			var session string
			for _, c := range back.Cookies() {
				if c.Name == "wangge_session" {
					session = c.Value
				}
			}
			who := send(t, "GET", hs.URL+"/api/v1/session", "", "Cookie", "wangge_session="+session)
			who.want(t, 200, "")
			if who.body["name"] != "sso.li.si" || who.body["role"] != "commander" || who.body["region"] != "500103" {
				t.Errorf("who am I after single sign-on: %v", who.body)
			}
		})
	}
}
