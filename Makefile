# The two commands of the README: `make run` and `make test`.
# Without DATABASE_URL both use the private PostGIS under ./.data, which
# `wangge db up` installs (apt), creates and starts on first use.

GO      ?= go
BIN     := bin/wangge
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)
DBURL    = $${DATABASE_URL:-$$($(BIN) db url)}

.PHONY: run test build db-up db-stop vet staticcheck fmt-check gotest frontend frontend-test test-deps bench-seed

build: frontend
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/wangge

# private PostGIS up → migrate → seed the demo city if empty → serve on 127.0.0.1:8080
run: build db-up
	DATABASE_URL=$(DBURL) $(BIN) migrate
	DATABASE_URL=$(DBURL) $(BIN) seed --if-empty --demo-accounts
	DATABASE_URL=$(DBURL) $(BIN) serve -demo-feed $${WANGGE_DEMO_FEED:-8s}

# private PostGIS up → gofmt → go vet → staticcheck → go test -race → front-end tests
# (installing chromium and a CJK font for them when missing)
test: build db-up fmt-check vet staticcheck gotest frontend-test

db-up: build
	@if [ -z "$$DATABASE_URL" ]; then $(BIN) db up; fi

db-stop: build
	$(BIN) db stop

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

# Pinned in go.mod as a tool, so every machine runs the same version.
staticcheck:
	$(GO) tool staticcheck ./...

# The independent MVT decoder (Node @mapbox/vector-tile) the tile tests call.
DECODER := tiles/testdata/mvtdecode
$(DECODER)/node_modules: $(DECODER)/package-lock.json
	cd $(DECODER) && npm ci --no-audit --no-fund
	touch $@

# WANGGE_REQUIRE_DB=1: a database test fails rather than skips without PostGIS.
gotest: $(DECODER)/node_modules test-deps
	DATABASE_URL=$(DBURL) WANGGE_REQUIRE_DB=1 $(GO) test -race -count=1 -timeout 20m ./...

# The map front end (frontend/): built by Vite into frontend/dist/app, which
# the binary embeds. Without npm the binary serves dist/placeholder.html.
NPM := $(shell command -v npm 2>/dev/null)
FRONTEND_APP := frontend/dist/app/index.html
FRONTEND_SRC := $(shell find frontend/src frontend/public -type f 2>/dev/null) \
	frontend/index.html frontend/vite.config.js frontend/package.json

frontend: $(if $(NPM),$(FRONTEND_APP))
	@if [ -z "$(NPM)" ]; then echo "frontend: no npm; the binary serves a placeholder page at /"; fi

frontend/node_modules/.package-lock.json: frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund
	touch $@

$(FRONTEND_APP): frontend/node_modules/.package-lock.json $(FRONTEND_SRC)
	cd frontend && npm run build

# What the browser tests need on a fresh Debian machine: chromium (or
# $CHROMIUM) and a CJK font, since the map's labels are Chinese. Installed
# with apt when missing, as root, the way `wangge db up` installs PostGIS;
# otherwise the one command to run is printed.
test-deps:
	@missing=""; \
	if [ -z "$$CHROMIUM" ] && [ ! -x /usr/bin/chromium ]; then missing=" chromium"; fi; \
	if ! fc-list :lang=zh family 2>/dev/null | grep -q .; then missing="$$missing fonts-wqy-microhei"; fi; \
	if ! command -v ogrinfo >/dev/null; then missing="$$missing gdal-bin"; fi; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then \
	    echo "make test: the browser and OGC client tests need$$missing; run: sudo apt-get install -y --no-install-recommends$$missing"; exit 1; \
	  fi; \
	  echo "make test: installing$$missing with apt (once per machine)"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# Vitest unit tests, then Playwright (Debian's chromium) against a real
# `bin/wangge serve` on a throwaway seeded database.
frontend-test: build db-up test-deps
	DATABASE_URL=$(DBURL) WANGGE_BIN=$(CURDIR)/$(BIN) npm --prefix frontend test

bench-seed: build db-up
	DATABASE_URL=$(DBURL) $(GO) run ./bench/seedbench --scale 1
