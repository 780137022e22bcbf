package store

import (
	"errors"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/flows"
)

func TestDeleteContact(t *testing.T) {
	eachStore(t, func(t *testing.T, st Store) {
		keep := contact("c2", "shop", "tg-2")
		commit(t, st, &Batch{Contact: keep, Messages: []Message{msg(DirectionIn, "stays")}, Timers: []flows.Timer{{ID: "t-keep", Due: t0}}})
		c := contact("c1", "shop", "tg-1")
		out := msg(DirectionOut, "queued reply")
		sent := msg(DirectionOut, "sent reply")
		sent.Status, sent.ExternalID = StatusSent, "ext-1"
		h := &Handover{ID: NewHandoverID(t0), Bot: "shop", Contact: "c1", Channel: "telegram", Status: HandoverNew, CreatedAt: t0}
		commit(t, st, &Batch{Contact: c, Session: &flows.Session{Seq: 3}, Messages: []Message{msg(DirectionIn, "hi"), out, sent},
			Timers: []flows.Timer{{ID: "t1", Due: t0.Add(time.Minute)}, {ID: "t2", Due: t0.Add(-time.Minute)}}, Handovers: []*Handover{h}})

		if err := st.DeleteContact(bg, "c1"); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Contact(bg, "c1"); !errors.Is(err, ErrNotFound) {
			t.Errorf("contact: %v", err)
		}
		if _, err := st.ContactByExternal(bg, "shop", "telegram", "tg-1"); !errors.Is(err, ErrNotFound) {
			t.Errorf("external index: %v", err)
		}
		if _, err := st.Session(bg, "c1"); !errors.Is(err, ErrNotFound) {
			t.Errorf("session: %v", err)
		}
		if ms, _, _ := st.Messages(bg, "c1", MessageQuery{}); len(ms) != 0 {
			t.Errorf("messages left: %+v", ms)
		}
		if _, err := st.MessageByExternal(bg, "telegram", "ext-1"); !errors.Is(err, ErrNotFound) {
			t.Errorf("receipt index: %v", err)
		}
		if ms, _ := st.Outbox(bg, t0.Add(time.Hour), 0); len(ms) != 0 {
			t.Errorf("outbox entries left: %+v", ms)
		}
		if ts, _ := st.DueTimers(bg, t0.Add(time.Hour), 0); len(ts) != 1 || ts[0].ID != "t-keep" {
			t.Errorf("timers after the delete: %+v", ts)
		}
		if _, err := st.Handover(bg, h.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("handover: %v", err)
		}
		if _, more, _ := st.ScanHandovers(bg, true, "", 0, func(*Handover) bool { t.Error("an open handover is left"); return true }); more {
			t.Error("more open handovers")
		}
		if cs, _, _ := st.Contacts(bg, "shop", "", 0); len(cs) != 1 || cs[0].ID != "c2" {
			t.Errorf("the bot's contacts: %+v", cs)
		}
		// The other contact is untouched, and c1 can start again.
		if ms, _, _ := st.Messages(bg, "c2", MessageQuery{}); len(ms) != 1 {
			t.Errorf("c2's messages: %+v", ms)
		}
		commit(t, st, &Batch{Contact: contact("c1", "shop", "tg-1"), Messages: []Message{msg(DirectionIn, "again")}})
		if ms, _, _ := st.Messages(bg, "c1", MessageQuery{}); len(ms) != 1 || ms[0].Seq != 1 {
			t.Errorf("a new c1 starts its conversation afresh: %+v", ms)
		}
		if err := st.DeleteContact(bg, "nobody"); !errors.Is(err, ErrNotFound) {
			t.Errorf("deleting an unknown contact: %v", err)
		}
	})
}

// TestDeleteContactCutShort: a DeleteContact that stops after its first
// transaction (a long conversation takes several) leaves no timer without
// its list, and deleting again after a restart finishes the job.
func TestDeleteContactCutShort(t *testing.T) {
	st, dir := openOnDisk(t)
	defer func() { st.Close() }()
	commit(t, st, &Batch{Contact: contact("c1", "shop", "x1"), Session: &flows.Session{Seq: 1, Started: true},
		Timers: []flows.Timer{{ID: "c1/w1", Due: t0, Kind: flows.TimerWait}}})
	for range deleteChunk / 100 {
		var ms []Message
		for range 100 {
			ms = append(ms, msg(DirectionIn, "x"))
		}
		commit(t, st, &Batch{ContactID: "c1", Messages: ms})
	}
	deleteCutShort(t, st, "c1")
	st = reopen(t, st, dir)
	checkTimerIndex(t, st)
	if ts, _ := st.DueTimers(bg, t0.Add(time.Hour), 0); len(ts) != 0 {
		t.Errorf("timers left after the first transaction: %v", timerIDs(ts))
	}
	if err := st.DeleteContact(bg, "c1"); err != nil {
		t.Fatalf("deleting again: %v", err)
	}
	if _, err := st.Contact(bg, "c1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("contact: %v", err)
	}
	if ms, _, _ := st.Messages(bg, "c1", MessageQuery{}); len(ms) != 0 {
		t.Errorf("%d messages left", len(ms))
	}
}

// deleteCutShort deletes a contact and stops the deletion after its first
// transaction, as a crash would.
func deleteCutShort(t *testing.T, st Store, id string) {
	t.Helper()
	stop := errors.New("stopped")
	testHookDeleteChunk = func() error { return stop }
	err := st.DeleteContact(bg, id)
	testHookDeleteChunk = nil
	if !errors.Is(err, stop) {
		t.Fatalf("cut short: %v", err)
	}
}
