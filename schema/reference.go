package schema

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/switchboard-bots/switchboard/flows"
)

// Reference renders the block reference (docs/blocks.md) from the Specs.
func Reference() []byte {
	var b bytes.Buffer
	specs := flows.BlockSpecs()
	b.WriteString("# Block reference\n\n")
	b.WriteString("<!-- Generated from the block Specs by `go generate ./schema`; do not edit. -->\n\n")
	b.WriteString("A block is a mapping whose one type key names the block; the type key's value fills the block's main field (marked *main* below), and its other fields sit beside it. Every block also takes the common keys `id` (a name `goto` can target), `next` (where to go after it instead of the block below) and `ui` (the editor's position). See [bot files](bot-files.md) for the whole format and [expressions](expressions.md) for what conditions and `{{ templates }}` can use.\n\n")
	byCat := map[string][]*flows.Spec{}
	for _, s := range specs {
		byCat[s.Category] = append(byCat[s.Category], s)
	}
	for _, c := range flows.Categories {
		if len(byCat[c]) == 0 {
			continue
		}
		fmt.Fprintf(&b, "- **%s**:", c)
		for i, s := range byCat[c] {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, " [%s](#%s)", s.Title, anchor(s))
		}
		b.WriteString("\n")
	}
	for _, c := range flows.Categories {
		for _, s := range byCat[c] {
			writeSpec(&b, s)
		}
	}
	return b.Bytes()
}

func anchor(s *flows.Spec) string {
	return strings.ToLower(strings.ReplaceAll(s.Title, " ", "-")) + "-" + strings.ReplaceAll(s.Type, "_", "_")
}

func writeSpec(b *bytes.Buffer, s *flows.Spec) {
	fmt.Fprintf(b, "\n## %s `%s`\n\n", s.Title, s.Type)
	fmt.Fprintf(b, "*%s.* %s\n\n", s.Category, s.Description)
	if s.Primary == "" {
		fmt.Fprintf(b, "Written as `%s: true`.\n\n", s.Type)
	}
	b.WriteString("| field | type | default | description |\n|---|---|---|---|\n")
	for _, f := range s.Fields {
		name := f.Name
		if f.Name == s.Primary {
			name = fmt.Sprintf("%s (*main*: the value of `%s:`)", f.Name, s.Type)
		}
		writeField(b, name, f, 0)
	}
	fmt.Fprintf(b, "\nExample:\n\n```yaml\nskills:\n%s\n```\n", indent(s.Example, "  "))
}

func writeField(b *bytes.Buffer, name string, f flows.Field, depth int) {
	if depth > 4 {
		return
	}
	desc := f.Description
	if f.Required {
		desc = "**Required.** " + desc
	}
	if len(f.Enum) > 0 {
		desc += " One of: `" + strings.Join(f.Enum, "`, `") + "`."
	}
	def := ""
	if f.Default != "" {
		def = "`" + f.Default + "`"
	}
	fmt.Fprintf(b, "| `%s` | %s | %s | %s |\n", name, typeName(f), def, strings.ReplaceAll(desc, "|", `\|`))
	switch f.Type {
	case flows.TypeObject:
		for _, sub := range f.Fields {
			writeField(b, name+"."+sub.Name, sub, depth+1)
		}
	case flows.TypeList:
		if f.Items.Type == flows.TypeObject {
			for _, sub := range f.Items.Fields {
				writeField(b, strings.SplitN(name, " ", 2)[0]+"[]."+sub.Name, sub, depth+1)
			}
		}
	}
}

func typeName(f flows.Field) string {
	switch f.Type {
	case flows.TypeList:
		if f.Items.Type == flows.TypeObject {
			return "list of objects"
		}
		return "list of " + typeName(*f.Items)
	case flows.TypeMap:
		return "map of " + typeName(*f.Values)
	case flows.TypeTemplates:
		return "template or list of variants"
	case flows.TypeTarget:
		return "skill or block id"
	}
	return f.Type
}

func indent(s, pre string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = pre + l
		}
	}
	return strings.Join(lines, "\n")
}
