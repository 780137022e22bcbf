package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/mail"
	"strings"
	"time"

	"github.com/switchboard-bots/switchboard/plugins/internal/mailx"
	"github.com/switchboard-bots/switchboard/plugins/sdk"
)

// Webhook authentication headers: either the shared secret itself, or an
// HMAC-SHA256 of the raw body keyed with it ("sha256=<hex>"), for relays
// that can sign.
const (
	headerSecret    = "X-Switchboard-Secret"
	headerSignature = "X-Switchboard-Signature"
)

// parsedEmail is the JSON a relay POSTs for one received e-mail. Only
// from is required; message_id is the de-duplication key.
//
//	{
//	  "from": "Alice Martin <alice@example.com>",
//	  "to": "support@example.com",
//	  "subject": "My order",
//	  "text": "Where is it?\n\nOn Mon, 2 Nov 2026, Support wrote:\n> …",
//	  "html": "<p>Where is it?</p>",
//	  "message_id": "<CAB123@mail.example.com>",
//	  "in_reply_to": "<sb.4f…@example.com>",
//	  "references": "<first@example.com> <sb.4f…@example.com>",
//	  "date": "2026-11-21T08:00:00Z",
//	  "attachments": [{"url": "https://…/invoice.pdf", "name": "invoice.pdf", "content_type": "application/pdf"}]
//	}
type parsedEmail struct {
	From        string          `json:"from"`
	To          json.RawMessage `json:"to"`
	Subject     string          `json:"subject"`
	Text        string          `json:"text"`
	HTML        string          `json:"html"`
	MessageID   string          `json:"message_id"`
	InReplyTo   string          `json:"in_reply_to"`
	References  string          `json:"references"`
	Date        string          `json:"date"`
	Attachments []struct {
		URL         string `json:"url"`
		Name        string `json:"name"`
		ContentType string `json:"content_type"`
		Size        int64  `json:"size"`
	} `json:"attachments"`
}

// maxAttachments bounds what one webhook request can carry.
const maxAttachments = 20

// HandleWebhook authenticates the request with the instance's secret and
// turns the e-mail it carries into one message. Without the secret: 401;
// with a wrong one: 403; nothing is stored either way.
func (e *Email) HandleWebhook(ctx context.Context, instance string, r *sdk.WebhookRequest) (*sdk.WebhookResult, error) {
	c, err := e.config(instance)
	if err != nil {
		return nil, err
	}
	if r.Method != http.MethodPost {
		return answer(http.StatusMethodNotAllowed, `{"error":"POST only"}`), nil
	}
	if c.Inbound != inboundWebhook {
		return answer(http.StatusNotFound, `{"error":"this channel receives by IMAP"}`), nil
	}
	switch authenticate(c.WebhookSecret, r) {
	case authMissing:
		return answer(http.StatusUnauthorized, `{"error":"the `+headerSecret+` or `+headerSignature+` header is required"}`), nil
	case authWrong:
		sdk.Logger().Warn("webhook refused: wrong secret or signature", "instance", instance, "remote", r.RemoteAddr)
		return answer(http.StatusForbidden, `{"error":"wrong secret or signature"}`), nil
	}
	var in parsedEmail
	if err := json.Unmarshal(r.Body, &in); err != nil {
		return answer(http.StatusBadRequest, `{"error":"the body must be a JSON object"}`), nil
	}
	from, err := mail.ParseAddress(in.From)
	if err != nil {
		return answer(http.StatusBadRequest, `{"error":"from must be an e-mail address"}`), nil
	}
	if strings.EqualFold(from.Address, c.from.Address) {
		// Our own message coming back (a copy, a loop): nothing to do.
		return answer(http.StatusOK, `{"ok":true,"ignored":"from this channel's own address"}`), nil
	}
	p := &mailx.Parsed{
		From: from, Subject: strings.TrimSpace(in.Subject), Text: in.Text,
		MessageID:  mailx.NormalizeID(in.MessageID),
		InReplyTo:  mailx.NormalizeID(in.InReplyTo),
		References: mailx.ParseIDs(in.References, maxRefs),
	}
	if strings.TrimSpace(p.Text) == "" && in.HTML != "" {
		p.Text = mailx.HTMLText(in.HTML)
	}
	if in.Date != "" {
		if t, err := time.Parse(time.RFC3339, in.Date); err == nil {
			p.Date = t
		} else if t, err := mail.ParseDate(in.Date); err == nil {
			p.Date = t
		}
	}
	var atts []sdk.Media
	for _, a := range in.Attachments {
		if a.URL == "" || len(atts) == maxAttachments {
			continue
		}
		atts = append(atts, sdk.Media{URL: a.URL, Kind: kind(a.ContentType), Name: a.Name, MIME: a.ContentType, Size: a.Size})
	}
	if strings.TrimSpace(p.Text) == "" && len(atts) == 0 {
		return answer(http.StatusBadRequest, `{"error":"the e-mail has neither text nor attachments"}`), nil
	}
	res := answer(http.StatusOK, `{"ok":true}`)
	res.Messages = []sdk.InboundMessage{e.inbound(instance, from, p, atts)}
	return res, nil
}

type authResult int

const (
	authOK authResult = iota
	authMissing
	authWrong
)

// authenticate checks the shared secret header or the body's HMAC, in
// constant time.
func authenticate(secret string, r *sdk.WebhookRequest) authResult {
	if got := r.Header.Get(headerSecret); got != "" {
		if subtle.ConstantTimeCompare([]byte(got), []byte(secret)) == 1 {
			return authOK
		}
		return authWrong
	}
	sig := r.Header.Get(headerSignature)
	if sig == "" {
		return authMissing
	}
	got, err := hex.DecodeString(strings.TrimPrefix(strings.TrimSpace(sig), "sha256="))
	if err != nil {
		return authWrong
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(r.Body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return authWrong
	}
	return authOK
}

// kind is the sdk.Media kind of a content type.
func kind(contentType string) string {
	switch {
	case strings.HasPrefix(contentType, "image/"):
		return "image"
	case strings.HasPrefix(contentType, "audio/"):
		return "audio"
	case strings.HasPrefix(contentType, "video/"):
		return "video"
	}
	return "file"
}

func answer(status int, body string) *sdk.WebhookResult {
	return &sdk.WebhookResult{
		Status: status,
		Header: http.Header{"Content-Type": {"application/json"}},
		Body:   []byte(body),
	}
}
