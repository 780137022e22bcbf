package webchat

import "github.com/switchboard-bots/switchboard/runtime/web"

// scanClientFrame reads the usual client frame (a hello, a message, a
// tap, a read receipt: string fields and after) in one pass with
// web.Scanner; false: decode with encoding/json, which also takes data,
// attachments, escapes and nulls, and reports errors.
func scanClientFrame(b []byte, f *clientFrame) bool {
	s := web.NewScanner(b)
	if s.Peek() != '{' {
		return false
	}
	ok := s.Object(func(key string) bool {
		var dst *string
		switch key {
		case "type":
			dst = &f.Type
		case "bot":
			dst = &f.Bot
		case "token":
			dst = &f.Token
		case "id":
			dst = &f.ID
		case "text":
			dst = &f.Text
		case "payload":
			dst = &f.Payload
		case "name":
			dst = &f.Name
		case "after":
			return s.Peek() != 'n' && s.Uint(&f.After)
		default:
			return s.Other(key, "type", "bot", "token", "after", "id", "text", "payload", "name", "data", "attachments")
		}
		return s.Peek() == '"' && s.Str(dst)
	})
	return ok && s.End()
}
