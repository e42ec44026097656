package api

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"
)

// jwk is one RSA key of an issuer's JWKS (RFC 7517); other key types are
// skipped (RS256 is what every OpenID provider must support).
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
	N   string `json:"n"`
	E   string `json:"e"`
}

func (k jwk) rsa() (*rsa.PublicKey, error) {
	n, err := base64.RawURLEncoding.DecodeString(k.N)
	if err != nil {
		return nil, fmt.Errorf("jwk %s: n: %w", k.Kid, err)
	}
	e, err := base64.RawURLEncoding.DecodeString(k.E)
	if err != nil || len(e) > 4 || len(e) == 0 {
		return nil, fmt.Errorf("jwk %s: bad exponent", k.Kid)
	}
	var ev int
	for _, b := range e {
		ev = ev<<8 | int(b)
	}
	pk := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: ev}
	if pk.N.BitLen() < 2048 {
		return nil, fmt.Errorf("jwk %s: RSA key under 2048 bits", k.Kid)
	}
	return pk, nil
}

// idClaims are the ID token claims we use (OpenID Connect Core §2).
type idClaims struct {
	Iss      string          `json:"iss"`
	Sub      string          `json:"sub"`
	Aud      json.RawMessage `json:"aud"` // a string or a list
	Exp      int64           `json:"exp"`
	Iat      int64           `json:"iat"`
	Nonce    string          `json:"nonce"`
	Username string          `json:"preferred_username"`
	raw      map[string]any
}

func (c idClaims) audience() []string {
	var one string
	if json.Unmarshal(c.Aud, &one) == nil {
		return []string{one}
	}
	var many []string
	_ = json.Unmarshal(c.Aud, &many)
	return many
}

// claim is a string claim by name (the role and region mapping).
func (c idClaims) claim(name string) string {
	s, _ := c.raw[name].(string)
	return s
}

// verifyIDToken checks an RS256 ID token's signature against the issuer's
// keys and its iss, aud, exp and nonce (OpenID Connect Core §3.1.3.7).
func verifyIDToken(token string, keys []jwk, issuer, clientID, nonce string, now time.Time) (idClaims, error) {
	var c idClaims
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return c, errors.New("id_token is not a JWS")
	}
	var head struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if err := decodeSegment(parts[0], &head); err != nil {
		return c, fmt.Errorf("id_token header: %w", err)
	}
	if head.Alg != "RS256" {
		return c, fmt.Errorf("id_token signed with %q; only RS256 is accepted", head.Alg)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return c, errors.New("id_token signature is not base64url")
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	verified := false
	for _, k := range keys {
		if k.Kty != "RSA" || (head.Kid != "" && k.Kid != head.Kid) || (k.Use != "" && k.Use != "sig") {
			continue
		}
		pk, err := k.rsa()
		if err != nil {
			continue
		}
		if rsa.VerifyPKCS1v15(pk, crypto.SHA256, sum[:], sig) == nil {
			verified = true
			break
		}
	}
	if !verified {
		return c, errors.New("id_token signature does not verify with the issuer's keys")
	}
	if err := decodeSegment(parts[1], &c); err != nil {
		return c, fmt.Errorf("id_token claims: %w", err)
	}
	if err := decodeSegment(parts[1], &c.raw); err != nil {
		return c, fmt.Errorf("id_token claims: %w", err)
	}
	const skew = 60 // seconds of clock difference tolerated
	switch {
	case c.Iss != issuer:
		return c, fmt.Errorf("id_token from issuer %q, want %q", c.Iss, issuer)
	case !slices.Contains(c.audience(), clientID):
		return c, errors.New("id_token is not for this client (aud)")
	case c.Exp+skew < now.Unix():
		return c, errors.New("id_token expired")
	case c.Iat-skew > now.Unix():
		return c, errors.New("id_token issued in the future")
	case c.Nonce != nonce:
		return c, errors.New("id_token nonce does not match this login")
	case c.Sub == "":
		return c, errors.New("id_token has no subject")
	}
	return c, nil
}

func decodeSegment(s string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return errors.New("not base64url")
	}
	return json.Unmarshal(b, v)
}
