#!/usr/bin/env bash
# list.sh: plugins:list -- the table (names, bindable in/out counts, status), --plugin, --format json, and the
# messages for a cache with nothing extracted yet and for a damaged index.
set -euo pipefail
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

: "${CTRLMAP_TEST_LV2_DIR:?CTRLMAP_TEST_LV2_DIR is not set: run the tests through ctest}"
say "list.sh: plugins:list"

C="$T/cache"
ctl plugins:extract --lv2-path "$CTRLMAP_TEST_LV2_DIR" --cache-dir "$C"
assert_rc 0

check "the table lists every fixture plugin by name"
ctl plugins:list --cache-dir "$C"
assert_rc 0
assert_match "$OUT" '^NAME +CLASS +IN +OUT +STATUS +URI$' "the table header"
for name in "all ports" abort crash hang nan needfeature noisy nullinst; do
  assert_match "$OUT" "^ctrlmap $name +.* urn:ctrlmap:test:" "the table"
done
assert_has "$OUT" "8 plugins"
assert_eq "$(grep -c 'urn:ctrlmap:test:' "$OUT")" 8 "table rows"

check "IN/OUT are the control inputs and outputs: 8 and 2 for allports, 1 and 1 for nan"
assert_match "$OUT" '^ctrlmap all ports +.* 8 +2 +ok +urn:ctrlmap:test:allports$' "the allports row"
assert_match "$OUT" '^ctrlmap nan +.* 1 +1 +ok +urn:ctrlmap:test:nan$' "the nan row"
assert_match "$OUT" '^ctrlmap crash +.* 1 +0 +ok +urn:ctrlmap:test:crash$' "the crash row"

check "rows are sorted by name"
grep 'urn:ctrlmap:test:' "$OUT" | cut -c1-32 >"$T/names"
LC_ALL=C sort -f "$T/names" | cmp -s - "$T/names" || fail "rows are not sorted by name: $(cat "$T/names")"

check "--plugin filters by URI or name, case-insensitively"
ctl plugins:list --cache-dir "$C" --plugin noisy
assert_rc 0
assert_eq "$(grep -c 'urn:ctrlmap:test:' "$OUT")" 1 "rows for --plugin noisy"
assert_has "$OUT" "urn:ctrlmap:test:noisy"
assert_has "$OUT" "1 plugins"
ctl plugins:list --cache-dir "$C" -p "ALL PORTS"
assert_rc 0
assert_eq "$(grep -c 'urn:ctrlmap:test:' "$OUT")" 1 "rows for -p 'ALL PORTS'"
assert_has "$OUT" "urn:ctrlmap:test:allports"
ctl plugins:list --cache-dir "$C" --plugin no-such-plugin
assert_rc 0
assert_has "$OUT" "0 plugins"

check "--format json is an array of {uri, name, class, control_in, control_out, status}"
ctl plugins:list --cache-dir "$C" --format json
assert_rc 0
assert_json "$OUT"
head -c 1 "$OUT" | grep -q '\[' || fail "--format json is not an array"
if command -v python3 >/dev/null 2>&1 && python3 -c 'import json' 2>/dev/null; then
  python3 - "$OUT" <<'EOF' || fail "the JSON list does not have the expected rows"
import json, sys
rows = json.load(open(sys.argv[1]))
assert isinstance(rows, list) and len(rows) == 8, rows
for r in rows:
    for k in ("uri", "name", "class", "control_in", "control_out", "status"):
        assert k in r, (k, r)
    assert r["status"] == "ok", r
    assert isinstance(r["control_in"], int) and isinstance(r["control_out"], int), r
ap = [r for r in rows if r["uri"] == "urn:ctrlmap:test:allports"][0]
assert (ap["name"], ap["control_in"], ap["control_out"]) == ("ctrlmap all ports", 8, 2), ap
assert "health" not in ap, ap
EOF
elif jq --version >/dev/null 2>&1; then
  jq -e 'length == 8 and all(.[]; has("uri") and has("name") and has("class") and has("control_in")
         and has("control_out") and .status == "ok")
         and (map(select(.uri == "urn:ctrlmap:test:allports"))[0] | .control_in == 8 and .control_out == 2)' \
    "$OUT" >/dev/null || fail "the JSON list does not have the expected rows"
else
  for k in uri name class control_in control_out status; do
    assert_eq "$(grep -c "^    \"$k\": " "$OUT")" 8 "rows with \"$k\""
  done
fi
grep -A6 '"uri": "urn:ctrlmap:test:allports"' "$OUT" >"$T/ap"
assert_match "$T/ap" '"control_in": 8,' "the allports row"
assert_match "$T/ap" '"control_out": 2,' "the allports row"

check "--format json with --plugin"
ctl plugins:list --cache-dir "$C" --format json --plugin crash
assert_rc 0
assert_json "$OUT"
assert_eq "$(grep -c '"uri": ' "$OUT")" 1 "rows"

check "an empty cache directory: exit 3, telling to run plugins:extract"
mkdir "$T/empty"
ctl plugins:list --cache-dir "$T/empty"
assert_rc 3
assert_has "$ERR" "plugins:extract"
[ ! -s "$OUT" ] || fail "something was printed on stdout"

check "a cache directory that does not exist: exit 3, telling to run plugins:extract, nothing created"
ctl plugins:list --cache-dir "$T/nothing-here"
assert_rc 3
assert_has "$ERR" "plugins:extract"
[ ! -e "$T/nothing-here" ] || fail "plugins:list created the cache directory"

check "a damaged index: exit 3, telling to run plugins:extract [cache-damaged], no crash"
cp -R "$C" "$T/damaged"
printf 'ctrlmap:plugin-index v1 xxh3:0000000000000000 5\n{"a":' >"$T/damaged/plugins/index"
ctl plugins:list --cache-dir "$T/damaged"
assert_rc 3
assert_has "$ERR" "ctrlmap plugins:extract" "stderr"
assert_has "$ERR" "cache-damaged" "stderr"
[ ! -s "$OUT" ] || fail "something was printed on stdout"

check "an index that is garbage (no header, binary bytes): exit 3, telling to run plugins:extract [cache-damaged]"
cp -R "$C" "$T/garbage"
awk 'BEGIN { srand(7); for (i = 0; i < 4096; i++) printf "%c", int(rand() * 255) + 1 }' >"$T/garbage/plugins/index"
ctl plugins:list --cache-dir "$T/garbage"
assert_rc 3
assert_has "$ERR" "ctrlmap plugins:extract" "stderr"
assert_has "$ERR" "cache-damaged" "stderr"
[ ! -s "$OUT" ] || fail "something was printed on stdout"
ctl plugins:list --cache-dir "$T/garbage" --format json
assert_rc 3
assert_has "$ERR" "cache-damaged" "stderr (--format json)"

say "ok"
