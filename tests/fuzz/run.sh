#!/usr/bin/env bash
# tests/fuzz/run.sh [SECONDS_EACH] — builds the libFuzzer harnesses of tests/fuzz/ with
# clang (ASan + UBSan) against the project's own C sources, replays the known
# reproducers in tests/fuzz/regressions/, then fuzzes each harness for SECONDS_EACH
# seconds (default 10: about a minute and a half altogether, build included). Exits
# non-zero on any crash, leak, sanitizer finding, timeout or broken contract, printing
# the reproducer.
#
# Harnesses (each a fuzz_<name>.c here):
#   report   wp_report_decode + the report contract (round trip included)
#   ack      the agent's ack_decode (agent/ack.c), then the ack applied to a real outbox
#            (outbox_apply_ack on a temporary SQLite file) and to the in-memory list
#   config   both daemons' configuration loading: file and command line
#   plan     the aggregator's plan loader (plan/plan_load.c, plan_rules.c): the input
#            as one of the three files beside the other two of plans/ba-dinh-2022
#   schema   the JSON Schema compiler and validator on arbitrary schemas
#   spool    the agent's spool file parsing (agent/spool_parse.c, spool_csv.c): the input
#            as a .csv and as a .json file
#   control  officers' commands: the aggregator's control_on_message (aggregator/control.c)
#            on a real store with the real alerts; the first byte picks the command
#            (ack, silence, unsilence, unknown) and a retained copy, the rest is the payload
# Seeds come from schemas/examples/, plans/ and the CSV and JSON examples of docs/spool.md
# (copied at run time, never duplicated here).
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
HARNESSES=${FUZZ_ONLY:-report ack config plan schema spool control}
case "$SECONDS_EACH" in ''|*[!0-9]*) echo "usage: $0 [SECONDS_EACH]" >&2; exit 2 ;; esac

# --- Tools -------------------------------------------------------------------------------
scripts/install-deps.sh
CC=${CC:-clang}
probe_dir=$(mktemp -d)
# The harnesses' temporary files (fuzz_ack's outbox, fuzz_plan's plan directories) go
# into a directory of this run, in memory when /dev/shm is there; removed at the end, also
# after a crash (a crashed harness cannot clean up after itself).
if [ -w /dev/shm ]; then
    fuzz_tmp=$(mktemp -d /dev/shm/wardpulse-fuzz-run-XXXXXX)
else
    fuzz_tmp=$(mktemp -d)
fi
trap 'rm -rf "$probe_dir" "$fuzz_tmp"' EXIT
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
PKGS=(libmosquitto sqlite3 libcjson)
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
# The daemons' sources the harnesses call (never a main.c: no daemon runs).
AGENT_SOURCES=(ack agent_config inflight intake outbox outbox_archive outbox_link outbox_spool
               outbox_store spool_csv spool_parse spool_problems)
AGGREGATOR_SOURCES=(aggregator/aggregator_config plan/plan_load plan/plan_rules)
for src in "${AGENT_SOURCES[@]}"; do
    compile "$BUILD/obj/agent_$src.o" "$SRC/agent/$src.c" -I"$SRC/common" -I"$SRC/agent" &
done
for src in "${AGGREGATOR_SOURCES[@]}"; do
    compile "$BUILD/obj/aggregator_$(basename "$src").o" "$SRC/$src.c" \
            -I"$SRC/common" -I"$SRC/aggregator" -I"$SRC/plan" &
