package blocks_test

import (
	"strings"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/flows"
)

func TestLeadAsksWhatIsMissingAndSavesIt(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - lead:
    - text: "Thanks {{ contact.name }}: {{ contact.email }}, {{ contact.phone }}."
`)
	// Ann's name is known, so LEAD starts with the email.
	want(t, c.say("hi"), "What's your email address?")
	want(t, c.say("not an email"), "That doesn't look right, please try again.")
	want(t, c.say(" Ann@Example.com "), "What's your phone number?")
	want(t, c.say("+1 (555) 010-9999"), "Thanks Ann: ann@example.com, +1 (555) 010-9999.")
	if a := c.Contact.Attributes; a["email"] != "ann@example.com" || a["phone"] != "+1 (555) 010-9999" {
		t.Fatalf("attributes: %#v", a)
	}
}

func TestLeadSkipKnownFalseAndCustomPrompts(t *testing.T) {
	c := newChatWith(t, `
skills:
  /start:
    - lead: [phone, name]
      skip_known: false
      prompts:
        name: "And your name? (I have {{ contact.name }})"
        phone: ["Your number?"]
      retry: "Hmm, {{ input }}?"
    - text: "Bye {{ contact.name }}, {{ contact.phone }}, {{ contact.email }}."
`, nil, &flows.Contact{ID: "c1", Name: "Ann", Attributes: map[string]any{"email": "a@b.co", "phone": "5550100"}})
	want(t, c.say("hi"), "Your number?")
	want(t, c.say("12"), "Hmm, 12?")
	want(t, c.say("555 0101"), "And your name? (I have Ann)")
	want(t, c.say("  Ann Lee "), "Bye Ann Lee, 555 0101, a@b.co.")
}

func TestLeadSkipsEverythingKnown(t *testing.T) {
	c := newChatWith(t, `
skills:
  /start:
    - lead: [email, name]
    - text: done
`, nil, &flows.Contact{ID: "c1", Name: "Ann", Attributes: map[string]any{"email": "a@b.co"}})
	want(t, c.say("hi"), "done")
}

func TestLeadAttemptsAndOnInvalid(t *testing.T) {
	// Without on_invalid, the question is given up and the next one asked.
	c := newChat(t, `
skills:
  /start:
    - lead: [email, phone]
      attempts: 2
    - text: "Done: [{{ contact.email }}] [{{ contact.phone }}]"
`)
	want(t, c.say("hi"), "What's your email address?")
	want(t, c.say("no"), "That doesn't look right, please try again.")
	want(t, c.say("still no"), "What's your phone number?")
	want(t, c.say("5550100"), "Done: [] [5550100]")

	c = newChat(t, `
skills:
  /start:
    - lead: [email]
      attempts: 1
      on_invalid: human
    - text: not reached
  human:
    - text: Let me get a colleague.
`)
	want(t, c.say("hi"), "What's your email address?")
	want(t, c.say("no"), "Let me get a colleague.")
}

func TestLeadTypedAttributeRefusalIsRetried(t *testing.T) {
	c := newChat(t, `
attributes:
  phone: {type: phone, pattern: '^\+.*'}
skills:
  /start:
    - lead: [phone]
      retry: With the country code, please.
    - text: "Got {{ contact.phone }}"
`)
	want(t, c.say("hi"), "What's your phone number?")
	want(t, c.say("555 0100 22"), "With the country code, please.")
	want(t, c.say("+49 555 0100 22"), "Got +49 555 0100 22")
}

func TestLeadTimeoutPerQuestion(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - lead: [email, phone]
      timeout: 10m
      on_timeout: later
    - text: done
  later:
    - text: "Later then ({{ contact.email }})."
`)
	want(t, c.say("hi"), "What's your email address?")
	want(t, c.wait(9*time.Minute))
	want(t, c.say("ann@example.com"), "What's your phone number?")
	// The phone question has its own 10 minutes.
	want(t, c.wait(9*time.Minute))
	want(t, c.wait(time.Minute), "Later then (ann@example.com).")
	want(t, c.wait(time.Hour))
}

func TestLeadLoadErrors(t *testing.T) {
	errs := loadErrors(t, `
skills:
  /start:
    - lead: [email, address, email]
      attempts: -1
    - lead: email
    - lead:
      prompts: {fax: "Fax?"}
`)
	for _, w := range []string{
		`test.yaml:5:7: LEAD cannot ask for "address": ask for name, email or phone`,
		`test.yaml:5:7: LEAD asks for email twice`,
		`test.yaml:5:7: attempts must be 1 or more`,
		`test.yaml:7:13: the value of LEAD must be a list or empty, not "email"`,
		`test.yaml:9:17: unknown field "fax" in "prompts" of the LEAD block`,
	} {
		if !strings.Contains(errs, w) {
			t.Errorf("missing %q in:\n%s", w, errs)
		}
	}
}
