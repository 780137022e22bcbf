package main

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-bots/switchboard/plugins/sdk"
)

// update is the part of the Bot API's Update the channel reads.
type update struct {
	UpdateID      int64          `json:"update_id"`
	Message       *message       `json:"message"`
	CallbackQuery *callbackQuery `json:"callback_query"`
	// EditedMessage, ChannelPost … are ignored.
}

type user struct {
	ID        int64  `json:"id"`
	IsBot     bool   `json:"is_bot"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
}

type chat struct {
	ID int64 `json:"id"`
}

type message struct {
	MessageID int64        `json:"message_id"`
	From      *user        `json:"from"`
	Chat      chat         `json:"chat"`
	Date      int64        `json:"date"`
	Text      string       `json:"text"`
	Caption   string       `json:"caption"`
	Photo     []photoSize  `json:"photo"`
	Document  *file        `json:"document"`
	Video     *file        `json:"video"`
	Audio     *file        `json:"audio"`
	Voice     *file        `json:"voice"`
	ReplyTo   *message     `json:"reply_to_message"`
	Markup    *replyMarkup `json:"reply_markup"`
}

type photoSize struct {
	FileID   string `json:"file_id"`
	Width    int    `json:"width"`
	Height   int    `json:"height"`
	FileSize int64  `json:"file_size"`
}

type file struct {
	FileID   string `json:"file_id"`
	FileName string `json:"file_name"`
	MimeType string `json:"mime_type"`
	FileSize int64  `json:"file_size"`
}

type callbackQuery struct {
	ID      string   `json:"id"`
	From    user     `json:"from"`
	Message *message `json:"message"`
	Data    string   `json:"data"`
}

// allowedUpdates are the update types asked for (getUpdates, and what to
// pass to setWebhook).
var allowedUpdates = []string{"message", "callback_query"}

// fileURLPrefix marks a Telegram file by its file_id. Telegram's download
// URL holds the bot token, so it is never stored; Send accepts the
// reference back (sendPhoto and sendDocument take a file_id).
const fileURLPrefix = "telegram-file:"

func msgID(chatID, messageID int64) string {
	return strconv.FormatInt(chatID, 10) + ":" + strconv.FormatInt(messageID, 10)
}

// inbound turns an update into a message; ok is false for updates the
// channel ignores (edits, channel posts, stickers …).
func inbound(u *update) (m sdk.InboundMessage, ok bool) {
	switch {
	case u.Message != nil:
		return fromMessage(u.Message)
	case u.CallbackQuery != nil && u.CallbackQuery.Data != "":
		q := u.CallbackQuery
		// The tapped button's title is in the keyboard of the message it
		// belonged to; the payload is its callback_data.
		title := q.Data
		if q.Message != nil && q.Message.Markup != nil {
			for _, row := range q.Message.Markup.InlineKeyboard {
				for _, b := range row {
					if b.CallbackData == q.Data {
						title = b.Text
					}
				}
			}
		}
		return sdk.InboundMessage{
			Sender:  strconv.FormatInt(q.From.ID, 10),
			ID:      "cq:" + q.ID,
			Name:    name(&q.From),
			Content: sdk.Content{Text: title, Payload: q.Data},
		}, true
	}
	return m, false
}

func fromMessage(msg *message) (sdk.InboundMessage, bool) {
	if msg.From == nil || msg.From.IsBot {
		return sdk.InboundMessage{}, false
	}
	c := sdk.Content{Text: msg.Text}
	if c.Text == "" {
		c.Text = msg.Caption
	}
	if len(msg.Photo) > 0 {
		best := msg.Photo[0]
		for _, p := range msg.Photo[1:] {
			if p.Width*p.Height > best.Width*best.Height {
				best = p
			}
		}
		c.Attachments = append(c.Attachments, sdk.Media{URL: fileURLPrefix + best.FileID, Kind: "image", Size: best.FileSize})
	}
	for _, f := range []struct {
		f    *file
		kind string
	}{{msg.Document, "file"}, {msg.Video, "video"}, {msg.Audio, "audio"}, {msg.Voice, "audio"}} {
		if f.f != nil {
			c.Attachments = append(c.Attachments, sdk.Media{URL: fileURLPrefix + f.f.FileID, Kind: f.kind, Name: f.f.FileName, MIME: f.f.MimeType, Size: f.f.FileSize})
		}
	}
	if c.Text == "" && len(c.Attachments) == 0 {
		return sdk.InboundMessage{}, false
	}
	m := sdk.InboundMessage{
		Sender:  strconv.FormatInt(msg.From.ID, 10),
		ID:      msgID(msg.Chat.ID, msg.MessageID),
		Name:    name(msg.From),
		Content: c,
	}
	if msg.Date > 0 {
		m.Time = time.Unix(msg.Date, 0).UTC()
	}
	if msg.ReplyTo != nil {
		m.ReplyTo = msgID(msg.Chat.ID, msg.ReplyTo.MessageID)
	}
	return m, true
}

func name(u *user) string {
	return strings.TrimSpace(u.FirstName + " " + u.LastName)
}

// HandleWebhook checks the secret token and turns the update into a
// message. A tapped button is answered (answerCallbackQuery, which stops
// the button's spinner) in the webhook's answer itself, as the Bot API
// allows (core.telegram.org/bots/api#making-requests-when-getting-updates):
// no extra call, and only once the runtime has stored the tap.
func (t *Telegram) HandleWebhook(ctx context.Context, instance string, r *sdk.WebhookRequest) (*sdk.WebhookResult, error) {
	c, err := t.config(instance)
	if err != nil {
		return nil, err
	}
	if c.Mode != modeWebhook {
		// A polling instance has no secret to check a webhook with.
		return answer(http.StatusForbidden, `{"error":"this channel polls; webhooks are refused"}`), nil
	}
	if r.Method != http.MethodPost {
		return answer(http.StatusMethodNotAllowed, `{"error":"POST only"}`), nil
	}
	got := r.Header.Get("X-Telegram-Bot-Api-Secret-Token")
	if got == "" {
		return answer(http.StatusUnauthorized, `{"error":"missing X-Telegram-Bot-Api-Secret-Token"}`), nil
	}
	if subtle.ConstantTimeCompare([]byte(got), []byte(c.WebhookSecret)) != 1 {
		sdk.Logger().Warn("webhook refused: wrong secret token", "instance", instance, "remote", r.RemoteAddr)
		return answer(http.StatusForbidden, `{"error":"wrong X-Telegram-Bot-Api-Secret-Token"}`), nil
	}
	var u update
	if err := json.Unmarshal(r.Body, &u); err != nil || u.UpdateID == 0 {
		return answer(http.StatusBadRequest, `{"error":"the body must be a Telegram Update"}`), nil
	}
	m, ok := inbound(&u)
	if !ok {
		return &sdk.WebhookResult{Status: http.StatusOK}, nil
	}
	res := &sdk.WebhookResult{Status: http.StatusOK, Messages: []sdk.InboundMessage{m}}
	if q := u.CallbackQuery; q != nil {
		b, _ := json.Marshal(map[string]string{"method": "answerCallbackQuery", "callback_query_id": q.ID})
		res.Header = http.Header{"Content-Type": {"application/json"}}
		res.Body = b
	}
	return res, nil
}

func answer(status int, body string) *sdk.WebhookResult {
	return &sdk.WebhookResult{Status: status, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(body)}
}

// getUpdates are getUpdates' parameters. Offset 0 (left out) asks for the
// earliest unconfirmed update: Telegram keeps the cursor, so a restarted
// plugin resumes where the runtime last stored.
type getUpdates struct {
	Offset         int64    `json:"offset,omitempty"`
	Timeout        int      `json:"timeout"`
	AllowedUpdates []string `json:"allowed_updates"`
}

// Poll long-polls getUpdates for an instance in polling mode (an instance
// in webhook mode just waits for ctx). Each update is handed to emit on
// its own, and the offset moves past it only once emit accepted it, so an
// update the runtime did not store is fetched again. A tapped button is
// answered (answerCallbackQuery) once stored.
func (t *Telegram) Poll(ctx context.Context, instance string, emit func(context.Context, sdk.Received) error) error {
	c, err := t.config(instance)
	if err != nil {
		return err
	}
	if c.Mode != modePolling {
		<-ctx.Done()
		return nil
	}
	sdk.Logger().Info("polling", "instance", instance)
	var offset int64
	for ctx.Err() == nil {
		var updates []update
		params := getUpdates{Offset: offset, Timeout: int(t.pollTimeout / time.Second), AllowedUpdates: allowedUpdates}
		err := t.call(ctx, c, "getUpdates", params, &updates, t.pollTimeout+callTimeout)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			var se *sdk.Error
			if errors.As(err, &se) && se.Retryable && se.RetryAfter > 0 {
				sdk.Logger().Warn("rate limited; waiting", "instance", instance, "after", se.RetryAfter)
				if !sleep(ctx, se.RetryAfter) {
					return nil
				}
				continue
			}
			return err // the host polls again after a pause
		}
		for i := range updates {
			u := &updates[i]
			if m, ok := inbound(u); ok {
				if err := emit(ctx, sdk.Received{Messages: []sdk.InboundMessage{m}}); err != nil {
					if ctx.Err() != nil {
						return nil
					}
					return fmt.Errorf("update %d was not stored: %w", u.UpdateID, err)
				}
				if q := u.CallbackQuery; q != nil {
					if err := t.call(ctx, c, "answerCallbackQuery", map[string]string{"callback_query_id": q.ID}, nil, callTimeout); err != nil {
						// Only the button's spinner is at stake.
						sdk.Logger().Debug("answerCallbackQuery failed", "instance", instance, "error", err)
					}
				}
			}
			offset = max(offset, u.UpdateID+1)
		}
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) bool {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-ctx.Done():
		return false
	}
}
