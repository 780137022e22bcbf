package api

import (
	"encoding/json"
	"maps"
	"sync"

	"github.com/valyala/fasthttp"
)

// obj is a JSON object of the OpenAPI document.
type obj = map[string]any

func ref(name string) obj { return obj{"$ref": "#/components/schemas/" + name} }

func arrayOf(items obj) obj { return obj{"type": "array", "items": items} }

func str() obj { return obj{"type": "string"} }

func props(required []string, p obj) obj {
	o := obj{"type": "object", "properties": p, "additionalProperties": false}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

func jsonBody(schema obj) obj {
	return obj{"required": true, "content": obj{"application/json": obj{"schema": schema}}}
}

func jsonResp(desc string, schema obj) obj {
	return obj{"description": desc, "content": obj{"application/json": obj{"schema": schema}}}
}

func query(name, desc string, schema obj) obj {
	return obj{"name": name, "in": "query", "description": desc, "schema": schema}
}

var idParam = obj{"name": "id", "in": "path", "required": true, "schema": str()}

var limitParam = query("limit", "Page size.", obj{"type": "integer", "minimum": 1, "maximum": 500})

// op describes one operation. scope "" is an operation without auth.
func op(id, summary, scope string, params []obj, body obj, ok string, okResp obj, errs ...string) obj {
	o := obj{"operationId": id, "summary": summary}
	if scope == "" {
		o["security"] = []obj{}
	} else {
		o["x-scope"] = scope
		errs = append(errs, "401", "403")
	}
	if len(params) > 0 {
		o["parameters"] = params
	}
	if body != nil {
		o["requestBody"] = body
		errs = append(errs, "400", "413")
	}
	resps := obj{ok: okResp}
	for _, e := range errs {
		resps[e] = obj{"$ref": "#/components/responses/Error"}
	}
	o["responses"] = resps
	return o
}

// document builds the OpenAPI 3.1 document of the API.
func document() obj {
	errResp := jsonResp("An error: a code a client can act on, a message, details.", ref("Error"))
	noContent := obj{"description": "Done."}
	contactPage := props(nil, obj{"contacts": arrayOf(ref("Contact")), "next_cursor": str(), "truncated": obj{"type": "boolean"}})
	doc := obj{
		"openapi": "3.1.0",
		"info": obj{
			"title":       "Switchboard API",
			"version":     "1",
			"description": "Bots, contacts, conversations and events of a Switchboard server. Authenticate with Authorization: Bearer <token>: a sign-in token (POST /auth/login) or an API token. Scopes: read, write (implies read), admin (implies both); each operation names its own in x-scope. Every error is {\"error\": {\"code\", \"message\", \"details\"}}. Request bodies are bounded and unknown fields are refused (code unknown_field).",
		},
		"servers":  []obj{{"url": Prefix}},
		"security": []obj{{"bearer": []string{}}},
		"paths": obj{
			"/openapi.json": obj{"get": op("getOpenAPI", "This document.", "", nil, nil, "200", obj{"description": "The OpenAPI document.", "content": obj{"application/json": obj{}}})},
			"/auth/login": obj{"post": op("login", "Sign in with an email and a password; returns a session token. Attempts are limited per client address and per email (429 with Retry-After).", "", nil,
				jsonBody(props([]string{"email", "password"}, obj{"email": str(), "password": str()})),
				"200", jsonResp("A session token.", props(nil, obj{"token": str(), "expires_at": obj{"type": "string", "format": "date-time"}, "scopes": arrayOf(str())})), "401", "429")},
			"/auth/logout": obj{"post": op("logout", "Revoke the token of the request.", "read", nil, nil, "204", noContent)},
			"/tokens": obj{
				"get": op("listTokens", "List the API tokens (never their secrets).", "admin", nil, nil, "200", jsonResp("The tokens.", props(nil, obj{"tokens": arrayOf(ref("Token"))}))),
				"post": op("createToken", "Create an API token. Its secret is in this answer only.", "admin", nil,
					jsonBody(props([]string{"name", "scopes"}, obj{"name": str(), "scopes": arrayOf(obj{"enum": []string{"read", "write", "admin"}}), "expires_in": obj{"type": "string", "description": "A duration like 720h; empty: no expiry."}})),
					"201", jsonResp("The token, with its secret.", ref("Token"))),
			},
			"/tokens/{id}": obj{"delete": op("revokeToken", "Revoke a token.", "admin", []obj{idParam}, nil, "204", noContent, "404")},
			"/bots":        obj{"get": op("listBots", "List the running bots.", "read", nil, nil, "200", jsonResp("The bots.", props(nil, obj{"bots": arrayOf(ref("Bot"))})))},
			"/bots/{id}": obj{
				"get": op("getBot", "A running bot.", "read", []obj{idParam}, nil, "200", jsonResp("The bot.", ref("Bot")), "404"),
				"put": op("putBot", "Validate a bot file and store it as a new draft version (it does not run until published). The body is the file (application/yaml or application/json), or JSON {\"source\", \"note\", \"format\"}; a note can also come as the query argument note. The file's id must be the path's. A file with errors is 422 invalid_bot, details.diagnostics listing each problem with its line and column; a bot id other than the path's is 422 id_mismatch. A bot that does not run yet may be created this way.", "write",
					[]obj{idParam, query("note", "A note for the version.", str())},
					obj{"required": true, "content": obj{
						"application/yaml": obj{"schema": str()},
						"application/json": obj{"schema": obj{"oneOf": []obj{
							{"type": "object", "description": "A bot file."},
							props([]string{"source"}, obj{"source": str(), "note": str(), "format": obj{"enum": []string{"yaml", "json"}}}),
						}}},
					}},
					"201", jsonResp("The new version.", props(nil, obj{"bot": str(), "version": obj{"type": "integer"}, "warnings": arrayOf(ref("Diagnostic"))})), "404", "415", "422"),
			},
			"/bots/{id}/publish": obj{"post": op("publishBot", "Publish a version: it is validated again, written into the bots folder (replacing the bot's file atomically) and loaded, so it runs when the call returns (202 when the server leaves loading to its folder watcher).", "write", []obj{idParam},
				jsonBody(props([]string{"version"}, obj{"version": obj{"type": "integer", "minimum": 1}})),
				"200", jsonResp("The running version.", ref("Published")), "404", "409", "422", "501")},
			"/bots/{id}/rollback": obj{"post": op("rollbackBot", "Publish an older version's source again, as a new version (noted \"rollback to n\"): the history keeps growing.", "write", []obj{idParam},
				jsonBody(props([]string{"version"}, obj{"version": obj{"type": "integer", "minimum": 1}})),
				"200", jsonResp("The running version.", ref("Published")), "404", "409", "422", "501")},
			"/bots/{id}/versions": obj{"get": op("listBotVersions", "A bot's stored versions, newest first, without their source.", "read",
				[]obj{idParam, query("cursor", "next_cursor of the previous page.", str()), limitParam}, nil,
				"200", jsonResp("A page of versions.", props(nil, obj{"versions": arrayOf(ref("BotVersion")), "next_cursor": str()})), "400", "404")},
			"/bots/{id}/versions/{n}": obj{"get": op("getBotVersion", "A stored version's bot file; its number in X-Bot-Version.", "read",
				[]obj{idParam, {"name": "n", "in": "path", "required": true, "schema": obj{"type": "integer", "minimum": 1}}}, nil, "200",
				obj{"description": "The bot file.", "content": obj{"application/yaml": obj{"schema": str()}, "application/json": obj{}}}, "404")},
			"/bots/{id}/source": obj{"get": op("getBotSource", "The running version's bot file, as loaded; its version in ETag.", "read", []obj{idParam}, nil, "200",
				obj{"description": "The bot file.", "content": obj{"application/yaml": obj{"schema": str()}, "application/json": obj{}}}, "404")},
			"/blocks": obj{"get": op("listBlocks", "The block catalogue: every block type's spec, for the editor, and the actions the ACTION block can call (from the integration plugins), with their parameter and result schemas.", "read", nil, nil, "200",
				jsonResp("The block specs.", props(nil, obj{"categories": arrayOf(str()), "blocks": arrayOf(obj{"type": "object"}), "actions": arrayOf(ref("Action"))})))},
			"/plugins": obj{"get": op("listPlugins", "The plugins: each one's name, version, kind, state (running, restarting, failed, stopped), restarts and last error; a channel's capabilities and config schema; an integration's actions. Never a configuration.", "read", nil, nil, "200",
				jsonResp("The plugins.", props(nil, obj{"plugins": arrayOf(obj{"type": "object", "properties": obj{
					"name": str(), "version": str(), "kind": obj{"enum": []string{"channel", "integration"}}, "path": str(), "status": str(),
					"restarts": obj{"type": "integer"}, "last_error": str(), "description": str(), "capabilities": obj{"type": "object"},
					"config_schema": obj{"type": "object"}, "actions": arrayOf(ref("Action")),
				}})})))},
			"/contacts": obj{"get": op("listContacts", "List contacts in ID order. With q, only those whose id, name, external id, channel, status, tags or attributes hold every word of q; such a page reads a bounded number of contacts and may be short, with a next_cursor.", "read",
				[]obj{query("bot", "Only this bot's contacts.", str()), query("q", "Words to look for.", str()), query("cursor", "next_cursor of the previous page.", str()), limitParam}, nil,
				"200", jsonResp("A page of contacts.", contactPage))},
			"/contacts/{id}": obj{
				"get": op("getContact", "A contact.", "read", []obj{idParam}, nil, "200", jsonResp("The contact.", ref("Contact")), "404"),
				"patch": op("updateContact", "Change a contact's name, attributes (merged; null removes; declared attributes are converted to their type, or 422 invalid_attribute) and tags.", "write", []obj{idParam},
					jsonBody(props(nil, obj{"name": str(), "attributes": obj{"type": "object"}, "tags": arrayOf(str()), "add_tags": arrayOf(str()), "remove_tags": arrayOf(str())})),
					"200", jsonResp("The changed contact.", ref("Contact")), "404", "422"),
				"delete": op("deleteContact", "Delete a contact and everything of it: its conversation, session, timers and handovers (admins). A later message from the same person starts a new contact.", "admin", []obj{idParam}, nil, "204", obj{"description": "Deleted."}, "404"),
			},
			"/contacts/{id}/ban":   obj{"post": op("banContact", "Ban a contact: its messages are stored and never reach the bot.", "write", []obj{idParam}, nil, "200", jsonResp("The contact.", ref("Contact")), "404")},
			"/contacts/{id}/unban": obj{"post": op("unbanContact", "Lift a ban.", "write", []obj{idParam}, nil, "200", jsonResp("The contact.", ref("Contact")), "404")},
			"/contacts/{id}/messages": obj{"get": op("listMessages", "A page of the conversation, ascending. No cursor: the latest; before: older; after: newer (after=0: from the start). next_cursor goes on in the same direction.", "read",
				[]obj{idParam, query("before", "Messages older than this cursor.", str()), query("after", "Messages newer than this cursor.", str()), limitParam}, nil,
				"200", jsonResp("A page of messages.", props(nil, obj{"messages": arrayOf(ref("Message")), "next_cursor": str()})), "404")},
			"/contacts/{id}/messages/{seq}/attachments/{n}": obj{"get": op("getAttachment", "A file the customer sent, fetched through the channel's plugin (Telegram, WhatsApp: channels whose attachments need the channel's credentials), for those who may see the conversation. The attachments of such messages name this path in their proxy_url. Images, audio, video, PDF and plain text come with their type (inline); anything else as application/octet-stream with Content-Disposition: attachment; always with X-Content-Type-Options: nosniff and Content-Security-Policy: sandbox. 404: no such message, or no such attachment of the customer's; 409 media_unavailable: the message's channel fetches no media (open the attachment's url); 422 attachment_not_fetchable: the channel's plugin does not take the attachment's url as its own; 502 provider_error (or media_too_large, over 25 MiB): the provider failed; 504 timeout.", "read",
				[]obj{idParam,
					{"name": "seq", "in": "path", "required": true, "description": "The message's seq.", "schema": obj{"type": "integer", "minimum": 1}},
					{"name": "n", "in": "path", "required": true, "description": "The attachment's index in content.attachments, from 0.", "schema": obj{"type": "integer", "minimum": 0}}}, nil,
				"200", obj{"description": "The file.", "content": obj{"*/*": obj{"schema": obj{"type": "string", "format": "binary"}}}}, "404", "409", "422", "502", "504")},
			"/contacts/{id}/events": obj{"post": op("sendEvent", "Send a named event to a contact: the CATCH skill for it takes over (a WAITFOR for it resumes).", "write", []obj{idParam},
				jsonBody(props([]string{"name"}, obj{"name": str(), "data": obj{"type": "object"}})),
				"200", jsonResp("What the step produced.", props(nil, obj{"contact": ref("Contact"), "caught": obj{"type": "boolean"}, "replies": arrayOf(ref("Message"))})), "404", "409")},
			"/conversations": obj{"get": op("listConversations", "List conversations: contacts with at least one message, in contact ID order, each with its latest message and a preview. bot, status, channel and tag (exact matches on the contact) narrow the list. One page reads at most a bounded number of contacts (the server's search scan); then truncated is true and next_cursor goes on, so a page may be short.", "read",
				[]obj{query("bot", "Only this bot's conversations.", str()), query("status", "Only contacts with this status.", str()), query("channel", "Only contacts of this channel.", str()),
					query("tag", "Only contacts with this tag.", str()), query("cursor", "next_cursor of the previous page.", str()), limitParam}, nil,
				"200", jsonResp("A page of conversations.", props(nil, obj{"conversations": arrayOf(ref("Conversation")), "next_cursor": str(), "truncated": obj{"type": "boolean"}, "scanned": obj{"type": "integer"}})))},
			"/messages/search": obj{"get": op("searchMessages", "Messages holding every word of q, in one conversation (contact) or across conversations (of bot, or all). One page reads at most a bounded number of messages; then truncated is true and next_cursor goes on.", "read",
				[]obj{query("q", "Words to look for.", str()), query("contact", "Search this conversation only.", str()), query("bot", "Search this bot's conversations only.", str()),
					query("cursor", "next_cursor of the previous page.", str()), query("limit", "Most matches per page.", obj{"type": "integer", "minimum": 1, "maximum": maxSearchLimit})}, nil,
				"200", jsonResp("Matching messages.", props(nil, obj{"messages": arrayOf(ref("Message")), "next_cursor": str(), "truncated": obj{"type": "boolean"}, "scanned": obj{"type": "integer"}})), "404")},
		},
		"components": obj{
			"securitySchemes": obj{"bearer": obj{"type": "http", "scheme": "bearer"}},
			"responses":       obj{"Error": errResp},
			"schemas": obj{
				"Error":      props([]string{"error"}, obj{"error": props([]string{"code", "message"}, obj{"code": str(), "message": str(), "details": obj{}})}),
				"Token":      obj{"type": "object", "properties": obj{"id": str(), "name": str(), "scopes": arrayOf(str()), "created_at": str(), "expires_at": str(), "token": str()}},
				"Bot":        obj{"type": "object", "properties": obj{"id": str(), "name": str(), "version": str(), "file": str(), "skills": arrayOf(str())}},
				"Action":     obj{"type": "object", "properties": obj{"name": str(), "description": str(), "params": obj{"type": "object"}, "result": obj{"type": "object"}}},
				"Diagnostic": obj{"type": "object", "properties": obj{"line": obj{"type": "integer"}, "col": obj{"type": "integer"}, "severity": obj{"enum": []string{"error", "warning"}}, "message": str()}},
				"BotVersion": obj{"type": "object", "properties": obj{
					"bot": str(), "version": obj{"type": "integer"}, "format": obj{"enum": []string{"yaml", "json"}}, "author": str(), "note": str(),
					"created_at": str(), "published": obj{"type": "boolean"}, "running": obj{"type": "boolean"}, "sha256": str(),
				}},
				"Published": obj{"type": "object", "properties": obj{"bot": str(), "version": obj{"type": "integer"}, "file": str(), "running": obj{"type": "boolean"}, "rolled_back_to": obj{"type": "integer"}}},
				"Contact": obj{"type": "object", "properties": obj{
					"id": str(), "bot": str(), "channel": str(), "external_id": str(), "name": str(),
					"attributes": obj{"type": "object"}, "tags": arrayOf(str()), "status": str(), "banned": obj{"type": "boolean"},
					"created_at": str(), "updated_at": str(),
				}},
				"Conversation": obj{"type": "object", "properties": obj{
					"contact": ref("Contact"), "last_message_at": obj{"type": "string", "format": "date-time"}, "preview": str(), "last_message": ref("Message"),
				}},
				"Message": obj{"type": "object", "properties": obj{
					"contact": str(), "seq": obj{"type": "integer"}, "id": str(), "time": str(),
					"direction": obj{"enum": []string{"in", "out"}}, "author": str(), "agent": str(), "channel": str(), "status": str(),
					"attempts": obj{"type": "integer"}, "error": str(),
					"content": obj{"type": "object", "description": "What the message carries: text, buttons, image, media, file, gallery, payload, attachments. Each attachment is {url, kind, name, caption, mime, size}; those of a customer's message whose channel fetches them also have proxy_url, the path this API serves the file at (getAttachment).",
						"properties": obj{"attachments": arrayOf(ref("Attachment"))}},
				}},
				"Attachment": obj{"type": "object", "properties": obj{
					"url": str(), "kind": obj{"enum": []string{"image", "audio", "video", "file"}}, "name": str(), "caption": str(), "mime": str(), "size": obj{"type": "integer"},
					"proxy_url": obj{"type": "string", "description": "Where this API serves the file (GET, authenticated): set when the message's channel fetches its attachments."},
				}},
			},
		},
	}
	// The API's parts add their own operations and schemas.
	paths, schemas := doc["paths"].(obj), doc["components"].(obj)["schemas"].(obj)
	for _, part := range []func() (paths, schemas obj){accountsOpenAPI, liveChatOpenAPI} {
		p, s := part()
		maps.Copy(paths, p)
		maps.Copy(schemas, s)
	}
	return doc
}

var openAPIJSON = sync.OnceValue(func() []byte {
	b, err := json.MarshalIndent(document(), "", "  ")
	if err != nil {
		panic(err)
	}
	return b
})

func (a *API) openAPI(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType("application/json")
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.SetBody(openAPIJSON())
}
