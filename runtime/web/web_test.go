package web_test

import (
	"encoding/json"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/switchboard-bots/switchboard/runtime/web"
)

func TestErrorShape(t *testing.T) {
	var ctx fasthttp.RequestCtx
	web.Error(&ctx, 422, "invalid_bot", "the bot has errors", map[string]int{"errors": 2})
	var b web.ErrorBody
	if err := json.Unmarshal(ctx.Response.Body(), &b); err != nil {
		t.Fatal(err)
	}
	if ctx.Response.StatusCode() != 422 || b.Error.Code != "invalid_bot" || b.Error.Message != "the bot has errors" || b.Error.Details == nil {
		t.Fatalf("%d %s", ctx.Response.StatusCode(), ctx.Response.Body())
	}
	if string(ctx.Response.Header.ContentType()) != "application/json" || string(ctx.Response.Header.Peek("Cache-Control")) != "no-store" {
		t.Fatalf("headers: %s", ctx.Response.Header.String())
	}
}

func TestJSONThatCannotBeEncoded(t *testing.T) {
	var ctx fasthttp.RequestCtx
	web.JSON(&ctx, 200, map[string]any{"f": func() {}})
	var b web.ErrorBody
	if err := json.Unmarshal(ctx.Response.Body(), &b); err != nil || ctx.Response.StatusCode() != 500 || b.Error.Code != "internal" {
		t.Fatalf("%d %s", ctx.Response.StatusCode(), ctx.Response.Body())
	}
}
