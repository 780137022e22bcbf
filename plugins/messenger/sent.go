package main

import (
	"sync"
	"time"
)

// Bounds of what the plugin remembers of what it sent. It is memory only:
// a restart forgets it, which costs a read receipt or, for a message in
// several parts whose retry comes after the restart, a repeated part.
const (
	maxParts      = 10000 // message parts sent (for retries)
	maxRecipients = 10000 // users with messages awaiting a read receipt
	maxUnread     = 50    // messages awaiting a read receipt per user
)

// sentLog remembers two things the Send API does not:
//
//   - which parts of a message in several parts (an image, then the text)
//     went out, so that a retry after a failed part sends only the rest;
//   - which messages each user was sent and when, because Messenger's read
//     receipts name no message, only a watermark: every message sent
//     before it was read.
type sentLog struct {
	mu     sync.Mutex
	parts  map[string]string
	unread map[string][]sentMsg
}

type sentMsg struct {
	mid string
	at  time.Time
}

func newSentLog() *sentLog {
	return &sentLog{parts: map[string]string{}, unread: map[string][]sentMsg{}}
}

// part returns the mid of a part sent before, or "".
func (l *sentLog) part(key string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.parts[key]
}

// sent records a part that went out: key names the message and the part,
// to the user whose key is user.
func (l *sentLog) sent(key, user, mid string, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	evict(l.parts, maxParts)
	l.parts[key] = mid
	if _, ok := l.unread[user]; !ok {
		evict(l.unread, maxRecipients)
	}
	u := append(l.unread[user], sentMsg{mid, at})
	if len(u) > maxUnread {
		u = u[len(u)-maxUnread:]
	}
	l.unread[user] = u
}

// read returns and forgets the mids sent to user at or before watermark.
func (l *sentLog) read(user string, watermark time.Time) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var mids []string
	var rest []sentMsg
	for _, s := range l.unread[user] {
		if s.at.After(watermark) {
			rest = append(rest, s)
		} else {
			mids = append(mids, s.mid)
		}
	}
	if len(rest) == 0 {
		delete(l.unread, user)
	} else {
		l.unread[user] = rest
	}
	return mids
}

// evict makes room for one more entry, dropping arbitrary ones.
func evict[V any](m map[string]V, limit int) {
	for k := range m {
		if len(m) < limit {
			return
		}
		delete(m, k)
	}
}
