package mailxtest

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

// IMAPServer is an in-memory IMAP server on loopback
// (go-imap's imapmemserver) with one user and an INBOX.
type IMAPServer struct {
	Host string
	Port int
	// RootCAs trust the server's certificate (TLS and STARTTLS modes).
	RootCAs *x509.CertPool
	user    *imapmemserver.User
}

// NewIMAPServer starts the server for user and pass, closed when the test
// ends. In Plain mode it takes logins in plain text (loopback only).
func NewIMAPServer(t testing.TB, mode TLS, user, pass string) *IMAPServer {
	t.Helper()
	mem := imapmemserver.New()
	u := imapmemserver.NewUser(user, pass)
	if err := u.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	mem.AddUser(u)
	opts := &imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		InsecureAuth: mode == Plain,
		Logger:       log.New(io.Discard, "", 0),
	}
	var pool *x509.CertPool
	var tc *tls.Config
	if mode != Plain {
		var cert tls.Certificate
		cert, pool = selfSigned(t)
		tc = &tls.Config{Certificates: []tls.Certificate{cert}}
	}
	if mode == StartTLS {
		opts.TLSConfig = tc
	}
	srv := imapserver.New(opts)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if mode == Implicit {
		ln = tls.NewListener(ln, tc)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	p, _ := strconv.Atoi(port)
	return &IMAPServer{Host: host, Port: p, RootCAs: pool, user: u}
}

// Deliver puts a raw message into the INBOX, unseen.
func (s *IMAPServer) Deliver(t testing.TB, raw string) {
	t.Helper()
	b := []byte(raw)
	if _, err := s.user.Append("INBOX", literal{bytes.NewReader(b), int64(len(b))}, &imap.AppendOptions{Time: time.Now()}); err != nil {
		t.Fatal(err)
	}
}

// Unseen counts the INBOX's messages without the \Seen flag (-1 should
// the mailbox be gone).
func (s *IMAPServer) Unseen() int {
	st, err := s.user.Status("INBOX", &imap.StatusOptions{NumUnseen: true})
	if err != nil || st.NumUnseen == nil {
		return -1
	}
	return int(*st.NumUnseen)
}

type literal struct {
	*bytes.Reader
	n int64
}

func (l literal) Size() int64 { return l.n }
