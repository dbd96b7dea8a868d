# lib.sh: helpers for the CLI (and debian) test scripts. Source it after `set -euo pipefail`:
#
#     . "$(dirname "$0")/lib.sh"        (tests/debian scripts: "$(dirname "$0")/../cli/lib.sh")
#
# It gives each script a private temporary directory ($T, removed on exit), runs ctrlmap with its stdout, stderr
# and exit status captured (ctl), assertion helpers that print what they check and fail with the evidence, and
# grep/awk readers for descriptor files (which ctrlmap writes with 1-space indentation, one key per line), so
# that nothing here needs python3 or jq.
#
# Run directly (ctest does, as cli.lib), it tests its own helpers.

set -euo pipefail

: "${CTRLMAP_BIN:?CTRLMAP_BIN is not set: run the tests through ctest}"
[ -x "$CTRLMAP_BIN" ] || { echo "FAIL: CTRLMAP_BIN=$CTRLMAP_BIN is not an executable" >&2; exit 1; }

T=$(mktemp -d "${TMPDIR:-/tmp}/ctrlmap-cli-XXXXXX")
_lib_cleanup() {
  local rc=$?
  # Background jobs a failed script left behind are ours: end them by pid.
  local pids
  pids=$(jobs -p 2>/dev/null || true)
  if [ -n "$pids" ]; then
    # shellcheck disable=SC2086 # one word per pid
    kill $pids 2>/dev/null || true
  fi
  chmod -R u+w "$T" 2>/dev/null || true
  rm -rf "$T"
  exit $rc
}
trap _lib_cleanup EXIT

OUT="$T/stdout"
ERR="$T/stderr"
RC=0

say() { printf '%s\n' "$*"; }
check() { printf '  - %s\n' "$*"; }

fail() {
  printf 'FAIL: %s\n' "$*" >&2
  if [ -s "$OUT" ]; then printf -- '--- stdout of the last ctrlmap run:\n' >&2; head -c 4000 "$OUT" >&2; fi
  if [ -s "$ERR" ]; then printf -- '--- stderr of the last ctrlmap run:\n' >&2; head -c 4000 "$ERR" >&2; fi
  exit 1
}

# ctl ARGS...: runs ctrlmap; stdout -> $OUT, stderr -> $ERR, exit status -> $RC. Never fails by itself.
ctl() {
  set +e
  "$CTRLMAP_BIN" "$@" >"$OUT" 2>"$ERR"
  RC=$?
  set -e
  return 0
}

# The last run must not have crashed or tripped a sanitizer, whatever its exit status.
assert_no_crash() {
  if [ "$RC" -ge 128 ]; then fail "ctrlmap died of signal $((RC - 128))"; fi
  if grep -qE 'AddressSanitizer|UndefinedBehaviorSanitizer|runtime error:|LeakSanitizer' "$ERR"; then
    fail "a sanitizer reported an error"
  fi
}

assert_rc() {
  local want=$1
  assert_no_crash
  [ "$RC" -eq "$want" ] || fail "exit status $RC, want $want"
}

# assert_has FILE TEXT [what]: FILE contains TEXT (fixed string).
assert_has() {
  grep -qF -- "$2" "$1" || fail "${3:-$(basename "$1")} does not contain \"$2\""
}
assert_lacks() {
  ! grep -qF -- "$2" "$1" || fail "${3:-$(basename "$1")} contains \"$2\": $(grep -F -- "$2" "$1" | head -3)"
}
# assert_match FILE ERE [what]: a line of FILE matches the extended regular expression.
assert_match() {
  grep -qE -- "$2" "$1" || fail "${3:-$(basename "$1")} has no line matching /$2/"
}
assert_eq() {
  [ "$1" = "$2" ] || fail "${3:-value} is '$1', want '$2'"
}
# assert_ge NUMBER MIN [what]
assert_ge() {
  [ "$1" -ge "$2" ] || fail "${3:-value} is $1, want at least $2"
}

# assert_json FILE: FILE is well-formed JSON (python3, else jq, else a bracket-balance check).
assert_json() {
  if command -v python3 >/dev/null 2>&1 && python3 -c 'import json' 2>/dev/null; then
    python3 -m json.tool "$1" >/dev/null 2>&1 || fail "$(basename "$1") is not valid JSON"
  elif jq --version >/dev/null 2>&1; then
    jq -e . "$1" >/dev/null 2>&1 || fail "$(basename "$1") is not valid JSON"
  else
    local open close
    open=$(tr -cd '{[' <"$1" | wc -c)
    close=$(tr -cd '}]' <"$1" | wc -c)
    if [ ! -s "$1" ] || [ "$open" -ne "$close" ]; then fail "$(basename "$1") is not balanced JSON"; fi
    head -c 1 "$1" | grep -q '[[{]' || fail "$(basename "$1") does not start a JSON value"
  fi
}

