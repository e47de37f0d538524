-- restore/map.lua: the restore map of one response, parsed once into hash tables so that matching
-- costs a few lookups per token instead of one gsub per entry.
--
-- Input: `pseudonym TAB original LF` lines (agent/engine/restore_map.py). Both sides are printable ASCII
-- without `"` and `\` (restore_map.py enforces it), so an original can replace a pseudonym anywhere in
-- JSON text unescaped.
--
--   local map = require("restore.map").parse(map_string)
--   map.count, map.full[pseudonym] -> original, map.k (key length), map.lens[key] -> lengths
--   map:could_grow(buf, s, n)      -- could buf[s..n] (at the end of the data) become a pseudonym?
--   map:joiners_of(pseudonym)      -- set of joiner bytes in it, or false
--   map:label_glue(pseudonym)      -- whether it restores glued after a host label (`web-<p>`)
--   map:ec2_tail(pseudonym)        -- how the masker ends an EC2-ID-shaped one (false: not one)
--   map:occurrences(text)          -- sorted positions where a key occurs, or nil (too many keys)

local bytes = require("restore.bytes")

local byte, sub, find, concat, sort = string.byte, string.sub, string.find, table.concat, table.sort
local max, min = math.max, math.min
local WORD, JOINER = bytes.WORD, bytes.JOINER

local KEYLEN = 8                     -- pseudonyms are indexed by their first KEYLEN bytes
-- Up to this many keys, occurrences() finds them with one plain search each. A plain search runs at
-- memchr speed, the word-run scan at ~5 MB/s: on a 7 MB JSON body (bench numbers in DECISIONS.md)
-- 116 keys take 0.5 s, 216 keys 0.74 s, the scan alone 1.2-1.6 s; past ~450 keys the searches cost
-- more than the scan they spare, so above SEARCHED_KEYS occurrences() declines and the scan reads all.
local SEARCHED_KEYS = 256

local Map = {}
Map.__index = Map

local function parse_lines(map_string)
  local full, count, minlen, maxlen = {}, 0, math.huge, 0
  for p, o in map_string:gmatch("([^\t\n]+)\t([^\n]+)\n") do
    if full[p] == nil then count = count + 1 end
    full[p] = o
    local n = #p
    if n < minlen then minlen = n end
    if n > maxlen then maxlen = n end
  end
  return full, count, minlen, maxlen
end

-- Pseudonyms are grouped by their first K bytes; per key, the distinct lengths (longest first, so the
-- longest pseudonym at a position wins) and the pseudonyms themselves (for the held-tail check).
-- Nearly every key has one pseudonym, so a key's members are that pseudonym (a string) until a second
-- one arrives, and its lengths a shared one-element list from SINGLE: building a table per key cost
-- 10 of the 13 ms a 10,000-entry map took to parse (bench/bench_restore.py). SINGLE outlives the
-- response but holds only lengths, never an identifier.
local SINGLE = setmetatable({}, { __index = function(t, n) local l = { n }; t[n] = l; return l end })

local function add_length(lens, key, n)
  local l = lens[key]
  for i = 1, #l do if l[i] == n then return end end
  local grown = { n }                        -- never append to a list shared through SINGLE
  for i = 1, #l do grown[i + 1] = l[i] end
  sort(grown, function(a, b) return a > b end)
  lens[key] = grown
end

local function index_keys(full, k)
  local lens, members, odd, nkeys = {}, {}, nil, 0
  for p in pairs(full) do
    if not WORD[byte(p)] then odd = odd or {}; odd[byte(p)] = true end
    local key = sub(p, 1, k)
    local m = members[key]
    if m == nil then
      members[key] = p
      nkeys = nkeys + 1
      lens[key] = SINGLE[#p]
    else
      if type(m) == "string" then m = { m }; members[key] = m end
      m[#m + 1] = p
      add_length(lens, key, #p)
    end
  end
  return lens, members, odd, nkeys
end

-- Pseudonyms starting with a non-word byte (a secret key pseudonym may start with `+` or `/`) cannot
-- be found at word-run starts; they get their own candidate pattern.
local function odd_pattern(odd)
  if not odd then return nil end
  local set = {}
  for b in pairs(odd) do set[#set + 1] = "%" .. string.char(b) end
  return "[" .. concat(set) .. "]"
end

local function parse(map_string)
  local full, count, minlen, maxlen = parse_lines(map_string or "")
  local self = setmetatable({ full = full, count = count, maxlen = maxlen, joiners = {}, ec2 = {} }, Map)
  if count == 0 then return self end
  self.k = max(1, min(KEYLEN, minlen))
  self.lens, self.members, self.odd, self.nkeys = index_keys(full, self.k)
  self.oddpat = odd_pattern(self.odd)
  return self
end

-- Set of joiner bytes a pseudonym contains (false when none); computed on first match only.
function Map:joiners_of(p)
  local j = self.joiners[p]
  if j == nil then
    j = false
    for i = 1, #p do
      local b = byte(p, i)
      if JOINER[b] then j = j or {}; j[b] = true end
    end
    self.joiners[p] = j
  end
  return j
end


-- How the masker ends a pseudonym of EC2-ID shape ([a-z]+(-[a-z]+)*- and 8 to 17 hex), or false:
-- "l17" (17 lower-case hex: at a byte that is no hex digit), "u17" (upper case: no letter or digit),
-- "short" (8 to 16: at a non-word byte). See restore.py _ec2_end_ok.
function Map:ec2_tail(p)
  local t = self.ec2[p]
  if t == nil then
    t = false
    local dash = p:find("%-[0-9a-fA-F]+$")
    local prefix, hex = dash and sub(p, 1, dash - 1), dash and sub(p, dash + 1)
    if dash and prefix:find("^[a-z]+[a-z%-]*$") and not prefix:find("%-%-") and not prefix:find("%-$") then
      if #hex == 17 and hex:find("^[0-9a-f]+$") then t = "l17"
      elseif #hex == 17 and hex:find("^[0-9A-F]+$") then t = "u17"
      elseif #hex >= 8 and #hex <= 16 and hex:find("^[0-9a-f]+$") then t = "short" end
    end
    self.ec2[p] = t
  end
  return t
end

-- Whether a pseudonym is an EC2-style ID of 17 hex digits (all lower or all upper case): 68 random
-- bits, so it restores after a host label (`web-<p>`) as the masker reads it (restore.py label_glue).
function Map:label_glue(p)
  local t = self:ec2_tail(p)
  return t == "l17" or t == "u17"
end

-- Proper prefixes (shorter than the key length) of all keys; built on the first held-tail check only,
-- because a non-streamed JSON body never needs it.
function Map:short_prefixes()
  local pre = self.pre
  if not pre then
    pre = {}
    for key in pairs(self.members) do
      -- Longest first: once a prefix is known, all shorter ones are too (keys share short prefixes).
      for i = #key - 1, 1, -1 do
        local p = sub(key, 1, i)
        if pre[p] then break end
        pre[p] = true
      end
    end
    self.pre = pre
  end
  return pre
end

-- Could buf[s..n] (t bytes, reaching the end of the data) still grow into a pseudonym?
function Map:could_grow(buf, s, n)
  local t = n - s + 1
  if t < self.k then return self:short_prefixes()[sub(buf, s, n)] == true end
  local m = self.members[sub(buf, s, s + self.k - 1)]
  if not m then return false end
  local tail = sub(buf, s, n)
  if type(m) == "string" then return #m > t and sub(m, 1, t) == tail end
  for i = 1, #m do
    local p = m[i]
    if #p > t and sub(p, 1, t) == tail then return true end
  end
  return false
end

-- Every position in `text` where a key (a pseudonym's first k bytes) starts, sorted; nil when the map
-- has more keys than SEARCHED_KEYS. A pseudonym can match only where its key occurs, so a scan told
-- these positions (matcher.scan's `at`) may skip the bytes far from all of them.
function Map:occurrences(text)
  if self.count == 0 then return {} end
  if self.nkeys > SEARCHED_KEYS then return nil end
  local at, n = {}, 0
  for key in pairs(self.members) do
    local i = find(text, key, 1, true)
    while i do
      n = n + 1; at[n] = i
      i = find(text, key, i + 1, true)
    end
  end
  sort(at)
  return at
end

return { parse = parse, KEYLEN = KEYLEN, SEARCHED_KEYS = SEARCHED_KEYS }
