package flows

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

var codecNow = time.Date(2026, 3, 14, 15, 9, 26, 535897932, time.UTC)

// typicalSession is what a session looks like mid-conversation: a LISTEN
// waiting with a timeout, two buttons offered, a handful of variables.
func typicalSession() *Session {
	return &Session{
		Seq:    42,
		Frames: []Frame{{Skill: "/start", Block: 3}, {Skill: "track", Block: 1}},
		Wait: &Wait{
			Kind:    WaitMessage,
			TimerID: "tm-01HZXK3V6Q",
			Due:     codecNow.Add(10 * time.Minute),
		},
		Vars: map[string]any{
			"question": "where is my order?",
			"order_id": 123456,
			"total":    49.9,
			"vip":      true,
			"city":     "Zürich",
		},
		Offered: []Offer{
			{Title: "Track my order", Target: "track"},
			{Title: "Talk to a human", Payload: "HUMAN"},
		},
		Misses:  1,
		Started: true,
	}
}

func roundTrip(t *testing.T, s *Session) *Session {
	t.Helper()
	b, err := MarshalSession(s)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	got, err := UnmarshalSession(b)
	if err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	return got
}

func TestSessionRoundTrip(t *testing.T) {
	cases := []struct {
		name string
		s    *Session
	}{
		{"zero", &Session{}},
		{"typical", typicalSession()},
		{"empty not nil", &Session{Frames: []Frame{}, Offered: []Offer{}, Vars: map[string]any{},
			Wait: &Wait{Events: []string{}}}},
		{"wait all fields", &Session{Seq: math.MaxUint64, Misses: -3, Wait: &Wait{
			Kind: WaitHandover, Events: []string{"paid", "cancelled", ""}, TimerID: "t1",
			Due: codecNow, Interruptible: true, Attempts: 2, Step: math.MaxInt64}}},
		{"wait zero due", &Session{Wait: &Wait{Kind: WaitTimer}}},
		{"calls", &Session{Seq: 3, Calls: 1 << 40, Started: true, Wait: &Wait{Kind: WaitMessage}}},
		{"negative block", &Session{Frames: []Frame{{Skill: "", Block: -1}, {Skill: "ünïcödé 🎉", Block: math.MinInt64}}}},
		{"scalars", &Session{Vars: map[string]any{
			"nil": nil, "f": false, "t": true,
			"int": 7, "neg": -70000, "maxint": math.MaxInt, "minint": math.MinInt,
			"i64": int64(7), "i64neg": int64(math.MinInt64),
			"float": 3.25, "negzero": math.Copysign(0, -1), "inf": math.Inf(-1), "tiny": math.SmallestNonzeroFloat64,
			"str": "hello", "empty": "", "emoji": "👋🏽 héllo\x00wörld", "invalid utf8": "\xff\xfe",
			"num": json.Number("12345678901234567890.5"), "dur": 90 * time.Second,
			"time": codecNow, "zero time": time.Time{}, "old": time.Date(1, 2, 3, 4, 5, 6, 7, time.UTC),
			"future": time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
			"":       "empty key",
		}}},
		{"containers", &Session{Vars: map[string]any{
			"list":       []any{1, "two", 3.0, nil, true, []any{}, map[string]any{}},
			"nil list":   []any(nil),
			"empty list": []any{},
			"nil map":    map[string]any(nil),
			"empty map":  map[string]any{},
			"strings":    []string{"a", "", "ç"},
			"nil strs":   []string(nil),
			"empty strs": []string{},
			"nested": map[string]any{
				"order": map[string]any{
					"id":    "A-1",
					"items": []any{map[string]any{"sku": "x", "qty": 2}, map[string]any{"sku": "y", "qty": int64(1)}},
					"at":    codecNow,
				},
			},
		}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := roundTrip(t, c.s)
			if !reflect.DeepEqual(got, c.s) {
				t.Errorf("round trip changed the session\n got: %#v\nwant: %#v", got, c.s)
			}
		})
	}
}

