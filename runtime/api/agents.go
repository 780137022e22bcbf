package api

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/fasthttp/router"
	"github.com/valyala/fasthttp"

	"github.com/switchboard-bots/switchboard/runtime/access"
	"github.com/switchboard-bots/switchboard/runtime/store"
	"github.com/switchboard-bots/switchboard/runtime/web"
)

// Agents, roles and teams: the accounts of the people who work in the
// console, and the teams (queues) they take handovers from.
//
// Who may do what with accounts:
//   - an admin (or a program with the admin scope): everything;
//   - a manager: sees the accounts that share one of its bots; creates
//     agents, giving them only bots it has itself; changes and deletes the
//     agents all of whose bots it has;
//   - an agent: sees the accounts that share one of its bots;
//   - everyone: changes their own name and password (with the current
//     one).
//
// An account cannot disable, demote or delete itself, and the last enabled
// admin cannot be disabled, demoted or deleted (409), so that the server
// always keeps someone who can manage it.

// mountAccounts adds the routes of /me, /agents and /teams.
func (a *API) mountAccounts(g *router.Group) {
	g.GET("/me", a.auth(scopeRead, a.getMe))

	g.GET("/agents", a.auth(scopeRead, a.listAgents))
	g.POST("/agents", a.auth(scopeWrite, a.createAgent))
	g.GET("/agents/{id}", a.auth(scopeRead, a.getAgent))
	g.PATCH("/agents/{id}", a.auth(scopeWrite, a.patchAgent))
	g.DELETE("/agents/{id}", a.auth(scopeWrite, a.deleteAgent))

	g.GET("/teams", a.auth(scopeRead, a.listTeams))
	g.POST("/teams", a.auth(scopeAdmin, a.createTeam))
	g.GET("/teams/{id}", a.auth(scopeRead, a.getTeam))
	g.PATCH("/teams/{id}", a.auth(scopeAdmin, a.patchTeam))
	g.DELETE("/teams/{id}", a.auth(scopeAdmin, a.deleteTeam))
}

