package flows_test

import (
	"strings"
	"testing"

	"github.com/switchboard-bots/switchboard/flows"
)

// pluginAction stands for a block described at run time, as an integration
// plugin's action is: its parameters are whatever its manifest declares.
type pluginAction struct {
	Params map[string]any `yaml:",inline"`
}

func actionSpec(fields ...flows.Field) flows.Spec {
	return flows.Spec{
		Type: "crm_create_lead", Title: "CRM: CREATE LEAD", Category: "Actions",
		Description: "Creates a lead in the CRM.", Primary: "email",
		Example: "/start:\n  - crm_create_lead: ann@example.com\n",
		New:     func() flows.Block { return &pluginAction{} },
		Fields:  fields,
	}
}

// TestBlocksAddedAtRunTime: a block described at run time joins the
// catalogue and the schema, validates bot files, can be replaced with a
// new description, and once removed no longer loads.
func TestBlocksAddedAtRunTime(t *testing.T) {
	bot := "id: crm\nskills:\n  /start:\n    - crm_create_lead: ann@example.com\n      source: web\n"
	if _, ds := flows.Load("crm.yaml", []byte(bot)); !strings.Contains(ds.Error(), `unknown block type "crm_create_lead"`) {
		t.Fatalf("before: %v", ds)
	}
	err := flows.AddBlock(actionSpec(
		flows.Field{Name: "email", Type: flows.TypeString, Required: true},
		flows.Field{Name: "source", Type: flows.TypeString, Enum: []string{"web", "phone"}},
	))
	if err != nil {
		t.Fatal(err)
	}
	defer flows.RemoveBlock("crm_create_lead")
	if !strings.Contains(string(flows.SchemaJSON()), `"block_crm_create_lead"`) {
		t.Fatal("schema lacks the new block")
	}
	b, ds := flows.Load("crm.yaml", []byte(bot))
	if b == nil {
		t.Fatalf("with the block: %v", ds)
	}
	cfg := b.Skills[0].Blocks[0].Block.(*pluginAction)
	if cfg.Params["email"] != "ann@example.com" || cfg.Params["source"] != "web" {
		t.Fatalf("params: %+v", cfg.Params)
	}
	bad := strings.Replace(bot, "source: web", "source: fax", 1)
	if _, ds := flows.Load("crm.yaml", []byte(bad)); !strings.Contains(ds.Error(), `crm.yaml:5:15: "source" of the CRM: CREATE LEAD block must be one of "web", "phone"`) {
		t.Fatalf("enum not enforced: %v", ds)
	}
	// A new version of the plugin drops the field.
	if err := flows.AddBlock(actionSpec(flows.Field{Name: "email", Type: flows.TypeString})); err != nil {
		t.Fatal(err)
	}
	if _, ds := flows.Load("crm.yaml", []byte(bot)); !strings.Contains(ds.Error(), `unknown field "source"`) {
		t.Fatalf("after replacing: %v", ds)
	}
	flows.RemoveBlock("crm_create_lead")
	if _, ds := flows.Load("crm.yaml", []byte(bot)); !strings.Contains(ds.Error(), `unknown block type`) {
		t.Fatalf("after removing: %v", ds)
	}
}

func TestBuiltinBlocksCannotBeReplacedByAccident(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("registering a second text block did not panic")
		}
	}()
	flows.RegisterBlock(flows.Spec{Type: "text", Title: "TEXT", New: func() flows.Block { return &pluginAction{} }, Fields: []flows.Field{}})
}
