package flows

import (
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// The session codec is a hand-rolled binary format because the runtime
// encodes and decodes a session on every engine step: JSON or gob would cost
// several microseconds and dozens of allocations per step.
//
// Every record starts with one header byte naming its kind and format
// version (0x11 session v1, 0x21 contact v1, 0x31 timer v1, 0x41 content
// v1), so a record of the wrong kind or from a future version is refused
// instead of misread. Then, in field order:
//
//   - integers are uvarints (unsigned) or zig-zag varints (signed);
//   - strings are a uvarint byte length and the bytes;
//   - slices and maps are a uvarint count plus one, 0 meaning nil, so that
//     nil and empty survive a round trip;
//   - map entries are written in sorted key order, so equal values encode
//     to equal bytes (the store and tests compare them);
//   - times are a varint of Unix seconds, a uvarint of nanoseconds<<1 with
//     the low bit set when a zone offset follows as a varint of seconds.
//     Times decode in UTC or in a fixed zone with the same offset: the zone
//     name and the monotonic clock reading are not kept.
//
// Variable and attribute values are JSON-like and written as a tag byte and
// a payload (see the tag constants). json.Number is kept as its text under
// its own tag and decodes to json.Number again, so a number parsed with
// UseNumber round-trips exactly. Values of other types are an error, never a
// panic. Containers nest at most MaxValueDepth deep, on both sides, which
// also stops a map that contains itself.
//
// Decoding treats its input as untrusted: every count is checked against the
// bytes left before anything is allocated, so corrupt input costs at most a
// small multiple of its own size and returns an error. Decoded strings share
// one copy of the input, made once per record: one allocation instead of one
// per string, at the price of a retained string keeping the record's bytes
// alive.

// MaxValueDepth bounds how deeply lists and maps may nest in a value, so that
// neither encoding a self-referencing map nor decoding hostile input can
// exhaust the stack.
const MaxValueDepth = 32

// Header bytes: kind in the high nibble, format version in the low one.
const (
	hdrSession = 0x11
	hdrContact = 0x22 // version 2: with the queue
	// hdrContactV1 heads contacts written before the queue, still read.
	hdrContactV1 = 0x21
	hdrTimer     = 0x31
	hdrContent   = 0x41
)

// Value tags.
const (
	tagNil        = 0
	tagFalse      = 1
	tagTrue       = 2
	tagInt        = 3 // int, zig-zag varint
	tagInt64      = 4 // int64, zig-zag varint
	tagFloat      = 5 // float64, 8 bytes little-endian IEEE 754
	tagString     = 6
	tagNumber     = 7 // json.Number, as its text
	tagTime       = 8
	tagDuration   = 9  // time.Duration, zig-zag varint of nanoseconds
	tagList       = 10 // []any: count+1 (0 nil), items
	tagMap        = 11 // map[string]any: count+1 (0 nil), sorted key/value pairs
	tagStringList = 12 // []string: count+1 (0 nil), strings
)

// maxTimeSec bounds the seconds of an encoded time (about ±34,000 years), so
// that every time that decodes re-encodes to the same bytes.
const maxTimeSec = 1 << 40

// maxZoneOffset bounds a time's zone offset, in seconds.
const maxZoneOffset = 26 * 3600

// ErrCorrupt is wrapped by every decoding error: the bytes are not a record
// this codec wrote.
var ErrCorrupt = errors.New("corrupt record")

// MarshalSession encodes s in the session codec's binary format.
func MarshalSession(s *Session) ([]byte, error) {
	return AppendSession(make([]byte, 0, 256), s)
}

// AppendSession appends the encoding of s to dst and returns the extended
// buffer, so a caller encoding at every step can reuse one buffer. On error
// it returns dst unchanged in length.
func AppendSession(dst []byte, s *Session) ([]byte, error) {
	if s == nil {
		return dst, errors.New("encode session: nil session")
	}
	start := len(dst)
	dst = append(dst, hdrSession)
	dst = binary.AppendUvarint(dst, s.Seq)
	var flags byte
	if s.Started {
		flags |= 1
	}
	if s.Wait != nil {
		flags |= 2
	}
	// Calls came after version 1: a flag says it follows, so sessions
	// written before it read as they were (no calls counted).
	if s.Calls != 0 {
		flags |= 4
	}
	dst = append(dst, flags)
	dst = binary.AppendVarint(dst, int64(s.Misses))
	if s.Calls != 0 {
		dst = binary.AppendUvarint(dst, s.Calls)
	}
	dst = appendCount(dst, len(s.Frames), s.Frames == nil)
	for i := range s.Frames {
		dst = appendString(dst, s.Frames[i].Skill)
		dst = binary.AppendVarint(dst, int64(s.Frames[i].Block))
	}
	if w := s.Wait; w != nil {
		dst = append(dst, byte(w.Kind))
		dst = appendStrings(dst, w.Events)
		dst = appendString(dst, w.TimerID)
		var err error
		if dst, err = appendTime(dst, w.Due); err != nil {
			return dst[:start], fmt.Errorf("encode session: wait due: %w", err)
		}
		dst = appendBool(dst, w.Interruptible)
		dst = binary.AppendVarint(dst, int64(w.Attempts))
		dst = binary.AppendVarint(dst, int64(w.Step))
	}
	dst = appendCount(dst, len(s.Offered), s.Offered == nil)
	for i := range s.Offered {
		o := &s.Offered[i]
		dst = appendString(dst, o.Title)
		dst = appendString(dst, o.Payload)
		dst = appendString(dst, o.Target)
	}
	var err error
	if dst, err = appendMap(dst, s.Vars, 0); err != nil {
		return dst[:start], fmt.Errorf("encode session: vars: %w", err)
	}
	return dst, nil
}

// UnmarshalSession decodes a session written by MarshalSession. It returns
// an error wrapping ErrCorrupt, never panics, for bytes it did not write.
func UnmarshalSession(b []byte) (*Session, error) {
	d := newDecoder(b, hdrSession)
	s := &Session{}
	s.Seq = d.uvarint()
	flags := d.byte()
	if flags&^7 != 0 {
		d.fail("unknown session flags")
	}
	s.Started = flags&1 != 0
	s.Misses = d.int()
	if flags&4 != 0 {
		s.Calls = d.uvarint()
	}
	if n, isNil := d.count(2); !isNil && d.err == nil {
		s.Frames = make([]Frame, n)
		for i := 0; i < n && d.err == nil; i++ {
			s.Frames[i].Skill = d.str()
			s.Frames[i].Block = d.int()
		}
	}
	if flags&2 != 0 && d.err == nil {
		w := &Wait{}
		w.Kind = WaitKind(d.byte())
		w.Events = d.strings()
		w.TimerID = d.str()
		w.Due = d.time()
		w.Interruptible = d.bool()
		w.Attempts = d.int()
		w.Step = d.int()
		s.Wait = w
	}
	if n, isNil := d.count(3); !isNil && d.err == nil {
		s.Offered = make([]Offer, n)
		for i := 0; i < n && d.err == nil; i++ {
			o := &s.Offered[i]
			o.Title = d.str()
			o.Payload = d.str()
			o.Target = d.str()
		}
	}
	s.Vars = d.mapBody(0)
	if err := d.finish("session"); err != nil {
		return nil, err
	}
	return s, nil
}

// MarshalContact encodes c with the same value encoding as sessions; the
// store keeps contacts in this form.
func MarshalContact(c *Contact) ([]byte, error) {
	return AppendContact(make([]byte, 0, 128), c)
}

// AppendContact appends the encoding of c to dst, like AppendSession.
func AppendContact(dst []byte, c *Contact) ([]byte, error) {
	if c == nil {
		return dst, errors.New("encode contact: nil contact")
	}
	start := len(dst)
	dst = append(dst, hdrContact)
	dst = appendString(dst, c.ID)
	dst = appendString(dst, c.Bot)
	dst = appendString(dst, c.Channel)
	dst = appendString(dst, c.ExternalID)
	dst = appendString(dst, c.Name)
	var err error
	if dst, err = appendMap(dst, c.Attributes, 0); err != nil {
		return dst[:start], fmt.Errorf("encode contact %s: attributes: %w", c.ID, err)
	}
	dst = appendStrings(dst, c.Tags)
	dst = appendString(dst, c.Status)
	dst = appendBool(dst, c.Banned)
	if dst, err = appendTime(dst, c.CreatedAt); err != nil {
		return dst[:start], fmt.Errorf("encode contact %s: created_at: %w", c.ID, err)
	}
	if dst, err = appendTime(dst, c.UpdatedAt); err != nil {
		return dst[:start], fmt.Errorf("encode contact %s: updated_at: %w", c.ID, err)
	}
	return appendString(dst, c.Queue), nil
}

// UnmarshalContact decodes a contact written by MarshalContact.
func UnmarshalContact(b []byte) (*Contact, error) {
	hdr := byte(hdrContact)
	if len(b) > 0 && b[0] == hdrContactV1 {
		hdr = hdrContactV1
	}
	d := newDecoder(b, hdr)
	c := &Contact{}
	c.ID = d.str()
	c.Bot = d.str()
	c.Channel = d.str()
	c.ExternalID = d.str()
	c.Name = d.str()
	c.Attributes = d.mapBody(0)
	c.Tags = d.strings()
	c.Status = d.str()
	c.Banned = d.bool()
	c.CreatedAt = d.time()
	c.UpdatedAt = d.time()
	if hdr == hdrContact {
		c.Queue = d.str()
	}
	if err := d.finish("contact"); err != nil {
		return nil, err
	}
	return c, nil
}

// AppendTimer appends the encoding of t to dst; the store keeps timers in
// this form. A timer's event may carry data values and, in principle, another
// timer: both count against MaxValueDepth.
func AppendTimer(dst []byte, t *Timer) ([]byte, error) {
	if t == nil {
		return dst, errors.New("encode timer: nil timer")
	}
	start := len(dst)
	dst = append(dst, hdrTimer)
	dst, err := appendTimerBody(dst, t, 0)
	if err != nil {
		return dst[:start], fmt.Errorf("encode timer %s: %w", t.ID, err)
	}
	return dst, nil
}

// UnmarshalTimer decodes a timer written by AppendTimer.
func UnmarshalTimer(b []byte) (Timer, error) {
	d := newDecoder(b, hdrTimer)
	var t Timer
	d.timerBody(&t, 0)
	if err := d.finish("timer"); err != nil {
		return Timer{}, err
	}
	return t, nil
}

// AppendContent appends the encoding of c to dst; the store keeps message
// content in this form. Content holds no free-form values, so it cannot fail.
func AppendContent(dst []byte, c *Content) []byte {
	dst = append(dst, hdrContent)
	return appendContentBody(dst, c)
}

// UnmarshalContent decodes content written by AppendContent.
func UnmarshalContent(b []byte) (Content, error) {
	d := newDecoder(b, hdrContent)
	var c Content
	d.contentBody(&c)
	if err := d.finish("content"); err != nil {
		return Content{}, err
	}
	return c, nil
}

// ---- encoding ----

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func appendBool(dst []byte, b bool) []byte {
	if b {
		return append(dst, 1)
	}
	return append(dst, 0)
}

// appendCount writes a slice or map length, 0 standing for nil.
func appendCount(dst []byte, n int, isNil bool) []byte {
	if isNil {
		return append(dst, 0)
	}
	return binary.AppendUvarint(dst, uint64(n)+1)
}

func appendStrings(dst []byte, ss []string) []byte {
	dst = appendCount(dst, len(ss), ss == nil)
	for _, s := range ss {
		dst = appendString(dst, s)
	}
	return dst
}

func appendTime(dst []byte, t time.Time) ([]byte, error) {
	sec := t.Unix()
	if sec > maxTimeSec || sec < -maxTimeSec {
		return dst, fmt.Errorf("time %v is out of range", t)
	}
	_, off := t.Zone()
	dst = binary.AppendVarint(dst, sec)
	ns := uint64(t.Nanosecond()) << 1
	if off == 0 {
		return binary.AppendUvarint(dst, ns), nil
	}
	dst = binary.AppendUvarint(dst, ns|1)
	return binary.AppendVarint(dst, int64(off)), nil
}

// kv is a map entry being sorted for encoding.
type kv struct {
	k string
	v any
}

// appendMap writes a map's count and its entries in key order. Up to 16
// entries are sorted on the stack.
func appendMap(dst []byte, m map[string]any, depth int) ([]byte, error) {
	if m == nil {
		return append(dst, 0), nil
	}
	dst = binary.AppendUvarint(dst, uint64(len(m))+1)
	var stack [16]kv
	entries := stack[:0]
	for k, v := range m {
		entries = append(entries, kv{k, v})
	}
	if len(entries) > 1 {
		slices.SortFunc(entries, func(a, b kv) int { return cmp.Compare(a.k, b.k) })
	}
	var err error
	for i := range entries {
		dst = appendString(dst, entries[i].k)
		if dst, err = appendValue(dst, entries[i].v, depth); err != nil {
			return dst, fmt.Errorf("%q: %w", entries[i].k, err)
		}
	}
	return dst, nil
}

// appendValue writes one tagged value; depth is the number of containers
// around it.
func appendValue(dst []byte, v any, depth int) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(dst, tagNil), nil
	case bool:
		if v {
			return append(dst, tagTrue), nil
		}
		return append(dst, tagFalse), nil
	case int:
		return binary.AppendVarint(append(dst, tagInt), int64(v)), nil
	case int64:
		return binary.AppendVarint(append(dst, tagInt64), v), nil
	case float64:
		return binary.LittleEndian.AppendUint64(append(dst, tagFloat), math.Float64bits(v)), nil
	case string:
		return appendString(append(dst, tagString), v), nil
	case json.Number:
		return appendString(append(dst, tagNumber), string(v)), nil
	case time.Time:
		return appendTime(append(dst, tagTime), v)
	case time.Duration:
		return binary.AppendVarint(append(dst, tagDuration), int64(v)), nil
	case []string:
		return appendStrings(append(dst, tagStringList), v), nil
	case []any:
		if depth >= MaxValueDepth {
			return dst, fmt.Errorf("values nest deeper than %d", MaxValueDepth)
		}
		dst = appendCount(append(dst, tagList), len(v), v == nil)
		var err error
		for i, item := range v {
			if dst, err = appendValue(dst, item, depth+1); err != nil {
				return dst, fmt.Errorf("[%d]: %w", i, err)
			}
		}
		return dst, nil
	case map[string]any:
		if depth >= MaxValueDepth {
			return dst, fmt.Errorf("values nest deeper than %d", MaxValueDepth)
		}
		return appendMap(append(dst, tagMap), v, depth+1)
	}
	return dst, fmt.Errorf("cannot store a value of type %T", v)
}

