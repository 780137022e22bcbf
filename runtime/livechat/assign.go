package livechat

import (
	"context"
	"errors"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/switchboard-bots/switchboard/runtime/access"
	"github.com/switchboard-bots/switchboard/runtime/pipeline"
	"github.com/switchboard-bots/switchboard/runtime/store"
)

// Presence values.
const (
	Online  = "online"
	Away    = "away"
	Offline = "offline"
)

// Agent is an agent's presence and load, as the console shows it.
type Agent struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Presence  string `json:"presence"`
	OpenChats int    `json:"open_chats"`
	Capacity  int    `json:"capacity"`
}

// presence keeps who is online: what each agent chose (online or away) and
// how many console sockets they have open. An agent without an open socket
// is offline unless they set their presence through the API since their
// last socket closed.
type presence struct {
	mu     sync.Mutex
	agents map[string]*agentState
	// next is the round-robin position of each queue ("bot/queue").
	next map[string]int
}

type agentState struct {
	acct    store.Account
	chosen  string
	sockets int
	// viaAPI: the agent set the presence without a socket.
	viaAPI bool
}

func newPresence() *presence {
	return &presence{agents: map[string]*agentState{}, next: map[string]int{}}
}

func (st *agentState) effective() string {
	if st.sockets == 0 && !st.viaAPI {
		return Offline
	}
	return st.chosen
}

// onlineFor counts the agents online who work on bot's queue.
func (p *presence) onlineFor(bot, queue string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, st := range p.agents {
		if st.effective() == Online && canWork(&st.acct, &store.Handover{Bot: bot, Queue: queue}) {
			n++
		}
	}
	return n
}

// SetPresence sets the agent's chosen presence (online, away or offline).
func (s *Service) SetPresence(ctx context.Context, by *access.Principal, value string) (Agent, error) {
	if value != Online && value != Away && value != Offline {
		return Agent{}, errors.New("livechat: presence is online, away or offline")
	}
	if by.Account == "" {
		return Agent{}, ErrForbidden
	}
	acct, err := s.agent(ctx, by.Account)
	if err != nil {
		return Agent{}, err
	}
	p := s.presence
	p.mu.Lock()
	st := p.state(acct)
	st.chosen = value
	st.viaAPI = st.sockets == 0 && value != Offline
	a := s.agentView(st)
	p.mu.Unlock()
	s.presenceChanged(a)
	return a, nil
}

// Connected records an agent's console socket opening; the returned
// function records it closing.
func (s *Service) Connected(ctx context.Context, account string) (closed func()) {
	acct, err := s.agent(ctx, account)
	if err != nil {
		return func() {}
	}
	p := s.presence
	p.mu.Lock()
	st := p.state(acct)
	st.sockets++
	st.viaAPI = false
	a := s.agentView(st)
	p.mu.Unlock()
	s.presenceChanged(a)
	var once sync.Once
	return func() {
		once.Do(func() {
			p.mu.Lock()
			st.sockets--
			a := s.agentView(st)
			p.mu.Unlock()
			s.presenceChanged(a)
		})
	}
}

// state returns the agent's state, refreshing its account; under p.mu.
func (p *presence) state(acct *store.Account) *agentState {
	st, ok := p.agents[acct.ID]
	if !ok {
		st = &agentState{chosen: Online}
		p.agents[acct.ID] = st
	}
	st.acct = *acct
	return st
}

// agentView is st as the console shows it; under p.mu.
func (s *Service) agentView(st *agentState) Agent {
	return Agent{ID: st.acct.ID, Name: displayName(&st.acct), Presence: st.effective(), OpenChats: s.openChats(st.acct.ID), Capacity: st.acct.OpenLimit()}
}

func (s *Service) presenceChanged(a Agent) {
	if s.cfg.OnPresence != nil {
		s.cfg.OnPresence(a)
	}
	if a.Presence == Online {
		s.wake()
	}
}

// Agents lists the agents the principal may see (those sharing a bot with
// it), with their presence and open chats.
func (s *Service) Agents(ctx context.Context, by *access.Principal) ([]Agent, error) {
	accts, err := s.cfg.Store.ListAccounts(ctx)
	if err != nil {
		return nil, err
	}
	p := s.presence
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []Agent
	for _, a := range accts {
		if a.Disabled || !sharesBot(by, a) {
			continue
		}
		st, ok := p.agents[a.ID]
		if !ok {
			st = &agentState{acct: *a, chosen: Offline}
		}
		out = append(out, s.agentView(st))
	}
	return out, nil
}

