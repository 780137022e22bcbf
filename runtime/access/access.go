// Package access says what a signed-in person or a program may see and do:
// the roles of accounts (admin, manager, agent), the scopes of tokens
// (read, write, admin) and the bots and teams (queues) an account works on.
//
// It has no dependencies of its own, so that the API, the live socket and
// the handover core ask the same Principal the same questions instead of
// each keeping its own copy of the rules.
package access

import "slices"

// Roles of accounts.
const (
	// RoleAdmin can do everything, on every bot.
	RoleAdmin = "admin"
	// RoleManager works on the bots given to it, in all their queues,
	// assigns handovers to others and manages the agents of its bots.
	RoleManager = "manager"
	// RoleAgent works on the bots given to it, in the queues of its teams.
	RoleAgent = "agent"
)

// Roles lists the roles, most powerful first.
var Roles = []string{RoleAdmin, RoleManager, RoleAgent}

// ValidRole reports whether r is one of Roles.
func ValidRole(r string) bool { return slices.Contains(Roles, r) }

// Scopes of tokens. Each implies the ones before it: admin can do what
// write can, write what read can.
const (
	ScopeRead  = "read"
	ScopeWrite = "write"
	ScopeAdmin = "admin"
)

var scopeRank = map[string]int{ScopeRead: 1, ScopeWrite: 2, ScopeAdmin: 3}

// ValidScope reports whether s is a scope.
func ValidScope(s string) bool { return scopeRank[s] > 0 }

// Allows reports whether scopes grant need: one of them is need or
// implies it. An unknown need is granted to no one.
func Allows(scopes []string, need string) bool {
	want := scopeRank[need]
	if want == 0 {
		return false
	}
	for _, s := range scopes {
		if scopeRank[s] >= want {
			return true
		}
	}
	return false
}

// RoleScopes are the scopes a sign-in of an account with role gets: admin
// for admins, write for managers and agents (what they may write is then
// narrowed by their bots and teams), none for an unknown role.
func RoleScopes(role string) []string {
	switch role {
	case RoleAdmin:
		return []string{ScopeAdmin}
	case RoleManager, RoleAgent:
		return []string{ScopeWrite}
	}
	return nil
}

// Principal is who a request is made by: a person signed in with an
// account, or a program with an API token.
//
// A person's rights come from the account's Role, Bots and Teams. A
// program's come from its token's Scopes alone: it is not tied to a role
// and sees every bot, as API tokens always have.
type Principal struct {
	// Account is the account id: the person signed in, or the account
	// that created a program's token ("" for none).
	Account string `json:"account,omitempty"`
	// Name is the person's display name, or the program token's name.
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
	// Role is one of the Role constants; "" for a program.
	Role string `json:"role,omitempty"`
	// Bots are the bot ids a manager or agent works on (ignored for
	// admins and programs).
	Bots []string `json:"bots,omitempty"`
	// Teams are the team ids (queue names) an agent works in.
	Teams []string `json:"teams,omitempty"`
	// Scopes are what the credentials grant (see Allows).
	Scopes []string `json:"scopes,omitempty"`
	// Program is set for an API token: a program, not a person.
	Program bool `json:"program,omitempty"`
}

// Admin reports whether p may do everything: an admin account, or a
// program whose token has the admin scope.
func (p *Principal) Admin() bool {
	if p == nil {
		return false
	}
	if p.Program {
		return p.Can(ScopeAdmin)
	}
	return p.Role == RoleAdmin && p.Can(ScopeAdmin)
}

// Restricted reports whether p sees only some bots: a manager or an agent
// (or an account with an unknown role, which sees none).
func (p *Principal) Restricted() bool { return p == nil || (!p.Program && p.Role != RoleAdmin) }

// SeesBot reports whether p may see bot's contacts, conversations and
// handovers: admins and programs see every bot, managers and agents the
// bots given to them.
func (p *Principal) SeesBot(bot string) bool {
	if p == nil {
		return false
	}
	if !p.Restricted() {
		return true
	}
	if p.Role != RoleManager && p.Role != RoleAgent {
		return false
	}
	return slices.Contains(p.Bots, bot)
}

// SeesQueue reports whether p may see the handovers of bot waiting in
// queue: admins and programs all, managers every queue of their bots,
// agents the queues of their teams on their bots. A handover in no queue
// ("") is seen by everyone who sees its bot.
func (p *Principal) SeesQueue(bot, queue string) bool {
	if !p.SeesBot(bot) {
		return false
	}
	if p.Role != RoleAgent || p.Program {
		return true
	}
	return queue == "" || slices.Contains(p.Teams, queue)
}

// CanAssignOthers reports whether p may assign a handover to someone else
// than itself: admins, managers, and programs with the write scope (a
// routing integration).
func (p *Principal) CanAssignOthers() bool {
	if p == nil {
		return false
	}
	if p.Program {
		return p.Can(ScopeWrite)
	}
	return (p.Role == RoleAdmin || p.Role == RoleManager) && p.Can(ScopeWrite)
}

// Can reports whether p's scopes grant scope.
func (p *Principal) Can(scope string) bool { return p != nil && Allows(p.Scopes, scope) }

// BotSet returns the bots p is limited to, or all = true for a principal
// that sees every bot. A manager or agent without bots gets none and
// false: it sees nothing. Narrow a list with it before reading the list
// rather than filtering afterwards.
func (p *Principal) BotSet() (bots []string, all bool) {
	switch {
	case p == nil:
		return nil, false
	case !p.Restricted():
		return nil, true
	case p.Role != RoleManager && p.Role != RoleAgent:
		return nil, false
	}
	return p.Bots, false
}
