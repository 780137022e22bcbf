package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/switchboard-bots/switchboard/plugins/internal/mailx"
	"github.com/switchboard-bots/switchboard/plugins/sdk"
)

// Bounds of one poll round.
const (
	// maxPerRound is how many unseen messages one round takes; the rest
	// wait for the next round, which starts at once.
	maxPerRound = 50
	// maxMessageSize: a larger e-mail is not downloaded; its headers
	// are, and the customer's message says it was too large.
	maxMessageSize = 25 << 20
	// roundTimeout bounds one round's IMAP session, emits excepted
	// (each runs under the host's own bounds).
	roundTimeout = 2 * time.Minute
)

// imapRootCAs, when set, replaces the system's roots for IMAP over TLS
// (tests only).
var imapRootCAs *x509.CertPool

// Poll receives an IMAP instance's mail until ctx ends: a round at once,
// then one every poll_interval. Each round logs in, takes the mailbox's
// unseen messages oldest first, hands each to emit and flags it \Seen only
// once emit accepted it: a message the runtime did not store stays unseen
// and comes again next round. Bodies are fetched with BODY.PEEK, which
// leaves the flag alone. A webhook instance has nothing to poll: Poll
// waits for ctx.
func (e *Email) Poll(ctx context.Context, instance string, emit func(context.Context, sdk.Received) error) error {
	for {
		c, err := e.config(instance)
		if err != nil {
			return err
		}
		if c.Inbound != inboundIMAP {
			<-ctx.Done()
			return nil
		}
		more, err := e.pollRound(ctx, instance, c, emit)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			// The host polls again after a pause.
			sdk.Logger().Warn("imap poll failed", "instance", instance, "server", imapAddr(c), "error", err)
			return err
		}
		if more {
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(c.interval):
		}
	}
}

func imapAddr(c *config) string { return net.JoinHostPort(c.IMAPHost, strconv.Itoa(c.IMAPPort)) }

// pollRound runs one IMAP session; more says unseen messages were left
// for another round.
func (e *Email) pollRound(ctx context.Context, instance string, c *config, emit func(context.Context, sdk.Received) error) (more bool, err error) {
	rctx, cancel := context.WithTimeout(ctx, roundTimeout)
	defer cancel()
	cl, err := dialIMAP(rctx, c)
	if err != nil {
		return false, err
	}
	// Closing the connection ends any command in progress when the round
	// ends or the host stops polling.
	stop := context.AfterFunc(rctx, func() { _ = cl.Close() })
	defer stop()
	defer cl.Close()

	if err := cl.Login(c.IMAPUsername, c.IMAPPassword).Wait(); err != nil {
		return false, fmt.Errorf("imap login as %s: %w", c.IMAPUsername, err)
	}
	sel, err := cl.Select(c.IMAPMailbox, nil).Wait()
	if err != nil {
		return false, fmt.Errorf("imap select %q: %w", c.IMAPMailbox, err)
	}
	found, err := cl.UIDSearch(&imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagSeen}}, nil).Wait()
	if err != nil {
		return false, fmt.Errorf("imap search: %w", err)
	}
	uids := found.AllUIDs()
	if len(uids) > maxPerRound {
		uids, more = uids[:maxPerRound], true
	}
	for _, uid := range uids {
		msg, skip, err := e.fetch(instance, cl, c, sel.UIDValidity, uid)
		if err != nil {
			return false, err
		}
		if !skip {
			if err := emit(ctx, sdk.Received{Messages: []sdk.InboundMessage{msg}}); err != nil {
				// Not stored: leave it unseen for the next round.
				return false, fmt.Errorf("the runtime did not take message %s: %w", msg.ID, err)
			}
		}
		if err := cl.Store(imap.UIDSetNum(uid), &imap.StoreFlags{
			Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagSeen},
		}, nil).Close(); err != nil {
			// Stored but still unseen: it comes again, and the runtime
			// drops it by its Message-ID.
			return false, fmt.Errorf("imap flag \\Seen: %w", err)
		}
	}
	_ = cl.Logout().Wait()
	return more, nil
}

