package wangge

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// argon2id parameters (RFC 9106's second recommendation, memory-constrained):
// 64 MiB, 3 passes, 2 lanes, 32-byte key.
const (
	argonTime    = 3
	argonMemory  = 64 * 1024
	argonThreads = 2
	argonKeyLen  = 32
)

// MaxPasswordBytes bounds what is hashed: argon2 is deliberately slow, and
// a megabyte password is a denial of service, not a credential.
const MaxPasswordBytes = 256

// MinPasswordChars is the shortest password accepted for a new user.
const MinPasswordChars = 10

// HashPassword is an argon2id hash in the PHC string format
// ($argon2id$v=19$m=65536,t=3,p=2$salt$key).
func HashPassword(password string) (string, error) {
	if err := CheckPassword(password); err != nil {
		return "", err
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("wangge: salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckPassword validates a new password's length.
func CheckPassword(password string) error {
	switch {
	case len(password) > MaxPasswordBytes:
		return Invalid("password", "longer than %d bytes", MaxPasswordBytes)
	case len([]rune(password)) < MinPasswordChars:
		return Invalid("password", "shorter than %d characters", MinPasswordChars)
	}
	return nil
}

// PasswordMatches compares a password with a stored hash in constant time;
// a malformed hash never matches.
func PasswordMatches(hash, password string) bool {
	if len(password) > MaxPasswordBytes {
		return false
	}
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var v int
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m > 1<<20 || t > 16 || p == 0 {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// Secret prefixes tell a session from a bearer token at a glance (and let
// secret scanners find leaked tokens).
const (
	SessionPrefix = "wgs_"
	TokenPrefix   = "wgt_"
)

// MaxSecretBytes bounds a presented session or token.
const MaxSecretBytes = 128

// NewSecret is a prefix and 32 random bytes, base64url.
func NewSecret(prefix string) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("wangge: secret: %w", err)
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// HashSecret is how sessions and tokens are stored: a hex SHA-256. They
// carry 256 random bits, so a fast hash is enough (a stolen table gives no
// usable credential) and lookups stay cheap.
func HashSecret(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// WellFormedSecret tells whether s could be one of our secrets, so that
// junk is refused before any lookup (checked by hand: it runs on every
// request, and decoding would allocate).
func WellFormedSecret(s string) bool {
	if len(s) != len(TokenPrefix)+43 || (!strings.HasPrefix(s, TokenPrefix) && !strings.HasPrefix(s, SessionPrefix)) {
		return false
	}
	for i := len(TokenPrefix); i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
