// Package testhook lets sdktest reach into the SDK without widening its
// public API: package sdk fills these in at init.
package testhook

import (
	"context"
	"io"

	plugin "github.com/hashicorp/go-plugin"
)

// Serve serves impl (a sdk.Channel or sdk.Integration) in-process, in
// go-plugin's test mode, until ctx is done; the reattach configuration is
// sent on reattach and closed is closed once the server has stopped.
var Serve func(ctx context.Context, impl any, reattach chan<- *plugin.ReattachConfig, closed chan struct{}) error

// SetLogOutput sends the output of sdk.Logger to w until restore is called.
var SetLogOutput func(w io.Writer) (restore func())
