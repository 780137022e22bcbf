package webchat

import (
	"bytes"
	"testing"
)

// TestFrameHeaders: text frames with 7-, 16- and 64-bit lengths (RFC 6455
// 5.2), unmasked.
func TestFrameHeaders(t *testing.T) {
	for _, c := range []struct {
		n    int
		head []byte
	}{
		{0, []byte{0x81, 0}},
		{125, []byte{0x81, 125}},
		{126, []byte{0x81, 126, 0, 126}},
		{65535, []byte{0x81, 126, 0xff, 0xff}},
		{65536, []byte{0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0}},
		{70000, []byte{0x81, 127, 0, 0, 0, 0, 0, 1, 0x11, 0x70}},
	} {
		var d delivery
		p := bytes.Repeat([]byte{'x'}, c.n)
		d.frame(p)
		if !bytes.Equal(d.buf[:len(c.head)], c.head) || !bytes.Equal(d.buf[len(c.head):], p) {
			t.Errorf("%d bytes: header % x, want % x", c.n, d.buf[:min(len(d.buf), 10)], c.head)
		}
	}
}
