package wangge

import (
	"regexp"
	"time"
)

// Level is a tier of the administrative hierarchy.
type Level string

const (
	LevelDistrict  Level = "district"
	LevelStreet    Level = "street"
	LevelCommunity Level = "community"
	LevelGrid      Level = "grid"
)

// Code lengths per level: a child's code is its parent's code plus digits.
var codeLen = map[Level]int{LevelDistrict: 6, LevelStreet: 9, LevelCommunity: 12, LevelGrid: 15}

var digits = regexp.MustCompile(`^[0-9]+$`)

// LevelOf tells the level of a region or grid code, or false when the
// code is not one of ours.
func LevelOf(code string) (Level, bool) {
	if !digits.MatchString(code) {
		return "", false
	}
	for l, n := range codeLen {
		if len(code) == n {
			return l, true
		}
	}
	return "", false
}

// ParentCode is the code of the region that contains code ("" for a district).
func ParentCode(code string) string {
	switch len(code) {
	case 9:
		return code[:6]
	case 12:
		return code[:9]
	case 15:
		return code[:12]
	}
	return ""
}

// Tier is the level of government that handles an event.
type Tier string

const (
	TierGrid     Tier = "grid"
	TierStreet   Tier = "street"
	TierDistrict Tier = "district"
)

// CityZone is the city's clock (Asia/Shanghai, UTC+8 all year): days of
// KPIs and rollups start at its midnight.
var CityZone = time.FixedZone("CST", 8*3600)

// CityDay is the city-time midnight starting t's day.
func CityDay(t time.Time) time.Time {
	y, m, d := t.In(CityZone).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, CityZone)
}
