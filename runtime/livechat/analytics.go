package livechat

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/switchboard-bots/switchboard/runtime/access"
	"github.com/switchboard-bots/switchboard/runtime/store"
)

// AnalyticsQuery selects the handovers analytics count: those created in
// [From, To) of Bot and Queue (empty: all the principal sees).
type AnalyticsQuery struct {
	Bot, Queue string
	From, To   time.Time
	// Scan bounds the handovers read; 0 means 50,000.
	Scan int
}

// Durations are the median and 90th percentile of a duration, in seconds,
// over Count handovers.
type Durations struct {
	Count    int     `json:"count"`
	MedianS  float64 `json:"median_s"`
	P90S     float64 `json:"p90_s"`
	durSlice []float64
}

func (d *Durations) add(from, to time.Time) {
	if from.IsZero() || to.IsZero() || to.Before(from) {
		return
	}
	d.durSlice = append(d.durSlice, to.Sub(from).Seconds())
}

func (d *Durations) finish() {
	v := d.durSlice
	d.Count = len(v)
	if len(v) == 0 {
		return
	}
	sort.Float64s(v)
	d.MedianS = quantile(v, 0.5)
	d.P90S = quantile(v, 0.9)
}

// quantile of sorted v, by nearest rank.
func quantile(v []float64, q float64) float64 {
	i := int(q*float64(len(v))+0.999999) - 1
	return v[max(0, min(i, len(v)-1))]
}

// Group is the figures of one agent or queue.
type Group struct {
	Key           string    `json:"key"`
	Name          string    `json:"name,omitempty"`
	Handovers     int       `json:"handovers"`
	Resolved      int       `json:"resolved"`
	FirstReply    Durations `json:"time_to_first_reply"`
	Resolve       Durations `json:"time_to_resolve"`
	RatingCount   int       `json:"rating_count"`
	RatingAverage float64   `json:"rating_average"`
	ratingSum     int
}

// Analytics are live-chat figures over a period.
type Analytics struct {
	From       time.Time    `json:"from"`
	To         time.Time    `json:"to"`
	Handovers  int          `json:"handovers"`
	PerDay     []DayCount   `json:"per_day"`
	Assign     Durations    `json:"time_to_assign"`
	FirstReply Durations    `json:"time_to_first_reply"`
	Resolve    Durations    `json:"time_to_resolve"`
	ByAgent    []*Group     `json:"by_agent"`
	ByQueue    []*Group     `json:"by_queue"`
	Ratings    RatingCounts `json:"ratings"`
	// Truncated: the scan bound was reached; the figures cover the newest
	// handovers of the period only.
	Truncated bool `json:"truncated,omitempty"`
}

// DayCount is the handovers created on one day (UTC).
type DayCount struct {
	Day   string `json:"day"`
	Count int    `json:"count"`
}

// RatingCounts are the customers' ratings.
type RatingCounts struct {
	Count   int            `json:"count"`
	Average float64        `json:"average"`
	Counts  map[string]int `json:"counts"`
}

// maxAnalyticsDays bounds the period of one analytics query.
const maxAnalyticsDays = 366

// Analytics computes the figures of the handovers the principal sees.
func (s *Service) Analytics(ctx context.Context, by *access.Principal, q AnalyticsQuery) (*Analytics, error) {
	if q.To.IsZero() {
		q.To = s.cfg.Now()
	}
	if q.From.IsZero() {
		q.From = q.To.AddDate(0, 0, -30)
	}
	if !q.From.Before(q.To) || q.To.Sub(q.From) > maxAnalyticsDays*24*time.Hour {
		return nil, fmt.Errorf("%w: the period is from before to, at most %d days", ErrInvalid, maxAnalyticsDays)
	}
	if q.Scan <= 0 {
		q.Scan = 50000
	}
	a := &Analytics{From: q.From, To: q.To, Ratings: RatingCounts{Counts: map[string]int{}}}
	days := map[string]int{}
	agents, queues := map[string]*Group{}, map[string]*Group{}
	group := func(m map[string]*Group, key string) *Group {
		g, ok := m[key]
		if !ok {
			g = &Group{Key: key}
			m[key] = g
		}
		return g
	}
	ratingSum, reachedStart := 0, false
	// Ids sort by creation time: the scan starts at the end of the period
	// and stops at its beginning.
	cursor := store.NewHandoverID(q.To)
	_, more, err := s.cfg.Store.ScanHandovers(ctx, false, cursor, q.Scan, func(h *store.Handover) bool {
		if h.CreatedAt.Before(q.From) {
			reachedStart = true
			return false
		}
		if !h.CreatedAt.Before(q.To) || !by.SeesQueue(h.Bot, h.Queue) || (q.Bot != "" && h.Bot != q.Bot) || (q.Queue != "" && h.Queue != q.Queue) {
			return true
		}
		a.Handovers++
		days[h.CreatedAt.UTC().Format(time.DateOnly)]++
		a.Assign.add(h.CreatedAt, h.AssignedAt)
		a.FirstReply.add(h.CreatedAt, h.FirstReplyAt)
		a.Resolve.add(h.CreatedAt, h.ResolvedAt)
		gs := []*Group{group(queues, h.Queue)}
		if h.Assignee != "" {
			gs = append(gs, group(agents, h.Assignee))
		}
		for _, g := range gs {
			g.Handovers++
			if !h.ResolvedAt.IsZero() {
				g.Resolved++
			}
			g.FirstReply.add(h.CreatedAt, h.FirstReplyAt)
			g.Resolve.add(h.CreatedAt, h.ResolvedAt)
			if h.Rating > 0 {
				g.RatingCount++
				g.ratingSum += h.Rating
			}
		}
		if h.Rating > 0 {
			a.Ratings.Count++
			a.Ratings.Counts[fmt.Sprint(h.Rating)]++
			ratingSum += h.Rating
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	// Stopping at the scan bound rather than at the period's start leaves
	// its oldest handovers out.
	a.Truncated = more && !reachedStart
	for d := q.From.UTC().Truncate(24 * time.Hour); d.Before(q.To); d = d.AddDate(0, 0, 1) {
		key := d.Format(time.DateOnly)
		a.PerDay = append(a.PerDay, DayCount{Day: key, Count: days[key]})
	}
	for _, d := range []*Durations{&a.Assign, &a.FirstReply, &a.Resolve} {
		d.finish()
	}
	if a.Ratings.Count > 0 {
		a.Ratings.Average = float64(ratingSum) / float64(a.Ratings.Count)
	}
	finish := func(m map[string]*Group, named bool) []*Group {
		out := make([]*Group, 0, len(m))
		for _, g := range m {
			g.FirstReply.finish()
			g.Resolve.finish()
			if g.RatingCount > 0 {
				g.RatingAverage = float64(g.ratingSum) / float64(g.RatingCount)
			}
			if named {
				g.Name = s.nameOf(ctx, g.Key)
			}
			out = append(out, g)
		}
		slices.SortFunc(out, func(a, b *Group) int { return b.Handovers - a.Handovers })
		return out
	}
	a.ByAgent, a.ByQueue = finish(agents, true), finish(queues, false)
	return a, nil
}
