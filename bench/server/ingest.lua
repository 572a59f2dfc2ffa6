-- wrk script: POST /api/v1/events batches of BATCH events with fresh ids
-- (thread number, request counter, index), so that every event is new.
-- Env: MAMORI_TOKEN (an agent token of host bench-1), BATCH (500), RUN (a
-- nonce per run).
local batch = tonumber(os.getenv("BATCH") or "500")
local token = os.getenv("MAMORI_TOKEN")
local run = os.getenv("RUN") or "0"
local counter = 0
local threads = {}

-- each thread's state gets its own number: ids never collide between threads
function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function request()
  counter = counter + 1
  local parts = {}
  local t = run .. "-" .. tostring(tid)
  for i = 1, batch do
    parts[i] = string.format(
      '{"id":"w%s-%d-%d","rule":"Terminal shell in container","priority":"Warning",' ..
      '"output":"A shell was spawned in a container %d","time":1765000000,' ..
      '"output_fields":{"container.id":"3ad7e1f0c2b1","container.image.repository":"nginx",' ..
      '"container.image.tag":"1.25","proc.cmdline":"sh -c id"}}', t, counter, i, i)
  end
  local body = '{"host_id":"bench-1","events":[' .. table.concat(parts, ",") .. ']}'
  return wrk.format("POST", "/api/v1/events",
    {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}, body)
end
