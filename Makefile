# mamori - the two commands of the README quick start, and a few more.
#   make demo   install missing Debian packages, build, scan this host's root
#               filesystem and record the scan in the SQLite store
#   make check  install missing packages, build with ASan+UBSan (and the
#               libFuzzer targets with clang), build the test image once
#               (scripts/build-test-image.sh, as root), run every test and
#               a short fuzz run; the last line is "N passed, N failed"
# Builds go to build/ (release), build-check/ (sanitizers), build-fuzz/.

BUILD       ?= build
CHECK_BUILD ?= build-check
FUZZ_BUILD  ?= build-fuzz
FUZZ_SECONDS ?= 8

.PHONY: all deps test-deps build demo check fuzz bench clean

all: build

deps:
	@sh scripts/install-deps.sh

test-deps:
	@sh scripts/install-deps.sh --test
	@# the console's browser test (issue 20): playwright-core from the lockfile
	@if command -v npm >/dev/null 2>&1 && [ ! -d tests/browser/node_modules/playwright-core ]; then \
	    (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error) || \
	    echo "make: npm ci in tests/browser failed; the browser test will skip" >&2; fi

$(BUILD)/build.ninja:
	meson setup $(BUILD) --buildtype=release

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

demo: build
	@sh scripts/demo.sh $(BUILD)/cli/mamori

$(CHECK_BUILD)/build.ninja:
	meson setup $(CHECK_BUILD) -Db_sanitize=address,undefined -Db_lundef=false

$(FUZZ_BUILD)/build.ninja:
	CC=clang meson setup $(FUZZ_BUILD) -Dfuzzing=true -Db_lundef=false

check: test-deps $(CHECK_BUILD)/build.ninja $(FUZZ_BUILD)/build.ninja
	ninja -C $(CHECK_BUILD)
	ninja -C $(FUZZ_BUILD)
	@sh scripts/build-test-image.sh >/dev/null 2>&1 || \
	    echo "make check: the test image could not be built here; the tests that need it skip" >&2
	@FUZZ_BUILD=$(FUZZ_BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) sh tests/run-tests.sh $(CHECK_BUILD)

fuzz: test-deps $(FUZZ_BUILD)/build.ninja
	ninja -C $(FUZZ_BUILD)
	@FUZZ_BUILD=$(FUZZ_BUILD) FUZZ_SECONDS=$${FUZZ_SECONDS:-60} sh tests/run-fuzz.sh

bench: build test-deps
	sh bench/inventory.sh $(BUILD)/cli/mamori

clean:
	rm -rf $(BUILD) $(CHECK_BUILD) $(FUZZ_BUILD)