# --- descriptor files (plugins/desc/*.json in a cache) ---

# allports_maps DIR N: N canonical maps of the allports fixture plugin (tests/data/rules/check/good.yaml) in DIR,
# map K on channel K (N <= 16), so that they can all be generated together.
allports_maps() {
  local ch
  mkdir -p "$1"
  for ch in $(seq 1 "$2"); do
    sed -e "s/^midi_channel: 6/midi_channel: $ch/" -e "s/^  name: allports.*/  name: allports on channel $ch/" \
      -e '/channel: 9,/d' "${CTRLMAP_SOURCE_DIR:?}/tests/data/rules/check/good.yaml" >"$1/ch$ch.yaml"
  done
}

# desc_file CACHE URI: prints the path of URI's descriptor, or nothing.
desc_file() {
  grep -lxF -- " \"uri\": \"$2\"," "$1"/plugins/desc/*.json 2>/dev/null | head -1 || true
}

# desc_top FILE KEY: prints the value of a top-level scalar key ("format", "name"...), strings unquoted.
desc_top() {
  awk -v key="$2" '
    function unq(v) { sub(/,$/, "", v); if (v ~ /^".*"$/) { v = substr(v, 2, length(v) - 2) } return v }
    index($0, " \"" key "\": ") == 1 { v = substr($0, length(key) + 6); print unq(v); exit }
  ' "$1"
}

# port_field FILE SYMBOL FIELD: prints one field of the port whose symbol is SYMBOL:
#   a scalar ("ardour_param", "kind", "bindable", "default"...) as its JSON text, strings unquoted;
#   an array of strings ("properties", "supports") as its items, space-separated;
#   "unit.uri", "unit.symbol", "group.label"... for the fields of an object-valued field.
# Prints nothing when the port or the field does not exist.
port_field() {
  awk -v sym="$2" -v want="$3" '
    function unq(v) { sub(/,$/, "", v); if (v ~ /^".*"$/) { v = substr(v, 2, length(v) - 2) } return v }
    function keyof(line) { k = line; sub(/^ *"/, "", k); sub(/".*$/, "", k); return k }
    function valof(line) { v = line; sub(/^ *"[^"]*": /, "", v); return unq(v) }
    /^ "ports": \[/ { inports = 1; next }
    inports && /^ \],?$/ { inports = 0; next }
    !inports { next }
    /^  \{$/ { delete f; sub_key = ""; arr_key = ""; next }
    /^  \},?$/ { if (f["symbol"] == sym && (want in f)) print f[want]; next }
    /^   "[^"]*": \[\],?$/ { f[keyof($0)] = ""; next }
    /^   "[^"]*": \[$/ { arr_key = keyof($0); f[arr_key] = ""; next }
    /^   "[^"]*": \{$/ { sub_key = keyof($0); next }
    /^   [\]\}],?$/ { arr_key = ""; sub_key = ""; next }
    /^   "/ { f[keyof($0)] = valof($0); next }
    /^    "[^"]*": / && sub_key != "" { f[sub_key "." keyof($0)] = valof($0); next }
    /^    "/ && arr_key != "" { item = $0; sub(/^ */, "", item); item = unq(item); f[arr_key] = (f[arr_key] == "" ? item : f[arr_key] " " item); next }
  ' "$1"
}

# port_symbols FILE [KIND [DIRECTION]]: the symbols of the ports (of that kind and direction), in index order.
port_symbols() {
  awk -v kind="${2:-}" -v dir="${3:-}" '
    function unq(v) { sub(/,$/, "", v); if (v ~ /^".*"$/) { v = substr(v, 2, length(v) - 2) } return v }
    /^ "ports": \[/ { inports = 1; next }
    inports && /^ \],?$/ { inports = 0; next }
    !inports { next }
    /^  \{$/ { s = ""; k = ""; d = ""; next }
    /^   "symbol": / { s = unq(substr($0, 14)) }
    /^   "kind": / { k = unq(substr($0, 12)) }
    /^   "direction": / { d = unq(substr($0, 17)) }
    /^  \},?$/ { if ((kind == "" || k == kind) && (dir == "" || d == dir)) print s }
  ' "$1"
}

