package api

// accountsOpenAPI documents /me, /agents and /teams.
func accountsOpenAPI() (paths, schemas obj) {
	integer := obj{"type": "integer"}
	boolean := obj{"type": "boolean"}
	dateTime := obj{"type": "string", "format": "date-time"}
	roles := obj{"enum": []string{"admin", "manager", "agent"}}
	modes := obj{"enum": []string{"off", "round_robin", "least_busy"}}
	idList := arrayOf(str())
	agentID := obj{"name": "id", "in": "path", "required": true, "schema": str(), "description": "An account id."}
	teamID := obj{"name": "id", "in": "path", "required": true, "schema": obj{"type": "string", "pattern": "^[a-z0-9_-]{1,64}$"}, "description": "A team id: the queue name."}
	noContent := obj{"description": "Done."}
	paths = obj{
		// These replace the sign-in operations of document(): the
		// sign-in sets cookies and answers the CSRF token and the account.
		"/auth/login": obj{"post": op("login", "Sign in with an email and a password. Answers a session token (send it as Authorization: Bearer) and also sets the cookies "+SessionCookie+" (the token; HttpOnly, SameSite=Strict, Secure over TLS) and "+CSRFCookie+" (readable by scripts). A request authenticated by the cookie that is not GET or HEAD must send the header "+CSRFHeader+" with the "+CSRFCookie+" value (csrf_token here), else 403 csrf. Attempts are limited per client address and per email (429 with Retry-After). A disabled account is 401 account_disabled.", "", nil,
			jsonBody(props([]string{"email", "password"}, obj{"email": str(), "password": str()})),
			"200", jsonResp("A session.", props(nil, obj{"token": str(), "expires_at": dateTime, "scopes": arrayOf(str()), "csrf_token": str(), "account": ref("Me")})), "401", "429")},
		"/auth/logout": obj{"post": op("logout", "Revoke the token of the request and clear the session cookies.", "read", nil, nil, "204", noContent)},
		"/me": obj{"get": op("getMe", "Who the request is made by: a signed-in account (its role, bots, teams and capacity) or a program (an API token: its scopes).", "read", nil, nil,
			"200", jsonResp("The caller.", ref("Me")))},
		"/agents": obj{
			"get": op("listAgents", "List the accounts the caller may see, in ID order: all of them for an admin or a program; for a manager or an agent, itself and the managers and agents that share one of its bots.", "read",
				[]obj{query("role", "Only accounts with this role.", roles), query("bot", "Only accounts working on this bot.", str()), query("team", "Only accounts in this team.", str())}, nil,
				"200", jsonResp("The accounts.", props(nil, obj{"agents": arrayOf(ref("Agent"))}))),
			"post": op("createAgent", "Create an account. Admins create any role; a manager creates agents and gives them only bots it has itself (403 not_your_bot). Without a password, a one-time password is generated and is in this answer only. A taken email is 409 email_taken; a team that does not exist is 422 unknown_team.", "write", nil,
				jsonBody(props([]string{"email"}, obj{
					"email": str(), "name": str(), "role": roles, "bots": idList, "teams": idList,
					"capacity": obj{"type": "integer", "minimum": 0, "maximum": maxCapacity, "description": "Most open chats at once; 0: the default, 5."},
					"password": obj{"type": "string", "minLength": minPasswordLen},
				})),
				"201", jsonResp("The account, with a generated password when none was given.", ref("Agent")), "409", "422"),
		},
		"/agents/{id}": obj{
			"get": op("getAgent", "An account the caller may see (else 404).", "read", []obj{agentID}, nil, "200", jsonResp("The account.", ref("Agent")), "404"),
			"patch": op("updateAgent", "Change an account: the fields present change. An admin changes anything; a manager changes the agents all of whose bots it has, giving only its own bots; everyone changes their own name and password (with current_password). An account cannot disable or demote itself, and the last enabled admin cannot be disabled or demoted (409). A new password ends the account's other sign-ins; a disabled account's tokens answer 401 account_disabled while it is disabled.", "write", []obj{agentID},
				jsonBody(props(nil, obj{
					"name": str(), "role": roles, "bots": idList, "teams": idList,
					"capacity": obj{"type": "integer", "minimum": 0, "maximum": maxCapacity}, "disabled": boolean,
					"password": obj{"type": "string", "minLength": minPasswordLen}, "current_password": str(),
				})),
				"200", jsonResp("The changed account.", ref("Agent")), "404", "409", "422"),
			"delete": op("deleteAgent", "Delete an account and every token it signed in with or created. Not oneself; not the last enabled admin (409).", "write", []obj{agentID}, nil, "204", noContent, "404", "409"),
		},
		"/teams": obj{
			"get": op("listTeams", "List the teams (live-chat queues) in ID order.", "read", nil, nil, "200", jsonResp("The teams.", props(nil, obj{"teams": arrayOf(ref("Team"))}))),
			"post": op("createTeam", "Create a team. Its id is the queue name a bot's LIVE CHAT block uses; it cannot change. A taken id is 409 team_exists.", "admin", nil,
				jsonBody(props([]string{"id"}, obj{
					"id": obj{"type": "string", "pattern": "^[a-z0-9_-]{1,64}$"}, "name": str(), "auto_assign": modes,
					"reply_target_seconds": obj{"type": "integer", "minimum": 0, "description": "No agent reply within it makes a handover overdue; 0: the default, 300."},
				})),
				"201", jsonResp("The team.", ref("Team")), "409"),
		},
		"/teams/{id}": obj{
			"get": op("getTeam", "A team.", "read", []obj{teamID}, nil, "200", jsonResp("The team.", ref("Team")), "404"),
			"patch": op("updateTeam", "Change a team's name, auto-assignment or reply target.", "admin", []obj{teamID},
				jsonBody(props(nil, obj{"name": str(), "auto_assign": modes, "reply_target_seconds": obj{"type": "integer", "minimum": 0}})),
				"200", jsonResp("The changed team.", ref("Team")), "404"),
			"delete": op("deleteTeam", "Delete a team. Accounts keep the team in their list and its queue keeps its handovers: a queue is a name.", "admin", []obj{teamID}, nil, "204", noContent, "404"),
		},
	}
	schemas = obj{
		"Me": obj{"type": "object", "properties": obj{
			"id": str(), "name": str(), "email": str(), "role": roles, "bots": idList, "teams": idList,
			"all_bots": obj{"type": "boolean", "description": "The caller sees every bot (an admin, a program): bots does not narrow anything."},
			"capacity": integer, "scopes": arrayOf(obj{"enum": []string{"read", "write", "admin"}}), "program": boolean,
		}},
		"Agent": obj{"type": "object", "properties": obj{
			"id": str(), "email": str(), "name": str(), "role": roles, "bots": idList, "teams": idList,
			"capacity": integer, "disabled": boolean, "created_at": dateTime, "updated_at": dateTime,
			"password": obj{"type": "string", "description": "A generated one-time password: in the answer that creates the account only."},
		}},
		"Team": obj{"type": "object", "properties": obj{
			"id": str(), "name": str(), "auto_assign": modes, "reply_target_seconds": integer, "created_at": dateTime, "updated_at": dateTime,
		}},
	}
	return paths, schemas
}
