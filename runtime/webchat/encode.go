package webchat

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"

	"github.com/switchboard-bots/switchboard/runtime/web"
)

// encoder writes message frames as json.Marshal(messageFrame) would, byte
// for byte, with the envelope written by hand and the content through a
// reused json.Encoder: no reflection over the envelope (its time above
// all) and no allocation per frame. One per connection, under wmu.
type encoder struct {
	frame   messageFrame // the frame being encoded, kept off the heap
	payload []byte
	content bytes.Buffer
	enc     *json.Encoder
}

// message returns the frame's JSON; it is valid until the next call.
func (e *encoder) message(f *messageFrame) ([]byte, error) {
	if y := f.Time.Year(); y < 0 || y > 9999 {
		// Out of RFC 3339's range: json.Marshal has the error.
		return json.Marshal(f)
	}
	if e.enc == nil {
		e.enc = json.NewEncoder(&e.content)
	}
	e.content.Reset()
	if err := e.enc.Encode(&f.Content); err != nil {
		return nil, err
	}
	content := bytes.TrimSuffix(e.content.Bytes(), []byte{'\n'})
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
	if len(content) > 2 {
		b = append(b, ',')
		b = append(b, content[1:]...)
	} else {
		b = append(b, '}')
	}
	if cap(b) <= 64<<10 {
		e.payload = b
	}
	if e.content.Cap() > 64<<10 {
		// A rare large message: do not keep its buffer.
		e.content, e.enc = bytes.Buffer{}, nil
	}
	return b, nil
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