# has_word "LIST" WORD: WORD is one of the space-separated items of LIST.
has_word() {
  case " $1 " in *" $2 "*) return 0 ;; *) return 1 ;; esac
}

# --- self-test (bash tests/cli/lib.sh) ---

_lib_selftest() {
  say "lib.sh: the helpers themselves"
  : "${CTRLMAP_TEST_LV2_DIR:?CTRLMAP_TEST_LV2_DIR is not set}"
  check "the assertions fail when they should"
  printf 'alpha\nbeta 12\n' >"$T/f"
  (assert_has "$T/f" "beta") || fail "assert_has missed a present text"
  if (assert_has "$T/f" "gamma") 2>/dev/null; then fail "assert_has passed on a missing text"; fi
  if (assert_lacks "$T/f" "alpha") 2>/dev/null; then fail "assert_lacks passed on a present text"; fi
  if (assert_match "$T/f" '^beta [0-9]{3}$') 2>/dev/null; then fail "assert_match passed on a non-match"; fi
  (assert_match "$T/f" '^beta [0-9]{2}$') || fail "assert_match missed a match"
  if (RC=2; assert_rc 0) 2>/dev/null; then fail "assert_rc passed on a wrong status"; fi
  if (assert_eq a b) 2>/dev/null; then fail "assert_eq passed on different values"; fi
  printf '{"a": [1, 2' >"$T/bad.json"
  if (assert_json "$T/bad.json") 2>/dev/null; then fail "assert_json passed on broken JSON"; fi
  printf '{"a": [1, 2]}\n' >"$T/good.json"
  (assert_json "$T/good.json") || fail "assert_json failed on valid JSON"

  check "the descriptor readers agree with the allports fixture"
  local cache="$T/cache"
  ctl plugins:extract --lv2-path "$CTRLMAP_TEST_LV2_DIR" --cache-dir "$cache"
  assert_rc 0
  local f
  f=$(desc_file "$cache" urn:ctrlmap:test:allports)
  [ -n "$f" ] || fail "desc_file found no descriptor for urn:ctrlmap:test:allports"
  [ -z "$(desc_file "$cache" urn:ctrlmap:test:nothing)" ] || fail "desc_file found a descriptor for a missing URI"
  assert_eq "$(desc_top "$f" format)" 1 "format"
  assert_eq "$(desc_top "$f" name)" "ctrlmap all ports" "name"
  assert_eq "$(port_field "$f" gain ardour_param)" 1 "gain ardour_param"
  assert_eq "$(port_field "$f" gain bindable)" true "gain bindable"
  assert_eq "$(port_field "$f" gain minimum)" -20 "gain minimum"
  assert_eq "$(port_field "$f" gain unit.uri)" "http://lv2plug.in/ns/extensions/units#db" "gain unit.uri"
  assert_eq "$(port_field "$f" gain group.label)" "Main" "gain group.label"
  assert_eq "$(port_field "$f" gain properties)" "" "gain properties"
  assert_eq "$(port_field "$f" level bindable)" false "level bindable"
  assert_eq "$(port_field "$f" level direction)" output "level direction"
  assert_eq "$(port_field "$f" latency ardour_param)" 10 "latency ardour_param"
  assert_eq "$(port_field "$f" latency properties)" "integer reportsLatency" "latency properties"
  assert_eq "$(port_field "$f" mode properties)" "enumeration integer" "mode properties"
  assert_eq "$(port_field "$f" hidden default)" 0.25 "hidden default"
  assert_eq "$(port_field "$f" cutoff unit.symbol)" fs "cutoff unit.symbol"
  assert_eq "$(port_field "$f" cutoff unit.uri)" "" "cutoff unit.uri"
  assert_eq "$(port_field "$f" control supports)" "http://lv2plug.in/ns/ext/midi#MidiEvent" "control supports"
  assert_eq "$(port_field "$f" in ardour_param)" "" "in ardour_param"
  assert_eq "$(port_field "$f" nosuchport kind)" "" "a missing port"
  assert_eq "$(port_symbols "$f" control input | tr '\n' ' ')" "gain freq enable mode steps trig hidden cutoff " \
    "control inputs"
  assert_eq "$(port_symbols "$f" | wc -l)" 15 "port count"
  has_word "a b c" b || fail "has_word missed an item"
  ! has_word "a bc" b || fail "has_word matched part of an item"
  say "ok"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  _lib_selftest
fi
