// Package migrations holds the numbered SQL files of the schema, embedded
// in the binary. postgis.Migrate applies them in order.
package migrations

import "embed"

// FS holds every NNNN_name.sql file of this folder.
//
//go:embed *.sql
var FS embed.FS
