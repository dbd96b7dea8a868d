#!/usr/bin/env bash
# shellcheck disable=SC2031 # RC is set by ctl (lib.sh) in this shell, not in a subshell
# maps.sh: hostile canonical maps through the real binary (maps:validate, maps:check, daw:generate,
# workflow:complete). Paths that lead out of the maps (../ and absolute paths in midi_channel_registry,
# device.profile and registry entries; symbolic links out of the folder, and a directory loop), names with XML
# metacharacters and control characters, a 50 MB file, nesting 100000 deep, a YAML alias bomb, CC and channel values
# out of range or of the wrong type. Each is refused with file:line:column and a code (or escaped, for what XML can
# hold), nothing is read that a map must not make ctrlmap read, no .map is written for a refused map, nothing is
# written outside --out and the cache, and every run ends well within `timeout 60` in bounded memory (the peak RSS of
# --performance-json, under 256 MiB also in the sanitizer build).
set -euo pipefail
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/../cli/lib.sh"

: "${CTRLMAP_SOURCE_DIR:?CTRLMAP_SOURCE_DIR is not set: run the tests through ctest}"
: "${CTRLMAP_TEST_LV2_DIR:?CTRLMAP_TEST_LV2_DIR is not set: run the tests through ctest}"
SRC=$CTRLMAP_SOURCE_DIR
export CTRLMAP_DATA_DIR="$SRC/maps" CTRLMAP_SCHEMA_DIR="$SRC/schemas"
export XDG_CONFIG_HOME="$T/xdg" # never the user's Ardour folders
mkdir -p "$XDG_CONFIG_HOME"
say "maps.sh: hostile canonical maps"

# The allports fixture (Turtle only: extraction does not load the binary), and a copy whose name and URI are
# hostile: XML metacharacters, "--" for comments, control characters written as Turtle escapes.
LV2="$T/lv2"
mkdir -p "$LV2/allports.lv2" "$LV2/evil.lv2"
cp "$CTRLMAP_TEST_LV2_DIR/ctrlmap-allports.lv2/"*.ttl "$LV2/allports.lv2/"
EVIL_URI='urn:ctrlmap:test:evil--x-'
sed "s/urn:ctrlmap:test:allports/$EVIL_URI/g" "$LV2/allports.lv2/manifest.ttl" >"$LV2/evil.lv2/manifest.ttl"
sed -e "s/urn:ctrlmap:test:allports/$EVIL_URI/g" \
  -e 's/doap:name "ctrlmap all ports"/doap:name "Evil <\&> \\" '"'"' -- ]]> \\u0001\\u001b[31m\\u007f\\u0085 end"/' \
  "$LV2/allports.lv2/allports.ttl" >"$LV2/evil.lv2/allports.ttl"
grep -q 'Evil <&>' "$LV2/evil.lv2/allports.ttl" || fail "the test could not write the hostile plugin"
C="$T/cache"

# ---- helpers ------------------------------------------------------------------------------------------------------

