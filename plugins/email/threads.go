package main

import (
	"container/list"
	"sync"

	"github.com/switchboard-bots/switchboard/plugins/internal/mailx"
)

// threadInfo is what a reply to a customer needs to thread under their
// last e-mail: its Message-ID (In-Reply-To), the chain (References) and
// the subject ("Re: …").
type threadInfo struct {
	last    string
	refs    []string
	subject string
}

// threads remembers, per instance and customer address, the last e-mail
// received, for the replies' threading headers and subject.
//
// The runtime passes the message being answered (OutboundMessage.ReplyTo)
// and the thread (OutboundMessage.Thread) when it knows them, and Send
// uses those first; this memory supplies the rest (the full References
// chain, the subject). It lives in the plugin's memory only: after a
// restart, replies carry In-Reply-To and References from ReplyTo and
// Thread alone, and the configured subject until the customer writes
// again. It is bounded (least recently used entries go first).
type threads struct {
	mu    sync.Mutex
	max   int
	order *list.List // of string keys, most recent at the front
	m     map[string]*threadEntry
}

type threadEntry struct {
	info threadInfo
	el   *list.Element
}

func newThreads(max int) *threads {
	return &threads{max: max, order: list.New(), m: map[string]*threadEntry{}}
}

func threadKey(instance, addr string) string { return instance + "\x00" + addr }

func (t *threads) remember(instance, addr string, info threadInfo) {
	if len(info.refs) > maxRefs {
		info.refs = append(info.refs[:1:1], info.refs[len(info.refs)-maxRefs+1:]...)
	}
	k := threadKey(instance, addr)
	t.mu.Lock()
	defer t.mu.Unlock()
	if e, ok := t.m[k]; ok {
		e.info = info
		t.order.MoveToFront(e.el)
		return
	}
	t.m[k] = &threadEntry{info: info, el: t.order.PushFront(k)}
	for t.order.Len() > t.max {
		old := t.order.Back()
		t.order.Remove(old)
		delete(t.m, old.Value.(string))
	}
}

func (t *threads) get(instance, addr string) (threadInfo, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.m[threadKey(instance, addr)]
	if !ok {
		return threadInfo{}, false
	}
	return e.info, true
}

// maxRefs bounds a References header.
const maxRefs = 20

// replyHeaders are the In-Reply-To and References of a reply to addr:
// the runtime's ReplyTo and Thread first, the memory for the chain.
func (t *threads) replyHeaders(instance, addr, replyTo, thread string) (inReplyTo string, refs []string, subject string) {
	replyTo, thread = mailx.NormalizeID(replyTo), mailx.NormalizeID(thread)
	info, ok := t.get(instance, addr)
	if ok {
		subject = info.subject
	}
	switch {
	case ok && (replyTo == "" || replyTo == info.last):
		return info.last, info.refs, subject
	case replyTo != "":
		if thread != "" && thread != replyTo {
			return replyTo, []string{thread, replyTo}, subject
		}
		return replyTo, []string{replyTo}, subject
	case thread != "":
		return thread, []string{thread}, subject
	}
	return "", nil, subject
}
