package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestTeams(t *testing.T) {
	eachStore(t, func(t *testing.T, st Store) {
		ctx := context.Background()
		if ts, err := st.ListTeams(ctx); err != nil || len(ts) != 0 {
			t.Fatalf("empty: %v %v", ts, err)
		}
		now := time.Unix(1700000000, 0).UTC()
		sales := &Team{ID: "sales", Name: "Sales", AutoAssign: AutoAssignRoundRobin, ReplyTarget: 90*time.Second + 500*time.Millisecond, CreatedAt: now, UpdatedAt: now}
		for _, tm := range []*Team{sales, {ID: "support", Name: "Support"}, {ID: "a-1_b"}} {
			if err := st.PutTeam(ctx, tm); err != nil {
				t.Fatal(err)
			}
		}
		got, err := st.Team(ctx, "sales")
		// The reply target is kept in whole seconds.
		if err != nil || got.Name != "Sales" || got.Assignment() != AutoAssignRoundRobin || got.ReplyTarget != 90*time.Second || got.Target() != 90*time.Second || !got.CreatedAt.Equal(now) {
			t.Fatalf("sales: %+v %v", got, err)
		}
		sup, err := st.Team(ctx, "support")
		if err != nil || sup.Assignment() != AutoAssignOff || sup.Target() != DefaultReplyTarget {
			t.Fatalf("defaults: %+v %v", sup, err)
		}
		if ts, err := st.ListTeams(ctx); err != nil || len(ts) != 3 || ts[0].ID != "a-1_b" || ts[1].ID != "sales" || ts[2].ID != "support" {
			t.Fatalf("list: %v %v", ts, err)
		}
		sales.Name = "Sales EU"
		if err := st.PutTeam(ctx, sales); err != nil {
			t.Fatal(err)
		}
		if got, _ := st.Team(ctx, "sales"); got.Name != "Sales EU" {
			t.Fatalf("replace: %+v", got)
		}
		for _, id := range []string{"", "Sales", "a b", "x/y", strings.Repeat("a", 65)} {
			if err := st.PutTeam(ctx, &Team{ID: id}); !errors.Is(err, ErrInvalid) {
				t.Errorf("id %q: %v", id, err)
			}
		}
		if !ValidTeamID(strings.Repeat("a", 64)) || !ValidTeamID("-") {
			t.Error("valid ids")
		}
		if err := st.DeleteTeam(ctx, "sales"); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Team(ctx, "sales"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("deleted: %v", err)
		}
		if err := st.DeleteTeam(ctx, "sales"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("twice: %v", err)
		}
		// Teams live apart from accounts.
		if as, err := st.ListAccounts(ctx); err != nil || len(as) != 0 {
			t.Fatalf("accounts: %v %v", as, err)
		}
	})
}

func TestTeamJSON(t *testing.T) {
	b, err := (Team{ID: "x", ReplyTarget: 2 * time.Minute}).MarshalJSON()
	if err != nil || !strings.Contains(string(b), `"reply_target_seconds":120`) || !strings.Contains(string(b), `"auto_assign":""`) {
		t.Fatalf("%s %v", b, err)
	}
}
