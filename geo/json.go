package geo

import (
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// A small strict JSON reader. encoding/json silently keeps the last of two
// members with one name and loses where a value was; GeoJSON import needs
// both (a duplicate "type" makes a file ambiguous, RFC 8259 §4), so the
// document is read into this tree first. Arrays holding only numbers (GeoJSON
// positions) are packed into nums to keep big boundary files small.

type jkind uint8

const (
	jNull jkind = iota
	jBool
	jNum
	jStr
	jArr
	jObj
)

var jkindName = [...]string{"null", "boolean", "number", "string", "array", "object"}

func (k jkind) String() string { return jkindName[k] }

type jval struct {
	kind jkind
	b    bool
	str  string    // string value, or the literal text of a number
	num  float64   // number value
	nums []float64 // an array of numbers only (kind jArr, arr nil)
	arr  []jval
	obj  []jmember
	off  int // byte offset, for messages
}

type jmember struct {
	name string
	val  jval
}

// member returns the named member of an object.
func (v *jval) member(name string) (*jval, bool) {
	for i := range v.obj {
		if v.obj[i].name == name {
			return &v.obj[i].val, true
		}
	}
	return nil, false
}

// maxDepth bounds nesting so a hostile file cannot exhaust the stack.
const maxDepth = 64

type jparser struct {
	b   []byte
	pos int
}

type syntaxError struct {
	off int
	msg string
}

func (e *syntaxError) Error() string { return e.msg }

func parseJSON(b []byte) (jval, error) {
	p := &jparser{b: b}
	p.skip()
	v, err := p.value(0)
	if err != nil {
		return jval{}, err
	}
	p.skip()
	if p.pos != len(p.b) {
		return jval{}, p.errf("unexpected %q after the top-level value", p.b[p.pos])
	}
	return v, nil
}

func (p *jparser) errf(format string, args ...any) error {
	return &syntaxError{off: p.pos, msg: fmt.Sprintf(format, args...)}
}

func (p *jparser) skip() {
	for p.pos < len(p.b) {
		switch p.b[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *jparser) value(depth int) (jval, error) {
	if depth > maxDepth {
		return jval{}, p.errf("nested deeper than %d levels", maxDepth)
	}
	if p.pos >= len(p.b) {
		return jval{}, p.errf("unexpected end of input")
	}
	off := p.pos
	switch c := p.b[p.pos]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		s, err := p.string()
		return jval{kind: jStr, str: s, off: off}, err
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	case p.literal("true"):
		return jval{kind: jBool, b: true, off: off}, nil
	case p.literal("false"):
		return jval{kind: jBool, off: off}, nil
	case p.literal("null"):
		return jval{kind: jNull, off: off}, nil
	default:
		return jval{}, p.errf("unexpected character %q", c)
	}
}

func (p *jparser) literal(s string) bool {
	if len(p.b)-p.pos >= len(s) && string(p.b[p.pos:p.pos+len(s)]) == s {
		p.pos += len(s)
		return true
	}
	return false
}

func (p *jparser) object(depth int) (jval, error) {
	v := jval{kind: jObj, off: p.pos, obj: []jmember{}}
	p.pos++ // {
	p.skip()
	if p.pos < len(p.b) && p.b[p.pos] == '}' {
		p.pos++
		return v, nil
	}
	for {
		p.skip()
		if p.pos >= len(p.b) || p.b[p.pos] != '"' {
			return v, p.errf("expected a member name in quotes")
		}
		name, err := p.string()
		if err != nil {
			return v, err
		}
		if _, dup := v.member(name); dup {
			return v, p.errf("member %q appears twice in one object, which makes the file ambiguous", name)
		}
		p.skip()
		if p.pos >= len(p.b) || p.b[p.pos] != ':' {
			return v, p.errf("expected ':' after member name %q", name)
		}
		p.pos++
		p.skip()
		m, err := p.value(depth + 1)
		if err != nil {
			return v, err
		}
		v.obj = append(v.obj, jmember{name: name, val: m})
		p.skip()
		if p.pos >= len(p.b) {
			return v, p.errf("unexpected end of input in an object")
		}
		switch p.b[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return v, nil
		default:
			return v, p.errf("expected ',' or '}' in an object, found %q", p.b[p.pos])
		}
	}
}

func (p *jparser) array(depth int) (jval, error) {
	v := jval{kind: jArr, off: p.pos}
	p.pos++ // [
	p.skip()
	if p.pos < len(p.b) && p.b[p.pos] == ']' {
		p.pos++
		return v, nil
	}
	var elems []jval
	numsOnly := true
	for {
		p.skip()
		e, err := p.value(depth + 1)
		if err != nil {
			return v, err
		}
		numsOnly = numsOnly && e.kind == jNum
		elems = append(elems, e)
		p.skip()
		if p.pos >= len(p.b) {
			return v, p.errf("unexpected end of input in an array")
		}
		if p.b[p.pos] == ',' {
			p.pos++
			continue
		}
		if p.b[p.pos] != ']' {
			return v, p.errf("expected ',' or ']' in an array, found %q", p.b[p.pos])
		}
		p.pos++
		break
	}
	if numsOnly {
		v.nums = make([]float64, len(elems))
		for i, e := range elems {
			v.nums[i] = e.num
		}
		return v, nil
	}
	v.arr = elems
	return v, nil
}

// string reads a quoted string. Strings without escapes are taken as they
// are; the rare escaped ones are decoded by encoding/json, which knows
// surrogate pairs.
func (p *jparser) string() (string, error) {
	start := p.pos
	p.pos++ // opening quote
	escaped := false
	for p.pos < len(p.b) {
		c := p.b[p.pos]
		switch {
		case c == '"':
			p.pos++
			raw := p.b[start:p.pos]
			if !escaped {
				if !utf8.Valid(raw) {
					return "", &syntaxError{off: start, msg: "string is not valid UTF-8"}
				}
				return string(raw[1 : len(raw)-1]), nil
			}
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return "", &syntaxError{off: start, msg: "malformed string escape"}
			}
			if !utf8.Valid(raw) {
				return "", &syntaxError{off: start, msg: "string is not valid UTF-8"}
			}
			return s, nil
		case c == '\\':
			escaped = true
			p.pos += 2
		case c < 0x20:
			return "", p.errf("control character in a string")
		default:
			p.pos++
		}
	}
	return "", &syntaxError{off: start, msg: "unterminated string"}
}

// number reads a number by the RFC 8259 grammar; values beyond float64
// (1e400) are rejected here because they are not finite.
func (p *jparser) number() (jval, error) {
	start := p.pos
	digits := func() int {
		n := 0
		for p.pos < len(p.b) && p.b[p.pos] >= '0' && p.b[p.pos] <= '9' {
			p.pos++
			n++
		}
		return n
	}
	if p.b[p.pos] == '-' {
		p.pos++
	}
	if p.pos < len(p.b) && p.b[p.pos] == '0' {
		p.pos++
	} else if digits() == 0 {
		return jval{}, p.errf("malformed number")
	}
	if p.pos < len(p.b) && p.b[p.pos] == '.' {
		p.pos++
		if digits() == 0 {
			return jval{}, p.errf("malformed number: digits must follow '.'")
		}
	}
	if p.pos < len(p.b) && (p.b[p.pos] == 'e' || p.b[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.b) && (p.b[p.pos] == '+' || p.b[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			return jval{}, p.errf("malformed number: digits must follow the exponent")
		}
	}
	text := string(p.b[start:p.pos])
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return jval{}, &syntaxError{off: start, msg: fmt.Sprintf("number %s is not a finite float64", text)}
	}
	return jval{kind: jNum, num: f, str: text, off: start}, nil
}

// lineOf turns a byte offset into a 1-based line number.
func lineOf(b []byte, off int) int {
	line := 1
	for i := 0; i < off && i < len(b); i++ {
		if b[i] == '\n' {
			line++
		}
	}
	return line
}
