#!/usr/bin/env bash
# extract.sh: plugins:extract end to end on the fixture bundles: summary, JSON report, warm run, performance
# report, plugin output kept off the terminal, and a cache directory that cannot be created.
set -euo pipefail
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

: "${CTRLMAP_TEST_LV2_DIR:?CTRLMAP_TEST_LV2_DIR is not set: run the tests through ctest}"
say "extract.sh: plugins:extract on the fixture bundles"

LV2="$T/lv2"
cp -R "$CTRLMAP_TEST_LV2_DIR" "$LV2"
n_fixtures=$(find "$LV2" -mindepth 2 -maxdepth 2 -name manifest.ttl | wc -l)
assert_eq "$n_fixtures" 8 "number of fixture bundles"
C="$T/cache"

check "a cold run describes all 8 plugins, exit 0, and prints the summary"
ctl plugins:extract --lv2-path "$LV2" --cache-dir "$C"
assert_rc 0
assert_has "$OUT" "plugins: 8 installed, 8 described now, 0 from cache, 0 removed, 0 failed"
assert_has "$OUT" "cache: $C"
n_desc=$(find "$C/plugins/desc" -name '*.json' | wc -l)
assert_eq "$n_desc" 8 "descriptor files"
[ -s "$C/plugins/index" ] || fail "no index in the cache"

check "no plugin output on ctrlmap's stdout or stderr"
assert_lacks "$OUT" "NOISY" "stdout"
assert_lacks "$ERR" "NOISY" "stderr"

check "a warm run describes nothing"
ctl plugins:extract --lv2-path "$LV2" --cache-dir "$C"
assert_rc 0
assert_has "$OUT" "plugins: 8 installed, 0 described now, 8 from cache, 0 removed, 0 failed"

check "--format json is a JSON report (warm: nothing parsed)"
ctl plugins:extract --lv2-path "$LV2" --cache-dir "$C" --format json
assert_rc 0
assert_json "$OUT"
assert_match "$OUT" '"extracted": 0,?$'
assert_match "$OUT" '"cached": 8,?$'
assert_match "$OUT" '"plugins": 8,?$'
assert_match "$OUT" '"turtle_loaded": false,?$'
assert_match "$OUT" '"failures": \[\],?$'
assert_lacks "$OUT" "plugins: 8 installed" "--format json output"

check "--force describes everything again; the JSON says Turtle was loaded"
ctl plugins:extract --lv2-path "$LV2" --cache-dir "$C" --force --format json
assert_rc 0
assert_json "$OUT"
assert_match "$OUT" '"extracted": 8,?$'
assert_match "$OUT" '"turtle_loaded": true,?$'

check "a touched bundle is described again, alone"
touch -d '+5 seconds' "$LV2/ctrlmap-nan.lv2/nan.ttl"
ctl plugins:extract --lv2-path "$LV2" --cache-dir "$C"
assert_rc 0
assert_has "$OUT" "plugins: 8 installed, 1 described now, 7 from cache, 0 removed, 0 failed"

check "a removed bundle is dropped"
rm -rf "$LV2/ctrlmap-hang.lv2"
ctl plugins:extract --lv2-path "$LV2" --cache-dir "$C"
assert_rc 0
assert_has "$OUT" "plugins: 7 installed, 0 described now, 7 from cache, 1 removed, 0 failed"
assert_eq "$(find "$C/plugins/desc" -name '*.json' | wc -l)" 7 "descriptor files after the removal"
[ -z "$(desc_file "$C" urn:ctrlmap:test:hang)" ] || fail "the removed plugin's descriptor is still there"

check "a bundle whose Turtle is broken: lilv's errors go to <cache>/logs/extract.log, the others are described"
mkdir "$LV2/broken.lv2"
printf '@prefix lv2: <http://lv2plug.in/ns/lv2core#> .\n<urn:ctrlmap:test:broken> a lv2:Plugin ;\n garbage { here' \
  >"$LV2/broken.lv2/manifest.ttl"
