-- restore_filter.lua: HAProxy (2.6+) Lua filter `restore_response`: puts the real identifiers back into
-- the response body, streaming, with this transaction's restore map (`txn.mask.map`, sent by the agent
-- in the request's SPOE ACK). The restore itself is restore.lua (pure Lua, unit-tested with lupa).
--
-- Config lines it needs (haproxy/haproxy.cfg has them):
--   global:   lua-prepend-path <dir>/?.lua
--             lua-load-per-thread <dir>/restore_filter.lua
--   frontend: option http-no-delay
--             filter lua.restore_response      (before any `filter compression`)
--
-- Failure policy. A pseudonym left in a response is not a leak to the provider, but it is not harmless
-- either: a tool call the client runs (`aws s3 cp ... s3://<pseudonym>`) would act on a resource that
-- is not the user's, and could be someone else's. So this filter fails closed on the response too:
--   * any Lua error (bad map, bug, a failed msg:set) is raised with error(): HAProxy then answers 502
--     if nothing was sent yet, or cuts the connection mid-stream; unrestored bytes never go out.
--   * an upstream that compresses the body anyway (the request side strips Accept-Encoding) cannot be
--     restored: the response becomes a 502 with an Anthropic-shaped error JSON.
-- Known hole, from HAProxy itself: a Lua timeout or out-of-memory inside a filter callback makes
-- HAProxy forward the data as it is. restore.lua keeps per-call work small (a few µs per SSE event)
-- to stay far from `tune.lua.session-timeout`.
--
-- State lives in the filter instance only (one per stream); the module keeps nothing per request, and
-- lua-load-per-thread gives every thread its own copy of the module.

local restore = require("restore")

local RestoreFilter = {}
RestoreFilter.id = "restore_response"
RestoreFilter.flags = filter.FLT_CFG_FL_HTX
RestoreFilter.__index = RestoreFilter

local COMPRESSED_ERROR = '{"type":"error","error":{"type":"api_error","message":'
  .. '"gateway: the upstream sent a compressed response (Content-Encoding), so identifiers in it '
  .. 'could not be restored; the response was withheld"}}'

-- Kept trivial on purpose: HAProxy forwards the body untouched when new() fails.
function RestoreFilter:new()
  return setmetatable({}, RestoreFilter)
end

function RestoreFilter:start_analyze(txn, chn)
  if not chn:is_resp() then return end
  local map = txn:get_var("txn.mask.map")
  if map ~= nil and map ~= "" then
    self.map = map
    filter.register_data_filter(self, chn)
  end
end

local function header(msg, name)
  local h = msg:get_headers()[name]
  return h and h[0]
end

-- Bodies that have no content to restore: 1xx, 204 and 304 have none by definition.
local function bodyless(msg)
  local code = tonumber(msg:get_stline().code) or 0
  return code < 200 or code == 204 or code == 304
end

function RestoreFilter:http_headers(txn, msg)
  if not self.map or not msg.channel:is_resp() or bodyless(msg) then return filter.CONTINUE end
  local enc = header(msg, "content-encoding")
  if enc ~= nil and enc:lower() ~= "identity" then
    self.withheld = true
    msg:set_status(502)
    msg:del_header("content-encoding")
    msg:del_header("content-length")
    msg:set_header("content-type", "application/json")
    return filter.CONTINUE
  end
  local r = restore.new(self.map, header(msg, "content-type"))
  self.map = nil
  if getmetatable(r) == nil then error("restore: no restorer") end
  self.restorer = r
  -- Originals and pseudonyms may differ in length; 2.6 has no set_body_len, and without
  -- Content-Length the H1 mux sends the response chunked (HTTP/2 and /3 need no length at all).
  msg:del_header("content-length")
  return filter.CONTINUE
end

-- Replace the `len` incoming bytes with `out`; error() if HAProxy refuses, so nothing unrestored leaks.
local function replace(msg, len, out)
  local ret
  if out == "" then
    ret = (len == 0) and 0 or msg:remove(0, len)
  else
    ret = msg:set(out, 0, len)
  end
  if ret == nil or ret < 0 then error("restore: could not rewrite the response body") end
  msg:forward(#out)
end

function RestoreFilter:http_payload(txn, msg)
  if self.withheld then
    local data = msg:input() > 0 and msg:body(0, msg:input()) or ""
    replace(msg, #data, msg:eom() and COMPRESSED_ERROR or "")
    return
  end
  local r = self.restorer
  if not r then return end
  -- input() also counts non-data blocks (the end-of-message one); body() returns the data only.
  local data = msg:input() > 0 and msg:body(0, msg:input()) or ""
  local len = #data
  local out = len > 0 and r:feed(data) or ""
  if msg:eom() then
    out = out .. r:finish()
    self.restorer = nil
  end
  replace(msg, len, out)
end

core.register_filter("restore_response", RestoreFilter, function(flt, args)
  return flt
end)