func appendTimerBody(dst []byte, t *Timer, depth int) ([]byte, error) {
	dst = appendString(dst, t.ID)
	dst = appendString(dst, t.Contact)
	dst, err := appendTime(dst, t.Due)
	if err != nil {
		return dst, fmt.Errorf("due: %w", err)
	}
	dst = appendString(dst, string(t.Kind))
	dst = binary.AppendUvarint(dst, t.Seq)
	if t.Event == nil {
		return append(dst, 0), nil
	}
	dst = append(dst, 1)
	return appendEvent(dst, t.Event, depth)
}

func appendEvent(dst []byte, e *Event, depth int) ([]byte, error) {
	if depth >= MaxValueDepth {
		return dst, fmt.Errorf("events nest deeper than %d", MaxValueDepth)
	}
	dst = appendString(dst, string(e.Kind))
	var flags byte
	if e.Message != nil {
		flags |= 1
	}
	if e.Timer != nil {
		flags |= 2
	}
	dst = append(dst, flags)
	if e.Message != nil {
		dst = appendContentBody(dst, e.Message)
	}
	dst = appendString(dst, e.Name)
	dst, err := appendMap(dst, e.Data, depth+1)
	if err != nil {
		return dst, fmt.Errorf("event data: %w", err)
	}
	if e.Timer != nil {
		if dst, err = appendTimerBody(dst, e.Timer, depth+1); err != nil {
			return dst, fmt.Errorf("event timer: %w", err)
		}
	}
	return appendString(dst, e.Outcome), nil
}