MS=0
RSS=0
# run ARGS...: ctrlmap under `timeout 60`, with --performance-json; sets RC, MS (wall ms) and RSS (peak KiB; 0 when
# the report was not written). Fails on the timeout, a signal or a sanitizer report.
run() {
  local t0
  rm -f "$T/perf.json"
  t0=$(date +%s%3N)
  set +e
  timeout 60 "$CTRLMAP_BIN" "$@" --performance-json "$T/perf.json" >"$OUT" 2>"$ERR"
  RC=$?
  set -e
  MS=$(($(date +%s%3N) - t0))
  [ "$RC" -ne 124 ] || fail "ctrlmap $1 ran into the 60 s timeout"
  assert_no_crash
  RSS=$(sed -n 's/^ *"peak_rss_kib": \([0-9]*\),*$/\1/p' "$T/perf.json" 2>/dev/null | head -1)
  RSS=${RSS:-0}
}
# bounded [MS_LIMIT [KIB_LIMIT]]: the last run finished well under the timeout, in bounded memory.
bounded() {
  [ "$MS" -lt "${1:-10000}" ] || fail "the run took $MS ms, want under ${1:-10000} ms"
  [ "$RSS" -gt 0 ] || fail "no peak RSS in --performance-json"
  [ "$RSS" -lt "${2:-262144}" ] || fail "peak RSS $RSS KiB, want under ${2:-262144} KiB"
}
# Findings go to stdout (maps:*, daw:generate), environment errors to stderr: the checks look at both.
said() { cat "$OUT" "$ERR" >"$T/said"; }
# assert_diag FILE LINE COL SEVERITY CODE [TEXT]: a line "FILE:LINE:COL: SEVERITY: ...TEXT... [CODE]".
assert_diag() {
  said
  P="$1:$2:$3: $4: " K=" [$5]" X="${6:-}" awk 'index($0, ENVIRON["P"]) == 1 && index($0, ENVIRON["X"]) &&
      substr($0, length($0) - length(ENVIRON["K"]) + 1) == ENVIRON["K"] { found = 1 } END { exit !found }' \
    "$T/said" || fail "no finding '$1:$2:$3: $4: ...${6:-}... [$5]'"
}
# assert_diag_file FILE SEVERITY CODE [TEXT]: a finding about the whole file: "FILE: SEVERITY: ...TEXT... [CODE]".
assert_diag_file() {
  said
  P="$1: $2: " K=" [$3]" X="${4:-}" awk 'index($0, ENVIRON["P"]) == 1 && index($0, ENVIRON["X"]) &&
      substr($0, length($0) - length(ENVIRON["K"]) + 1) == ENVIRON["K"] { found = 1 } END { exit !found }' \
    "$T/said" || fail "no finding '$1: $2: ...${3:-}... [$3]'"
}
# Nothing ctrlmap printed holds a control character (the terminal would run it) other than tab and newline.
assert_printable_output() {
  said
  if LC_ALL=C grep -q "$(printf '[\001-\010\013-\037\177]')" "$T/said"; then
    fail "the output holds control characters: $(LC_ALL=C grep -n "$(printf '[\001-\010\013-\037\177]')" "$T/said" |
      head -2 | cat -v)"
  fi
}
n_maps() { find "$1" -maxdepth 1 -name '*.map' 2>/dev/null | wc -l; }
# mark / assert_wrote_only DIR...: files written since `mark` are in the cache, in DIR..., or lib.sh's own.
mark() { touch "$T/.mark"; }
assert_wrote_only() {
  local args=(-path "$C" -prune)
  for d in "$@"; do args+=(-o -path "$d" -prune); done
  local stray
  stray=$(find "$T" "${args[@]}" -o -type f -newer "$T/.mark" ! -name stdout ! -name stderr ! -name said \
    ! -name perf.json ! -name xmllint -print)
  [ -z "$stray" ] || fail "files written outside the output folder and the cache: $stray"
  [ -z "$(find "$XDG_CONFIG_HOME" -mindepth 1 2>/dev/null)" ] || fail "something was written into XDG_CONFIG_HOME"
  [ -z "$(find "$T" -name '*.tmp.*' 2>/dev/null)" ] || fail "temporary files left: $(find "$T" -name '*.tmp.*')"
}
# assert_wellformed FILE: XML that an XML 1.0 parser reads (xmllint, else python3).
assert_wellformed() {
  if command -v xmllint >/dev/null 2>&1; then
    xmllint --noout "$1" 2>"$T/xmllint" || fail "${1##*/} is not well-formed XML: $(cat "$T/xmllint")"
    xmllint --noout --relaxng "$SRC/schemas/ardour-midi-map-strict.rng" "$1" 2>"$T/xmllint" ||
      fail "${1##*/} fails the strict Ardour schema: $(cat "$T/xmllint")"
  elif command -v python3 >/dev/null 2>&1; then
    python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' "$1" ||
      fail "${1##*/} is not well-formed XML"
  else
    say "  (no xmllint or python3: well-formedness not checked; apt-get install libxml2-utils)"
  fi
}

# repeat TEXT N: TEXT N times (by doubling; no python needed).
repeat() {
  local s=$1 n=$2 out=""
  while [ "$n" -gt 0 ]; do
    if [ $((n % 2)) -eq 1 ]; then out+=$s; fi
    s+=$s
    n=$((n / 2))
  done
  printf '%s' "$out"
}

# good_map [CHANNEL [MODEL]]: a valid map on the allports fixture; lines 7 and 8 are the controls, the cc value of
# line 7 is at column 52.
good_map() {
  cat <<EOF
version: 1.0.0
device: {manufacturer: Acme, model: ${2:-Fuzz Box}}
metadata: {name: faults}
plugin: {name: allports, uri: "urn:ctrlmap:test:allports"}
midi_channel: ${1:-1}
controls:
  - {id: encoder_1, name: Gain, type: encoder, cc: 10, plugin_parameter: gain}
  - {id: button_1, name: Enable, type: button, cc: 11, plugin_parameter: enable}
EOF
}
# with_registry REGISTRY: good_map with `midi_channel_registry: REGISTRY` (line 5, value at column 24).
with_registry() { good_map | sed "s|^midi_channel: .*|midi_channel_registry: $1|"; }

