//go:build race

package web

// raceEnabled: the race detector's instrumentation allocates, so tests
// that count allocations skip that check.
const raceEnabled = true
