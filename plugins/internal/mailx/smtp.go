// Package mailx is the e-mail code the email channel and the smtp
// integration share: submitting a message over SMTP with every step
// bounded, building RFC 5322 messages with threading headers, and parsing
// received ones.
//
// Submission errors carry behaviour for the runtime: a 4xx answer or a
// broken connection is retryable, a 5xx answer is final (sdk.Retryable,
// sdk.Final).
package mailx

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-bots/switchboard/plugins/sdk"
)

// TLSMode is how a connection to a mail server is protected.
type TLSMode string

// TLS modes.
const (
	// TLSStartTLS connects in plain text and upgrades with STARTTLS,
	// which the server must offer (submission port 587).
	TLSStartTLS TLSMode = "starttls"
	// TLSImplicit speaks TLS from the first byte (port 465 for SMTP, 993
	// for IMAP).
	TLSImplicit TLSMode = "tls"
	// TLSNone never encrypts: for a relay on the same host or network.
	TLSNone TLSMode = "none"
)

// ParseTLSMode reads a TLS mode; "" picks one from the port: implicit TLS
// on the well-known TLS ports (465, 993), STARTTLS otherwise.
func ParseTLSMode(s string, port int) (TLSMode, error) {
	switch TLSMode(s) {
	case TLSStartTLS, TLSImplicit, TLSNone:
		return TLSMode(s), nil
	case "":
		if port == 465 || port == 993 {
			return TLSImplicit, nil
		}
		return TLSStartTLS, nil
	}
	return "", fmt.Errorf("write %q, %q or %q", TLSStartTLS, TLSImplicit, TLSNone)
}

// Server is an SMTP server to submit mail to.
type Server struct {
	Host     string
	Port     int
	Username string
	// Password is a secret: it goes to the server and nowhere else.
	Password string
	TLS      TLSMode
	// RootCAs, when set, replace the system's trusted roots (tests trust
	// their own loopback server with it).
	RootCAs *x509.CertPool
	// Timeout bounds one whole submission, connection to QUIT; 0 means
	// 30 s. The caller's context may end it sooner.
	Timeout time.Duration
}

// DialTimeout bounds connecting to a mail server.
const DialTimeout = 10 * time.Second

// Addr is host:port.
func (s *Server) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

func (s *Server) tlsConfig() *tls.Config {
	return &tls.Config{ServerName: s.Host, RootCAs: s.RootCAs, MinVersion: tls.VersionTLS12}
}

// Send submits msg from the envelope sender from to the recipients to.
// The whole exchange is bounded by s.Timeout and ctx. Errors are
// *sdk.Error: 4xx answers and connection failures are retryable, 5xx
// answers and configuration problems (no STARTTLS, a certificate that does
// not verify) are final. No error names the password.
func Send(ctx context.Context, s *Server, from string, to []string, msg []byte) error {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	d := net.Dialer{Timeout: DialTimeout}
	conn, err := d.DialContext(ctx, "tcp", s.Addr())
	if err != nil {
		return sdk.Retryable(fmt.Errorf("smtp: connect to %s: %w", s.Addr(), err), 0)
	}
	// The deadline bounds every read and write; closing on ctx's end
	// unblocks one in progress when the caller gives up sooner.
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()

	if s.TLS == TLSImplicit {
		tc := tls.Client(conn, s.tlsConfig())
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = conn.Close()
			return classify("TLS handshake", err)
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, s.Host)
	if err != nil {
		_ = conn.Close()
		return classify("greeting", err)
	}
	defer c.Close()
	if err := c.Hello(helloName()); err != nil {
		return classify("EHLO", err)
	}
	if s.TLS == TLSStartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return sdk.Final(fmt.Errorf("smtp: %s does not offer STARTTLS; set the TLS mode to %q or %q", s.Addr(), TLSImplicit, TLSNone))
		}
		if err := c.StartTLS(s.tlsConfig()); err != nil {
			return classify("STARTTLS", err)
		}
	}
	if s.Username != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return sdk.Final(fmt.Errorf("smtp: %s does not offer AUTH; remove the username or use another server", s.Addr()))
		}
		// PlainAuth refuses to send the password over a plain-text
		// connection to anything but localhost: that refusal is final.
		if err := c.Auth(smtp.PlainAuth("", s.Username, s.Password, s.Host)); err != nil {
			return classifyFinal("authentication", err)
		}
	}
	if err := c.Mail(from); err != nil {
		return classify("MAIL FROM", err)
	}
	for _, r := range to {
		if err := c.Rcpt(r); err != nil {
			return classify("RCPT TO "+r, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return classify("DATA", err)
	}
	if _, err := w.Write(msg); err != nil {
		return classify("DATA", err)
	}
	if err := w.Close(); err != nil {
		return classify("end of DATA", err)
	}
	// The message is accepted once DATA is answered 250; a failing QUIT
	// changes nothing.
	_ = c.Quit()
	return nil
}

// classify turns a failed step into a *sdk.Error: the server's 4xx is
// retryable, its 5xx final; a certificate that does not verify is final
// (it will not verify next time either); anything else is a broken
// connection or a timeout, retryable.
func classify(step string, err error) error {
	if e := classifyAnswer(step, err); e != nil {
		return e
	}
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	if errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &hn) {
		return sdk.Final(fmt.Errorf("smtp: %s: %w", step, err))
	}
	return sdk.Retryable(fmt.Errorf("smtp: %s: %w", step, err), 0)
}

