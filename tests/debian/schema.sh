#!/usr/bin/env bash
# Every descriptor written for the installed plugins validates against schemas/plugin-descriptor.schema.json,
# checked by an independent validator (python3-jsonschema, installed by `scripts/deps test`).
set -euo pipefail
: "${CTRLMAP_BIN:?}" "${CTRLMAP_SOURCE_DIR:?}"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$CTRLMAP_BIN" plugins:extract --cache-dir "$tmp/c" >/dev/null
/usr/bin/python3 - "$CTRLMAP_SOURCE_DIR/schemas/plugin-descriptor.schema.json" "$tmp/c/plugins/desc" <<'PY'
import glob, json, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
v = jsonschema.Draft202012Validator(schema)
files = sorted(glob.glob(sys.argv[2] + "/*.json"))
bad = 0
for f in files:
    d = json.load(open(f))
    for e in v.iter_errors(d):
        bad += 1
        print("FAIL: %s: %s at %s" % (d.get("uri", f), e.message[:200], list(e.path)))
        break
if len(files) < 100:
    print("FAIL: only %d descriptors" % len(files)); sys.exit(1)
if bad:
    sys.exit(1)
print("ok: %d descriptors valid" % len(files))
PY
