package wangge

import (
	"slices"
	"time"
)

// ResidentFull is a resident as the full view shows it.
type ResidentFull struct {
	ID       int64    `json:"id"`
	Name     string   `json:"name"`
	IDNumber string   `json:"id_number"`
	Phone    *string  `json:"phone"` // null when none
	Gender   string   `json:"gender"`
	Age      int      `json:"age"`
	Relation string   `json:"relation"`
	Tags     []string `json:"tags"`
}

// HouseholdView is a household as a view shows it: the counts view gives
// the unit number and size alone, the full view adds its id and people.
type HouseholdView struct {
	ID        int64          `json:"id,omitempty"`
	UnitNo    string         `json:"unit_no"`
	Size      int            `json:"size"`
	Residents []ResidentFull `json:"residents,omitempty"`
}

// AgeBands count residents by age: bands, not ages, so that with a masked
// ID number an age cannot narrow a person down.
type AgeBands struct {
	Under18 int `json:"0-17"`
	Adults  int `json:"18-59"`
	Seniors int `json:"60-79"`
	Over80  int `json:"80+"`
}

// Register is what a view shows of a building's residents: counts for
// everyone, people only in the full view.
type Register struct {
	View       View            `json:"pii_view"`
	Masked     bool            `json:"pii_masked"` // anything less than the full view
	Households []HouseholdView `json:"households"`
	HouseholdN int             `json:"households_count"`
	ResidentN  int             `json:"residents_count"`
	AgeBands   AgeBands        `json:"age_bands"`
	Tags       map[string]int  `json:"tags"` // tag → residents carrying it
}

// Redact is the register of households as view allows, ages at now.
func Redact(view View, hs []Household, now time.Time) Register {
	r := Register{View: view, Masked: view != ViewFull, Households: make([]HouseholdView, len(hs)),
		HouseholdN: len(hs), Tags: map[string]int{}}
	for i, h := range hs {
		hv := HouseholdView{UnitNo: h.UnitNo, Size: h.Size}
		if view == ViewFull {
			hv.ID, hv.Residents = h.ID, make([]ResidentFull, 0, len(h.Residents))
		}
		for _, p := range h.Residents {
			a := Age(p.BirthDate, now)
			r.ResidentN++
			r.AgeBands.add(a)
			for _, t := range p.Tags {
				r.Tags[t]++
			}
			if view == ViewFull {
				hv.Residents = append(hv.Residents, p.full(a))
			}
		}
		r.Households[i] = hv
	}
	return r
}

func (p Resident) full(age int) ResidentFull {
	f := ResidentFull{ID: p.ID, Name: p.Name, IDNumber: p.IDNumber, Gender: p.Gender, Age: age,
		Relation: p.Relation, Tags: slices.Clone(p.Tags)}
	if f.Tags == nil {
		f.Tags = []string{}
	}
	if p.Phone != "" {
		phone := p.Phone
		f.Phone = &phone
	}
	return f
}

func (b *AgeBands) add(age int) {
	switch {
	case age < 18:
		b.Under18++
	case age < 60:
		b.Adults++
	case age < 80:
		b.Seniors++
	default:
		b.Over80++
	}
}

// Age in whole years at now.
func Age(birth, now time.Time) int {
	y := now.Year() - birth.Year()
	if now.Month() < birth.Month() || now.Month() == birth.Month() && now.Day() < birth.Day() {
		y--
	}
	return max(y, 0)
}
