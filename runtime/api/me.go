package api

import (
	"slices"

	"github.com/valyala/fasthttp"

	"github.com/switchboard-bots/switchboard/runtime/web"
)

// meView is who a request is made by, as GET /me (and the sign-in) shows
// it. For a program (an API token) ID is the account that created the
// token ("" for none) and Name the token's name.
type meView struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email,omitempty"`
	// Role is admin, manager or agent; "" for a program.
	Role string `json:"role,omitempty"`
	// Bots and Teams are the account's; AllBots says they do not narrow
	// what it sees (an admin, a program).
	Bots     []string `json:"bots"`
	Teams    []string `json:"teams"`
	AllBots  bool     `json:"all_bots"`
	Capacity int      `json:"capacity,omitempty"`
	Scopes   []string `json:"scopes"`
	Program  bool     `json:"program"`
}

func viewMe(pr *principal) meView {
	p := pr.p
	_, all := p.BotSet()
	v := meView{ID: p.Account, Name: p.Name, Email: p.Email, Role: p.Role, Bots: orEmpty(p.Bots), Teams: orEmpty(p.Teams),
		AllBots: all, Scopes: orEmpty(p.Scopes), Program: p.Program}
	if pr.acct != nil && !p.Program {
		v.Capacity = pr.acct.OpenLimit()
	}
	return v
}

// getMe answers who the request is made by.
func (a *API) getMe(ctx *fasthttp.RequestCtx) {
	web.JSON(ctx, fasthttp.StatusOK, viewMe(who(ctx)))
}

// orEmpty is s, or an empty slice for nil: a JSON list rather than null.
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// sortedSet is s sorted without repeats (a new slice).
func sortedSet(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}
