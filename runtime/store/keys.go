package store

import (
	"encoding/binary"
	"errors"
	"time"
)

// Key layout of the Badger store. Every key starts with a one-letter table
// and a slash; "lp" is a uvarint length followed by the bytes, used for every
// component but the last, so that an ID can never be mistaken for the prefix
// of another and prefix scans stay exact. Integers are 8-byte big-endian so
// that byte order is numeric order.
//
//	c/{contact id}                       contact, flows.MarshalContact
//	x/{lp bot}{lp channel}{external id}  contact id: lookup by channel identity
//	b/{lp bot}{contact id}               empty: a bot's contacts in ID order
//	s/{contact id}                       {0x01 or 0x02}{uvarint last message Seq}{timer list}{session, flows.AppendSession}
//	q/{contact id}                       last message Seq of the contact, where s/ does not hold it
//	m/{lp contact id}{seq}               message, appendMessage
//	t/{due}{timer id}                    timer, flows.AppendTimer
//	t/{due}{0x00}{contact id}            empty: the contact's wake, for its waits' timers
//	f/{contact id}                       {timer list}: the contact's timers, while it has no session
//	d/{dedup key}                        empty: Seen (with an optional TTL)
//	o/{due}{lp contact id}{seq}          empty: the outbox, queued outbound messages by next attempt
//	e/{lp channel}{external id}          {lp contact id}{seq}: outbound message by channel id
//	u/{account id}                       account, JSON (accounts.go)
//	n/{lower-case email}                 account id: sign-in lookup by email
//	y/{token id}                         API or session token, JSON, with the SHA-256 of its secret
//	h/{sha-256 of the token}             token id: bearer lookup (y/ and h/ of an expiring token carry a Badger TTL)
//	v/{lp bot}{version}                  bot version (published through the API), JSON without the source (botversions.go)
//	w/{lp bot}{version}                  the source of that version, as is
//	g/{team id}                          team (a live-chat queue), JSON (teams.go)
//	l/{handover id}                      live-chat handover, JSON (handovers.go)
//	j/{lp contact id}{handover id}       empty: a contact's handovers, oldest first
//	p/{handover id}                      empty: the open handovers (neither resolved nor closed)
//	r/{canned reply id}                  canned reply, JSON
//	z/{bot}                              the bot's live-chat settings, JSON
//
// A timer's due is its Unix nanoseconds with the sign bit flipped, so that
// times before 1970 still sort first. Timer IDs are unique across contacts
// (the runtime's carry the contact or handover ID). A contact's timer list,
// {uvarint count} then each timer's {lp timer id}{due}, says where each of
// its t/ entries is, for cancels, moves and ContactTimers. It lives in the
// head of the contact's s/ entry, which nearly every step that sets or
// cancels a timer writes anyway, so a timer costs one entry to set and one
// to cancel; a contact without a session keeps it in f/. (Stores written
// before this layout had an i/ index and k/ entries; Open rewrites them,
// see migrate.go.)
//
// A wait's timer (flows.TimerWait, set by the step that writes the
// session) has no t/ entry of its own: nearly every step of a
// conversation ends one wait and starts the next, and an entry set and
// deleted per message was a quarter of a step's writes. The list in the
// session's head holds it whole (a wait timer is its ID, due and Seq), and
// the contact's wake, t/{wake}{0x00}{contact id} with an empty value, is
// due no later than the earliest of them. A wait that ends leaves the wake
// where it is, and a later wait leaves an earlier wake; only an earlier
// wait moves it. When the wake comes due, DueTimers returns the contact's
// waits that are due, or the wake itself when none is (it came due early,
// for a wait that has ended or moved); the batch that handles it moves the
// wake to the earliest wait left, or deletes it. A contact chatting for an
// hour with a ten-minute timeout on every question writes about six wake
// entries, not one timer entry per message. A head that holds a wake or a
// wait is written in the second form:
//
//	{0x02}{uvarint seq}{wake, 8 bytes, 0: none}{uvarint count}{per timer: {lp id}{due}{uvarint Seq+1 of a wait, 0 for a timer with its own t/ entry}}
//
// f/ holds no waits (a contact without a session has nothing to wait for)
// and no wake.

