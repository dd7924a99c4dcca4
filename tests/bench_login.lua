-- Benchmark: log-ins per second, POST /api/token/ with a real user's credentials.
-- Run by tests/bench_login.sh (see there); by hand:
--   wrk -t2 -c4 -d30s -s tests/bench_login.lua http://127.0.0.1:8001/api/token/
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"username": "bench", "password": "Corr3ct-Horse-Battery"}'

done = function(summary, latency, requests)
  local seconds = summary.duration / 1e6
  io.write(string.format("log-ins/s: %.2f  (%d requests in %.1f s, %d not 200, p50 %.0f ms)\n",
    summary.requests / seconds, summary.requests, seconds,
    summary.errors.status, latency:percentile(50) / 1000))
end