ctl plugins:extract --lv2-path "$LV2" --cache-dir "$C"
assert_rc 0
assert_has "$OUT" "plugins: 7 installed, 0 described now, 7 from cache, 0 removed, 0 failed"
[ ! -s "$ERR" ] || fail "lilv's errors reached stderr"
assert_has "$C/logs/extract.log" "broken.lv2/manifest.ttl" "extract.log"
rm -rf "$LV2/broken.lv2"

check "--engine lilv (the reference reader) writes byte-identical descriptors"
mkdir "$T/stream-desc"
cp "$C"/plugins/desc/*.json "$T/stream-desc/"
ctl plugins:extract --lv2-path "$LV2" --cache-dir "$C" --engine lilv --force
assert_rc 0
assert_has "$OUT" "7 described now"
for d in "$T"/stream-desc/*.json; do
  cmp -s "$d" "$C/plugins/desc/$(basename "$d")" || fail "the lilv engine's $(basename "$d") differs from the stream engine's"
done
ctl plugins:extract --lv2-path "$LV2" --cache-dir "$C" --engine stream
assert_rc 0
assert_has "$OUT" "0 described now"

check "--performance prints the phases, p50/p95/p99 and peak RSS on stderr"
ctl plugins:extract --lv2-path "$LV2" --cache-dir "$C" --force --performance
assert_rc 0
for w in "p50" "p95" "p99" "peak RSS" "extract"; do
  assert_has "$ERR" "$w" "--performance (stderr)"
done
assert_lacks "$OUT" "peak RSS" "stdout"
assert_has "$OUT" "7 described now"

check "--performance-json FILE writes a JSON report with its phases"
ctl plugins:extract --lv2-path "$LV2" --cache-dir "$C" --performance-json "$T/perf.json"
assert_rc 0
[ -s "$T/perf.json" ] || fail "--performance-json wrote nothing"
assert_json "$T/perf.json"
assert_has "$T/perf.json" '"phases"'
assert_has "$T/perf.json" '"plugins:extract"'
assert_lacks "$ERR" "peak RSS" "stderr without --performance"

check "--performance-json into a directory that does not exist: exit 3, no crash"
ctl plugins:extract --lv2-path "$LV2" --cache-dir "$C" --performance-json "$T/no/such/dir/perf.json"
assert_rc 3
[ -s "$ERR" ] || fail "no message"

check "a cache directory that cannot be created: exit 3 with a message"
ctl plugins:extract --lv2-path "$LV2" --cache-dir /proc/ctrlmap-nope
assert_rc 3
assert_has "$ERR" "/proc/ctrlmap-nope"
ctl plugins:extract --lv2-path "$LV2" --cache-dir /proc/ctrlmap-nope --format json
assert_rc 3
echo data >"$T/a-file"
ctl plugins:extract --lv2-path "$LV2" --cache-dir "$T/a-file"
assert_rc 3
[ -s "$ERR" ] || fail "no message for a cache path that is a file"
ctl plugins:extract --lv2-path "$LV2" --cache-dir "$T/a-file/sub"
assert_rc 3

check "a cache directory this user cannot write: exit 3 with a message, nothing written"
RO="$T/ro-cache"
mkdir -p "$RO"
chmod 555 "$RO"
as_user=()
if [ "$(id -u)" -eq 0 ]; then
  # Permissions do not stop root: run that one command as nobody, if this machine can.
  chmod 711 "$T"
  if command -v setpriv >/dev/null 2>&1 &&
    setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$CTRLMAP_BIN" 2>/dev/null; then
    as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
  fi
fi
if [ "$(id -u)" -ne 0 ] || [ ${#as_user[@]} -gt 0 ]; then
  set +e
  "${as_user[@]}" "$CTRLMAP_BIN" plugins:extract --lv2-path "$LV2" --cache-dir "$RO" >"$OUT" 2>"$ERR"
  # shellcheck disable=SC2034 # read by assert_rc
  RC=$?
  set -e
  assert_rc 3
  assert_has "$ERR" "$RO"
  [ -z "$(ls -A "$RO")" ] || fail "something was written into the read-only cache: $(ls -A "$RO")"
else
  echo "    (skipped: running as root without setpriv to drop privileges)"
fi
chmod 755 "$RO"

say "ok"
