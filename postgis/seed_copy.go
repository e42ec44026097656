package postgis

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// CopyRows streams rows into table with COPY. Geometry values are EWKB
// byte slices carrying SRID 4326.
func (db *DB) CopyRows(ctx context.Context, table string, cols []string, src pgx.CopyFromSource) (int64, error) {
	n, err := db.Pool.CopyFrom(ctx, pgx.Identifier{table}, cols, src)
	if err != nil {
		return n, fmt.Errorf("postgis: copy %s: %w", table, err)
	}
	return n, nil
}

// conn opens a connection of its own, outside the pool: a seed holds one
// per table it loads and per index it builds, more than a small pool has.
func (db *DB) conn(ctx context.Context) (*pgx.Conn, error) {
	c, err := pgx.ConnectConfig(ctx, db.Pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, fmt.Errorf("postgis: connect: %w", err)
	}
	return c, nil
}

// copyChunk is how many bytes of rows go to the server at once.
const copyChunk = 256 << 10

// CopyStream loads one table with a single COPY in PostgreSQL's binary
// format, fed row by row by a generator on another goroutine. The COPY
// runs in the transaction that truncated the (empty) table, WITH FREEZE:
// rows are written frozen and their pages all-visible, so index builds,
// foreign-key checks and ANALYZE find no hint bits to set (which would
// dirty, and write again, every page), index-only scans work at once and
// vacuum has nothing to freeze later. One writer per table also keeps the
// heap in the order the rows were generated, so index builds on ids and
// codes sort input that is already sorted.
//
// Row values are appended with the typed methods; their Go types must be
// the columns' exact binary types (int64 for bigint, int16 for smallint…).
type CopyStream struct {
	Table  string
	buf    []byte
	chunks chan []byte
	free   chan []byte
	done   chan struct{} // closed when the COPY and its transaction ended
	err    error         // their outcome, once done is closed
	cancel context.CancelFunc
	rows   int64
}

// OpenCopy starts the COPY of cols into the empty table.
func (db *DB) OpenCopy(ctx context.Context, table string, cols []string) (*CopyStream, error) {
	c, err := db.conn(ctx)
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithCancel(ctx)
	s := &CopyStream{Table: table, chunks: make(chan []byte, 4), free: make(chan []byte, 6),
		done: make(chan struct{}), cancel: cancel}
	s.buf = s.newBuf()
	s.buf = append(s.buf, "PGCOPY\n\xff\r\n\x00"...)
	s.buf = binary.BigEndian.AppendUint32(s.buf, 0) // flags
	s.buf = binary.BigEndian.AppendUint32(s.buf, 0) // header extension
	ident := make([]string, len(cols))
	for i, col := range cols {
		ident[i] = pgx.Identifier{col}.Sanitize()
	}
	q := fmt.Sprintf("COPY %s (%s) FROM STDIN WITH (FORMAT binary, FREEZE)", pgx.Identifier{table}.Sanitize(), strings.Join(ident, ", "))
	go func() {
		defer close(s.done)
		defer c.Close(context.WithoutCancel(ctx))
		s.err = s.run(cctx, c, q)
		if s.err != nil {
			s.err = fmt.Errorf("postgis: copy %s: %w", table, s.err)
		}
	}()
	return s, nil
}

