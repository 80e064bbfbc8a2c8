-- wrk: each request books one user's beneficiary into a session (users from users.txt,
-- each used once per thread's share; session and slot from the environment).
local users = {}
for line in io.lines(os.getenv("USERS")) do
  local token, ref = line:match("(%S+) (%S+)")
  table.insert(users, {token = token, ref = ref})
end
local session, threads, next = os.getenv("SESSION"), 0, 1

function setup(thread)
  thread:set("offset", threads)
  threads = threads + 1
end

function init(args)
  next = offset + 1
end

function request()
  local u = users[((next - 1) % #users) + 1]
  next = next + 2
  local body = '{"dose":1,"session_id":"' .. session .. '","slot":"09:00AM-11:00AM","beneficiaries":["' .. u.ref .. '"]}'
  return wrk.format("POST", "/api/v2/appointment/schedule", {["Authorization"] = "Bearer " .. u.token, ["Content-Type"] = "application/json"}, body)
end

local codes = {}
function response(status, headers, body)
  codes[status] = (codes[status] or 0) + 1
end

function done(summary, latency, requests)
  io.write(string.format("p50 %.2f ms, p99 %.2f ms\n", latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
