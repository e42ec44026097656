package geo

import (
	"strconv"
	"strings"
)

// plural names a kind in a sentence.
var plural = map[Kind]string{
	KindPolice: "police posts", KindFire: "fire stations", KindMedical: "medical posts",
	KindCommunity: "community stations", KindMicroFire: "micro fire stations",
	KindGridWorker: "grid workers", KindPatrol: "patrol units", KindEngine: "fire engines",
	KindAmbulance: "ambulances",
}

// Explain says why a result holds its rank, e.g. "3rd nearest by
// great-circle distance among available patrol units in street 500103001".
func Explain(rank int, q Query) string {
	var b strings.Builder
	b.WriteString(Ordinal(rank))
	b.WriteString(" nearest by great-circle distance among ")
	if len(q.Statuses) > 0 {
		b.WriteString(joinOr(q.Statuses, func(s Status) string { return strings.ReplaceAll(string(s), "_", " ") }))
		b.WriteByte(' ')
	}
	if len(q.Kinds) == 0 {
		b.WriteString("all responders")
	} else {
		b.WriteString(joinOr(q.Kinds, func(k Kind) string { return plural[k] }))
	}
	if q.Street != "" {
		b.WriteString(" of street " + q.Street)
	} else if q.District != "" {
		b.WriteString(" of district " + q.District)
	}
	return b.String()
}

func joinOr[T any](xs []T, name func(T) string) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = name(x)
	}
	return strings.Join(parts, " or ")
}

// Ordinal writes n as 1st, 2nd, 3rd, 4th, 11th, 21st…
func Ordinal(n int) string {
	suffix := "th"
	switch n % 10 {
	case 1:
		suffix = "st"
	case 2:
		suffix = "nd"
	case 3:
		suffix = "rd"
	}
	if m := n % 100; m >= 11 && m <= 13 {
		suffix = "th"
	}
	return strconv.Itoa(n) + suffix
}
