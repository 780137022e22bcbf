package blocks_test

import (
	"strings"
	"testing"
)

func TestFileNameDefaultsToLastPathSegment(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - file: "https://example.com/docs/price%20list.pdf?token=abc"
      caption: Our prices
    - file: "https://example.com/invoices/{{ contact.id }}"
      name: "invoice-{{ contact.id }}.pdf"
    - file: https://example.com
`)
	ms := c.sayMsgs("hi")
	if len(ms) != 3 || ms[0].File == nil || ms[1].File == nil || ms[2].File == nil {
		t.Fatalf("got %+v", ms)
	}
	if f := ms[0].File; f.URL != "https://example.com/docs/price%20list.pdf?token=abc" || f.Name != "price list.pdf" || f.Kind != "file" || f.Caption != "Our prices" {
		t.Errorf("first: %+v", f)
	}
	if f := ms[1].File; f.URL != "https://example.com/invoices/c1" || f.Name != "invoice-c1.pdf" {
		t.Errorf("second: %+v", f)
	}
	if f := ms[2].File; f.Name != "" {
		t.Errorf("a URL without a path has no name: %+v", f)
	}
}

func TestFileLoadErrors(t *testing.T) {
	errs := loadErrors(t, `
skills:
  /start:
    - file: "ftp://example.com/a.pdf"
      name: "{{ 1 + }}"
`)
	for _, w := range []string{
		`test.yaml:5:14: file URL "ftp://example.com/a.pdf" is not a link`,
		`test.yaml:6:19: expression "1 +" does not compile`,
	} {
		if !strings.Contains(errs, w) {
			t.Errorf("missing %q in:\n%s", w, errs)
		}
	}
}
