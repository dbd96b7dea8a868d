#!/usr/bin/env bash
# shellcheck disable=SC2031 # RC is set by ctl (lib.sh) in this shell, not in a subshell
# install.sh: daw:generate --install killed with SIGKILL at random moments, again and again. Ardour's folder must
# only ever hold, for each map, the old file or the new one, whole (Ardour would load anything named *.map); the
# cache must stay usable; and the next complete run must leave exactly the new files and no temporary ones.
set -euo pipefail
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/../cli/lib.sh"

: "${CTRLMAP_TEST_LV2_DIR:?CTRLMAP_TEST_LV2_DIR is not set: run the tests through ctest}"
: "${CTRLMAP_SOURCE_DIR:?}"
say "install.sh: SIGKILL during daw:generate --install"
[ -z "${KEEP_T:-}" ] || trap - EXIT

# Twelve maps of the allports fixture on channels 1-12, so that an install writes twelve files one after another.
MAPS="$T/maps"
allports_maps "$MAPS" 12
C="$T/cache"
A="$T/ardour7/midi_maps"
gen() { ctl daw:generate --lv2-path "$CTRLMAP_TEST_LV2_DIR" --cache-dir "$C" "$@" "$MAPS"; }

check "the reference outputs: route 1 and route 2 give twelve different files each"
gen --out "$T/ref1" --route 1
assert_rc 0
gen --out "$T/ref2" --route 2
assert_rc 0
assert_eq "$(find "$T/ref1" -name '*.map' | wc -l)" 12 "maps for route 1"
for f in "$T/ref1"/*.map; do
  ! cmp -s "$f" "$T/ref2/$(basename "$f")" || fail "$(basename "$f") is the same for both routes"
done
gen --install --ardour-dir "$A" --route 1
assert_rc 0

# check_folder: every *.map in Ardour's folder is, byte for byte, one of the two versions of that map.
check_folder() {
  local f n=0
  for f in "$A"/*.map; do
    [ -e "$f" ] || continue
    n=$((n + 1))
    cmp -s "$f" "$T/ref1/$(basename "$f")" || cmp -s "$f" "$T/ref2/$(basename "$f")" ||
      fail "after kill $1: $(basename "$f") is neither the old nor the new file ($(wc -c <"$f") bytes)"
  done
  [ "$n" -eq 12 ] || fail "after kill $1: $n maps in Ardour's folder, expected 12"
  # Leftover temporaries must not look like maps to Ardour (it lists names ending in .map).
  if find "$A" -name '*.tmp.*.map' | grep -q .; then
    fail "after kill $1: a temporary file ends in .map"
  fi
}

check "40 installs killed with SIGKILL at random moments: the folder only ever holds whole old or new files"
killed_mid=0
for i in $(seq 1 40); do
  route=$((i % 2 + 1))
  "$CTRLMAP_BIN" daw:generate --lv2-path "$CTRLMAP_TEST_LV2_DIR" --cache-dir "$C" --install --ardour-dir "$A" \
    --route "$route" --force "$MAPS" >/dev/null 2>&1 &
  pid=$!
  # 0-59 ms: from before the cache is opened to after the last rename.
  sleep "0.0$((RANDOM % 60 / 10))$((RANDOM % 10))"
  if kill -9 "$pid" 2>/dev/null; then killed_mid=$((killed_mid + 1)); fi
  wait "$pid" 2>/dev/null || true
  check_folder "$i"
done
say "    ($killed_mid of 40 runs were killed before they finished)"
[ "$killed_mid" -gt 0 ] || fail "no run was killed mid-way: the kills came too late to test anything"

check "the next complete run: exactly the new files, no temporary files left, the cache consistent"
gen --install --ardour-dir "$A" --route 2
assert_rc 0
for f in "$T/ref2"/*.map; do
  cmp -s "$f" "$A/$(basename "$f")" || fail "$(basename "$f") is not the route-2 file after a complete run"
done
left=$(find "$A" "$C" -name '*.tmp.*' | wc -l)
assert_eq "$left" 0 "temporary files left in Ardour's folder and the cache"
ctl workflow:health --lv2-path "$CTRLMAP_TEST_LV2_DIR" --cache-dir "$C" --ardour-dir "$A" "$MAPS"
assert_no_crash
assert_lacks "$OUT" "corrupt" "workflow:health"
ctl daw:list --cache-dir "$C" --ardour-dir "$A"
assert_rc 0
assert_lacks "$OUT" "foreign" "daw:list"
check "a FIFO in Ardour's folder, even under a map's own name: nothing hangs, it is listed and kept as foreign"
victim=$(basename "$(find "$T/ref2" -name '*.map' | sort | head -1)")
rm -f "$A/$victim"
mkfifo "$A/$victim" "$A/stray.map"
set +e
timeout 20 "$CTRLMAP_BIN" daw:list --cache-dir "$C" --ardour-dir "$A" >"$OUT" 2>"$ERR"
RC=$?
set -e
[ "$RC" -ne 124 ] || fail "daw:list hung on a FIFO"
assert_rc 0
assert_match "$OUT" "^foreign +installed +$A/stray.map$" "daw:list"
set +e
timeout 20 "$CTRLMAP_BIN" daw:generate --lv2-path "$CTRLMAP_TEST_LV2_DIR" --cache-dir "$C" --install --ardour-dir "$A" \
  --route 2 "$MAPS" >"$OUT" 2>"$ERR"
RC=$?
set -e
[ "$RC" -ne 124 ] || fail "daw:generate --install hung on a FIFO"
assert_rc 1
cat "$OUT" "$ERR" >"$T/both"
assert_has "$T/both" "$victim: error: this file was not written by ctrlmap"
[ -p "$A/$victim" ] || fail "the FIFO was replaced without --force"
say "ok"
