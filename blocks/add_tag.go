package blocks

import (
	"strings"

	"github.com/switchboard-bots/switchboard/flows"
)

// AddTag puts tags on the contact.
type AddTag struct {
	Tags flows.Templates `yaml:"tags" required:"true" doc:"A tag, or a list of tags, all added; templates are filled in and tags already there stay as they are."`
}

func init() {
	flows.RegisterBlock(flows.Spec{
		Type:        "add_tag",
		Title:       "ADD TAG",
		Category:    "Data",
		Description: "Tags the contact with one or more tags, for segments, reports and SWITCH conditions like '\"vip\" in contact.tags'.",
		Primary:     "tags",
		New:         func() flows.Block { return &AddTag{} },
		Example: `/start:
  - add_tag: [lead, "plan-{{ contact.plan ?? 'free' }}"]
  - text: "Thanks for stopping by!"`,
	})
}

var _ flows.Enterer = (*AddTag)(nil)

// Enter renders and adds every tag.
func (b *AddTag) Enter(r flows.Run) flows.Result {
	tags, err := renderTags(r, b.Tags)
	if err != nil {
		return flows.Fail(err)
	}
	for _, t := range tags {
		if err := r.AddTag(t); err != nil {
			return flows.Fail(err)
		}
	}
	return flows.Next()
}

// renderTags fills in every tag template; tags that fill in to nothing are
// left out.
func renderTags(r flows.Run, ts flows.Templates) ([]string, error) {
	out := make([]string, 0, len(ts))
	for i := range ts {
		t, err := r.Render(&ts[i])
		if err != nil {
			return nil, err
		}
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out, nil
}
