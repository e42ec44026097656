package api

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/geo"
	"github.com/wangge/wangge/postgis"
)

// o311Server serves the gateway twice over one handler: hs as a city-wide
// gateway app holding a token (sent as bearer), raw with no credential
// but what a request carries (api_key, as GeoReport clients send it).
func o311Server(t *testing.T) (hs, raw *httptest.Server, db *postgis.DB, gateway string) {
	t.Helper()
	db, _ = evCity(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ev := &Events{Store: db, Locate: db}
	h := New(Deps{Log: log, Health: db, MaxBodyBytes: 1 << 16, Events: ev, Access: testAccess(t, db),
		Open311: &Open311{Events: ev, Categories: db}}).Handler()
	_, gateway = evUser(t, db, wangge.RoleGateway, "", nil)
	hs = httptest.NewServer(evAs(h, gateway))
	raw = httptest.NewServer(h)
	t.Cleanup(func() { hs.Close(); raw.Close() })
	return hs, raw, db, gateway
}

// o311Get decodes a JSON answer as an Open311 client would: generically.
func o311Get(t *testing.T, u string) (int, any) {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var v any
	if err := json.NewDecoder(res.Body).Decode(&v); err != nil {
		t.Fatalf("GET %s: not JSON: %v", u, err)
	}
	return res.StatusCode, v
}

// o311GetAs is o311Get as tok.
func o311GetAs(t *testing.T, u, tok string) (int, any) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var v any
	if err := json.NewDecoder(res.Body).Decode(&v); err != nil {
		t.Fatalf("GET %s: not JSON: %v", u, err)
	}
	return res.StatusCode, v
}

func o311Post(t *testing.T, u string, form url.Values) (int, any) {
	t.Helper()
	res, err := http.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var v any
	if err := json.NewDecoder(res.Body).Decode(&v); err != nil {
		t.Fatalf("POST %s: not JSON: %v", u, err)
	}
	return res.StatusCode, v
}

// kinds maps each field to its JSON type name.
func kinds(m map[string]any) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		switch v.(type) {
		case string:
			out[k] = "string"
		case float64:
			out[k] = "number"
		case bool:
			out[k] = "bool"
		case []any:
			out[k] = "array"
		case nil:
			out[k] = "null"
		default:
			out[k] = reflect.TypeOf(v).String()
		}
	}
	return out
}

