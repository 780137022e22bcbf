package host

import (
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// entry is one plugin binary to launch.
type entry struct {
	path string
	sum  []byte // nil: not checked
}

// discover lists the plugins of dir (every executable regular file, not
// hidden) and the explicit entries, once each by absolute path.
func discover(dir string, explicit []PluginConfig) ([]entry, error) {
	byPath := map[string]*entry{}
	var order []string
	add := func(path string) *entry {
		if e, ok := byPath[path]; ok {
			return e
		}
		e := &entry{path: path}
		byPath[path] = e
		order = append(order, path)
		return e
	}
	if dir != "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, err
		}
		des, err := os.ReadDir(abs)
		if err != nil {
			return nil, fmt.Errorf("plugins folder: %w", err)
		}
		for _, de := range des {
			if strings.HasPrefix(de.Name(), ".") {
				continue
			}
			p := filepath.Join(abs, de.Name())
			fi, err := os.Stat(p) // follows symlinks
			if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
				continue
			}
			add(p)
		}
	}
	for i, pc := range explicit {
		if pc.Path == "" {
			return nil, fmt.Errorf("plugins[%d]: path is required", i)
		}
		abs, err := filepath.Abs(pc.Path)
		if err != nil {
			return nil, fmt.Errorf("plugins[%d]: %w", i, err)
		}
		e := add(abs)
		if pc.SHA256 != "" {
			sum, err := hex.DecodeString(strings.TrimPrefix(strings.ToLower(pc.SHA256), "sha256:"))
			if err != nil || len(sum) != 32 {
				return nil, fmt.Errorf("plugins[%d]: sha256 must be 64 hexadecimal digits", i)
			}
			e.sum = sum
		}
	}
	sort.Strings(order)
	out := make([]entry, 0, len(order))
	for _, p := range order {
		out = append(out, *byPath[p])
	}
	return out, nil
}
