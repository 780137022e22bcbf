// Package sdk is what a Switchboard plugin author imports: implement
// Channel (or Integration) and call ServeChannel (or ServeIntegration) from
// main. The SDK speaks the plugin protocol (gRPC through hashicorp/go-plugin)
// for you; nothing of it shows in this package's API.
//
//	func main() { sdk.ServeChannel(&MyChannel{}) }
//
// A plugin is launched by the Switchboard runtime (the host), never by
// hand. Its logs (Logger) go to the host, which files them under the
// plugin's name. It exits by itself when the host goes away.
//
// Errors carry behaviour: wrap a failure with Retryable (a rate limit, a
// provider's 5xx) or Final (a bad recipient), and the runtime retries or
// gives up accordingly. Errors that are neither are treated as retryable.
//
// Package sdktest runs a plugin in-process through the real protocol and
// checks it against a fake provider on loopback.
package sdk

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/switchboard-bots/switchboard/plugins/internal/conv"
)

// Version is the version of this SDK, reported to the host.
const Version = "1.0.0"

// Channel is a channel plugin: it turns a provider's traffic into
// normalized inbound messages and sends normalized outbound messages. One
// process serves every instance of the channel (every bot's "tg-main",
// "tg-support" …), so each call names its instance. Calls may come
// concurrently and must honour ctx: a call that outlives its deadline gets
// the plugin restarted.
type Channel interface {
	// Manifest says what the channel is and can do. It is read once, at
	// launch.
	Manifest() ChannelManifest
	// Configure sets up or replaces an instance. Return ConfigError for a
	// configuration that cannot work. The host configures every instance
	// again after a restart.
	Configure(ctx context.Context, instance string, config json.RawMessage) error
	// HandleWebhook handles one HTTP request the runtime received for the
	// instance at /hooks/{bot}/{channel}: it says what to answer and which
	// messages and delivery receipts it carried. An error answers 500 and
	// the provider retries; a request to refuse (a bad signature) is a
	// result with a 4xx Status and no messages.
	HandleWebhook(ctx context.Context, instance string, r *WebhookRequest) (*WebhookResult, error)
	// Send sends one message and returns the provider's id for it.
	Send(ctx context.Context, instance string, m *OutboundMessage) (externalID string, err error)
}

// Poller is implemented by channels that fetch their traffic from the
// provider (Telegram long polling, IMAP) instead of, or as well as,
// receiving webhooks.
type Poller interface {
	// Poll receives for the instance until ctx is done, handing what it
	// receives to emit. Emit returns once the runtime has stored it (nil),
	// or refused it, or ctx ended (an error): move the provider's cursor
	// (an update offset, an IMAP flag) only past what emit accepted, and
	// nothing is lost when the plugin or the runtime dies. Return nil when
	// ctx is done; an error ends this round and the host polls again after
	// a pause.
	Poll(ctx context.Context, instance string, emit func(context.Context, Received) error) error
}

// Integration is an integration plugin: named actions that blocks call.
type Integration interface {
	Manifest() IntegrationManifest
	// Invoke runs one action. params matches the action's Params schema:
	// the host refuses other parameters before the call. The result must
	// match its Result schema, or the host fails the call. conv says
	// where the call comes from, and which call it is (InvocationID).
	Invoke(ctx context.Context, action string, params json.RawMessage, conv Conversation) (json.RawMessage, error)
}

// IntegrationConfigurer is implemented by integrations that take a
// configuration (an SMTP server, an API key).
type IntegrationConfigurer interface {
	Configure(ctx context.Context, config json.RawMessage) error
}

// ChannelManifest describes a channel plugin.
type ChannelManifest struct {
	// Name is the channel type bots name in their channels ("telegram").
	Name        string
	Version     string
	Description string
	// ConfigSchema is the JSON Schema (draft 2020-12) of an instance's
	// configuration; the host refuses a configuration that does not match
	// it before Configure. A schema that does not compile gets the plugin
	// failed.
	ConfigSchema json.RawMessage
	// Secrets are JSON pointers into the configuration ("/token") of
	// values that must never be logged or shown.
	Secrets      []string
	Capabilities Capabilities
}

// Capabilities say what a channel can show; the runtime rewrites what it
// cannot (buttons become numbered options) before calling Send.
type Capabilities struct {
	Buttons      bool
	QuickReplies bool
	Images       bool
	Media        bool
	Files        bool
	Gallery      bool
	// MaxText is the longest text one message may carry; 0: no limit.
	MaxText int
	// ReplyWindow is how long after the user's last message the business
	// may write freely (24h on WhatsApp and Messenger); 0: no window.
	ReplyWindow time.Duration
	// Templates: the channel sends pre-approved templates outside the
	// reply window.
	Templates bool
}

