package schema_test

import "time"

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
