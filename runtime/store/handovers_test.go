package store

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"
)

func TestHandovers(t *testing.T) {
	eachStore(t, func(t *testing.T, st Store) {
		at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
		var hs []*Handover
		for i := range 5 {
			h := &Handover{ID: NewHandoverID(at(i)), Bot: "shop", Contact: fmt.Sprint("c", i%2), Channel: "webchat",
				Queue: "billing", Status: HandoverNew, CreatedAt: at(i), Form: map[string]any{"order": "A1"}}
			hs = append(hs, h)
			commit(t, st, &Batch{ContactID: h.Contact, Handovers: []*Handover{h}})
		}
		got, err := st.Handover(bg, hs[2].ID)
		if err != nil || !reflect.DeepEqual(got, hs[2]) {
			t.Fatalf("handover: %+v %v, want %+v", got, err, hs[2])
		}
		if _, err := st.Handover(bg, "hnope"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown handover: %v", err)
		}

		ids := func(hs []*Handover) (out []string) {
			for _, h := range hs {
				out = append(out, h.ID)
			}
			return out
		}
		c0, err := st.ContactHandovers(bg, "c0", 0)
		if err != nil || !reflect.DeepEqual(ids(c0), []string{hs[4].ID, hs[2].ID, hs[0].ID}) {
			t.Fatalf("c0's handovers newest first: %v %v", ids(c0), err)
		}

		// Resolving one takes it out of the open set.
		resolved := *hs[3]
		resolved.Status, resolved.ResolvedAt = HandoverResolved, at(10)
		commit(t, st, &Batch{ContactID: resolved.Contact, Handovers: []*Handover{&resolved}})

		scan := func(open bool, cursor string, n int) (got []string, last string, more bool) {
			t.Helper()
			last, more, err := st.ScanHandovers(bg, open, cursor, n, func(h *Handover) bool {
				got = append(got, h.ID)
				return true
			})
			if err != nil {
				t.Fatal(err)
			}
			return got, last, more
		}
		open, _, more := scan(true, "", 0)
		if want := []string{hs[4].ID, hs[2].ID, hs[1].ID, hs[0].ID}; !reflect.DeepEqual(open, want) || more {
			t.Fatalf("open handovers: %v (more %v), want %v", open, more, want)
		}
		page1, last, more := scan(false, "", 2)
		if !reflect.DeepEqual(page1, []string{hs[4].ID, hs[3].ID}) || !more || last != hs[3].ID {
			t.Fatalf("first page: %v last %q more %v", page1, last, more)
		}
		page2, _, more := scan(false, last, 10)
		if !reflect.DeepEqual(page2, []string{hs[2].ID, hs[1].ID, hs[0].ID}) || more {
			t.Fatalf("second page: %v more %v", page2, more)
		}
		// fn stopping early leaves more.
		n := 0
		if _, more, _ := st.ScanHandovers(bg, false, "", 0, func(*Handover) bool { n++; return n < 2 }); !more || n != 2 {
			t.Fatalf("stopped scan: read %d, more %v", n, more)
		}
	})
}

func TestHandoverInvalid(t *testing.T) {
	st, err := OpenInMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	err = st.Commit(bg, &Batch{ContactID: "c", Handovers: []*Handover{{ID: "h1", Bot: "b", Contact: "c"}}})
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("handover without a status: %v", err)
	}
}

func TestCannedRepliesAndSettings(t *testing.T) {
	eachStore(t, func(t *testing.T, st Store) {
		for _, r := range []*CannedReply{
			{ID: "r1", Bot: "shop", Title: "Hours", Text: "9 to 5"},
			{ID: "r2", Bot: "help", Title: "Link", Text: "See", ButtonTitle: "Docs", ButtonURL: "https://x"},
			{ID: "r3", Bot: "shop", Title: "Map", ImageURL: "https://x/map.png", Sent: 4},
		} {
			if err := st.PutCannedReply(bg, r); err != nil {
				t.Fatal(err)
			}
		}
		shop, err := st.CannedReplies(bg, "shop")
		if err != nil || len(shop) != 2 || shop[0].ID != "r1" || shop[1].Sent != 4 {
			t.Fatalf("shop's canned replies: %+v %v", shop, err)
		}
		if all, _ := st.CannedReplies(bg, ""); len(all) != 3 {
			t.Fatalf("all canned replies: %d", len(all))
		}
		if err := st.DeleteCannedReply(bg, "r1"); err != nil {
			t.Fatal(err)
		}
		if _, err := st.CannedReply(bg, "r1"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("deleted reply: %v", err)
		}
		if err := st.DeleteCannedReply(bg, "r1"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("deleting twice: %v", err)
		}
		if err := st.PutCannedReply(bg, &CannedReply{ID: "r9", Bot: "shop"}); !errors.Is(err, ErrInvalid) {
			t.Fatalf("reply without a title: %v", err)
		}

		if _, err := st.LiveChatSettings(bg, "shop"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("settings before any: %v", err)
		}
		want := &LiveChatSettings{IdleOff: 30 * time.Minute, Rating: true, ResolveMessage: "Bye", NotifyWebhook: "https://hooks/x"}
		if err := st.PutLiveChatSettings(bg, "shop", want); err != nil {
			t.Fatal(err)
		}
		if got, err := st.LiveChatSettings(bg, "shop"); err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("settings: %+v %v", got, err)
		}
	})
}
