package access

import (
	"reflect"
	"slices"
	"testing"
)

func TestAllows(t *testing.T) {
	for _, c := range []struct {
		scopes []string
		need   string
		want   bool
	}{
		{[]string{"read"}, "read", true},
		{[]string{"read"}, "write", false},
		{[]string{"write"}, "read", true},
		{[]string{"write"}, "admin", false},
		{[]string{"admin"}, "write", true},
		{[]string{"read", "admin"}, "admin", true},
		{nil, "read", false},
		{[]string{"root"}, "read", false},
		{[]string{"admin"}, "root", false},
	} {
		if got := Allows(c.scopes, c.need); got != c.want {
			t.Errorf("Allows(%v, %q) = %v", c.scopes, c.need, got)
		}
	}
	for role, want := range map[string][]string{"admin": {"admin"}, "manager": {"write"}, "agent": {"write"}, "owner": nil} {
		if got := RoleScopes(role); !slices.Equal(got, want) {
			t.Errorf("RoleScopes(%q) = %v", role, got)
		}
	}
	if !ValidRole("agent") || ValidRole("Agent") || ValidRole("") || !ValidScope("write") || ValidScope("") {
		t.Error("ValidRole / ValidScope")
	}
}

// TestMatrix asks every question of every kind of principal.
func TestMatrix(t *testing.T) {
	admin := &Principal{Account: "a", Role: RoleAdmin, Scopes: RoleScopes(RoleAdmin)}
	// An admin's bots and teams do not narrow anything.
	adminWithBots := &Principal{Account: "a", Role: RoleAdmin, Bots: []string{"A"}, Scopes: RoleScopes(RoleAdmin)}
	manager := &Principal{Account: "m", Role: RoleManager, Bots: []string{"A"}, Scopes: RoleScopes(RoleManager)}
	agentX := &Principal{Account: "x", Role: RoleAgent, Bots: []string{"A"}, Teams: []string{"x"}, Scopes: RoleScopes(RoleAgent)}
	agentB := &Principal{Account: "b", Role: RoleAgent, Bots: []string{"B"}, Teams: []string{"x", "y"}, Scopes: RoleScopes(RoleAgent)}
	noBots := &Principal{Account: "n", Role: RoleAgent, Teams: []string{"x"}, Scopes: RoleScopes(RoleAgent)}
	oddRole := &Principal{Account: "o", Role: "owner", Bots: []string{"A"}, Scopes: []string{ScopeAdmin}}
	progRead := &Principal{Name: "ci", Program: true, Scopes: []string{ScopeRead}}
	progWrite := &Principal{Name: "crm", Program: true, Scopes: []string{ScopeWrite}}
	progAdmin := &Principal{Name: "ops", Program: true, Scopes: []string{ScopeAdmin}}
	// A program's token tied to an account with a role still acts as a
	// program: its scopes, every bot.
	progOfAgent := &Principal{Account: "x", Role: RoleAgent, Bots: []string{"A"}, Program: true, Scopes: []string{ScopeRead}}
	var nobody *Principal

	type answers struct {
		admin, restricted, assign bool
		botA, botB                bool
		qAx, qAy, qAnone, qBx     bool
		read, write, adminScope   bool
		bots                      []string
		all                       bool
	}
	for _, c := range []struct {
		name string
		p    *Principal
		want answers
	}{
		{"admin", admin, answers{admin: true, assign: true, botA: true, botB: true, qAx: true, qAy: true, qAnone: true, qBx: true, read: true, write: true, adminScope: true, all: true}},
		{"admin with bots", adminWithBots, answers{admin: true, assign: true, botA: true, botB: true, qAx: true, qAy: true, qAnone: true, qBx: true, read: true, write: true, adminScope: true, all: true}},
		{"manager of A", manager, answers{restricted: true, assign: true, botA: true, qAx: true, qAy: true, qAnone: true, read: true, write: true, bots: []string{"A"}}},
		{"agent of A in x", agentX, answers{restricted: true, botA: true, qAx: true, qAnone: true, read: true, write: true, bots: []string{"A"}}},
		{"agent of B", agentB, answers{restricted: true, botB: true, qBx: true, read: true, write: true, bots: []string{"B"}}},
		{"agent without bots", noBots, answers{restricted: true, read: true, write: true}},
		{"unknown role", oddRole, answers{restricted: true, read: true, write: true, adminScope: true}},
		{"read program", progRead, answers{botA: true, botB: true, qAx: true, qAy: true, qAnone: true, qBx: true, read: true, all: true}},
		{"write program", progWrite, answers{assign: true, botA: true, botB: true, qAx: true, qAy: true, qAnone: true, qBx: true, read: true, write: true, all: true}},
		{"admin program", progAdmin, answers{admin: true, assign: true, botA: true, botB: true, qAx: true, qAy: true, qAnone: true, qBx: true, read: true, write: true, adminScope: true, all: true}},
		{"program of an agent", progOfAgent, answers{botA: true, botB: true, qAx: true, qAy: true, qAnone: true, qBx: true, read: true, all: true}},
		{"nobody", nobody, answers{restricted: true}},
	} {
		p := c.p
		bots, all := p.BotSet()
		got := answers{
			admin: p.Admin(), restricted: p.Restricted(), assign: p.CanAssignOthers(),
			botA: p.SeesBot("A"), botB: p.SeesBot("B"),
			qAx: p.SeesQueue("A", "x"), qAy: p.SeesQueue("A", "y"), qAnone: p.SeesQueue("A", ""), qBx: p.SeesQueue("B", "x"),
			read: p.Can(ScopeRead), write: p.Can(ScopeWrite), adminScope: p.Can(ScopeAdmin),
			bots: bots, all: all,
		}
		if !slices.Equal(got.bots, c.want.bots) {
			t.Errorf("%s: bots %v, want %v", c.name, got.bots, c.want.bots)
		}
		got.bots, c.want.bots = nil, nil
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", c.name, got, c.want)
		}
	}
}
