package api

import (
	"encoding/xml"
	"strconv"
	"time"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/postgis"
)

// Open311 GeoReport v2 documents, with the spec's field names, in JSON
// and XML (http://wiki.open311.org/GeoReport_v2).

type o311Error struct {
	XMLName     xml.Name `json:"-" xml:"error"`
	Code        int      `json:"code" xml:"code"`
	Description string   `json:"description" xml:"description"`
}

type o311Errors struct {
	XMLName xml.Name    `xml:"errors"`
	Errors  []o311Error `xml:"error"`
}

type o311Endpoint struct {
	Specification string   `json:"specification" xml:"specification"`
	URL           string   `json:"url" xml:"url"`
	Changeset     string   `json:"changeset" xml:"changeset"`
	Type          string   `json:"type" xml:"type"`
	Formats       []string `json:"formats" xml:"formats>format"`
}

type o311Discovery struct {
	XMLName    xml.Name       `json:"-" xml:"discovery"`
	Changeset  string         `json:"changeset" xml:"changeset"`
	Contact    string         `json:"contact" xml:"contact"`
	KeyService string         `json:"key_service" xml:"key_service"`
	Endpoints  []o311Endpoint `json:"endpoints" xml:"endpoints>endpoint"`
}

type o311Service struct {
	XMLName     xml.Name `json:"-" xml:"service"`
	ServiceCode string   `json:"service_code" xml:"service_code"`
	ServiceName string   `json:"service_name" xml:"service_name"`
	Description string   `json:"description" xml:"description"`
	Metadata    bool     `json:"metadata" xml:"metadata"`
	Type        string   `json:"type" xml:"type"`
	Keywords    string   `json:"keywords" xml:"keywords"`
	Group       string   `json:"group" xml:"group"`
}

type o311Services struct {
	XMLName  xml.Name      `xml:"services"`
	Services []o311Service `xml:"service"`
}

type o311Definition struct {
	XMLName     xml.Name `json:"-" xml:"service_definition"`
	ServiceCode string   `json:"service_code" xml:"service_code"`
	Attributes  []any    `json:"attributes" xml:"attributes"`
}

// o311Request is a service request. status_notes, agency_responsible and
// expected_datetime carry our state, tier and deadline; the wangge_*
// fields are the extension with the exact workflow state.
type o311Request struct {
	XMLName           xml.Name `json:"-" xml:"request"`
	ServiceRequestID  string   `json:"service_request_id" xml:"service_request_id"`
	Status            string   `json:"status" xml:"status"`
	StatusNotes       string   `json:"status_notes" xml:"status_notes"`
	ServiceName       string   `json:"service_name" xml:"service_name"`
	ServiceCode       string   `json:"service_code" xml:"service_code"`
	Description       string   `json:"description" xml:"description"`
	AgencyResponsible string   `json:"agency_responsible" xml:"agency_responsible"`
	ServiceNotice     string   `json:"service_notice" xml:"service_notice"`
	RequestedDatetime string   `json:"requested_datetime" xml:"requested_datetime"`
	UpdatedDatetime   string   `json:"updated_datetime" xml:"updated_datetime"`
	ExpectedDatetime  string   `json:"expected_datetime" xml:"expected_datetime"`
	Address           string   `json:"address" xml:"address"`
	AddressID         string   `json:"address_id" xml:"address_id"`
	Zipcode           string   `json:"zipcode" xml:"zipcode"`
	Lat               float64  `json:"lat" xml:"lat"`
	Long              float64  `json:"long" xml:"long"`
	MediaURL          *string  `json:"media_url" xml:"media_url"` // null: we take no media (GeoReport: a URI or null, never "")
	WanggeStatus      string   `json:"wangge_status" xml:"wangge_status"`
	WanggeTier        string   `json:"wangge_tier" xml:"wangge_tier"`
	WanggeGrid        string   `json:"wangge_grid_code" xml:"wangge_grid_code"`
}

type o311Requests struct {
	XMLName  xml.Name      `xml:"service_requests"`
	Requests []o311Request `xml:"request"`
}

// o311Created is the answer to a POST.
type o311Created struct {
	XMLName          xml.Name `json:"-" xml:"request"`
	ServiceRequestID string   `json:"service_request_id" xml:"service_request_id"`
	ServiceNotice    string   `json:"service_notice" xml:"service_notice"`
	AccountID        string   `json:"account_id" xml:"account_id"`
}

type o311CreatedList struct {
	XMLName  xml.Name      `xml:"service_requests"`
	Requests []o311Created `xml:"request"`
}

type o311Token struct {
	XMLName          xml.Name `json:"-" xml:"request"`
	ServiceRequestID string   `json:"service_request_id" xml:"service_request_id"`
	Token            string   `json:"token" xml:"token"`
}

type o311Tokens struct {
	XMLName  xml.Name    `xml:"service_requests"`
	Requests []o311Token `xml:"request"`
}

// o311Time is W3C / RFC 3339 with the city's offset, as the spec's
// examples show.
func o311Time(t time.Time) string {
	return t.In(cityZone).Format(time.RFC3339)
}

var cityZone = wangge.CityZone

// o311Status folds our workflow into the spec's open/closed.
func o311Status(s wangge.Status) string {
	if s.Open() {
		return "open"
	}
	return "closed"
}

// agencyOf is the handling tier and the code of the region at that tier.
func agencyOf(e wangge.Event) string {
	code := e.GridCode
	switch e.Tier {
	case wangge.TierStreet:
		code = code[:min(9, len(code))]
	case wangge.TierDistrict:
		code = code[:min(6, len(code))]
	}
	return string(e.Tier) + " " + code
}

func statusNotes(e wangge.Event) string {
	n := string(e.Status) + " at " + string(e.Tier) + " tier"
	if e.Status.Open() && e.DeadlineAt.Before(time.Now()) {
		n += ", overdue"
	}
	if e.Satisfaction != nil {
		n += ", satisfaction " + strconv.Itoa(int(*e.Satisfaction)) + "/5"
	}
	return n
}

func o311RequestOf(e wangge.Event, cats map[string]postgis.Category) o311Request {
	r := o311Request{ServiceRequestID: strconv.FormatInt(e.ID, 10), Status: o311Status(e.Status),
		StatusNotes: statusNotes(e), ServiceName: cats[e.Category].NameZh, ServiceCode: e.Category,
		Description: e.Description, AgencyResponsible: agencyOf(e), RequestedDatetime: o311Time(e.ReportedAt),
		UpdatedDatetime: o311Time(e.UpdatedAt), ExpectedDatetime: o311Time(e.DeadlineAt), Address: e.Address,
		Lat: e.Lat, Long: e.Lon, WanggeStatus: string(e.Status), WanggeTier: string(e.Tier), WanggeGrid: e.GridCode}
	return r
}
