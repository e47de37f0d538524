-- restore.lua: put the real AWS identifiers back into an LLM API response (pure Lua 5.3/5.4, no HAProxy
-- API). The facade over the parts in restore/:
--
--   restore/bytes.lua          byte classes
--   restore/map.lua            the restore map, parsed and indexed once per response
--   restore/matcher.lua        the boundary rule, scanning, streams with a held tail
--   restore/json.lua           JSON span reader, string edits, the JSON and NDJSON body modes
--   restore/sse.lua            text/event-stream framing and per-channel streams, with its dialects
--   restore/sse_anthropic.lua  Anthropic Messages events
--   restore/sse_openai.lua     OpenAI chat.completion.chunk events
--
-- The agent hands HAProxy a restore map (`pseudonym TAB original LF` lines, agent/engine/restore_map.py) with
-- the request; restore_filter.lua (the only part that knows HAProxy) feeds the response body through
-- an object made here:
--
--   local r = restore.new(map_string, content_type)
--   out = r:feed(chunk)   -- any split of the body, returns what may be sent now
--   out = r:finish()      -- at end of body: whatever was still held back
--
-- Modes, by Content-Type: "sse" (text/event-stream: Anthropic Messages and OpenAI chat.completion.chunk
-- streams), "json" (application/json, +json: whole body restored at finish), "ndjson" (one JSON value per
-- line), "text" (other textual types: plain streaming restore), "pass" (binary: untouched).
--
-- The modules are found through package.path: haproxy.cfg's `lua-prepend-path <dir>/?.lua` makes
-- require("restore.map") load <dir>/restore/map.lua, in every per-thread Lua state.

local map_index = require("restore.map")
local matcher = require("restore.matcher")
local json = require("restore.json")
local sse = require("restore.sse")

local M = {}

M.parse_map = map_index.parse
M.scan = matcher.scan
M.restore_json = json.restore

local Text = {}
Text.__index = Text
function Text:feed(chunk) return self.st:feed(chunk, false) end
function Text:finish() return self.st:feed("", true) end

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
  if mode == "sse" then return sse.new(map) end
  if mode == "json" then return json.body(map) end
  if mode == "ndjson" then return json.lines(map) end
  if mode == "text" then return setmetatable({ st = matcher.stream(map) }, Text) end
  return setmetatable({}, Pass)
end

return M
