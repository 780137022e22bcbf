package blocks_test

import (
	"strings"
	"testing"

	"github.com/switchboard-bots/switchboard/flows"
)

func TestValidationBranchesAndSavesNormalizedValue(t *testing.T) {
	bot := `
skills:
  /start:
    - validation: "  {{ contact.work_email }} "
      validate: email
      save: contact.email
      valid: ok
      invalid: bad
  ok:
    - text: "Valid: {{ contact.email }}"
  bad:
    - text: "Invalid: [{{ contact.email }}]"
`
	c := newChatWith(t, bot, nil, &flows.Contact{ID: "c1", Name: "Ann", Attributes: map[string]any{"work_email": "Ann@Example.COM"}})
	want(t, c.say("hi"), "Valid: ann@example.com")
	c = newChatWith(t, bot, nil, &flows.Contact{ID: "c1", Name: "Ann", Attributes: map[string]any{"work_email": "ann at example"}})
	want(t, c.say("hi"), "Invalid: []")
	c = newChat(t, bot) // no value at all
	want(t, c.say("hi"), "Invalid: []")
}

func TestValidationNumberRangeAndMissingTarget(t *testing.T) {
	bot := `
skills:
  /start:
    - text: How many?
    - listen: raw
    - validation: "{{ raw }}"
      validate: integer
      min: 1
      max: 10
      save: qty
      invalid: again
    - text: "Ordering {{ qty * 2 }} halves."
  again:
    - text: "{{ raw }}? Between 1 and 10, please."
`
	c := newChat(t, bot)
	want(t, c.say("hi"), "How many?")
	want(t, c.say(" 4 "), "Ordering 8 halves.")
	if c.Session.Vars["qty"] != 4.0 {
		t.Fatalf("qty: %#v", c.Session.Vars["qty"])
	}
	for _, bad := range []string{"11", "0", "2.5", "NaN", "Inf", "0x10", "four"} {
		c := newChat(t, bot)
		c.say("hi")
		want(t, c.say(bad), bad+"? Between 1 and 10, please.")
		if _, ok := c.Session.Vars["qty"]; ok {
			t.Fatalf("%s saved: %#v", bad, c.Session.Vars)
		}
	}
}

func TestValidationAttributeTypeRefusalIsInvalid(t *testing.T) {
	c := newChat(t, `
attributes:
  plan: {type: list, options: [free, gold]}
skills:
  /start:
    - validation: silver
      validate: text
      save: contact.plan
      valid: ok
      invalid: bad
  ok:
    - text: ok
  bad:
    - text: "not a plan"
`)
	want(t, c.say("hi"), "not a plan")
}

func TestValidationExpressionAndRegex(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - data: {code: '"AB-1234"', age: 17}
    - validation: "{{ code }}"
      validate: regex
      pattern: '[A-Z]{2}-[0-9]{4}'
      invalid: bad
    - validation: "{{ code }}x"
      validate: regex
      pattern: '[A-Z]{2}-[0-9]{4}'
      valid: bad
    - validation: "{{ age }}"
      validate: expression
      condition: age >= 18
      valid: bad
      invalid: minor
  bad:
    - text: wrong branch
  minor:
    - text: Too young.
`)
	want(t, c.say("hi"), "Too young.")
}

func TestValidationErrorsGoToError(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - validation: x
      validate: expression
      condition: number(input) > 1
      valid: /start
  /_error:
    - text: "Oops: {{ error.message }}"
`)
	if got := c.say("abc"); len(got) != 1 || !strings.HasPrefix(got[0], `Oops: line 7: number(input) > 1: number("abc"): not a number`) {
		t.Fatalf("bot said %q", got)
	}
}

func TestValidationLoadErrors(t *testing.T) {
	errs := loadErrors(t, `
skills:
  /start:
    - validation: "{{ x }}"
      save: input
    - validation: "{{ x }}"
      validate: regex
      pattern: "(["
    - validation: "{{ x }}"
      validate: number
      min: 3
      max: 2
      valid: nowhere
    - validation:
      validate: email
`)
	for _, w := range []string{
		`test.yaml:5:7: VALIDATION needs validate: what the value must be`,
		`test.yaml:5:7: save: "input" is a reserved name`,
		"test.yaml:7:7: pattern \"([\" is not a valid regular expression: error parsing regexp: missing closing ]: `[`",
		`test.yaml:10:7: min (3) is larger than max (2)`,
		`test.yaml:14:14: unknown goto target "nowhere"`,
		`test.yaml:15:18: the value of VALIDATION must be text, not empty`,
	} {
		if !strings.Contains(errs, w) {
			t.Errorf("missing %q in:\n%s", w, errs)
		}
	}
}
