package webchat

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
)

// A visitor token is "PAYLOAD.MAC": PAYLOAD is base64url (no padding) of
// {"v": visitor id, "b": bot, "t": issued at (Unix s)}; MAC is base64url of
// HMAC-SHA256(secret, "switchboard.webchat.v1." + PAYLOAD). The widget keeps
// it in localStorage so that a visitor keeps their conversation across page
// loads; the server keeps no list of tokens.

var errBadToken = errors.New("the visitor token is invalid")

type tokenClaims struct {
	Visitor string `json:"v"`
	Bot     string `json:"b"`
	Issued  int64  `json:"t"`
}

const tokenContext = "switchboard.webchat.v1."

var b64 = base64.RawURLEncoding

func signToken(secret []byte, c tokenClaims) string {
	body, _ := json.Marshal(c)
	p := b64.EncodeToString(body)
	return p + "." + b64.EncodeToString(tokenMAC(secret, p))
}

func tokenMAC(secret []byte, payload string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(tokenContext))
	m.Write([]byte(payload))
	return m.Sum(nil)
}

// verifyToken checks the MAC in constant time and returns the claims.
func verifyToken(secret []byte, tok string) (tokenClaims, error) {
	var c tokenClaims
	if len(tok) > maxTokenLen {
		return c, errBadToken
	}
	p, mac, ok := strings.Cut(tok, ".")
	if !ok {
		return c, errBadToken
	}
	got, err := b64.DecodeString(mac)
	if err != nil || !hmac.Equal(got, tokenMAC(secret, p)) {
		return c, errBadToken
	}
	body, err := b64.DecodeString(p)
	if err != nil || json.Unmarshal(body, &c) != nil || c.Visitor == "" || c.Bot == "" {
		return c, errBadToken
	}
	return c, nil
}

const maxTokenLen = 1024

// newVisitorID is 128 random bits in hex.
func newVisitorID() string {
	var b [16]byte
	rand.Read(b[:])
	return "v" + hex.EncodeToString(b[:])
}