done
wait_all() { local rc=0; for job in $(jobs -p); do wait "$job" || rc=1; done; return $rc; }
wait_all || { echo "building the project's sources with $CC failed" >&2; exit 1; }
# fuzz_control runs the aggregator's command handling whole: every module of the aggregator
# but main.c, with the store, the plan and the rules (the libraries the aggregator links).
# Built only when it is asked for; two compilers at a time (the machine is shared).
FULL_AGGREGATOR_OBJS=()
case " $HARNESSES " in
    *" control "*)
        for src in "$SRC"/aggregator/*.c "$SRC"/store/*.c "$SRC"/plan/*.c "$SRC"/rules/*.c; do
            [ "$(basename "$src")" = main.c ] && continue
            dir=$(basename "$(dirname "$src")")
            obj="$BUILD/obj/full_${dir}_$(basename "${src%.c}").o"
            FULL_AGGREGATOR_OBJS+=("$obj")
            compile "$obj" "$src" -I"$SRC/common" -I"$SRC/aggregator" -I"$SRC/store" \
                    -I"$SRC/plan" -I"$SRC/rules" &
            [ "$(jobs -rp | wc -l)" -ge 2 ] && wait -n
        done
        wait_all || { echo "building the aggregator's sources with $CC failed" >&2; exit 1; } ;;
esac

extra_objs() {
    local o="$BUILD/obj"
    case "$1" in
        ack) echo "$o/agent_ack.o $o/agent_inflight.o $o/agent_outbox.o $o/agent_outbox_link.o" \
                  "$o/agent_outbox_spool.o $o/agent_outbox_store.o $o/agent_outbox_archive.o" ;;
        config) echo "$o/agent_agent_config.o $o/aggregator_aggregator_config.o" ;;
        plan) echo "$o/aggregator_plan_load.o $o/aggregator_plan_rules.o" ;;
        spool) echo "$o/agent_spool_parse.o $o/agent_spool_csv.o $o/agent_spool_problems.o" \
                    "$o/agent_intake.o" ;;
        control) echo "${FULL_AGGREGATOR_OBJS[*]}" ;;
    esac
}
for name in $HARNESSES; do
    [ -f "tests/fuzz/fuzz_$name.c" ] || { echo "no harness tests/fuzz/fuzz_$name.c" >&2; exit 2; }
    read -r -a extra <<<"$(extra_objs "$name")"
    # FUZZ_SOURCE_DIR: where fuzz_plan finds the good plan files (plans/ba-dinh-2022).
    "$CC" "${CFLAGS[@]}" -fsanitize=fuzzer -I"$SRC/common" -I"$SRC/agent" -I"$SRC/aggregator" \
        -I"$SRC/plan" -I"$SRC/store" -I"$SRC/rules" -DFUZZ_SOURCE_DIR="\"$SRC\"" \
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
        report)
            cp schemas/examples/valid/report-*.json schemas/examples/invalid/report-*.json "$dir/" ;;
        ack)
            cp schemas/examples/valid/ack-*.json schemas/examples/invalid/ack-*.json "$dir/"
            # The valid acks again, addressed to the harness's ward and stream (00001,
            # 9f1c2a7e4b5d6c3a) so that they reach its outbox.
            for f in schemas/examples/valid/ack-*.json; do
                sed -E -e 's/"ward": *"[0-9]{5}"/"ward": "00001"/' \
                    -e 's/"stream": *"[0-9a-f]{16}"/"stream": "9f1c2a7e4b5d6c3a"/' \
                    "$f" > "$dir/for-00001-$(basename "$f")"
            done ;;
        spool)
            # The CSV blocks of docs/spool.md (those whose first line is a header) and its
            # JSON example, then what else the format allows and what clerks get wrong.
            awk -v dir="$dir" '
                /^```/ { if (inblock) { inblock = 0; if (out != "") close(out) }
                         else { inblock = 1; first = 1; out = "" }
                         next }
                inblock && first { first = 0; if ($0 ~ /^period[,;\t]/) out = dir "/doc-" (++n) ".csv" }
                inblock && out != "" { print > out }
            ' docs/spool.md
            grep -o '`{"period".*}`' docs/spool.md | tr -d '`' > "$dir/doc-report.json"
            printf '\xef\xbb\xbfperiod;indicator;value\r\n2022-05-03;cases_new_community;12\r\n2022-05-03;note;"Ph\xc6\xb0\xe1\xbb\x9dng; \xc4\x91\xc3\xa3 ki\xe1\xbb\x83m tra"\r\n2022-05-04;task:ward-scenario;done\r\n' \
                > "$dir/bom-semicolon.csv"
            printf 'Value\tPeriod\tIndicator\t\n12\t2022-W18\tdeaths\t\n\t2022-W18\tvacc_18p_dose1_cum\t\n# comment\n\n' \
                > "$dir/tab-any-order.csv"
            printf 'period,indicator,value\n2022-05-03,note,"line 1\nline 2, ""quoted"""\n2022-05-03,deaths,0\n' \
                > "$dir/quoted-newline.csv"
            printf 'period,indicator,value\n2022-05-04,deaths,-1\n2022-02-30,deaths,1\n03/05/2022,deaths,1\n2022-05-05,deaths,12.000\n2022-05-05,deaths,1\n2022-05-06,note,"open\n' \
                > "$dir/mistakes.csv"
            printf '[{"period":"2022-05-03","values":{"deaths":1}},{"period":"2022-W18","tasks":{"ward-scenario":"done"},"note":"x"}]' \
                > "$dir/array.json" ;;
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
        control)
            # Each command's examples behind the byte that picks it, a valid one as a
            # retained copy, and an unknown command.
            for f in schemas/examples/valid/control_*.json schemas/examples/invalid/control_*.json; do
                base=$(basename "$f")
                case "$base" in
                    control_ack-*) byte='\x00' ;;
                    control_silence-*) byte='\x01' ;;
                    control_unsilence-*) byte='\x02' ;;
                    *) continue ;;
                esac
                { printf "$byte"; cat "$f"; } > "$dir/$(basename "$(dirname "$f")")-$base"
            done
            { printf '\x81'; cat schemas/examples/valid/control_silence-rule.json; } > "$dir/retained-silence"
            { printf '\x03'; cat schemas/examples/valid/control_ack-note.json; } > "$dir/unknown-command"
            printf '\x00{"v":1,"id":"r1"' > "$dir/cut-json" ;;
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
        # With the limits of the fuzzing below, so that what failed there fails here.
        if ! TMPDIR="$fuzz_tmp" "$bin" -timeout=10 -rss_limit_mb=2048 \
                tests/fuzz/regressions/"$name"/* >"$BUILD/$name-regressions.log" 2>&1; then
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
    TMPDIR="$fuzz_tmp" "$bin" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
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
