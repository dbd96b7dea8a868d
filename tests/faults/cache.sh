#!/usr/bin/env bash
# shellcheck disable=SC2031 # RC is set by ctl (lib.sh) in this shell, not in a subshell
# cache.sh: a damaged cache (truncated descriptor, random bytes in the index, an index from a future version), a
# cache ctrlmap may not write, and a full disk. Each is detected and reported, rebuilt where it can be, and what was
# good before (descriptors, generated Ardour maps) is never left half-written.
set -euo pipefail
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/../cli/lib.sh"

: "${CTRLMAP_TEST_LV2_DIR:?CTRLMAP_TEST_LV2_DIR is not set: run the tests through ctest}"
: "${CTRLMAP_SOURCE_DIR:?}"
say "cache.sh: damaged caches, read-only caches, a full disk"

LV2="$T/lv2"
cp -R "$CTRLMAP_TEST_LV2_DIR" "$LV2"
chmod -R a+rX "$T"
MAPS="$T/maps"
mkdir -p "$MAPS"
cp "$CTRLMAP_SOURCE_DIR/tests/data/rules/check/good.yaml" "$MAPS/"
C="$T/cache"
# tree_sum DIR: one checksum over every file's name and bytes (what "untouched" means here).
tree_sum() { (cd "$1" && find . -type f ! -name lock ! -path './logs/*' -print0 | sort -z | xargs -0 sha256sum) | sha256sum | cut -d' ' -f1; }
desc_of() { grep -l "\"uri\": \"$1\"" "$C"/plugins/desc/*.json; }

ctl workflow:complete --lv2-path "$LV2" --cache-dir "$C" "$MAPS"
assert_rc 0
GOOD_MAP="$C/ardour/$(cd "$C/ardour" && ls -- *.map)"
cp "$GOOD_MAP" "$T/good.map"

check "a truncated descriptor: a reader says which file and how to fix it; plugins:extract reports and rebuilds it"
D=$(desc_of urn:ctrlmap:test:allports)
cp "$D" "$T/allports.json"
head -c 300 "$T/allports.json" >"$D"
ctl daw:generate --lv2-path "$LV2" --cache-dir "$C" --force "$MAPS"
assert_no_crash
# daw:generate brings descriptors up to date first (a warm plugins:extract), which finds and repairs it.
assert_rc 0
assert_has "$ERR" "[cache-corrupt]" "stderr"
cmp -s "$D" "$T/allports.json" || fail "the descriptor was not rebuilt to what it was"
head -c 300 "$T/allports.json" >"$D"
ctl plugins:extract --lv2-path "$LV2" --cache-dir "$C"
assert_rc 0
assert_has "$OUT" "8 installed, 1 described now, 7 from cache"
assert_match "$ERR" "$D: warning: the descriptor of <urn:ctrlmap:test:allports> is not the file the index recorded.*\\[cache-corrupt\\]" "stderr"
cmp -s "$D" "$T/allports.json" || fail "the descriptor was not rebuilt to what it was"
cmp -s "$GOOD_MAP" "$T/good.map" || fail "the generated Ardour map changed"

check "a descriptor with the right size and time but other bytes: readers refuse it, naming the file [cache-corrupt]"
# Same length, same mtime: only the checksum can tell.
python_free_flip() { printf 'X' | dd of="$1" bs=1 seek=20 conv=notrunc status=none; }
m=$(stat -c %y "$D")
python_free_flip "$D"
touch -d "$m" "$D"
# An unchanged map keeps its recorded check (made from the good bytes); an edited one needs the descriptor again.
echo "# edited" >>"$MAPS/good.yaml"
ctl maps:check --lv2-path "$LV2" --cache-dir "$C" "$MAPS"
assert_no_crash
[ "$RC" -ne 0 ] || fail "maps:check used a descriptor that fails its checksum"
assert_has "$OUT" "descriptor of <urn:ctrlmap:test:allports> fails its checksum (changed outside ctrlmap); run \`ctrlmap plugins:extract --force\` to rebuild it [cache-corrupt]" "the report"
ctl workflow:health --lv2-path "$LV2" --cache-dir "$C"
assert_match "$OUT" "1 .*(checksum|corrupt)" "workflow:health"
ctl plugins:extract --lv2-path "$LV2" --cache-dir "$C" --force
assert_rc 0
cmp -s "$D" "$T/allports.json" || fail "--force did not rebuild the descriptor"

check "random bytes in the index: readers exit 3 [cache-corrupt]; plugins:extract warns and rebuilds it"
head -c 4096 /dev/urandom >"$C/plugins/index"
ctl plugins:list --cache-dir "$C"
assert_rc 3
assert_no_crash
assert_has "$ERR" "plugins:extract"
ctl plugins:extract --lv2-path "$LV2" --cache-dir "$C"
assert_rc 0
assert_match "$ERR" "plugins/index:1:1: warning: .*rebuilding it \\[cache-corrupt\\]" "stderr"
assert_has "$OUT" "8 installed, 8 described now"
ctl plugins:list --cache-dir "$C"
assert_rc 0
assert_has "$OUT" "8 plugins"
cmp -s "$D" "$T/allports.json" || fail "the rebuilt descriptor differs"

check "an index from a future ctrlmap: reported with both versions, rebuilt"
printf 'ctrlmap:plugin-index v99 xxh3:0123456789abcdef 3\n{}\n' >"$C/plugins/index"
ctl plugins:extract --lv2-path "$LV2" --cache-dir "$C"
assert_rc 0
assert_has "$ERR" "written in cache format v99, this ctrlmap reads v1; rebuilding it [cache-version]"
ctl plugins:extract --lv2-path "$LV2" --cache-dir "$C"
assert_rc 0
assert_has "$OUT" "0 described now, 8 from cache"
assert_eq "$(cat "$ERR")" "" "stderr of the warm run"

# as_nobody ARGS...: runs ctrlmap as an unprivileged user (permissions do not stop root); returns 1 if it cannot.
as_nobody() {
  if [ "$(id -u)" -ne 0 ]; then
    ctl "$@"
    return 0
  fi
  command -v setpriv >/dev/null 2>&1 || return 1
  setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$CTRLMAP_BIN" 2>/dev/null || return 1
  set +e
  setpriv --reuid=65534 --regid=65534 --clear-groups "$CTRLMAP_BIN" "$@" >"$OUT" 2>"$ERR"
  RC=$?
  set -e
}

check "a read-only cache: every writing command exits 3 naming the cache, nothing in it changes; readers still work"
chmod 711 "$T"
chmod -R a+rX "$C"
chmod -R a-w "$C"
before=$(tree_sum "$C")
if as_nobody plugins:extract --lv2-path "$LV2" --cache-dir "$C" --force; then
  assert_rc 3
  assert_no_crash
  assert_has "$ERR" "$C"
  as_nobody workflow:complete --lv2-path "$LV2" --cache-dir "$C" --out "$C/ardour" --force "$MAPS"
  [ "$RC" -ne 0 ] || fail "workflow:complete succeeded on a read-only cache"
  assert_no_crash
  as_nobody plugins:list --cache-dir "$C"
  assert_rc 0
  assert_has "$OUT" "8 plugins"
  assert_eq "$(tree_sum "$C")" "$before" "the cache's checksum"
else
  echo "    (skipped: running as root without setpriv to drop privileges)"
fi
chmod -R u+w "$C"

# --- a full disk: a 1 MiB tmpfs, in a private mount namespace where there can be one (unshare -m as root, else a
# user namespace); in a chroot, where neither works, root mounts it directly on the test's own folder and the script
# unmounts it when it ends ---
FULL="$T/full.sh"
cat >"$FULL" <<'EOF'
set -euo pipefail
D=$1 LV2=$2 MAPS=$3 OUTF=$4 ERRF=$5
mount -t tmpfs -o size=1m ctrlmap-full "$D"
trap 'umount "$D" 2>/dev/null || true' EXIT
C="$D/cache"
run() { set +e; "$CTRLMAP_BIN" "$@" >"$OUTF" 2>"$ERRF"; echo $? >"$OUTF.rc"; set -e; }
# A good state first, with room to spare.
"$CTRLMAP_BIN" workflow:complete --lv2-path "$LV2" --cache-dir "$C" "$MAPS" >/dev/null
(cd "$C" && find . -type f ! -name lock ! -path './logs/*' -print0 | sort -z | xargs -0 sha256sum) >"$D.before"
cp "$C/ardour/"*.map "$D.map"
# Fill it up.
dd if=/dev/zero of="$D/filler" bs=4k status=none 2>/dev/null || true
# 1: re-describing every plugin cannot write; 2: a changed map cannot be generated.
run plugins:extract --lv2-path "$LV2" --cache-dir "$C" --force
cp "$OUTF" "$D.out1"; cp "$ERRF" "$D.err1"; cp "$OUTF.rc" "$D.rc1"
sed -i 's/^midi_channel: 6/midi_channel: 7/' "$MAPS/good.yaml"
run daw:generate --lv2-path "$LV2" --cache-dir "$C" "$MAPS"
cp "$OUTF" "$D.out2"; cp "$ERRF" "$D.err2"; cp "$OUTF.rc" "$D.rc2"
find "$C" -name '*.tmp.*' >"$D.temps"
cat "$C/ardour/"*.map >"$D.ardour"
(cd "$C" && find . -type f ! -name lock ! -path './logs/*' -print0 | sort -z | xargs -0 sha256sum) >"$D.after"
# Room again: the next run completes.
rm -f "$D/filler"
run workflow:complete --lv2-path "$LV2" --cache-dir "$C" "$MAPS"
cp "$OUTF.rc" "$D.rc3"
cat "$C/ardour/"*.map >"$D.ardour3"
EOF
check "a full disk: exit 3 with 'No space left on device', old descriptors and maps intact, no temp files; then it recovers"
mkdir -p "$T/fs"
ns=()
if [ -n "${CTRLMAP_TEST_NO_UNSHARE:-}" ]; then
  : # (to test the chroot path on a machine that has namespaces)
elif unshare -m --propagation private true 2>/dev/null; then
  ns=(unshare -m --propagation private)
elif unshare -rm --propagation private true 2>/dev/null; then
  ns=(unshare -rm --propagation private)
fi
if [ ${#ns[@]} -eq 0 ] && [ "$(id -u)" -ne 0 ]; then
  ns=(false) # no namespace and no root: nothing can mount
fi
echo "    (mounted with: ${ns[*]:-root, in this mount namespace})"
if "${ns[@]}" bash "$FULL" "$T/fs" "$LV2" "$MAPS" "$OUT" "$ERR" 2>"$T/full.err"; then
  for i in 1 2; do
    [ "$(cat "$T/fs.rc$i")" -eq 3 ] || fail "run $i on the full disk exited $(cat "$T/fs.rc$i"): $(cat "$T/fs.err$i" "$T/fs.out$i")"
    grep -q "No space left on device" "$T/fs.err$i" "$T/fs.out$i" || fail "run $i does not say the disk is full: $(cat "$T/fs.err$i")"
  done
  grep -q "Sanitizer\|runtime error" "$T/fs.err1" "$T/fs.err2" && fail "a sanitizer report on the full disk"
  [ ! -s "$T/fs.temps" ] || fail "temporary files left: $(cat "$T/fs.temps")"
  diff "$T/fs.before" "$T/fs.after" >/dev/null || fail "the full disk changed the cache: $(diff "$T/fs.before" "$T/fs.after" | head)"
  assert_eq "$(cat "$T/fs.rc3")" 0 "the exit status once there is room again"
  cmp -s "$T/fs.ardour" "$T/fs.map" || fail "the Ardour map changed on the full disk"
  ! cmp -s "$T/fs.ardour3" "$T/fs.map" || fail "the changed map was not generated once the disk had room"
else
  echo "    (skipped: cannot mount a tmpfs in a private namespace here: $(head -c 200 "$T/full.err" 2>/dev/null))"
fi
say "ok"
