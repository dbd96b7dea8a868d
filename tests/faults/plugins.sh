#!/usr/bin/env bash
# shellcheck disable=SC2031 # RC is set by ctl (lib.sh) in this shell, not in a subshell
# plugins.sh: hostile plugins mixed with good ones. plugins:health meets plugins that crash, abort, hang, eat memory
# and flood their output; plugins:extract meets bundles whose Turtle is broken, missing, a FIFO, /dev/zero or huge.
# Every good plugin must come through, every bad one must be reported with what it did, the run's time must be
# bounded by --timeout, and neither the log nor ctrlmap's own memory may grow with what a plugin does.
set -euo pipefail
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/../cli/lib.sh"

: "${CTRLMAP_TEST_LV2_DIR:?CTRLMAP_TEST_LV2_DIR is not set: run the tests through ctest}"
: "${CTRLMAP_TEST_LV2_HOSTILE_DIR:?CTRLMAP_TEST_LV2_HOSTILE_DIR is not set: run the tests through ctest}"
say "plugins.sh: hostile plugins and bundles"

# now_ms: wall clock in milliseconds.
now_ms() { date +%s%3N; }
# timed ARGS...: ctl under `timeout 120` (a hang here must fail the test, not the CI job); sets ELAPSED (ms).
timed() {
  local t0
  t0=$(now_ms)
  set +e
  timeout 120 "$CTRLMAP_BIN" "$@" >"$OUT" 2>"$ERR"
  RC=$?
  set -e
  ELAPSED=$(($(now_ms) - t0))
  [ "$RC" -ne 124 ] || fail "ctrlmap $1 did not finish within 120 s"
}
assert_elapsed_below() { [ "$ELAPSED" -lt "$1" ] || fail "the run took $ELAPSED ms, expected under $1 ms"; }

# The eight fixture plugins (crash, abort, hang, nan, needfeature, nullinst, and the good allports and noisy) and
# the resource-hostile ones (hog: takes memory without end; flood: prints 80 MiB in instantiate).
LV2="$T/lv2"
mkdir -p "$LV2"
cp -R "$CTRLMAP_TEST_LV2_DIR"/. "$CTRLMAP_TEST_LV2_HOSTILE_DIR"/. "$LV2"/
C="$T/cache"

check "plugins:extract describes all ten: their Turtle is fine, whatever their code does"
timed plugins:extract --lv2-path "$LV2" --cache-dir "$C"
assert_rc 0
assert_has "$OUT" "plugins: 10 installed, 10 described now, 0 from cache, 0 removed, 0 failed"

check "plugins:health: each bad plugin reported for what it did, the good ones ok, time bounded by --timeout"
timed plugins:health --lv2-path "$LV2" --cache-dir "$C" --timeout 2 --jobs 2 --memory-limit 256
assert_rc 0
assert_no_crash
assert_match "$OUT" '^crashed +[0-9.]+ +urn:ctrlmap:test:crash +SIGSEGV$' "the table"
assert_match "$OUT" '^crashed +[0-9.]+ +urn:ctrlmap:test:abort +SIGABRT$' "the table"
assert_match "$OUT" '^timeout +[0-9.]+ +urn:ctrlmap:test:hang +no answer within 2 s$' "the table"
assert_match "$OUT" '^memory-limit +[0-9.]+ +urn:ctrlmap:test:hog +killed at [0-9]+ MiB of resident memory' "the table"
assert_match "$OUT" '^output-flood +[0-9.]+ +urn:ctrlmap:test:flood +wrote 80.0 MiB to stdout/stderr' "the table"
assert_match "$OUT" '^10 plugins: .*2 ok' "the summary (allports and noisy)"
assert_lacks "$OUT" "urn:ctrlmap:test:allports"
assert_lacks "$OUT" "urn:ctrlmap:test:noisy"
# The hang costs its 2 s; with two workers the rest runs beside it. 12 s leaves room for a slow (sanitizer) build.
assert_elapsed_below 12000
# The hog was stopped on its way to 3 GiB, not after it.
mib=$(sed -n 's/^memory-limit .*killed at \([0-9]*\) MiB.*/\1/p' "$OUT")
if [ "$mib" -le 256 ] || [ "$mib" -ge 1024 ]; then fail "the hog was killed at $mib MiB, expected just over 256"; fi

