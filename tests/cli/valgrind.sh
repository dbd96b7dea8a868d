#!/usr/bin/env bash
# An end-to-end workflow:complete under valgrind: no invalid access, no use of uninitialised memory, no definite
# leak in ctrlmap itself. Forked workers are left out (--child-silent-after-fork): they inherit the parent's heap
# by design and leave with _exit. Skipped (77) in the sanitizer build, where valgrind cannot run.
set -euo pipefail
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
: "${CTRLMAP_SOURCE_DIR:?}" "${CTRLMAP_TEST_LV2_DIR:?}"
if ldd "$CTRLMAP_BIN" | grep -q libasan; then
  echo "SKIP: sanitizer build (valgrind runs in the plain build)"
  exit 77
fi
command -v valgrind >/dev/null || fail "valgrind is not installed (scripts/deps test installs it)"

say "valgrind"
check "workflow:complete, cold then warm, over the fixture plugins and a map of the allports fixture"
mkdir -p "$T/maps"
cp "$CTRLMAP_SOURCE_DIR/tests/data/rules/check/good.yaml" "$T/maps/"
for run in cold warm; do
  set +e
  valgrind --child-silent-after-fork=yes --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
    -q "$CTRLMAP_BIN" workflow:complete --cache-dir "$T/cache" --out "$T/out" --lv2-path "$CTRLMAP_TEST_LV2_DIR" \
    "$T/maps" >"$OUT" 2>"$ERR"
  RC=$?
  set -e
  [ "$RC" -ne 99 ] || fail "valgrind found errors in the $run run"
  assert_rc 0
done
assert_lacks "$ERR" "definitely lost"
say "ok"
