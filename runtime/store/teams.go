package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Teams keeps the teams of agents. A team is a live-chat queue: its ID is
// the queue a LIVE CHAT block (or a bot's settings.queue) names, and the
// agents whose Account.Teams hold it take that queue's handovers.
type Teams interface {
	// PutTeam creates or replaces a team. An ID that is not a valid team
	// id (ValidTeamID) is ErrInvalid.
	PutTeam(ctx context.Context, t *Team) error
	// Team returns the team with id, or ErrNotFound.
	Team(ctx context.Context, id string) (*Team, error)
	// ListTeams returns every team in ID order.
	ListTeams(ctx context.Context) ([]*Team, error)
	// DeleteTeam deletes a team, or returns ErrNotFound. Accounts that
	// name it keep the name (a queue may outlive its team record).
	DeleteTeam(ctx context.Context, id string) error
}

// Auto-assignment modes of a team.
const (
	// AutoAssignOff leaves handovers in the queue until an agent takes
	// one or a manager assigns it.
	AutoAssignOff = "off"
	// AutoAssignRoundRobin hands each new handover to the next online
	// agent with free capacity, in turn.
	AutoAssignRoundRobin = "round_robin"
	// AutoAssignLeastBusy hands each new handover to the online agent
	// with the fewest open chats.
	AutoAssignLeastBusy = "least_busy"
)

// AutoAssignModes lists the auto-assignment modes.
var AutoAssignModes = []string{AutoAssignOff, AutoAssignRoundRobin, AutoAssignLeastBusy}

// DefaultReplyTarget is the reply target of a team that sets none.
const DefaultReplyTarget = 5 * time.Minute

// Team is a team of agents and the queue of handovers it takes.
type Team struct {
	// ID is the queue name: lower-case letters, digits, _ and -, 1 to 64.
	ID   string
	Name string
	// AutoAssign is one of the AutoAssign modes; "" means AutoAssignOff.
	AutoAssign string
	// ReplyTarget is how long a handover may wait for an agent's reply
	// before it is overdue; 0 means DefaultReplyTarget. It is stored in
	// whole seconds.
	ReplyTarget time.Duration
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// teamJSON is Team as stored (and shown by the API): the reply target in
// seconds.
type teamJSON struct {
	ID                 string    `json:"id"`
	Name               string    `json:"name"`
	AutoAssign         string    `json:"auto_assign"`
	ReplyTargetSeconds int64     `json:"reply_target_seconds"`
	CreatedAt          time.Time `json:"created_at"`
	UpdatedAt          time.Time `json:"updated_at"`
}

// MarshalJSON writes the team with snake_case names and its reply target
// in seconds ("reply_target_seconds").
func (t Team) MarshalJSON() ([]byte, error) {
	return json.Marshal(teamJSON{ID: t.ID, Name: t.Name, AutoAssign: t.AutoAssign, ReplyTargetSeconds: int64(t.ReplyTarget / time.Second),
		CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (t *Team) UnmarshalJSON(b []byte) error {
	var j teamJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*t = Team{ID: j.ID, Name: j.Name, AutoAssign: j.AutoAssign, ReplyTarget: time.Duration(j.ReplyTargetSeconds) * time.Second,
		CreatedAt: j.CreatedAt, UpdatedAt: j.UpdatedAt}
	return nil
}

// Assignment is the team's auto-assignment mode, AutoAssignOff when unset.
func (t *Team) Assignment() string {
	if t.AutoAssign == "" {
		return AutoAssignOff
	}
	return t.AutoAssign
}

// Target is the team's reply target, DefaultReplyTarget when unset.
func (t *Team) Target() time.Duration {
	if t.ReplyTarget <= 0 {
		return DefaultReplyTarget
	}
	return t.ReplyTarget
}

var teamIDRe = regexp.MustCompile(`^[a-z0-9_-]{1,64}$`)

// ValidTeamID reports whether id can be a team's (and so a queue's) id.
func ValidTeamID(id string) bool { return teamIDRe.MatchString(id) }

func keyTeam(id string) []byte { return append([]byte(tTeam), id...) }

func (s *badgerStore) PutTeam(ctx context.Context, t *Team) error {
	if t == nil || !ValidTeamID(t.ID) {
		return fmt.Errorf("%w: a team id is 1 to 64 lower-case letters, digits, _ and -", ErrInvalid)
	}
	val, err := json.Marshal(t)
	if err != nil {
		return err
	}
	return s.accountWrite(ctx, func(txn *badger.Txn) error { return txn.Set(keyTeam(t.ID), val) })
}

func (s *badgerStore) Team(ctx context.Context, id string) (*Team, error) {
	var t Team
	if err := s.get(ctx, keyTeam(id), func(v []byte) error { return json.Unmarshal(v, &t) }); err != nil {
		return nil, err
	}
	return &t, nil
}

func (s *badgerStore) ListTeams(ctx context.Context) ([]*Team, error) {
	var out []*Team
	err := s.scan(ctx, []byte(tTeam), func(v []byte) error {
		var t Team
		if err := json.Unmarshal(v, &t); err != nil {
			return err
		}
		out = append(out, &t)
		return nil
	})
	return out, err
}

func (s *badgerStore) DeleteTeam(ctx context.Context, id string) error {
	return s.accountWrite(ctx, func(txn *badger.Txn) error {
		if _, err := txn.Get(keyTeam(id)); err != nil {
			if errors.Is(err, badger.ErrKeyNotFound) {
				return ErrNotFound
			}
			return err
		}
		return txn.Delete(keyTeam(id))
	})
}
