#!/usr/bin/env bash
# health.sh: plugins:health on all eight fixture plugins -- each defect in the table, exit status with and without
# --strict, plugin output kept in the log and off the terminal, and the results shown by plugins:list.
set -euo pipefail
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

: "${CTRLMAP_TEST_LV2_DIR:?CTRLMAP_TEST_LV2_DIR is not set: run the tests through ctest}"
say "health.sh: plugins:health on the fixture plugins"

LV2="$T/lv2"
cp -R "$CTRLMAP_TEST_LV2_DIR" "$LV2"
C="$T/cache"
ctl plugins:extract --lv2-path "$LV2" --cache-dir "$C"
assert_rc 0

check "a full run reports the unhealthy plugins and exits 0 without --strict"
ctl plugins:health --lv2-path "$LV2" --cache-dir "$C" --timeout 2 --jobs 2
assert_rc 0
assert_match "$OUT" '^STATUS +MS +PLUGIN +DETAIL$' "the table header"
assert_match "$OUT" '^crashed +[0-9.]+ +urn:ctrlmap:test:crash +SIGSEGV$' "the table"
assert_match "$OUT" '^crashed +[0-9.]+ +urn:ctrlmap:test:abort +SIGABRT$' "the table"
assert_match "$OUT" '^timeout +[0-9.]+ +urn:ctrlmap:test:hang( |$)' "the table"
assert_match "$OUT" '^missing-feature +[0-9.]+ +urn:ctrlmap:test:needfeature +.*urn:ctrlmap:test:unsupported-feature' \
  "the table"
assert_match "$OUT" '^instantiate-failed +[0-9.]+ +urn:ctrlmap:test:nullinst( |$)' "the table"
assert_match "$OUT" '^non-finite +[0-9.]+ +urn:ctrlmap:test:nan +.*out.*meter' "the table"
# A full run lists only the problems; the healthy ones are counted.
assert_lacks "$OUT" "urn:ctrlmap:test:allports"
assert_lacks "$OUT" "urn:ctrlmap:test:noisy"
assert_match "$OUT" '^8 plugins: .*2 ok' "the summary line"
assert_match "$OUT" '^8 plugins: .*2 crashed' "the summary line"

check "plugin output is in <cache>/logs/health.log, not on ctrlmap's stdout or stderr"
assert_lacks "$OUT" "NOISY-STDOUT" "stdout"
assert_lacks "$OUT" "NOISY-STDERR" "stdout"
assert_lacks "$ERR" "NOISY-STDOUT" "stderr"
assert_lacks "$ERR" "NOISY-STDERR" "stderr"
LOG="$C/logs/health.log"
[ -f "$LOG" ] || fail "no $LOG"
assert_has "$LOG" "NOISY-STDOUT" "health.log"
assert_has "$LOG" "NOISY-STDERR" "health.log"

check "plugins:list shows each plugin's last health result"
ctl plugins:list --cache-dir "$C" --format json
assert_rc 0
assert_json "$OUT"
assert_eq "$(grep -c '"health": {' "$OUT")" 8 "rows with a health object"
# Each row: the lines from its "uri" to the next row.
row() { awk -v uri="$1" '/"uri": / { on = index($0, "\"" uri "\"") > 0 } on' "$OUT"; }
row urn:ctrlmap:test:crash >"$T/row"
assert_match "$T/row" '"health": \{' "the crash row"
assert_match "$T/row" '"status": "crashed",?$' "the crash row"
assert_match "$T/row" '"detail": "SIGSEGV"' "the crash row"
row urn:ctrlmap:test:allports >"$T/row"
assert_match "$T/row" '"health": \{' "the allports row"
assert_match "$T/row" '^ +"status": "ok",?$' "the allports row"
assert_lacks "$T/row" "crashed" "the allports row"
row urn:ctrlmap:test:hang >"$T/row"
assert_match "$T/row" '"status": "timeout",?$' "the hang row"
ctl plugins:list --cache-dir "$C"
assert_rc 0
assert_match "$OUT" '^ctrlmap crash +.* crashed +urn:ctrlmap:test:crash$' "the list table"
assert_match "$OUT" '^ctrlmap all ports +.* 8 +2 +ok +urn:ctrlmap:test:allports$' "the list table"
assert_match "$OUT" '^ctrlmap nan +.* non-finite +urn:ctrlmap:test:nan$' "the list table"

check "--strict: exit 1 when any plugin is unhealthy"
ctl plugins:health --lv2-path "$LV2" --cache-dir "$C" --timeout 2 --jobs 2 --strict
assert_rc 1
assert_has "$OUT" "urn:ctrlmap:test:crash"

check "--plugin runs only the matching plugins and shows healthy rows too"
ctl plugins:health --lv2-path "$LV2" --cache-dir "$C" --timeout 2 --plugin noisy --strict
assert_rc 0
assert_match "$OUT" '^ok +[0-9.]+ +urn:ctrlmap:test:noisy' "the table"
assert_eq "$(grep -c 'urn:ctrlmap:test:' "$OUT")" 1 "rows"
assert_match "$OUT" '^1 plugins: 1 ok$' "the summary line"
assert_lacks "$OUT" "NOISY" "stdout"
assert_lacks "$ERR" "NOISY" "stderr"
ctl plugins:health --lv2-path "$LV2" --cache-dir "$C" --timeout 2 --plugin "ALL PORTS"
assert_rc 0
assert_has "$OUT" "urn:ctrlmap:test:allports" "a --plugin that matches the name only"

check "--format json: one result per plugin, with status and detail"
ctl plugins:health --lv2-path "$LV2" --cache-dir "$C" --timeout 2 --plugin crash --format json --strict
assert_rc 1
assert_json "$OUT"
assert_match "$OUT" '"status": "crashed",?$'
assert_match "$OUT" '"detail": "SIGSEGV",?$'
assert_eq "$(grep -c '"uri": ' "$OUT")" 1 "results"

check "a result is forgotten when the plugin's bundle changes"
touch -d '+5 seconds' "$LV2/ctrlmap-crash.lv2/crash.ttl"
ctl plugins:extract --lv2-path "$LV2" --cache-dir "$C"
assert_rc 0
assert_has "$OUT" "1 described now"
ctl plugins:list --cache-dir "$C" --format json
assert_rc 0
row urn:ctrlmap:test:crash >"$T/row"
assert_lacks "$T/row" '"health"' "the crash row after its bundle changed"
row urn:ctrlmap:test:abort >"$T/row"
assert_has "$T/row" '"health"' "the abort row"

say "ok"
