package webchat

import (
	"encoding/json"
	"reflect"
	"testing"
)

var clientFrameSeeds = []string{
	`{"type":"hello","bot":"support","token":"abc.def","after":12}`,
	`{"type":"message","id":"m-1","text":"hi"}`,
	`{"type":"message","id":"m-2","text":"Questions","payload":"/b/menu/1"}`,
	`{"type":"event","name":"/_page_visit","data":{"url":"https://x"}}`,
	`{"type":"message","text":"caf\u00e9"}`,
	`{"type":"message","TEXT":"case"}`,
	`{"type":"read","after":null}`,
	`{"type":"message","attachments":[{"url":"/f/1"}]}`,
	` { "type" : "message" , "text" : "a" , "x" : [1, {"y": null}] } `,
	`{"type":"message","text":"a","text":"b"}`,
	`{"after":-1}`, `{"after":1.5}`, `{"after":0}`, `{"type":1}`, `[]`, `{`, ``,
}

// TestClientFrameScan: the usual frames are scanned, the rest left to
// encoding/json.
func TestClientFrameScan(t *testing.T) {
	for i, want := range []bool{true, true, true, false, false, false, false, false, true, true, false, false, true, false, false, false, false} {
		var f clientFrame
		if got := scanClientFrame([]byte(clientFrameSeeds[i]), &f); got != want {
			t.Errorf("%s: scanned %v, want %v", clientFrameSeeds[i], got, want)
		}
	}
	var f clientFrame
	if !scanClientFrame([]byte(clientFrameSeeds[2]), &f) || f.Type != "message" || f.ID != "m-2" || f.Text != "Questions" || f.Payload != "/b/menu/1" {
		t.Fatalf("scanned %+v", f)
	}
}

// FuzzClientFrameScan: whatever the scanner accepts, encoding/json decodes
// to the same frame.
func FuzzClientFrameScan(f *testing.F) {
	for _, s := range clientFrameSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var got clientFrame
		if !scanClientFrame(b, &got) {
			return
		}
		var want clientFrame
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatalf("scanned %q, which encoding/json rejects: %v", b, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: scanned %+v, encoding/json %+v", b, got, want)
		}
	})
}