func TestManyVars(t *testing.T) {
	s := &Session{Vars: map[string]any{}}
	for i := range 300 {
		s.Vars[fmt.Sprintf("v%03d", i)] = []any{i, fmt.Sprint(i)}
	}
	if got := roundTrip(t, s); !reflect.DeepEqual(got, s) {
		t.Fatal("round trip changed 300 vars")
	}
}

func TestTimeZones(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		paris = time.FixedZone("CET", 3600)
	}
	times := []time.Time{
		codecNow.In(paris),
		codecNow.In(time.FixedZone("IST", 5*3600+1800)),
		codecNow.In(time.FixedZone("", -(9*3600 + 30*60))),
		time.Now(), // carries a monotonic reading and Local
	}
	for _, tm := range times {
		got := roundTrip(t, &Session{Vars: map[string]any{"t": tm}}).Vars["t"].(time.Time)
		if !got.Equal(tm) {
			t.Errorf("%v came back as %v", tm, got)
		}
		_, off1 := tm.Zone()
		_, off2 := got.Zone()
		if off1 != off2 {
			t.Errorf("%v: offset %d came back as %d", tm, off1, off2)
		}
		if got.String() != tm.Round(0).In(got.Location()).String() {
			t.Errorf("wall clock differs: %v vs %v", got, tm)
		}
	}
	// UTC times come back identical, location included.
	if got := roundTrip(t, &Session{Vars: map[string]any{"t": codecNow}}).Vars["t"]; got != any(codecNow) {
		t.Errorf("UTC time came back as %#v", got)
	}
}

func TestNaN(t *testing.T) {
	s := &Session{Vars: map[string]any{"nan": math.NaN()}}
	got := roundTrip(t, s)
	if f, ok := got.Vars["nan"].(float64); !ok || !math.IsNaN(f) {
		t.Errorf("NaN came back as %#v", got.Vars["nan"])
	}
}

func TestDeterministic(t *testing.T) {
	build := func(reverse bool) map[string]any {
		m := map[string]any{}
		for i := range 100 {
			j := i
			if reverse {
				j = 99 - i
			}
			m[fmt.Sprintf("k%d", j)] = map[string]any{"a": j, "b": []any{map[string]any{"z": 1, "y": 2, "x": 3}}}
		}
		return m
	}
	s1 := &Session{Vars: build(false)}
	want, err := MarshalSession(s1)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		s := &Session{Vars: build(i%2 == 1)}
		got, err := MarshalSession(s)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("encoding %d differs", i)
		}
	}
	c := &Contact{ID: "c", Attributes: build(true)}
	b1, _ := MarshalContact(c)
	c.Attributes = build(false)
	b2, _ := MarshalContact(c)
	if !bytes.Equal(b1, b2) {
		t.Fatal("contact encoding is not deterministic")
	}
}

func TestUnknownTypes(t *testing.T) {
	type custom struct{ A int }
	bad := []any{
		int32(1), uint(1), uint64(1), float32(1), custom{}, &custom{}, map[string]string{"a": "b"},
		[]int{1}, make(chan int), func() {}, map[int]any{}, []byte("x"), &[]any{},
	}
	for _, v := range bad {
		for _, wrap := range []func(any) any{
			func(v any) any { return v },
			func(v any) any { return []any{1, v} },
			func(v any) any { return map[string]any{"in": map[string]any{"deep": v}} },
		} {
			s := &Session{Vars: map[string]any{"x": wrap(v)}}
			buf := []byte("prefix")
			out, err := AppendSession(buf, s)
			if err == nil {
				t.Errorf("%T: no error", v)
				continue
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("%T", v)) {
				t.Errorf("%T: error does not name the type: %v", v, err)
			}
			if string(out) != "prefix" {
				t.Errorf("%T: failed append left %q", v, out)
			}
		}
	}
	if _, err := MarshalContact(&Contact{Attributes: map[string]any{"x": int8(1)}}); err == nil {
		t.Error("contact with an int8 attribute: no error")
	}
	if _, err := MarshalSession(nil); err == nil {
		t.Error("nil session: no error")
	}
	if _, err := MarshalSession(&Session{Wait: &Wait{Due: time.Date(300000, 1, 1, 0, 0, 0, 0, time.UTC)}}); err == nil {
		t.Error("time out of range: no error")
	}
}

