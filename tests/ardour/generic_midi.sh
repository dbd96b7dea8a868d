#!/usr/bin/env bash
# The truth test: a map that ctrlmap generates, loaded by real Ardour 7 (ardour7-lua, headless, dummy backend),
# must move exactly the plugin parameters it binds, when MIDI reaches Generic MIDI's input port: a continuous
# parameter (a fader on fil4's gain), a toggle (a CC button on HighPass) and a relative encoder (enc-r on HPfreq),
# on x42 fil4 mono, whose output control port `peak` (Ardour parameter 3) sits before HighPass (5) and HPfreq (6).
# The route is ctrlmap's default, S1 (the first selected track). probe.sh drives Ardour and checks the values.
set -euo pipefail
: "${CTRLMAP_BIN:?}" "${CTRLMAP_SOURCE_DIR:?}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/maps"
cat >"$tmp/maps/fil4.yaml" <<'YAML'
version: 1.0.0
device: {manufacturer: ctrlmap, model: Truth Test Controller}
metadata: {name: fil4 on the truth-test controller}
plugin: {uri: "http://gareus.org/oss/lv2/fil4#mono"}
midi_channel: 1
controls:
  - {id: gain, name: Gain, type: slider, cc: 20, plugin_parameter: gain}
  - {id: highpass, name: High pass on, type: button, cc: 21, mode: toggle, plugin_parameter: HighPass}
  - {id: hpfreq, name: High pass freq, type: encoder, cc: 22, encoding: enc-r, plugin_parameter: HPfreq}
YAML

"$CTRLMAP_BIN" daw:generate --cache-dir "$tmp/cache" --out "$tmp/out" "$tmp/maps"
map=$(ls "$tmp"/out/*.map)
echo "generated $map:"
cat "$map"
for want in 'ctl="20" uri="/route/plugin/parameter S1 1 2"' 'ctl-toggle="21" uri="/route/plugin/parameter S1 1 5"' \
  'enc-r="22" uri="/route/plugin/parameter S1 1 6"'; do
  grep -qF "$want" "$map" || { echo "FAIL: the generated map lacks: $want"; exit 1; }
done

# S1 needs a selected track: probe.sh stores the track in the session's selection.
PROBE_SELECT=1 bash "$CTRLMAP_SOURCE_DIR/tests/ardour/probe.sh" "$map"