# ---- the baseline -------------------------------------------------------------------------------------------------

check "baseline: a good map generates one well-formed Ardour map (so the refusals below mean something)"
G="$T/good"
mkdir -p "$G"
good_map >"$G/good.yaml"
mark
run daw:generate --cache-dir "$C" --lv2-path "$LV2" --out "$T/out-good" "$G"
assert_rc 0
assert_has "$OUT" "1 Ardour maps: 1 written, 0 unchanged, 0 failed"
assert_eq "$(n_maps "$T/out-good")" 1 "maps written"
assert_wellformed "$T/out-good/acme-fuzz-box-ctrlmap-all-ports.map"
assert_wrote_only "$T/out-good"
bounded

# ---- path traversal -----------------------------------------------------------------------------------------------

# A secret outside the maps, in a file named like a registry, and one that is not YAML at all.
mkdir -p "$T/secret"
printf 'channels:\n  1: {path: m}\nTOPSECRET-registry-line: x\n' >"$T/secret/registry.yaml"
printf 'TOPSECRET-plain-line\n' >"$T/secret/passwords"
P="$T/paths"
mkdir -p "$P/dev/sub" "$P/dev/reg"

check "midi_channel_registry: ../ to /etc/passwd, /etc/shadow, an absolute .yaml elsewhere, ../../ out: each refused"
with_registry '../../../../../../../../../etc/passwd' >"$P/dev/sub/passwd.yaml"
with_registry '/etc/shadow' >"$P/dev/sub/shadow.yaml"
with_registry "$T/secret/registry.yaml" >"$P/dev/sub/absolute.yaml"
with_registry '../../../secret/registry.yaml' >"$P/dev/sub/climb.yaml"
with_registry '../../secret/passwords' >"$P/dev/sub/plain.yaml"
run maps:validate --cache-dir "$C" "$P/dev/sub"
assert_rc 1
assert_diag "$P/dev/sub/passwd.yaml" 5 24 error path-not-yaml "midi_channel_registry is not a .yaml or .yml file"
assert_diag "$P/dev/sub/shadow.yaml" 5 24 error path-not-yaml "midi_channel_registry is not a .yaml or .yml file"
assert_diag "$P/dev/sub/absolute.yaml" 5 24 error path-outside "leads to $T/secret/registry.yaml, outside $P/dev"
assert_diag "$P/dev/sub/climb.yaml" 5 24 error path-outside "leads to $T/secret/registry.yaml"
assert_diag "$P/dev/sub/plain.yaml" 5 24 error path-not-yaml
said
assert_lacks "$T/said" "TOPSECRET"
assert_lacks "$T/said" "root:"
bounded

check "device.profile: ../ to /etc/passwd and a .yaml two folders up refused; by id and one folder up accepted"
good_map 2 | sed 's|^device: .*|device: {manufacturer: Acme, model: Fuzz Box, profile: ../../../../../../etc/passwd}|' \
  >"$P/dev/sub/profile-passwd.yaml"
good_map 3 | sed "s|^device: .*|device: {manufacturer: Acme, model: Fuzz Box, profile: ../../../secret/registry.yaml}|" \
  >"$P/dev/sub/profile-climb.yaml"
run maps:validate --cache-dir "$C" "$P/dev/sub/profile-passwd.yaml" "$P/dev/sub/profile-climb.yaml"
assert_rc 1
assert_diag "$P/dev/sub/profile-passwd.yaml" 2 56 error path-not-yaml "device.profile is not a .yaml or .yml file"
assert_diag "$P/dev/sub/profile-climb.yaml" 2 56 error path-outside "device.profile leads to $T/secret/registry.yaml"
said
assert_lacks "$T/said" "TOPSECRET"
assert_lacks "$T/said" "root:"
# the legitimate forms: a bundled profile by id, a local profile and a registry one folder up (audio-control's layout)
mkdir -p "$P/ok/device/maps"
cp "$SRC/maps/devices/novation-launch-control-xl3.yaml" "$P/ok/device/lcxl3.yaml"
printf 'channels:\n  4: {path: maps/m}\n' >"$P/ok/device/midi-channel-registry.yaml"
with_registry '../midi-channel-registry.yaml' >"$P/ok/device/maps/m.yaml"
good_map 5 'Launch Control XL 3' | sed 's|^device: {manufacturer: Acme,|device: {manufacturer: Novation, profile: ../lcxl3.yaml,|' |
  sed 's/encoder_1, name: Gain, type: encoder, cc: 10,/encoder_1, name: Gain, type: encoder,/' |
  sed 's/button_1, name: Enable, type: button, cc: 11,/button_1, name: Enable, type: button,/' >"$P/ok/device/maps/p.yaml"
