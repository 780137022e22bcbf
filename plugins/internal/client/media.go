package client

import (
	"context"
	"errors"
	"fmt"
	"io"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/switchboard-bots/switchboard/plugins/internal/wire"
	pb "github.com/switchboard-bots/switchboard/plugins/proto/switchboard/plugin/v1"
	"github.com/switchboard-bots/switchboard/plugins/sdk"
)

// ErrNoMedia is returned by FetchMedia for a channel that does not fetch
// media (no sdk.MediaFetcher).
var ErrNoMedia = errors.New("the channel does not fetch media")

// ErrMediaTooLarge is the failure of a file larger than the most the
// caller takes.
var ErrMediaTooLarge = errors.New("the file is larger than the limit")

// FetchMedia opens the download of an attachment the instance received, by
// its URL as the plugin gave it. The reader gives the file's bytes, at most
// maxSize of them (0: wire.DefaultMaxMediaSize; a larger file fails with
// ErrMediaTooLarge), and exactly
// info.Size when that is known; it must be closed. ctx bounds the whole
// download, reading included. A URL the plugin refuses as not its own
// fails with an error that is sdk.ErrUnknownMedia.
func (c *Conn) FetchMedia(ctx context.Context, instance, url string, maxSize int64) (io.ReadCloser, sdk.MediaInfo, error) {
	if maxSize <= 0 {
		maxSize = wire.DefaultMaxMediaSize
	}
	stream, err := c.channel.FetchMedia(ctx, &pb.FetchMediaRequest{Instance: instance, Url: url, MaxSize: maxSize})
	if err != nil {
		return nil, sdk.MediaInfo{}, mediaTransport(err)
	}
	first, err := stream.Recv()
	if err == io.EOF {
		return nil, sdk.MediaInfo{}, &sdk.Error{Err: errors.New("the plugin ended the media stream without a word"), Retryable: true}
	}
	if err != nil {
		if ctxEnded(ctx, err) != nil {
			err = status.FromContextError(ctx.Err()).Err()
		}
		return nil, sdk.MediaInfo{}, mediaTransport(err)
	}
	if first.Error != nil {
		if ctxEnded(ctx, nil) != nil {
			// The plugin gave up as the call's deadline came.
			return nil, sdk.MediaInfo{}, transport(status.FromContextError(ctx.Err()).Err())
		}
		return nil, sdk.MediaInfo{}, chunkError(first)
	}
	info := sdk.MediaInfo{ContentType: first.ContentType, Name: first.Name, Size: max(first.Size, 0)}
	if info.Size > maxSize {
		return nil, info, tooLarge(maxSize)
	}
	r := &mediaReader{stream: stream, size: info.Size, max: maxSize}
	if err := r.take(first.Data); err != nil {
		return nil, info, err
	}
	return r, info, nil
}

// mediaReader reads a FetchMedia stream. Closing it does not end the
// stream: the caller's ctx does.
type mediaReader struct {
	stream    grpc.ServerStreamingClient[pb.MediaChunk]
	buf       []byte
	total     int64
	size, max int64
	err       error
}

// take accepts the data of the next chunk, or the error it amounts to.
func (r *mediaReader) take(data []byte) error {
	r.total += int64(len(data))
	switch {
	case r.total > r.max:
		return tooLarge(r.max)
	case r.size > 0 && r.total > r.size:
		return &sdk.Error{Err: fmt.Errorf("the plugin sent more than the %d bytes it announced", r.size)}
	}
	r.buf = data
	return nil
}

func (r *mediaReader) Read(p []byte) (int, error) {
	// Each turn takes one chunk or ends the stream; the stream's ctx
	// bounds the turns.
	for len(r.buf) == 0 && r.err == nil {
		ch, err := r.stream.Recv()
		switch {
		case err == io.EOF && r.size > 0 && r.total != r.size:
			r.err = &sdk.Error{Err: fmt.Errorf("the plugin sent %d bytes of the %d it announced", r.total, r.size), Retryable: true}
		case err == io.EOF:
			r.err = io.EOF
		case err != nil:
			r.err = mediaTransport(err)
		case ch.Error != nil:
			r.err = chunkError(ch)
		default:
			r.err = r.take(ch.Data)
		}
	}
	if len(r.buf) == 0 {
		return 0, r.err
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

func (r *mediaReader) Close() error { return nil }

func tooLarge(limit int64) error {
	return &sdk.Error{Err: fmt.Errorf("%w of %d bytes", ErrMediaTooLarge, limit)}
}

// mediaTransport is transport for FetchMedia: Unimplemented is a plugin
// that does not fetch media.
func mediaTransport(err error) error {
	if status.Code(err) == codes.Unimplemented {
		return ErrNoMedia
	}
	return transport(err)
}

// chunkError is the failure a chunk reports.
func chunkError(ch *pb.MediaChunk) error {
	err := fromProtoError(ch.Error)
	if ch.UnknownMedia {
		var e *sdk.Error
		if errors.As(err, &e) {
			e.Err = unknownMedia{e.Err}
		}
	}
	return err
}

// unknownMedia is the plugin's refusal of a URL that is not its own: it
// is sdk.ErrUnknownMedia, with the plugin's words.
type unknownMedia struct{ error }

func (u unknownMedia) Is(target error) bool { return target == sdk.ErrUnknownMedia }
func (u unknownMedia) Unwrap() error        { return u.error }
