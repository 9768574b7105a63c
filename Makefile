# ddbrewind — make demo shows a rewind on a local emulator; make test runs every test.
GO      ?= go
BIN     := bin/ddbrewind
PKGS    := ./...
# Go test timeout for the whole suite (the suite itself takes a few minutes on 2 cores).
TEST_TIMEOUT ?= 9m
# The version `ddbrewind version` prints: the tag, else the commit (-dirty with local
# changes). Release builds (.goreleaser.yaml) and the Dockerfile set the same variable.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null)
LDFLAGS := $(if $(VERSION),-X main.version=$(VERSION))
# goreleaser, pinned and built once into bin/tools (on a fresh machine, the first
# `make test` builds it: a few minutes); `make goreleaser-check` checks .goreleaser.yaml.
GORELEASER_VERSION := v2.15.1
GORELEASER         := bin/tools/goreleaser-$(GORELEASER_VERSION)

.PHONY: all build deps test vet fmt-check goreleaser-check release-snapshot demo bench bench-quick bench-go image image-docker clean

all: build

build:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/ddbrewind

# Emulators for the tests, demo and benchmark: dynalite pinned in package-lock.json,
# moto_server from pip when it is not installed yet.
deps: node_modules/.bin/dynalite
	@command -v moto_server >/dev/null 2>&1 || pip install "moto[server]"

node_modules/.bin/dynalite: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

$(GORELEASER):
	@mkdir -p bin/tools
	GOBIN="$(abspath bin/tools)" $(GO) install github.com/goreleaser/goreleaser/v2@$(GORELEASER_VERSION)
	mv bin/tools/goreleaser $@

goreleaser-check: $(GORELEASER)
	$(GORELEASER) check

# The release files (static binaries, archives, checksums) in dist/, without a tag or a token.
release-snapshot: $(GORELEASER)
	$(GORELEASER) release --snapshot --clean

test: deps fmt-check vet goreleaser-check
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) $(PKGS)
	@# The pipeline, the caller and the ledger are shared by goroutines: their tests (fake and
	@# dynalite) run once more under the race detector (about 20 s).
	$(GO) test -race -count=1 ./copier/... ./internal/window ./internal/statefile
	@# Fuzz runs are counted in executions, not seconds: a -fuzztime duration ends in a context
	@# deadline that, on a busy machine, can fail the run ("context deadline exceeded") with no bug found.
	$(GO) test -run '^$$' -fuzz FuzzParseItem -fuzztime 50000x ./internal/ddbjson
	$(GO) test -run '^$$' -fuzz FuzzKeysReader -fuzztime 50000x ./internal/ddbjson
	$(GO) test -run '^$$' -fuzz FuzzCanonicalNumber -fuzztime 100000x ./internal/ddbjson

demo: deps build
	$(GO) run ./tools/demo -bin $(BIN)

# The whole benchmark: 100,000 items (3 runs per client), 10x the items for
# memory, a key-range copy and --max-wcu; about 40 minutes on 2 cores.
# bench-quick: the 100,000-item part only, about 5 minutes.
BENCH_FLAGS ?= -runs 3 -scale 10 -maxwcu 1000
bench: deps build
	$(GO) run ./tools/bench -bin $(BIN) $(BENCH_FLAGS)

bench-quick: deps build
	$(GO) run ./tools/bench -bin $(BIN)

bench-go:
	$(GO) test -run '^$$' -bench . -benchmem ./copier/... ./internal/ddbjson/...

# The container image without a Docker engine (tools/mkimage): an OCI layout in bin/image
# (linux/amd64 and linux/arm64: crane push --index bin/image REPO:TAG) and a docker-style
# tarball of the linux/amd64 image (docker load -i bin/ddbrewind-image.tar). The static binary,
# the CA certificates of Debian's ca-certificates (/etc/ssl/certs/ca-certificates.crt), user
# 65532, ENTRYPOINT /ddbrewind, the version as a label. image-docker: the same from the Dockerfile.
IMAGE_PLATFORMS ?= linux/amd64,linux/arm64
image:
	$(GO) run ./tools/mkimage -version "$(or $(VERSION),dev)" -platforms $(IMAGE_PLATFORMS) \
		-layout bin/image -tarball bin/ddbrewind-image.tar

image-docker:
	docker build --build-arg VERSION="$(or $(VERSION),dev)" -t ddbrewind:local .

clean:
	rm -rf bin
