package webchat

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/flows"
)

// TestEncoderMatchesMarshal: the hand-written envelope and ack are byte for
// byte what json.Marshal writes.
func TestEncoderMatchesMarshal(t *testing.T) {
	strs := []string{"", "hi", `<script>alert("x")</script>&amp;`, "a\\b\"c", "tab\there\nnl\r\b\f\x00\x1f\x7f",
		"é ü 日本 🙂", "\u2028\u2029", "bad \xff\xfe utf8 \xc3", "\xed\xa0\x80"}
	rnd := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		b := make([]byte, rnd.IntN(20))
		for i := range b {
			b[i] = byte(rnd.IntN(256))
		}
		strs = append(strs, string(b))
	}
	loc := time.FixedZone("x", 5*3600+30*60)
	times := []time.Time{{}, time.Date(2026, 11, 21, 7, 0, 0, 0, time.UTC), time.Date(2026, 1, 2, 3, 4, 5, 123456789, loc), time.Date(2026, 1, 2, 3, 4, 5, 120000000, time.UTC).Local()}
	contents := []flows.Content{{}, {Text: "x"}, {
		Text: "pick", Buttons: []flows.Button{{Title: "A", Payload: "a"}, {Title: "<b>", URL: "https://x.y/?a=1&b=2"}},
		QuickReplies: []flows.Button{{Title: "q"}}, Image: &flows.Media{URL: "u", Kind: "image"},
		Gallery: []flows.Card{{Title: "t", Buttons: []flows.Button{{Title: "b", Payload: "p"}}}}, Payload: "pl",
		Attachments: []flows.Media{{URL: "f", Size: 12}},
	}}
	var e encoder
	check := func(f messageFrame) {
		t.Helper()
		want, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.message(&f)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Fatalf("got  %s\nwant %s", got, want)
		}
	}
	for i, s := range strs {
		want, _ := json.Marshal(ackFrame{Type: "ack", ID: s, Duplicate: i%2 == 0})
		if got := appendAck(nil, s, i%2 == 0); string(got) != string(want) {
			t.Fatalf("ack: got  %s\nwant %s", got, want)
		}
		for j, c := range append(contents, everyField(s, strs[(i+1)%len(strs)], int64(i)-100)) {
			c.Text += s
			check(messageFrame{Type: "message", Seq: uint64(i*7 + j), ID: s, Author: strs[(i+j)%len(strs)], Time: times[(i+j)%len(times)], Content: c})
		}
	}
	check(messageFrame{Type: "message", Content: flows.Content{Buttons: []flows.Button{}, Gallery: []flows.Card{{Buttons: []flows.Button{}}}, Attachments: []flows.Media{}}})
}

// everyField is content with a and b in every string field.
func everyField(a, b string, size int64) flows.Content {
	m := func(u string) *flows.Media {
		return &flows.Media{URL: u, Kind: a, Name: b, Caption: a, MIME: b, Size: size}
	}
	bts := []flows.Button{{Title: a, Payload: b}, {Title: b, URL: a}, {Title: a, Payload: a, URL: b}}
	return flows.Content{
		Text: a, Buttons: bts, QuickReplies: bts[:1], Image: m(a), Media: m(b), File: m(a + b),
		Gallery: []flows.Card{{Image: a, Title: b, Subtitle: a, Buttons: bts}, {Title: a}},
		Payload: b, Attachments: []flows.Media{*m(b), {URL: a}},
	}
}

// FuzzContentEncoding: the hand-written frame is json.Marshal's for any
// strings in any field.
func FuzzContentEncoding(f *testing.F) {
	f.Add("hi", "<b>&\"", int64(0))
	f.Add("\xff\u2028", "", int64(-1))
	var e encoder
	f.Fuzz(func(t *testing.T, a, b string, size int64) {
		for _, c := range []flows.Content{everyField(a, b, size), {Text: a, Payload: b}, {Gallery: []flows.Card{{Title: a}}}} {
			fr := messageFrame{Type: "message", Seq: uint64(size), ID: a, Author: b, Time: time.Date(2026, 11, 22, 0, 0, 0, int(size&0xffff), time.UTC), Content: c}
			want, err := json.Marshal(fr)
			if err != nil {
				t.Fatal(err)
			}
			got, err := e.message(&fr)
			if err != nil || string(got) != string(want) {
				t.Fatalf("got  %s (%v)\nwant %s", got, err, want)
			}
		}
	})
}
