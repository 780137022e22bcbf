package blocks_test

import (
	"strings"
	"testing"
)

func TestDataSetsInOrderAndConvertsAttributes(t *testing.T) {
	c := newChat(t, `
attributes:
  age: {type: number}
  plan: {type: list, options: [Free, Gold]}
skills:
  /start:
    - data:
        price: 12.5
        quantity: 2
        total: price * quantity
        greeting: '"Hi " + contact.name'
        contact.age: '"42"'
        contact.plan: '"gold"'
        contact.nickname: greeting + "!"
    - text: "{{ greeting }}: {{ total }} at {{ contact.age + 1 }} on {{ contact.plan }} ({{ contact.nickname }})"
`)
	want(t, c.say("hi"), "Hi Ann: 25 at 43 on Gold (Hi Ann!)")
	if c.Contact.Attributes["age"] != 42.0 || c.Contact.Attributes["plan"] != "Gold" {
		t.Fatalf("attributes: %#v", c.Contact.Attributes)
	}
	if c.Session.Vars["total"] != 25.0 {
		t.Fatalf("vars: %#v", c.Session.Vars)
	}
}

func TestDataIncrementAndUnset(t *testing.T) {
	c := newChat(t, `
attributes:
  points: {type: number}
skills:
  /start:
    - data: {coupon: '"SAVE10"', typed: '"7"'}
      increment: {visits: 1, contact.points: 2.5, typed: 3}
    - text: "{{ visits }} {{ contact.points }} {{ typed }} {{ coupon }}"
    - data:
      increment: {visits: 1, contact.points: -0.5}
      unset: [coupon, contact.points, contact.name]
    - text: "{{ visits }} [{{ contact.points }}] [{{ coupon }}] [{{ contact.name }}]"
`)
	want(t, c.say("hi"), "1 2.5 10 SAVE10", "2 [] [] []")
	if _, ok := c.Contact.Attributes["points"]; ok || c.Contact.Name != "" {
		t.Fatalf("contact: %+v", c.Contact)
	}
	if _, ok := c.Session.Vars["coupon"]; ok {
		t.Fatalf("coupon not removed: %#v", c.Session.Vars)
	}
}

func TestDataErrorsNameTheField(t *testing.T) {
	bot := `
attributes:
  age: {type: number}
skills:
  /start:
    - data:
        %s
    - text: not reached
  /_error:
    - text: "Oops: {{ error.message }}"
`
	for _, tc := range []struct{ field, want string }{
		{`contact.age: '"forty"'`, `Oops: set contact.age: attribute age is a number; "forty" is not one`},
		{`x: 'number("abc")'`, `Oops: set x: line 8: number("abc"): number("abc"): not a number`}, // then expr-lang's (1:1)
		{"{}\n      increment: {n: '\"two\"'}", `Oops: increment n: "two" gives "two", which is not a number`},
		{"{n: '\"lots\"'}\n      increment: {n: 1}", `Oops: increment n: its value "lots" is not a number`},
	} {
		c := newChat(t, strings.Replace(bot, "%s", tc.field, 1))
		if got := c.say("hi"); len(got) != 1 || !strings.HasPrefix(got[0], tc.want) {
			t.Errorf("bot said %q, want %q", got, tc.want)
		}
	}
}

func TestDataLoadErrors(t *testing.T) {
	errs := loadErrors(t, `
skills:
  /start:
    - data:
        input: 1
        contact.id: '"x"'
        "my var": 2
      increment: {now: 1}
      unset: [contact.tags]
    - data:
      unset: []
    - data: {total: 1 +}
`)
	for _, w := range []string{
		`test.yaml:5:7: unset: contact.tags cannot be written`,
		`test.yaml:6:9: set: "input" is a reserved name in expressions`,
		`test.yaml:7:9: set: contact.id cannot be written`,
		`test.yaml:8:9: set: "my var" is not a valid variable name`,
		`test.yaml:9:19: increment: "now" is a reserved name`,
		`test.yaml:11:7: DATA does nothing: give it set, increment or unset`,
		`test.yaml:13:23: expression "1 +" does not compile`,
	} {
		if !strings.Contains(errs, w) {
			t.Errorf("missing %q in:\n%s", w, errs)
		}
	}
}

func TestDataRefusesBuiltinNames(t *testing.T) {
	errs := loadErrors(t, `
skills:
  /start:
    - data: {count: 1}
`)
	if !strings.Contains(errs, `test.yaml:5:14: set: "count" is the name of a built-in function`) {
		t.Fatalf("errors: %s", errs)
	}
}

// Expressions can produce Go types the store does not know (1..3 is a
// []int); they are stored as plain lists and maps.
func TestDataStoresExpressionValuesItCanSave(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - data: {nums: '1..3', doubled: 'map(1..3, # * 2)', words: 'split("a b", " ")'}
    - text: "{{ nums }} {{ doubled }} {{ words }} {{ len(nums) }}"
`)
	want(t, c.say("hi"), `[1,2,3] [2,4,6] ["a","b"] 3`)
}
