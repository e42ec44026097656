// Package data builds the deterministic demo city (Seed) from the shipped
// Chongqing boundary, code and river files, and holds the importers. It
// orchestrates: geometry helpers come from geo, every SQL statement and
// COPY from postgis. It may import wangge, geo and postgis.
package data
