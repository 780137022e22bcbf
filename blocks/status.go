package blocks

import (
	"strings"

	"github.com/switchboard-bots/switchboard/flows"
)

// Status sets the conversation's status, the label agents see.
type Status struct {
	Status flows.Template `yaml:"status" doc:"The new status, e.g. waiting_for_payment; templates are filled in. Empty clears it."`
}

func init() {
	flows.RegisterBlock(flows.Spec{
		Type:        "status",
		Title:       "STATUS",
		Category:    "Data",
		Description: "Sets the conversation's status, the label agents see in the inbox; an empty status clears it.",
		Primary:     "status",
		New:         func() flows.Block { return &Status{} },
		Example: `/start:
  - status: new_lead
  - text: Someone from our team will be with you shortly.
    buttons: [{title: Never mind, goto: done}]
done:
  - status: ""
  - text: No problem, have a nice day.`,
	})
}

var _ flows.Enterer = (*Status)(nil)

// Enter renders and sets the status.
func (b *Status) Enter(r flows.Run) flows.Result {
	s, err := r.Render(&b.Status)
	if err != nil {
		return flows.Fail(err)
	}
	r.SetStatus(strings.TrimSpace(s))
	return flows.Next()
}
