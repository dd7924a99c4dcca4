-- wrk script of the benchmark (bench/run.py): one request shape per run, given as
-- arguments after "--": METHOD TOKEN [JSON_BODY]. Prints one machine-readable line.

local request_text

function init(args)
  local method, token, body = args[1] or "GET", args[2], args[3]
  local headers = { ["Authorization"] = "Bearer " .. token, ["Accept"] = "application/json" }
  if body ~= nil and body ~= "" then
    headers["Content-Type"] = "application/json"
  else
    body = nil
  end
  request_text = wrk.format(method, nil, headers, body)
end

function request()
  return request_text
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "non_2xx": %d, "connect_errors": %d, '
      .. '"read_errors": %d, "write_errors": %d, "timeouts": %d, '
      .. '"p50_us": %d, "p90_us": %d, "p99_us": %d, "mean_us": %.1f, "max_us": %d}\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean,
    latency.max))
end
