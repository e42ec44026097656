package tiles

import "testing"

func TestCacheEvictsLeastRecentlyUsedByBytes(t *testing.T) {
	c := NewCache(3 * (1000 + entryOverhead + 2))
	put := func(k string) { c.put(&entry{key: k, gz: make([]byte, 1000)}) }
	put("aa")
	put("bb")
	put("cc")
	if _, ok := c.get("aa"); !ok { // aa is now the most recent
		t.Fatal("aa missing before the cache is full")
	}
	put("dd") // over budget: bb, the least recently used, goes
	for k, want := range map[string]bool{"aa": true, "bb": false, "cc": true, "dd": true} {
		if _, ok := c.get(k); ok != want {
			t.Errorf("%s cached = %v, want %v", k, ok, want)
		}
	}
	st := c.Stats()
	if st.Bytes > st.MaxBytes || st.Entries != 3 {
		t.Fatalf("stats %+v: want 3 entries within the byte budget", st)
	}
	c.put(&entry{key: "huge", gz: make([]byte, 10_000)})
	if _, ok := c.get("huge"); ok {
		t.Fatal("an entry larger than the whole cache was kept")
	}
	if n := c.evict(func(e *entry) bool { return e.key != "aa" }); n != 2 {
		t.Fatalf("evicted %d, want 2", n)
	}
	if st := c.Stats(); st.Entries != 1 || st.Bytes != int64(1000+2+entryOverhead) {
		t.Fatalf("stats after evict %+v", st)
	}
}