// A contact's last message Seq is the greater of its q/ entry and the head
// of its s/ entry: a step that writes the session and messages (nearly
// every step) keeps it there, and only other batches, and the end of a
// session, write q/. An s/ value written before the head starts with the
// session's own version byte (0x11) and holds neither.
//
// {lp contact id}{seq} is a message reference: the end of its m/ key, which
// the o/ key ends with and the e/ value holds, so the outbox and the receipt
// lookup find the message from their own entry. An o/ entry exists exactly
// while its outbound message has StatusQueued; its due is the message's
// NextAttempt (see outboxDue), which a StatusUpdate reads from the stored
// message to find the entry to move or delete. An e/ entry is written for
// an outbound message with an external id, when it is committed or when a
// StatusUpdate sets one; a message that gets a new external id drops its
// old entry, unless another message has claimed it since.

const (
	tContact   = "c/"
	tExternal  = "x/"
	tByBot     = "b/"
	tSession   = "s/"
	tSeq       = "q/"
	tMessage   = "m/"
	tTimer     = "t/"
	tTimers    = "f/"
	tDedup     = "d/"
	tOutbox    = "o/"
	tMsgExt    = "e/"
	tAccount   = "u/"
	tEmail     = "n/"
	tToken     = "y/"
	tTokenHash = "h/"
	tBotVer    = "v/"
	tBotSrc    = "w/"
	tTeam      = "g/"
	tHandover  = "l/"
	tHandovers = "j/"
	tOpen      = "p/"
	tCanned    = "r/"
	tLiveChat  = "z/"
)

// sessionHead begins an s/ value that starts with the last message Seq and
// the timer list; sessionHeadWaits, one whose list holds a wake or waits.
const (
	sessionHead      = 0x01
	sessionHeadWaits = 0x02
)

// wakeMark begins the ID in the key of a contact's wake, and the ID of
// the TimerWake that DueTimers returns for it.
const wakeMark = "\x00"

func appendSessionHead(dst []byte, seq uint64, l *timerList) []byte {
	if l.wake == 0 && !l.ts.hasWaits() {
		return appendTimerList(binary.AppendUvarint(append(dst, sessionHead), seq), l.ts)
	}
	dst = binary.AppendUvarint(append(dst, sessionHeadWaits), seq)
	dst = binary.AppendUvarint(binary.BigEndian.AppendUint64(dst, l.wake), uint64(len(l.ts)))
	for _, t := range l.ts {
		dst = binary.AppendUvarint(binary.BigEndian.AppendUint64(appendLP(dst, t.id), t.due), t.wait)
	}
	return dst
}

// splitSessionHead returns the last message Seq and the timer list an s/
// value holds (none for a value written before the head) and the
// session's encoding.
func splitSessionHead(v []byte) (seq uint64, l timerList, session []byte, err error) {
	if len(v) == 0 || (v[0] != sessionHead && v[0] != sessionHeadWaits) {
		return 0, l, v, nil
	}
	seq, n := binary.Uvarint(v[1:])
	if n <= 0 {
		return 0, l, nil, errors.New("store: bad session entry")
	}
	b := v[1+n:]
	if v[0] == sessionHead {
		l.ts, session, err = parseTimerList(b, false)
		return seq, l, session, err
	}
	if len(b) < 8 {
		return 0, l, nil, errBadTimerList
	}
	l.wake = binary.BigEndian.Uint64(b)
	l.ts, session, err = parseTimerList(b[8:], true)
	return seq, l, session, err
}

// appendTimerList writes the timers of ts that have entries of their own,
// in the first form.
func appendTimerList(dst []byte, ts contactTimers) []byte {
	n := 0
	for _, t := range ts {
		if t.wait == 0 {
			n++
		}
	}
	dst = binary.AppendUvarint(dst, uint64(n))
	for _, t := range ts {
		if t.wait == 0 {
			dst = binary.BigEndian.AppendUint64(appendLP(dst, t.id), t.due)
		}
	}
	return dst
}

var errBadTimerList = errors.New("store: bad timer list")

