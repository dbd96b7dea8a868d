#!/usr/bin/env bash
# maps.sh: the phase 2 commands end to end. maps:validate on the bundled default maps (clean), on the audio-control
# corpus (its real mistakes, as file:line:column findings), --strict, --format json, a missing path; maps:check on
# a copy of the fil4 default map (the plugin CI installs with x42-plugins; skipped where it is not installed) with
# its coverage and the bindings file in the cache; maps:list with its VALID/CHECKED columns ("-", "ok", "stale")
# and its filters.
set -euo pipefail
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

: "${CTRLMAP_SOURCE_DIR:?CTRLMAP_SOURCE_DIR is not set: run the tests through ctest}"
SRC=$CTRLMAP_SOURCE_DIR
export CTRLMAP_DATA_DIR="$SRC/maps" # the bundled profiles and default maps of this tree, whatever is installed
CORPUS="$SRC/tests/data/maps/audio-control"
RULES="$SRC/tests/data/rules"
C="$T/cache"
say "maps.sh: maps:validate, maps:check, maps:list"

# ---------------------------------------------------------------------------------------------------------------
check "maps:validate without paths: the bundled default maps, clean"
ctl maps:validate --cache-dir "$C"
assert_rc 0
assert_has "$OUT" "5 maps: 0 errors, 0 warnings"
assert_lacks "$OUT" "error:"
assert_lacks "$OUT" "warning:"

check "maps:validate on the audio-control corpus: exit 1, findings as file:line:column: severity: message [code]"
ctl maps:validate --cache-dir "$C" "$CORPUS"
assert_rc 1
assert_has "$OUT" "$CORPUS/roland-jupiter-8/tal-j8.yaml:334:13: error: cc 37 on channel 1 is also bound to 'button_1'"
assert_match "$OUT" "tal-j8\.yaml:334:13: error: .* \[duplicate-number\]$"
assert_has "$OUT" "$CORPUS/roland-jupiter-8/tal-j8.yaml:96:9: warning: control 'encoder_8' sends cc 20"
assert_match "$OUT" "tal-j8\.yaml:96:9: warning: .* \[profile-number-differs\]$"
assert_match "$OUT" "arturia-mini-v4\.yaml:[0-9]+:[0-9]+: error: .* \[duplicate-number\]$"
assert_match "$OUT" "^5 maps: [1-9][0-9]* errors, [1-9][0-9]* warnings$"
# every finding of a map names its line and column
if grep -E '\.yaml: (error|warning|note):' "$OUT" >/dev/null; then
  fail "a finding without line:column: $(grep -E '\.yaml: (error|warning|note):' "$OUT" | head -3)"
fi

check "--strict: warnings alone exit 0, or 1 with --strict"
ctl maps:validate --cache-dir "$C" "$RULES/profile-number-differs"
assert_rc 0
assert_has "$OUT" "1 maps: 0 errors, 2 warnings"
assert_has "$OUT" "profile-number-differs/map.yaml:12:9: warning:"
ctl maps:validate --cache-dir "$C" --strict "$RULES/profile-number-differs"
assert_rc 1
assert_has "$OUT" "1 maps: 0 errors, 2 warnings"
# notes are not warnings: a map with only a note passes --strict
ctl maps:validate --cache-dir "$C" --strict "$RULES/control-unbound/one.yaml"
assert_rc 0
assert_has "$OUT" "note: 1 control binds nothing"

check "--format json: an object with a maps array and a findings array"
ctl maps:validate --cache-dir "$C" --format json "$CORPUS"
assert_rc 1
assert_json "$OUT"
head -c 1 "$OUT" | grep -q '{' || fail "--format json is not an object"
assert_match "$OUT" '^  "maps": \[' "the JSON"
assert_match "$OUT" '^  "findings": \[' "the JSON"
assert_has "$OUT" '"code": "duplicate-number"'
assert_has "$OUT" '"code": "profile-number-differs"'
assert_lacks "$OUT" "5 maps:" # no table in JSON
if command -v python3 >/dev/null 2>&1 && python3 -c 'import json' 2>/dev/null; then
  python3 - "$OUT" <<'EOF' || fail "the JSON findings are not what the corpus has"
import json, sys
doc = json.load(open(sys.argv[1]))
assert isinstance(doc["maps"], list) and len(doc["maps"]) == 5, doc["maps"]
tal = [m for m in doc["maps"] if m["path"].endswith("tal-j8.yaml")][0]
assert tal["status"] == "errors" and tal["channel"] == 1 and tal["errors"] == 10 and tal["warnings"] == 11, tal
assert any(f["code"] == "duplicate-number" and f["file"].endswith("tal-j8.yaml") and f["line"] == 334
           and f["column"] == 13 and f["severity"] == "error" for f in doc["findings"])
EOF
fi
ctl maps:validate --cache-dir "$C" --format json
assert_rc 0
assert_json "$OUT"
assert_match "$OUT" '^  "findings": \[\]' "the JSON of the clean defaults"

