-- wrk script: a paced GET load.  Each connection waits DELAY_MS between its
-- requests, so with C connections the rate is C * 1000 / DELAY_MS requests
-- per second (10 connections, 50 ms: 200/s).  Env: MAMORI_TOKEN (viewer),
-- API_PATH (default: a filtered page of events), DELAY_MS (50).
local token = os.getenv("MAMORI_TOKEN")
local path = os.getenv("API_PATH") or "/api/v1/events?severity=MEDIUM&limit=100&host=bench-1"
local d = tonumber(os.getenv("DELAY_MS") or "50")

function delay()
  return d
end

function request()
  return wrk.format("GET", path, {["Authorization"] = "Bearer " .. token})
end
