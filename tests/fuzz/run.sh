#!/usr/bin/env bash
# tests/fuzz/run.sh [SECONDS_EACH] — builds the libFuzzer harnesses of tests/fuzz/ with
# clang (ASan + UBSan) against the project's own C sources, replays the known
# reproducers in tests/fuzz/regressions/, then fuzzes each harness for SECONDS_EACH
# seconds (default 10: about a minute altogether, build included). Exits non-zero on any
# crash, leak, sanitizer finding, timeout or broken contract, printing the reproducer.
#
# Harnesses (each a fuzz_<name>.c here):
#   report   wp_report_decode + the report contract (round trip included)
#   ack      the agent's ack_decode (agent/ack.c) and the "ack" schema
#   config   both daemons' configuration loading: file and command line
#   plan     orgunits / catalog / plan documents against their schemas
#   schema   the JSON Schema compiler and validator on arbitrary schemas
# Seeds come from schemas/examples/ and plans/ (copied at run time, never duplicated here).
#
# Environment: FUZZ_BUILD (default build-fuzz), FUZZ_ONLY="report ack" to run some,
# CC (default clang). Reproduce a crash: build-fuzz/fuzz_<name> <reproducer file>.
# Installs clang and its libFuzzer runtime with apt-get when missing (as root; otherwise it
# prints the command), like scripts/install-deps.sh for the rest.
set -euo pipefail

cd "$(dirname "$0")/../.."
SRC=$(pwd)
SECONDS_EACH=${1:-10}
BUILD=${FUZZ_BUILD:-build-fuzz}
HARNESSES=${FUZZ_ONLY:-report ack config plan schema}
case "$SECONDS_EACH" in ''|*[!0-9]*) echo "usage: $0 [SECONDS_EACH]" >&2; exit 2 ;; esac

# --- Tools -------------------------------------------------------------------------------
scripts/install-deps.sh
CC=${CC:-clang}
probe_dir=$(mktemp -d)
trap 'rm -rf "$probe_dir"' EXIT
fuzzer_links() {
    command -v "$CC" >/dev/null 2>&1 || return 1
    printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n)\n{ (void)d; (void)n; return 0; }\n' \
        > "$probe_dir/probe.c"
    "$CC" -fsanitize=fuzzer,address,undefined "$probe_dir/probe.c" -o "$probe_dir/probe" \
        >/dev/null 2>&1
}
if ! fuzzer_links; then
    packages=(clang libclang-rt-14-dev)
    if [ "$(id -u)" -ne 0 ]; then
        echo "the fuzzers need clang with its libFuzzer runtime; install them with:" >&2
        echo "    sudo apt-get install -y ${packages[*]}" >&2
        exit 1
    fi
    echo "installing: ${packages[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${packages[@]}"
    CC=clang
    fuzzer_links || { echo "clang still cannot link a libFuzzer harness" >&2; exit 1; }
fi

# --- Build -------------------------------------------------------------------------------
mkdir -p "$BUILD/obj"
BUILD=$(cd "$BUILD" && pwd)
PKGS=(libmosquitto sqlite3 libcjson libsystemd)
# The flags of the project's own build (CMakeLists.txt), with clang's sanitizers and
# coverage instrumentation; warnings are not errors here (gcc is the reference compiler).
read -r -a pkg_cflags <<<"$(pkg-config --cflags "${PKGS[@]}")"
read -r -a LIBS <<<"$(pkg-config --libs "${PKGS[@]}") -lm"
CFLAGS=(-std=c11 -g -O1 -fno-omit-frame-pointer '-fsanitize=address,undefined'
        -fno-sanitize-recover=all -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
        '-DWARDPULSE_VERSION="fuzz"' -Wall -Wextra "${pkg_cflags[@]}")

cmake -DOUT="$BUILD/schemas_embedded.c" -DSCHEMA_DIR="$SRC/schemas" \
      -P "$SRC/cmake/embed_schemas.cmake"