// nest returns a value with n containers, alternating lists and maps.
func nest(n int) any {
	var v any = "leaf"
	for i := range n {
		if i%2 == 0 {
			v = []any{v}
		} else {
			v = map[string]any{"k": v}
		}
	}
	return v
}

func TestDepth(t *testing.T) {
	ok := &Session{Vars: map[string]any{"deep": nest(MaxValueDepth)}}
	if got := roundTrip(t, ok); !reflect.DeepEqual(got, ok) {
		t.Fatal("deepest allowed value changed")
	}
	if _, err := MarshalSession(&Session{Vars: map[string]any{"deep": nest(MaxValueDepth + 1)}}); err == nil {
		t.Fatal("too deep: no error")
	}
	loop := map[string]any{}
	loop["self"] = loop
	if _, err := MarshalSession(&Session{Vars: loop}); err == nil {
		t.Fatal("self-referencing map: no error")
	}
	list := []any{nil}
	list[0] = list
	if _, err := MarshalSession(&Session{Vars: map[string]any{"l": list}}); err == nil {
		t.Fatal("self-referencing list: no error")
	}

	// Hand-built input nesting deeper than allowed is refused by the decoder.
	b := []byte{hdrSession, 0, 0, 0, 0, 0, 2, 1, 'x'}
	for range MaxValueDepth + 1 {
		b = append(b, tagList, 2)
	}
	b = append(b, tagNil)
	if _, err := UnmarshalSession(b); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("decoding too deep input: %v", err)
	}
	b = []byte{hdrSession, 0, 0, 0, 0, 0, 2, 1, 'x'}
	for range 1 << 16 {
		b = append(b, tagList, 2)
	}
	if _, err := UnmarshalSession(b); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("decoding very deep input: %v", err)
	}
}

func TestCorruptInput(t *testing.T) {
	good, err := MarshalSession(&Session{Seq: 1, Frames: []Frame{{"a", 1}}, Wait: &Wait{Kind: 1, Events: []string{"e"}, Due: codecNow},
		Vars: map[string]any{"a": []any{1, "x", map[string]any{"t": codecNow, "f": 1.5}}}, Offered: []Offer{{Title: "t"}}})
	if err != nil {
		t.Fatal(err)
	}
	// Every strict prefix is an error, never a panic.
	for i := range len(good) {
		if _, err := UnmarshalSession(good[:i]); !errors.Is(err, ErrCorrupt) {
			t.Errorf("prefix of %d bytes: %v", i, err)
		}
	}
	if _, err := UnmarshalSession(append(good[:len(good):len(good)], 0)); err == nil {
		t.Error("trailing byte accepted")
	}
	// Every single-byte change decodes or fails cleanly.
	for i := range good {
		for _, x := range []byte{0x00, 0x01, 0x7f, 0x80, 0xff} {
			b := bytes.Clone(good)
			b[i] = x
			_, _ = UnmarshalSession(b)
		}
	}
	huge := binary.AppendUvarint(nil, 1<<60)
	for name, b := range map[string][]byte{
		"frames":    append(append([]byte{hdrSession, 0, 0, 0}, huge...), 0, 0),
		"vars":      append(append([]byte{hdrSession, 0, 0, 0, 0, 0}, huge...), 1, 'a', 0),
		"max count": append([]byte{hdrSession, 0, 0, 0, 0, 0}, binary.AppendUvarint(nil, math.MaxUint64)...),
		"string":    append(append([]byte{hdrSession, 0, 0, 0, 2}, huge...), 'a'),
		"list":      append(append([]byte{hdrSession, 0, 0, 0, 0, 0, 2, 1, 'l', tagList}, huge...), 0),
		"varint":    {hdrSession, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02},
		"header":    {hdrContact, 0, 0, 0, 0, 0, 0},
		"empty":     {},
		"flags":     {hdrSession, 0, 0x80, 0, 0, 0, 0},
		"tag":       {hdrSession, 0, 0, 0, 0, 0, 2, 1, 'a', 0xee},
		"bool":      {hdrSession, 0, 2, 0, 0, 1, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0},
		"order":     {hdrSession, 0, 0, 0, 0, 0, 3, 1, 'b', 0, 1, 'a', 0},
		"dup":       {hdrSession, 0, 0, 0, 0, 0, 3, 1, 'a', 0, 1, 'a', 0},
		"nanos":     append(append([]byte{hdrSession, 0, 0, 0, 0, 0, 2, 1, 't', tagTime, 0}, binary.AppendUvarint(nil, 2e9)...), 0),
		"zone":      {hdrSession, 0, 0, 0, 0, 0, 2, 1, 't', tagTime, 0, 1, 0},
	} {
		allocs := testing.AllocsPerRun(10, func() {
			if _, err := UnmarshalSession(b); !errors.Is(err, ErrCorrupt) {
				t.Errorf("%s: %v", name, err)
			}
		})
		if allocs > 16 {
			t.Errorf("%s: %v allocations to refuse %d bytes", name, allocs, len(b))
		}
	}
}

