#!/usr/bin/env bash
# Every descriptor written for the installed plugins validates against schemas/plugin-descriptor.schema.json,
# checked by an independent validator (python3-jsonschema, installed by `scripts/deps test`).
set -euo pipefail
: "${CTRLMAP_BIN:?}" "${CTRLMAP_SOURCE_DIR:?}"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$CTRLMAP_BIN" plugins:extract --cache-dir "$tmp/c" --performance-json "$tmp/perf.json" >/dev/null
/usr/bin/python3 - "$CTRLMAP_SOURCE_DIR/schemas/plugin-descriptor.schema.json" "$tmp/c/plugins/desc" \
  "$CTRLMAP_SOURCE_DIR/schemas/performance-report.schema.json" "$tmp/perf.json" <<'PY'
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
perf_schema = json.load(open(sys.argv[3]))
jsonschema.Draft202012Validator.check_schema(perf_schema)
for e in jsonschema.Draft202012Validator(perf_schema).iter_errors(json.load(open(sys.argv[4]))):
    bad += 1
    print("FAIL: performance report: %s at %s" % (e.message[:200], list(e.path)))
if bad:
    sys.exit(1)
print("ok: %d descriptors and the performance report valid" % len(files))
PY
