-- ardour7-lua script: load a session whose Generic MIDI surface is active,
-- feed raw MIDI into the surface's input port ("MIDI Control In") and check
-- which plugin parameters of the first plugin on the track change.
--
-- usage: ardour7-lua probe_drive.lua SESSION_DIR SNAPSHOT ROUTE_NAME STEP...
--   STEP = "label|hex bytes|expect"
--     hex bytes : raw MIDI, e.g. "B0 14 40 B0 14 7F" (several messages allowed)
--     expect    : "none"  -> no plugin input parameter may change
--                 "N+" / "N-" / "N*" -> exactly parameter N (1-based, same
--                 numbering as the map's /route/plugin/parameter) must change,
--                 upwards / downwards / either way; all others must not.
-- Exits non-zero (Lua error) on the first failed step.

local dir, snap, route_name = arg[1], arg[2], arg[3]
assert (dir and snap and route_name, "missing arguments")

local t0 = ARDOUR.LuaAPI.monotonic_time ()
local function elapsed () return (ARDOUR.LuaAPI.monotonic_time () - t0) / 1e6 end

assert (load_session (dir, snap), "load_session failed")

local eng = Session:engine ()
local dst = eng:get_port_by_name ("MIDI Control In")
assert (not dst:isnil (), "Generic MIDI input port not found - surface not active?")
local src = eng:get_port_by_name ("x-virtual-keyboard"):to_asyncmidiport ()
assert (not src:isnil (), "x-virtual-keyboard port not found")
assert (eng:connect (src:name (), dst:name ()) == 0, "cannot connect ports")
assert (src:connected_to (dst:name ()))
print (string.format ("connected '%s' -> '%s'", src:name (), dst:name ()))

local route = Session:route_by_name (route_name)
assert (not route:isnil (), "route not found: " .. route_name)
local proc = route:nth_plugin (0)
assert (not proc:isnil (), "no plugin on route")
local plug = proc:to_insert ():plugin (0)

-- parameter n (0-based) -> { port, label, is_input }
local params = {}
while true do
	local port, r = plug:nth_parameter (#params, true)
	if not r[2] then break end
	params[#params + 1] = { port = port, label = plug:parameter_label (port), input = plug:parameter_is_input (port) }
end

local function snapshot ()
	local v = {}
	for i = 1, #params do
		local val, r = ARDOUR.LuaAPI.get_processor_param (proc, i - 1, true)
		assert (r[3], "cannot read parameter " .. i)
		v[i] = val
	end
	return v
end

local function diff (a, b)
	local d = {}
	for i = 1, #params do
		if params[i].input and a[i] ~= b[i] then d[#d + 1] = i end
	end
	return d
end

local function send (hex)
	local parser = ARDOUR.RawMidiParser ()
	local n = 0
	for tok in hex:gmatch ("%x+") do
		if parser:process_byte (tonumber (tok, 16)) then
			assert (src:write (parser:midi_buffer (), parser:buffer_size (), 0) == parser:buffer_size (), "MIDI write failed")
			n = n + 1
			-- let the engine deliver one message per cycle or so; the
			-- non-motorized "pick-up" logic needs to see intermediate values
			ARDOUR.LuaAPI.usleep (5000)
		end
	end
	return n
end

local function dump (tag, v)
	local s = {}
	for i = 1, #params do
		s[#s + 1] = string.format ("%d:%s=%g%s", i, params[i].label, v[i], params[i].input and "" or "(out)")
	end
	print (tag .. " " .. table.concat (s, "  "))
end

print (string.format ("session loaded after %.2fs; plugin '%s' has %d control parameters", elapsed (), proc:name (), #params))
local cur = snapshot ()
dump ("initial", cur)

local failures = 0
for si = 4, #arg do
	local label, hex, expect = arg[si]:match ("^([^|]*)|([^|]*)|([^|]*)$")
	assert (label, "bad step spec: " .. arg[si])
	local before = cur
	local nmsg = send (hex)
	-- wait until something changes (max 1s), then settle a bit more
	local after
	for _ = 1, 50 do
		ARDOUR.LuaAPI.usleep (20000)
		after = snapshot ()
		if #diff (before, after) > 0 then break end
	end
	ARDOUR.LuaAPI.usleep (100000)
	after = snapshot ()

	local changed = diff (before, after)
	local desc = {}
	for _, i in ipairs (changed) do
		desc[#desc + 1] = string.format ("%d(%s): %g -> %g", i, params[i].label, before[i], after[i])
	end
	local ok
	if expect == "none" then
		ok = #changed == 0
	else
		local pn, dirn = expect:match ("^(%d+)([%+%-%*])$")
		assert (pn, "bad expectation: " .. expect)
		pn = tonumber (pn)
		ok = #changed == 1 and changed[1] == pn
			and (dirn == "*" or (dirn == "+" and after[pn] > before[pn]) or (dirn == "-" and after[pn] < before[pn]))
	end
	print (string.format ("[%s] step '%s': sent %d msg (%s), expect %s, changed: %s",
		ok and "PASS" or "FAIL", label, nmsg, hex, expect, #changed == 0 and "nothing" or table.concat (desc, ", ")))
	if not ok then failures = failures + 1 end
	cur = after
end

dump ("final", cur)
Session:close ()
print (string.format ("total %.2fs in ardour7-lua drive script", elapsed ()))
if failures > 0 then
	error (string.format ("%d step(s) failed", failures))
end
print ("PROBE RESULT: PASS")
