package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/switchboard-bots/switchboard/flows"
)

func TestBotVersions(t *testing.T) {
	eachStore(t, func(t *testing.T, st Store) {
		ctx := context.Background()
		if vs, next, err := st.BotVersions(ctx, "shop", "", 0); err != nil || len(vs) != 0 || next != "" {
			t.Fatalf("empty: %v %q %v", vs, next, err)
		}
		for i := 1; i <= 5; i++ {
			// "shop" and "shop2" share a prefix; their versions do not mix.
			for _, bot := range []string{"shop", "shop2"} {
				v, err := st.PutBotVersion(ctx, BotVersion{Bot: bot, Source: []byte(fmt.Sprintf("id: %s # %d", bot, i)), Format: FormatYAML, Author: "a1", Note: "n"})
				if err != nil || v.Version != i || v.CreatedAt.IsZero() {
					t.Fatalf("put %s %d: %+v %v", bot, i, v, err)
				}
			}
		}
		vs, next, err := st.BotVersions(ctx, "shop", "", 2)
		if err != nil || len(vs) != 2 || vs[0].Version != 5 || vs[1].Version != 4 || next != "4" {
			t.Fatalf("page 1: %+v %q %v", vs, next, err)
		}
		vs, next, err = st.BotVersions(ctx, "shop", next, 2)
		if err != nil || len(vs) != 2 || vs[0].Version != 3 || vs[1].Version != 2 || next != "2" {
			t.Fatalf("page 2: %+v %q %v", vs, next, err)
		}
		vs, next, err = st.BotVersions(ctx, "shop", next, 2)
		if err != nil || len(vs) != 1 || vs[0].Version != 1 || next != "" || vs[0].Source != nil || len(vs[0].SHA256) != 64 {
			t.Fatalf("page 3: %+v %q %v", vs, next, err)
		}
		if _, _, err := st.BotVersions(ctx, "shop", "x", 2); !errors.Is(err, ErrBadCursor) {
			t.Fatalf("bad cursor: %v", err)
		}
		v, err := st.BotVersion(ctx, "shop2", 3)
		if err != nil || string(v.Source) != "id: shop2 # 3" || v.Author != "a1" || v.Published {
			t.Fatalf("get: %+v %v", v, err)
		}
		v.Published = true
		if _, err := st.PutBotVersion(ctx, *v); err != nil {
			t.Fatal(err)
		}
		if v, err := st.BotVersion(ctx, "shop2", 3); err != nil || !v.Published || string(v.Source) != "id: shop2 # 3" {
			t.Fatalf("after update: %+v %v", v, err)
		}
		if _, err := st.BotVersion(ctx, "shop", 6); !errors.Is(err, ErrNotFound) {
			t.Fatalf("missing: %v", err)
		}
		if _, err := st.PutBotVersion(ctx, BotVersion{Bot: "shop", Version: 9, Source: []byte("x"), Format: FormatYAML}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("replace missing: %v", err)
		}
		big := bytes.Repeat([]byte("#"), flows.MaxFileSize+1)
		for _, bad := range []BotVersion{
			{Bot: "", Source: []byte("x"), Format: FormatYAML},
			{Bot: "shop", Format: FormatYAML},
			{Bot: "shop", Source: big, Format: FormatYAML},
			{Bot: "shop", Source: []byte("x"), Format: "xml"},
		} {
			if _, err := st.PutBotVersion(ctx, bad); !errors.Is(err, ErrInvalid) {
				t.Fatalf("invalid %q: %v", bad.Format, err)
			}
		}
		if name := t.Name(); name[len(name)-6:] == "memory" {
			return // an in-memory Badger takes values up to 1 MiB
		}
		// A large source (kept in the value log) round-trips.
		large := bytes.Repeat([]byte("# comment line\n"), 200_000)
		v2, err := st.PutBotVersion(ctx, BotVersion{Bot: "shop", Source: large, Format: FormatYAML})
		if err != nil || v2.Version != 6 {
			t.Fatalf("large: %+v %v", v2.Version, err)
		}
		if got, err := st.BotVersion(ctx, "shop", 6); err != nil || !bytes.Equal(got.Source, large) {
			t.Fatalf("large back: %v", err)
		}
	})
}