// Content field bits: a bit is set when the field is non-empty (strings) or
// non-nil (slices, pointers), so the common text-only message costs two
// bytes plus its text.
const (
	cText = 1 << iota
	cButtons
	cQuickReplies
	cImage
	cMedia
	cFile
	cGallery
	cPayload
	cAttachments
	cAll = 1<<iota - 1
)

func appendContentBody(dst []byte, c *Content) []byte {
	var mask uint64
	if c.Text != "" {
		mask |= cText
	}
	if c.Buttons != nil {
		mask |= cButtons
	}
	if c.QuickReplies != nil {
		mask |= cQuickReplies
	}
	if c.Image != nil {
		mask |= cImage
	}
	if c.Media != nil {
		mask |= cMedia
	}
	if c.File != nil {
		mask |= cFile
	}
	if c.Gallery != nil {
		mask |= cGallery
	}
	if c.Payload != "" {
		mask |= cPayload
	}
	if c.Attachments != nil {
		mask |= cAttachments
	}
	dst = binary.AppendUvarint(dst, mask)
	if mask&cText != 0 {
		dst = appendString(dst, c.Text)
	}
	if mask&cButtons != 0 {
		dst = appendButtons(dst, c.Buttons)
	}
	if mask&cQuickReplies != 0 {
		dst = appendButtons(dst, c.QuickReplies)
	}
	if mask&cImage != 0 {
		dst = appendMedia(dst, c.Image)
	}
	if mask&cMedia != 0 {
		dst = appendMedia(dst, c.Media)
	}
	if mask&cFile != 0 {
		dst = appendMedia(dst, c.File)
	}
	if mask&cGallery != 0 {
		dst = binary.AppendUvarint(dst, uint64(len(c.Gallery)))
		for i := range c.Gallery {
			g := &c.Gallery[i]
			dst = appendString(dst, g.Image)
			dst = appendString(dst, g.Title)
			dst = appendString(dst, g.Subtitle)
			dst = appendCount(dst, len(g.Buttons), g.Buttons == nil)
			dst = appendButtonList(dst, g.Buttons)
		}
	}
	if mask&cPayload != 0 {
		dst = appendString(dst, c.Payload)
	}
	if mask&cAttachments != 0 {
		dst = binary.AppendUvarint(dst, uint64(len(c.Attachments)))
		for i := range c.Attachments {
			dst = appendMedia(dst, &c.Attachments[i])
		}
	}
	return dst
}

