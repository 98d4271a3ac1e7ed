# wardpulse — the two commands of the quick start, and a few more.
#   make demo    a local broker, the aggregator and the 14 Ba Đình agents, end to end, with the
#                live page in a browser (its address is printed; docs/dashboard.md)
#   make check   build and run every test (unit and integration) with CTest
#   make bench   the ingest benchmark (bench/ingest.py, issue 13): ~11 min on 2 cores (+1.5 min the first time;
#                the agent's drain and outage scenarios take ~3 of them);
#                make bench BENCH_ARGS="--scale=0.1 --repeat=1 --agent-pairs=1 --agent-window=2" for a quick one (~40 s)
# Both install missing Debian packages first (scripts/install-deps.sh; make check also
# what only the tests need, such as chromium for the HTML report test).

BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)

.PHONY: all deps deps-tests build check check-asan demo bench install deb clean

all: build

deps:
	@scripts/install-deps.sh

deps-tests:
	@scripts/install-deps.sh --tests

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD) -j$(JOBS)

check: deps-tests build
	ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS)

# The same tests under AddressSanitizer + UndefinedBehaviorSanitizer (CI runs this too).
check-asan: deps-tests
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DWARDPULSE_SANITIZE=ON
	cmake --build $(ASAN_BUILD) -j$(JOBS)
	ctest --test-dir $(ASAN_BUILD) --output-on-failure -j$(JOBS)

demo: build
	/usr/bin/python3 scripts/demo.py $(BUILD)

# The ingest benchmark: the real aggregator against a null aggregator on a real broker,
# every scenario (bench/ingest.py --help; figures in bench/RESULTS.md).
BENCH_ARGS ?=
bench: build
	/usr/bin/python3 bench/ingest.py --build $(BUILD) --repeat 3 $(BENCH_ARGS)

install: build
	cmake --install $(BUILD)

# The Debian packages (wardpulse-agent, wardpulse-aggregator, wardpulse-common) into
# $(BUILD)/packages/: see docs/operations.md.
deb: build
	cd $(BUILD) && cpack -G DEB -B "$$PWD/packages"

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