check "a path that does not exist: exit 1, map-io"
ctl maps:validate --cache-dir "$C" "$T/no-such-dir"
assert_rc 1
assert_has "$OUT" "$T/no-such-dir"
assert_has "$OUT" "[map-io]"
assert_has "$OUT" "0 maps: 1 errors, 0 warnings"

# ---------------------------------------------------------------------------------------------------------------
# maps:list first on a fresh cache: nothing validated yet
check "maps:list: the defaults with device, plugin, channel and controls; VALID '-' before any validate"
C2="$T/cache2"
ctl maps:list --cache-dir "$C2"
assert_rc 0
assert_match "$OUT" '^NAME +DEVICE +PLUGIN +CH +CTLS +VALID +CHECKED +PATH$' "the table header"
assert_has "$OUT" "5 maps"
assert_match "$OUT" '^x42 EQ \(fil4 mono\) .* Novation Launch Control XL x42-eq .* +1 +24 +- +- +/.*/x42-fil4-mono\.yaml$' \
  "the fil4 row"
assert_match "$OUT" ' +2 +11 +- +- +/.*/calf-compressor\.yaml$' "the calf row"
assert_match "$OUT" ' +5 +8 +- +- +/.*/zam-zamcomp\.yaml$' "the zam row"
ctl maps:validate --cache-dir "$C2"
assert_rc 0
ctl maps:list --cache-dir "$C2"
assert_rc 0
assert_eq "$(grep -cE ' ok +- +/.*\.yaml$' "$OUT")" 5 "rows validated ok, not checked"

check "maps:list --device / --plugin filter by substring; --format json is an array"
ctl maps:list --cache-dir "$C2" --device nano
assert_rc 0
assert_has "$OUT" "0 maps"
assert_lacks "$OUT" ".yaml"
ctl maps:list --cache-dir "$C2" --device "launch CONTROL"
assert_rc 0
assert_has "$OUT" "5 maps"
ctl maps:list --cache-dir "$C2" --plugin fil4
assert_rc 0
assert_has "$OUT" "1 maps"
assert_eq "$(grep -c '\.yaml$' "$OUT")" 1 "rows for --plugin fil4"
assert_has "$OUT" "x42-fil4-mono.yaml"
ctl maps:list --cache-dir "$C2" --format json
assert_rc 0
assert_json "$OUT"
head -c 1 "$OUT" | grep -q '\[' || fail "maps:list --format json is not an array"
assert_eq "$(grep -c '"path": ' "$OUT")" 5 "objects in the JSON list"
assert_has "$OUT" '"validated": "ok"'
assert_has "$OUT" '"checked": "-"'
ctl maps:list --cache-dir "$C2" --format json --plugin fil4
assert_rc 0
assert_eq "$(grep -c '"path": ' "$OUT")" 1 "objects in the JSON list for --plugin fil4"
assert_has "$OUT" '"channel": 1'
assert_has "$OUT" '"controls": 24'

check "maps:list: a map edited since its validation is 'stale'"
cp -R "$SRC/maps/defaults" "$T/defaults"
ctl maps:validate --cache-dir "$C2" "$T/defaults"
assert_rc 0
ctl maps:list --cache-dir "$C2" "$T/defaults"
assert_rc 0
assert_eq "$(grep -cE ' ok +- +.*\.yaml$' "$OUT")" 5 "copied rows validated ok"
printf '# edited\n' >>"$T/defaults/launch-control-xl3/x42-fil4-mono.yaml"
ctl maps:list --cache-dir "$C2" "$T/defaults"
assert_rc 0
assert_match "$OUT" ' stale +stale +.*/x42-fil4-mono\.yaml$' "the edited row"
assert_eq "$(grep -cE ' ok +- +.*\.yaml$' "$OUT")" 4 "the rows not edited"
# validating again makes it current
ctl maps:validate --cache-dir "$C2" "$T/defaults"
assert_rc 0
ctl maps:list --cache-dir "$C2" "$T/defaults"
assert_eq "$(grep -cE ' ok +- +.*\.yaml$' "$OUT")" 5 "rows after validating again"

# ---------------------------------------------------------------------------------------------------------------
# maps:check needs the plugin: x42 fil4 (x42-plugins, installed in CI). The map is copied with a registry that lists
# only it, so that no other bundled map (whose plugin may be missing here) is involved.
FIL4=""
for d in "${HOME:-/nonexistent}/.lv2" /usr/lib/x86_64-linux-gnu/lv2 /usr/lib/lv2 /usr/local/lib/lv2; do
  if [ -f "$d/fil4.lv2/manifest.ttl" ]; then
    FIL4="$d/fil4.lv2"
    break
  fi
done
if [ -z "$FIL4" ]; then
  say "  (maps:check skipped: x42 fil4 is not installed; apt-get install x42-plugins)"
  say "ok"
  exit 0
fi

