-- wrk script for bench/overhead: POST the JSON body in the file $BENCH_BODY,
-- check that every answer is 200 and contains $BENCH_EXPECT, print a summary.
-- $BENCH_KEY (default sk-bench) is sent as the Bearer key.
local f = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("BENCH_KEY") or "sk-bench")
local expect = os.getenv("BENCH_EXPECT")

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  bad = 0
  sample = ""
end

function response(status, headers, body)
  if status ~= 200 or not string.find(body, expect, 1, true) then
    bad = bad + 1
    if sample == "" then
      sample = status .. " " .. string.sub(body, 1, 400)
    end
  end
end

function done(summary, latency, requests)
  local nbad, first = 0, ""
  for _, t in ipairs(threads) do
    nbad = nbad + t:get("bad")
    local s = t:get("sample")
    if first == "" and s ~= "" then first = s end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, '
      .. '"mean_us": %.1f, "max_us": %d, "connect": %d, "read": %d, "write": %d, '
      .. '"status": %d, "timeout": %d, "bad": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.mean, latency.max, e.connect, e.read, e.write,
    e.status, e.timeout, nbad))
  if first ~= "" then
    io.write("BENCH_SAMPLE " .. string.gsub(first, "\n", "\\n") .. "\n")
  end
end
