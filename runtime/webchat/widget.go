package webchat

import (
	_ "embed"
	"html/template"
	"regexp"

	"github.com/switchboard-bots/switchboard/runtime/web"
	"github.com/valyala/fasthttp"
)

//go:embed widget.js
var widgetJS []byte

// widget serves GET /webchat/widget.js.
func (w *Webchat) widget(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType("text/javascript; charset=utf-8")
	ctx.Response.Header.Set("Cache-Control", "public, max-age=300")
	ctx.Response.Header.Set("X-Content-Type-Options", "nosniff")
	ctx.SetBody(widgetJS)
}

var botIDPattern = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,128}$`)

var demoPage = template.Must(template.New("demo").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Bot}} · Switchboard web chat demo</title>
<style>body{font:16px/1.5 system-ui,sans-serif;margin:2rem;max-width:40rem;color:#222}</style>
</head>
<body>
<h1>Web chat demo</h1>
<p>This page embeds the web chat of the bot <code>{{.Bot}}</code> with one line:</p>
<pre><code>&lt;script src="{{.Origin}}/webchat/widget.js" data-bot="{{.Bot}}"&gt;&lt;/script&gt;</code></pre>
<p>Open the chat with the button at the bottom right. Reload the page: the conversation stays.</p>
<script src="/webchat/widget.js" data-bot="{{.Bot}}" data-open="true"></script>
</body>
</html>
`))

// demo serves GET /webchat/demo?bot=ID: a page with the widget of that bot.
func (w *Webchat) demo(ctx *fasthttp.RequestCtx) {
	bot := string(ctx.QueryArgs().Peek("bot"))
	if bot == "" {
		web.Error(ctx, fasthttp.StatusBadRequest, "missing_bot", "say which bot to chat with: /webchat/demo?bot=ID", nil)
		return
	}
	if !botIDPattern.MatchString(bot) || w.cfg.Pipeline.Bot(bot) == nil {
		web.Error(ctx, fasthttp.StatusNotFound, "unknown_bot", "no such bot is running", nil)
		return
	}
	scheme := "http"
	if ctx.IsTLS() {
		scheme = "https"
	}
	ctx.SetContentType("text/html; charset=utf-8")
	ctx.Response.Header.Set("X-Content-Type-Options", "nosniff")
	demoPage.Execute(ctx, map[string]string{"Bot": bot, "Origin": scheme + "://" + string(ctx.Host())})
}
