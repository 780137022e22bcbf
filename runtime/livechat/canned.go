package livechat

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/switchboard-bots/switchboard/runtime/access"
	"github.com/switchboard-bots/switchboard/runtime/store"
)

// Bounds of a canned reply.
const (
	maxCannedTitle    = 120
	maxCannedShortcut = 40
)

// CannedReplies lists the canned replies of bot ("" for every bot the
// principal sees) whose title, shortcut or text holds q (any case).
func (s *Service) CannedReplies(ctx context.Context, by *access.Principal, bot, q string) ([]*store.CannedReply, error) {
	if bot != "" && !by.SeesBot(bot) {
		return nil, nil
	}
	all, err := s.cfg.Store.CannedReplies(ctx, bot)
	if err != nil {
		return nil, err
	}
	q = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(q, "/")))
	out := all[:0]
	for _, r := range all {
		if !by.SeesBot(r.Bot) {
			continue
		}
		if q != "" && !strings.Contains(strings.ToLower(r.Title+" "+r.Shortcut+" "+r.Text), q) {
			continue
		}
		out = append(out, r)
	}
	return out, nil
}

// SaveCannedReply creates (empty ID) or changes a canned reply; managers of
// its bot and admins may.
func (s *Service) SaveCannedReply(ctx context.Context, by *access.Principal, r *store.CannedReply) (*store.CannedReply, error) {
	if !by.CanAssignOthers() || !by.SeesBot(r.Bot) {
		return nil, fmt.Errorf("%w: managers of the bot and admins edit canned replies", ErrForbidden)
	}
	r.Title, r.Shortcut = strings.TrimSpace(r.Title), strings.TrimPrefix(strings.TrimSpace(r.Shortcut), "/")
	switch {
	case r.Bot == "":
		return nil, fmt.Errorf("%w: a canned reply needs a bot", ErrInvalid)
	case r.Title == "" || len(r.Title) > maxCannedTitle:
		return nil, fmt.Errorf("%w: the title is 1 to %d bytes", ErrInvalid, maxCannedTitle)
	case len(r.Shortcut) > maxCannedShortcut || strings.ContainsAny(r.Shortcut, " \t\n"):
		return nil, fmt.Errorf("%w: the shortcut is one word of at most %d bytes", ErrInvalid, maxCannedShortcut)
	case r.Text == "" && r.ImageURL == "":
		return nil, fmt.Errorf("%w: a canned reply needs a text or an image", ErrInvalid)
	case len(r.Text) > MaxText:
		return nil, fmt.Errorf("%w: the text is longer than %d bytes", ErrInvalid, MaxText)
	case (r.ButtonURL != "") != (r.ButtonTitle != "") || (r.ButtonURL != "" && !webURL(r.ButtonURL)):
		return nil, fmt.Errorf("%w: a link button needs a title and an http(s) URL", ErrInvalid)
	case r.ImageURL != "" && !webURL(r.ImageURL):
		return nil, fmt.Errorf("%w: the image must be an http(s) URL", ErrInvalid)
	}
	now := s.cfg.Now()
	s.cannedMu.Lock()
	defer s.cannedMu.Unlock()
	if r.ID == "" {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		r.ID, r.CreatedAt, r.Sent = "cr_"+hex.EncodeToString(b), now, 0
	} else {
		old, err := s.cfg.Store.CannedReply(ctx, r.ID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && !by.SeesBot(old.Bot)) {
			return nil, ErrNotFound
		}
		if err != nil {
			return nil, err
		}
		r.CreatedAt, r.Sent = old.CreatedAt, old.Sent
	}
	r.UpdatedAt = now
	if err := s.cfg.Store.PutCannedReply(ctx, r); err != nil {
		return nil, err
	}
	return r, nil
}

// DeleteCannedReply deletes a canned reply.
func (s *Service) DeleteCannedReply(ctx context.Context, by *access.Principal, id string) error {
	r, err := s.cfg.Store.CannedReply(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !by.SeesBot(r.Bot)) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	if !by.CanAssignOthers() {
		return fmt.Errorf("%w: managers of the bot and admins edit canned replies", ErrForbidden)
	}
	return s.cfg.Store.DeleteCannedReply(ctx, id)
}

// countCanned counts one more sending of a canned reply. The count is a
// statistic: a failure is logged, not returned.
func (s *Service) countCanned(ctx context.Context, id string) {
	s.cannedMu.Lock()
	defer s.cannedMu.Unlock()
	r, err := s.cfg.Store.CannedReply(ctx, id)
	if err == nil {
		r.Sent++
		err = s.cfg.Store.PutCannedReply(ctx, r)
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.cfg.Log.Warn("live chat: counting a canned reply", "canned_reply", id, "err", err)
	}
}
