#!/usr/bin/env bash
# shellcheck disable=SC2031 # RC is set by ctl (lib.sh) in this shell, not in a subshell
# concurrency.sh: several ctrlmaps on one cache (the lock serialises writers; readers never see a half-written
# index), a plugins:extract killed with SIGKILL in the middle of its work leaves a cache the next run completes, and two
# workflow:complete runs started together on one cache both succeed with whole outputs.
set -euo pipefail
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/../cli/lib.sh"

: "${CTRLMAP_TEST_LV2_DIR:?CTRLMAP_TEST_LV2_DIR is not set: run the tests through ctest}" "${CTRLMAP_SOURCE_DIR:?}"
say "concurrency.sh: concurrent runs, the cache lock, and a killed run"

# A large LV2 directory, so that a run takes long enough to be interrupted: N copies of the allports fixture
# under their own URIs (no binaries needed: extraction reads only Turtle).
N=800
BIG="$T/big"
mkdir -p "$BIG"
src="$CTRLMAP_TEST_LV2_DIR/ctrlmap-allports.lv2"
for n in $(seq 1 $N); do
  i=$(printf '%04d' "$n")
  b="$BIG/gen-$i.lv2"
  mkdir "$b"
  sed "s/urn:ctrlmap:test:allports/urn:ctrlmap:test:gen-$i/g" "$src/manifest.ttl" >"$b/manifest.ttl"
  sed "s/urn:ctrlmap:test:allports/urn:ctrlmap:test:gen-$i/g" "$src/allports.ttl" >"$b/allports.ttl"
done
n_desc() { find "$1/plugins/desc" -name '*.json' 2>/dev/null | wc -l; }

check "two plugins:extract started at once on one empty cache: both exit 0, one does the work"
C="$T/c1"
"$CTRLMAP_BIN" plugins:extract --lv2-path "$CTRLMAP_TEST_LV2_DIR" --cache-dir "$C" >"$T/a.out" 2>"$T/a.err" &
pa=$!
"$CTRLMAP_BIN" plugins:extract --lv2-path "$CTRLMAP_TEST_LV2_DIR" --cache-dir "$C" >"$T/b.out" 2>"$T/b.err" &
pb=$!
set +e
wait $pa
ra=$?
wait $pb
rb=$?
set -e
[ $ra -eq 0 ] || fail "the first run exited $ra: $(cat "$T/a.err")"
[ $rb -eq 0 ] || fail "the second run exited $rb: $(cat "$T/b.err")"
got=$(cat "$T/a.out" "$T/b.out" | grep -o '[0-9]* described now' | sort | tr '\n' ',')
assert_eq "$got" "0 described now,8 described now," "what the two runs described"
ctl plugins:extract --lv2-path "$CTRLMAP_TEST_LV2_DIR" --cache-dir "$C"
assert_rc 0
assert_has "$OUT" "8 installed, 0 described now, 8 from cache"
assert_eq "$(n_desc "$C")" 8 "descriptor files"
ctl plugins:list --cache-dir "$C"
assert_rc 0
assert_has "$OUT" "8 plugins"

check "a held lock: writers and readers wait up to --lock-timeout, then exit 3 saying the cache is busy"
# hold_lock MODE FILE: holds an flock(2) in the background until killed ($! is the process holding it).
hold_lock() { bash -c 'exec 9>>"$2" && flock "$1" 9 && exec sleep 30' _ "$1" "$2" & }
hold_lock -x "$C/lock"
holder=$!
for _ in $(seq 1 100); do
  # until the holder has the lock
  flock -n -s "$C/lock" true 2>/dev/null || break
  sleep 0.05
done
ctl plugins:extract --lv2-path "$CTRLMAP_TEST_LV2_DIR" --cache-dir "$C" --lock-timeout 0.3
assert_rc 3
assert_has "$ERR" "cache-busy"
ctl plugins:list --cache-dir "$C" --lock-timeout 0.3
assert_rc 3
assert_has "$ERR" "another ctrlmap is using this cache"
kill "$holder"
wait "$holder" 2>/dev/null || true
check "a shared (reader) lock lets readers in and keeps writers out"
hold_lock -s "$C/lock"
holder=$!
for _ in $(seq 1 100); do
  flock -n -x "$C/lock" true 2>/dev/null || break
  sleep 0.05
done
ctl plugins:list --cache-dir "$C" --lock-timeout 0.3
assert_rc 0
assert_has "$OUT" "8 plugins"
ctl plugins:extract --lv2-path "$CTRLMAP_TEST_LV2_DIR" --cache-dir "$C" --lock-timeout 0.3
assert_rc 3
kill "$holder"
wait "$holder" 2>/dev/null || true

check "a reader during a long extract sees no index or the whole index, never a part"
C2="$T/c2"
"$CTRLMAP_BIN" plugins:extract --lv2-path "$BIG" --cache-dir "$C2" --jobs 2 >"$T/w.out" 2>"$T/w.err" &
pw=$!
for _ in $(seq 1 40); do
  ctl plugins:list --cache-dir "$C2" --lock-timeout 60
  assert_no_crash
  if [ "$RC" -eq 0 ]; then
    assert_has "$OUT" "$N plugins" "a list taken during the extract"
  else
    assert_eq "$RC" 3 "the exit status of a list before the first index"
    grep -q -e "cache-missing" -e "cache-empty" "$ERR" || fail "unexpected error from a list during the extract"
  fi
  kill -0 $pw 2>/dev/null || break
  sleep 0.05
done
wait $pw || fail "the extract exited $?: $(cat "$T/w.err")"
assert_has "$T/w.out" "$N installed, $N described now"

