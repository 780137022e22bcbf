package api

// liveChatOpenAPI documents the handovers, canned replies, presence and the
// bots' live-chat settings.
func liveChatOpenAPI() (paths, schemas obj) {
	dateTime := obj{"type": "string", "format": "date-time"}
	statuses := []string{"new", "assigned", "chatting", "pending", "overdue", "resolved", "closed"}
	handover := jsonResp("The handover, as it stands after the call.", ref("Handover"))
	noContent := obj{"description": "Done."}
	action := func(id, summary string, body obj, errs ...string) obj {
		return obj{"post": op(id, summary, "write", []obj{idParam}, body, "200", handover, append([]string{"404", "409", "422"}, errs...)...)}
	}
	optional := func(schema obj) obj {
		return obj{"required": false, "content": obj{"application/json": obj{"schema": schema}}}
	}
	paths = obj{
		"/handovers": obj{"get": op("listHandovers", "Handovers the caller sees (its bots, and for agents the queues of their teams), newest first. status: open (the default: new, assigned, chatting, pending, overdue), all, or one status. assignee: an account id, me, or none. q: words the contact, message, note, form, tags and notes must all hold. A page reads at most the server's search scan; then truncated is true and next_cursor goes on.", "read",
			[]obj{query("status", "open, all, or one status.", obj{"enum": append([]string{"open", "all"}, statuses...)}), query("queue", "Only this queue (team).", str()),
				query("assignee", "An account id, me, or none.", str()), query("bot", "Only this bot.", str()), query("tag", "Only handovers with this tag.", str()),
				query("channel", "Only this channel.", str()), query("contact", "Only this contact's.", str()), query("q", "Words to look for.", str()),
				query("cursor", "next_cursor of the previous page.", str()), limitParam}, nil,
			"200", jsonResp("A page of handovers.", props(nil, obj{"handovers": arrayOf(ref("Handover")), "next_cursor": str(), "truncated": obj{"type": "boolean"}})), "400")},
		"/handovers/analytics": obj{"get": op("handoverAnalytics", "Live-chat figures of the handovers created from from to to (default: the last 30 days, at most 366): per day, time to assign, to first reply and to resolve (median and p90, in seconds), per agent and per queue, and the ratings.", "read",
			[]obj{query("bot", "Only this bot.", str()), query("queue", "Only this queue.", str()), query("from", "A date or RFC 3339 time.", str()), query("to", "A date or RFC 3339 time.", str())}, nil,
			"200", jsonResp("The figures.", obj{"type": "object"}), "400", "422")},
		"/handovers/{id}": obj{
			"get": op("getHandover", "A handover, with its contact, notes, history and deadlines (reply window, idle auto-off, overdue).", "read", []obj{idParam}, nil, "200", jsonResp("The handover.", ref("Handover")), "404"),
			"patch": op("updateHandover", "Change a handover's tags (tags replaces them, add_tags and remove_tags edit them) or set status to pending (waiting on the customer) or back to chatting.", "write", []obj{idParam},
				jsonBody(props(nil, obj{"tags": arrayOf(str()), "add_tags": arrayOf(str()), "remove_tags": arrayOf(str()), "status": obj{"enum": []string{"pending", "chatting"}}})),
				"200", handover, "404", "409", "422"),
		},
		"/handovers/{id}/export": obj{"get": op("exportHandover", "The handover's conversation for download: JSON (the handover and its messages) or CSV (one row a message).", "read",
			[]obj{idParam, query("format", "json (default) or csv.", obj{"enum": []string{"json", "csv"}})}, nil, "200",
			obj{"description": "The conversation.", "content": obj{"application/json": obj{}, "text/csv": obj{"schema": str()}}}, "400", "404")},
		"/handovers/{id}/assign": action("assignHandover", "Assign the handover: to the caller (agent empty or absent) or, for managers and admins, to another agent who works on its bot and queue. The customer is told who joined.",
			optional(props(nil, obj{"agent": str()})), "403"),
		"/handovers/{id}/unassign": action("unassignHandover", "Put the handover back in its queue (its agent, managers and admins).", nil, "403"),
		"/handovers/{id}/transfer": action("transferHandover", "Transfer the handover to an agent, a team (queue), or both, with a note for whoever takes it (kept as an internal note).",
			jsonBody(props(nil, obj{"agent": str(), "team": str(), "note": str()})), "403"),
		"/handovers/{id}/messages": obj{"post": op("replyHandover", "Send an agent's message to the customer: text, an image URL, link buttons, or a canned reply (its counter goes up). Writing to a handover nobody has takes it (takeover & send). After a channel's reply window closed, free text is refused: 409 reply_window_closed.", "write", []obj{idParam},
			jsonBody(props(nil, obj{"text": str(), "canned": str(), "image_url": str(), "buttons": arrayOf(props([]string{"title", "url"}, obj{"title": str(), "url": str()}))})),
			"201", jsonResp("The message as stored, and the handover.", props(nil, obj{"message": ref("Message"), "handover": ref("Handover")})), "404", "409", "422")},
		"/handovers/{id}/skill": obj{"post": op("sendSkill", "Have the bot run one of its skills for the customer (an agent answers with a part of the bot): its messages are sent and the live chat goes on; what the skill would wait for is dropped.", "write", []obj{idParam},
			jsonBody(props([]string{"skill"}, obj{"skill": str()})),
			"200", jsonResp("The messages the skill sent, and the handover.", props(nil, obj{"messages": arrayOf(ref("Message")), "handover": ref("Handover")})), "404", "409", "422")},
		"/handovers/{id}/notes": action("noteHandover", "Add an internal note (never sent to the customer), with a colour: yellow, green, blue, pink, purple, orange or grey.",
			jsonBody(props([]string{"text"}, obj{"text": str(), "color": str()}))),
		"/handovers/{id}/resolve": action("resolveHandover", "Resolve: the customer gets the bot's resolve message (and a rating request when the bot's settings ask for one) and the bot goes on at the LIVE CHAT block's resolved branch.",
			optional(props(nil, obj{"note": str()})), "403"),
		"/handovers/{id}/close": action("closeHandover", "Close (archive) the handover; an open one is resolved first.", nil, "403"),
		"/uploads": obj{"post": op("upload", "Send a file for an agent's reply (multipart form data, field file): an image (PNG, JPEG, GIF, WebP), a PDF or a text file, its type sniffed from its content. The answer's url goes in a reply's image_url, or a link button for other files.", "write", nil,
			obj{"required": true, "content": obj{"multipart/form-data": obj{"schema": props([]string{"file"}, obj{"file": obj{"type": "string", "format": "binary"}})}}},
			"201", jsonResp("The attachment.", props(nil, obj{"url": str(), "kind": str(), "name": str(), "mime": str(), "size": obj{"type": "integer"}})), "413", "415", "501")},
		"/canned-replies": obj{
			"get": op("listCannedReplies", "The canned replies of the caller's bots (of bot), those whose title, shortcut or text holds q.", "read",
				[]obj{query("bot", "Only this bot's.", str()), query("q", "Text to look for; a leading / is ignored.", str())}, nil,
				"200", jsonResp("The canned replies.", props(nil, obj{"canned_replies": arrayOf(ref("CannedReply"))}))),
			"post": op("createCannedReply", "Create a canned reply (managers of the bot and admins): a text, a text with a link button, or an image.", "write", nil,
				jsonBody(ref("CannedReplyInput")), "201", jsonResp("The canned reply.", ref("CannedReply")), "403", "422"),
		},
		"/canned-replies/{id}": obj{
			"patch": op("updateCannedReply", "Change a canned reply; the fields present change.", "write", []obj{idParam},
				jsonBody(ref("CannedReplyInput")), "200", jsonResp("The canned reply.", ref("CannedReply")), "403", "404", "422"),
			"delete": op("deleteCannedReply", "Delete a canned reply.", "write", []obj{idParam}, nil, "204", noContent, "403", "404"),
		},
		"/presence": obj{"get": op("listPresence", "The agents the caller sees, with their presence (online, away, offline), open chats and capacity.", "read", nil, nil,
			"200", jsonResp("The agents.", props(nil, obj{"agents": arrayOf(ref("Presence"))})))},
		"/me/presence": obj{"post": op("setPresence", "Set the caller's presence. An agent with the console open is online or away as they choose, and offline when its last console closes.", "read", nil,
			jsonBody(props([]string{"presence"}, obj{"presence": obj{"enum": []string{"online", "away", "offline"}}})),
			"200", jsonResp("The caller's presence.", ref("Presence")), "400")},
		"/bots/{id}/live-chat": obj{
			"get": op("getLiveChatSettings", "A bot's live-chat settings, defaults filled in.", "read", []obj{idParam}, nil, "200", jsonResp("The settings.", ref("LiveChatSettings")), "404"),
			"put": op("putLiveChatSettings", "Replace a bot's live-chat settings (managers of the bot and admins). Durations are like 30m or 2h; a negative idle_off never turns the live chat off.", "write", []obj{idParam},
				jsonBody(ref("LiveChatSettings")), "200", jsonResp("The settings.", ref("LiveChatSettings")), "403", "404", "422"),
		},
	}
	note := obj{"type": "object", "properties": obj{"id": str(), "author": str(), "author_name": str(), "text": str(), "color": str(), "time": dateTime}}
	transition := obj{"type": "object", "properties": obj{"from": str(), "to": str(), "by": str(), "by_name": str(), "assignee": str(), "assignee_name": str(), "queue": str(), "note": str(), "at": dateTime}}
	schemas = obj{
		"Handover": obj{"type": "object", "properties": obj{
			"id": str(), "bot": str(), "contact": ref("Contact"), "channel": str(), "queue": str(), "priority": str(),
			"message": str(), "note": str(), "form": obj{"type": "object"}, "status": obj{"enum": statuses},
			"assignee": str(), "assignee_name": str(), "tags": arrayOf(str()),
			"created_at": dateTime, "assigned_at": dateTime, "first_reply_at": dateTime, "resolved_at": dateTime, "closed_at": dateTime,
			"last_customer_at": dateTime, "last_agent_at": dateTime, "reply_window_ends_at": dateTime, "idle_off_at": dateTime, "overdue_at": dateTime,
			"resolve_note": str(), "outcome": obj{"enum": []string{"resolved", "no_agent", "timeout"}}, "rating": obj{"type": "integer", "minimum": 1, "maximum": 5},
			"rating_asked": obj{"type": "boolean"}, "notes": arrayOf(note), "history": arrayOf(transition),
		}},
		"CannedReply": obj{"type": "object", "properties": obj{
			"id": str(), "bot": str(), "title": str(), "shortcut": str(), "text": str(), "button_title": str(), "button_url": str(), "image_url": str(),
			"sent": obj{"type": "integer"}, "created_at": dateTime, "updated_at": dateTime,
		}},
		"CannedReplyInput": props(nil, obj{"bot": str(), "title": str(), "shortcut": str(), "text": str(), "button_title": str(), "button_url": str(), "image_url": str()}),
		"Presence":         obj{"type": "object", "properties": obj{"id": str(), "name": str(), "presence": obj{"enum": []string{"online", "away", "offline"}}, "open_chats": obj{"type": "integer"}, "capacity": obj{"type": "integer"}}},
		"LiveChatSettings": props(nil, obj{"idle_off": str(), "resolve_message": str(), "rating": obj{"type": "boolean"}, "offline_message": str(), "notify_webhook": str(), "notify_after": str()}),
	}
	return paths, schemas
}
