# Switchboard: the two commands a newcomer needs are `make run` and `make test`.
GO ?= go
PKGS := ./...
# Packages with goroutines of their own run under the race detector too.
RACE_PKGS := ./runtime/... ./cmd/... ./plugins/...

.PHONY: run chat test lint race unit e2e browser-deps examples fuzz bench pgo generate build editor editor-check proto plugins badger-check

build:
	$(GO) build -o bin/switchboard ./cmd/switchboard

# Serve the example bots (web chat demo, REST channel, API) on 127.0.0.1:8080.
# The server replaces the recipe's shell (exec), so Ctrl+C stops it and make
# exits cleanly (under go run, an interrupt made make report an error).
run: build
	@exec bin/switchboard serve --bots flows/examples --data ./data --default-bot support

# Chat with the example support bot in the terminal.
chat:
	$(GO) run ./cmd/switchboard chat flows/examples/support.yaml

# Everything CI runs: formatting, vet, unit tests (with the end-to-end tests
# of e2e/: crash recovery and the browser test), the race detector, and the
# conversation tests of every example bot.
test: lint browser-deps unit race examples

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' ':!third_party' 2>/dev/null || find . -name '*.go' -not -path './third_party/*')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

# Test binaries are built without the compiler's profile (-pgo=off; see
# pgo below): it changes no behaviour, and the main package's tests would
# otherwise build every dependency a second time. The end-to-end tests
# build the binary as shipped, with it.
unit:
	$(GO) test -count=1 -pgo=off $(PKGS)

# The end-to-end tests alone: they build the binary and run `serve`.
e2e: browser-deps
	$(GO) test -count=1 -v ./e2e

# What the browser test needs: Debian's chromium (installed when
# /usr/bin/chromium is missing; root or sudo) and playwright-core from
# e2e/browser/package-lock.json. Without node the browser test is skipped.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
	  echo "Installing Debian's chromium for the browser test"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium fonts-liberation; \
	fi
	@if command -v npm >/dev/null 2>&1; then \
	  cd e2e/browser && npm ci --no-audit --no-fund --loglevel=error; \
	else \
	  echo "npm is not installed: the browser test (e2e/browser) will be skipped"; \
	fi

race:
	$(GO) test -count=1 -race -pgo=off $(RACE_PKGS)

# The web UI (editor/: the console at /console): install its npm packages
# from package-lock.json and build editor/dist, which is committed and
# embedded into the binary. Run it after changing editor/, and commit
# editor/dist with the change: `make test` (TestDistFresh in ./editor)
# fails when dist/ was built from other sources.
editor:
	cd editor && npm ci --no-audit --no-fund --loglevel=error && npm run build

# A stricter check than the source hash: rebuild into a temporary folder
# and compare with the committed editor/dist, file by file.
editor-check:
	@cd editor && npm ci --no-audit --no-fund --loglevel=error && \
	  out=$$(mktemp -d) && trap 'rm -rf "$$out"' EXIT && \
	  npx tsc --noEmit && npx vite build --outDir "$$out" --emptyOutDir --logLevel warn && \
	  if diff -r "$$out" dist >/dev/null; then echo "editor/dist is up to date"; \
	  else diff -rq "$$out" dist; echo "editor/dist differs from a fresh build: run make editor and commit editor/dist"; exit 1; fi

# Badger's own tests against the patched copy in third_party/badger
# (PATCHES.md there): upstream's module of the same version, with these
# sources put over it (the version go.mod requires). About five minutes.
badger-check:
	@badger=$$($(GO) list -m -f '{{.Path}}@{{.Version}}' github.com/dgraph-io/badger/v4) && \
	  dir=$$(mktemp -d) && trap 'chmod -R u+w "$$dir"; rm -rf "$$dir"' EXIT && \
	  src=$$(cd "$$dir" && $(GO) mod download -json "$$badger" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p') && \
	  cp -r "$$src"/. "$$dir" && chmod -R u+w "$$dir" && \
	  (cd third_party/badger && find . -name '*.go' -exec cp {} "$$dir"/{} \;) && \
	  cd "$$dir" && $(GO) test -count=1 -short ./ ./table ./skl ./y

examples:
	$(GO) run ./cmd/switchboard validate --strict flows/examples/*.yaml
	$(GO) run ./cmd/switchboard test flows/examples

# Fuzz the parsers for a while (FUZZTIME=5m make fuzz): bot files, stored
# sessions and their heads in the store, conversation test files, the
# access log line against slog's own, and the REST and web chat frames
# read and written by hand against encoding/json. New findings land in
# testdata.
FUZZTIME ?= 60s
fuzz:
	$(GO) test ./flows -run XXX -fuzz FuzzLoad -fuzztime $(FUZZTIME)
	$(GO) test ./flows -run XXX -fuzz FuzzUnmarshalSession -fuzztime $(FUZZTIME)
	$(GO) test ./runtime/store -run XXX -fuzz FuzzSessionHead -fuzztime $(FUZZTIME)
	$(GO) test ./runtime/convo -run XXX -fuzz FuzzParseTest -fuzztime $(FUZZTIME)
	$(GO) test ./runtime/server -run XXX -fuzz FuzzAccessLine -fuzztime $(FUZZTIME)
	$(GO) test ./runtime/server -run XXX -fuzz FuzzRestRequestScan -fuzztime $(FUZZTIME)
	$(GO) test ./runtime/webchat -run XXX -fuzz FuzzClientFrameScan -fuzztime $(FUZZTIME)
	$(GO) test ./runtime/webchat -run XXX -fuzz FuzzContentEncoding -fuzztime $(FUZZTIME)

bench:
	$(GO) test -run XXX -bench . -benchmem ./runtime/... ./flows/...

# Refresh the profile the compiler optimizes the binary with
# (cmd/switchboard/default.pgo, which every build of ./cmd/switchboard
# uses): the CPU profiles of a server under the REST load and then the web
# chat load of docs/performance.md, merged. Takes about a minute; commit
# the result.
PGO_ADDR := 127.0.0.1:18099
PGO_PPROF := 127.0.0.1:6099
pgo: build
	@set -e; dir=$$(mktemp -d); pid=; load=; \
	trap 'kill $$load $$pid 2>/dev/null; wait 2>/dev/null; rm -rf "$$dir"' EXIT; trap 'exit 130' INT TERM; \
	export PPROF_TMPDIR="$$dir"; \
	SWITCHBOARD_PPROF_ADDR=$(PGO_PPROF) bin/switchboard serve --data "$$dir/data" --addr $(PGO_ADDR) \
	  --ip-rate 0 --webchat-rate 0 >"$$dir/serve.log" 2>&1 & pid=$$!; \
	for i in $$(seq 100); do grep -q 'Press Ctrl+C' "$$dir/serve.log" && break; \
	  kill -0 $$pid 2>/dev/null || { cat "$$dir/serve.log"; exit 1; }; sleep 0.2; done; \
	bin/switchboard load --url http://$(PGO_ADDR) --users 10000 --conns 64 --duration 25s >"$$dir/rest.out" 2>&1 & load=$$!; \
	sleep 3; $(GO) tool pprof -proto -seconds 20 http://$(PGO_PPROF)/debug/pprof/profile >"$$dir/rest.pprof" 2>"$$dir/pprof.log" || \
	  { cat "$$dir/pprof.log"; exit 1; }; \
	wait $$load || { cat "$$dir/rest.out"; exit 1; }; \
	bin/switchboard load --webchat --url http://$(PGO_ADDR) --sockets 2000 --duration 15s >"$$dir/webchat.out" 2>&1 & load=$$!; \
	sleep 4; $(GO) tool pprof -proto -seconds 10 http://$(PGO_PPROF)/debug/pprof/profile >"$$dir/webchat.pprof" 2>"$$dir/pprof.log" || \
	  { cat "$$dir/pprof.log"; exit 1; }; \
	wait $$load || { cat "$$dir/webchat.out"; exit 1; }; load=; \
	$(GO) tool pprof -proto "$$dir/rest.pprof" "$$dir/webchat.pprof" >"$$dir/merged.pgo" 2>"$$dir/pprof.log" || \
	  { cat "$$dir/pprof.log"; exit 1; }; \
	mv "$$dir/merged.pgo" cmd/switchboard/default.pgo; \
	grep -h 'rate:' "$$dir/rest.out" "$$dir/webchat.out"; \
	echo "wrote cmd/switchboard/default.pgo"

generate:
	$(GO) generate ./schema

# Regenerate the plugin protocol's Go code (plugins/proto/…/*.pb.go, which
# is committed: builds need no protoc). protoc is Debian's protobuf-compiler
# (installed when missing; root or sudo); the Go generators are installed at
# pinned versions into bin/tools. The same versions give byte-identical
# output: run it after changing a .proto and commit the result.
PROTOC_GEN_GO_VERSION := v1.36.12
PROTOC_GEN_GO_GRPC_VERSION := v1.6.2
PROTO_DIR := plugins/proto
TOOLS := $(CURDIR)/bin/tools
proto:
	@if ! command -v protoc >/dev/null 2>&1; then \
	  echo "Installing Debian's protobuf-compiler"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends protobuf-compiler; \
	fi
	GOBIN=$(TOOLS) $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)
	GOBIN=$(TOOLS) $(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$(PROTOC_GEN_GO_GRPC_VERSION)
	PATH="$(TOOLS):$$PATH" protoc -I $(PROTO_DIR) \
	  --go_out=$(PROTO_DIR) --go_opt=paths=source_relative \
	  --go-grpc_out=$(PROTO_DIR) --go-grpc_opt=paths=source_relative \
	  $$(cd $(PROTO_DIR) && find . -name '*.proto' | sed 's|^\./||' | LC_ALL=C sort | sed 's|^|$(PROTO_DIR)/|')

# The plugins that come with Switchboard, built into bin/plugins (the
# runtime's default plugins folder; plugins/ holds their sources).
PLUGIN_MAINS = $(wildcard plugins/*/main.go)
plugins:
	@mkdir -p bin/plugins
	@for m in $(PLUGIN_MAINS); do d=$$(dirname $$m); n=$$(basename $$d); \
	  echo "building bin/plugins/$$n"; $(GO) build -o bin/plugins/$$n ./$$d || exit 1; done
