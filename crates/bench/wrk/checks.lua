-- wrk script for the HTTP check benchmark: POST /api/v1/checks with subject codes read from
-- CODES (default /tmp/creditloop-http/codes.txt), cycling through scenarios. Prints p50/p99.
local codes = {}
local path = os.getenv("CODES") or "/tmp/creditloop-http/codes.txt"
for line in io.lines(path) do codes[#codes + 1] = line end
local scenarios = { "public_bidding", "government_procurement", "administrative_licence",
  "honours", "fiscal_subsidy", "market_access" }
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  i = i + 1
  local c = codes[(i % #codes) + 1]
  local s = scenarios[(i % #scenarios) + 1]
  return wrk.format(nil, "/api/v1/checks",
    nil, '{"subject":"' .. c .. '","scenario":"' .. s .. '","agency":"11120000MB19674671"}')
end
done = function(summary, latency, requests)
  io.write(string.format("requests %d, errors %d (status %d), %.0f req/s\n",
    summary.requests, summary.errors.status + summary.errors.connect + summary.errors.read
      + summary.errors.write + summary.errors.timeout, summary.errors.status,
    summary.requests / (summary.duration / 1e6)))
  for _, p in ipairs({ 50, 90, 99, 99.9 }) do
    io.write(string.format("p%s %.2f ms\n", p, latency:percentile(p) / 1000))
  end
end
