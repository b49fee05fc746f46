-- wrk script: POST /api/sessions/start, a session start with a user token
-- (every request starts a new session of user ann). The token comes from
-- the environment variable TOKEN, a token for sub ann, app shop, e.g.
--   TOKEN=$(bin/sessionserver token -jwt-secret bench-secret -sub ann -app shop) \
--     wrk -t2 -c64 -d10s -s bench/wrk/start.lua http://127.0.0.1:8000
-- Used by bench/wrk/run.sh against the server and the no-op baseline.

local token = os.getenv("TOKEN")
if token == nil or token == "" then
   io.stderr:write("start.lua: set TOKEN to a token for user ann, app shop\n")
   os.exit(2)
end

wrk.method = "POST"
wrk.path = "/api/sessions/start"
wrk.body = '{"app":"shop","user":"ann"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token

-- wrk prints "Non-2xx or 3xx responses" only when there are some; this
-- line is always there, so errors are visible and easy to parse.
function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format("errors: status>=400: %d, connect %d, read %d, write %d, timeout %d\n",
      e.status, e.connect, e.read, e.write, e.timeout))
end
