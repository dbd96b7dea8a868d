#!/usr/bin/env bash
# fil4.sh (debian): x42's fil4 parametric EQ as Debian installs it (package x42-plugins), described from the
# system LV2 path: Ardour parameter numbers, bindability, properties and units of real ports, and a clean health
# check. Needs no python3 or jq: the descriptor is read with grep/awk (tests/cli/lib.sh).
set -euo pipefail
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/../cli/lib.sh"

URI="http://gareus.org/oss/lv2/fil4#mono"
UNITS="http://lv2plug.in/ns/extensions/units#"
say "fil4.sh: <$URI> from the system LV2 path"
unset LV2_PATH # lilv's default path, where Debian installs plugins

C="$T/cache"
check "plugins:extract on the system LV2 path"
ctl plugins:extract --cache-dir "$C"
assert_rc 0
assert_has "$OUT" "0 failed"
f=$(desc_file "$C" "$URI")
[ -n "$f" ] || fail "no descriptor for <$URI>: is x42-plugins installed? (apt-get install x42-plugins)"
echo "    descriptor: $f"

check "the plugin: name, class, ports"
assert_eq "$(desc_top "$f" format)" 1 "format"
assert_has "$f" '"name": "x42-eq - Parametric Equalizer Mono"'
assert_match "$f" '^  "uri": "http://lv2plug.in/ns/lv2core#ParaEQPlugin",$' "the class"
assert_eq "$(port_symbols "$f" | wc -l)" 38 "number of ports"
assert_eq "$(port_symbols "$f" control output)" peak "control outputs"
assert_eq "$(port_symbols "$f" control input | wc -l)" 33 "control inputs"

check "port peak: a control output, Ardour parameter 3, not bindable"
assert_eq "$(port_field "$f" peak kind)" control "peak kind"
assert_eq "$(port_field "$f" peak direction)" output "peak direction"
assert_eq "$(port_field "$f" peak ardour_param)" 3 "peak ardour_param"
assert_eq "$(port_field "$f" peak bindable)" false "peak bindable"
assert_eq "$(port_field "$f" peak unit.uri)" "${UNITS}db" "peak unit"

check "port HPfreq: Ardour parameter 6, bindable, logarithmic, in Hz"
assert_eq "$(port_field "$f" HPfreq kind)" control "HPfreq kind"
assert_eq "$(port_field "$f" HPfreq direction)" input "HPfreq direction"
assert_eq "$(port_field "$f" HPfreq ardour_param)" 6 "HPfreq ardour_param"
assert_eq "$(port_field "$f" HPfreq bindable)" true "HPfreq bindable"
has_word "$(port_field "$f" HPfreq properties)" logarithmic || fail "HPfreq is not logarithmic"
assert_eq "$(port_field "$f" HPfreq unit.uri)" "${UNITS}hz" "HPfreq unit"
assert_eq "$(port_field "$f" HPfreq unit.symbol)" Hz "HPfreq unit symbol"

check "Ardour numbers every control port, outputs included, in index order; atom and audio ports get none"
assert_eq "$(port_field "$f" enable ardour_param)" 1 "enable ardour_param"
assert_eq "$(port_field "$f" enable designation)" enabled "enable designation"
has_word "$(port_field "$f" enable properties)" toggled || fail "enable is not toggled"
assert_eq "$(port_field "$f" gain ardour_param)" 2 "gain ardour_param"
assert_eq "$(port_field "$f" peakreset ardour_param)" 4 "peakreset ardour_param"
assert_eq "$(port_field "$f" HSgain ardour_param)" 34 "HSgain ardour_param (the last control)"
assert_eq "$(port_field "$f" control ardour_param)" "" "the atom input's ardour_param"
assert_eq "$(port_field "$f" in ardour_param)" "" "the audio input's ardour_param"
assert_eq "$(port_field "$f" control kind)" atom "control kind"

check "plugins:list shows it with 33 inputs and 1 output"
ctl plugins:list --cache-dir "$C" --plugin 'fil4#mono'
assert_rc 0
assert_match "$OUT" ' 33 +1 +ok +http://gareus.org/oss/lv2/fil4#mono$' "the list table"

check "plugins:health --plugin fil4: every fil4 plugin is ok"
ctl plugins:health --cache-dir "$C" --plugin fil4 --timeout 10 --strict
assert_rc 0
assert_match "$OUT" '^ok +[0-9.]+ +http://gareus.org/oss/lv2/fil4#mono' "the health table"
assert_match "$OUT" '^[0-9]+ plugins: [0-9]+ ok$' "the health summary"

say "ok"