good_map 6 | sed 's|^device: .*|device: {manufacturer: Novation, model: Launch Control XL 3, profile: novation-launch-control-xl3}|' |
  sed 's/, cc: 1[01],/,/' >"$P/ok/device/maps/id.yaml"
run daw:generate --cache-dir "$C" --lv2-path "$LV2" --out "$T/out-ok" "$P/ok/device/maps"
assert_rc 0
assert_has "$OUT" "3 Ardour maps: 3 written, 0 unchanged, 0 failed"
assert_lacks "$OUT" "error:"
bounded

check "registry entries: ../, an absolute path, a/../.. and a link out of the registry's folder: path-outside"
ln -s "$T/secret" "$P/dev/reg/linked"
cp "$P/dev/sub/passwd.yaml" "$T/secret/m.yaml" # a map outside, reached through the link
cat >"$P/dev/reg/midi-channel-registry.yaml" <<'EOF'
channels:
  1: {path: ../../../secret/m}
  2: {path: /etc/passwd}
  3: {path: sub/../../x}
  4: {path: linked/m}
  5: {path: map}
EOF
with_registry 'midi-channel-registry.yaml' >"$P/dev/reg/map.yaml"
mark
run daw:generate --cache-dir "$C" --lv2-path "$LV2" --out "$T/out-reg" "$P/dev/reg"
assert_rc 1
R="$P/dev/reg/midi-channel-registry.yaml"
assert_diag "$R" 2 13 error path-outside "channel 1 names ../../../secret/m, a path with \"..\""
assert_diag "$R" 3 13 error path-outside "channel 2 names /etc/passwd, an absolute path"
assert_diag "$R" 4 13 error path-outside "channel 3 names sub/../../x"
assert_diag "$R" 5 13 error path-outside "channel 4 names linked/m, a link to $T/secret/m.yaml, outside"
assert_diag "$P/dev/reg/map.yaml" 5 24 error registry-invalid "has errors, so this map has no channel"
assert_eq "$(n_maps "$T/out-reg")" 0 "maps written for a map whose registry was refused"
assert_wrote_only "$T/out-reg"
bounded

check "plugin.descriptor is documentation: a path there is never opened"
good_map | sed 's|^plugin: {|plugin: {descriptor: /etc/shadow, |' >"$T/descriptor.yaml"
run maps:validate --cache-dir "$C" "$T/descriptor.yaml"
assert_rc 0
said
assert_lacks "$T/said" "root:"

# ---- symbolic links, special files --------------------------------------------------------------------------------

check "a map that is a link to a file outside the folder given: refused (path-outside); the real maps still generate"
S="$T/links"
mkdir -p "$S/dev" "$T/elsewhere"
good_map 7 >"$T/elsewhere/outside.yaml"
good_map 1 >"$S/dev/a.yaml"
ln -s "$T/elsewhere/outside.yaml" "$S/dev/b-out.yaml"
ln -s a.yaml "$S/dev/c-alias.yaml" # a link to a map inside: read once, no conflict with itself
ln -s /dev/zero "$S/dev/zero.yaml"
mkfifo "$S/dev/fifo.yaml"
mark
run daw:generate --cache-dir "$C" --lv2-path "$LV2" --out "$T/out-links" "$S"
assert_rc 1
assert_diag_file "$S/dev/b-out.yaml" error path-outside "symbolic link to $T/elsewhere/outside.yaml, outside $S"
assert_diag_file "$S/dev/zero.yaml" error path-outside "symbolic link to /dev/zero"
said
assert_lacks "$T/said" "channel-conflict"
assert_lacks "$T/said" "fifo.yaml" # not a regular file: not a map, and never opened (it would block)
assert_has "$OUT" "1 Ardour maps: 1 written"
assert_eq "$(n_maps "$T/out-links")" 1 "maps written"
assert_wrote_only "$T/out-links"
bounded

check "a FIFO and /dev/zero named on the command line: map-io, no hang"
run maps:validate --cache-dir "$C" "$S/dev/fifo.yaml" /dev/zero
assert_rc 1
assert_diag_file "$S/dev/fifo.yaml" error map-io "is not a regular file"
assert_diag_file /dev/zero error map-io "is not a regular file"
bounded 5000

