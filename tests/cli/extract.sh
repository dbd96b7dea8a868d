#!/usr/bin/env bash
# extract.sh: plugins:extract end to end on the fixture bundles: summary, JSON report, warm run, performance
# report, plugin output kept off the terminal, relative and unreadable LV2 paths, a cache directory that cannot be
# created or written, and a descriptor that cannot be written.
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

# --- relative LV2 paths (the build directory's tests/lv2, as a user would type it there) ---
BUILD_DIR=$(cd "$CTRLMAP_TEST_LV2_DIR/../.." && pwd -P)
ABS_LV2="$BUILD_DIR/tests/lv2"
[ "$ABS_LV2" -ef "$CTRLMAP_TEST_LV2_DIR" ] || fail "CTRLMAP_TEST_LV2_DIR is not <build>/tests/lv2: $CTRLMAP_TEST_LV2_DIR"
HERE=$(pwd)
# index_lv2_path CACHE: the "lv2_path" the index records.
index_lv2_path() { grep -ao '"lv2_path": *"[^"]*"' "$1/plugins/index" | sed 's/^"lv2_path": *"//; s/"$//'; }
# assert_bundles_under CACHE DIR: every descriptor's "bundle" is an absolute path inside DIR.
assert_bundles_under() {
  local f b
  for f in "$1"/plugins/desc/*.json; do
    b=$(desc_top "$f" bundle)
    case "$b" in "$2"/*) ;; *) fail "$(basename "$f"): bundle is '$b', want a path under $2/" ;; esac
  done
}

check "a relative --lv2-path (tests/lv2, from the build directory): exit 0, 8 plugins, absolute paths recorded"
RELC="$T/rel-cache"
cd "$BUILD_DIR"
ctl plugins:extract --lv2-path tests/lv2 --cache-dir "$RELC"
cd "$HERE"
assert_rc 0
assert_has "$OUT" "plugins: 8 installed, 8 described now, 0 from cache, 0 removed, 0 failed"
assert_eq "$(index_lv2_path "$RELC")" "$ABS_LV2" "the index's lv2_path"
assert_bundles_under "$RELC" "$ABS_LV2"

check "the same directory given as an absolute path, from elsewhere, is a warm run"
cd "$T"
ctl plugins:extract --lv2-path "$ABS_LV2" --cache-dir "$RELC"
cd "$HERE"
assert_rc 0
assert_has "$OUT" "plugins: 8 installed, 0 described now, 8 from cache, 0 removed, 0 failed"

check "a relative LV2_PATH (no --lv2-path): exit 0, 8 plugins, absolute paths recorded"
RELC2="$T/rel-cache-env"
cd "$BUILD_DIR"
LV2_PATH=tests/lv2 ctl plugins:extract --cache-dir "$RELC2"
cd "$HERE"
assert_rc 0
assert_has "$OUT" "plugins: 8 installed, 8 described now, 0 from cache, 0 removed, 0 failed"
assert_eq "$(index_lv2_path "$RELC2")" "$ABS_LV2" "the index's lv2_path (from LV2_PATH)"
assert_bundles_under "$RELC2" "$ABS_LV2"

check "plugins:health with a relative --lv2-path runs the plugin"
cd "$BUILD_DIR"
ctl plugins:health --lv2-path tests/lv2 --cache-dir "$RELC" --plugin allports --timeout 5
cd "$HERE"
assert_rc 0
assert_match "$OUT" '^ok +[0-9.]+ +urn:ctrlmap:test:allports' "the health table"
assert_has "$OUT" "1 plugins: 1 ok"

# --- an LV2 path with nothing readable must not empty the cache ---
check "--lv2-path /nonexistent/dir on a filled cache: exit 3 [lv2-path-unreadable], cache untouched"
UC="$T/unreadable-cache"
ctl plugins:extract --lv2-path "$CTRLMAP_TEST_LV2_DIR" --cache-dir "$UC"
assert_rc 0
assert_has "$OUT" "8 described now"
cp "$UC/plugins/index" "$T/index.before"
cp -R "$UC/plugins/desc" "$T/desc.before"
ctl plugins:extract --lv2-path /nonexistent/dir --cache-dir "$UC"
assert_rc 3
assert_has "$ERR" "lv2-path-unreadable" "stderr"
assert_has "$ERR" "/nonexistent/dir" "stderr"
cmp -s "$T/index.before" "$UC/plugins/index" || fail "the index changed after a run on an unreadable LV2 path"
diff -r "$T/desc.before" "$UC/plugins/desc" >"$T/desc.diff" 2>&1 ||
  fail "the descriptors changed after a run on an unreadable LV2 path: $(head -5 "$T/desc.diff")"
ctl plugins:extract --lv2-path "$CTRLMAP_TEST_LV2_DIR" --cache-dir "$UC"
assert_rc 0
assert_has "$OUT" "plugins: 8 installed, 0 described now, 8 from cache, 0 removed, 0 failed"

check "an LV2 path with one missing and one valid directory works normally"
ctl plugins:extract --lv2-path "/nonexistent/dir:$CTRLMAP_TEST_LV2_DIR" --cache-dir "$UC"
assert_rc 0
assert_has "$OUT" "plugins: 8 installed, 0 described now, 8 from cache, 0 removed, 0 failed"
assert_lacks "$ERR" "lv2-path-unreadable" "stderr"

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

check "a descriptor the cache cannot take: exit 3 [cache-write]; writable again, the next run describes the plugins again"
if [ "$(id -u)" -ne 0 ] || [ ${#as_user[@]} -gt 0 ]; then
  WL="$T/lv2-w"
  cp -R "$CTRLMAP_TEST_LV2_DIR" "$WL"
  chmod -R a+rX "$WL"
  WC="$T/w-cache"
  mkdir "$WC"
  if [ "$(id -u)" -eq 0 ]; then chown 65534:65534 "$WC"; fi
  # as_cache_user ARGS...: ctl, as the user that owns $WC.
  as_cache_user() {
    set +e
    "${as_user[@]}" "$CTRLMAP_BIN" "$@" >"$OUT" 2>"$ERR"
    RC=$?
    set -e
  }
  as_cache_user plugins:extract --lv2-path "$WL" --cache-dir "$WC"
  assert_rc 0
  assert_has "$OUT" "plugins: 8 installed, 8 described now, 0 from cache, 0 removed, 0 failed"
  chmod 555 "$WC/plugins/desc"
  as_cache_user plugins:extract --lv2-path "$WL" --cache-dir "$WC" --force
  assert_rc 3
  assert_has "$ERR" "cache-write" "stderr"
  chmod 755 "$WC/plugins/desc"
  as_cache_user plugins:extract --lv2-path "$WL" --cache-dir "$WC"
  assert_rc 0
  assert_has "$OUT" "plugins: 8 installed, 8 described now, 0 from cache, 0 removed, 0 failed"
  assert_lacks "$OUT" "failed: " "stdout"
else
  echo "    (skipped: running as root without setpriv to drop privileges)"
fi

say "ok"