func TestContactRoundTrip(t *testing.T) {
	cases := []*Contact{
		{},
		{ID: "c1", Bot: "shop", Channel: "telegram", ExternalID: "12345", Name: "Zoë 山田",
			Attributes: map[string]any{"plan": "gold", "orders": 3, "tags": []any{"a"}, "since": codecNow},
			Tags:       []string{"vip", "returning"}, Status: "waiting", Banned: true,
			CreatedAt: codecNow.Add(-time.Hour), UpdatedAt: codecNow, Queue: "billing"},
		{ID: "c2", Attributes: map[string]any{}, Tags: []string{}},
	}
	for i, c := range cases {
		b, err := MarshalContact(c)
		if err != nil {
			t.Fatal(err)
		}
		got, err := UnmarshalContact(b)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, c) {
			t.Errorf("%d: got %#v, want %#v", i, got, c)
		}
		if _, err := UnmarshalSession(b); err == nil {
			t.Errorf("%d: a contact decoded as a session", i)
		}
		for j := range len(b) {
			if _, err := UnmarshalContact(b[:j]); err == nil {
				t.Errorf("%d: prefix %d decoded", i, j)
			}
		}
	}
}

func fullContent() *Content {
	return &Content{
		Text:         "Pick one 👇",
		Buttons:      []Button{{Title: "A", Payload: "a"}, {Title: "Site", URL: "https://example.com/ü"}},
		QuickReplies: []Button{},
		Image:        &Media{URL: "https://img/1.png", Kind: "image", Size: 1234},
		Media:        &Media{URL: "https://v/1.mp4", Kind: "video", Name: "clip", Caption: "c", MIME: "video/mp4", Size: -1},
		File:         &Media{URL: "f"},
		Gallery: []Card{
			{Image: "i", Title: "T", Subtitle: "S", Buttons: []Button{{Title: "Buy", Payload: "BUY"}}},
			{Title: "empty buttons", Buttons: []Button{}},
			{Title: "nil buttons"},
		},
		Payload:     "P",
		Attachments: []Media{{URL: "u1"}, {URL: "u2", MIME: "text/plain"}},
	}
}

func TestContentRoundTrip(t *testing.T) {
	for i, c := range []*Content{{}, {Text: "hi"}, {Payload: "p"}, fullContent(), {Gallery: []Card{}, Attachments: []Media{}}} {
		b := AppendContent(nil, c)
		got, err := UnmarshalContent(b)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(&got, c) {
			t.Errorf("%d: got %#v, want %#v", i, got, *c)
		}
	}
	if b := AppendContent(nil, &Content{Text: "hi"}); len(b) != 5 {
		t.Errorf("text-only content takes %d bytes, want 5", len(b))
	}
}