check "a directory loop (links to . and .. in the maps folder): not followed, a warning each, done at once"
L="$T/loop"
mkdir -p "$L/dev/sub"
good_map 1 >"$L/dev/sub/m.yaml"
for k in 1 2 3 4; do ln -s .. "$L/dev/sub/up$k"; done # once: 4^16 walks
ln -s . "$L/dev/self"
run maps:validate --cache-dir "$C" "$L"
assert_rc 0
assert_diag_file "$L/dev/sub/up1" warning path-symlink "symbolic link to a directory, not followed"
assert_diag_file "$L/dev/self" warning path-symlink
assert_has "$OUT" "1 maps: 0 errors, 5 warnings"
bounded 5000
run maps:validate --cache-dir "$C" --strict "$L"
assert_rc 1

# ---- names: XML metacharacters, control characters ----------------------------------------------------------------

check "XML metacharacters and \"--\" in names, paths and the plugin: escaped, well-formed, provenance reads back"
X="$T/xml/d--<&>\"'-"
mkdir -p "$X"
XM="$X/m--x-.yaml"
cat >"$XM" <<EOF
version: 1.0.0
device: {manufacturer: "A<&>\"'--]]>", model: "Box -- <!-- x --> ]]>"}
metadata: {name: "]]> <evil/> & --"}
plugin: {name: evil, uri: "$EVIL_URI"}
midi_channel: 3
controls:
  - {id: "enc<1>&", name: "G&ain\"'", type: encoder, cc: 10, plugin_parameter: gain}
  - {id: b2, name: "-->", type: button, cc: 12, function: transport-roll}
EOF
mark
run daw:generate --cache-dir "$C" --lv2-path "$LV2" --out "$T/out-xml" "$T/xml"
assert_rc 0
assert_eq "$(n_maps "$T/out-xml")" 1 "maps written"
F=$(find "$T/out-xml" -name '*.map')
case "${F##*/}" in *[!a-z0-9.-]*) fail "the file name has other characters than [a-z0-9-]: ${F##*/}" ;; esac
assert_wellformed "$F"
assert_has "$F" 'name="A&lt;&amp;&gt;&quot;'"'"'--]]&gt; Box -- &lt;!-- x --&gt; ]]&gt; — Evil &lt;&amp;&gt; &quot; '"'"' -- ]]&gt;'
assert_has "$F" "plugin: urn:ctrlmap:test:evil%2D-x%2D;"
assert_has "$F" "map: $T/xml/d%2D-<&>\"'-/m%2D-x-.yaml -->"
# the plugin's control characters are U+FFFD in the name (the file and what ctrlmap prints)
assert_has "$F" "$(printf '\357\277\275\357\277\275[31m\357\277\275\357\277\275 end')"
assert_printable_output
assert_eq "$(grep -c -- '-->' "$F")" 1 "comment ends in the file (only the provenance comment's own)"
run daw:list --cache-dir "$C" --out "$T/out-xml" --format json
assert_rc 0
assert_has "$OUT" "\"map\": \"$T/xml/d--<&>\\\"'-/m--x-.yaml\"" "daw:list's provenance (JSON-escaped)"
assert_has "$OUT" '"status": "current"'
assert_wrote_only "$T/out-xml"
bounded

check "control characters written as YAML escapes (\\x01, \\e, DEL, NEL, NUL, \\r) in names and ids: yaml-control-char"
K="$T/ctl"
mkdir -p "$K"
good_map 1 | sed 's|^device: .*|device: {manufacturer: "Ac\\x01me", model: Box}|' >"$K/c1.yaml"
good_map 2 | sed 's|id: encoder_1, name: Gain,|id: "enc\\e[31m", name: Gain,|' >"$K/c2.yaml"
good_map 3 | sed 's|^metadata: .*|metadata: {name: "a\\x7fb"}|' >"$K/c3.yaml"
good_map 4 | sed 's|^plugin: {name: allports,|plugin: {name: "all\\u0085ports",|' >"$K/c4.yaml"
good_map 5 | sed 's|name: Enable,|name: "En\\0able",|' >"$K/c5.yaml"
good_map 6 | sed 's|^midi_channel: 6|midi_channel: 6\nardour: {route: "Tr\\rack"}|' >"$K/c6.yaml"
good_map 7 | sed 's|^metadata: .*|metadata: {name: "\\uD800"}|' >"$K/c7.yaml"
mark
run daw:generate --cache-dir "$C" --lv2-path "$LV2" --out "$T/out-ctl" "$K"
assert_rc 1
assert_diag "$K/c1.yaml" 2 24 error yaml-control-char "control character U+0001"
assert_diag "$K/c2.yaml" 7 10 error yaml-control-char "control character U+001B"
assert_diag "$K/c3.yaml" 3 18 error yaml-control-char "control character U+007F"
assert_diag "$K/c4.yaml" 4 16 error yaml-control-char "control character U+0085"
assert_diag "$K/c5.yaml" 8 26 error yaml-control-char "control character U+0000"
assert_diag "$K/c6.yaml" 6 17 error yaml-control-char "control character U+000D"
assert_diag "$K/c7.yaml" 3 19 error yaml-syntax "invalid UTF8 escape"
assert_printable_output
assert_eq "$(n_maps "$T/out-ctl")" 0 "maps written"
assert_wrote_only "$T/out-ctl"
bounded

