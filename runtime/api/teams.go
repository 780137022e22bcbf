package api

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/switchboard-bots/switchboard/runtime/store"
	"github.com/switchboard-bots/switchboard/runtime/web"
)

// Teams are the live-chat queues: a team's id is the queue a LIVE CHAT
// block names. Everyone signed in reads them; admins write them.

// maxReplyTarget bounds a team's reply target: a week.
const maxReplyTarget = 7 * 24 * time.Hour

// teamRequest is the body of POST /teams (ID required) and PATCH
// /teams/{id} (no ID; the fields present are changed).
type teamRequest struct {
	ID                 *string `json:"id"`
	Name               *string `json:"name"`
	AutoAssign         *string `json:"auto_assign"`
	ReplyTargetSeconds *int64  `json:"reply_target_seconds"`
}

// apply changes t as the request says, answering 400 for a bad field.
func (req *teamRequest) apply(ctx *fasthttp.RequestCtx, t *store.Team) bool {
	if req.Name != nil {
		if !checkName(ctx, req.Name) {
			return false
		}
		t.Name = *req.Name
	}
	if req.AutoAssign != nil {
		if !slices.Contains(store.AutoAssignModes, *req.AutoAssign) {
			web.Error(ctx, fasthttp.StatusBadRequest, "invalid_auto_assign", `"auto_assign" is `+strings.Join(store.AutoAssignModes, ", "), map[string]any{"auto_assign": *req.AutoAssign})
			return false
		}
		t.AutoAssign = *req.AutoAssign
	}
	if req.ReplyTargetSeconds != nil {
		s := *req.ReplyTargetSeconds
		if s < 0 || s > int64(maxReplyTarget/time.Second) {
			web.Error(ctx, fasthttp.StatusBadRequest, "invalid_reply_target", fmt.Sprintf(`"reply_target_seconds" is 0 (the default, %d) to %d`, int64(store.DefaultReplyTarget/time.Second), int64(maxReplyTarget/time.Second)), nil)
			return false
		}
		t.ReplyTarget = time.Duration(s) * time.Second
	}
	// Stored as in effect, so that readers need not know the defaults.
	t.AutoAssign, t.ReplyTarget = t.Assignment(), t.Target()
	if t.Name == "" {
		t.Name = t.ID
	}
	return true
}

func (a *API) listTeams(ctx *fasthttp.RequestCtx) {
	rctx, cancel := a.reqCtx()
	defer cancel()
	ts, err := a.cfg.Store.ListTeams(rctx)
	if err != nil {
		a.internal(ctx, "listing teams", err)
		return
	}
	web.JSON(ctx, fasthttp.StatusOK, map[string]any{"teams": orEmpty(ts)})
}

// loadTeam reads the team of the path, or answers 404.
func (a *API) loadTeam(ctx *fasthttp.RequestCtx) *store.Team {
	rctx, cancel := a.reqCtx()
	defer cancel()
	t, err := a.cfg.Store.Team(rctx, pathID(ctx))
	switch {
	case errors.Is(err, store.ErrNotFound):
		web.Error(ctx, fasthttp.StatusNotFound, "unknown_team", "no team "+pathID(ctx), nil)
		return nil
	case err != nil:
		a.internal(ctx, "reading the team", err)
		return nil
	}
	return t
}

func (a *API) getTeam(ctx *fasthttp.RequestCtx) {
	if t := a.loadTeam(ctx); t != nil {
		web.JSON(ctx, fasthttp.StatusOK, t)
	}
}

func (a *API) createTeam(ctx *fasthttp.RequestCtx) {
	var req teamRequest
	if !a.decode(ctx, &req) {
		return
	}
	if req.ID == nil || !store.ValidTeamID(*req.ID) {
		web.Error(ctx, fasthttp.StatusBadRequest, "invalid_id", `"id" is required: the queue name bots use, 1 to 64 lower-case letters, digits, _ and -`, nil)
		return
	}
	now := a.cfg.Now().UTC()
	t := &store.Team{ID: *req.ID, CreatedAt: now, UpdatedAt: now}
	if !req.apply(ctx, t) {
		return
	}
	a.acctMu.Lock()
	defer a.acctMu.Unlock()
	rctx, cancel := a.reqCtx()
	defer cancel()
	_, err := a.cfg.Store.Team(rctx, t.ID)
	switch {
	case err == nil:
		web.Error(ctx, fasthttp.StatusConflict, "team_exists", "there is a team "+t.ID+" already", map[string]any{"id": t.ID})
		return
	case !errors.Is(err, store.ErrNotFound):
		a.internal(ctx, "creating the team", err)
		return
	}
	if err := a.cfg.Store.PutTeam(rctx, t); err != nil {
		a.internal(ctx, "creating the team", err)
		return
	}
	ctx.Response.Header.Set("Location", Prefix+"/teams/"+t.ID)
	web.JSON(ctx, fasthttp.StatusCreated, t)
}

func (a *API) patchTeam(ctx *fasthttp.RequestCtx) {
	var req teamRequest
	if !a.decode(ctx, &req) {
		return
	}
	if req.ID != nil && *req.ID != pathID(ctx) {
		web.Error(ctx, fasthttp.StatusBadRequest, "invalid_id", "a team's id cannot change: it is the queue name bots use", nil)
		return
	}
	a.acctMu.Lock()
	defer a.acctMu.Unlock()
	t := a.loadTeam(ctx)
	if t == nil || !req.apply(ctx, t) {
		return
	}
	t.UpdatedAt = a.cfg.Now().UTC()
	rctx, cancel := a.reqCtx()
	defer cancel()
	if err := a.cfg.Store.PutTeam(rctx, t); err != nil {
		a.internal(ctx, "changing the team", err)
		return
	}
	web.JSON(ctx, fasthttp.StatusOK, t)
}

// deleteTeam deletes a team record. Agents keep the team in their list,
// and handovers in its queue stay where they are: the queue is a name.
func (a *API) deleteTeam(ctx *fasthttp.RequestCtx) {
	rctx, cancel := a.reqCtx()
	defer cancel()
	err := a.cfg.Store.DeleteTeam(rctx, pathID(ctx))
	switch {
	case errors.Is(err, store.ErrNotFound):
		web.Error(ctx, fasthttp.StatusNotFound, "unknown_team", "no team "+pathID(ctx), nil)
	case err != nil:
		a.internal(ctx, "deleting the team", err)
	default:
		ctx.SetStatusCode(fasthttp.StatusNoContent)
	}
}
