#!/usr/bin/env bash
# default_maps.sh (debian): the bundled canonical maps (maps/defaults/**) against the plugins Debian installs and the
# device profiles (maps/devices/). Every plugin a map names must be installed (it has a descriptor after
# plugins:extract on the system LV2 path), every plugin_parameter must be the symbol of a control input of that
# plugin, buttons must sit on two-valued parameters and encoders/sliders on continuous ones, control ids must exist
# in the map's device profile, and each map must have a channel in its registry. A data sanity check until
# maps:check exists: it reads the YAML with awk, so it expects the plain style the bundled maps use (block mappings,
# one flow mapping per control line or block-style controls). Needs no python3, jq or lv2ls.
set -euo pipefail
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/../cli/lib.sh"

SRC=${CTRLMAP_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
DEFAULTS="$SRC/maps/defaults"
DEVICES="$SRC/maps/devices"
say "default_maps.sh: $DEFAULTS"
unset LV2_PATH # lilv's default path, where Debian installs plugins

PROBLEMS=0
# problem FILE LINE MESSAGE: one FAIL line per problem; the script fails at the end.
problem() {
  printf 'FAIL: %s:%s: %s\n' "${1#"$SRC"/}" "$2" "$3" >&2
  PROBLEMS=$((PROBLEMS + 1))
}

# yaml_top FILE KEY [SUBKEY]: the value of a top-level scalar key, or of SUBKEY inside the top-level mapping KEY
# (block style "KEY:\n  SUBKEY: v" or flow style "KEY: {SUBKEY: v, ...}"), unquoted; prints "LINE<TAB>VALUE".
yaml_top() {
  awk -v key="$2" -v sub_key="${3:-}" '
    function unq(v) {
      sub(/^[ \t]+/, "", v); sub(/[ \t]+$/, "", v)
      if (v ~ /^".*"$/ || v ~ /^\047.*\047$/) v = substr(v, 2, length(v) - 2)
      return v
    }
    { sub(/(^|[ \t])#.*$/, "") }
    /^[^ \t]/ { inkey = 0 }
    index($0, key ":") == 1 {
      rest = substr($0, length(key) + 2)
      if (sub_key == "") { print NR "\t" unq(rest); exit }
      if (rest ~ /^[ \t]*\{/) {
        if (match(rest, "[{,][ \t]*" sub_key ":[ \t]*(\"[^\"]*\"|[^,}]+)")) {
          v = substr(rest, RSTART, RLENGTH); sub(/^[{,][ \t]*[^:]*:/, "", v); print NR "\t" unq(v)
        }
        exit
      }
      inkey = 1; next
    }
    inkey && $0 ~ "^[ \t]+" sub_key ":" { v = $0; sub(/^[ \t]+[^:]*:/, "", v); print NR "\t" unq(v); exit }
  ' "$1"
}

# map_controls FILE: one line per control of the top-level "controls" list:
#   LINE<TAB>ID<TAB>TYPE<TAB>MODE<TAB>PARAM<TAB>ENCODING<TAB>CHANNEL   (absent fields are "-")
# An item starts at "- "; its keys are on that line (flow style) or the following lines (block style). Members of
# a button_group are items of their own, of type button unless they say otherwise.
map_controls() {
  awk '
    function unq(v) {
      sub(/^[ \t]+/, "", v); sub(/[ \t]+$/, "", v)
      if (v ~ /^".*"$/ || v ~ /^\047.*\047$/) v = substr(v, 2, length(v) - 2)
      return v
    }
    function d(v) { return v == "" ? "-" : v }
    function flush() {
      if (line) {
        if (f["type"] == "" && ingroup) f["type"] = "button"
        printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", line, d(f["id"]), d(f["type"]), d(f["mode"]), d(f["plugin_parameter"]), d(f["encoding"]), d(f["channel"])
      }
      line = 0; split("", f)
    }
    function wanted(k) { return k == "id" || k == "type" || k == "mode" || k == "plugin_parameter" || k == "encoding" || k == "channel" }
    # "{k: v, k: v}": every wanted key of a flow mapping
    function flow(s,   kv, k, v) {
      sub(/^[ \t]*\{/, "", s); sub(/\}[ \t]*$/, "", s)
      while (s != "") {
        if (match(s, /^[ \t]*[A-Za-z_]+:[ \t]*"[^"]*"[ \t]*(,|$)/) || match(s, /^[ \t]*[A-Za-z_]+:[ \t]*\[[^]]*\][ \t]*(,|$)/) || match(s, /^[ \t]*[A-Za-z_]+:[^,]*(,|$)/)) {
          kv = substr(s, RSTART, RLENGTH); s = substr(s, RSTART + RLENGTH)
        } else { kv = s; s = "" }
        sub(/,$/, "", kv); k = kv; sub(/:.*/, "", k); gsub(/[ \t]/, "", k); v = kv; sub(/^[^:]*:/, "", v)
        if (wanted(k)) f[k] = unq(v)
      }
    }
    # "k: v" at the start of a block line
    function block(s,   k, v) {
      if (!match(s, /^[ \t]*[A-Za-z_]+:/)) return
      k = substr(s, RSTART, RLENGTH); sub(/:$/, "", k); gsub(/[ \t]/, "", k)
      v = substr(s, RSTART + RLENGTH)
      if (wanted(k)) f[k] = unq(v)
    }
    { sub(/(^|[ \t])#.*$/, "") }
    /^controls:/ { inc = 1; next }
    /^[^ \t]/ { if (inc) flush(); inc = 0; next }
    !inc { next }
    /^[ \t]*buttons:/ { if (f["type"] == "button_group") { group_ind = cur_ind; flush(); ingroup = 1 }; next }
    /^[ \t]*- / {
      cur_ind = match($0, /[^ \t]/)
      flush(); line = NR
      if (ingroup && cur_ind <= group_ind) ingroup = 0
      item = substr($0, cur_ind + 2)
      if (item ~ /^[ \t]*\{/) flow(item); else block(item)
      next
    }
    { block($0) }
    END { flush() }
  ' "$1"
}

# profile_type PROFILE_FILE ID: the type of control ID in a device profile, or nothing.
profile_type() {
  map_controls "$1" | awk -F'\t' -v id="$2" '$2 == id { print $3; exit }'
}

# --- descriptors of the installed plugins ---
C="$T/cache"
check "plugins:extract on the system LV2 path"
ctl plugins:extract --cache-dir "$C"
assert_rc 0
ls "$C"/plugins/desc/*.json >/dev/null 2>&1 || fail "plugins:extract wrote no descriptors"

# --- the files ---
maps=()
registries=()
while IFS= read -r f; do
  if grep -q '^controls:' "$f"; then
    maps+=("$f")
  elif grep -q '^channels:' "$f"; then
    registries+=("$f")
  else
    problem "$f" 1 "neither a map (no top-level controls) nor a registry (no top-level channels)"
  fi
done < <(find "$DEFAULTS" -name '*.yaml' -type f | sort)
[ "${#maps[@]}" -gt 0 ] || fail "no maps under $DEFAULTS"
check "${#maps[@]} maps, ${#registries[@]} registries"

# --- registries: every entry is a map file; remember which map has which channel ---
declare -A CHANNEL_OF=() # map file -> channel
for r in "${registries[@]}"; do
  declare -A seen_ch=()
  while IFS=$'\t' read -r line ch path; do
    if [ -n "${seen_ch[$ch]:-}" ]; then problem "$r" "$line" "channel $ch is also on line ${seen_ch[$ch]}"; fi
    seen_ch[$ch]=$line
    m="$(dirname "$r")/$path.yaml"
    if [ ! -f "$m" ]; then
      problem "$r" "$line" "channel $ch: no map file $path.yaml next to the registry"
    elif [ -n "${CHANNEL_OF[$m]:-}" ]; then
      problem "$r" "$line" "channel $ch: $path already has channel ${CHANNEL_OF[$m]}"
    else
      CHANNEL_OF[$m]=$ch
    fi
    case "$ch" in [1-9] | 1[0-6]) ;; *) problem "$r" "$line" "channel '$ch' is not 1-16" ;; esac
  done < <(awk '
      { sub(/(^|[ \t])#.*$/, "") }
      /^channels:/ { inch = 1; next }
      /^[^ \t]/ { inch = 0 }
      inch && /^  [^ \t][^:]*:[ \t]*$/ { ch = $0; sub(/^ +/, "", ch); sub(/:.*/, "", ch); gsub(/["\047]/, "", ch); chline = NR; next }
      inch && /^    path:/ { p = $0; sub(/^ +path:[ \t]*/, "", p); gsub(/^["\047]|["\047][ \t]*$/, "", p); print chline "\t" ch "\t" p }
    ' "$r")
  unset seen_ch
done

# --- each map ---
for m in "${maps[@]}"; do
  rel=${m#"$SRC"/}
  check "$rel"

  IFS=$'\t' read -r uline uri < <(yaml_top "$m" plugin uri; echo) || true
  if [ -z "${uri:-}" ]; then
    problem "$m" 1 "no plugin.uri"
    continue
  fi
  desc=$(desc_file "$C" "$uri")
  if [ -z "$desc" ]; then
    problem "$m" "$uline" "plugin <$uri> is not installed: plugins:extract found no such plugin on the LV2 path"
    continue
  fi

  # The channel: the map names a registry that gives it one.
  IFS=$'\t' read -r rline reg < <(yaml_top "$m" midi_channel_registry; echo) || true
  if [ -z "${reg:-}" ]; then
    problem "$m" 1 "no midi_channel_registry"
  elif [ ! -f "$(dirname "$m")/$reg" ]; then
    problem "$m" "$rline" "midi_channel_registry $reg: no such file"
  elif [ -z "${CHANNEL_OF[$m]:-}" ]; then
    problem "$m" "$rline" "the registry $reg gives this map no channel"
  fi

  # The device profile.
  IFS=$'\t' read -r pline pid < <(yaml_top "$m" device profile; echo) || true
  profile=""
  if [ -z "${pid:-}" ]; then
    problem "$m" 1 "no device.profile"
  elif [ ! -f "$DEVICES/$pid.yaml" ]; then
    problem "$m" "$pline" "device profile $pid: no file maps/devices/$pid.yaml"
  else
    profile="$DEVICES/$pid.yaml"
  fi

  declare -A seen_id=() seen_param=()
  n=0
  if grep -q '^midi_channel:' "$m"; then
    problem "$m" "$(grep -n '^midi_channel:' "$m" | head -1 | cut -d: -f1)" "midi_channel: the registry gives the channel"
  fi
  while IFS=$'\t' read -r line id type mode param encoding channel; do
    n=$((n + 1))
    [ "$type" = button_group ] && continue
    if [ "$channel" != - ]; then problem "$m" "$line" "control $id has channel: $channel: the registry gives the channel"; fi
    case "$encoding" in
      - | absolute | enc-r | enc-l | enc-2 | enc-b) ;;
      *) problem "$m" "$line" "control $id: unknown encoding $encoding (absolute, enc-r, enc-l, enc-2, enc-b)" ;;
    esac
    if [ "$encoding" != - ] && [ "$type" != encoder ]; then
      problem "$m" "$line" "control $id: encoding $encoding on a $type (only encoders have one)"
    fi
    if [ -n "${seen_id[$id]:-}" ]; then problem "$m" "$line" "control $id is also on line ${seen_id[$id]}"; fi
    seen_id[$id]=$line
    if [ -n "$profile" ]; then
      ptype=$(profile_type "$profile" "$id")
      if [ -z "$ptype" ]; then
        problem "$m" "$line" "control $id is not in the device profile $pid"
      elif [ "$ptype" != "$type" ]; then
        problem "$m" "$line" "control $id has type $type here, $ptype in the device profile $pid"
      fi
    fi
    [ "$param" = - ] && continue
    if [ -n "${seen_param[$param]:-}" ]; then
      problem "$m" "$line" "parameter $param is also bound on line ${seen_param[$param]}"
    fi
    seen_param[$param]=$line
    case "$param" in
      *[!0-9]*) ;;
      *) problem "$m" "$line" "plugin_parameter $param is a port index: name the port by its symbol"; continue ;;
    esac
    kind=$(port_field "$desc" "$param" kind)
    dir=$(port_field "$desc" "$param" direction)
    if [ -z "$kind" ]; then
      problem "$m" "$line" "plugin_parameter $param: <$uri> has no port with that symbol"
      continue
    fi
    if [ "$kind" != control ] || [ "$dir" != input ]; then
      problem "$m" "$line" "plugin_parameter $param: a $kind $dir port of <$uri>, not a control input"
      continue
    fi
    props=$(port_field "$desc" "$param" properties)
    two_valued=false
    if has_word "$props" toggled; then
      two_valued=true
    elif has_word "$props" integer || has_word "$props" enumeration; then
      lo=$(port_field "$desc" "$param" minimum)
      hi=$(port_field "$desc" "$param" maximum)
      if [ "$(awk -v a="$lo" -v b="$hi" 'BEGIN { print (b - a == 1) ? "y" : "n" }')" = y ]; then two_valued=true; fi
    fi
    case "$type" in
      button)
        $two_valued || problem "$m" "$line" "button $id on $param, which is not toggled or two-valued (properties: ${props:-none})"
        if [ "$mode" = momentary ] && ! has_word "$props" trigger; then
          problem "$m" "$line" "button $id is momentary but $param is not a trigger"
        fi
        ;;
      encoder | slider)
        if has_word "$props" toggled || has_word "$props" enumeration || has_word "$props" trigger; then
          problem "$m" "$line" "$type $id on $param, which is not continuous (properties: $props): use a button"
        fi
        ;;
    esac
  done < <(map_controls "$m")
  unset seen_id seen_param
  if [ "$n" -eq 0 ]; then problem "$m" 1 "no controls"; fi
  echo "    <$uri>: $n controls, channel ${CHANNEL_OF[$m]:-none}"
done

if [ "$PROBLEMS" -gt 0 ]; then
  echo "FAIL: $PROBLEMS problems in the default maps" >&2
  exit 1
fi
say "ok"
