-- restore/sse.lua: text/event-stream bodies. Splits the stream into events, restores the one data line
-- of each through the dialect that wrote it (restore/sse_anthropic.lua: Messages events;
-- restore/sse_openai.lua: chat.completion.chunk), and keeps every other byte as sent.
--
--   local r = sse.new(map); out = r:feed(chunk); out = r:finish()
--
-- Each text channel of the stream (one Anthropic content block, one OpenAI choice or tool call) has its
-- own matcher stream, so a pseudonym split across two deltas of one channel still restores; what a
-- channel holds back is sent in a synthetic event of the channel's own dialect when the channel ends.

local matcher = require("restore.matcher")
local json = require("restore.json")
local anthropic = require("restore.sse_anthropic")
local openai = require("restore.sse_openai")

local byte, sub, find = string.byte, string.sub, string.find
local concat = table.concat
local member, string_of = json.member, json.string_of

local Sse = {}
Sse.__index = Sse

local M = {}

function M.new(map)
  return setmetatable({ map = map, parts = {}, tail = "", streams = {}, order = {}, nl = "\n" }, Sse)
end

-- The stream of one channel: id "a<index>" for Anthropic blocks, "c<choice>" / "t<choice>.<call>" for
-- OpenAI; `dialect` writes its flush event. `order` keeps flushes in first-seen order.
function Sse:stream(id, kind, dialect)
  local st = self.streams[id]
  if not st then
    st = matcher.stream(self.map)
    st.kind, st.dialect = kind, dialect
    self.streams[id] = st
    self.order[#self.order + 1] = id
  end
  return st
end

-- Flush (and forget) the streams `pred(id, st)` selects; returns their synthetic events.
function Sse:flush_ids(pred)
  local out, keep = {}, {}
  for _, id in ipairs(self.order) do
    local st = self.streams[id]
    if pred(id, st) then
      local tail = st:flush()
      if tail ~= "" then out[#out + 1] = st.dialect.flush_event(self, st, tail) end
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

-- Returns (text to send before the event, new payload).
function Sse:payload(payload)
  local fast = anthropic.fast_path(self, payload)
  if fast then return "", fast end
  if payload == "[DONE]" then return self:flush_all(), payload end
  local ok, tree = pcall(json.parse, payload)
  if not ok or tree.t ~= "o" then return "", payload end
  local ty = string_of(payload, tree, "type")
  if ty then return anthropic.event(self, payload, tree, ty) end
  if member(payload, tree, "choices") then return openai.chunk(self, payload, tree) end
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
  if count > 1 then return (matcher.scan(self.map, ev, 1, true)) end
  local before, new = self:payload(sub(ev, data_first, data_last))
  return before .. sub(ev, 1, data_first - 1) .. new .. sub(ev, data_last + 1)
end

-- A long event arrives in many reads. Its bytes wait as a list of reads, joined once when the event is
-- complete; each read is searched for the event's end only from the last 3 bytes before it (the end,
-- "\r\n\r\n" at most, may straddle two reads). Joining and rescanning the pending bytes on every
-- read made one 9 MB event cost 20 s of CPU (issue 12).
function Sse:feed(chunk)
  local parts, tail = self.parts, self.tail
  local a, b = find(tail .. chunk, "\r?\n\r?\n")
  if chunk ~= "" then parts[#parts + 1] = chunk end
  if not a then
    self.tail = sub(tail .. chunk, -3)
    return ""
  end
  local buf = #parts == 1 and parts[1] or concat(parts)
  local base = #buf - #chunk - #tail              -- where tail .. chunk starts in buf, minus one
  a, b = a + base, b + base
  self.nl = byte(buf, a) == 13 and "\r\n" or "\n"
  local out, pos = {}, 1
  while a do
    out[#out + 1] = self:event(sub(buf, pos, b))
    pos = b + 1
    a, b = find(buf, "\r?\n\r?\n", pos)
  end
  local rest = sub(buf, pos)
  self.parts, self.tail = rest == "" and {} or { rest }, sub(rest, -3)
  return concat(out)
end

function Sse:finish()
  local rest = concat(self.parts)
  self.parts, self.tail = {}, ""
  local out = ""
  if rest ~= "" then out = self:event(rest) end
  return self:flush_all() .. out
end

return M
