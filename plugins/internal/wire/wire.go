// Package wire holds what both ends of the plugin protocol must agree on
// and that is not in the .proto files: the go-plugin handshake, the name
// the plugin is dispensed under, the environment the host passes, and the
// gRPC message size limits.
package wire

import (
	plugin "github.com/hashicorp/go-plugin"
)

// ProtocolVersion is the go-plugin protocol version of
// switchboard.plugin.v1. A breaking protocol change bumps it together with
// the proto package.
const ProtocolVersion = 1

// Handshake is fixed: a binary that is not a Switchboard plugin, or one of
// another protocol version, is refused at launch. The cookie is not a
// secret; it only stops a plugin binary from being run by hand by mistake.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "SWITCHBOARD_PLUGIN",
	MagicCookieValue: "5b0e9c1a7d2f4e36a8c1b2d3e4f50617-switchboard-plugin",
}

// PluginName is the single entry of the go-plugin plugin set: every plugin
// serves the Plugin service and its kind's service under it.
const PluginName = "switchboard"

// EnvHostPID names the environment variable in which the host passes its
// process id, so that a plugin can tell it has been orphaned (its parent
// changed) and exit by itself.
const EnvHostPID = "SWITCHBOARD_PLUGIN_HOST_PID"

// EnvLogLevel names the environment variable with the plugin's log level
// (trace, debug, info, warn, error).
const EnvLogLevel = "SWITCHBOARD_PLUGIN_LOG_LEVEL"

// MaxMessageSize bounds one gRPC message each way: a webhook body (an email
// with attachments) or an outbound message.
const MaxMessageSize = 32 << 20

// DefaultMaxMediaSize is the most bytes of one attachment FetchMedia
// carries when the request names no limit (FetchMediaRequest.max_size 0).
const DefaultMaxMediaSize = 25 << 20

// MediaChunkSize is the most file bytes one MediaChunk carries.
const MediaChunkSize = 64 << 10