// appendButtons writes a non-nil button list: count, then the buttons.
func appendButtons(dst []byte, bs []Button) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(bs)))
	return appendButtonList(dst, bs)
}

func appendButtonList(dst []byte, bs []Button) []byte {
	for i := range bs {
		dst = appendString(dst, bs[i].Title)
		dst = appendString(dst, bs[i].Payload)
		dst = appendString(dst, bs[i].URL)
	}
	return dst
}

func appendMedia(dst []byte, m *Media) []byte {
	dst = appendString(dst, m.URL)
	dst = appendString(dst, m.Kind)
	dst = appendString(dst, m.Name)
	dst = appendString(dst, m.Caption)
	dst = appendString(dst, m.MIME)
	return binary.AppendVarint(dst, m.Size)
}

// ---- decoding ----

// decoder reads one record. Errors are sticky: after the first one every
// read returns a zero value, so callers check d.err once at the end and
// inside loops (whose counts were already bounded by the input size).
type decoder struct {
	s   string // the record, copied once: decoded strings are slices of it
	i   int
	err error
}

func newDecoder(b []byte, hdr byte) decoder {
	d := decoder{}
	if len(b) == 0 {
		d.err = fmt.Errorf("%w: empty", ErrCorrupt)
		return d
	}
	if b[0] != hdr {
		d.err = fmt.Errorf("%w: header byte %#x, want %#x", ErrCorrupt, b[0], hdr)
		return d
	}
	d.s = string(b[1:])
	return d
}

