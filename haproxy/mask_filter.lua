-- Request-side Lua filter "mask_request": replaces the request body with the agent's masked body
-- (txn.mask.body). It is deliberately trivial; the agent does the thinking. In a HAProxy Lua filter
-- only error() fails closed (a return value is ignored, an OOM forwards the original), so every
-- anomaly raises. Hop 2 (fe_verify) independently refuses any body whose hash differs.

local MaskRequest = {}
MaskRequest.id = "mask_request"
MaskRequest.flags = filter.FLT_CFG_FL_HTX
MaskRequest.__index = MaskRequest

function MaskRequest:new()
    return setmetatable({ swapped = false }, MaskRequest)
end

function MaskRequest:start_analyze(txn, chn)
    if not chn:is_resp() then
        filter.register_data_filter(self, chn)
    end
end

-- Framing of the outgoing request. haproxy.cfg sets Content-Length to the masked body's length on
-- every request that has (or may have) a body, and removes Transfer-Encoding: a Content-Length
-- message cannot carry trailers (headers after the body, never masked), so they are dropped. HAProxy
-- 2.6 frames an outgoing HTTP/1 message by that header; from 2.9 on it no longer follows rewritten
-- Content-Length/Transfer-Encoding headers (a chunked request would leave with "content-length: 0",
-- an HTTP/2 one chunked, with its trailers), so where HAProxy has HTTPMessage.set_body_len the length
-- is set on the message itself. It runs once the rules (and the agent) are done, before any byte of
-- the body is forwarded.
function MaskRequest:http_headers(txn, msg)
    if msg:is_resp() or msg.set_body_len == nil then return end
    local masked = txn:get_var("txn.mask.body")
    if masked == nil or msg:get_headers()["content-length"] == nil then return end
    msg:del_header("content-length")         -- set_body_len adds its own
    if not msg:set_body_len(#masked) then error("mask_request: cannot set the request's body length") end
end

function MaskRequest:http_payload(txn, msg)
    local input = msg:input()
    if self.swapped then
        -- The body was complete when we swapped it: anything more is not masked.
        if input > 0 then error("mask_request: data after the masked body") end
        return
    end
    local masked = txn:get_var("txn.mask.body")
    if masked == nil then
        -- No masked body means the rules decided this request has no body to mask.
        if input > 0 then error("mask_request: body present but no masked body") end
        return
    end
    if not msg:eom() then error("mask_request: body not complete in the buffer") end
    local n = msg:set(masked, 0, input)
    if n ~= #masked then error("mask_request: masked body does not fit the buffer") end
    self.swapped = true
end

function MaskRequest:http_end(txn, msg)
    if msg:is_resp() then return end
    if txn:get_var("txn.mask.body") ~= nil and not self.swapped then
        error("mask_request: message ended without the masked body being swapped in")
    end
end

core.register_filter("mask_request", MaskRequest, function(f, args) return f end)
