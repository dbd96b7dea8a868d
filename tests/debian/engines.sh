#!/usr/bin/env bash
# Both reading engines (stream: serd into a triple table; lilv: lilv's store, one fresh world per plugin) must write
# byte-identical descriptors for every installed plugin. This is what makes the fast engine trustworthy.
set -euo pipefail
: "${CTRLMAP_BIN:?}"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

"$CTRLMAP_BIN" plugins:extract --cache-dir "$tmp/stream" --engine stream >/dev/null
"$CTRLMAP_BIN" plugins:extract --cache-dir "$tmp/lilv" --engine lilv >/dev/null

n=$(ls "$tmp/stream/plugins/desc" | wc -l)
[ "$n" -ge 100 ] || { echo "FAIL: only $n descriptors (are the Debian plugins installed?)"; exit 1; }
if ! diff -r "$tmp/stream/plugins/desc" "$tmp/lilv/plugins/desc" >"$tmp/diff"; then
  echo "FAIL: the engines disagree:"; head -40 "$tmp/diff"; exit 1
fi
echo "ok: $n descriptors identical from both engines"
