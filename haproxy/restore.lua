-- restore.lua: put the real AWS identifiers back into an LLM API response (pure Lua 5.3, no HAProxy API).
--
-- The agent hands HAProxy a restore map (`pseudonym TAB original LF` lines, agent/engine/restore_map.py) with
-- the request; restore_filter.lua feeds the response body through an object made here:
--
--   local r = restore.new(map_string, content_type)
--   out = r:feed(chunk)   -- any split of the body, returns what may be sent now
--   out = r:finish()      -- at end of body: whatever was still held back
--
-- Modes, by Content-Type: "sse" (text/event-stream: Anthropic Messages and OpenAI chat.completion.chunk
-- streams), "json" (application/json, +json: whole body restored at finish), "ndjson" (one JSON value per
-- line), "text" (other textual types: plain streaming restore), "pass" (binary: untouched).
--
-- All matching works on the bytes as sent, never on decoded JSON: both sides of a map entry are printable
-- ASCII without `"` and `\` (restore_map.py enforces it), so an original can replace a pseudonym inside a
-- JSON string, and inside JSON text inside a JSON string (input_json_delta.partial_json), unescaped.
--
-- Where a pseudonym counts (the boundary rule):
--   * Word bytes are [A-Za-z0-9_]. A match must not touch a word byte on either side: `i-0abc..1`
--     followed by `2`, or `x123456789012`, stay as they are (a look-alike inside a longer token).
--   * Joiners are - . : / + =. A joiner next to a match blocks it only when the pseudonym itself contains
--     that joiner and a word byte follows it (a digit, for `.`): the neighbour continues a token of the
--     same shape. IP `10.0.1.5` does not restore in `10.0.1.5.7`, `i-0ab..` not in `i-0ab..-x`, but a
--     dotted bucket restores in `<bucket>.s3.amazonaws.com`; and the account
--     `123456789012` (no joiner) restores in `arn:aws:iam::123456789012:role/x`,
--     `123456789012.dkr.ecr...` and `cdk-hnb659fds-assets-123456789012-us-east-1`, which is how the
--     component-wise masking (DESIGN.md invariant 4) composes them.
--   * Escapes are separators: after `\n` `\t` `\r` `\b` `\f` `\uXXXX` (JSON, one or two levels deep)
--     and after `%XX` (percent-encoded URLs) a pseudonym restores; the escape is never split or touched.
--   * A pseudonym that is itself JSON-escaped (`i\u002d0..`, `a\/b`) is not restored: Anthropic's and
--     OpenAI's encoders never escape printable ASCII, and decoding would cost every byte of every event.
--
-- Streaming: per text stream (one content block, one OpenAI choice or tool call) only a tail that could
-- still become a match is held back: a proper prefix of a pseudonym that reaches the end of the data, or
-- a whole pseudonym whose following byte (which decides the boundary) has not arrived yet.

local M = {}

local byte, sub, find, match = string.byte, string.sub, string.find, string.match
local concat, sort = table.concat, table.sort
local max, min = math.max, math.min

-- Byte classes as lookup tables: one index per byte is the cheapest test Lua has.
local WORD, DIGIT, JOINER, HEX, ESC = {}, {}, {}, {}, {}
for b = 48, 57 do WORD[b] = true; HEX[b] = true; DIGIT[b] = true end
for b = 65, 90 do WORD[b] = true end
for b = 97, 122 do WORD[b] = true end
WORD[95] = true
for c in ("abcdefABCDEF"):gmatch(".") do HEX[byte(c)] = true end
for c in ("-.:/+="):gmatch(".") do JOINER[byte(c)] = true end
for c in ("bfnrt"):gmatch(".") do ESC[byte(c)] = true end
local BACKSLASH, PERCENT, U, DOT = 92, 37, 117, 46

local RUN_START = "%f[A-Za-z0-9_]"   -- a word byte after a non-word byte (or at the start)
local CTX = 8                        -- bytes of already-sent input kept to judge the next boundary
local KEYLEN = 8                     -- pseudonyms are indexed by their first KEYLEN bytes

---------------------------------------------------------------------------------------------------
-- The map: parsed once per response into hash tables, so matching costs a few lookups per token
-- instead of one gsub per entry.
---------------------------------------------------------------------------------------------------

local Map = {}
Map.__index = Map

local function parse_map(map_string)
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
  local lens, members, odd = {}, {}, nil
  for p in pairs(full) do
    if not WORD[byte(p)] then odd = odd or {}; odd[byte(p)] = true end
    local key = sub(p, 1, k)
    local m = members[key]
    if m == nil then
      members[key] = p
      lens[key] = SINGLE[#p]
    else
      if type(m) == "string" then m = { m }; members[key] = m end
      m[#m + 1] = p
      add_length(lens, key, #p)
    end
  end
  return lens, members, odd
end

local function odd_pattern(odd)
  -- Pseudonyms starting with a non-word byte (a secret key pseudonym may start with `+` or `/`) cannot
  -- be found at word-run starts; they get their own candidate pattern.
  if not odd then return nil end
  local set = {}
  for b in pairs(odd) do set[#set + 1] = "%" .. string.char(b) end
  return "[" .. concat(set) .. "]"
end

function M.parse_map(map_string)
  local full, count, minlen, maxlen = parse_map(map_string or "")
  local self = setmetatable({ full = full, count = count, maxlen = maxlen, joiners = {} }, Map)
  if count == 0 then return self end
  self.k = max(1, min(KEYLEN, minlen))
  self.lens, self.members, self.odd = index_keys(full, self.k)
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

---------------------------------------------------------------------------------------------------
-- Matching one candidate position.
---------------------------------------------------------------------------------------------------

local HOLD = {}   -- sentinel: cannot decide before more bytes arrive

-- The byte after a match at buf[e]: nil means "not arrived yet" unless the data is final.
-- Returns true (boundary ok), false (longer token) or HOLD.
local function end_ok(buf, e, j, final)
  local b1 = byte(buf, e + 1)
  if b1 == nil then return final or HOLD end
  if WORD[b1] then return false end
  if j and j[b1] then
    local b2 = byte(buf, e + 2)
    if b2 == nil then return final or HOLD end
    if (b1 == DOT and DIGIT[b2]) or (b1 ~= DOT and WORD[b2]) then return false end
  end
  return true
end

local function start_ok(buf, s, j, after_escape)
  if after_escape or s == 1 then return true end
  local b = byte(buf, s - 1)
  if WORD[b] then return false end
  if j and j[b] and s > 2 then
    local b2 = byte(buf, s - 2)
    if (b == DOT and DIGIT[b2]) or (b ~= DOT and WORD[b2]) then return false end
  end
  return true
end

-- Try every pseudonym length that shares the key at s, longest first.
-- Returns e, original (a match ending at e), nil (none here) or HOLD.
local function match_at(map, buf, s, n, final, after_escape)
  local k = map.k
  if n - s + 1 < k then
    if not final and map:could_grow(buf, s, n) then return HOLD end
    return nil
  end
  local lens = map.lens[sub(buf, s, s + k - 1)]
  if not lens then return nil end
  local full, pending = map.full, false
  for i = 1, #lens do
    local e = s + lens[i] - 1
    if e > n then
      pending = pending or (not final and map:could_grow(buf, s, n))
    else
      local p = sub(buf, s, e)
      local o = full[p]
      if o then
        local j = map:joiners_of(p)
        if start_ok(buf, s, j, after_escape) then
          local ok = end_ok(buf, e, j, final)
          if ok == HOLD or (ok and pending) then return HOLD end
          if ok then return e, o end
        end
      end
    end
  end
  if pending then return HOLD end
  return nil
end

---------------------------------------------------------------------------------------------------
-- Scanning a buffer: candidates are word-run starts, plus the position right after an escape
-- (`\n`, `\uXXXX`) or a percent-escape (`%3A`) that glued itself to the front of the run.
---------------------------------------------------------------------------------------------------

-- Is buf[i] escaped by an odd run of backslashes before it (so a cut before it would split a JSON
-- escape)? Only asked for the rare non-word candidates.
local function escaped(buf, i)
  local k = i - 1
  while k >= 1 and byte(buf, k) == BACKSLASH do k = k - 1 end
  return (i - 1 - k) % 2 == 1
end

-- Next candidate at or after pos. Returns position, after_escape, next search position, and an
-- alternative position to try when the first one does not match.
local function next_candidate(map, buf, pos)
  while true do
    local r = find(buf, RUN_START, pos)
    local o = map.oddpat and find(buf, map.oddpat, pos)
    if o and (not r or o < r) then
      if not escaped(buf, o) then return o, false, o + 1 end
      pos = o + 1
    elseif r then
      local prev = r > 1 and byte(buf, r - 1)
      if prev == BACKSLASH then
        local c = byte(buf, r)
        if ESC[c] then return r + 1, true, r + 2 end
        if c ~= U then return r, false, r + 1 end
        local h1, h2, h3, h4 = byte(buf, r + 1, r + 4)
        if h4 and HEX[h1] and HEX[h2] and HEX[h3] and HEX[h4] then return r + 5, true, r + 6 end
        -- `\u` not (yet) followed by 4 hex digits: never a place to cut; the context kept before
        -- the next chunk lets the next scan see the whole escape.
        pos = r + 1
      elseif prev == PERCENT and HEX[byte(buf, r)] and HEX[byte(buf, r + 1) or 0] then
        return r, false, r + 1, r + 2    -- try the run itself first, then after `%XX`
      else
        return r, false, r + 1
      end
    else
      return nil
    end
  end
end

-- Restore buf[from..n]; bytes before `from` are context that was already sent. Returns the restored
-- text and the position from which the input must be held back (n + 1 when nothing is held).
local function scan(map, buf, from, final)
  local n = #buf
  if map.count == 0 or from > n then return sub(buf, from), n + 1 end
  local out, no = {}, 0
  local emitted = from          -- first input byte not yet copied to out
  local pos = max(1, from - CTX)
  local hold = n + 1
  while true do
    local s, esc, nextpos, alt = next_candidate(map, buf, pos)
    if s == nil then break end
    local e, o
    if s >= emitted then
      e, o = match_at(map, buf, s, n, final, esc)
      if e == nil and alt and alt <= n then s = alt; e, o = match_at(map, buf, alt, n, final, true) end
    elseif alt and alt >= emitted and alt <= n then
      -- The run starts in the context already sent (`%3A` before a held tail): the position after
      -- the escape is still ours to try.
      s = alt; e, o = match_at(map, buf, alt, n, final, true)
    end
    if e == HOLD then hold = s; break end
    if e then
      no = no + 1; out[no] = sub(buf, emitted, s - 1)
      no = no + 1; out[no] = o
      emitted = e + 1
      pos = e + 1
    else
      pos = nextpos
    end
  end
  no = no + 1; out[no] = sub(buf, emitted, hold - 1)
  return concat(out, "", 1, no), hold
end

M.scan = scan

---------------------------------------------------------------------------------------------------
-- A text stream: one content block's text or partial_json, one OpenAI choice, or a plain body.
---------------------------------------------------------------------------------------------------

local Stream = {}
Stream.__index = Stream

local function new_stream(map)
  return setmetatable({ map = map, ctx = "", held = "" }, Stream)
end

function Stream:feed(piece, final)
  local ctx = self.ctx
  local buf = ctx .. self.held .. piece
  local from = #ctx + 1
  local out, hold = scan(self.map, buf, from, final)
  self.held = sub(buf, hold)
  self.ctx = sub(buf, max(1, hold - CTX), hold - 1)
  return out
end

function Stream:flush()
  if self.held == "" then return "" end
  return self:feed("", true)
end

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

-- Collect {first, last, replacement} edits restoring every string value (and key) under node.
local function collect_edits(map, s, node, edits)
  local t = node.t
  if t == "s" then
    if node.e >= node.s then
      local text = raw(s, node)
      local out = scan(map, text, 1, true)
      if out ~= text then edits[#edits + 1] = { node.s, node.e, out } end
    end
  elseif t == "o" then
    for i = 1, #node.keys do
      local key, val = node.keys[i], node.vals[i]
      collect_edits(map, s, key, edits)
      if not (val.t == "s" and keep_exact(s, node, raw(s, key))) then collect_edits(map, s, val, edits) end
    end
  elseif t == "a" then
    for i = 1, #node.vals do collect_edits(map, s, node.vals[i], edits) end
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
local function restore_json(map, text)
  if map.count == 0 then return text end
  local ok, tree = pcall(parse_json, text)
  if not ok then return (scan(map, text, 1, true)) end
  local edits = {}
  collect_edits(map, text, tree, edits)
  return apply_edits(text, edits)
end

M.restore_json = function(map, text) return restore_json(map, text) end

---------------------------------------------------------------------------------------------------
-- SSE: split into events, restore the one data line of each, keep every other byte as sent.
---------------------------------------------------------------------------------------------------

local Sse = {}
Sse.__index = Sse

local function new_sse(map)
  return setmetatable({ map = map, pending = "", streams = {}, order = {}, nl = "\n" }, Sse)
end

-- Stream state per text channel ("a<index>" for Anthropic blocks, "c<choice>" / "t<choice>.<call>" for
-- OpenAI). `order` keeps flushes in first-seen order.
function Sse:stream(id, kind)
  local st = self.streams[id]
  if not st then
    st = new_stream(self.map)
    st.kind = kind
    self.streams[id] = st
    self.order[#self.order + 1] = id
  end
  return st
end

function Sse:drop(id)
  self.streams[id] = nil
  for i = 1, #self.order do
    if self.order[i] == id then table.remove(self.order, i); break end
  end
end

-- Synthetic events carrying a held tail, in the stream's own dialect.
function Sse:flush_event(st)
  local nl, tail = self.nl, st:flush()
  if tail == "" then return "" end
  if st.kind == "text_delta" or st.kind == "input_json_delta" then
    local field = st.kind == "text_delta" and "text" or "partial_json"
    return "event: content_block_delta" .. nl .. 'data: {"type":"content_block_delta","index":' .. st.index
      .. ',"delta":{"type":"' .. st.kind .. '","' .. field .. '":"' .. tail .. '"}}' .. nl .. nl
  end
  local h = self.chunk_head or '"object":"chat.completion.chunk"'
  local delta
  if st.kind == "content" then
    delta = '{"content":"' .. tail .. '"}'
  else
    delta = '{"tool_calls":[{"index":' .. st.call .. ',"function":{"arguments":"' .. tail .. '"}}]}'
  end
  return "data: {" .. h .. ',"choices":[{"index":' .. st.choice .. ',"delta":' .. delta
    .. ',"finish_reason":null}]}' .. nl .. nl
end

function Sse:flush_ids(pred)
  local out, keep = {}, {}
  for _, id in ipairs(self.order) do
    local st = self.streams[id]
    if pred(id, st) then
      out[#out + 1] = self:flush_event(st)
      self.streams[id] = nil
    else
      keep[#keep + 1] = id
    end
  end
  self.order = keep
  return concat(out)
end

function Sse:flush_all()
  return self:flush_ids(function() return true end)
end

-- Restore one string span of the payload through the named stream.
local function splice(payload, first, last, text)
  return sub(payload, 1, first - 1) .. text .. sub(payload, last + 1)
end

-- Fast paths for the two events that make up nearly all of an Anthropic stream, in the exact layout the
-- API sends; anything else goes through the JSON reader.
local FAST_TEXT = '^{"type":"content_block_delta","index":(%d+),"delta":{"type":"text_delta","text":"()'
local FAST_JSON = '^{"type":"content_block_delta","index":(%d+),"delta":{"type":"input_json_delta",'
  .. '"partial_json":"()'

function Sse:anthropic_delta(payload, index, dtype, first, last)
  local st = self:stream("a" .. index, dtype)
  st.index = index
  return splice(payload, first, last, st:feed(sub(payload, first, last)))
end

function Sse:fast_path(payload)
  local tail = sub(payload, -3)
  if tail ~= '"}}' then return nil end
  local idx, first = match(payload, FAST_TEXT)
  if idx then return self:anthropic_delta(payload, idx, "text_delta", first, #payload - 3) end
  idx, first = match(payload, FAST_JSON)
  if idx then return self:anthropic_delta(payload, idx, "input_json_delta", first, #payload - 3) end
  return nil
end

-- Returns text to send before the event and the new payload.
function Sse:anthropic_event(payload, tree, ty)
  if ty == "content_block_delta" then
    local idx, delta = member(payload, tree, "index"), member(payload, tree, "delta")
    local dtype = string_of(payload, delta, "type")
    local field = (dtype == "text_delta" and "text") or (dtype == "input_json_delta" and "partial_json")
    local v = field and member(payload, delta, field)
    if idx and v and v.t == "s" then
      return "", self:anthropic_delta(payload, raw(payload, idx), dtype, v.s, v.e)
    end
    return "", payload                       -- thinking_delta, signature_delta, citations...: as sent
  elseif ty == "content_block_start" then
    local idx = member(payload, tree, "index")
    local before = idx and self:flush_ids(function(id) return id == "a" .. raw(payload, idx) end) or ""
    local edits = {}
    local block = member(payload, tree, "content_block")
    if block then collect_edits(self.map, payload, block, edits) end
    return before, apply_edits(payload, edits)
  elseif ty == "content_block_stop" then
    local idx = member(payload, tree, "index")
    if idx then return self:flush_ids(function(id) return id == "a" .. raw(payload, idx) end), payload end
    return self:flush_all(), payload
  elseif ty == "message_delta" or ty == "message_stop" or ty == "error" then
    return self:flush_all(), payload         -- a block left open by the upstream must not keep its tail
  end
  return "", payload                         -- message_start, ping, unknown: as sent
end

-- OpenAI chat.completion.chunk: content and tool-call arguments per choice; a choice's tails are sent
-- in a synthetic chunk just before the chunk that finishes it.
function Sse:openai_chunk(payload, tree)
  local parts = {}
  for _, name in ipairs({ "id", "object", "created", "model" }) do
    local v = member(payload, tree, name)
    if v then parts[#parts + 1] = '"' .. name .. '":' .. (v.t == "s" and '"' .. raw(payload, v) .. '"' or raw(payload, v)) end
  end
  self.chunk_head = concat(parts, ",")
  local edits, before = {}, {}
  local choices = member(payload, tree, "choices")
  for _, ch in ipairs(choices and choices.vals or {}) do
    local ci = member(payload, ch, "index")
    local c = ci and raw(payload, ci) or "0"
    local delta = member(payload, ch, "delta")
    local content = member(payload, delta, "content")
    if content and content.t == "s" then
      local st = self:stream("c" .. c, "content")
      st.choice = c
      edits[#edits + 1] = { content.s, content.e, st:feed(raw(payload, content)) }
    end
    local calls = member(payload, delta, "tool_calls")
    for _, call in ipairs(calls and calls.vals or {}) do
      local ti = member(payload, call, "index")
      local fn = member(payload, call, "function")
      local args = member(payload, fn, "arguments")
      if args and args.t == "s" then
        local t = ti and raw(payload, ti) or "0"
        local st = self:stream("t" .. c .. "." .. t, "arguments")
        st.choice, st.call = c, t
        edits[#edits + 1] = { args.s, args.e, st:feed(raw(payload, args)) }
      end
    end
    local fin = member(payload, ch, "finish_reason")
    if fin and raw(payload, fin) ~= "null" then
      local prefix_c, prefix_t = "c" .. c, "t" .. c .. "."
      before[#before + 1] = self:flush_ids(function(id)
        return id == prefix_c or sub(id, 1, #prefix_t) == prefix_t
      end)
    end
  end
  return concat(before), apply_edits(payload, edits)
end

-- Returns (text to send before the event, new payload).
function Sse:payload(payload)
  local fast = self:fast_path(payload)
  if fast then return "", fast end
  if payload == "[DONE]" then return self:flush_all(), payload end
  local ok, tree = pcall(parse_json, payload)
  if not ok or tree.t ~= "o" then return "", payload end
  local ty = string_of(payload, tree, "type")
  if ty then return self:anthropic_event(payload, tree, ty) end
  if member(payload, tree, "choices") then return self:openai_chunk(payload, tree) end
  return "", payload
end

-- One event (its lines and terminating blank line as sent). Only a single `data:` line is rewritten;
-- multi-line data is not what either API sends and is restored as plain text.
function Sse:event(ev)
  local data_first, data_last, count = nil, nil, 0
  local pos = 1
  while pos <= #ev do
    local eol = find(ev, "[\r\n]", pos) or (#ev + 1)
    if sub(ev, pos, pos + 4) == "data:" then
      count = count + 1
      data_first = pos + 5
      if byte(ev, data_first) == 32 then data_first = data_first + 1 end
      data_last = eol - 1
    end
    pos = eol + 1
    if byte(ev, eol) == 13 and byte(ev, pos) == 10 then pos = pos + 1 end
  end
  if count == 0 then return ev end
  if count > 1 then return (scan(self.map, ev, 1, true)) end
  local before, new = self:payload(sub(ev, data_first, data_last))
  return before .. sub(ev, 1, data_first - 1) .. new .. sub(ev, data_last + 1)
end

function Sse:feed(chunk)
  local buf = self.pending .. chunk
  local out, pos = {}, 1
  while true do
    local a, b = find(buf, "\r?\n\r?\n", pos)
    if not a then break end
    if pos == 1 and #out == 0 then self.nl = byte(buf, a) == 13 and "\r\n" or "\n" end
    out[#out + 1] = self:event(sub(buf, pos, b))
    pos = b + 1
  end
  self.pending = sub(buf, pos)
  return concat(out)
end

function Sse:finish()
  local rest = self.pending
  self.pending = ""
  local out = ""
  if rest ~= "" then out = self:event(rest) end
  return self:flush_all() .. out
end

---------------------------------------------------------------------------------------------------
-- Whole-body modes.
---------------------------------------------------------------------------------------------------

local Text = {}
Text.__index = Text
function Text:feed(chunk) return self.st:feed(chunk, false) end
function Text:finish() return self.st:feed("", true) end

local Json = {}
Json.__index = Json
-- A non-streamed JSON body is useless to a client before it is complete, so it is restored once, at
-- the end (never parse a prefix of it).
function Json:feed(chunk) self.parts[#self.parts + 1] = chunk; return "" end
function Json:finish()
  local body = concat(self.parts)
  self.parts = {}
  return restore_json(self.map, body)
end

local Ndjson = {}
Ndjson.__index = Ndjson
function Ndjson:feed(chunk)
  local buf = self.pending .. chunk
  local last = 0
  local out = {}
  for line, nl in buf:gmatch("([^\n]*)(\n)") do
    out[#out + 1] = restore_json(self.map, line) .. nl
    last = last + #line + 1
  end
  self.pending = sub(buf, last + 1)
  return concat(out)
end
function Ndjson:finish()
  local rest = self.pending
  self.pending = ""
  if rest == "" then return "" end
  return restore_json(self.map, rest)
end

local Pass = {}
Pass.__index = Pass
function Pass:feed(chunk) return chunk end
function Pass:finish() return "" end

-- Which restore a Content-Type gets. Binary types pass untouched: an ID-shaped run inside an image or
-- archive is not an ID, and rewriting it would corrupt the file.
function M.mode(content_type)
  local ct = (content_type or ""):lower():match("^%s*([^;%s]*)") or ""
  if ct == "text/event-stream" then return "sse" end
  if ct == "application/json" or ct:match("%+json$") then return "json" end
  if ct == "application/x-ndjson" or ct == "application/jsonl" or ct == "application/x-jsonlines" then
    return "ndjson"
  end
  if ct == "" or ct:match("^text/") or ct:match("xml$") or ct:match("javascript$") or ct:match("yaml$")
    or ct == "application/x-www-form-urlencoded" then
    return "text"
  end
  return "pass"
end

function M.new(map_string, content_type, map)
  map = map or M.parse_map(map_string)
  local mode = M.mode(content_type)
  if map.count == 0 then mode = "pass" end
  if mode == "sse" then return new_sse(map) end
  if mode == "json" then return setmetatable({ map = map, parts = {} }, Json) end
  if mode == "ndjson" then return setmetatable({ map = map, pending = "" }, Ndjson) end
  if mode == "text" then return setmetatable({ st = new_stream(map) }, Text) end
  return setmetatable({}, Pass)
end

return M
