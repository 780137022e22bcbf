package blocks

import "github.com/switchboard-bots/switchboard/flows"

// RemoveTag takes tags off the contact.
type RemoveTag struct {
	Tags flows.Templates `yaml:"tags" required:"true" doc:"A tag, or a list of tags, all removed; templates are filled in and tags the contact does not have are ignored."`
}

func init() {
	flows.RegisterBlock(flows.Spec{
		Type:        "remove_tag",
		Title:       "REMOVE TAG",
		Category:    "Data",
		Description: "Removes one or more tags from the contact.",
		Primary:     "tags",
		New:         func() flows.Block { return &RemoveTag{} },
		Example: `/start:
  - add_tag: trial
  - remove_tag: [trial, lead]
  - text: Welcome aboard!`,
	})
}

var _ flows.Enterer = (*RemoveTag)(nil)

// Enter renders and removes every tag.
func (b *RemoveTag) Enter(r flows.Run) flows.Result {
	tags, err := renderTags(r, b.Tags)
	if err != nil {
		return flows.Fail(err)
	}
	for _, t := range tags {
		r.RemoveTag(t)
	}
	return flows.Next()
}
