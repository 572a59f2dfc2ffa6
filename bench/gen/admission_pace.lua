-- admission_pace.lua - wrk script for bench/admission.sh: POSTs real
-- AdmissionReview bodies (from the file named by ADM_BODIES, one JSON
-- document a line, used in turn) to /validate at a paced rate instead of
-- as fast as possible (wrk alone).  Each thread hands out send slots on a
-- fixed schedule (every threads*1000/ADM_RATE ms from its start, clock
-- from clock_gettime through LuaJIT's ffi); a connection about to send
-- waits until the next free slot, so the total stays ADM_RATE requests per
-- second whatever the latency, as long as a connection is free.
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } mm_timespec;
int clock_gettime(int clk, mm_timespec *tp);
]]
local ts = ffi.new("mm_timespec")
local function now_ms()
   ffi.C.clock_gettime(1, ts)   -- CLOCK_MONOTONIC
   return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local bodies = {}
local nthreads = 0

function setup(thread)
   nthreads = nthreads + 1
end

function init(args)
   local f = assert(io.open(os.getenv("ADM_BODIES"), "r"))
   for line in f:lines() do
      if #line > 0 then bodies[#bodies + 1] = line end
   end
   f:close()
   local rate = tonumber(os.getenv("ADM_RATE") or "200")
   local threads = tonumber(os.getenv("ADM_THREADS") or "2")
   interval = 1000 * threads / rate
   t0 = now_ms()
   slot = 0
   n = 0
end

function delay()
   local due = t0 + slot * interval
   slot = slot + 1
   local w = due - now_ms()
   if w < 0 then return 0 end
   return w
end

function request()
   n = n + 1
   local b = bodies[(n % #bodies) + 1]
   return wrk.format("POST", "/validate", {["Content-Type"] = "application/json"}, b)
end

done = function(summary, latency, requests)
   local errs = summary.errors.status + summary.errors.connect + summary.errors.read +
      summary.errors.write + summary.errors.timeout
   io.write(string.format("ADM requests=%d duration_s=%.1f rate=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f errors=%d\n",
      summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
      latency:percentile(50) / 1000, latency:percentile(90) / 1000,
      latency:percentile(99) / 1000, latency.max / 1000, errs))
end
