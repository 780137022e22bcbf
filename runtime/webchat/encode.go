package webchat

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/runtime/web"
)

// encoder writes message frames as json.Marshal(messageFrame) would, byte
// for byte, by hand: no reflection and no allocation per frame. One per
// connection, under wmu.
type encoder struct {
	frame   messageFrame // the frame being encoded, kept off the heap
	payload []byte
}

// message returns the frame's JSON; it is valid until the next call.
func (e *encoder) message(f *messageFrame) ([]byte, error) {
	if y := f.Time.Year(); y < 0 || y > 9999 {
		// Out of RFC 3339's range: json.Marshal has the error.
		return json.Marshal(f)
	}
	b := append(e.payload[:0], `{"type":`...)
	b = web.AppendJSONString(b, f.Type)
	b = append(b, `,"seq":`...)
	b = strconv.AppendUint(b, f.Seq, 10)
	if f.ID != "" {
		b = append(b, `,"id":`...)
		b = web.AppendJSONString(b, f.ID)
	}
	b = append(b, `,"author":`...)
	b = web.AppendJSONString(b, f.Author)
	b = append(b, `,"time":"`...)
	b = f.Time.AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	// The content's fields follow the envelope's in the same object.
	content := len(b)
	b = appendContent(b, &f.Content)
	if len(b)-content == len("{}") {
		b = append(b[:content], '}')
	} else {
		b[content] = ','
	}
	if cap(b) <= 64<<10 {
		e.payload = b // a rare large message does not keep its buffer
	}
	return b, nil
}

// appendContent appends c's JSON as json.Marshal writes it: its fields in
// their order, empty ones left out.
func appendContent(b []byte, c *flows.Content) []byte {
	b = append(b, '{')
	first := true
	if c.Text != "" {
		b = web.AppendJSONString(appendKey(b, &first, "text"), c.Text)
	}
	if len(c.Buttons) > 0 {
		b = appendButtons(appendKey(b, &first, "buttons"), c.Buttons)
	}
	if len(c.QuickReplies) > 0 {
		b = appendButtons(appendKey(b, &first, "quick_replies"), c.QuickReplies)
	}
	if c.Image != nil {
		b = appendMedia(appendKey(b, &first, "image"), c.Image)
	}
	if c.Media != nil {
		b = appendMedia(appendKey(b, &first, "media"), c.Media)
	}
	if c.File != nil {
		b = appendMedia(appendKey(b, &first, "file"), c.File)
	}
	if len(c.Gallery) > 0 {
		b = append(appendKey(b, &first, "gallery"), '[')
		for i := range c.Gallery {
			if i > 0 {
				b = append(b, ',')
			}
			card := &c.Gallery[i]
			b = append(b, '{')
			cf := true
			if card.Image != "" {
				b = web.AppendJSONString(appendKey(b, &cf, "image"), card.Image)
			}
			b = web.AppendJSONString(appendKey(b, &cf, "title"), card.Title)
			if card.Subtitle != "" {
				b = web.AppendJSONString(appendKey(b, &cf, "subtitle"), card.Subtitle)
			}
			if len(card.Buttons) > 0 {
				b = appendButtons(appendKey(b, &cf, "buttons"), card.Buttons)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if c.Payload != "" {
		b = web.AppendJSONString(appendKey(b, &first, "payload"), c.Payload)
	}
	if len(c.Attachments) > 0 {
		b = append(appendKey(b, &first, "attachments"), '[')
		for i := range c.Attachments {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendMedia(b, &c.Attachments[i])
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// appendKey appends an object's key (a plain one, which needs no escape)
// and its colon, after a comma unless it is the first.
func appendKey(b []byte, first *bool, key string) []byte {
	if !*first {
		b = append(b, ',')
	}
	*first = false
	b = append(append(append(b, '"'), key...), '"', ':')
	return b
}

func appendButtons(b []byte, bs []flows.Button) []byte {
	b = append(b, '[')
	for i := range bs {
		if i > 0 {
			b = append(b, ',')
		}
		b = web.AppendJSONString(append(b, `{"title":`...), bs[i].Title)
		if bs[i].Payload != "" {
			b = web.AppendJSONString(append(b, `,"payload":`...), bs[i].Payload)
		}
		if bs[i].URL != "" {
			b = web.AppendJSONString(append(b, `,"url":`...), bs[i].URL)
		}
		b = append(b, '}')
	}
	return append(b, ']')
}

func appendMedia(b []byte, m *flows.Media) []byte {
	b = web.AppendJSONString(append(b, `{"url":`...), m.URL)
	for _, f := range [...]struct{ key, v string }{{`,"kind":`, m.Kind}, {`,"name":`, m.Name}, {`,"caption":`, m.Caption}, {`,"mime":`, m.MIME}} {
		if f.v != "" {
			b = web.AppendJSONString(append(b, f.key...), f.v)
		}
	}
	if m.Size != 0 {
		b = strconv.AppendInt(append(b, `,"size":`...), m.Size, 10)
	}
	return append(b, '}')
}

// appendAck appends the JSON of an ack frame, as json.Marshal(ackFrame)
// writes it.
func appendAck(dst []byte, id string, duplicate bool) []byte {
	dst = append(dst, `{"type":"ack","id":`...)
	dst = web.AppendJSONString(dst, id)
	if duplicate {
		return append(dst, `,"duplicate":true}`...)
	}
	return append(dst, `,"duplicate":false}`...)
}
