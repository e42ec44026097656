// Package wangge holds the domain of the grid-governance one-map: the
// region hierarchy, layers, event workflow vocabulary and the sentinel
// errors every layer wraps. It does no I/O and imports no other package of
// this module (DESIGN.md §2).
package wangge
