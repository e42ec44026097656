package wangge

// Partial masks of personal data, for answers that name a person to a
// caller without the grant (a reporter on an event list, a resident in
// a log line): enough to tell two people apart, not to identify one.

import (
	"strings"
	"unicode/utf8"
)

// MaskName keeps the first character (the family name, as a rule) and
// stars the rest: 张三 → 张*, 欧阳娜娜 → 欧***.
func MaskName(name string) string {
	first, size := utf8.DecodeRuneInString(name)
	if size == 0 {
		return ""
	}
	return string(first) + strings.Repeat("*", max(utf8.RuneCountInString(name)-1, 1))
}

// MaskIDNumber keeps the region (first 6 digits) and the last 4 of an
// 18-character resident ID number: 500103199001011234 →
// 500103********1234. Anything else is starred whole.
func MaskIDNumber(id string) string {
	if len(id) != 18 {
		return strings.Repeat("*", utf8.RuneCountInString(id))
	}
	return id[:6] + strings.Repeat("*", 8) + id[14:]
}

// MaskPhone keeps the carrier prefix (3) and the last 4 digits of an
// 11-digit mobile number: 13812348000 → 138****8000; "" stays "".
func MaskPhone(p string) string {
	switch {
	case p == "":
		return ""
	case len(p) != 11:
		return strings.Repeat("*", utf8.RuneCountInString(p))
	}
	return p[:3] + "****" + p[7:]
}
