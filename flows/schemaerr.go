package flows

import (
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// SchemaLeaves are the innermost causes of a JSON Schema validation error:
// the failures to explain.
func SchemaLeaves(ve *jsonschema.ValidationError) []*jsonschema.ValidationError {
	if len(ve.Causes) == 0 {
		return []*jsonschema.ValidationError{ve}
	}
	var out []*jsonschema.ValidationError
	for _, c := range ve.Causes {
		out = append(out, SchemaLeaves(c)...)
	}
	return out
}

// DeepestSchemaError picks, among the causes of a oneOf or anyOf failure,
// the one whose failures lie deepest in the instance: the branch that
// matched the most before failing is the one the author meant.
func DeepestSchemaError(cs []*jsonschema.ValidationError) *jsonschema.ValidationError {
	var best *jsonschema.ValidationError
	bestDepth := -1
	for _, c := range cs {
		d := 0
		for _, lf := range SchemaLeaves(c) {
			if n := strings.Count(lf.InstanceLocation, "/"); n > d {
				d = n
			}
			if !strings.HasSuffix(lf.KeywordLocation, "/type") {
				d++ // a branch past the type check went further
			}
		}
		if d > bestDepth {
			best, bestDepth = c, d
		}
	}
	return best
}