check "plugins:extract killed with SIGKILL mid-run: the next run completes the cache"
C3="$T/c3"
"$CTRLMAP_BIN" plugins:extract --lv2-path "$BIG" --cache-dir "$C3" --jobs 1 >"$T/k.out" 2>"$T/k.err" &
pk=$!
# Kill it once it has written some descriptors but (very likely) not all of them.
for _ in $(seq 1 2000); do
  [ "$(n_desc "$C3")" -ge 20 ] && break
  kill -0 $pk 2>/dev/null || break
  sleep 0.01
done
killed_mid_run=false
if kill -0 $pk 2>/dev/null; then
  kill -9 $pk
  killed_mid_run=true
fi
set +e
wait $pk 2>/dev/null
rk=$?
set -e
if $killed_mid_run; then
  assert_eq "$rk" 137 "the killed run's exit status"
  partial=$(n_desc "$C3")
  echo "    (killed after $partial of $N descriptors)"
  [ ! -e "$C3/plugins/index" ] || fail "a killed first run left an index"
else
  echo "    (note: the run finished before it could be killed; the checks below still run)"
fi
# No worker outlives its parent (they die with it: PR_SET_PDEATHSIG).
sleep 0.2
# (Read from /proc rather than with pgrep, which a minimal system may lack.)
alive=""
for cmdline in /proc/[0-9]*/cmdline; do
  if tr '\0' ' ' <"$cmdline" 2>/dev/null | grep -qF -- "--cache-dir $C3 "; then
    pid=${cmdline#/proc/}
    alive="$alive ${pid%/cmdline}"
  fi
done
[ -z "$alive" ] || fail "processes of the killed run are still alive:$alive"
ctl plugins:extract --lv2-path "$BIG" --cache-dir "$C3" --jobs 2
assert_rc 0
assert_has "$OUT" "$N installed"
assert_has "$OUT" "0 failed"
assert_eq "$(n_desc "$C3")" "$N" "descriptor files"
tmp_left=$(find "$C3" -name '*.tmp.*' | wc -l)
assert_eq "$tmp_left" 0 "temporary files left in the cache"
ctl plugins:extract --lv2-path "$BIG" --cache-dir "$C3"
assert_rc 0
assert_has "$OUT" "$N installed, 0 described now, $N from cache"
ctl plugins:list --cache-dir "$C3" --plugin gen-0001
assert_rc 0
assert_match "$OUT" '^ctrlmap all ports +.* 8 +2 +ok +urn:ctrlmap:test:gen-0*1$'
ctl plugins:list --cache-dir "$C3"
assert_rc 0
assert_has "$OUT" "$N plugins"

check "a killed warm cache: kill a forced re-run mid-way, the next run repairs what it half did"
"$CTRLMAP_BIN" plugins:extract --lv2-path "$BIG" --cache-dir "$C3" --jobs 1 --force >"$T/k.out" 2>"$T/k.err" &
pk=$!
sleep 0.3
kill -9 $pk 2>/dev/null || true
wait $pk 2>/dev/null || true
ctl plugins:extract --lv2-path "$BIG" --cache-dir "$C3"
assert_rc 0
assert_has "$OUT" "$N installed"
assert_has "$OUT" "0 failed"
ctl plugins:extract --lv2-path "$BIG" --cache-dir "$C3"
assert_rc 0
assert_has "$OUT" "0 described now, $N from cache"
mid=$(printf 'gen-%04d' $((N / 2)))
f=$(desc_file "$C3" "urn:ctrlmap:test:$mid")
[ -n "$f" ] || fail "no descriptor for urn:ctrlmap:test:$mid"
assert_eq "$(port_field "$f" latency ardour_param)" 10 "a descriptor's latency ardour_param"

check "two workflow:complete runs on one cache at once: both exit 0, the maps are whole and the cache consistent"
# The allports fixture among the 800 generated plugins, and twelve maps of it: a run that takes long enough
# (a cold extract of 808 plugins) for the two to overlap.
W="$T/w-maps"
allports_maps "$W" 12
cp -R "$CTRLMAP_TEST_LV2_DIR/ctrlmap-allports.lv2" "$BIG/"
C4="$T/c4"
for r in a b; do
  "$CTRLMAP_BIN" workflow:complete --lv2-path "$BIG" --cache-dir "$C4" "$W" >"$T/wf-$r.out" 2>"$T/wf-$r.err" &
  eval "pw_$r=\$!"
done
set +e
# shellcheck disable=SC2154 # set by the eval above
wait "$pw_a"
ra=$?
# shellcheck disable=SC2154
wait "$pw_b"
rb=$?
set -e
[ $ra -eq 0 ] || fail "the first workflow:complete exited $ra: $(cat "$T/wf-a.err")"
[ $rb -eq 0 ] || fail "the second workflow:complete exited $rb: $(cat "$T/wf-b.err")"
assert_eq "$(find "$C4/ardour" -name '*.map' | wc -l)" 12 "Ardour maps"
for f in "$C4"/ardour/*.map; do
  grep -q '</ArdourMIDIBindings>' "$f" || fail "$(basename "$f") is not whole"
done
assert_eq "$(find "$C4" -name '*.tmp.*' | wc -l)" 0 "temporary files left"
ctl workflow:complete --lv2-path "$BIG" --cache-dir "$C4" "$W"
assert_rc 0
assert_has "$OUT" "0 described now"
assert_has "$OUT" "0 written, 12 unchanged"
ctl workflow:health --lv2-path "$BIG" --cache-dir "$C4" "$W"
assert_has "$OUT" "all matching their checksums"

say "ok"