func (s *CopyStream) run(ctx context.Context, c *pgx.Conn, q string) error {
	tx, err := c.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // after Commit a no-op; else the error that matters is returned
	// The table is empty (the seed checked); truncating it is what lets
	// COPY freeze its rows.
	if _, err := tx.Exec(ctx, "TRUNCATE "+pgx.Identifier{s.Table}.Sanitize()); err != nil {
		return err
	}
	if _, err := c.PgConn().CopyFrom(ctx, &chunkReader{s: s, ctx: ctx}, q); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// chunkReader hands the generator's chunks to the COPY.
type chunkReader struct {
	s   *CopyStream
	ctx context.Context
	cur []byte
	off int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if r.off == len(r.cur) {
		if r.cur != nil {
			select { // recycle; drop it when the free list is full
			case r.s.free <- r.cur[:0]:
			default:
			}
		}
		select {
		case c, ok := <-r.s.chunks:
			if !ok {
				return 0, io.EOF
			}
			r.cur, r.off = c, 0
		case <-r.ctx.Done():
			return 0, r.ctx.Err()
		}
	}
	n := copy(p, r.cur[r.off:])
	r.off += n
	return n, nil
}

func (s *CopyStream) newBuf() []byte {
	select {
	case b := <-s.free:
		return b
	default:
		return make([]byte, 0, copyChunk+copyChunk/4)
	}
}

// Rows is how many rows were appended so far.
func (s *CopyStream) Rows() int64 { return s.rows }

// Row starts a row of n columns.
func (s *CopyStream) Row(n int) {
	s.rows++
	s.buf = binary.BigEndian.AppendUint16(s.buf, uint16(n))
}

// End finishes a row, sending a full chunk to the server; it fails once
// the COPY has failed.
func (s *CopyStream) End() error {
	if len(s.buf) < copyChunk {
		return nil
	}
	return s.send()
}

func (s *CopyStream) send() error {
	select {
	case s.chunks <- s.buf:
		s.buf = s.newBuf()
		return nil
	case <-s.done:
		if s.err == nil {
			return errors.New("postgis: copy ended early")
		}
		return s.err
	}
}

// Close sends the rest and commits the load.
func (s *CopyStream) Close() error {
	s.buf = binary.BigEndian.AppendUint16(s.buf, 0xffff) // trailer
	err := s.send()
	if err == nil {
		close(s.chunks)
		<-s.done
		err = s.err
	}
	s.cancel()
	return err
}

// Abort rolls the load back.
func (s *CopyStream) Abort() {
	s.cancel()
	<-s.done
}

func (s *CopyStream) field(n int) { s.buf = binary.BigEndian.AppendUint32(s.buf, uint32(n)) }

// Null appends SQL NULL.
func (s *CopyStream) Null() { s.buf = binary.BigEndian.AppendUint32(s.buf, math.MaxUint32) }

// Int64 appends a bigint.
func (s *CopyStream) Int64(v int64) {
	s.field(8)
	s.buf = binary.BigEndian.AppendUint64(s.buf, uint64(v))
}

// Int32 appends an integer.
func (s *CopyStream) Int32(v int32) {
	s.field(4)
	s.buf = binary.BigEndian.AppendUint32(s.buf, uint32(v))
}

// Int16 appends a smallint.
func (s *CopyStream) Int16(v int16) {
	s.field(2)
	s.buf = binary.BigEndian.AppendUint16(s.buf, uint16(v))
}

// Text appends a text value.
func (s *CopyStream) Text(v string) {
	s.field(len(v))
	s.buf = append(s.buf, v...)
}

// TextFunc appends a text value that fn appends to its argument, without
// building a string first.
func (s *CopyStream) TextFunc(fn func([]byte) []byte) {
	at := len(s.buf)
	s.buf = fn(binary.BigEndian.AppendUint32(s.buf, 0))
	binary.BigEndian.PutUint32(s.buf[at:], uint32(len(s.buf)-at-4))
}

// y2k is PostgreSQL's epoch for dates and timestamps.
var y2k = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// Date appends the calendar day of t in t's own location.
func (s *CopyStream) Date(t time.Time) {
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	s.field(4)
	s.buf = binary.BigEndian.AppendUint32(s.buf, uint32(int32(day.Sub(y2k)/(24*time.Hour))))
}

// Timestamptz appends an instant, to the microsecond.
func (s *CopyStream) Timestamptz(t time.Time) {
	us := t.Unix()*1_000_000 + int64(t.Nanosecond())/1000 - y2k.Unix()*1_000_000
	s.field(8)
	s.buf = binary.BigEndian.AppendUint64(s.buf, uint64(us))
}

// textOID is the element type of text[] in binary arrays.
const textOID = 25

// TextArray appends a one-dimensional text[] (empty: '{}').
func (s *CopyStream) TextArray(vs []string) {
	n := 12
	if len(vs) > 0 {
		n += 8
		for _, v := range vs {
			n += 4 + len(v)
		}
	}
	s.field(n)
	dims := uint32(0)
	if len(vs) > 0 {
		dims = 1
	}
	s.buf = binary.BigEndian.AppendUint32(s.buf, dims)
	s.buf = binary.BigEndian.AppendUint32(s.buf, 0) // no NULLs
	s.buf = binary.BigEndian.AppendUint32(s.buf, textOID)
	if len(vs) > 0 {
		s.buf = binary.BigEndian.AppendUint32(s.buf, uint32(len(vs)))
		s.buf = binary.BigEndian.AppendUint32(s.buf, 1) // lower bound
		for _, v := range vs {
			s.field(len(v))
			s.buf = append(s.buf, v...)
		}
	}
}

// EWKB type codes with the SRID flag, little-endian.
const (
	ewkbPointType   = 1 | 0x20000000
	ewkbPolygonType = 3 | 0x20000000
	srid            = 4326
)

func (s *CopyStream) coord(x, y float64) {
	s.buf = binary.LittleEndian.AppendUint64(s.buf, math.Float64bits(x))
	s.buf = binary.LittleEndian.AppendUint64(s.buf, math.Float64bits(y))
}

// Point appends a geometry(Point, 4326).
func (s *CopyStream) Point(x, y float64) {
	s.field(1 + 4 + 4 + 16)
	s.buf = append(s.buf, 1)
	s.buf = binary.LittleEndian.AppendUint32(s.buf, ewkbPointType)
	s.buf = binary.LittleEndian.AppendUint32(s.buf, srid)
	s.coord(x, y)
}

// Rect appends the geometry(Polygon, 4326) of an axis-aligned rectangle,
// counter-clockwise from its lower left corner.
func (s *CopyStream) Rect(x0, y0, x1, y1 float64) {
	s.field(1 + 4 + 4 + 4 + 4 + 5*16)
	s.buf = append(s.buf, 1)
	s.buf = binary.LittleEndian.AppendUint32(s.buf, ewkbPolygonType)
	s.buf = binary.LittleEndian.AppendUint32(s.buf, srid)
	s.buf = binary.LittleEndian.AppendUint32(s.buf, 1) // rings
	s.buf = binary.LittleEndian.AppendUint32(s.buf, 5) // points
	s.coord(x0, y0)
	s.coord(x1, y0)
	s.coord(x1, y1)
	s.coord(x0, y1)
	s.coord(x0, y0)
}
