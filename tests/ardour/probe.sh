#!/bin/bash
# Headless end-to-end probe: does an Ardour Generic MIDI binding map drive the
# intended LV2 plugin parameter in real Ardour 7 (ardour7-lua, dummy backend)?
#
# usage: probe.sh [MAP_FILE [ROUTE_NAME]]
#   MAP_FILE   defaults to probe.map beside this script
#   env PROBE_MOTORIZED=0|1 (default 0 = Ardour's default, CC pick-up active)
#   env PROBE_SELECT=0|1    (default 0; 1 stores the track in the session
#                            selection so "S1" route specifiers resolve)
#   env PROBE_KEEP=1        keep the temporary work directory
#   env ARDOUR_LUA          ardour7-lua binary (default: ardour7-lua)
# Exit status 0 only if every step changed exactly the intended parameter.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
map=${1:-$here/probe.map}
route=${2:-Audio 1}
lua_bin=${ARDOUR_LUA:-ardour7-lua}
plugin_uri=http://gareus.org/oss/lv2/fil4#mono

command -v "$lua_bin" >/dev/null || { echo "SKIP: $lua_bin not found"; exit 77; }
[ -d /usr/lib/lv2/fil4.lv2 ] || [ -d "$HOME/.lv2/fil4.lv2" ] || { echo "SKIP: x42 fil4.lv2 not installed"; exit 77; }

work=$(mktemp -d "${TMPDIR:-/tmp}/ardour-probe.XXXXXX")
cleanup () { if [ "${PROBE_KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi; }
trap cleanup EXIT

# Isolate Ardour completely: its config (incl. midi_maps) lives in
# $XDG_CONFIG_HOME/ardour7; HOME is redirected so nothing touches ~/.config,
# ~/.cache etc.; ARDOUR_MIDIMAPS_PATH replaces the *system* map search path
# (/usr/share/ardour7/midi_maps) so no shipped map can shadow ours by name.
export HOME=$work/home XDG_CONFIG_HOME=$work/config ARDOUR_MIDIMAPS_PATH=$work/no-system-maps
# LV2 plugins are still found in the system path even with HOME redirected
export LV2_PATH=${LV2_PATH:-/usr/lib/lv2:/usr/local/lib/lv2}
mkdir -p "$HOME" "$XDG_CONFIG_HOME/ardour7/midi_maps" "$ARDOUR_MIDIMAPS_PATH"
cp "$map" "$XDG_CONFIG_HOME/ardour7/midi_maps/probe.map"

# the session refers to a map by its name attribute, not by file name
map_name=$(sed -n 's/.*<ArdourMIDIBindings[^>]*[[:space:]]name="\([^"]*\)".*/\1/p' "$map" | head -n1)
[ -n "$map_name" ] || { echo "FAIL: no name=\"...\" on <ArdourMIDIBindings> in $map"; exit 1; }
echo "map '$map_name' from $map"

run () { # run ardour7-lua, keep its log, filter known noise
	local log=$1; shift
	if ! timeout 60 "$lua_bin" "$@" >"$log" 2>&1; then
		cat "$log"; return 1
	fi
	grep -v -e 'direct dispatch of call slot' -e 'Falling back to Reasonable Synth' -e 'Butler drops pool trash' "$log" || true
}

start=$(date +%s.%N)
run "$work/create.log" "$here/probe_create.lua" "$work/session" probe "$plugin_uri" "$map_name" \
	"${PROBE_MOTORIZED:-0}" "${PROBE_SELECT:-0}"
t1=$(date +%s.%N)

# Steps: CC numbers/channels must match probe.map.
#  - CC20 is a plain "ctl" on gain (param 2). Non-motorized surfaces only move a
#    control once the incoming value is within `threshold` (10) of it, so sweep
#    up from the current position (0 dB ~ MIDI 63) in steps < 10.
#  - CC21 "ctl-toggle" on HighPass (param 5): value >= 64 toggles.
#  - CC22 "enc-r" on HPfreq (param 6): bit 6 set = increment by (v&0x3f)+1,
#    clear = decrement by (v&0x3f).
#  - negative controls: unbound CC, bound CC on the wrong channel.
status=0
run "$work/drive.log" "$here/probe_drive.lua" "$work/session" probe "$route" \
	"unbound CC23|B0 17 7F|none" \
	"CC20 on MIDI ch2|B1 14 40 B1 14 48 B1 14 50 B1 14 7F|none" \
	"gain sweep CC20|B0 14 40 B0 14 48 B0 14 50 B0 14 58 B0 14 60 B0 14 68 B0 14 70 B0 14 78 B0 14 7F|2+" \
	"HighPass CC21 on|B0 15 7F|5+" \
	"HPfreq enc-r CC22 +4|B0 16 43|6+" \
	"HPfreq enc-r CC22 -2|B0 16 02|6-" \
	"HighPass CC21 off|B0 15 00|5-" \
	|| status=$?
t2=$(date +%s.%N)

awk -v a="$start" -v b="$t1" -v c="$t2" \
	'BEGIN { printf "timing: create %.2fs, drive %.2fs, total %.2fs\n", b - a, c - b, c - a }'
if [ "$status" = 0 ] && grep -q '^PROBE RESULT: PASS' "$work/drive.log"; then
	echo "OK"
	exit 0
fi
echo "FAILED"
exit 1
