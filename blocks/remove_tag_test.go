package blocks_test

import (
	"strings"
	"testing"

	"github.com/switchboard-bots/switchboard/flows"
)

func TestRemoveTagRemovesListedTags(t *testing.T) {
	c := newChatWith(t, `
skills:
  /start:
    - remove_tag: [trial, "{{ 'le' + 'ad' }}", never-had-it]
    - text: "Tags: {{ join(contact.tags, ', ') }}"
`, nil, &flows.Contact{ID: "c1", Name: "Ann", Tags: []string{"trial", "vip", "lead"}})
	want(t, c.say("hi"), "Tags: vip")
	if got := strings.Join(c.Contact.Tags, ","); got != "vip" {
		t.Fatalf("tags: %s", got)
	}
}

func TestRemoveTagLoadErrors(t *testing.T) {
	errs := loadErrors(t, `
skills:
  /start:
    - remove_tag: {a: b}
`)
	if w := `test.yaml:5:19: the value of REMOVE TAG must be`; !strings.Contains(errs, w) {
		t.Errorf("missing %q in:\n%s", w, errs)
	}
}
