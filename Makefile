# gatewaylab: the two commands a new user needs are `make scenario` and `make test`.
# Every target installs what is missing first, and only that.
SHELL := /bin/bash
PYTHON ?= python3
GO ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)
VENV := .venv
BIN := $(VENV)/bin
TOXIPROXY_VERSION := 2.12.0
TOXIPROXY := tools/toxiproxy-server-$(TOXIPROXY_VERSION)
CADDY_VERSION := 2.11.9
CADDY := tools/caddy-$(CADDY_VERSION)
GO_SOURCES := $(shell find goservices -name '*.go' -o -name 'go.mod' -o -name 'go.sum')
NAME ?= unclosed-body
VARIANTS ?=
RUNS ?= 5
PYTEST_ARGS ?=
TEST_JOBS ?= 2
# make regress: which scenarios (default: all), trials per build, the git revisions to build (and from which clone).
SCENARIOS ?=
TRIALS ?= 2
CANDIDATE_REF ?=
BASELINE_REF ?=
JUNIT ?= reports/regress/junit.xml
REPO ?=

.PHONY: setup scenario catalogue matrix calibrate regress test test-go test-py bench nginx haproxy postgres docker list clean \
	workshop uplot browser traefik

setup: $(VENV)/.installed bin/refsvc $(TOXIPROXY) nginx haproxy $(CADDY) postgres uplot

$(VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11+ is needed: install python3 and python3-venv." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

bin/refsvc bin/dependency &: $(GO_SOURCES)
	@test -x "$(GO)" || { echo "Go 1.26 is needed to build goservices/: see https://go.dev/doc/install" >&2; exit 1; }
	mkdir -p bin
	# goroutineleakprofile: Go 1.26's own leak detector at /debug/pprof/goroutineleak (experimental).
	cd goservices && GOEXPERIMENT=goroutineleakprofile $(GO) build -o ../bin/ ./cmd/refsvc ./cmd/dependency
	touch bin/refsvc bin/dependency

$(TOXIPROXY):
	@test -x "$(GO)" || { echo "Go is needed to build the Toxiproxy server." >&2; exit 1; }
	mkdir -p tools/.gobin
	GOBIN=$(CURDIR)/tools/.gobin $(GO) install github.com/Shopify/toxiproxy/v2/cmd/server@v$(TOXIPROXY_VERSION)
	mv tools/.gobin/server $@

nginx:
	@scripts/ensure-nginx

# The other gateways (gateway.kind, --gateway): HAProxy from Debian, Caddy built from the Go module proxy (pinned).
haproxy:
	@scripts/ensure-deb haproxy haproxy

$(CADDY):
	@test -x "$(GO)" || { echo "Go is needed to build Caddy." >&2; exit 1; }
	mkdir -p tools/.gobin
	GOBIN=$(CURDIR)/tools/.gobin $(GO) install github.com/caddyserver/caddy/v2/cmd/caddy@v$(CADDY_VERSION)
	mv tools/.gobin/caddy $@

# Traefik v3.6.12 from the Go module proxy (a writable copy of the module, built there): about 12 minutes of
# CPU on 2 cores the first time, so not part of setup (nor of make test); matrix and GATEWAY=traefik need it.
traefik:
	@scripts/ensure-traefik

# uPlot, the interactive timeline's charting library: from the npm registry, pinned by version and sha512.
uplot:
	@scripts/ensure-uplot

# Debian's chromium for the browser tests (Playwright drives it; it never downloads a browser).
browser:
	@scripts/ensure-deb chromium chromium

# The PostgreSQL server binaries, for scenarios with a database (db-pool-leak); its service is never started.
postgres:
	@scripts/ensure-postgres

# The Docker engine (Debian's docker.io) for the docker backend: installed and started when missing (as root).
docker:
	@scripts/ensure-docker

BACKEND ?=
scenario: setup $(if $(filter traefik,$(GATEWAY)),traefik)
	@if [ "$(BACKEND)" = docker ] || { [ -z "$(BACKEND)" ] && grep -qs '^backend: docker' scenarios/$(NAME).yaml; }; then scripts/ensure-docker; fi
	$(BIN)/gatewaylab run $(NAME) $(if $(VARIANTS),--variant $(VARIANTS)) $(if $(BACKEND),--backend $(BACKEND)) $(if $(GATEWAY),--gateway $(GATEWAY))

catalogue: setup docker
	$(BIN)/gatewaylab catalogue $(if $(filter all,$(VARIANTS)),--all-variants) $(if $(JOBS),--jobs $(JOBS))

# The gateway matrix: the scenarios about the gateway's view behind nginx, HAProxy, Caddy and Traefik (GATEWAY=haproxy for one).
GATEWAY ?=
matrix: setup $(if $(filter all traefik,$(or $(GATEWAY),all)),traefik)
	$(BIN)/gatewaylab catalogue --gateway $(or $(GATEWAY),all) $(if $(filter all,$(VARIANTS)),--all-variants)

# Each variant RUNS times; per expectation the measured range, passes and margin (SAVE=1: scenarios/calibration/NAME.json).
calibrate: setup
	@if grep -qs "^backend: docker" scenarios/$(NAME).yaml; then scripts/ensure-docker; fi
	$(BIN)/gatewaylab calibrate $(NAME) --runs $(RUNS) $(if $(VARIANTS),--variant $(VARIANTS)) $(if $(SAVE),--save)

# The pre-release suite: exit 0 all good, 1 a regression or a lost reproduction, 2 bad input or a broken build.
regress: setup
	$(BIN)/gatewaylab regress $(SCENARIOS) --trials $(TRIALS) --junit $(JUNIT) \
		$(if $(CANDIDATE_REF),--candidate-ref $(CANDIDATE_REF)) $(if $(BASELINE_REF),--baseline-ref $(BASELINE_REF)) \
		$(if $(REPO),--repo $(REPO))

# A local web page for a trainer: the scenarios, their code, runs started and watched live, their reports.
PORT ?=
workshop: setup
	$(BIN)/gatewaylab workshop $(if $(PORT),--port $(PORT))

list: $(VENV)/.installed
	$(BIN)/gatewaylab list

# Traefik (for the short real run behind it) is built beside the suites at the lowest CPU priority when it
# is not built yet: scripts/test-with-traefik, which stops the build with make test.
test: setup docker
	@scripts/test-with-traefik $(MAKE) --no-print-directory test-go test-py

test-go:
	cd goservices && $(GO) test -count=1 ./...

# Test files on TEST_JOBS pytest-xdist workers (--dist loadfile: a file's tests and module fixtures stay
# on one worker). The suite mostly waits on bounded loads: two workers took it from 19 1/2 to 10 minutes
# on 2 cores, and its shortened expectations hold under that contention. TEST_JOBS=0: one at a time.
# pytest exits 5 when a selection holds no test; that is not a failure here.
test-py: setup browser
	$(BIN)/python -m pytest -n $(TEST_JOBS) --dist loadfile $(PYTEST_ARGS); rc=$$?; if [ $$rc -eq 5 ]; then rc=0; fi; exit $$rc

bench: setup
	@scripts/ensure-deb wrk wrk
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf bin tools $(VENV)
