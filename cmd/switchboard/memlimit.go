package main

import (
	"fmt"
	"math"
	"runtime/debug"
	"strconv"
	"strings"
)

// minMemoryLimit is the lowest memory limit serve accepts: the server
// holds about 40 MiB at rest, and a limit below what it needs makes the
// garbage collector run all the time.
const minMemoryLimit = 32 << 20

// memoryUnits are the units of a memory limit, as GOMEMLIMIT takes them.
var memoryUnits = []struct {
	suffix string
	shift  uint
}{{"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10}, {"B", 0}}

// parseMemoryLimit reads the memory_limit setting: "" leaves the Go
// runtime's own (GOMEMLIMIT, or none) and gives 0; "off" gives no limit
// (math.MaxInt64); otherwise a whole number of bytes with an optional
// unit, as GOMEMLIMIT takes it: "100MiB", "1GiB", "104857600".
func parseMemoryLimit(s string) (int64, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "":
		return 0, nil
	case "off":
		return math.MaxInt64, nil
	}
	num, shift := s, uint(0)
	for _, u := range memoryUnits {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			num, shift = strings.TrimSpace(n), u.shift
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64>>shift {
		return 0, fmt.Errorf("memory limit %q is not a size such as 100MiB or 1GiB (units B, KiB, MiB, GiB, TiB), or off", s)
	}
	if n <<= shift; n < minMemoryLimit {
		return 0, fmt.Errorf("memory limit %q is below the %d MiB the server needs to run; give at least %dMiB, or off", s, minMemoryLimit>>20, minMemoryLimit>>20)
	}
	return n, nil
}

// applyMemoryLimit sets the Go runtime's soft memory limit to limit (0
// leaves it) and returns the function that restores the previous one.
func applyMemoryLimit(limit int64) (restore func()) {
	if limit == 0 {
		return func() {}
	}
	prev := debug.SetMemoryLimit(limit)
	return func() { debug.SetMemoryLimit(prev) }
}

// fmtMemoryLimit says a limit the way the setting takes it.
func fmtMemoryLimit(limit int64) string {
	if limit == math.MaxInt64 {
		return "off"
	}
	for _, u := range memoryUnits {
		if u.shift > 0 && limit%(1<<u.shift) == 0 {
			return strconv.FormatInt(limit>>u.shift, 10) + u.suffix
		}
	}
	return strconv.FormatInt(limit, 10) + "B"
}
