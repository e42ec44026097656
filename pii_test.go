package wangge

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestResidentRefusesJSON(t *testing.T) {
	r := Resident{ID: 1, Name: "欧阳测试", IDNumber: "50010319900101123X", Phone: "13987654321"}
	for _, v := range []any{r, []Resident{r}, Household{Residents: []Resident{r}}, struct{ R []Household }{[]Household{{}}}} {
		js, err := json.Marshal(v)
		if !errors.Is(err, ErrUnredacted) {
			t.Errorf("json.Marshal(%T) = %s, %v; want ErrUnredacted", v, js, err)
		}
	}
}

func TestSensitive(t *testing.T) {
	viewer := Principal{Name: "v", Role: RoleViewer, Region: "500103"}
	worker := Principal{Name: "w", Role: RoleGridWorker, Region: "500103001001001"}
	s := Conceal("13812345678")
	type answer struct {
		Phone Sensitive `json:"phone"`
	}
	for _, tt := range []struct {
		s    Sensitive
		want string
	}{
		{s, `{"phone":null}`},
		{s.Reveal(viewer, PermStaffContacts), `{"phone":null}`},
		{s.Reveal(worker, PermStaffContacts), `{"phone":"13812345678"}`},
		{s.Reveal(worker, PermStaffContacts).Reveal(viewer, PermStaffContacts), `{"phone":null}`},
		{Conceal("").Reveal(worker, PermStaffContacts), `{"phone":null}`},
		{s.Reveal(Anonymous(), PermStaffContacts), `{"phone":null}`},
	} {
		js, err := json.Marshal(answer{tt.s})
		if err != nil || string(js) != tt.want {
			t.Errorf("got %s, %v; want %s", js, err, tt.want)
		}
	}
	if strings.Contains(s.String(), "138") {
		t.Errorf("String() shows the value: %s", s)
	}
}

func TestRedact(t *testing.T) {
	now := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	born := func(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC) }
	hs := []Household{
		{ID: 7, UnitNo: "3-2-501", Size: 3, Residents: []Resident{
			{ID: 1, Name: "欧阳测试", IDNumber: "50010319900101123X", Phone: "13987654321", Gender: "F", BirthDate: born(1990, 1, 1), Relation: "head", Tags: []string{"low_income"}},
			{ID: 2, Name: "司马样本", IDNumber: "500103194501014321", Gender: "M", BirthDate: born(1945, 1, 1), Relation: "parent", Tags: []string{"elderly_alone", "disabled"}},
			{ID: 3, Name: "欧阳小", IDNumber: "500103201501014321", Gender: "M", BirthDate: born(2015, 12, 5), Relation: "child"},
		}},
		{ID: 8, UnitNo: "3-2-502", Size: 1, Residents: []Resident{
			{ID: 4, Name: "李", IDNumber: "500103196001014321", Gender: "F", BirthDate: born(1960, 1, 1), Relation: "head", Tags: []string{"low_income"}},
		}},
	}
	counts := Redact(ViewCounts, hs, now)
	js, err := json.Marshal(counts)
	if err != nil {
		t.Fatal(err)
	}
	for _, pii := range []string{"欧阳", "司马", "50010319", "13987654321", `"age"`, `"gender"`, `"id":7`, "residents\":"} {
		if strings.Contains(string(js), pii) {
			t.Errorf("counts view shows %q: %s", pii, js)
		}
	}
	want := `{"pii_view":"counts","pii_masked":true,"households":[{"unit_no":"3-2-501","size":3},{"unit_no":"3-2-502","size":1}],` +
		`"households_count":2,"residents_count":4,"age_bands":{"0-17":1,"18-59":1,"60-79":1,"80+":1},` +
		`"tags":{"disabled":1,"elderly_alone":1,"low_income":2}}`
	if string(js) != want {
		t.Errorf("counts view\n got %s\nwant %s", js, want)
	}
	full := Redact(ViewFull, hs, now)
	if full.Masked || full.View != ViewFull || len(full.Households[0].Residents) != 3 || full.Households[0].ID != 7 {
		t.Fatalf("full view: %+v", full)
	}
	r := full.Households[0].Residents[0]
	if r.Name != "欧阳测试" || r.IDNumber != "50010319900101123X" || r.Phone == nil || *r.Phone != "13987654321" || r.Age != 36 {
		t.Errorf("full resident: %+v", r)
	}
	if p := full.Households[0].Residents[1].Phone; p != nil {
		t.Errorf("no phone should be null, got %q", *p)
	}
	if a := full.Households[0].Residents[2].Age; a != 10 {
		t.Errorf("age before the birthday: %d, want 10", a)
	}
	if v := ViewOf(Principal{Role: RoleGridWorker, Region: "500103001001001"}); v != ViewFull {
		t.Errorf("grid worker view %s", v)
	}
	for _, role := range []Role{RoleViewer, RoleCommander, RoleAnonymous, RoleAdmin} {
		if v := ViewOf(Principal{Role: role}); v != ViewCounts {
			t.Errorf("%s view %s", role, v)
		}
	}
}
