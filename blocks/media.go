package blocks

import (
	"fmt"
	"net/url"
	"path"
	"strings"

	"github.com/switchboard-bots/switchboard/flows"
)

// Media sends an audio or video clip by URL.
type Media struct {
	Media   flows.Template `yaml:"media" required:"true" doc:"The clip's address: an absolute http(s) URL; templates are filled in."`
	Kind    string         `yaml:"kind" enum:"audio|video" doc:"Whether the clip is audio or video; by default told from the URL's extension (.mp3, .ogg, .wav, .m4a are audio; .mp4, .webm, .mov are video)."`
	Caption flows.Template `yaml:"caption" doc:"Text shown with the clip."`
}

func init() {
	flows.RegisterBlock(flows.Spec{
		Type:        "media",
		Title:       "MEDIA",
		Category:    "Messages",
		Description: "Sends an audio or video clip by URL, with an optional caption; the kind is told from the file extension unless given.",
		Primary:     "media",
		New:         func() flows.Block { return &Media{} },
		Example: `/start:
  - media: https://example.com/media/welcome.mp4
    caption: A one-minute tour of what I can do.
  - media: "https://example.com/media/jingle?lang={{ contact.language ?? 'en' }}"
    kind: audio`,
	})
}

var (
	_ flows.Enterer = (*Media)(nil)
	_ flows.Checker = (*Media)(nil)
)

// mediaKinds maps file extensions to the kind of clip they hold.
var mediaKinds = map[string]string{
	".mp3": "audio", ".ogg": "audio", ".oga": "audio", ".opus": "audio", ".wav": "audio", ".m4a": "audio", ".aac": "audio", ".flac": "audio",
	".mp4": "video", ".m4v": "video", ".webm": "video", ".mov": "video",
}

// mediaKind tells audio from video by the extension of the URL's path.
func mediaKind(u string) string {
	p := u
	if pu, err := url.Parse(u); err == nil {
		p = pu.Path
	}
	return mediaKinds[strings.ToLower(path.Ext(p))]
}

// Check reports a fixed URL that is not a link, or whose kind cannot be told.
func (b *Media) Check(c *flows.Check) {
	checkMediaURL(c, b.Media, "media URL")
	if b.Kind == "" && !strings.Contains(b.Media.Src, "{{") && flows.IsURL(strings.TrimSpace(b.Media.Src)) && mediaKind(strings.TrimSpace(b.Media.Src)) == "" {
		c.Errorf(b.Media.Pos, "cannot tell whether %q is audio or video from its extension: add kind: audio or kind: video", shorten(b.Media.Src))
	}
}

// Enter renders and sends the clip.
func (b *Media) Enter(r flows.Run) flows.Result {
	u, err := renderMediaURL(r, &b.Media, "media URL")
	if err != nil {
		return flows.Fail(err)
	}
	kind := b.Kind
	if kind == "" {
		if kind = mediaKind(u); kind == "" {
			return flows.Fail(fmt.Errorf("cannot tell whether %q is audio or video from its extension: add kind: audio or kind: video to the MEDIA block", shorten(u)))
		}
	}
	caption, err := r.Render(&b.Caption)
	if err != nil {
		return flows.Fail(err)
	}
	r.Send(flows.Content{Media: &flows.Media{URL: u, Kind: kind, Caption: caption}}, nil)
	return flows.Next()
}
