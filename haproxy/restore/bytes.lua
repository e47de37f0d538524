-- restore/bytes.lua: byte classes shared by the map index (restore/map.lua) and the matcher
-- (restore/matcher.lua). Lookup tables: one index per byte is the cheapest test Lua has.
--
-- Word bytes are [A-Za-z0-9_]; joiners are - . : / + = (they join the parts of one identifier);
-- ESC holds the letters of the one-letter JSON escapes (\b \f \n \r \t).

local byte = string.byte

local WORD, DIGIT, JOINER, HEX, ESC = {}, {}, {}, {}, {}
for b = 48, 57 do WORD[b] = true; HEX[b] = true; DIGIT[b] = true end
for b = 65, 90 do WORD[b] = true end
for b = 97, 122 do WORD[b] = true end
WORD[95] = true
for c in ("abcdefABCDEF"):gmatch(".") do HEX[byte(c)] = true end
for c in ("-.:/+="):gmatch(".") do JOINER[byte(c)] = true end
for c in ("bfnrt"):gmatch(".") do ESC[byte(c)] = true end

return {
  WORD = WORD, DIGIT = DIGIT, JOINER = JOINER, HEX = HEX, ESC = ESC,
  BACKSLASH = 92, PERCENT = 37, U = 117, DOT = 46,
}
