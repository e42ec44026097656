// Package api is the HTTP face of wangge: gin handlers (one file per
// resource), middleware and the one table that maps errors to status
// codes. Handlers are thin: parse, call a small interface, respond. It may
// import tiles, postgis, geo and the root package.
package api
