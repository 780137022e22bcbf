// Package web holds what the runtime's HTTP parts share: the JSON answers
// and the error shape every endpoint uses, and the closing of hijacked
// WebSocket connections.
package web

import (
	"encoding/json"
	"net"

	"github.com/fasthttp/websocket"
	"github.com/valyala/fasthttp"
)

// ErrorBody is the shape of every error response:
// {"error": {"code": "...", "message": "...", "details": ...}}.
type ErrorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Details any    `json:"details,omitempty"`
	} `json:"error"`
}

// Error answers with the error shape: a code a client can act on, a
// message a person can, and optional details.
func Error(ctx *fasthttp.RequestCtx, status int, code, msg string, details any) {
	var b ErrorBody
	b.Error.Code, b.Error.Message, b.Error.Details = code, msg, details
	JSON(ctx, status, b)
}

// JSON answers with v as JSON. Answers are about live state, so no cache
// keeps them.
func JSON(ctx *fasthttp.RequestCtx, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = 500, []byte(`{"error":{"code":"internal","message":"response could not be encoded"}}`)
	}
	ctx.Response.Header.Set("Cache-Control", "no-store")
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	ctx.SetBody(b)
}

// CloseSocket closes a WebSocket upgraded from fasthttp. The hijacked
// connection fasthttp hands over ignores Close (fasthttp closes it itself
// once the handler returns), so the underlying one is closed: that is what
// stops a reader blocked on it.
func CloseSocket(ws *websocket.Conn) error {
	nc := ws.NetConn()
	if u, ok := nc.(interface{ UnsafeConn() net.Conn }); ok {
		nc = u.UnsafeConn()
	}
	return nc.Close()
}
