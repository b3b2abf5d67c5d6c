-- wrk script: cycle through pre-built requests and report the result as JSON.
--   wrk -s requests.lua ... http://127.0.0.1:PORT -- requests.txt
-- requests.txt has one request per line: METHOD<TAB>PATH<TAB>BODY (BODY may be empty).
-- Headers come from wrk's -H flags. Each thread starts at a different line.

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

local prepared = {}
local position = 1

function init(args)
  local file = assert(io.open(args[1], "r"))
  for line in file:lines() do
    local method, path, body = line:match("^(%u+)\t([^\t]+)\t(.*)$")
    if method then
      if body == "" then body = nil end
      prepared[#prepared + 1] = wrk.format(method, path, nil, body)
    end
  end
  file:close()
  position = ((thread_number or 1) * 7919) % #prepared + 1
end

function request()
  local r = prepared[position]
  position = position % #prepared + 1
  return r
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "mean": %.1f, "max": %d}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.mean, latency.max))
end