check "the flood stays out of ctrlmap's output, and the log keeps 1 MiB of it, cut with a note"
assert_lacks "$OUT" "ooooooooooooooo" "stdout"
assert_lacks "$ERR" "ooooooooooooooo" "stderr"
LOG="$C/logs/health.log"
size=$(stat -c %s "$LOG")
[ "$size" -lt $((1024 * 1024 + 64 * 1024)) ] || fail "health.log is $size bytes: the flood was not cut"
assert_has "$LOG" "== urn:ctrlmap:test:flood ==" "health.log"
assert_has "$LOG" "FLOOD-BEGIN" "health.log"
assert_has "$LOG" "[ctrlmap: output cut here, after 1048576 bytes]" "health.log"
# The output of the plugins around it is still there, under their own names.
grep -A30 -F "== urn:ctrlmap:test:noisy ==" "$LOG" | grep -q "NOISY-STDOUT run 3" ||
  fail "the noisy plugin's output is not under its name in health.log"

check "--format json: the same statuses, with details"
timed plugins:health --lv2-path "$LV2" --cache-dir "$C" --timeout 2 --jobs 2 --memory-limit 256 --format json \
  --plugin ctrlmap:test:hog
assert_rc 0
assert_match "$OUT" '"status": *"memory-limit"' "the JSON"
timed plugins:health --lv2-path "$LV2" --cache-dir "$C" --timeout 2 --plugin ctrlmap:test:flood --format json
assert_match "$OUT" '"status": *"output-flood"' "the JSON"

check "--strict: exit 1 with bad plugins; plugins:list shows each plugin's last result"
timed plugins:health --lv2-path "$LV2" --cache-dir "$C" --timeout 2 --jobs 2 --memory-limit 256 --strict
assert_rc 1
ctl plugins:list --cache-dir "$C"
assert_rc 0
assert_match "$OUT" 'memory-limit +urn:ctrlmap:test:hog$' "plugins:list"
assert_match "$OUT" 'output-flood +urn:ctrlmap:test:flood$' "plugins:list"

check "--memory-limit 0 is no limit; a bad value is a usage error"
ctl plugins:health --lv2-path "$LV2" --cache-dir "$C" --memory-limit lots
assert_rc 2
assert_has "$ERR" "--memory-limit: 'lots' is not a number of MiB"
timed plugins:health --lv2-path "$LV2" --cache-dir "$C" --memory-limit 0 --plugin ctrlmap:test:allports
assert_rc 0
assert_match "$OUT" '^1 plugins: 1 ok' "the summary"

# --- hostile bundles for plugins:extract ---
# bundle NAME: a bundle whose manifest declares <urn:ctrlmap:test:NAME> with its data in NAME.ttl (not created).
B="$T/bundles"
mkdir -p "$B"
cp -R "$CTRLMAP_TEST_LV2_DIR"/. "$B"/
bundle() {
  mkdir -p "$B/$1.lv2"
  printf '@prefix lv2: <http://lv2plug.in/ns/lv2core#> .\n@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n<urn:ctrlmap:test:%s> a lv2:Plugin ; lv2:binary <%s.so> ; rdfs:seeAlso <%s.ttl> .\n' \
    "$1" "$1" "$1" >"$B/$1.lv2/manifest.ttl"
}
bundle broken
printf '@prefix lv2: <http://lv2plug.in/ns/lv2core#> .\n<urn:ctrlmap:test:broken> a lv2:Plugin ;\n  lv2:port [ garbage {{ \n' \
  >"$B/broken.lv2/broken.ttl"
bundle missing
bundle fifo
mkfifo "$B/fifo.lv2/fifo.ttl"
bundle zero
ln -s /dev/zero "$B/zero.lv2/zero.ttl"
mkdir -p "$B/fifoman.lv2" "$B/zeroman.lv2" "$B/hugeman.lv2"
mkfifo "$B/fifoman.lv2/manifest.ttl"
ln -s /dev/zero "$B/zeroman.lv2/manifest.ttl"
truncate -s 17M "$B/hugeman.lv2/manifest.ttl"

check "plugins:extract on broken, missing, FIFO and /dev/zero Turtle: the 8 good ones described, each bad one reported"
C2="$T/cache2"
timed plugins:extract --lv2-path "$B" --cache-dir "$C2" --timeout 3
assert_rc 0
assert_no_crash
assert_has "$OUT" "plugins: 12 installed, 12 described now, 0 from cache, 0 removed, 4 failed"
assert_match "$OUT" 'failed: urn:ctrlmap:test:broken: its Turtle has an error: .*/broken.lv2/broken.ttl:3:[0-9]+: ' \
  "the failures"
assert_match "$OUT" 'failed: urn:ctrlmap:test:missing: cannot read its data file .*/missing.ttl: No such file' \
  "the failures"
assert_match "$OUT" 'failed: urn:ctrlmap:test:fifo: its data file .*/fifo.ttl is not a regular file' "the failures"
assert_match "$OUT" 'failed: urn:ctrlmap:test:zero: its data file .*/zero.ttl is not a regular file' "the failures"
for m in fifoman zeroman; do
  assert_match "$ERR" "$B/$m.lv2/manifest.ttl: warning: this manifest is not a regular file .*\\[lv2-bundle-skipped\\]" \
    "stderr"
