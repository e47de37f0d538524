-- restore/sse_openai.lua: OpenAI-style `chat.completion.chunk` streams, for restore/sse.lua.
--
-- Per choice, `delta.content` is one matcher stream and each `delta.tool_calls[i].function.arguments`
-- another; a choice's held tails are sent in a synthetic chunk just before the chunk that finishes it
-- (`finish_reason` not null), or before `data: [DONE]`. The synthetic chunk repeats the id, object,
-- created and model of the last chunk seen.

local json = require("restore.json")

local sub, concat = string.sub, table.concat
local member, raw = json.member, json.raw

local M = {}

-- The synthetic chunk carrying one stream's held tail.
function M.flush_event(sse, st, tail)
  local h = sse.chunk_head or '"object":"chat.completion.chunk"'
  local delta
  if st.kind == "content" then
    delta = '{"content":"' .. tail .. '"}'
  else
    delta = '{"tool_calls":[{"index":' .. st.call .. ',"function":{"arguments":"' .. tail .. '"}}]}'
  end
  return "data: {" .. h .. ',"choices":[{"index":' .. st.choice .. ',"delta":' .. delta
    .. ',"finish_reason":null}]}' .. sse.nl .. sse.nl
end

local function head_of(payload, tree)
  local parts = {}
  for _, name in ipairs({ "id", "object", "created", "model" }) do
    local v = member(payload, tree, name)
    if v then
      parts[#parts + 1] = '"' .. name .. '":' .. (v.t == "s" and '"' .. raw(payload, v) .. '"' or raw(payload, v))
    end
  end
  return concat(parts, ",")
end

-- One chunk, parsed into `tree`. Returns (text to send before the chunk, new payload).
function M.chunk(sse, payload, tree)
  sse.chunk_head = head_of(payload, tree)
  local edits, before = {}, {}
  local choices = member(payload, tree, "choices")
  for _, ch in ipairs(choices and choices.vals or {}) do
    local ci = member(payload, ch, "index")
    local c = ci and raw(payload, ci) or "0"
    local delta = member(payload, ch, "delta")
    local content = member(payload, delta, "content")
    if content and content.t == "s" then
      local st = sse:stream("c" .. c, "content", M)
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
        local st = sse:stream("t" .. c .. "." .. t, "arguments", M)
        st.choice, st.call = c, t
        edits[#edits + 1] = { args.s, args.e, st:feed(raw(payload, args)) }
      end
    end
    local fin = member(payload, ch, "finish_reason")
    if fin and raw(payload, fin) ~= "null" then
      local prefix_c, prefix_t = "c" .. c, "t" .. c .. "."
      before[#before + 1] = sse:flush_ids(function(id)
        return id == prefix_c or sub(id, 1, #prefix_t) == prefix_t
      end)
    end
  end
  return concat(before), json.apply_edits(payload, edits)
end

return M
