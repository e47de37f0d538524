-- restore/json.lua: JSON without decoding. A reader that returns spans, the edits that restore every
-- string of a tree except the ones that must stay byte-exact, and the two JSON body modes:
--
--   json.parse(s)                  -- tree of {t=kind, s=first, e=last}; error() if not JSON
--   json.member(s, obj, name), json.string_of(s, obj, name), json.raw(s, node)
--   json.collect_edits(map, s, node, edits, at); json.apply_edits(s, edits)
--   json.restore(map, text)        -- a whole document (plain restore if it is not JSON)
--   json.body(map), json.lines(map) -- feed/finish objects for application/json and NDJSON bodies

local matcher = require("restore.matcher")

local byte, sub, find = string.byte, string.sub, string.find
local concat, sort = table.concat, table.sort
local scan = matcher.scan

local M = {}

---------------------------------------------------------------------------------------------------
-- A minimal JSON reader: spans only, no decoding. Values are {t=kind, s=first, e=last} where strings
-- span their content (between the quotes), objects carry keys/vals arrays.
---------------------------------------------------------------------------------------------------

local function skip_ws(s, i)
  return find(s, "[^ \t\r\n]", i)
end

local parse_value

local function parse_string(s, i)
  local j = i + 1
  while true do
    local q = find(s, '["\\]', j)
    if not q then error("json: unterminated string", 0) end
    if byte(s, q) == 34 then return { t = "s", s = i + 1, e = q - 1 }, q + 1 end
    j = q + 2
  end
end