// parseTimerList reads a timer list from the start of b, in the second
// form when waits is set, and returns the rest of b.
func parseTimerList(b []byte, waits bool) (contactTimers, []byte, error) {
	bad := errBadTimerList
	n, l := binary.Uvarint(b)
	if l <= 0 || n > maxContactTimers || n > uint64(len(b)) {
		return nil, nil, bad
	}
	b = b[l:]
	var ts contactTimers
	if n > 0 {
		ts = make(contactTimers, 0, n)
	}
	for range n {
		idLen, l := binary.Uvarint(b)
		if l <= 0 || idLen > uint64(len(b)-l) || uint64(len(b)-l)-idLen < 8 {
			return nil, nil, bad
		}
		b = b[l:]
		t := timerRef{id: string(b[:idLen]), due: binary.BigEndian.Uint64(b[idLen:])}
		b = b[idLen+8:]
		if waits {
			if t.wait, l = binary.Uvarint(b); l <= 0 {
				return nil, nil, bad
			}
			b = b[l:]
		}
		ts = append(ts, t)
	}
	return ts, b, nil
}

func appendLP(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func keyContact(dst []byte, id string) []byte { return append(append(dst, tContact...), id...) }
func keySession(dst []byte, id string) []byte { return append(append(dst, tSession...), id...) }
func keySeq(dst []byte, id string) []byte     { return append(append(dst, tSeq...), id...) }
func keyDedup(dst []byte, k string) []byte    { return append(append(dst, tDedup...), k...) }

func keyExternal(dst []byte, bot, channel, ext string) []byte {
	dst = appendLP(append(dst, tExternal...), bot)
	return append(appendLP(dst, channel), ext...)
}

func prefixByBot(dst []byte, bot string) []byte { return appendLP(append(dst, tByBot...), bot) }

func keyByBot(dst []byte, bot, id string) []byte { return append(prefixByBot(dst, bot), id...) }

func prefixMessages(dst []byte, contact string) []byte {
	return appendLP(append(dst, tMessage...), contact)
}

func keyMessage(dst []byte, contact string, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(prefixMessages(dst, contact), seq)
}

// appendMessageRef appends {lp contact id}{seq}.
func appendMessageRef(dst []byte, contact string, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(appendLP(dst, contact), seq)
}

// parseMessageRef reads a reference written by appendMessageRef.
func parseMessageRef(ref []byte) (contact []byte, seq uint64, ok bool) {
	l, n := binary.Uvarint(ref)
	if n <= 0 || l > uint64(len(ref)) || uint64(len(ref)-n) != l+8 {
		return nil, 0, false
	}
	return ref[n : n+int(l)], binary.BigEndian.Uint64(ref[n+int(l):]), true
}

func keyOutbox(dst []byte, due uint64, contact string, seq uint64) []byte {
	dst = binary.BigEndian.AppendUint64(append(dst, tOutbox...), due)
	return appendMessageRef(dst, contact, seq)
}

func keyMessageExternal(dst []byte, channel, ext string) []byte {
	return append(appendLP(append(dst, tMsgExt...), channel), ext...)
}

// dueBits is the sortable form of a due time; callers keep times within
// minDue..maxDue.
func dueBits(t time.Time) uint64 { return uint64(t.UnixNano()) ^ 1<<63 }

// dueTime is the time of dueBits.
func dueTime(due uint64) time.Time { return time.Unix(0, int64(due^1<<63)).UTC() }

func keyTimer(dst []byte, due uint64, id string) []byte {
	dst = binary.BigEndian.AppendUint64(append(dst, tTimer...), due)
	return append(dst, id...)
}

// keyWake is the key of a contact's wake.
func keyWake(dst []byte, due uint64, contact string) []byte {
	dst = binary.BigEndian.AppendUint64(append(dst, tTimer...), due)
	return append(append(dst, wakeMark...), contact...)
}

func keyTimerList(dst []byte, contact string) []byte {
	return append(append(dst, tTimers...), contact...)
}

func keyAccount(dst []byte, id string) []byte { return append(append(dst, tAccount...), id...) }
func keyAccountEmail(dst []byte, e string) []byte {
	return append(append(dst, tEmail...), e...)
}
func keyToken(dst []byte, id string) []byte    { return append(append(dst, tToken...), id...) }
func keyTokenHash(dst []byte, h []byte) []byte { return append(append(dst, tTokenHash...), h...) }

func prefixBotVersions(dst []byte, bot string) []byte {
	return appendLP(append(dst, tBotVer...), bot)
}

func keyBotVersion(dst []byte, bot string, n int) []byte {
	return binary.BigEndian.AppendUint64(prefixBotVersions(dst, bot), uint64(n))
}

func keyBotSource(dst []byte, bot string, n int) []byte {
	return binary.BigEndian.AppendUint64(appendLP(append(dst, tBotSrc...), bot), uint64(n))
}