func TestTimerRoundTrip(t *testing.T) {
	cases := []*Timer{
		{ID: "t1", Contact: "c1", Due: codecNow, Kind: TimerWait, Seq: 9},
		{ID: "t2", Contact: "c1", Due: codecNow, Kind: TimerEvent, Event: &Event{
			Kind: EventNamed, Name: "reminder", Data: map[string]any{"n": 1, "l": []any{"x"}},
		}},
		{ID: "t3", Event: &Event{Kind: EventMessage, Message: fullContent(), Outcome: HandoverResolved,
			Timer: &Timer{ID: "inner", Due: codecNow, Event: &Event{Kind: EventTimer}}}},
	}
	for i, tm := range cases {
		b, err := AppendTimer(nil, tm)
		if err != nil {
			t.Fatal(err)
		}
		got, err := UnmarshalTimer(b)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(&got, tm) {
			t.Errorf("%d: got %#v, want %#v", i, got, *tm)
		}
	}
	// Timers nested in events count against the depth bound.
	deep := &Timer{ID: "d", Event: &Event{}}
	for range MaxValueDepth + 1 {
		deep = &Timer{ID: "d", Event: &Event{Timer: deep}}
	}
	if _, err := AppendTimer(nil, deep); err == nil {
		t.Error("timers nested too deep: no error")
	}
	if _, err := AppendTimer(nil, &Timer{Event: &Event{Data: map[string]any{"x": struct{}{}}}}); err == nil {
		t.Error("bad event data: no error")
	}
}

func TestAppendReusesBuffer(t *testing.T) {
	s := typicalSession()
	buf := make([]byte, 0, 512)
	allocs := testing.AllocsPerRun(100, func() {
		var err error
		buf, err = AppendSession(buf[:0], s)
		if err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("AppendSession into a large enough buffer allocates %v times", allocs)
	}
	out, err := AppendSession([]byte("xy"), s)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := UnmarshalSession(out[2:]); err != nil || !reflect.DeepEqual(got, s) {
		t.Errorf("appended encoding does not decode: %v", err)
	}
}

// fuzzSeeds are valid records of every kind, so the fuzzer starts from
// inputs that get past the header.
func fuzzSeeds() [][]byte {
	var seeds [][]byte
	for _, s := range []*Session{{}, typicalSession(), {Vars: map[string]any{"n": nest(6), "s": []string{"a"},
		"num": json.Number("1.5"), "d": time.Second, "tz": codecNow.In(time.FixedZone("", 3600)), "i": int64(-1)}}} {
		b, _ := MarshalSession(s)
		seeds = append(seeds, b)
	}
	c, _ := MarshalContact(&Contact{ID: "c", Attributes: map[string]any{"a": 1}, Tags: []string{"t"}, CreatedAt: codecNow})
	tm, _ := AppendTimer(nil, &Timer{ID: "t", Due: codecNow, Event: &Event{Message: fullContent(), Data: map[string]any{}}})
	return append(seeds, c, tm, AppendContent(nil, fullContent()))
}

// FuzzUnmarshalSession feeds arbitrary bytes to every decoder of the codec
// (the header byte picks which one gets past the first byte). Nothing may
// panic, and whatever decodes must re-encode, and re-encode to the same
// bytes after a second round trip.
func FuzzUnmarshalSession(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Add([]byte{hdrSession})
	f.Add([]byte{hdrSession, 0, 0, 0, 0, 0, 0, 2, 1, 'x', tagList, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		if s, err := UnmarshalSession(b); err == nil {
			b2, err := MarshalSession(s)
			if err != nil {
				t.Fatalf("decoded session does not encode: %v", err)
			}
			s2, err := UnmarshalSession(b2)
			if err != nil {
				t.Fatalf("re-encoded session does not decode: %v", err)
			}
			b3, _ := MarshalSession(s2)
			if !bytes.Equal(b2, b3) {
				t.Fatalf("session encoding is not stable:\n%x\n%x", b2, b3)
			}
		}
		if c, err := UnmarshalContact(b); err == nil {
			b2, err := MarshalContact(c)
			if err != nil {
				t.Fatalf("decoded contact does not encode: %v", err)
			}
			c2, err := UnmarshalContact(b2)
			if err != nil {
				t.Fatalf("re-encoded contact does not decode: %v", err)
			}
			if b3, _ := MarshalContact(c2); !bytes.Equal(b2, b3) {
				t.Fatal("contact encoding is not stable")
			}
		}
		if tm, err := UnmarshalTimer(b); err == nil {
			b2, err := AppendTimer(nil, &tm)
			if err != nil {
				t.Fatalf("decoded timer does not encode: %v", err)
			}
			tm2, err := UnmarshalTimer(b2)
			if err != nil {
				t.Fatalf("re-encoded timer does not decode: %v", err)
			}
			if b3, _ := AppendTimer(nil, &tm2); !bytes.Equal(b2, b3) {
				t.Fatal("timer encoding is not stable")
			}
		}
		if c, err := UnmarshalContent(b); err == nil {
			b2 := AppendContent(nil, &c)
			c2, err := UnmarshalContent(b2)
			if err != nil {
				t.Fatalf("re-encoded content does not decode: %v", err)
			}
			if !reflect.DeepEqual(c, c2) {
				t.Fatalf("content changed in a round trip: %#v vs %#v", c, c2)
			}
		}
	})
}

// BenchmarkSessionCodec measures one engine step's worth of codec work on a
// typical session: encode into a reused buffer, decode, and both; json is
// there for comparison.
func BenchmarkSessionCodec(b *testing.B) {
	s := typicalSession()
	enc, err := MarshalSession(s)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 512)
		for b.Loop() {
			buf, _ = AppendSession(buf[:0], s)
		}
		b.ReportMetric(float64(len(buf)), "bytes")
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := UnmarshalSession(enc); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("roundtrip", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 512)
		for b.Loop() {
			buf, _ = AppendSession(buf[:0], s)
			if _, err := UnmarshalSession(buf); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json-roundtrip", func(b *testing.B) {
		b.ReportAllocs()
		var n int
		for b.Loop() {
			j, _ := json.Marshal(s)
			n = len(j)
			var out Session
			if err := json.Unmarshal(j, &out); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(n), "bytes")
	})
}