func sharesBot(by *access.Principal, a *store.Account) bool {
	if !by.Restricted() || a.Role == access.RoleAdmin {
		return true
	}
	for _, b := range a.Bots {
		if by.SeesBot(b) {
			return true
		}
	}
	return false
}

// openChats counts the open handovers assigned to account.
func (s *Service) openChats(account string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, o := range s.open {
		if o.assignee == account {
			n++
		}
	}
	return n
}

// team returns the queue's team, or a team with the defaults for a queue
// without one.
func (s *Service) team(ctx context.Context, queue string) (*store.Team, error) {
	if queue == "" {
		return &store.Team{}, nil
	}
	t, err := s.cfg.Store.Team(ctx, queue)
	if errors.Is(err, store.ErrNotFound) {
		return &store.Team{ID: queue}, nil
	}
	return t, err
}

// pick chooses who gets a new handover by the team's auto-assignment: an
// online agent who works on its queue and has room, by round robin or the
// fewest open chats; "" when the team assigns by hand or nobody can take it.
func (s *Service) pick(h *store.Handover, team *store.Team) string {
	mode := team.Assignment()
	if mode == store.AutoAssignOff {
		return ""
	}
	p := s.presence
	p.mu.Lock()
	var cands []*agentState
	for _, st := range p.agents {
		if st.effective() == Online && canWork(&st.acct, h) {
			cands = append(cands, st)
		}
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].acct.ID < cands[j].acct.ID })
	key := h.Bot + "/" + h.Queue
	start := p.next[key]
	p.mu.Unlock()

	load := s.loads()
	best, bestLoad := "", 0
	for i := range cands {
		st := cands[(start+i)%len(cands)]
		n := load[st.acct.ID]
		if n >= st.acct.OpenLimit() {
			continue
		}
		if mode == store.AutoAssignRoundRobin {
			p.mu.Lock()
			p.next[key] = (start + i + 1) % len(cands)
			p.mu.Unlock()
			return st.acct.ID
		}
		if best == "" || n < bestLoad {
			best, bestLoad = st.acct.ID, n
		}
	}
	return best
}

// loads counts the open handovers of each assignee.
func (s *Service) loads() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := map[string]int{}
	for _, o := range s.open {
		if o.assignee != "" {
			m[o.assignee]++
		}
	}
	return m
}

// wake asks the assigner to look at the queued handovers (an agent came
// online, or a handover was unassigned).
func (s *Service) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// maxPickups bounds the handovers one pass of the assigner hands out.
const maxPickups = 200

// assigner gives queued handovers of auto-assigning teams to agents who
// come online, until stop is closed.
func (s *Service) assigner(stop <-chan struct{}) {
	t := time.NewTicker(30 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-s.kick:
		case <-t.C:
		}
		s.pickUp(stop)
	}
}

// pickUp assigns what waits unassigned in queues that assign automatically.
func (s *Service) pickUp(stop <-chan struct{}) {
	s.mu.Lock()
	var waiting []openInfo
	for _, o := range s.open {
		if o.assignee == "" {
			waiting = append(waiting, o)
		}
	}
	s.mu.Unlock()
	slices.SortFunc(waiting, func(a, b openInfo) int { return a.created.Compare(b.created) })
	for i, o := range waiting {
		select {
		case <-stop:
			return
		default:
		}
		if i == maxPickups {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := s.autoAssign(ctx, o)
		cancel()
		if err != nil && !errors.Is(err, pipeline.ErrClosed) {
			s.cfg.Log.Warn("live chat: assigning a waiting handover", "handover", o.id, "err", err)
		}
	}
}

// autoAssign gives one waiting handover to an agent, if its team assigns
// automatically and someone can take it.
func (s *Service) autoAssign(ctx context.Context, o openInfo) error {
	team, err := s.team(ctx, o.queue)
	if err != nil || team.Assignment() == store.AutoAssignOff {
		return err
	}
	_, err = s.cfg.Pipeline.Do(ctx, o.contact, func(ctx context.Context, tx *pipeline.Tx) error {
		h, err := s.load(ctx, o.id)
		if err != nil {
			return err
		}
		if !store.HandoverOpen(h.Status) || h.Assignee != "" {
			return nil
		}
		id := s.pick(h, team)
		if id == "" {
			return nil // nothing to commit: nobody can take it yet
		}
		acct, err := s.agent(ctx, id)
		if err != nil {
			return err
		}
		tx.Batch.Handovers = append(tx.Batch.Handovers, h)
		s.assign(tx, h, acct, "")
		return nil
	})
	return err
}