func (d *decoder) fail(msg string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s at byte %d", ErrCorrupt, msg, d.i+1)
	}
	d.i = len(d.s)
}

func (d *decoder) finish(what string) error {
	if d.err == nil && d.i != len(d.s) {
		d.fail("trailing bytes")
	}
	if d.err != nil {
		return fmt.Errorf("decode %s: %w", what, d.err)
	}
	return nil
}

func (d *decoder) rest() int { return len(d.s) - d.i }

func (d *decoder) byte() byte {
	if d.i >= len(d.s) {
		d.fail("unexpected end")
		return 0
	}
	c := d.s[d.i]
	d.i++
	return c
}

func (d *decoder) bool() bool {
	switch d.byte() {
	case 0:
		return false
	case 1:
		return true
	}
	d.fail("bad boolean")
	return false
}

func (d *decoder) uvarint() uint64 {
	var x uint64
	var shift uint
	for n := 0; n < binary.MaxVarintLen64; n++ {
		if d.i >= len(d.s) {
			d.fail("unexpected end")
			return 0
		}
		c := d.s[d.i]
		d.i++
		if c < 0x80 {
			if n == binary.MaxVarintLen64-1 && c > 1 {
				break
			}
			return x | uint64(c)<<shift
		}
		x |= uint64(c&0x7f) << shift
		shift += 7
	}
	d.fail("varint overflows 64 bits")
	return 0
}

