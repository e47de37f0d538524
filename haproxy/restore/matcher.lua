-- restore/matcher.lua: finds pseudonyms in bytes and puts the originals in their place; the core that
-- every mode (restore/json.lua, restore/sse.lua, plain text) runs its strings through.
--
--   local out, hold = matcher.scan(map, buf, from, final, at)  -- restore buf[from..]; buf[..from-1]
--                                                  -- is context already sent; `at`: optional sorted
--                                                  -- key positions (map:occurrences) to skip between
--   local st = matcher.stream(map); out = st:feed(piece, final); out = st:flush()
--
-- All matching works on the bytes as sent, never on decoded JSON: an original can replace a pseudonym
-- inside a JSON string, and inside JSON text inside a JSON string (input_json_delta.partial_json).
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
--     and after `%XX` (percent-encoded URLs), `%25XX` (encoded twice) and `$25XX` (the CloudWatch
--     console's `%2F`) a pseudonym restores; the escape is never split or touched. So it does after an
--     ANSI control sequence (ESC `[`, up to 32 parameter bytes `0-9 ; ?`, a final letter; ESC raw or
--     `\u001b`, one or two levels deep), which the masker reads through (agent/engine/presentation.py):
--     coloured terminal output.
--   * Glue the masker reads through (core.yaml ec2-resource-id): `_<p>_` and `__<p>__` (markdown
--     emphasis and strong emphasis: the same run on both sides, a non-word byte outside each), and an
--     EC2-style ID pseudonym (`i-` + 17 hex, 68 random bits) after a host label (`web-<p>`); and any
--     EC2-style ID pseudonym after an opening `_` / `__` and before anything the masker ends such an ID
--     at: 17 hex digits at any byte that is no hex digit (`sg-<p>_ingress`, `i-<p>-old`; upper case: no
--     letter or digit), 8 to 16 at any non-word byte (`sg-<p>-old`).
--   * A pseudonym that is itself JSON-escaped (`i\u002d0..`, `a\/b`) is not restored: Anthropic's and
--     OpenAI's encoders never escape printable ASCII, and decoding would cost every byte of every event.
--
-- Streaming: per text stream (one content block, one OpenAI choice or tool call) only a tail that could
-- still become a match is held back: a proper prefix of a pseudonym that reaches the end of the data, or
-- a whole pseudonym whose following byte (which decides the boundary) has not arrived yet.

local bytes = require("restore.bytes")

local byte, sub, find = string.byte, string.sub, string.find
local concat = table.concat
local max, min = math.max, math.min
local WORD, DIGIT, HEX, ESC = bytes.WORD, bytes.DIGIT, bytes.HEX, bytes.ESC
local BACKSLASH, PERCENT, U, DOT = bytes.BACKSLASH, bytes.PERCENT, bytes.U, bytes.DOT
local DOLLAR, UNDERSCORE, DASH, TWO, FIVE = 36, 95, 45, 50, 53
-- after_escape values: the candidate follows the `_` of `_<p>_` or the `__` of `__<p>__`
local AFTER_UNDERSCORE, AFTER_UNDERSCORE2 = "_", "__"

local RUN_START = "%f[A-Za-z0-9_]"   -- a word byte after a non-word byte (or at the start)
-- ANSI control sequences: ESC [ parameters (at most CSI_MAX of 0-9 ; ?) and a final letter.
local LBRACKET, ESCAPE_BYTE, CSI_MAX = 91, 27, 32
local CSI_PARAM, LETTER = {}, {}
for b = 48, 57 do CSI_PARAM[b] = true end
CSI_PARAM[59] = true; CSI_PARAM[63] = true
for b = 65, 90 do LETTER[b] = true end
for b = 97, 122 do LETTER[b] = true end
-- Bytes of already-sent input kept to judge the next boundary, and how far before a key position the
-- scan resumes when it skips: a candidate is found from the run start that leads to it, at most 5
-- bytes before (`\uXXXX`; `$25XX` and `%25XX` 4, `%XX` 2, `_` 1). After a control sequence, the run is
-- the sequence's last parameters and its final letter, up to 33 bytes before, and the look-back reads
-- `\u001b[` before them: the longer reach (CSI_CTX, CSI_LEAD) only when an ESC is in the data, so an
-- SSE event without one reads no more context than before (measured: 48 bytes on every event cost
-- ~40 % more per event in bench/bench_restore.py).
local CTX, LEAD = 8, 8
local CSI_CTX, CSI_LEAD = 48, 40

local M = {}

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

local function start_ok(buf, s, j, after_escape, glue)
  if after_escape or s == 1 then return true end
  local b = byte(buf, s - 1)
  if WORD[b] then return false end
  if j and j[b] and s > 2 and not (glue and b == DASH) then
    local b2 = byte(buf, s - 2)
    if (b == DOT and DIGIT[b2]) or (b ~= DOT and WORD[b2]) then return false end
  end
  return true
end

-- The masker's right boundary of an EC2-style ID (core.yaml ec2-resource-id): 17 lower-case hex digits
-- end at any byte that is no hex digit (`sg-..._ingress`, `i-...-old`), 17 upper-case ones at any byte
-- that is no letter or digit, 8 to 16 at any non-word byte (`sg-1a2b3c4d-old`); after a host label
-- (`web-<p>`) at no word byte. `tail`: map:ec2_tail(p). Returns true, false or HOLD.
local function ec2_end_ok(buf, s, e, tail, final)
  local b = byte(buf, e + 1)
  if b == nil then return final or HOLD end
  if WORD[b] and s > 2 and byte(buf, s - 1) == DASH and WORD[byte(buf, s - 2)] then return false end
  if tail == "short" then return not WORD[b] end
  if tail == "u17" then return not (WORD[b] and b ~= UNDERSCORE) end
  return not HEX[b]
end

-- After a match at buf[e] opened by `k` underscores: the same run of `k` closing it, then no word
-- byte. Returns true, false or HOLD (a byte it needs has not arrived yet).
local function closing_run_ok(buf, e, k, final)
  for i = 1, k + 1 do
    local b = byte(buf, e + i)
    if b == nil then
      if i <= k then return (not final) and HOLD end
      return final or HOLD
    end
    if i <= k and b ~= UNDERSCORE then return false end
    if i > k and WORD[b] then return false end
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
        local ec2 = map:ec2_tail(p)
        if after_escape == AFTER_UNDERSCORE or after_escape == AFTER_UNDERSCORE2 then
          local ok = closing_run_ok(buf, e, #after_escape, final)
          if ok == false and ec2 then ok = ec2_end_ok(buf, s, e, ec2, final) end
          if ok == HOLD or (ok and pending) then return HOLD end
          if ok then return e, o end
        elseif start_ok(buf, s, j, after_escape, map:label_glue(p)) then
          local ok
          if ec2 then ok = ec2_end_ok(buf, s, e, ec2, final) else ok = end_ok(buf, e, j, final) end
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

-- Where the ANSI control sequence holding the word run at buf[r] ends (the position after its final
-- letter), or nil: the run is no sequence's parameters or final letter.
local function csi_end(buf, r)
  local k = r
  while k > 1 and CSI_PARAM[byte(buf, k - 1)] and r - k < CSI_MAX do k = k - 1 end
  if k < 3 or byte(buf, k - 1) ~= LBRACKET then return nil end
  local b = k - 1
  if byte(buf, b - 1) ~= ESCAPE_BYTE then
    if b < 7 then return nil end
    local e = sub(buf, b - 6, b - 1)
    if e ~= "\\u001b" and e ~= "\\u001B" then return nil end   -- one or two levels deep
  end
  local f = k
  while CSI_PARAM[byte(buf, f) or 0] and f - k < CSI_MAX do f = f + 1 end
  if LETTER[byte(buf, f) or 0] then return f + 1 end
  return nil
end

-- Next candidate at or after pos. Returns position, after_escape, next search position, an
-- alternative position to try when the first one does not match, and `odd`: where the next byte that
-- can start an odd pseudonym is (false: none left), passed back in by the next call. Searching for it
-- again only once the scan has passed it keeps a long text without such a byte linear: a fresh search
-- from every candidate would read to the end of the buffer each time.
local function next_candidate(map, buf, pos, odd)
  local oddpat = map.oddpat
  while true do
    local r = find(buf, RUN_START, pos)
    if oddpat and odd ~= false and (odd == nil or odd < pos) then odd = find(buf, oddpat, pos) or false end
    local o = odd
    if o and (not r or o < r) then
      if not escaped(buf, o) then return o, false, o + 1, nil, odd end
      pos = o + 1
    elseif r then
      local prev = r > 1 and byte(buf, r - 1)
      local csi = (prev == LBRACKET or prev == 59 or prev == 63) and csi_end(buf, r)
      if prev == BACKSLASH then
        local c = byte(buf, r)
        if ESC[c] then return r + 1, true, r + 2, nil, odd end
        if c ~= U then return r, false, r + 1, nil, odd end
        local h1, h2, h3, h4 = byte(buf, r + 1, r + 4)
        if h4 and HEX[h1] and HEX[h2] and HEX[h3] and HEX[h4] then return r + 5, true, r + 6, nil, odd end
        -- `\u` not (yet) followed by 4 hex digits: never a place to cut; the context kept before
        -- the next chunk lets the next scan see the whole escape.
        pos = r + 1
      elseif csi then
        return csi, true, csi + 1, nil, odd   -- after ESC[32m: the run is the sequence's
      elseif prev == DOLLAR and byte(buf, r) == TWO and byte(buf, r + 1) == FIVE
          and HEX[byte(buf, r + 2) or 0] and HEX[byte(buf, r + 3) or 0] then
        return r, false, r + 1, r + 4, odd    -- $252F: the CloudWatch console's %2F
      elseif prev == PERCENT and HEX[byte(buf, r)] and HEX[byte(buf, r + 1) or 0] then
        if byte(buf, r) == TWO and byte(buf, r + 1) == FIVE and HEX[byte(buf, r + 2) or 0]
            and HEX[byte(buf, r + 3) or 0] then
          return r, false, r + 1, r + 4, odd  -- %252F: a %2F percent-encoded again
        end
        return r, false, r + 1, r + 2, odd    -- try the run itself first, then after `%XX`
      elseif byte(buf, r) == UNDERSCORE and WORD[byte(buf, r + 1) or 0] and byte(buf, r + 1) ~= UNDERSCORE then
        return r, false, r + 1, r + 1, odd    -- `_<p>_`: the run itself, then after the `_`
      elseif byte(buf, r) == UNDERSCORE and byte(buf, r + 1) == UNDERSCORE and WORD[byte(buf, r + 2) or 0]
          and byte(buf, r + 2) ~= UNDERSCORE then
        return r, false, r + 1, r + 2, odd    -- `__<p>__`: the same, after the `__`
      else
        return r, false, r + 1, nil, odd
      end
    else
      return nil
    end
  end
end

-- How a candidate after an escape (true) or after the opening `_` of `_<p>_` is judged.
local function alt_kind(buf, alt)
  if byte(buf, alt - 1) ~= UNDERSCORE then return true end
  if byte(buf, alt - 2) == UNDERSCORE then return AFTER_UNDERSCORE2 end
  return AFTER_UNDERSCORE
end

-- Where the scan goes on from `pos` when it knows the key positions `at` (from index `ai` on): a
-- pseudonym can only match where its key occurs, so the candidates more than LEAD bytes before the
-- next key position cannot match and are skipped. Unless the data is final, the last bytes are read
-- whole: there a proper prefix of a pseudonym is held back, and a prefix is no key occurrence.
-- Returns the position (nil: nothing left can match) and the index of the next key position.
local function skip_to(map, at, ai, pos, n, final, lead)
  local q = at[ai]
  while q and q < pos do ai = ai + 1; q = at[ai] end
  local target
  if q then target = q - lead elseif final then return nil, ai else target = n end
  if not final then target = min(target, n - map.maxlen - lead) end
  return max(pos, target), ai
end

-- Restore buf[from..n]; bytes before `from` are context that was already sent. Returns the restored
-- text and the position from which the input must be held back (n + 1 when nothing is held). `at`,
-- when given, lists every position in buf where a key occurs (map:occurrences(buf)), sorted; the
-- result is the same, only the bytes far from all of them are not read.
local function scan(map, buf, from, final, at)
  local n = #buf
  if map.count == 0 or from > n then return sub(buf, from), n + 1 end
  local out, no = {}, 0
  local emitted = from          -- first input byte not yet copied to out
  local ctx, lead = CTX, LEAD
  local lo = max(1, from - CSI_CTX)
  if find(buf, "\27", lo, true) or find(buf, "\\u001", lo, true) then ctx, lead = CSI_CTX, CSI_LEAD end
  local pos = max(1, from - ctx)
  local hold = n + 1
  local s, esc, nextpos, alt, odd
  local ai = 1
  while true do
    if at then
      pos, ai = skip_to(map, at, ai, pos, n, final, lead)
      if pos == nil then break end
    end
    s, esc, nextpos, alt, odd = next_candidate(map, buf, pos, odd)
    if s == nil then break end
    local e, o
    if s >= emitted then
      e, o = match_at(map, buf, s, n, final, esc)
      if e == nil and alt and alt <= n then s = alt; e, o = match_at(map, buf, alt, n, final, alt_kind(buf, alt)) end
    elseif alt and alt >= emitted and alt <= n then
      -- The run starts in the context already sent (`%3A` before a held tail): the position after
      -- the escape is still ours to try.
      s = alt; e, o = match_at(map, buf, alt, n, final, alt_kind(buf, alt))
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

function M.stream(map)
  return setmetatable({ map = map, ctx = "", held = "" }, Stream)
end

function Stream:feed(piece, final)
  local ctx = self.ctx
  local buf = ctx .. self.held .. piece
  local from = #ctx + 1
  local out, hold = scan(self.map, buf, from, final)
  self.held = sub(buf, hold)
  self.ctx = sub(buf, max(1, hold - CSI_CTX), hold - 1)
  return out
end

function Stream:flush()
  if self.held == "" then return "" end
  return self:feed("", true)
end

return M
