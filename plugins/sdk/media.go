package sdk

import (
	"context"
	"errors"
	"fmt"
	"io"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/switchboard-bots/switchboard/plugins/internal/wire"
	pb "github.com/switchboard-bots/switchboard/plugins/proto/switchboard/plugin/v1"
)

// MediaFetcher is implemented by channels whose attachments cannot be
// downloaded without the channel's credentials: Telegram's file
// references, WhatsApp's media ids. The runtime calls it to show an agent
// a customer's photo or document, so that the URL it stores never holds a
// credential and the agent's browser never talks to the provider.
type MediaFetcher interface {
	// FetchMedia opens the download of an attachment the instance
	// received, by its URL as the plugin gave it (Media.URL). Fetch only
	// URLs of the channel's own form and refuse any other with an error
	// wrapping ErrUnknownMedia, before any request: a credential must
	// never go to a URL someone else chose. The SDK reads the reader to
	// its end and closes it (also when ctx ends, to stop a read that
	// hangs); errors are as Send's (Retryable for a provider's 5xx, Final
	// for its 404). info.Size, when not 0, must be exact.
	FetchMedia(ctx context.Context, instance, url string) (body io.ReadCloser, info MediaInfo, err error)
}

// MediaInfo is what a plugin knows of a file it fetches; empty fields are
// unknown.
type MediaInfo struct {
	// ContentType is the file's MIME type ("image/jpeg").
	ContentType string
	// Name is the file's name ("invoice.pdf").
	Name string
	// Size is the file's size in bytes; 0: unknown.
	Size int64
}

// ErrUnknownMedia is FetchMedia's error for a URL that is not one of the
// channel's attachments: nothing was fetched, and the runtime does not
// ask again. Wrap it to say more
// (fmt.Errorf("%w: not a telegram-file reference", sdk.ErrUnknownMedia)).
var ErrUnknownMedia = errors.New("not an attachment of this channel")

// FetchMedia serves MediaFetcher: the file's information and first bytes,
// then the rest in chunks; a failure as a last chunk with an error.
func (s *channelServer) FetchMedia(r *pb.FetchMediaRequest, stream pb.Channel_FetchMediaServer) error {
	f, ok := s.impl.(MediaFetcher)
	if !ok {
		return status.Error(codes.Unimplemented, "this channel does not fetch media")
	}
	ctx := stream.Context()
	_, err := guard(s.calls, ctx, "FetchMedia", func() (struct{}, error) {
		return struct{}{}, sendMedia(ctx, f, r, stream.Send)
	})
	if err != nil {
		c := &pb.MediaChunk{Error: errorToProto(err)}
		if errors.Is(err, ErrUnknownMedia) {
			// Asking again cannot make the URL the channel's own.
			c.UnknownMedia, c.Error.Retryable, c.Error.RetryAfterMs = true, false, 0
		}
		// When the host is gone this fails too, and there is no one to
		// tell.
		_ = stream.Send(c)
	}
	return nil
}

// sendMedia fetches the file and sends it in chunks of
// wire.MediaChunkSize. It stops once it has sent more than the request's
// max_size, for the host to fail the file (ErrMediaTooLarge there), or
// at once when the size it was told is larger; and when ctx ends, whose
// deadline bounds the loop.
func sendMedia(ctx context.Context, f MediaFetcher, r *pb.FetchMediaRequest, send func(*pb.MediaChunk) error) error {
	limit := r.MaxSize
	if limit <= 0 {
		limit = wire.DefaultMaxMediaSize
	}
	body, info, err := f.FetchMedia(ctx, r.Instance, r.Url)
	if err != nil {
		return err
	}
	if body == nil {
		return Final(errors.New("FetchMedia returned no body"))
	}
	// Closing the body is what stops a read blocked on a provider that
	// went quiet once ctx ends.
	stop := context.AfterFunc(ctx, func() { body.Close() })
	defer func() {
		if stop() {
			body.Close()
		}
	}()
	first := &pb.MediaChunk{ContentType: info.ContentType, Name: info.Name, Size: max(info.Size, 0)}
	if info.Size > limit {
		return send(first)
	}
	var total int64
	for {
		buf := make([]byte, wire.MediaChunkSize)
		n, rerr := fill(ctx, body, buf)
		total += int64(n)
		switch {
		case info.Size > 0 && total > info.Size:
			return Final(fmt.Errorf("the file is longer than the %d bytes its MediaInfo.Size says", info.Size))
		case rerr == io.EOF && info.Size > 0 && total != info.Size:
			return Final(fmt.Errorf("the file has %d bytes, not the %d its MediaInfo.Size says", total, info.Size))
		case rerr != nil && rerr != io.EOF:
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return rerr
		}
		if n > 0 || first != nil {
			c := first
			if c == nil {
				c = &pb.MediaChunk{}
			}
			first, c.Data = nil, buf[:n]
			if err := send(c); err != nil {
				return err
			}
		}
		if rerr == io.EOF || total > limit {
			return nil
		}
	}
}

// fill reads into buf until it is full, the reader ends (io.EOF) or
// fails, or ctx ends.
func fill(ctx context.Context, r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		k, err := r.Read(buf[n:])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