// agentView is an account as the API shows it: never its password hash.
type agentView struct {
	ID    string   `json:"id"`
	Email string   `json:"email"`
	Name  string   `json:"name"`
	Role  string   `json:"role"`
	Bots  []string `json:"bots"`
	Teams []string `json:"teams"`
	// Capacity is the most open chats at once (the default when unset).
	Capacity  int       `json:"capacity"`
	Disabled  bool      `json:"disabled"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// Password is a generated one-time password, in the answer that
	// creates the account only.
	Password string `json:"password,omitempty"`
}

func viewAgent(acct *store.Account) agentView {
	return agentView{ID: acct.ID, Email: acct.Email, Name: acct.Name, Role: acct.Role, Bots: orEmpty(acct.Bots), Teams: orEmpty(acct.Teams),
		Capacity: acct.OpenLimit(), Disabled: acct.Disabled, CreatedAt: acct.CreatedAt, UpdatedAt: acct.UpdatedAt}
}

// Bounds of account fields.
const (
	minPasswordLen = 10
	maxNameLen     = 200
	maxEmailLen    = 320
	maxAccountBots = 200
	maxAccountTeam = 200
	maxCapacity    = 1000
)

var roleRank = map[string]int{access.RoleAgent: 1, access.RoleManager: 2, access.RoleAdmin: 3}

// seesAccount reports whether p may see acct: all of them for those who
// see every bot, else itself and the managers and agents that share one
// of its bots.
func seesAccount(p *access.Principal, acct *store.Account) bool {
	bots, all := p.BotSet()
	switch {
	case all:
		return true
	case !p.Program && acct.ID == p.Account:
		return true
	case acct.Role == access.RoleAdmin:
		return false
	}
	for _, b := range acct.Bots {
		if slices.Contains(bots, b) {
			return true
		}
	}
	return false
}

// managesAccount reports whether p may change acct beyond its name and
// password, or delete it: an admin any account, a manager an agent all of
// whose bots it has (not itself).
func managesAccount(p *access.Principal, acct *store.Account) bool {
	if p.Admin() {
		return true
	}
	if p.Program || p.Role != access.RoleManager || acct.Role != access.RoleAgent || acct.ID == p.Account {
		return false
	}
	for _, b := range acct.Bots {
		if !slices.Contains(p.Bots, b) {
			return false
		}
	}
	return true
}

func validEmail(e string) bool {
	if len(e) < 3 || len(e) > maxEmailLen || strings.Count(e, "@") != 1 || strings.HasPrefix(e, "@") || strings.HasSuffix(e, "@") {
		return false
	}
	return !strings.ContainsFunc(e, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) })
}

// checkPassword answers 400 for a password too short or too long.
func checkNewPassword(ctx *fasthttp.RequestCtx, pw string) bool {
	if utf8.RuneCountInString(pw) < minPasswordLen || len(pw) > maxPasswordLen {
		web.Error(ctx, fasthttp.StatusBadRequest, "weak_password", fmt.Sprintf("a password is %d to %d characters", minPasswordLen, maxPasswordLen), map[string]any{"min": minPasswordLen})
		return false
	}
	return true
}

// checkName trims a display name and answers 400 for one too long.
func checkName(ctx *fasthttp.RequestCtx, name *string) bool {
	*name = strings.TrimSpace(*name)
	if len(*name) > maxNameLen || strings.ContainsFunc(*name, unicode.IsControl) {
		web.Error(ctx, fasthttp.StatusBadRequest, "invalid_name", fmt.Sprintf(`"name" is at most %d bytes, without control characters`, maxNameLen), nil)
		return false
	}
	return true
}

// checkRole answers 400 for an unknown role and 403 for a role p may not
// give (a manager gives the agent role only).
func checkRole(ctx *fasthttp.RequestCtx, p *access.Principal, role string) bool {
	if !access.ValidRole(role) {
		web.Error(ctx, fasthttp.StatusBadRequest, "invalid_role", `"role" is admin, manager or agent`, map[string]any{"role": role})
		return false
	}
	if !p.Admin() && role != access.RoleAgent {
		web.Error(ctx, fasthttp.StatusForbidden, "forbidden", "only an admin makes admins and managers", map[string]any{"role": role})
		return false
	}
	return true
}

// checkBots validates the bots given to an account, sorted and without
// repeats; p may give only bots it has itself, unless it is an admin.
// Bots need not run yet: an account can be prepared for a bot to come.
func checkBots(ctx *fasthttp.RequestCtx, p *access.Principal, bots []string) ([]string, bool) {
	bots = sortedSet(bots)
	if !p.Admin() && len(bots) == 0 {
		// Else the agent would drop out of the manager's sight.
		web.Error(ctx, fasthttp.StatusBadRequest, "invalid_bots", `a manager gives its agents one or more of its own bots ("bots")`, nil)
		return nil, false
	}
	if len(bots) > maxAccountBots {
		web.Error(ctx, fasthttp.StatusBadRequest, "invalid_bots", fmt.Sprintf("an account has at most %d bots", maxAccountBots), nil)
		return nil, false
	}
	for _, b := range bots {
		if !botIDRe.MatchString(b) {
			web.Error(ctx, fasthttp.StatusBadRequest, "invalid_bots", "a bot id is lower-case letters, digits, - and _ (at most 64)", map[string]any{"bot": b})
			return nil, false
		}
		if !p.Admin() && !slices.Contains(p.Bots, b) {
			web.Error(ctx, fasthttp.StatusForbidden, "not_your_bot", "a manager gives only the bots it works on itself", map[string]any{"bot": b})
			return nil, false
		}
	}
	return bots, true
}

// checkTeams validates the teams given to an account, sorted and without
// repeats: each must exist, unless the account has it already (a team
// deleted since stays on its accounts).
func (a *API) checkTeams(ctx *fasthttp.RequestCtx, rctx context.Context, teams, had []string) ([]string, bool) {
	teams = sortedSet(teams)
	if len(teams) > maxAccountTeam {
		web.Error(ctx, fasthttp.StatusBadRequest, "invalid_teams", fmt.Sprintf("an account is in at most %d teams", maxAccountTeam), nil)
		return nil, false
	}
	for _, t := range teams {
		if slices.Contains(had, t) {
			continue
		}
		_, err := a.cfg.Store.Team(rctx, t)
		switch {
		case errors.Is(err, store.ErrNotFound):
			web.Error(ctx, fasthttp.StatusUnprocessableEntity, "unknown_team", "no team "+t+": create it first (POST /api/v1/teams)", map[string]any{"team": t})
			return nil, false
		case err != nil:
			a.internal(ctx, "reading the team", err)
			return nil, false
		}
	}
	return teams, true
}

func checkCapacity(ctx *fasthttp.RequestCtx, n int) bool {
	if n < 0 || n > maxCapacity {
		web.Error(ctx, fasthttp.StatusBadRequest, "invalid_capacity", fmt.Sprintf(`"capacity" is 0 (the default, %d) to %d open chats`, store.DefaultCapacity, maxCapacity), nil)
		return false
	}
	return true
}

// listAgents lists the accounts the caller may see, in ID order;
// role, bot and team narrow the list.
func (a *API) listAgents(ctx *fasthttp.RequestCtx) {
	p := PrincipalOf(ctx)
	args := ctx.QueryArgs()
	role, bot, team := string(args.Peek("role")), string(args.Peek("bot")), string(args.Peek("team"))
	rctx, cancel := a.reqCtx()
	defer cancel()
	accts, err := a.cfg.Store.ListAccounts(rctx)
	if err != nil {
		a.internal(ctx, "listing agents", err)
		return
	}
	out := []agentView{}
	for _, acct := range accts {
		if !seesAccount(p, acct) || (role != "" && acct.Role != role) || (bot != "" && !slices.Contains(acct.Bots, bot)) || (team != "" && !slices.Contains(acct.Teams, team)) {
			continue
		}
		out = append(out, viewAgent(acct))
	}
	web.JSON(ctx, fasthttp.StatusOK, map[string]any{"agents": out})
}

// loadAgent reads the account of the path, answering 404 for one that
// does not exist or that p may not see (the same answer: an account of
// another bot is not shown to exist).
func (a *API) loadAgent(ctx *fasthttp.RequestCtx, rctx context.Context, p *access.Principal) *store.Account {
	acct, err := a.cfg.Store.Account(rctx, pathID(ctx))
	switch {
	case errors.Is(err, store.ErrNotFound) || (err == nil && !seesAccount(p, acct)):
		web.Error(ctx, fasthttp.StatusNotFound, "unknown_agent", "no agent "+pathID(ctx), nil)
		return nil
	case err != nil:
		a.internal(ctx, "reading the agent", err)
		return nil
	}
	return acct
}

func (a *API) getAgent(ctx *fasthttp.RequestCtx) {
	rctx, cancel := a.reqCtx()
	defer cancel()
	if acct := a.loadAgent(ctx, rctx, PrincipalOf(ctx)); acct != nil {
		web.JSON(ctx, fasthttp.StatusOK, viewAgent(acct))
	}
}

// createAgentRequest is the body of POST /agents. Role defaults to agent;
// without a password a one-time password is generated and answered once.
type createAgentRequest struct {
	Email    string   `json:"email"`
	Name     string   `json:"name"`
	Role     string   `json:"role"`
	Bots     []string `json:"bots"`
	Teams    []string `json:"teams"`
	Capacity int      `json:"capacity"`
	Password string   `json:"password"`
}

func (a *API) createAgent(ctx *fasthttp.RequestCtx) {
	p := PrincipalOf(ctx)
	if !p.Admin() && (p.Program || p.Role != access.RoleManager) {
		web.Error(ctx, fasthttp.StatusForbidden, "forbidden", "only admins and managers create agents", nil)
		return
	}
	var req createAgentRequest
	if !a.decode(ctx, &req) {
		return
	}
	req.Email = strings.TrimSpace(req.Email)
	if !validEmail(req.Email) {
		web.Error(ctx, fasthttp.StatusBadRequest, "invalid_email", `"email" is required: the address the agent signs in with`, map[string]any{"email": req.Email})
		return
	}
	if req.Role == "" {
		req.Role = access.RoleAgent
	}
	if !checkName(ctx, &req.Name) || !checkRole(ctx, p, req.Role) || !checkCapacity(ctx, req.Capacity) {
		return
	}
	if req.Name == "" {
		req.Name, _, _ = strings.Cut(req.Email, "@")
	}
	bots, ok := checkBots(ctx, p, req.Bots)
	if !ok {
		return
	}
	generated := req.Password == ""
	if generated {
		req.Password = randomString(12)
	} else if !checkNewPassword(ctx, req.Password) {
		return
	}
	rctx, cancel := a.reqCtx()
	defer cancel()
	teams, ok := a.checkTeams(ctx, rctx, req.Teams, nil)
	if !ok {
		return
	}
	hash, err := HashPassword(req.Password)
	if err != nil {
		a.internal(ctx, "hashing the password", err)
		return
	}
	now := a.cfg.Now().UTC()
	acct := &store.Account{ID: "acc_" + randomString(12), Email: req.Email, Name: req.Name, PasswordHash: hash, Role: req.Role,
		Bots: bots, Teams: teams, Capacity: req.Capacity, CreatedAt: now, UpdatedAt: now}
	a.acctMu.Lock()
	err = a.cfg.Store.PutAccount(rctx, acct)
	a.acctMu.Unlock()
	switch {
	case errors.Is(err, store.ErrExists):
		web.Error(ctx, fasthttp.StatusConflict, "email_taken", "another account signs in with "+req.Email, map[string]any{"email": req.Email})
		return
	case err != nil:
		a.internal(ctx, "creating the agent", err)
		return
	}
	v := viewAgent(acct)
	if generated {
		v.Password = req.Password
	}
	ctx.Response.Header.Set("Location", Prefix+"/agents/"+acct.ID)
	web.JSON(ctx, fasthttp.StatusCreated, v)
}

// patchAgentRequest changes an account: the fields present are changed.
// CurrentPassword is needed to change one's own password.
type patchAgentRequest struct {
	Name            *string   `json:"name"`
	Role            *string   `json:"role"`
	Bots            *[]string `json:"bots"`
	Teams           *[]string `json:"teams"`
	Capacity        *int      `json:"capacity"`
	Disabled        *bool     `json:"disabled"`
	Password        *string   `json:"password"`
	CurrentPassword *string   `json:"current_password"`
}

func (a *API) patchAgent(ctx *fasthttp.RequestCtx) {
	var req patchAgentRequest
	if !a.decode(ctx, &req) {
		return
	}
	pr := who(ctx)
	p := pr.p
	// Serialized with the other account writes, so that two requests
	// cannot each leave the other the last admin and both go ahead.
	a.acctMu.Lock()
	defer a.acctMu.Unlock()
	rctx, cancel := a.reqCtx()
	defer cancel()
	acct := a.loadAgent(ctx, rctx, p)
	if acct == nil {
		return
	}
	self := !p.Program && acct.ID == p.Account
	if !managesAccount(p, acct) {
		if !self {
			web.Error(ctx, fasthttp.StatusForbidden, "forbidden", "only an admin, or a manager of all of the agent's bots, changes this account", nil)
			return
		}
		if req.Role != nil || req.Bots != nil || req.Teams != nil || req.Capacity != nil || req.Disabled != nil {
			web.Error(ctx, fasthttp.StatusForbidden, "forbidden", "you change your own name and password; ask an admin for the rest", nil)
			return
		}
	}
	next := *acct
	if req.Name != nil {
		if !checkName(ctx, req.Name) {
			return
		}
		next.Name = *req.Name
	}
	if req.Role != nil {
		if !checkRole(ctx, p, *req.Role) {
			return
		}
		next.Role = *req.Role
	}
	if req.Bots != nil {
		bots, ok := checkBots(ctx, p, *req.Bots)
		if !ok {
			return
		}
		next.Bots = bots
	}
	if req.Teams != nil {
		teams, ok := a.checkTeams(ctx, rctx, *req.Teams, acct.Teams)
		if !ok {
			return
		}
		next.Teams = teams
	}
	if req.Capacity != nil {
		if !checkCapacity(ctx, *req.Capacity) {
			return
		}
		next.Capacity = *req.Capacity
	}
	if req.Disabled != nil {
		next.Disabled = *req.Disabled
	}
	if req.Password != nil {
		if !checkNewPassword(ctx, *req.Password) {
			return
		}
		if self && (req.CurrentPassword == nil || !CheckPassword(acct.PasswordHash, *req.CurrentPassword)) {
			web.Error(ctx, fasthttp.StatusForbidden, "wrong_password", `changing your own password needs "current_password"`, nil)
			return
		}
		hash, err := HashPassword(*req.Password)
		if err != nil {
			a.internal(ctx, "hashing the password", err)
			return
		}
		next.PasswordHash = hash
	} else if req.CurrentPassword != nil {
		web.Error(ctx, fasthttp.StatusBadRequest, "invalid_request", `"current_password" goes with "password"`, nil)
		return
	}
	demoted := roleRank[next.Role] < roleRank[acct.Role]
	if self && (demoted || (next.Disabled && !acct.Disabled)) {
		web.Error(ctx, fasthttp.StatusConflict, "cannot_change_self", "an account cannot disable or demote itself: ask another admin", nil)
		return
	}
	if acct.Role == access.RoleAdmin && !acct.Disabled && (next.Role != access.RoleAdmin || next.Disabled) && !a.otherAdmin(ctx, rctx, acct.ID) {
		return
	}
	next.UpdatedAt = a.cfg.Now().UTC()
	if err := a.cfg.Store.PutAccount(rctx, &next); err != nil {
		a.internal(ctx, "changing the agent", err)
		return
	}
	// A new password ends the account's other sign-ins. A disabled
	// account's tokens are refused (401 account_disabled) while it is.
	if next.PasswordHash != acct.PasswordHash {
		if err := a.endSessions(rctx, acct.ID, pr.token.ID); err != nil {
			a.internal(ctx, "ending the agent's sessions", err)
			return
		}
	}
	web.JSON(ctx, fasthttp.StatusOK, viewAgent(&next))
}

// otherAdmin reports whether an enabled admin other than id exists;
// when none does it answers 409 last_admin.
func (a *API) otherAdmin(ctx *fasthttp.RequestCtx, rctx context.Context, id string) bool {
	accts, err := a.cfg.Store.ListAccounts(rctx)
	if err != nil {
		a.internal(ctx, "counting the admins", err)
		return false
	}
	for _, o := range accts {
		if o.ID != id && o.Role == access.RoleAdmin && !o.Disabled {
			return true
		}
	}
	web.Error(ctx, fasthttp.StatusConflict, "last_admin", "this is the last enabled admin: make another admin first", nil)
	return false
}

// endSessions revokes the sign-in tokens of an account but keep.
func (a *API) endSessions(rctx context.Context, account, keep string) error {
	ts, err := a.cfg.Store.ListTokens(rctx)
	if err != nil {
		return err
	}
	for _, t := range ts {
		if t.Kind == store.TokenSession && t.Account == account && t.ID != keep {
			if err := a.cfg.Store.DeleteToken(rctx, t.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
	}
	return nil
}

// deleteAgent deletes an account and every token it signed in with or
// created.
func (a *API) deleteAgent(ctx *fasthttp.RequestCtx) {
	p := PrincipalOf(ctx)
	a.acctMu.Lock()
	defer a.acctMu.Unlock()
	rctx, cancel := a.reqCtx()
	defer cancel()
	acct := a.loadAgent(ctx, rctx, p)
	if acct == nil {
		return
	}
	switch {
	case !p.Program && acct.ID == p.Account:
		web.Error(ctx, fasthttp.StatusConflict, "cannot_change_self", "an account cannot delete itself: ask another admin", nil)
		return
	case !managesAccount(p, acct):
		web.Error(ctx, fasthttp.StatusForbidden, "forbidden", "only an admin, or a manager of all of the agent's bots, deletes this account", nil)
		return
	case acct.Role == access.RoleAdmin && !acct.Disabled && !a.otherAdmin(ctx, rctx, acct.ID):
		return
	}
	err := a.cfg.Store.DeleteAccount(rctx, acct.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		web.Error(ctx, fasthttp.StatusNotFound, "unknown_agent", "no agent "+acct.ID, nil)
	case err != nil:
		a.internal(ctx, "deleting the agent", err)
	default:
		ctx.SetStatusCode(fasthttp.StatusNoContent)
	}
}
