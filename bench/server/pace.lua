-- wrk script: a paced GET load at RATE requests per second in total (200),
-- independent of the latency: each thread keeps a schedule (CLOCK_MONOTONIC
-- through LuaJIT's ffi) and delay() holds each request until its slot, so a
-- slow answer does not lower the rate (unless every connection is busy).
-- Env: MAMORI_TOKEN (viewer), API_PATH (a filtered page of events), RATE,
-- THREADS (wrk -t, 2).
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } mm_timespec;
int clock_gettime(int clk, mm_timespec *ts);
]]
local ts = ffi.new("mm_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts)
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local token = os.getenv("MAMORI_TOKEN")
local path = os.getenv("API_PATH") or "/api/v1/events?severity=MEDIUM&limit=100&host=bench-1"
local rate = tonumber(os.getenv("RATE") or "200")
local threads = tonumber(os.getenv("THREADS") or "2")
local interval = 1000 * threads / rate   -- ms between this thread's requests
local next_slot = nil

function delay()
  local now = now_ms()
  if not next_slot or next_slot < now - 1000 then next_slot = now end
  local slot = next_slot
  next_slot = next_slot + interval
  local d = slot - now
  if d < 0 then d = 0 end
  return math.floor(d)
end

function request()
  return wrk.format("GET", path, {["Authorization"] = "Bearer " .. token})
end
