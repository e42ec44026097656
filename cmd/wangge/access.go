package main

import (
	"context"
	"log/slog"

	"github.com/wangge/wangge/api"
	"github.com/wangge/wangge/postgis"
)

// access wires who may call: credentials and the principal cache (kept
// honest by NOTIFY wangge_auth on every replica), the group-commit audit
// writer and the host/origin rules. The cache follows until ctx ends, the
// writer until auditCtx does (after the HTTP drain).
func access(ctx, auditCtx context.Context, cfg Config, addr string, db *postgis.DB, log *slog.Logger) *api.Access {
	cache := api.NewPrincipalCache(0)
	go cache.Follow(ctx, db, postgis.AuthChannel, log)
	audit := db.NewAuditWriter(log)
	go audit.Run(auditCtx)
	hosts := cfg.AllowedHosts
	if len(hosts) == 0 {
		hosts = api.DefaultAllowedHosts(addr) // the bound address: -addr may say port 0
	}
	a := &api.Access{Credentials: db, Audit: audit, Cache: cache, SessionTTL: cfg.SessionTTL,
		AllowedHosts: hosts, CORSOrigins: cfg.CORSOrigins, Open311Public: cfg.Open311Public,
		Admin: db, AuditLog: db}
	if o := cfg.OIDC; o.Issuer != "" {
		a.OIDC = &api.OIDC{Issuer: o.Issuer, ClientID: o.ClientID, ClientSecret: o.ClientSecret, RedirectURL: o.RedirectURL,
			RoleClaim: o.RoleClaim, RegionClaim: o.RegionClaim, Users: db}
	}
	return a
}
