package main

import (
	"errors"
	"fmt"
	"math"
	"runtime/debug"
	"strconv"
	"strings"
)

// minMemoryLimit is the lowest memory limit serve accepts, a floor against
// typos: the server holds about 40 MiB at rest, and a limit below what it
// needs makes the garbage collector run all the time. What a load needs is
// for the operator to measure (docs/operations.md).
const minMemoryLimit = 64 << 20

// memoryUnits are the units of a memory limit, as GOMEMLIMIT takes them.
var memoryUnits = []struct {
	suffix string
	shift  uint
}{{"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10}, {"B", 0}}

// parseMemoryLimit reads the memory_limit setting: "" leaves the Go
// runtime's own (GOMEMLIMIT, or none) and gives 0; "off" gives no limit
// (math.MaxInt64); otherwise a whole number of bytes with an optional
// unit, as GOMEMLIMIT takes it: "100MiB", "1GiB", "104857600" (no sign,
// no space).
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
			num, shift = n, u.shift
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	switch {
	case num == "" || num[0] < '0' || num[0] > '9' || err != nil && !errors.Is(err, strconv.ErrRange):
		return 0, fmt.Errorf("memory limit %q is not a size such as 100MiB or 1GiB (a whole number, then B, KiB, MiB, GiB or TiB), or off", s)
	case err != nil || n > math.MaxInt64>>shift:
		return 0, fmt.Errorf("memory limit %q is too large: give a size such as 1GiB, or off for no limit", s)
	}
	if n <<= shift; n < minMemoryLimit {
		return 0, fmt.Errorf("memory limit %q is below %dMiB, less than the server holds at rest; give at least %dMiB (docs/operations.md says how to choose), or off", s, minMemoryLimit>>20, minMemoryLimit>>20)
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
