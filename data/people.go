package data

import (
	"math/rand/v2"
	"time"
)

// Resident tags, as the residents.tags CHECK lists them.
const (
	tagElderlyAlone uint8 = 1 << iota
	tagDisabled
	tagChild
	tagKeyPerson
	tagLowIncome
	tagVeteran
	tagLeftBehindChild
	tagPregnant
)

var tagNames = []string{"elderly_alone", "disabled", "child", "key_person", "low_income", "veteran",
	"left_behind_child", "pregnant"}

func tagList(t uint8) []string {
	out := []string{}
	for i, n := range tagNames {
		if t&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

// member is one resident's structural facts: enough to count and tag
// without drawing names (drawn from a separate stream when rows are made).
type member struct {
	Male     bool
	Birth    time.Time
	Relation string
	Tags     uint8
}

// sizes of households: 1–6 persons, mean about 2.65.
var sizeWeights = []float64{.22, .29, .23, .14, .08, .04}

// household draws one household's members.
func household(rng *rand.Rand, rural bool, now time.Time) []member {
	r, size := rng.Float64(), 1
	for i, w := range sizeWeights {
		if r < w {
			size = i + 1
			break
		}
		r -= w
		size = i + 1
	}
	headAge := 25 + rng.IntN(56)
	if size == 1 && rng.IntN(3) == 0 {
		headAge = 65 + rng.IntN(25) // many one-person households are old people
	}
	out := make([]member, 0, size)
	add := func(age int, male bool, rel string) {
		age = max(0, min(age, 100))
		birth := now.AddDate(-age, 0, -1-rng.IntN(364))
		m := member{Male: male, Birth: birth, Relation: rel}
		switch {
		case age < 14:
			m.Tags |= tagChild
			if rural && rel == "grandchild" && rng.IntN(10) < 6 {
				m.Tags |= tagLeftBehindChild
			}
		case !male && age >= 22 && age <= 38 && rng.IntN(50) == 0:
			m.Tags |= tagPregnant
		case male && age > 35 && rng.IntN(60) == 0:
			m.Tags |= tagVeteran
		}
		if rng.IntN(50) == 0 {
			m.Tags |= tagDisabled
		}
		if age >= 18 && rng.IntN(300) == 0 {
			m.Tags |= tagKeyPerson
		}
		out = append(out, m)
	}
	headMale := rng.IntN(10) < 6
	add(headAge, headMale, "head")
	if size >= 2 && rng.IntN(100) < 85 {
		add(headAge-3+rng.IntN(7), !headMale, "spouse")
	}
	for len(out) < size {
		switch {
		case headAge >= 55 && rng.IntN(2) == 0:
			add(headAge-45-rng.IntN(20), rng.IntN(2) == 0, "grandchild")
		case headAge < 50 && rng.IntN(5) == 0:
			add(headAge+22+rng.IntN(10), rng.IntN(2) == 0, "parent")
		default:
			add(headAge-22-rng.IntN(14), rng.IntN(2) == 0, "child")
		}
	}
	if size == 1 && headAge >= 65 {
		out[0].Tags |= tagElderlyAlone
	}
	low := 25
	if rural {
		low = 12
	}
	if rng.IntN(low) == 0 {
		for i := range out {
			out[i].Tags |= tagLowIncome
		}
	}
	return out
}
