// Package postgis is the one data layer: the pgx pool, the migrator, every
// SQL statement and the COPY loaders. It translates pgx and PostgreSQL
// errors into the sentinels of package wangge; callers never see SQL text.
// It may import wangge, geo and migrations, nothing above them.
package postgis