// fetch downloads and parses one message. skip says it is not for the
// conversation (unreadable, automatic, from this channel itself): it is
// flagged \Seen without being emitted, or it would come back every round.
func (e *Email) fetch(instance string, cl *imapclient.Client, c *config, validity uint32, uid imap.UID) (msg sdk.InboundMessage, skip bool, err error) {
	sizes, err := cl.Fetch(imap.UIDSetNum(uid), &imap.FetchOptions{UID: true, RFC822Size: true}).Collect()
	if err != nil {
		return msg, false, fmt.Errorf("imap fetch size of %d: %w", uid, err)
	}
	if len(sizes) == 0 {
		return msg, true, nil // expunged meanwhile
	}
	section := &imap.FetchItemBodySection{Peek: true}
	tooLarge := sizes[0].RFC822Size > maxMessageSize
	if tooLarge {
		section = &imap.FetchItemBodySection{Peek: true, Specifier: imap.PartSpecifierHeader}
	}
	bufs, err := cl.Fetch(imap.UIDSetNum(uid), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}}).Collect()
	if err != nil {
		return msg, false, fmt.Errorf("imap fetch %d: %w", uid, err)
	}
	if len(bufs) == 0 {
		return msg, true, nil
	}
	raw := bufs[0].FindBodySection(section)
	if tooLarge {
		raw = append(raw, []byte("\r\n")...)
	}
	p, err := mailx.Parse(raw)
	switch {
	case err != nil:
		sdk.Logger().Warn("imap: skipped a message that does not parse", "instance", instance, "uid", uint32(uid), "error", err)
		return msg, true, nil
	case p.From == nil:
		sdk.Logger().Warn("imap: skipped a message without a From address", "instance", instance, "uid", uint32(uid))
		return msg, true, nil
	case p.Auto:
		sdk.Logger().Info("imap: skipped an automatic message", "instance", instance, "message_id", p.MessageID)
		return msg, true, nil
	case strings.EqualFold(p.From.Address, c.from.Address):
		return msg, true, nil
	}
	if p.MessageID == "" {
		// No Message-ID: the mailbox's UIDVALIDITY and UID name the
		// message as stably, so a message seen twice is still handled
		// once.
		p.MessageID = fmt.Sprintf("<imap.%d.%d@%s>", validity, uint32(uid), c.IMAPHost)
	}
	if tooLarge {
		p.Text = fmt.Sprintf("(This e-mail was too large to read here: %d bytes.)", sizes[0].RFC822Size)
	}
	if len(p.Attachments) > 0 {
		// IMAP attachments have no URL to hand on: say they were there.
		p.Text = strings.TrimSpace(p.Text + "\n\n(Attached: " + strings.Join(p.Attachments, ", ") + ")")
	}
	return e.inbound(instance, p.From, p, nil), false, nil
}

// dialIMAP connects as the TLS mode says; the dial is bounded by ctx and
// mailx.DialTimeout, commands by the client's own 30 s read timeout.
func dialIMAP(ctx context.Context, c *config) (*imapclient.Client, error) {
	d := net.Dialer{Timeout: mailx.DialTimeout}
	conn, err := d.DialContext(ctx, "tcp", imapAddr(c))
	if err != nil {
		return nil, fmt.Errorf("imap connect: %w", err)
	}
	tc := &tls.Config{ServerName: c.IMAPHost, RootCAs: imapRootCAs, MinVersion: tls.VersionTLS12}
	opts := &imapclient.Options{TLSConfig: tc}
	switch c.imapTLS {
	case mailx.TLSImplicit:
		t := tls.Client(conn, tc)
		if err := t.HandshakeContext(ctx); err != nil {
			_ = conn.Close()
			return nil, fmt.Errorf("imap TLS handshake: %w", err)
		}
		return imapclient.New(t, opts), nil
	case mailx.TLSStartTLS:
		cl, err := imapclient.NewStartTLS(conn, opts)
		if err != nil {
			return nil, fmt.Errorf("imap STARTTLS: %w", err)
		}
		return cl, nil
	case mailx.TLSNone:
		return imapclient.New(conn, opts), nil
	}
	_ = conn.Close()
	return nil, errors.New("imap: unknown TLS mode")
}
