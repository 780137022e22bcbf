package flows

import (
	"fmt"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// ChannelConfig is a channel instance a bot runs on, from the bot file's
// channels list: a plugin channel (type) under a name, with its config.
//
//	channels:
//	  - type: telegram
//	    name: tg-main
//	    config: {token: "${TELEGRAM_TOKEN}", webhook_secret: "${TG_SECRET}"}
//
// Strings of the config may name environment variables as ${NAME}: the
// runtime puts their values in when it configures the channel (ExpandEnv),
// so secrets stay out of bot files, their versions and the API.
type ChannelConfig struct {
	Type   string
	Name   string
	Config map[string]any
	Pos    Pos
}

// channelNamePattern is what a channel's type and name look like: they
// appear in webhook URLs (/hooks/{bot}/{name}).
const channelNamePattern = `^[a-z0-9][a-z0-9_-]{0,63}$`

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// channels reads the bot's channels list (its shape was checked by the
// schema) and refuses a name used twice.
func (l *loader) channels(v *yaml.Node) {
	seen := map[string]Pos{}
	for _, item := range v.Content {
		item = resolveAlias(item)
		c := ChannelConfig{Pos: nodePos(item)}
		for i := 0; i+1 < len(item.Content); i += 2 {
			k, val := item.Content[i], resolveAlias(item.Content[i+1])
			switch k.Value {
			case "type":
				c.Type = val.Value
			case "name":
				c.Name = val.Value
			case "config":
				_ = val.Decode(&c.Config) // an object, by the schema
			}
		}
		if c.Name == "" {
			c.Name = c.Type
		}
		if first, ok := seen[c.Name]; ok {
			l.d.errorf(c.Pos, "channel name %q is used twice (first at line %d): give each channel its own name", c.Name, first.Line)
			continue
		}
		seen[c.Name] = c.Pos
		l.bot.Channels = append(l.bot.Channels, c)
	}
}

// ExpandEnv returns the config with every ${NAME} in its strings replaced
// by the variable's value from getenv (os.Getenv), and the names of the
// keys whose values came from the environment (the secrets to keep out of
// logs). A variable that is not set is an error that names it.
func (c *ChannelConfig) ExpandEnv(getenv func(string) string) (map[string]any, []string, error) {
	return ExpandEnv("channel "+c.Name, c.Config, getenv)
}

// ExpandEnv returns config with every ${NAME} in its strings replaced by
// the variable's value from getenv, and the keys whose values came from the
// environment. what names the config in the error of a variable that is
// not set.
func ExpandEnv(what string, config map[string]any, getenv func(string) string) (map[string]any, []string, error) {
	var secrets []string
	var missing []string
	var expand func(key string, v any) any
	expand = func(key string, v any) any {
		switch x := v.(type) {
		case string:
			out := envRef.ReplaceAllStringFunc(x, func(ref string) string {
				name := ref[2 : len(ref)-1]
				val := getenv(name)
				if val == "" {
					missing = append(missing, name)
				}
				return val
			})
			if out != x {
				secrets = append(secrets, key)
			}
			return out
		case map[string]any:
			m := make(map[string]any, len(x))
			for k, e := range x {
				m[k] = expand(k, e)
			}
			return m
		case []any:
			s := make([]any, len(x))
			for i, e := range x {
				s[i] = expand(key, e)
			}
			return s
		}
		return v
	}
	out, _ := expand("", config).(map[string]any)
	if out == nil {
		out = map[string]any{}
	}
	if len(missing) > 0 {
		return nil, nil, fmt.Errorf("%s: the environment variable %s is not set: set it before starting the server", what, strings.Join(missing, ", "))
	}
	return out, secrets, nil
}

// NotifyTarget is where a bot's notifications go, from the bot file's
// notify list: TRIGGER's notifications and the runtime's own
// (handover_waiting), by name, to the webhook integration, an email
// address or a phone number.
//
//	notify:
//	  - on: [new_lead, handover_waiting]
//	    email: sales@example.com
//	  - on: ["*"]
//	    webhook: true
type NotifyTarget struct {
	// On are the notifications' names; "*" takes every one.
	On      []string
	Webhook bool
	Email   string
	SMS     string
	Pos     Pos
}

// Wants reports whether the target takes the notification name.
func (t *NotifyTarget) Wants(name string) bool {
	for _, o := range t.On {
		if o == "*" || o == name {
			return true
		}
	}
	return false
}

// notify reads the bot's notify list (its shape was checked by the schema).
func (l *loader) notify(v *yaml.Node) {
	for _, item := range v.Content {
		item = resolveAlias(item)
		t := NotifyTarget{Pos: nodePos(item)}
		_ = item.Decode(&struct {
			On      *[]string `yaml:"on"`
			Webhook *bool     `yaml:"webhook"`
			Email   *string   `yaml:"email"`
			SMS     *string   `yaml:"sms"`
		}{&t.On, &t.Webhook, &t.Email, &t.SMS})
		n := 0
		for _, set := range []bool{t.Webhook, t.Email != "", t.SMS != ""} {
			if set {
				n++
			}
		}
		if n != 1 {
			l.d.errorf(t.Pos, "a notify target sends to one place: webhook: true, an email: address or an sms: number")
			continue
		}
		l.bot.Notify = append(l.bot.Notify, t)
	}
}
