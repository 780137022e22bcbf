package livechat

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/runtime/store"
)

// Notice is what a notification webhook receives (POST, JSON) when a
// handover waits with no agent online or longer than the bot's
// NotifyAfter.
type Notice struct {
	Event    string    `json:"event"` // "handover_waiting"
	Reason   string    `json:"reason"`
	Handover string    `json:"handover"`
	Bot      string    `json:"bot"`
	Queue    string    `json:"queue,omitempty"`
	Contact  string    `json:"contact"`
	Name     string    `json:"name,omitempty"`
	Channel  string    `json:"channel"`
	Message  string    `json:"message,omitempty"`
	Since    time.Time `json:"since"`
}

func notice(h *store.Handover, c *flows.Contact, reason string) Notice {
	return Notice{Event: "handover_waiting", Reason: reason, Handover: h.ID, Bot: h.Bot, Queue: h.Queue,
		Contact: h.Contact, Name: c.Name, Channel: h.Channel, Message: h.Message, Since: h.CreatedAt}
}

// notifier posts notices to webhooks from one goroutine, so that a slow
// endpoint never holds up a conversation. Its queue is bounded: when it is
// full, a notice is dropped and logged.
type notifier struct {
	http *http.Client
	log  *slog.Logger
	q    chan delivery
}

type delivery struct {
	url    string
	notice Notice
}

const (
	notifyQueue   = 256
	notifyTimeout = 10 * time.Second
)

func newNotifier(c *http.Client, log *slog.Logger) *notifier {
	return &notifier{http: c, log: log, q: make(chan delivery, notifyQueue)}
}

// send queues a notice for url ("" sends nothing).
func (n *notifier) send(url string, notice Notice) {
	if url == "" {
		return
	}
	select {
	case n.q <- delivery{url, notice}:
	default:
		n.log.Warn("live chat: notification dropped, the queue is full", "handover", notice.Handover)
	}
}

func (n *notifier) run(stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		case d := <-n.q:
			n.post(d)
		}
	}
}

func (n *notifier) post(d delivery) {
	body, err := json.Marshal(d.notice)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), notifyTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.url, bytes.NewReader(body))
	if err != nil {
		n.log.Warn("live chat: bad notification webhook", "url", d.url, "err", err)
		return
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := n.http.Do(req)
	if err != nil {
		n.log.Warn("live chat: notification failed", "handover", d.notice.Handover, "err", err)
		return
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		n.log.Warn("live chat: notification refused", "handover", d.notice.Handover, "status", resp.StatusCode)
	}
}

// waiting tells that a handover waits: the bot's live-chat webhook (url)
// and the bot's notify targets (as handover_waiting). A handover is told
// to wait at most once per occasion ("created", or the timer's name), which
// with the handover makes the notification's identity.
func (s *Service) waiting(url string, n Notice, occasion string) {
	s.notify.send(url, n)
	if s.cfg.Notify != nil {
		s.cfg.Notify(n.Bot, "handover_waiting", map[string]any{
			"reason": n.Reason, "handover": n.Handover, "queue": n.Queue, "name": n.Name, "message": n.Message, "since": n.Since.Format(time.RFC3339),
		}, flows.ActionCaller{Bot: n.Bot, Contact: n.Contact, Channel: n.Channel, ID: n.Handover + "/waiting/" + occasion})
	}
}