check "raw control bytes, a bare CR, bytes that are not UTF-8, a line break in a name: refused at their line:column"
good_map 1 | sed "s|name: Gain,|name: $(printf 'G\001ain'),|" >"$K/raw1.yaml"
good_map 2 | sed "s|^metadata: {name: faults}|metadata: {name: $(printf 'fa\033[2Jults')}|" >"$K/raw2.yaml"
good_map 3 | sed "s|name: Enable,|name: $(printf 'En\177able'),|" >"$K/raw3.yaml"
good_map 4 | sed "s|^metadata: {name: faults}|metadata: {name: $(printf 'fa\rults')}|" >"$K/raw4.yaml"
good_map 5 | sed "s|^metadata: {name: faults}|metadata: {name: $(printf 'fa\377ults')}|" >"$K/raw5.yaml"
good_map 6 | sed 's|^metadata: {name: faults}|metadata:\n  name: \|\n    two\n    lines|' >"$K/raw6.yaml"
good_map 7 | sed 's/$/\r/' >"$K/crlf.yaml" # CRLF line ends are fine
run maps:validate --cache-dir "$C" "$K"/raw*.yaml "$K/crlf.yaml"
assert_rc 1
assert_diag "$K/raw1.yaml" 7 28 error yaml-syntax "control character 0x01"
assert_diag "$K/raw2.yaml" 3 20 error yaml-syntax "control character 0x1b"
assert_diag "$K/raw3.yaml" 8 28 error yaml-syntax "control character 0x7f"
assert_diag "$K/raw4.yaml" 3 20 error yaml-syntax "carriage return (0x0d) not followed by a line feed"
assert_diag "$K/raw5.yaml" 3 20 error yaml-syntax "byte 0xff is not UTF-8"
assert_diag "$K/raw6.yaml" 4 9 error yaml-control-char "name holds a line break; expected one line of text"
said
assert_lacks "$T/said" "crlf.yaml"
assert_has "$OUT" "2 maps: 6 errors, 0 warnings" # raw6 and crlf load; the others are refused whole
assert_printable_output
bounded

check "file names with control characters or bytes that are not UTF-8: path-name, named with \\xNN; others go on"
N="$T/names"
mkdir -p "$N"
good_map 1 >"$N/$(printf 'bad\001\033[31m.yaml')"
good_map 2 >"$N/$(printf 'bad\377.yaml')"
good_map 3 >"$N/fine.yaml"
mark
run daw:generate --cache-dir "$C" --lv2-path "$LV2" --out "$T/out-names" "$N"
assert_rc 1
assert_diag_file "$N/bad\\x01\\x1b[31m.yaml" error path-name "the path holds control characters"
assert_diag_file "$N/bad\\xff.yaml" error path-name
assert_printable_output
assert_has "$OUT" "1 Ardour maps: 1 written"
assert_wrote_only "$T/out-names"

check "--route with a control character, a function argument with XML in it: refused, nothing written"
run daw:generate --cache-dir "$C" --lv2-path "$LV2" --out "$T/out-route" --route "$(printf 'Tr\001ck')" "$G"
assert_rc 1
assert_has "$OUT" "[ardour-route]"
assert_eq "$(n_maps "$T/out-route")" 0 "maps written"
good_map 9 | sed 's|cc: 11, plugin_parameter: enable}|cc: 11, function: set-bank, argument: "1 \& <2>"}|' >"$T/arg.yaml"
run daw:generate --cache-dir "$C" --lv2-path "$LV2" --out "$T/out-arg" "$T/arg.yaml"
assert_rc 1
assert_diag "$T/arg.yaml" 8 5 error function-argument "takes a whole number from 0 (a bank or track number), not '1 & <2>'"
assert_eq "$(n_maps "$T/out-arg")" 0 "maps written"

# ---- size, depth, aliases -----------------------------------------------------------------------------------------

