package wangge

import (
	"encoding/json"
	"testing"
)

// An event's reporter read from the store is hidden until revealed to a
// role granted reporter.read.
func TestSensitiveScan(t *testing.T) {
	var s Sensitive
	for _, src := range []any{"张三 13800000000", []byte("张三 13800000000")} {
		if err := s.Scan(src); err != nil {
			t.Fatal(err)
		}
		if b, _ := json.Marshal(s); string(b) != "null" || s.Value() != "张三 13800000000" {
			t.Errorf("scanned %T: %s %q", src, b, s.Value())
		}
	}
	if err := s.Scan(nil); err != nil || s.Value() != "" {
		t.Errorf("NULL: %v %q", err, s.Value())
	}
	if err := s.Scan(42); err == nil {
		t.Error("scanned a number")
	}
	_ = s.Scan("李四")
	for role, want := range map[Role]string{RoleCommander: `"李四"`, RoleGridWorker: `"李四"`, RoleViewer: "null",
		RolePlanner: "null", RoleApprover: "null", RoleResponder: "null", RoleGateway: "null", RoleSensor: "null"} {
		b, _ := json.Marshal(s.Reveal(Principal{Role: role}, PermReporterRead))
		if string(b) != want {
			t.Errorf("%s sees %s, want %s", role, b, want)
		}
	}
}