// IntegrationManifest describes an integration plugin.
type IntegrationManifest struct {
	// Name is unique per host; blocks call its actions as Name.action.
	Name        string
	Version     string
	Description string
	// ConfigSchema and Secrets are as a channel's (ChannelManifest).
	ConfigSchema json.RawMessage
	Secrets      []string
	Actions      []Action
}

// Action is one thing an integration can do.
type Action struct {
	Name        string
	Description string
	// Params and Result are JSON Schemas (draft 2020-12), which the host
	// holds every call to (see Integration.Invoke).
	Params json.RawMessage
	Result json.RawMessage
}

// Conversation is where an action is invoked from, and which call it is.
type Conversation struct {
	Bot               string
	ContactID         string
	Channel           string
	ContactExternalID string
	Attributes        map[string]any
	// InvocationID is the runtime's id of this call: the same on every
	// retry of it (a notification sent again, a bot's step run again after
	// the runtime crashed), different for every other call. It is the
	// call's idempotency key: pass it to providers that take one, or
	// drop a call whose id was already done. Empty when the caller gave
	// none.
	InvocationID string
}

// Content is what one message carries, inbound or outbound (the runtime's
// flows.Content; the JSON names are the same): text, buttons (Button),
// quick replies, an image, media or file (Media), a gallery (Card), the
// payload of a tapped button, and the files a user sent (Attachments).
type Content = conv.Content

// Button is a choice shown with a message: one of Payload and URL is set.
type Button = conv.Button

// Media is an image, audio, video or file, by URL: Kind (image, audio,
// video, file), Name, Caption, MIME type and Size when known.
type Media = conv.Media

// Card is one element of a gallery: an image, a title, a subtitle and
// buttons.
type Card = conv.Card

// InboundMessage is one message from a user.
type InboundMessage struct {
	// Sender is the channel's id of the user; Send gets it back as
	// Recipient.
	Sender string `json:"sender"`
	// ID is the provider's id of the message: the runtime handles a
	// message once per ID, so a provider's redelivery is harmless. Empty:
	// no de-duplication.
	ID string `json:"id,omitempty"`
	// Name is the user's name, when the provider says it.
	Name    string    `json:"name,omitempty"`
	Content Content   `json:"content"`
	Time    time.Time `json:"time,omitzero"`
	// ReplyTo is the provider's id of the message this one answers.
	ReplyTo string `json:"reply_to,omitempty"`
	// Thread is the provider's conversation thread (an email thread).
	Thread string `json:"thread,omitempty"`
}

// DeliveryStatus is where an outbound message stands at the provider; the
// values are the runtime's message statuses.
type DeliveryStatus string

// Delivery statuses.
const (
	StatusSent      DeliveryStatus = "sent"
	StatusDelivered DeliveryStatus = "delivered"
	StatusRead      DeliveryStatus = "read"
	StatusFailed    DeliveryStatus = "failed"
)

// StatusUpdate is a delivery receipt, by the id Send returned.
type StatusUpdate struct {
	ExternalID string         `json:"external_id"`
	Status     DeliveryStatus `json:"status"`
	// Error is the provider's reason, for StatusFailed.
	Error string    `json:"error,omitempty"`
	Time  time.Time `json:"time,omitzero"`
}

// Received is what a poll brought: messages and receipts.
type Received struct {
	Messages []InboundMessage
	Statuses []StatusUpdate
}

// WebhookRequest is the HTTP request the runtime received, as it came.
type WebhookRequest struct {
	// Bot is the bot whose webhook URL was called.
	Bot    string
	Method string
	// Path is the request path, /hooks/{bot}/{channel}[/…].
	Path string
	// Query is the raw query string, without "?".
	Query      string
	Header     http.Header
	Body       []byte
	RemoteAddr string
}

// WebhookResult is what to answer a webhook request and what it carried.
type WebhookResult struct {
	// Status is the HTTP status to answer; 0 means 200.
	Status int
	Header http.Header
	Body   []byte
	// Messages and Statuses are stored before the runtime answers.
	Messages []InboundMessage
	Statuses []StatusUpdate
}

// OutboundMessage is one message to send.
type OutboundMessage struct {
	// ID is the runtime's id of the message, the same on every retry: an
	// idempotency key for providers that take one.
	ID string
	// Recipient is the user's id on the channel (InboundMessage.Sender).
	Recipient string
	Content   Content
	// ReplyTo is the provider's id of the message being answered.
	ReplyTo string
	// Thread is the conversation thread to continue (email).
	Thread string
	// LastInbound is when the user last wrote (zero: unknown), for
	// channels with a reply window.
	LastInbound time.Time
	// Metadata carries channel-specific hints (a message tag, a template).
	Metadata map[string]string
}