local function parse_container(s, i, close)
  local node = { t = close == 125 and "o" or "a", s = i, keys = close == 125 and {} or nil, vals = {} }
  local j = skip_ws(s, i + 1)
  if j and byte(s, j) == close then node.e = j; return node, j + 1 end
  while true do
    if node.keys then
      if byte(s, j) ~= 34 then error("json: expected key", 0) end
      local key
      key, j = parse_string(s, j)
      node.keys[#node.keys + 1] = key
      j = skip_ws(s, j)
      if byte(s, j) ~= 58 then error("json: expected ':'", 0) end
      j = skip_ws(s, j + 1)
    end
    local v
    v, j = parse_value(s, j)
    node.vals[#node.vals + 1] = v
    j = skip_ws(s, j)
    local c = j and byte(s, j)
    if c == close then node.e = j; return node, j + 1 end
    if c ~= 44 then error("json: expected ',' or close", 0) end
    j = skip_ws(s, j + 1)
  end
end

parse_value = function(s, i)
  if not i then error("json: unexpected end", 0) end
  local c = byte(s, i)
  if c == 34 then return parse_string(s, i) end
  if c == 123 then return parse_container(s, i, 125) end
  if c == 91 then return parse_container(s, i, 93) end
  local a, b = find(s, "^[%w%.%+%-]+", i)
  if not a then error("json: unexpected byte", 0) end
  return { t = "n", s = a, e = b }, b + 1
end

local function parse_json(s)
  local v, j = parse_value(s, skip_ws(s, 1))
  if skip_ws(s, j) then error("json: trailing data", 0) end
  return v
end

local function raw(s, node) return sub(s, node.s, node.e) end

local function member(s, obj, name)
  if not obj or obj.t ~= "o" then return nil end
  local keys = obj.keys
  for i = 1, #keys do
    local k = keys[i]
    if k.e - k.s + 1 == #name and sub(s, k.s, k.e) == name then return obj.vals[i] end
  end
  return nil
end

local function string_of(s, obj, name)
  local v = member(s, obj, name)
  if v and v.t == "s" then return raw(s, v) end
  return nil
end

-- Strings that must stay byte-exact (DESIGN.md, thinking exception): signed thinking text and its
-- signature, redacted thinking and base64 payloads, anything encrypted.
local function keep_exact(s, obj, key)
  if key == "signature" or sub(key, 1, 10) == "encrypted_" then return true end
  local ty = string_of(s, obj, "type")
  if ty == "thinking" then return key == "thinking" end
  if ty == "redacted_thinking" or ty == "base64" then return key == "data" end
  return false
end

-- The key positions (map:occurrences of the whole document) inside s[first..last], made relative
-- to `first`; nil when there are none. Binary search for the first one: O(log n) per string.
local function positions_within(at, first, last)
  local lo, hi = 1, #at + 1
  while lo < hi do
    local mid = (lo + hi) // 2
    if at[mid] < first then lo = mid + 1 else hi = mid end
  end
  if lo > #at or at[lo] > last then return nil end
  local out, n = {}, 0
  while lo <= #at and at[lo] <= last do
    n = n + 1; out[n] = at[lo] - first + 1
    lo = lo + 1
  end
  return out
end

-- Collect {first, last, replacement} edits restoring every string value (and key) under node. `at`
-- (optional): the key positions in s; a string holding none of them cannot change and is not read.
local function collect_edits(map, s, node, edits, at)
  local t = node.t
  if t == "s" then
    if node.e >= node.s then
      local within = at and positions_within(at, node.s, node.e)
      if at and not within then return end
      local text = raw(s, node)
      local out = scan(map, text, 1, true, within)
      if out ~= text then edits[#edits + 1] = { node.s, node.e, out } end
    end
  elseif t == "o" then
    for i = 1, #node.keys do
      local key, val = node.keys[i], node.vals[i]
      collect_edits(map, s, key, edits, at)
      if not (val.t == "s" and keep_exact(s, node, raw(s, key))) then collect_edits(map, s, val, edits, at) end
    end
  elseif t == "a" then
    for i = 1, #node.vals do collect_edits(map, s, node.vals[i], edits, at) end
  end
end

local function apply_edits(s, edits, first, last)
  first, last = first or 1, last or #s
  if #edits == 0 then return sub(s, first, last) end
  sort(edits, function(a, b) return a[1] < b[1] end)
  local out, pos = {}, first
  for i = 1, #edits do
    local ed = edits[i]
    out[#out + 1] = sub(s, pos, ed[1] - 1)
    out[#out + 1] = ed[3]
    pos = ed[2] + 1
  end
  out[#out + 1] = sub(s, pos, last)
  return concat(out)
end

-- Restore a whole JSON document; text that is not JSON gets the plain restore (a client cannot parse
-- it anyway, and showing pseudonyms is the one thing a restore must not do).
-- Where the map's keys occur is looked up once for the whole document (map:occurrences): a body
-- where none occurs is returned as it is, and the strings that hold none are not read.
local function restore_json(map, text)
  if map.count == 0 then return text end
  local at = map:occurrences(text)
  if at and #at == 0 then return text end
  local ok, tree = pcall(parse_json, text)
  if not ok then return (scan(map, text, 1, true, at)) end
  local edits = {}
  collect_edits(map, text, tree, edits, at)
  return apply_edits(text, edits)
end

M.parse, M.raw, M.member, M.string_of = parse_json, raw, member, string_of
M.collect_edits, M.apply_edits, M.restore = collect_edits, apply_edits, restore_json

---------------------------------------------------------------------------------------------------
-- Body modes.
---------------------------------------------------------------------------------------------------

-- A non-streamed JSON body is useless to a client before it is complete, so it is restored once, at
-- the end (never parse a prefix of it).
local Body = {}
Body.__index = Body
function Body:feed(chunk) self.parts[#self.parts + 1] = chunk; return "" end
function Body:finish()
  local body = concat(self.parts)
  self.parts = {}
  return restore_json(self.map, body)
end

function M.body(map) return setmetatable({ map = map, parts = {} }, Body) end

-- NDJSON: one JSON value per line, each restored when its line is complete.
local Lines = {}
Lines.__index = Lines
-- A line's bytes wait as a list of reads until its LF arrives (joined once, like restore/sse.lua's
-- events): re-joining and rescanning a long line on every read would be quadratic.
function Lines:feed(chunk)
  if not find(chunk, "\n", 1, true) then
    if chunk ~= "" then self.parts[#self.parts + 1] = chunk end
    return ""
  end
  local parts = self.parts
  parts[#parts + 1] = chunk
  local buf = concat(parts)
  local out, pos = {}, 1
  while true do
    local nl = find(buf, "\n", pos, true)
    if not nl then break end
    out[#out + 1] = restore_json(self.map, sub(buf, pos, nl - 1)) .. "\n"
    pos = nl + 1
  end
  self.parts = { sub(buf, pos) }
  return concat(out)
end
function Lines:finish()
  local rest = concat(self.parts)
  self.parts = {}
  if rest == "" then return "" end
  return restore_json(self.map, rest)
end

function M.lines(map) return setmetatable({ map = map, parts = {} }, Lines) end

return M