// classifyFinal is classify for steps whose non-protocol errors are
// refusals by this side (net/smtp's "unencrypted connection").
func classifyFinal(step string, err error) error {
	if e := classifyAnswer(step, err); e != nil {
		return e
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return sdk.Retryable(fmt.Errorf("smtp: %s: %w", step, err), 0)
	}
	return sdk.Final(fmt.Errorf("smtp: %s: %w", step, err))
}

func classifyAnswer(step string, err error) error {
	var te *textproto.Error
	if !errors.As(err, &te) {
		return nil
	}
	e := fmt.Errorf("smtp: %s: the server answered %d %s", step, te.Code, te.Msg)
	if te.Code >= 400 && te.Code < 500 {
		return sdk.Retryable(e, 0)
	}
	return sdk.Final(e)
}

// helloName is the name given in EHLO: the host's name when it looks like
// a domain, else "localhost" (what net/smtp says by default).
func helloName() string {
	h, err := os.Hostname()
	if err != nil || !strings.Contains(h, ".") {
		return "localhost"
	}
	return h
}

// ServerConfig checks an SMTP server's settings as a plugin's configuration
// holds them, under keys with prefix ("smtp_" for the email channel, "" for
// the smtp integration), and returns the server; errors name the key.
func ServerConfig(prefix, host string, port int, tlsMode, username, password string, roots *x509.CertPool) (Server, error) {
	if host == "" {
		return Server{}, sdk.ConfigError("/"+prefix+"host", "the SMTP server's host name is required")
	}
	if port == 0 {
		port = 587
	}
	if port < 1 || port > 65535 {
		return Server{}, sdk.ConfigError("/"+prefix+"port", "write a port number between 1 and 65535")
	}
	mode, err := ParseTLSMode(tlsMode, port)
	if err != nil {
		return Server{}, sdk.ConfigError("/"+prefix+"tls", "%v", err)
	}
	if username != "" && password == "" {
		return Server{}, sdk.ConfigError("/"+prefix+"password", "the password is required with a username")
	}
	return Server{Host: host, Port: port, Username: username, Password: password, TLS: mode, RootCAs: roots}, nil
}

// FromConfig checks a configured sender address (key field), which must be
// bare (its name has a key of its own), and returns it with name.
func FromConfig(field, address, name string) (mail.Address, error) {
	from, err := mail.ParseAddress(address)
	if err != nil || from.Name != "" {
		return mail.Address{}, sdk.ConfigError("/"+field, "write a bare address, like bot@example.com (the name goes in from_name)")
	}
	return mail.Address{Name: name, Address: from.Address}, nil
}