done
assert_match "$ERR" "$B/hugeman.lv2/manifest.ttl: warning: this manifest is larger than 16 MiB" "stderr"
# Refused before reading: nothing waited for a timeout.
assert_elapsed_below 2500
[ "$(find "$C2/plugins/desc" -name '*.json' | wc -l)" -eq 8 ] || fail "expected 8 descriptors"
ctl plugins:list --cache-dir "$C2"
assert_rc 0
assert_match "$OUT" '^12 plugins' "plugins:list"

check "the same bundles through --engine lilv: the same plugins refused"
C3="$T/cache3"
timed plugins:extract --lv2-path "$B" --cache-dir "$C3" --timeout 3 --engine lilv
assert_rc 0
assert_has "$OUT" "plugins: 12 installed, 12 described now, 0 from cache, 0 removed, 4 failed"
diff -r "$C2/plugins/desc" "$C3/plugins/desc" >/dev/null || fail "the two engines wrote different descriptors"

check "a plugin whose Turtle needs more than --memory-limit to read is stopped and reported; the others are described"
bundle big
# 150000 ports: ~15 MB of Turtle that takes ~400 MiB to hold.
awk 'BEGIN {
  print "@prefix lv2: <http://lv2plug.in/ns/lv2core#> ."
  printf "<urn:ctrlmap:test:big> a lv2:Plugin ; lv2:port "
  for (i = 0; i < 150000; i++)
    printf "[ a lv2:ControlPort , lv2:InputPort ; lv2:index %d ; lv2:symbol \"p%d\" ; lv2:name \"P%d\" ]%s", i, i, i, i < 149999 ? " , " : " .\n"
}' >"$B/big.lv2/big.ttl"
timed plugins:extract --lv2-path "$B" --cache-dir "$C2" --timeout 30 --memory-limit 128 --performance
assert_rc 0
assert_match "$OUT" 'failed: urn:ctrlmap:test:big: memory-limit: killed at [0-9]+ MiB' "the failures"
assert_has "$OUT" "plugins: 13 installed, 1 described now, 12 from cache, 0 removed, 5 failed"
# ctrlmap itself stays small whatever its workers do.
rss=$(sed -n 's/.*peak RSS \([0-9]*\)\.[0-9] MiB (ctrlmap).*/\1/p' "$ERR")
if [ -z "$rss" ] || [ "$rss" -ge 64 ]; then fail "ctrlmap's own peak RSS is '$rss' MiB"; fi
assert_elapsed_below 20000

check "a plugin whose name and URI carry terminal escapes: described, but no control character reaches the terminal"
mkdir -p "$B/evil.lv2"
printf '@prefix lv2: <http://lv2plug.in/ns/lv2core#> .\n@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n<urn:ctrlmap:test:evil%%1B> a lv2:Plugin ; lv2:binary <evil.so> ; rdfs:seeAlso <evil.ttl> .\n' \
  >"$B/evil.lv2/manifest.ttl"
printf '@prefix doap: <http://usefulinc.com/ns/doap#> .\n@prefix lv2: <http://lv2plug.in/ns/lv2core#> .\n<urn:ctrlmap:test:evil%%1B> a lv2:Plugin ; doap:name "Evil\\u001B[2J\\u0007name" .\n' \
  >"$B/evil.lv2/evil.ttl"
timed plugins:extract --lv2-path "$B" --cache-dir "$C2" --timeout 3
assert_rc 0
ctl plugins:list --cache-dir "$C2" --plugin evil
assert_rc 0
assert_has "$OUT" "Evil"
if LC_ALL=C grep -q "$(printf '[\001-\010\013-\037\177]')" "$OUT" "$ERR"; then fail "a control character reached the terminal"; fi
ctl plugins:list --cache-dir "$C2" --plugin evil --format json
assert_match "$OUT" '"name": *"Evil\\u001[bB]\[2J\\u0007name"' "the JSON (escaped, not lost)"
rm -rf "$B/evil.lv2"

check "the bad bundles removed: the next run drops them and the cache holds exactly the good plugins"
rm -rf "$B"/{broken,missing,fifo,zero,big,fifoman,zeroman,hugeman}.lv2
timed plugins:extract --lv2-path "$B" --cache-dir "$C2"
assert_rc 0
assert_has "$OUT" "plugins: 8 installed, 0 described now, 8 from cache, 6 removed, 0 failed"
assert_lacks "$ERR" "lv2-bundle-skipped" "stderr"
ctl workflow:health --cache-dir "$C2" --lv2-path "$B" --format json
assert_no_crash
assert_has "$OUT" "8 descriptors, all matching their checksums" "workflow:health"
assert_has "$OUT" "up to date with the installed bundles" "workflow:health"
say "ok"
