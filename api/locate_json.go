package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/wangge/wangge"
	"github.com/wangge/wangge/postgis"
)

// locatedJSON keeps the encoded answer of each grid: locate answers
// repeat (a grid per a few hundred metres), and encoding them by
// reflection cost more than finding them. An entry is used only while it
// equals the answer at hand (a reload gives new names or workers). Each
// grid has two entries, with and without the worker's phone: which one a
// caller gets is the policy's (wangge.PermStaffContacts), and the scope
// was applied before (an answer outside it never reaches the cache).
type locatedJSON struct{ m sync.Map } // locatedKey → *locatedEntry

type locatedKey struct {
	grid  string
	phone bool
}

type locatedEntry struct {
	l  postgis.Located // as the locator answered it, phone concealed
	js []byte
}

func (lj *locatedJSON) get(l postgis.Located, p wangge.Principal) ([]byte, error) {
	key := locatedKey{l.Grid.Code, p.Can(wangge.PermStaffContacts)}
	if v, ok := lj.m.Load(key); ok {
		if e := v.(*locatedEntry); sameLocated(e.l, l) {
			return e.js, nil
		}
	}
	shown := l
	shown.Worker = l.Worker.Reveal(p)
	js, err := json.Marshal(shown)
	if err != nil {
		return nil, err
	}
	lj.m.Store(key, &locatedEntry{l: l, js: js})
	return js, nil
}

// sameLocated compares answers by value (the worker is a pointer).
func sameLocated(a, b postgis.Located) bool {
	wa, wb := a.Worker, b.Worker
	a.Worker, b.Worker = nil, nil
	return a == b && (wa == wb || wa != nil && wb != nil && *wa == *wb)
}

// writeLocated answers GET /locate: the fields of locateJSON, spliced in
// front of the grid's encoded answer.
func (h *queryHandlers) writeLocated(c *gin.Context, out locateJSON, cache bool) {
	var (
		js  []byte
		err error
	)
	if cache {
		js, err = h.located.get(out.Located, principal(c))
	} else {
		shown := out.Located
		shown.Worker = shown.Worker.Reveal(principal(c))
		js, err = json.Marshal(shown)
	}
	if err != nil || len(js) < 2 {
		fail(c, h.log, err)
		return
	}
	b := make([]byte, 0, 96+len(js))
	b = append(b, `{"lon":`...)
	b = strconv.AppendFloat(b, out.Lon, 'f', -1, 64)
	b = append(b, `,"lat":`...)
	b = strconv.AppendFloat(b, out.Lat, 'f', -1, 64)
	b = append(b, `,"crs":`...)
	b = strconv.AppendQuote(b, string(out.CRS))
	b = append(b, `,"engine":`...)
	b = strconv.AppendQuote(b, out.Engine)
	b = append(b, ',')
	b = append(b, js[1:]...)
	sendBytes(c, http.StatusOK, jsonType, b)
}

// writeBatch answers POST /locate as batchJSON, hand-assembled: grids[i]
// is point i's grid code or null, regions names each grid once.
func (h *queryHandlers) writeBatch(c *gin.Context, crs string, located []*postgis.Located) {
	p := principal(c)
	n := 0
	seen := map[string]bool{}
	var order []*postgis.Located
	for _, l := range located {
		if l == nil {
			continue
		}
		n++
		if !seen[l.Grid.Code] {
			seen[l.Grid.Code] = true
			order = append(order, l)
		}
	}
	b := make([]byte, 0, 64+20*len(located)+400*len(order))
	b = append(b, `{"crs":`...)
	b = strconv.AppendQuote(b, crs)
	b = append(b, `,"count":`...)
	b = strconv.AppendInt(b, int64(len(located)), 10)
	b = append(b, `,"found":`...)
	b = strconv.AppendInt(b, int64(n), 10)
	b = append(b, `,"grids":[`...)
	for i, l := range located {
		if i > 0 {
			b = append(b, ',')
		}
		if l == nil {
			b = append(b, "null"...)
		} else {
			b = strconv.AppendQuote(b, l.Grid.Code)
		}
	}
	b = append(b, `],"regions":{`...)
	for k, l := range order {
		js, err := h.located.get(*l, p)
		if err != nil {
			fail(c, h.log, err)
			return
		}
		if k > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, l.Grid.Code)
		b = append(b, ':')
		b = append(b, js...)
	}
	b = append(b, "}}"...)
	sendBytes(c, http.StatusOK, jsonType, b)
}