func TestOpen311Client(t *testing.T) {
	hs, raw, db, gw := o311Server(t)
	base := hs.URL + "/open311/v2/"
	rawBase := raw.URL + "/open311/v2/"

	code, v := o311Get(t, base+"discovery.json")
	d := v.(map[string]any)
	if code != 200 || d["endpoints"] == nil || d["changeset"] == nil {
		t.Fatalf("discovery: %d %v", code, v)
	}
	ep := d["endpoints"].([]any)[0].(map[string]any)
	if ep["specification"] != "http://wiki.open311.org/GeoReport_v2" || ep["url"] != base {
		t.Errorf("endpoint %v", ep)
	}

	code, v = o311Get(t, base+"services.json")
	svcs := v.([]any)
	if code != 200 || len(svcs) != 20 {
		t.Fatalf("services: %d, %d services", code, len(svcs))
	}
	wantService := map[string]string{"service_code": "string", "service_name": "string", "description": "string",
		"metadata": "bool", "type": "string", "keywords": "string", "group": "string"}
	if diff := cmp.Diff(wantService, kinds(svcs[0].(map[string]any))); diff != "" {
		t.Errorf("service fields (-want +got)\n%s", diff)
	}
	if code, v := o311Get(t, base+"services/street_light.json"); code != 200 || v.(map[string]any)["service_code"] != "street_light" {
		t.Errorf("service definition: %d %v", code, v)
	}

	// A citizen reports a broken street light from a phone map (GCJ-02).
	glon, glat := geo.FromWGS84(geo.GCJ02, 106.565, 29.555)
	// The app's gateway token travels as GeoReport's api_key.
	form := url.Values{"api_key": {gw}, "service_code": {"street_light"}, "lat": {fmt.Sprint(glat)},
		"long": {fmt.Sprint(glon)}, "crs": {"gcj02"}, "description": {"路灯不亮"}, "first_name": {"李"}, "last_name": {"四"},
		"email": {"li@example.com"}}
	code, v = o311Post(t, rawBase+"requests.json", form)
	if code != 201 {
		t.Fatalf("POST requests: %d %v", code, v)
	}
	created := v.([]any)[0].(map[string]any)
	id, ok := created["service_request_id"].(string)
	if !ok || id == "" {
		t.Fatalf("created: %v", created)
	}

	code, v = o311Get(t, base+"requests/"+id+".json")
	if code != 200 || len(v.([]any)) != 1 {
		t.Fatalf("GET request: %d %v", code, v)
	}
	r := v.([]any)[0].(map[string]any)
	wantRequest := map[string]string{"service_request_id": "string", "status": "string", "status_notes": "string",
		"service_name": "string", "service_code": "string", "description": "string", "agency_responsible": "string",
		"service_notice": "string", "requested_datetime": "string", "updated_datetime": "string",
		"expected_datetime": "string", "address": "string", "address_id": "string", "zipcode": "string",
		"lat": "number", "long": "number", "media_url": "null",
		"wangge_status": "string", "wangge_tier": "string", "wangge_grid_code": "string"}
	if diff := cmp.Diff(wantRequest, kinds(r)); diff != "" {
		t.Errorf("request fields (-want +got)\n%s", diff)
	}
	req, _ := time.Parse(time.RFC3339, r["requested_datetime"].(string))
	exp, _ := time.Parse(time.RFC3339, r["expected_datetime"].(string))
	if r["status"] != "open" || r["service_request_id"] != id || r["agency_responsible"] != "grid 500103001001001" ||
		exp.Sub(req) != 48*time.Hour || !strings.HasPrefix(r["status_notes"].(string), "accepted") {
		t.Errorf("request %v", r)
	}

	// Lists with the spec's filters.
	for _, q := range []string{"", "?status=open", "?service_code=street_light,noise", "?service_request_id=" + id,
		"?start_date=" + url.QueryEscape(time.Now().Add(-time.Hour).Format(time.RFC3339))} {
		code, v := o311Get(t, base+"requests.json"+q)
		if code != 200 || len(v.([]any)) != 1 {
			t.Errorf("requests%s: %d %v", q, code, v)
		}
	}
	if code, v := o311Get(t, base+"requests.json?status=closed"); code != 200 || len(v.([]any)) != 0 {
		t.Errorf("closed requests: %d %v", code, v)
	}
	if code, v := o311Get(t, base+"tokens/ev-"+id+".json"); code != 200 || v.([]any)[0].(map[string]any)["service_request_id"] != id {
		t.Errorf("token: %d %v", code, v)
	}

	// XML, for the clients that still ask for it.
	res, err := http.Get(base + "requests/" + id + ".xml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Requests []struct {
			ID     string `xml:"service_request_id"`
			Status string `xml:"status"`
		} `xml:"request"`
	}
	err = xml.NewDecoder(res.Body).Decode(&doc)
	res.Body.Close()
	if err != nil || len(doc.Requests) != 1 || doc.Requests[0].ID != id || doc.Requests[0].Status != "open" {
		t.Errorf("XML: %v %+v", err, doc)
	}

	// Errors come as the spec's [{code, description}], and store nothing.
	var before int
	_ = db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM events`).Scan(&before)
	bad := []struct {
		name string
		form url.Values
		want int
	}{
		{"unknown service", url.Values{"api_key": {gw}, "service_code": {"ufo"}, "lat": {"29.555"}, "long": {"106.565"}}, 400},
		{"address only", url.Values{"api_key": {gw}, "service_code": {"noise"}, "address_string": {"解放碑"}}, 400},
		{"outside the city", url.Values{"api_key": {gw}, "service_code": {"noise"}, "lat": {"39.9"}, "long": {"116.4"}}, 400},
		{"html", url.Values{"api_key": {gw}, "service_code": {"noise"}, "lat": {"29.555"}, "long": {"106.565"}, "description": {"<a href=x>y</a>"}}, 400},
		{"bad crs", url.Values{"api_key": {gw}, "service_code": {"noise"}, "lat": {"29.555"}, "long": {"106.565"}, "crs": {"utm"}}, 400},
	}
	for _, b := range bad {
		code, v := o311Post(t, rawBase+"requests.json", b.form)
		errs, ok := v.([]any)
		if code != b.want || !ok || len(errs) != 1 {
			t.Errorf("%s: %d %v", b.name, code, v)
			continue
		}
		if diff := cmp.Diff(map[string]string{"code": "number", "description": "string"}, kinds(errs[0].(map[string]any))); diff != "" {
			t.Errorf("%s: error fields (-want +got)\n%s", b.name, diff)
		}
	}
	// No key, a malformed or unknown one: 401; a key of a role that may
	// not submit (a viewer): 403; a gateway of another street submitting
	// here: 404 with the reason.
	_, viewer := evUser(t, db, wangge.RoleViewer, "", nil)
	_, otherGw := evUser(t, db, wangge.RoleGateway, "500103002", nil)
	point := url.Values{"service_code": {"noise"}, "lat": {"29.555"}, "long": {"106.565"}}
	for _, k := range []struct {
		key  string
		want int
	}{{"", 401}, {"x", 401}, {"wg_" + strings.Repeat("a", 40), 401}, {viewer, 403}, {otherGw, 404}} {
		f := url.Values{"api_key": {k.key}}
		for n, v := range point {
			f[n] = v
		}
		res, err := http.PostForm(rawBase+"requests.json", f)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != k.want || (k.want == 404 && !strings.Contains(string(body), "outside your jurisdiction")) {
			t.Errorf("api_key %.12q: %d %s; want %d", k.key, res.StatusCode, body, k.want)
		}
	}
	// Reads are the gateway's jurisdiction: the other street's gateway
	// sees none of this street's requests.
	for _, u := range []string{"requests/" + id + ".json", "tokens/ev-" + id + ".json"} {
		if code, _ := evGet(t, base+u, otherGw); code != 404 {
			t.Errorf("other street's gateway read %s: %d", u, code)
		}
	}
	if code, v := o311GetAs(t, base+"requests.json", otherGw); code != 200 || len(v.([]any)) != 0 {
		t.Errorf("other street's gateway listed %d %v", code, v)
	}
	if code, v := o311GetAs(t, base+"requests.json", gw); code != 200 || len(v.([]any)) != 1 {
		t.Errorf("city gateway listed %d %v", code, v)
	}
	var after int
	_ = db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM events`).Scan(&after)
	if after != before {
		t.Errorf("refused requests stored %d events", after-before)
	}
	for _, u := range []string{"requests/999999.json", "services/ufo.json", "tokens/nope.json", "nothing.json"} {
		code, v := o311Get(t, base+u)
		errs, _ := v.([]any)
		if code != 404 || len(errs) != 1 {
			t.Errorf("%s: %d %v", u, code, v)
		}
	}
	if code, _ := o311Get(t, base+"requests.json?status=pending"); code != 400 {
		t.Errorf("bad status filter: %d", code)
	}
	names := []string{}
	for _, s := range svcs {
		names = append(names, s.(map[string]any)["service_code"].(string))
	}
	if !sort.StringsAreSorted(names) {
		t.Errorf("services not in code order: %v", names)
	}
}
