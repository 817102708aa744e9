-- wrk script of bench/warm.sh: POST a small JSON payload (plus a bearer token when BENCH_TOKEN is set),
-- check each answer contains BENCH_EXPECT (a plain substring), and print one machine-readable RESULT line.
wrk.method = "POST"
wrk.body = os.getenv("BENCH_PAYLOAD") or '{"name":"bench"}'
wrk.headers["Content-Type"] = "application/json"
local token = os.getenv("BENCH_TOKEN")
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end
local expect = os.getenv("BENCH_EXPECT") or ""

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

bad = 0
function response(status, headers, body)
  if status ~= 200 or (expect ~= "" and not string.find(body, expect, 1, true)) then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local badTotal = 0
  for _, t in ipairs(threads) do
    badTotal = badTotal + (t:get("bad") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d mean_us=%.1f " ..
    "err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d bad_answers=%d\n",
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout, badTotal))
end
