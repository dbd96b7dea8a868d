-- ardour7-lua script: create a session with one mono audio track carrying
-- one LV2 plugin, save it, close it, then patch the saved session XML so
-- that the Generic MIDI surface is active with the given binding map.
--
-- usage: ardour7-lua probe_create.lua SESSION_DIR SNAPSHOT PLUGIN_URI MAP_NAME MOTORIZED SELECT_ROUTE
--   MAP_NAME     : value of the map's <ArdourMIDIBindings name="..."> (NOT a path)
--   MOTORIZED    : "0" or "1"
--   SELECT_ROUTE : "1" -> store the track in the session's core <Selection>
--                  (needed for "S<n>" route specifiers), "0" -> no selection

local dir, snap, uri, map_name, motorized, select_route =
	arg[1], arg[2], arg[3], arg[4], arg[5], arg[6]
assert (dir and snap and uri and map_name and motorized and select_route, "missing arguments")

local function xml_escape (s)
	return (s:gsub ("&", "&amp;"):gsub ("\"", "&quot;"):gsub ("<", "&lt;"):gsub (">", "&gt;"))
end

-- plain (non-pattern) single replacement; fails if `old` is not found exactly once
local function replace_once (s, old, new)
	local a, b = s:find (old, 1, true)
	assert (a, "session XML does not contain: " .. old)
	assert (not s:find (old, b + 1, true), "session XML contains more than once: " .. old)
	return s:sub (1, a - 1) .. new .. s:sub (b + 1)
end

assert (create_session (dir, snap, 48000), "create_session failed")

local tl = Session:new_audio_track (1, 2, nil, 1, "Audio",
	ARDOUR.PresentationInfo.max_order, ARDOUR.TrackMode.Normal, true)
assert (tl:size () == 1, "could not create audio track")
local track = tl:front ()

local plug = ARDOUR.LuaAPI.new_plugin (Session, uri, ARDOUR.PluginType.LV2, "")
assert (not plug:isnil (), "LV2 plugin not found: " .. uri)
assert (track:add_processor_by_index (plug, 0, nil, true) == 0, "could not add plugin")

local route_id = track:to_stateful ():id ():to_s ()
print (string.format ("created track '%s' (id %s) with plugin '%s'",
	track:name (), route_id, track:nth_plugin (0):name ()))

Session:save_state ("", false, false, false, false, false)
Session:close ()

-- patch the saved session file
local fn = dir .. "/" .. snap .. ".ardour"
local f = assert (io.open (fn, "r"))
local xml = f:read ("a")
f:close ()

xml = replace_once (xml, '<Protocol name="Generic MIDI" active="0"/>',
	string.format ('<Protocol name="Generic MIDI" active="1" feedback="0" feedback-interval="10000"'
		.. ' threshold="10" motorized="%s" binding="%s"/>', motorized, xml_escape (map_name)))

if select_route == "1" then
	xml = replace_once (xml, '<Selection/>', string.format (
		'<Selection><StripableAutomationControl stripable="%s" control="0" order="0"/></Selection>', route_id))
end

f = assert (io.open (fn, "w"))
f:write (xml)
f:close ()
print ("patched " .. fn)