B="$T/big"
mkdir -p "$B"
check "a 50 MB map: refused before it is read (map-too-large, the file and the limit named), fast, small"
{
  good_map 1
  printf 'notes: |\n'
  head -c 52428800 < <(yes '  0123456789 0123456789 0123456789 0123456789 0123456789 0123456789 0123456789')
} >"$B/huge.yaml"
mark
run daw:generate --cache-dir "$C" --lv2-path "$LV2" --out "$T/out-big" "$B/huge.yaml"
assert_rc 1
assert_diag_file "$B/huge.yaml" error map-too-large "expected at most 4194304"
assert_eq "$(n_maps "$T/out-big")" 0 "maps written"
assert_wrote_only "$T/out-big"
bounded 5000 65536
rm -f "$B/huge.yaml"

check "a 50 MB registry named by a map: refused the same way, and the map with it"
mkdir -p "$B/reg"
head -c 52428800 < <(yes 'x: y') >"$B/reg/midi-channel-registry.yaml" # (yes dies of SIGPIPE: not a pipeline)
with_registry midi-channel-registry.yaml >"$B/reg/m.yaml"
run maps:validate --cache-dir "$C" "$B/reg/m.yaml"
assert_rc 1
assert_diag_file "$B/reg/midi-channel-registry.yaml" error map-too-large "expected at most 4194304"
assert_diag "$B/reg/m.yaml" 5 24 error registry-invalid
bounded 5000 65536
rm -rf "$B/reg"

check "nesting 100000 deep ([[[...]]] and {a: {a: ...}}), and 40 block levels: yaml-depth at the 33rd level"
{ repeat '[' 100000; repeat ']' 100000; echo; } >"$B/seq.yaml"
{ printf 'x: '; repeat '{a: ' 100000; printf '1'; repeat '}' 100000; echo; } >"$B/map.yaml"
for ((k = 0; k < 40; k++)); do printf '%*s- \n' $((2 * k)) ''; done >"$B/block.yaml"
run maps:validate --cache-dir "$C" "$B/seq.yaml" "$B/map.yaml" "$B/block.yaml"
assert_rc 1
assert_diag "$B/seq.yaml" 1 33 error yaml-depth "nesting is deeper than 32 levels"
assert_diag "$B/map.yaml" 1 128 error yaml-depth
assert_diag "$B/block.yaml" 33 65 error yaml-depth
bounded 5000 131072

check "the worst a 4 MiB file can do: 4 M brackets deep, a flow sequence of 2 M items, 1 M block items"
{ repeat '[' 4000000; echo; } >"$B/deep4m.yaml"
{ printf '['; repeat 'a,' 2000000; printf ']\n'; } >"$B/wide.yaml"
{ printf 'x:\n'; repeat '- a\n' 1000000 | sed 's/\\n/\n/g'; } >"$B/items.yaml"
run maps:validate --cache-dir "$C" "$B/deep4m.yaml" "$B/wide.yaml" "$B/items.yaml"
assert_rc 1
assert_diag "$B/deep4m.yaml" 1 33 error yaml-depth
assert_diag "$B/wide.yaml" 1 1 error map-too-large "a flow collection ([...] or {...}) with more than 65536 items"
assert_diag "$B/items.yaml" 199999 3 error map-too-large "more than 200000 YAML nodes"
bounded 10000 131072 # libfyaml alone took 1.4 GB and 2 s (5 s under ASan) on the first

check "a YAML alias bomb (billion laughs) and a merge key: refused without expansion"
{
  printf 'a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n'
  for k in 1 2 3 4 5 6 7 8 9; do
    printf 'a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n' "$k" "$k" \
      $((k - 1)) $((k - 1)) $((k - 1)) $((k - 1)) $((k - 1)) $((k - 1)) $((k - 1)) $((k - 1)) $((k - 1))
  done
} >"$B/bomb.yaml"
good_map 1 | sed 's|^metadata: {name: faults}|base: \&b {name: faults}\nmetadata: {<<: *b}|' >"$B/merge.yaml"
run maps:validate --cache-dir "$C" "$B/bomb.yaml" "$B/merge.yaml"
assert_rc 1
assert_diag "$B/bomb.yaml" 2 11 error yaml-alias "aliases are not supported"
assert_eq "$(grep -c 'bomb.yaml:.*\[yaml-alias\]$' "$OUT")" 5 "alias findings (the first five)"
assert_diag "$B/merge.yaml" 4 12 error yaml-alias "merge keys (<<) are not supported"
bounded 5000 65536

# ---- values of the wrong type or out of range ---------------------------------------------------------------------

