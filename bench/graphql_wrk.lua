-- wrk script: like ../shared/bench/random_param.lua (POST the JSON body in $TPL with PARAM
-- replaced by a random line of $VALUES), plus a count of responses that are not HTTP 200 or
-- carry GraphQL "errors", and one machine-readable summary line with p50/p95/p99.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
if os.getenv("TOKEN") then wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN") end
local f = io.open(os.getenv("TPL"), "r"); local tpl = f:read("*a"); f:close()
local values = {}
for line in io.lines(os.getenv("VALUES")) do values[#values + 1] = line end

local threads = {}
function setup(thread) table.insert(threads, thread) end

function init(args)
  math.randomseed(42)
  failed = 0
end

request = function()
  local v = values[math.random(1, #values)]
  return wrk.format(nil, nil, nil, (tpl:gsub("PARAM", v)))
end

function response(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true) then failed = failed + 1 end
end

function done(summary, latency, requests)
  local failures = 0
  for _, thread in ipairs(threads) do failures = failures + thread:get("failed") end
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d failed=%d socket_errors=%d p50_us=%d p95_us=%d p99_us=%d\n",
    summary.requests, summary.duration, failures,
    e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
