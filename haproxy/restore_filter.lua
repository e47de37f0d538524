-- PLACEHOLDER (to be replaced by the real restore filter): registers "restore_response" as a no-op.
local F = { id = "restore_response", flags = filter.FLT_CFG_FL_HTX }
F.__index = F
function F:new() return setmetatable({}, F) end
core.register_filter("restore_response", F, function(f, args) return f end)
