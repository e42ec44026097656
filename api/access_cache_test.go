package api

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/postgis"
)

// countingStore refuses every credential and counts the lookups.
type countingStore struct{ calls int }

func (s *countingStore) Authenticate(context.Context, string) (wangge.Principal, time.Time, error) {
	s.calls++
	return wangge.Principal{}, time.Time{}, fmt.Errorf("unknown credential: %w", wangge.ErrForbidden)
}
func (s *countingStore) Login(context.Context, string, string) (wangge.Principal, error) {
	return wangge.Principal{}, nil
}
func (s *countingStore) IssueCredential(context.Context, int64, string, time.Duration, string) (string, postgis.Credential, error) {
	return "", postgis.Credential{}, nil
}
func (s *countingStore) RevokeCredential(context.Context, int64) error { return nil }

// TestRefusedCredentialsAreRemembered: a made-up token asked again and
// again reaches the store once (no limit sees a request before it is
// authenticated).
func TestRefusedCredentialsAreRemembered(t *testing.T) {
	pc, store := NewPrincipalCache(0), &countingStore{}
	secret, _ := wangge.NewSecret(wangge.TokenPrefix)
	for range 5 {
		if _, err := pc.Get(context.Background(), secret, store); !errors.Is(err, wangge.ErrForbidden) {
			t.Fatalf("made-up token: %v", err)
		}
	}
	if store.calls != 1 {
		t.Fatalf("%d lookups for one made-up token, want 1", store.calls)
	}
}
