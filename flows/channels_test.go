package flows

import (
	"reflect"
	"strings"
	"testing"
)

func TestChannels(t *testing.T) {
	src := `id: shop
channels:
  - type: telegram
    config: {token: "${TG_TOKEN}", mode: webhook}
  - type: whatsapp
    name: wa-sales
    config:
      phone_id: "123"
      tokens: ["${WA_TOKEN}"]
      header: "Bearer ${WA_TOKEN}"
skills:
  /start:
    - text: hi
`
	bot, ds := Load("shop.yaml", []byte(src))
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	if len(bot.Channels) != 2 || bot.Channels[0].Name != "telegram" || bot.Channels[1].Name != "wa-sales" || bot.Channels[1].Pos.Line != 5 {
		t.Fatalf("channels: %+v", bot.Channels)
	}
	env := map[string]string{"TG_TOKEN": "123:abc", "WA_TOKEN": "EAAB"}
	cfg, secrets, err := bot.Channels[1].ExpandEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"phone_id": "123", "tokens": []any{"EAAB"}, "header": "Bearer EAAB"}
	if !reflect.DeepEqual(cfg, want) || len(secrets) != 2 {
		t.Fatalf("expanded %v, secrets %v", cfg, secrets)
	}
	if bot.Channels[1].Config["header"] != "Bearer ${WA_TOKEN}" {
		t.Fatal("expanding changed the bot's own config")
	}
	_, _, err = bot.Channels[0].ExpandEnv(func(string) string { return "" })
	if err == nil || !strings.Contains(err.Error(), "TG_TOKEN is not set") {
		t.Fatalf("a missing variable: %v", err)
	}
}

func TestChannelErrors(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"channels:\n  - type: telegram\n  - type: telegram\n", `4:5: channel name "telegram" is used twice (first at line 3)`},
		{"channels:\n  - name: x\n", "3:5:"},
		{"channels:\n  - type: Tele Gram\n", "3:11:"},
		{"channels:\n  - type: sms\n    token: x\n", "4:5:"},
	} {
		_, ds := Load("bot.yaml", []byte("id: b\n"+c.src+"skills:\n  /start:\n    - text: hi\n"))
		if !ds.HasErrors() || !strings.Contains(ds.Error(), c.want) {
			t.Errorf("%q: got %v, want %q", c.src, ds, c.want)
		}
	}
}

func TestNotify(t *testing.T) {
	bot, ds := Load("b.yaml", []byte("id: b\nnotify:\n  - on: [new_lead]\n    email: sales@example.com\n  - on: [\"*\"]\n    webhook: true\nskills:\n  /start:\n    - text: hi\n"))
	if ds.HasErrors() || len(bot.Notify) != 2 {
		t.Fatalf("%v %+v", ds, bot)
	}
	if !bot.Notify[0].Wants("new_lead") || bot.Notify[0].Wants("other") || !bot.Notify[1].Wants("anything") {
		t.Fatalf("wants: %+v", bot.Notify)
	}
	for _, c := range []struct{ src, want string }{
		{"  - on: [x]\n    email: a@example.com\n    sms: \"+15550001111\"\n", "sends to one place"},
		{"  - on: [x]\n", "sends to one place"},
		{"  - on: [x]\n    sms: \"555\"\n", "4:10:"},
		{"  - email: a@example.com\n", "3:5:"},
	} {
		_, ds := Load("b.yaml", []byte("id: b\nnotify:\n"+c.src+"skills:\n  /start:\n    - text: hi\n"))
		if !ds.HasErrors() || !strings.Contains(ds.Error(), c.want) {
			t.Errorf("%q: got %v, want %q", c.src, ds, c.want)
		}
	}
}
