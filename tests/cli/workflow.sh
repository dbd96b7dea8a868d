#!/usr/bin/env bash
# workflow:complete: every phase in a row on the default maps; a second run does almost nothing; a failing map
# stops the run before anything is generated or installed. Needs the default maps' plugins (CI installs them).
set -euo pipefail
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
: "${CTRLMAP_SOURCE_DIR:?}"
export XDG_CONFIG_HOME="$T/config"
mkdir -p "$XDG_CONFIG_HOME/ardour7"

say "workflow:complete"
check "a cold run describes the plugins and writes the five default Ardour maps"
ctl workflow:complete --cache-dir "$T/cache" --out "$T/out"
assert_rc 0
assert_match "$OUT" '^extract: [0-9]+ plugins, [0-9]+ described now'
assert_has "$OUT" "5 Ardour maps: 5 written, 0 unchanged, 0 failed"
assert_eq "$(ls "$T/out" | wc -l)" 5 "number of generated maps"

check "a second run describes nothing and writes nothing"
stamp=$(stat -c %Y.%y "$T"/out/*.map | sort | md5sum)
ctl workflow:complete --cache-dir "$T/cache" --out "$T/out" --performance
assert_rc 0
assert_match "$OUT" '^extract: [0-9]+ plugins, 0 described now'
assert_has "$OUT" "5 Ardour maps: 0 written, 5 unchanged"
assert_has "$ERR" "performance: workflow:complete"
assert_eq "$(grep -c '^  scan ' "$ERR")" 1 "number of LV2 scans in one run (the later phases reuse the first one's index)"
assert_eq "$(stat -c %Y.%y "$T"/out/*.map | sort | md5sum)" "$stamp" "modification times"

check "--install copies them into Ardour's user folder"
ctl workflow:complete --cache-dir "$T/cache" --out "$T/out" --install
assert_rc 0
assert_eq "$(ls "$XDG_CONFIG_HOME/ardour7/midi_maps" | wc -l)" 5 "number of installed maps"

check "a map with an error stops the run: nothing is generated, nothing installed is touched"
mkdir -p "$T/maps"
cp "$CTRLMAP_SOURCE_DIR"/maps/defaults/launch-control-xl3/*.yaml "$T/maps/"
sed -i 's/plugin_parameter: gain}/plugin_parameter: gian}/' "$T/maps/x42-fil4-mono.yaml"
before=$(cat "$XDG_CONFIG_HOME"/ardour7/midi_maps/*.map | md5sum)
ctl workflow:complete --cache-dir "$T/cache" --out "$T/out2" --install "$T/maps"
assert_rc 1
assert_has "$OUT" "param-not-found"
assert_has "$OUT" "workflow: phase check failed: 1 of 5 maps have errors; nothing was generated or installed"
[ ! -e "$T/out2" ] || [ -z "$(ls "$T/out2")" ] || fail "maps were generated after a failing phase"
assert_eq "$(cat "$XDG_CONFIG_HOME"/ardour7/midi_maps/*.map | md5sum)" "$before" "installed maps"

check "an unreadable LV2 path stops the run at the extract phase"
ctl workflow:complete --cache-dir "$T/cache" --out "$T/out" --lv2-path /nonexistent/lv2
assert_rc 3
assert_has "$OUT" "workflow: phase extract failed"
assert_has "$ERR" "lv2-path-unreadable"
say "ok"

say "workflow:health"
check "a healthy system after workflow:complete --install: every line ok, exit 0"
ctl workflow:complete --cache-dir "$T/hc" --out "$T/hout" --install
assert_rc 0
ctl workflow:health --cache-dir "$T/hc"
assert_rc 0
assert_match "$OUT" '^ok +cache +[0-9]+ descriptors, all matching their checksums'
assert_match "$OUT" '^ok +maps +5 maps validate'
assert_lacks "$OUT" "warning"
check "a damaged descriptor is an error with a fix, exit 2"
descs=("$T"/hc/plugins/desc/*.json) # (not ls | head: with pipefail, ls may die of SIGPIPE)
desc=${descs[0]}
printf 'garbage' >>"$desc"
ctl workflow:health --cache-dir "$T/hc"
assert_rc 2
assert_match "$OUT" '^error +cache +1 descriptors fail their checksum'
assert_has "$OUT" "fix: run \`ctrlmap plugins:extract\`"
check "no cache and no Ardour folder are warnings, exit 1; --format json is an array"
ctl workflow:health --cache-dir "$T/none" --ardour-dir "$T/no-such-dir" --format json
assert_rc 1
assert_json "$OUT"
assert_has "$OUT" '"check": "cache"'
say "ok"

say "performance budgets and history"
check "a breached budget is a warning, and fails the run only with --strict"
printf '{"commands": {"workflow:complete": {"wall_ms": 0.001, "phases": {"scan": {"wall_ms": 0.0001}}}}}\n' >"$T/budget.json"
ctl workflow:complete --cache-dir "$T/hc2" --out "$T/hout2" --budget "$T/budget.json" --performance
assert_rc 0
assert_match "$ERR" 'warning: workflow:complete took [0-9.]+ ms, over its budget of 0.001 ms \[perf-budget\]'
assert_has "$ERR" "budget: exceeded"
ctl workflow:complete --cache-dir "$T/hc2" --out "$T/hout2" --budget "$T/budget.json" --strict
assert_rc 1
check "the shipped budget holds for a warm run"
ctl workflow:complete --cache-dir "$T/hc2" --out "$T/hout2" --performance --strict
assert_rc 0
assert_has "$ERR" "budget: within"
check "an unreadable budget file is an error naming it"
printf '{ nope' >"$T/bad-budget.json"
ctl workflow:complete --cache-dir "$T/hc2" --out "$T/hout2" --budget "$T/bad-budget.json"
assert_rc 3
assert_has "$ERR" "bad-budget.json"
assert_has "$ERR" "perf-budget-file"
check "each measured run adds a line to the history; workflow:health --performance shows the trend"
assert_ge "$(wc -l <"$T/hc2/perf/history.jsonl")" 3 "history lines"
ctl workflow:health --cache-dir "$T/hc2" --performance
assert_match "$OUT" '^ok +trend workflow:complete +last [0-9]+ runs \(ms, oldest first\): [0-9]'
say "ok"