func (d *decoder) varint() int64 {
	u := d.uvarint()
	x := int64(u >> 1)
	if u&1 != 0 {
		x = ^x
	}
	return x
}

func (d *decoder) int() int {
	v := d.varint()
	if int64(int(v)) != v {
		d.fail("integer overflows int")
		return 0
	}
	return int(v)
}

func (d *decoder) str() string {
	n := d.uvarint()
	if n > uint64(d.rest()) {
		d.fail("string longer than the input")
		return ""
	}
	s := d.s[d.i : d.i+int(n)]
	d.i += int(n)
	return s
}

// count reads a slice or map length written by appendCount. minSize is the
// fewest bytes one element takes, so a count the remaining input cannot hold
// is refused before anything is allocated.
func (d *decoder) count(minSize int) (n int, isNil bool) {
	u := d.uvarint()
	if d.err != nil {
		return 0, true
	}
	if u == 0 {
		return 0, true
	}
	return d.checkLen(u-1, minSize), false
}

// length reads a plain element count (no nil marker), bounded like count.
func (d *decoder) length(minSize int) int {
	u := d.uvarint()
	if d.err != nil {
		return 0
	}
	return d.checkLen(u, minSize)
}

func (d *decoder) checkLen(u uint64, minSize int) int {
	if u > uint64(d.rest()/minSize) {
		d.fail("count larger than the input can hold")
		return 0
	}
	return int(u)
}

func (d *decoder) strings() []string {
	n, isNil := d.count(1)
	if isNil || d.err != nil {
		return nil
	}
	ss := make([]string, n)
	for i := 0; i < n && d.err == nil; i++ {
		ss[i] = d.str()
	}
	return ss
}

func (d *decoder) time() time.Time {
	sec := d.varint()
	ns := d.uvarint()
	if d.err != nil {
		return time.Time{}
	}
	if sec > maxTimeSec || sec < -maxTimeSec || ns>>1 >= 1e9 {
		d.fail("time out of range")
		return time.Time{}
	}
	t := time.Unix(sec, int64(ns>>1))
	if ns&1 == 0 {
		return t.UTC()
	}
	off := d.varint()
	if off == 0 || off > maxZoneOffset || off < -maxZoneOffset {
		d.fail("bad zone offset")
		return time.Time{}
	}
	return t.In(time.FixedZone("", int(off)))
}

// mapBody reads a map written by appendMap. Keys must be strictly
// increasing, as the encoder writes them, which also rules out duplicates.
func (d *decoder) mapBody(depth int) map[string]any {
	n, isNil := d.count(2)
	if isNil || d.err != nil {
		return nil
	}
	m := make(map[string]any, n)
	prev := ""
	for i := 0; i < n && d.err == nil; i++ {
		k := d.str()
		if i > 0 && k <= prev {
			d.fail("map keys out of order")
			return nil
		}
		prev = k
		m[k] = d.value(depth)
	}
	return m
}