// Contacts written before the queue (format version 1) still read.
func TestContactV1(t *testing.T) {
	c := &Contact{ID: "c1", Bot: "shop", Channel: "webchat", Tags: []string{}, CreatedAt: codecNow, UpdatedAt: codecNow}
	b, err := MarshalContact(c)
	if err != nil {
		t.Fatal(err)
	}
	// Version 1 is version 2 without its last field (an empty queue: one
	// zero length byte) and with the old header.
	v1 := append([]byte{hdrContactV1}, b[1:len(b)-1]...)
	got, err := UnmarshalContact(v1)
	if err != nil || !reflect.DeepEqual(got, c) {
		t.Fatalf("version 1: %#v %v", got, err)
	}
}

// Sessions written before Calls (flag 4) read as having made no calls,
// and a session that made none is written as before.
func TestSessionWithoutCalls(t *testing.T) {
	before := []byte{hdrSession, 5, 1, 0, 0, 0, 0} // Seq 5, started, nothing else
	s, err := UnmarshalSession(before)
	if err != nil || s.Seq != 5 || !s.Started || s.Calls != 0 {
		t.Fatalf("an older session: %#v %v", s, err)
	}
	b, err := MarshalSession(s)
	if err != nil || !bytes.Equal(b, before) {
		t.Fatalf("written again: %v %v, want %v", b, err, before)
	}
	s.Calls = 2
	if b, _ = MarshalSession(s); !bytes.Equal(b, []byte{hdrSession, 5, 5, 0, 2, 0, 0, 0}) {
		t.Fatalf("with calls: %v", b)
	}
}
