package main

import "github.com/switchboard-bots/switchboard/runtime/web"

// The load tool decodes every answer it checks, on the cores it shares with
// the server it measures; encoding/json took a quarter of its CPU. These
// readers decode the two shapes it reads (the REST answer and a web chat
// frame) in one pass with web.Scanner, and decline what it does not fully
// understand (a number that is not a plain unsigned integer, too): the
// caller then decodes with encoding/json, which gives the same result or
// the error to report.

// decodeReplies decodes a REST answer; ok false: use encoding/json.
func decodeReplies(b []byte) (out []reply, ok bool) {
	s := web.NewScanner(b)
	if s.Peek() == '[' {
		out = []reply{} // as encoding/json makes of []
	}
	ok = s.Array(func() bool {
		var r reply
		ok := s.Object(func(key string) bool {
			switch key {
			case "recipient_id":
				return s.Str(&r.RecipientID)
			case "text":
				return s.Str(&r.Text)
			case "buttons":
				return scanButtons(s, &r.Buttons)
			}
			return s.Other(key, "recipient_id", "text", "buttons")
		})
		out = append(out, r)
		return ok
	})
	return out, ok && s.End()
}

// decodeFrame decodes a web chat frame; ok false: use encoding/json.
func decodeFrame(b []byte, f *wcFrame) (ok bool) {
	s := web.NewScanner(b)
	ok = s.Object(func(key string) bool {
		switch key {
		case "type":
			return s.Str(&f.Type)
		case "contact":
			return s.Object(func(key string) bool {
				if key == "visitor" {
					return s.Str(&f.Contact.Visitor)
				}
				return s.Other(key, "visitor")
			})
		case "seq":
			return s.Uint(&f.Seq)
		case "id":
			return s.Str(&f.ID)
		case "author":
			return s.Str(&f.Author)
		case "text":
			return s.Str(&f.Text)
		case "buttons":
			return scanButtons(s, &f.Buttons)
		case "quick_replies":
			return scanButtons(s, &f.QuickReplies)
		case "duplicate":
			return s.Bool(&f.Duplicate)
		case "code":
			return s.Str(&f.Code)
		case "message":
			return s.Str(&f.Message)
		}
		return s.Other(key, "type", "contact", "seq", "id", "author", "text", "buttons", "quick_replies", "duplicate", "code", "message")
	})
	return ok && s.End()
}

func scanButtons(s *web.Scanner, dst *[]replyButton) bool {
	if s.Peek() == 'n' {
		*dst = nil
		return s.Literal("null")
	}
	*dst = []replyButton{}
	return s.Array(func() bool {
		var b replyButton
		ok := s.Object(func(key string) bool {
			switch key {
			case "title":
				return s.Str(&b.Title)
			case "payload":
				return s.Str(&b.Payload)
			}
			return s.Other(key, "title", "payload")
		})
		*dst = append(*dst, b)
		return ok
	})
}