func (d *decoder) value(depth int) any {
	switch tag := d.byte(); tag {
	case tagNil:
		return nil
	case tagFalse:
		return false
	case tagTrue:
		return true
	case tagInt:
		return d.int()
	case tagInt64:
		return d.varint()
	case tagFloat:
		if d.rest() < 8 {
			d.fail("unexpected end")
			return nil
		}
		bits := uint64(d.s[d.i]) | uint64(d.s[d.i+1])<<8 | uint64(d.s[d.i+2])<<16 | uint64(d.s[d.i+3])<<24 |
			uint64(d.s[d.i+4])<<32 | uint64(d.s[d.i+5])<<40 | uint64(d.s[d.i+6])<<48 | uint64(d.s[d.i+7])<<56
		d.i += 8
		return math.Float64frombits(bits)
	case tagString:
		return d.str()
	case tagNumber:
		return json.Number(d.str())
	case tagTime:
		return d.time()
	case tagDuration:
		return time.Duration(d.varint())
	case tagStringList:
		return d.strings()
	case tagList:
		if depth >= MaxValueDepth {
			d.fail("values nest too deep")
			return nil
		}
		n, isNil := d.count(1)
		if isNil || d.err != nil {
			return []any(nil)
		}
		l := make([]any, n)
		for i := 0; i < n && d.err == nil; i++ {
			l[i] = d.value(depth + 1)
		}
		return l
	case tagMap:
		if depth >= MaxValueDepth {
			d.fail("values nest too deep")
			return nil
		}
		return d.mapBody(depth + 1)
	default:
		d.fail(fmt.Sprintf("unknown value tag %d", tag))
		return nil
	}
}

func (d *decoder) timerBody(t *Timer, depth int) {
	t.ID = d.str()
	t.Contact = d.str()
	t.Due = d.time()
	t.Kind = TimerKind(d.str())
	t.Seq = d.uvarint()
	if d.bool() && d.err == nil {
		t.Event = d.event(depth)
	}
}

func (d *decoder) event(depth int) *Event {
	if depth >= MaxValueDepth {
		d.fail("events nest too deep")
		return nil
	}
	e := &Event{}
	e.Kind = EventKind(d.str())
	flags := d.byte()
	if flags&^3 != 0 {
		d.fail("unknown event flags")
		return nil
	}
	if flags&1 != 0 {
		e.Message = &Content{}
		d.contentBody(e.Message)
	}
	e.Name = d.str()
	e.Data = d.mapBody(depth + 1)
	if flags&2 != 0 && d.err == nil {
		e.Timer = &Timer{}
		d.timerBody(e.Timer, depth+1)
	}
	e.Outcome = d.str()
	return e
}

func (d *decoder) contentBody(c *Content) {
	mask := d.uvarint()
	if mask&^cAll != 0 {
		d.fail("unknown content fields")
		return
	}
	if mask&cText != 0 {
		c.Text = d.str()
	}
	if mask&cButtons != 0 {
		c.Buttons = d.buttons(d.length(3))
	}
	if mask&cQuickReplies != 0 {
		c.QuickReplies = d.buttons(d.length(3))
	}
	if mask&cImage != 0 {
		c.Image = &Media{}
		d.media(c.Image)
	}
	if mask&cMedia != 0 {
		c.Media = &Media{}
		d.media(c.Media)
	}
	if mask&cFile != 0 {
		c.File = &Media{}
		d.media(c.File)
	}
	if mask&cGallery != 0 {
		n := d.length(4)
		c.Gallery = make([]Card, n)
		for i := 0; i < n && d.err == nil; i++ {
			g := &c.Gallery[i]
			g.Image = d.str()
			g.Title = d.str()
			g.Subtitle = d.str()
			if bn, isNil := d.count(3); !isNil {
				g.Buttons = d.buttons(bn)
			}
		}
	}
	if mask&cPayload != 0 {
		c.Payload = d.str()
	}
	if mask&cAttachments != 0 {
		n := d.length(6)
		c.Attachments = make([]Media, n)
		for i := 0; i < n && d.err == nil; i++ {
			d.media(&c.Attachments[i])
		}
	}
}

// buttons reads n buttons; n was bounded by the caller's count.
func (d *decoder) buttons(n int) []Button {
	if d.err != nil {
		return nil
	}
	bs := make([]Button, n)
	for i := 0; i < n && d.err == nil; i++ {
		bs[i].Title = d.str()
		bs[i].Payload = d.str()
		bs[i].URL = d.str()
	}
	return bs
}

func (d *decoder) media(m *Media) {
	m.URL = d.str()
	m.Kind = d.str()
	m.Name = d.str()
	m.Caption = d.str()
	m.MIME = d.str()
	m.Size = d.varint()
}
