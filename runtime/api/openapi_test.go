package api_test

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/fasthttp/router"

	"github.com/switchboard-bots/switchboard/runtime/api"
)

// TestOpenAPICoversRoutes: every route under /api/v1 is in the document,
// and every operation of the document is routed.
func TestOpenAPICoversRoutes(t *testing.T) {
	e := start(t)
	status, body := e.do("GET", "/api/v1/openapi.json", "", "")
	if status != 200 {
		t.Fatalf("%d %s", status, body)
	}
	var doc struct {
		OpenAPI string `json:"openapi"`
		Servers []struct{ URL string }
		Paths   map[string]map[string]json.RawMessage
	}
	mustJSON(t, body, &doc)
	if doc.OpenAPI != "3.1.0" || len(doc.Servers) != 1 || doc.Servers[0].URL != api.Prefix {
		t.Fatalf("header: %+v", doc)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			documented[strings.ToUpper(method)+" "+api.Prefix+path] = true
		}
	}
	r := router.New()
	api.New(api.Config{}).Mount(r)
	routed := map[string]bool{}
	for method, paths := range r.List() {
		for _, p := range paths {
			if strings.HasPrefix(p, api.Prefix+"/") {
				routed[method+" "+p] = true
			}
		}
	}
	var missing, unrouted []string
	for k := range routed {
		if !documented[k] {
			missing = append(missing, k)
		}
	}
	for k := range documented {
		if !routed[k] {
			unrouted = append(unrouted, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(unrouted)
	if len(missing) > 0 || len(unrouted) > 0 {
		t.Fatalf("routes not in the document: %v\ndocumented but not routed: %v", missing, unrouted)
	}
	if len(routed) < 18 {
		t.Fatalf("only %d routes: %v", len(routed), routed)
	}
}
