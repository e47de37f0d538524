-- restore/sse_anthropic.lua: the Anthropic Messages stream, for restore/sse.lua.
--
-- `content_block_delta` events carry text in `text_delta.text` and tool arguments, as JSON text, in
-- `input_json_delta.partial_json`; each content block (by `index`) is one matcher stream, whose held
-- tail is sent as one more delta of the same type just before `content_block_stop` (or before
-- `message_delta` / `message_stop` / `error`, if the upstream left the block open).
-- `content_block_start` blocks are restored whole. `thinking_delta` and `signature_delta` pass as sent
-- (signed thinking stays byte-exact, DESIGN.md "the thinking exception"); so do message_start, ping
-- and events this module does not know.

local json = require("restore.json")

local sub, match = string.sub, string.match
local member, string_of, raw = json.member, json.string_of, json.raw

local M = {}

local FIELD = { text_delta = "text", input_json_delta = "partial_json" }

-- The synthetic delta carrying a block's held tail.
function M.flush_event(sse, st, tail)
  local nl = sse.nl
  return "event: content_block_delta" .. nl .. 'data: {"type":"content_block_delta","index":' .. st.index
    .. ',"delta":{"type":"' .. st.kind .. '","' .. FIELD[st.kind] .. '":"' .. tail .. '"}}' .. nl .. nl
end

local function splice(payload, first, last, text)
  return sub(payload, 1, first - 1) .. text .. sub(payload, last + 1)
end

-- Restore payload[first..last], a delta's string, through the block's stream.
local function delta(sse, payload, index, dtype, first, last)
  local st = sse:stream("a" .. index, dtype, M)
  st.index = index
  return splice(payload, first, last, st:feed(sub(payload, first, last)))
end

-- Fast paths for the two events that make up nearly all of a stream, in the exact layout the API
-- sends; anything else goes through the JSON reader (M.event). Returns the new payload, or nil.
local FAST_TEXT = '^{"type":"content_block_delta","index":(%d+),"delta":{"type":"text_delta","text":"()'
local FAST_JSON = '^{"type":"content_block_delta","index":(%d+),"delta":{"type":"input_json_delta",'
  .. '"partial_json":"()'

function M.fast_path(sse, payload)
  local tail = sub(payload, -3)
  if tail ~= '"}}' then return nil end
  local idx, first = match(payload, FAST_TEXT)
  if idx then return delta(sse, payload, idx, "text_delta", first, #payload - 3) end
  idx, first = match(payload, FAST_JSON)
  if idx then return delta(sse, payload, idx, "input_json_delta", first, #payload - 3) end
  return nil
end

local function block_is(payload, idx)
  local id = "a" .. raw(payload, idx)
  return function(sid) return sid == id end
end

-- An event of type `ty`, parsed into `tree`. Returns (text to send before the event, new payload).
function M.event(sse, payload, tree, ty)
  if ty == "content_block_delta" then
    local idx, d = member(payload, tree, "index"), member(payload, tree, "delta")
    local dtype = string_of(payload, d, "type")
    local field = FIELD[dtype]
    local v = field and member(payload, d, field)
    if idx and v and v.t == "s" then
      return "", delta(sse, payload, raw(payload, idx), dtype, v.s, v.e)
    end
    return "", payload                       -- thinking_delta, signature_delta, citations...: as sent
  elseif ty == "content_block_start" then
    local idx = member(payload, tree, "index")
    local before = idx and sse:flush_ids(block_is(payload, idx)) or ""
    local edits = {}
    local block = member(payload, tree, "content_block")
    if block then json.collect_edits(sse.map, payload, block, edits) end
    return before, json.apply_edits(payload, edits)
  elseif ty == "content_block_stop" then
    local idx = member(payload, tree, "index")
    if idx then return sse:flush_ids(block_is(payload, idx)), payload end
    return sse:flush_all(), payload
  elseif ty == "message_delta" or ty == "message_stop" or ty == "error" then
    return sse:flush_all(), payload          -- a block left open by the upstream must not keep its tail
  end
  return "", payload                         -- message_start, ping, unknown: as sent
end

return M