# object file <- source, with the include directories it needs
compile() {
    local out=$1 src=$2; shift 2
    "$CC" "${CFLAGS[@]}" -fsanitize=fuzzer-no-link "$@" -c "$src" -o "$out"
}
echo "building the harnesses in $BUILD"
common_objs=()
for src in "$SRC"/common/*.c "$BUILD/schemas_embedded.c"; do
    obj="$BUILD/obj/common_$(basename "${src%.c}").o"
    compile "$obj" "$src" -I"$SRC/common" &
    common_objs+=("$obj")
done
compile "$BUILD/obj/agent_ack.o" "$SRC/agent/ack.c" -I"$SRC/common" -I"$SRC/agent" &
compile "$BUILD/obj/agent_config.o" "$SRC/agent/agent_config.c" -I"$SRC/common" -I"$SRC/agent" &
compile "$BUILD/obj/aggregator_config.o" "$SRC/aggregator/aggregator_config.c" \
        -I"$SRC/common" -I"$SRC/aggregator" &
wait_all() { local rc=0; for job in $(jobs -p); do wait "$job" || rc=1; done; return $rc; }
wait_all || { echo "building the project's sources with $CC failed" >&2; exit 1; }

extra_objs() {
    case "$1" in
        ack) echo "$BUILD/obj/agent_ack.o" ;;
        config) echo "$BUILD/obj/agent_config.o $BUILD/obj/aggregator_config.o" ;;
    esac
}
for name in $HARNESSES; do
    [ -f "tests/fuzz/fuzz_$name.c" ] || { echo "no harness tests/fuzz/fuzz_$name.c" >&2; exit 2; }
    read -r -a extra <<<"$(extra_objs "$name")"
    "$CC" "${CFLAGS[@]}" -fsanitize=fuzzer -I"$SRC/common" -I"$SRC/agent" -I"$SRC/aggregator" \
        "tests/fuzz/fuzz_$name.c" "${common_objs[@]}" "${extra[@]}" "${LIBS[@]}" \
        -o "$BUILD/fuzz_$name" &
done
wait_all || { echo "linking the harnesses failed" >&2; exit 1; }

# --- Seeds -------------------------------------------------------------------------------
seed_dir() {
    local name=$1 dir="$BUILD/seeds/$1"
    rm -rf "$dir"
    mkdir -p "$dir"
    case "$name" in
        report|ack)
            cp schemas/examples/valid/"$name"-*.json schemas/examples/invalid/"$name"-*.json "$dir/" ;;
        plan)
            for kind in orgunits catalog plan; do
                cp schemas/examples/valid/"$kind"-*.json schemas/examples/invalid/"$kind"-*.json "$dir/"
            done
            for f in plans/*/*.json; do cp "$f" "$dir/$(basename "$(dirname "$f")")-$(basename "$f")"; done ;;
        schema)
            # schema, NUL, instance: every example with the schema it was written for
            for f in schemas/examples/valid/*.json schemas/examples/invalid/*.json; do
                base=$(basename "$f")
                kind=${base%%-*}
                [ -f "schemas/$kind.schema.json" ] || continue
                { cat "schemas/$kind.schema.json"; printf '\0'; cat "$f"; } \
                    > "$dir/$(basename "$(dirname "$f")")-$base"
            done ;;
        config)
            printf 'ward 00001\nbroker_host district.example\nbroker_port 8883\noutbox_path /var/lib/wardpulse-agent/outbox.db\nack_timeout 30s\nlog_level info\ncafile /etc/wardpulse/ca.crt\nusername 00001\npassword_file /etc/wardpulse/00001.password\n' > "$dir/agent.conf"
            printf '# aggregator\ndb_path /var/lib/wardpulse/wardpulse.db\ndistrict 001\nbatch_max 500\nbatch_delay 20ms\nmax_payload 65536\n\nlog_level debug\n' > "$dir/aggregator.conf"
            printf -- '-c\nconfig\n--ward\n00004\n--broker_port=1883\n--test-config\nsubmit\n--period\n2022-05-03\n' > "$dir/cmdline" ;;
    esac
}

# --- Run ---------------------------------------------------------------------------------
# The lines of a libFuzzer log that say what went wrong.
show_failure() {
    grep -E -A 12 'fuzz contract broken|==[0-9]+==ERROR|runtime error|ERROR: libFuzzer|SUMMARY' "$1" \
        | head -n 40 >&2 || tail -n 40 "$1" >&2
}

failed=0
summary=()
ARTIFACTS="$BUILD/artifacts"
mkdir -p "$ARTIFACTS"
for name in $HARNESSES; do
    bin="$BUILD/fuzz_$name"
    # Known reproducers first: a bug once found must stay fixed.
    if compgen -G "tests/fuzz/regressions/$name/*" >/dev/null; then
        if ! "$bin" tests/fuzz/regressions/"$name"/* >"$BUILD/$name-regressions.log" 2>&1; then
            echo "FAIL fuzz_$name: a known reproducer crashes:" >&2
            show_failure "$BUILD/$name-regressions.log"
            echo "reproducer: $(sed -n 's/^Running: //p' "$BUILD/$name-regressions.log" | tail -n 1)" \
                 "  (run: $bin <reproducer>)" >&2
            failed=1
            summary+=("fuzz_$name: REGRESSION (see $BUILD/$name-regressions.log)")
            continue
        fi
    fi
    seed_dir "$name"
    corpus="$BUILD/corpus/$name"
    mkdir -p "$corpus"
    rm -f "$ARTIFACTS/$name"-*
    log="$BUILD/$name.log"
    echo "fuzzing $name for ${SECONDS_EACH}s"
    set +e
    "$bin" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -dict=tests/fuzz/wardpulse.dict \
        -artifact_prefix="$ARTIFACTS/$name-" "$corpus" "$BUILD/seeds/$name" >"$log" 2>&1
    rc=$?
    set -e
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    if [ "$rc" -ne 0 ]; then
        failed=1
        echo "FAIL fuzz_$name (exit $rc):" >&2
        show_failure "$log"
        for f in "$ARTIFACTS/$name"-*; do
            [ -e "$f" ] || continue
            echo "reproducer: $f   (run: $bin $f)" >&2
        done
        summary+=("fuzz_$name: FAILED after ${runs:-?} runs (log $log)")
    else
        summary+=("fuzz_$name: ${runs:-?} runs in ${SECONDS_EACH}s, corpus $(find "$corpus" -type f | wc -l) inputs, no crash")
    fi
done

echo
printf '%s\n' "${summary[@]}"
if [ "$failed" -ne 0 ]; then
    echo "fuzzing found problems (reproducers above)" >&2
    exit 1
fi
echo "fuzzing: no crash"
