-- wrk script: POST /api/pages/track, the public page-track write, with one
-- fixed body (no per-request Lua, which would slow wrk down).
--   wrk -t2 -c64 -d10s -s bench/wrk/track.lua http://127.0.0.1:8000
-- Used by bench/wrk/run.sh against the server and the no-op baseline.

wrk.method = "POST"
wrk.path = "/api/pages/track"
wrk.body = '{"app":"shop","user":"ann","page":"/dashboard","timespent":12.5}'
wrk.headers["Content-Type"] = "application/json"

-- wrk prints "Non-2xx or 3xx responses" only when there are some; this
-- line is always there, so errors are visible and easy to parse.
function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format("errors: status>=400: %d, connect %d, read %d, write %d, timeout %d\n",
      e.status, e.connect, e.read, e.write, e.timeout))
end