M="$T/fil4-map"
mkdir -p "$M" "$T/lv2"
cp "$SRC/maps/defaults/launch-control-xl3/x42-fil4-mono.yaml" "$M/"
cat >"$M/midi-channel-registry.yaml" <<'EOF'
version: 1.0.0
device:
  manufacturer: Novation
  model: Launch Control XL 3
channels:
  1:
    path: x42-fil4-mono
EOF
ln -s "$FIL4" "$T/lv2/fil4.lv2"

check "maps:check on the fil4 map: extracts the plugin, exits 0, coverage 24/33 on channel 1"
C3="$T/cache3"
ctl maps:check --cache-dir "$C3" --lv2-path "$T/lv2" "$M"
assert_rc 0
assert_match "$OUT" '^ok +24/33 +1 +http://gareus\.org/oss/lv2/fil4#mono +.*/x42-fil4-mono\.yaml$' "the check row"
assert_has "$OUT" "1 maps: 0 errors, 0 warnings"
[ -n "$(desc_file "$C3" "http://gareus.org/oss/lv2/fil4#mono")" ] || fail "maps:check did not extract fil4 first"

check "the bindings are in <cache>/maps/bindings/, checksummed, with Ardour's parameter numbers"
n=$(find "$C3/maps/bindings" -type f | wc -l)
assert_eq "$n" 1 "bindings files"
B=$(find "$C3/maps/bindings" -type f)
head -1 "$B" | grep -qE '^ctrlmap:map-bindings v[0-9]+ xxh3:[0-9a-f]{16} [0-9]+$' || fail "the bindings header: $(head -1 "$B")"
tail -n +2 "$B" >"$T/bindings.json"
assert_json "$T/bindings.json"
# (compact JSON, keys sorted)
assert_has "$T/bindings.json" '"uri":"http://gareus.org/oss/lv2/fil4#mono"'
assert_has "$T/bindings.json" '"ardour":{"plugin_position":1,"route":"S1"}'
assert_has "$T/bindings.json" '"coverage":{"bindable":33,"bound":24}'
assert_has "$T/bindings.json" '"ardour_param":6,"default":20,"index":7,"logarithmic":true,"maximum":1250,"minimum":5,"name":"Highpass Frequency","symbol":"HPfreq"'
if command -v python3 >/dev/null 2>&1 && python3 -c 'import json' 2>/dev/null; then
  python3 - "$T/bindings.json" <<'EOF' || fail "the fil4 bindings are not what fil4's descriptor says"
import json, sys
b = json.load(open(sys.argv[1]))
assert b["coverage"] == {"bound": 24, "bindable": 33}, b["coverage"]
assert b["channel"] == 1 and len(b["bindings"]) == 24, (b["channel"], len(b["bindings"]))
by = {x["control"]: x for x in b["bindings"]}
# HPfreq is port 7, ardour_param 6 (the peak meter, port 4, counts: it is a control port); encoder_1 sends CC 13
p = by["encoder_1"]["parameter"]
assert p["symbol"] == "HPfreq" and p["index"] == 7 and p["ardour_param"] == 6, p
assert by["encoder_1"]["number"] == 13 and by["encoder_1"]["message"] == "cc" and by["encoder_1"]["channel"] == 1
assert by["button_1"]["mode"] == "toggle" and by["button_1"]["number"] == 37
EOF
fi

check "maps:list shows the check: CHECKED ok"
ctl maps:list --cache-dir "$C3" "$M"
assert_rc 0
assert_match "$OUT" ' +1 +24 +ok +ok +.*/x42-fil4-mono\.yaml$' "the fil4 row after maps:check"

check "maps:check --format json: the bindings inline"
ctl maps:check --cache-dir "$C3" --lv2-path "$T/lv2" --format json "$M"
assert_rc 0
assert_json "$OUT"
assert_has "$OUT" '"bound": 24'
assert_has "$OUT" '"bindable": 33'
assert_match "$OUT" '^  "findings": \[\]' "the JSON"

check "maps:check on a map whose plugin is not installed: exit 1, plugin-not-installed"
sed -e 's|uri: http://gareus.org/oss/lv2/fil4#mono|uri: urn:ctrlmap:test:not-installed|' \
  -e 's|^midi_channel_registry: .*|midi_channel: 2|' "$M/x42-fil4-mono.yaml" >"$T/missing-plugin.yaml"
ctl maps:check --cache-dir "$C3" --lv2-path "$T/lv2" "$T/missing-plugin.yaml"
assert_rc 1
assert_match "$OUT" "missing-plugin\.yaml:[0-9]+:[0-9]+: error: .*urn:ctrlmap:test:not-installed.* \[plugin-not-installed\]$"

check "maps:check with the system LV2 path (as in CI), when fil4 is there"
if [ -z "${LV2_PATH:-}" ]; then
  C4="$T/cache4"
  ctl maps:check --cache-dir "$C4" "$M"
  assert_rc 0
  assert_match "$OUT" '^ok +24/33 +1 +http://gareus\.org/oss/lv2/fil4#mono' "the check row"
fi

say "ok"
