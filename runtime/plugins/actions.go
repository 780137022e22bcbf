package plugins

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/plugins/host"
	"github.com/switchboard-bots/switchboard/plugins/sdk"
)

// Actions calls integration plugins' actions for the engine's ACTION block
// (engine.Engine.Actions) and for the runtime's own notifications.
type Actions struct{ Host *host.Host }

var _ flows.ActionInvoker = Actions{}

// Invoke runs "integration.action" with params (none: an empty object),
// as the call from.ID. Parameters or a result that do not match the
// action's schemas fail it for good (see host.IntegrationClient.Invoke).
func (a Actions) Invoke(ctx context.Context, name string, params map[string]any, from flows.ActionCaller) (any, error) {
	integration, action, ok := strings.Cut(name, ".")
	if !ok {
		return nil, fmt.Errorf("%s: an action is named integration.action", name)
	}
	client, ok := a.Host.Integration(integration)
	if !ok {
		return nil, fmt.Errorf("%s: no integration plugin %q is installed", name, integration)
	}
	if params == nil {
		params = map[string]any{}
	}
	body, err := json.Marshal(params)
	if err != nil {
		return nil, fmt.Errorf("%s: the parameters cannot be sent: %w", name, err)
	}
	conv := sdk.Conversation{Bot: from.Bot, ContactID: from.Contact, Channel: from.Channel, Attributes: from.Attributes, InvocationID: from.ID}
	res, err := client.Invoke(ctx, action, body, conv)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(res) == 0 {
		return nil, nil
	}
	var v any
	if err := json.Unmarshal(res, &v); err != nil {
		return nil, fmt.Errorf("%s: the plugin's result is not JSON: %w", name, err)
	}
	return v, nil
}

// ConfigureIntegrations configures the integration plugins from a YAML
// file mapping each integration's name to its configuration, whose strings
// may name environment variables as ${NAME}:
//
//	smtp:
//	  host: smtp.example.com
//	  port: 587
//	  username: bot@example.com
//	  password: "${SMTP_PASSWORD}"
//	  from: bot@example.com
//
// An empty path configures nothing. It returns one error per integration
// that could not be configured; the others run.
func ConfigureIntegrations(ctx context.Context, h *host.Host, path string, getenv func(string) string) ([]error, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("the integrations file: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		pos, msg := flows.YAMLError(b, err)
		return nil, fmt.Errorf("%s:%d:%d: %s", path, pos.Line, pos.Col, msg)
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d:%d: the integrations file maps each integration's name to its configuration", path, root.Line, root.Column)
	}
	var errs []error
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		var config map[string]any
		if err := v.Decode(&config); err != nil {
			errs = append(errs, fmt.Errorf("%s:%d:%d: the configuration of %s is a mapping", path, v.Line, v.Column, k.Value))
			continue
		}
		client, ok := h.Integration(k.Value)
		if !ok {
			errs = append(errs, fmt.Errorf("%s:%d:%d: no integration plugin %q is installed (see switchboard plugin list)", path, k.Line, k.Column, k.Value))
			continue
		}
		expanded, _, err := flows.ExpandEnv("integration "+k.Value, config, getenv)
		if err == nil {
			var body []byte
			if body, err = json.Marshal(expanded); err == nil {
				err = client.Configure(ctx, body)
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s:%d:%d: integration %s: %w", path, k.Line, k.Column, k.Value, err))
		}
	}
	return errs, nil
}
