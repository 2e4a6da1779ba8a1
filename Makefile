# sluice: the project's vocabulary. `make` installs and builds; `make run` serves ./data.
SHELL := /bin/bash
NODE_BIN := node_modules/.bin
STAMP := node_modules/.sluice-installed
SOURCES := $(shell find source conformance tools -name '*.ts' 2>/dev/null)

.PHONY: all build run test unit conformance lint bench clean

all: build

# npm ci when node_modules is missing or older than the lock file.
$(STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

dist/.built: $(STAMP) tsconfig.json $(SOURCES)
	$(NODE_BIN)/tsc -p .
	@# Outputs of sources that were moved or deleted would still run as tests: remove them.
	@find dist -name '*.js' | while read -r js; do ts="$${js#dist/}"; [ -f "$${ts%.js}.ts" ] || rm -f "$$js" "$$js.map"; done
	@chmod +x dist/source/cli/main.js
	@touch $@

build: dist/.built

run: build
	@mkdir -p data
	node dist/source/cli/main.js serve --root ./data --host 127.0.0.1 --port 39999

# Every test: unit tests beside the code, end-to-end suites with real clients, the transcript replay.
test: build
	@tools/check-clients.sh
	tools/run-tests.sh 'dist/**/*.test.js'

# The documented aws cli, curl and boto3 transcripts (conformance/transcripts), replayed against a fresh sluice.
conformance: build
	node dist/conformance/replay.js

# Unit tests only: the *.test.ts beside the code and the tools' own; no server, no clients.
unit: build
	tools/run-tests.sh 'dist/source/**/*.test.js' 'dist/tools/*.test.js'

# Types (strict), the layers of source/ (tools/check-layers.ts), and lines of at most 140 characters.
lint: build
	$(NODE_BIN)/tsc --noEmit -p .
	node dist/tools/check-layers.js
	@awk 'length > 140 { print FILENAME ":" FNR ": " length " characters (at most 140)"; long = 1 } END { exit long }' \
		$$(find source -name '*.ts')

bench: build
	node dist/tools/bench/run.js $(ARGS)

clean:
	rm -rf dist