check "cc out of range or of the wrong type: each cc-range or schema-type at its line:column, nothing generated"
V="$T/cc"
mkdir -p "$V"
k=0
while IFS='|' read -r value code col text; do
  k=$((k + 1))
  good_map "$k" | sed "s/encoder, cc: 10,/encoder, cc: $value,/" >"$V/cc$k.yaml"
  printf '%s|%s|%s|%s\n' "$k" "$code" "$col" "$text" >>"$V/expect"
done <<'EOF'
-1|cc-range|52|cc is -1; expected a whole number from 0 to 127
128|cc-range|52|cc is 128; expected a whole number from 0 to 127
99999999999999999999|cc-range|52|cc is 99999999999999999999; expected
1.5|schema-type|52|cc is 1.5; expected a whole number
"12"|schema-type|52|cc is '12' (quoted, so a text)
0x10|schema-type|52|cc is '0x10'
true|schema-type|52|cc is 'true'
null|schema-type|52|cc is empty
[12]|schema-type|52|cc is a sequence
{a: 1}|schema-type|52|cc is a mapping
1e3|schema-type|52|cc is 1e3
EOF
mark
run daw:generate --cache-dir "$C" --lv2-path "$LV2" --out "$T/out-cc" "$V"
assert_rc 1
while IFS='|' read -r k code col text; do
  assert_diag "$V/cc$k.yaml" 7 "$col" error "$code" "$text"
done <"$V/expect"
said
assert_lacks "$T/said" "[number-missing]" # a wrong cc is one finding, not two
assert_eq "$(n_maps "$T/out-cc")" 0 "maps written"
assert_wrote_only "$T/out-cc"
bounded

check "channel out of range or of the wrong type (control channel, midi_channel, registry keys): each reported"
H="$T/channel"
mkdir -p "$H"
k=0
while IFS='|' read -r value code text; do
  k=$((k + 1))
  good_map "$k" | sed "s/encoder, cc: 10,/encoder, cc: 10, channel: $value,/" >"$H/ch$k.yaml"
  good_map | sed "s/^midi_channel: .*/midi_channel: $value/" | sed "s/model: Fuzz Box/model: Box $k/" >"$H/mch$k.yaml"
  printf '%s|%s|%s\n' "$k" "$code" "$text" >>"$H/expect"
done <<'EOF'
0|channel-range|is 0; expected a MIDI channel from 1 to 16
17|channel-range|is 17; expected a MIDI channel from 1 to 16
-1|channel-range|is -1; expected
"one"|schema-type|is 'one'; expected a MIDI channel
1.0|schema-type|is 1.0; expected
EOF
printf 'channels:\n  0: {path: a}\n  17: {path: b}\n  one: {path: c}\n  1.0: {path: d}\n' >"$H/midi-channel-registry.yaml"
run maps:validate --cache-dir "$C" "$H"
assert_rc 1
while IFS='|' read -r k code text; do
  assert_diag "$H/ch$k.yaml" 7 65 error "$code" "channel $text"
  assert_diag "$H/mch$k.yaml" 5 15 error "$code" "midi_channel $text"
done <"$H/expect"
assert_diag "$H/midi-channel-registry.yaml" 2 3 error registry-channel-range "channel is 0"
assert_diag "$H/midi-channel-registry.yaml" 3 3 error registry-channel-range "channel is 17"
assert_diag "$H/midi-channel-registry.yaml" 4 3 error schema-type "channel key is 'one'"
assert_diag "$H/midi-channel-registry.yaml" 5 3 error schema-type "channel key is 1.0"
said
assert_lacks "$T/said" "[channel-unresolved]" # a wrong midi_channel is one finding, not two
bounded

check "workflow:complete on all the hostile maps at once: the check phase stops it, nothing generated or installed"
W="$T/all"
mkdir -p "$W"
cp -R "$P" "$K" "$V" "$H" "$W/" 2>/dev/null
cp "$B/bomb.yaml" "$B/seq.yaml" "$B/wide.yaml" "$W/"
mkdir -p "$T/xdg/ardour7"
mark
run workflow:complete --cache-dir "$C" --lv2-path "$LV2" --out "$T/out-all" --install "$W"
assert_rc 1
assert_has "$OUT" "workflow: phase check failed:"
assert_has "$OUT" "nothing was generated or installed"
assert_eq "$(n_maps "$T/out-all")" 0 "maps written"
assert_eq "$(find "$T/xdg" -type f | wc -l)" 0 "files installed"
rmdir "$T/xdg/ardour7"
assert_wrote_only "$T/out-all"
assert_printable_output
bounded 20000

say "ok"
