-- restore_filter.lua: HAProxy (2.6+) Lua filter `restore_response`: puts the real identifiers back into
-- the response body, streaming, with this transaction's restore map (`txn.mask.map`, sent by the agent
-- in the request's SPOE ACK). The restore itself is restore.lua and its parts in restore/ (pure Lua,
-- unit-tested with lupa); this file is the only one that knows HAProxy.
--
-- Config lines it needs (haproxy/haproxy.cfg has them):
--   global:   lua-prepend-path <dir>/?.lua        (require("restore.map") -> <dir>/restore/map.lua)
--             lua-load-per-thread <dir>/restore_filter.lua
--   frontend: option http-no-delay
--             filter lua.restore_response      (before any `filter compression`)
--
-- Failure policy. A pseudonym left in a response is not a leak to the provider, but it is not harmless
-- either: a tool call the client runs (`aws s3 cp ... s3://<pseudonym>`) would act on a resource that
-- is not the user's, and could be someone else's. So this filter fails closed on the response too:
--   * a JSON body (application/json, the non-streamed answer) is restored whole before its headers
--     leave: its status is 502 while the restore runs and the upstream's again once it is done. A
--     restore that fails in any way leaves the 502 and an Anthropic-shaped error body.
--   * a stream (SSE) or other body is restored as it flows. A restore error in a call (a bug, a bad
--     map, out of memory, a Lua timeout HAProxy raises as an error) is caught: a stream then gets
--     Anthropic's `event: error` (the one SDKs raise on), the rest of it is dropped and the connection
--     closed at its end; any other body is cut (no final chunk: the client sees an incomplete body).
--   * a call HAProxy aborts without an error (out of memory outside the restore, a Lua timeout taken
--     at a yield point; HAProxy then forwards what is left in the message and logs "Lua filter
--     'restore_response' : ... timeout / out of memory") leaks nothing and is noticed: every call
--     takes its data out of the message before the work and marks itself busy until it has put the
--     result back. The next call (or http_end) that finds the mark ends the response as above.
--   * an upstream that compresses the body anyway (the request side strips Accept-Encoding) cannot be
--     restored: the response becomes a 502 with an Anthropic-shaped error JSON.
--   Every restore failure sets `cause=restore_aborted` in the gateway's log line; those that end
--   with a cut or a closed stream are also counted by HAProxy as response errors of the backend and
--   server (`haproxy_backend_response_errors_total` and `haproxy_server_response_errors_total` on the
--   Prometheus exporter). A Lua error in http_headers (before any byte left) makes HAProxy answer 502.
--   Not covered: a failing Filter:new() or start_analyze() (HAProxy then runs no restore at all); both
--   are kept trivial for that reason.

-- Framing: originals and pseudonyms may differ in length, so a restored body has no Content-Length.
-- On 3.2+ `msg:set_body_len("chunked")` makes HAProxy send it chunked (from 2.9 on, H1 framing no
-- longer follows a removed Content-Length, and the connection would close after every response). On
-- 2.6, which has no set_body_len, deleting Content-Length is enough: the H1 mux then sends it chunked
-- (HTTP/2 and /3 need no length at all). Either way the client connection stays alive.
--
-- State lives in the filter instance only (one per stream); the module keeps nothing per request, and
-- lua-load-per-thread gives every thread its own copy of the module.

local restore = require("restore")

local sub = string.sub

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

local ABORTED_JSON = '{"type":"error","error":{"type":"api_error","message":'
  .. '"aws-mask-gateway: the response could not be restored (the restore was aborted: Lua timeout or '
  .. 'out of memory); it was withheld"}}'

-- What a stream gets when its restore was aborted: Anthropic's error event, the one an SDK raises on.
local ABORTED_EVENT = 'event: error\ndata: {"type":"error","error":{"type":"api_error","message":'
  .. '"aws-mask-gateway: the response could not be restored (the restore was aborted: Lua timeout or '
  .. 'out of memory); the rest of it was withheld"}}\n\n'

local function header(msg, name)
  local h = msg:get_headers()[name]
  return h and h[0]
end

-- Bodies that have no content to restore: 1xx, 204 and 304 have none by definition.
local function bodyless(msg)
  local code = tonumber(msg:get_stline().code) or 0
  return code < 200 or code == 204 or code == 304
end

-- The body's length changes: chunked where HAProxy can be told so (3.2+), else no Content-Length.
local function unknown_length(msg)
  if msg.set_body_len and msg:set_body_len("chunked") then return end
  msg:del_header("content-length")
end

function RestoreFilter:http_headers(txn, msg)
  if self.waiting then return self:restore_held(txn, msg) end
  if not self.map or not msg.channel:is_resp() or bodyless(msg) then return filter.CONTINUE end
  local enc = header(msg, "content-encoding")
  if enc ~= nil and enc:lower() ~= "identity" then
    self.withheld = true
    msg:set_status(502)
    msg:del_header("content-encoding")
    unknown_length(msg)
    msg:set_header("content-type", "application/json")
    return filter.CONTINUE
  end
  local ctype = header(msg, "content-type")
  local mode = restore.mode(ctype)
  self.sse = mode == "sse"
  unknown_length(msg)
  if mode == "json" then                      -- 502 until the restore is done (see restore_held)
    self.status, self.holding = msg:get_stline(), true
    msg:set_status(502)
  end
  self.busy = true                            -- parsing a large map is work that can be aborted too
  local r = restore.new(self.map, ctype)
  self.map = nil
  if getmetatable(r) == nil then error("restore: no restorer") end
  self.restorer = r
  self.busy = nil
  if mode == "json" then
    self.waiting = true
    return self:restore_held(txn, msg)
  end
  return filter.CONTINUE
end

local function restore_body(txn, r)
  local body = txn.sf:res_body()
  if body == nil then return nil end
  r:feed(body)
  return r:finish()
end

-- The upstream's status, once the JSON body is restored or will be restored as it streams.
function RestoreFilter:release(msg)
  local st = self.status
  msg:set_status(tonumber(st.code), st.reason)
  self.holding = nil
end

-- A JSON body is useless to a client before it is complete, so it is restored whole. When it fits in
-- the buffer, that happens here, before the headers leave: the status is 502 from http_headers on,
-- and becomes the upstream's again once the restore is done. So a restore that fails, even one HAProxy
-- aborts (the status then stays 502), gives the client a 502 with an error body, never a 200 with
-- pseudonyms. A body larger than the buffer is restored as it streams, and cut if that fails.
function RestoreFilter:restore_held(txn, msg)
  if not msg:eom() then
    if not msg:is_full() then return filter.WAIT end
    self.waiting = nil
    self:release(msg)
    return filter.CONTINUE
  end
  self.waiting, self.busy = nil, true
  local ok, out = pcall(restore_body, txn, self.restorer)
  if ok and out == nil then                  -- the body could not be fetched here: restore it as it comes
    self.busy = nil
    self:release(msg)
    return filter.CONTINUE
  end
  self.restorer = nil
  if ok then
    self:release(msg)
    self.whole, self.busy = out, nil
  else
    self:aborted(txn, nil, out)
  end
  return filter.CONTINUE
end

-- The data HAProxy offers this call, taken out of the message: from here on, an aborted call leaves
-- nothing behind for HAProxy to forward. Returns nil when the data could not be read (out of memory):
-- it is removed all the same.
local function take(msg)
  local n = msg:input()
  if n == 0 then return "" end
  local ok, data = pcall(msg.body, msg, 0, n)   -- input() also counts the end-of-message block
  if not ok then
    data = nil
  else
    data = data or ""                            -- nil: no data blocks, only the end of the message
    n = #data
  end
  if n > 0 then
    local ok2, ret = pcall(msg.remove, msg, 0, n)
    if not ok2 or ret == nil or ret < 0 then error("restore: could not take the response body") end
  end
  return data
end

-- Put `out` where the data was and let it go; error() if HAProxy refuses, so nothing is lost silently.
local function put(msg, out)
  if out == "" then return end
  local ret = msg:insert(out, 0)
  if ret == nil or ret < #out then error("restore: could not rewrite the response body") end
  msg:forward(#out)
end

-- The restore could not finish: HAProxy aborted the call before this one (timeout, memory: `busy` was
-- still set), or this call's restore raised (HAProxy raises its execution timeout as an error inside
-- the Lua code on some versions and paths). Say so in the log, and end the response visibly.
-- Nothing of the body goes into the message: `why` is a Lua or HAProxy error text, never data.
function RestoreFilter:aborted(txn, msg, why)
  self.busy, self.restorer, self.failed = nil, nil, true
  txn:set_var("txn.cause", "restore_aborted")
  why = "restore aborted: " .. sub(tostring(why or "the previous call was aborted (timeout or memory)"), 1, 200)
  core.Warning(why)
  if self.holding then                       -- the headers say 502 already: send the error body
    self.whole, self.failed = ABORTED_JSON, nil
    return
  end
  if self.sse and msg then
    take(msg)
    put(msg, ABORTED_EVENT)                  -- then the rest is dropped, and http_end closes
    return
  end
  error(why .. "; response cut")
end

local function restore_step(r, data, eom)
  local out = #data > 0 and r:feed(data) or ""
  if eom then out = out .. r:finish() end
  return out
end

function RestoreFilter:http_payload(txn, msg)
  if self.busy then
    self:aborted(txn, msg)                   -- error() for a plain body, an error event for a stream
    if not self.whole then return end        -- ... the error body for a held JSON
  end
  if self.withheld or self.whole then        -- the body is replaced whole: drop it, send ours at the end
    take(msg)
    if msg:eom() then
      put(msg, self.withheld and COMPRESSED_ERROR or self.whole)
      self.whole, self.withheld = "", nil
    end
    return
  end
  if self.failed then                        -- after the error event: the rest of the body is dropped
    take(msg)
    return
  end
  local r = self.restorer
  if not r then return end
  self.busy = true
  local data = take(msg)
  if data == nil then return self:aborted(txn, msg, "could not read the body (out of memory)") end
  local eom = msg:eom()
  local ok, out = pcall(restore_step, r, data, eom)
  if not ok then return self:aborted(txn, msg, out) end
  if eom then self.restorer = nil end
  put(msg, out)
  self.busy = nil
end

-- The end of the response: the last payload call may have been the aborted one. A failed response
-- ends with error(): HAProxy closes the client connection after what was forwarded (the error event
-- and the end of the stream) and counts a response error for the backend and server.
function RestoreFilter:http_end(txn, msg)
  if not msg.channel:is_resp() then return filter.CONTINUE end
  if self.busy then self:aborted(txn, nil) end
  if self.failed then error("restore: response cut after an aborted restore") end
  return filter.CONTINUE
end

core.register_filter("restore_response", RestoreFilter, function(flt, args)
  return flt
end)
