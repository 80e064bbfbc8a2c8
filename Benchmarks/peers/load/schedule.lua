-- wrk: each request books one user's beneficiary into a session (users from users.txt,
-- each used once per thread's share; SESSIONS, a space-separated list of session ids, taken in
-- turn so that no one session's capacity bounds the run).
local users = {}
for line in io.lines(os.getenv("USERS")) do
  local token, ref = line:match("(%S+) (%S+)")
  table.insert(users, {token = token, ref = ref})
end
local sessions, threads, next = {}, {}, 1
for id in (os.getenv("SESSIONS") or ""):gmatch("%S+") do table.insert(sessions, id) end
assert(#sessions > 0, "SESSIONS: no session ids")
booked, refused = 0, 0

function setup(thread)
  thread:set("offset", #threads)
  table.insert(threads, thread)
end

function init(args)
  next = offset + 1
end

function request()
  local u = users[((next - 1) % #users) + 1]
  local session = sessions[math.floor((next - 1) / 2) % #sessions + 1]
  next = next + 2
  local body = '{"dose":1,"session_id":"' .. session .. '","slot":"09:00AM-11:00AM","beneficiaries":["' .. u.ref .. '"]}'
  return wrk.format("POST", "/api/v2/appointment/schedule", {["Authorization"] = "Bearer " .. u.token, ["Content-Type"] = "application/json"}, body)
end

function response(status, headers, body)
  if status == 200 then booked = booked + 1 else refused = refused + 1 end
end

-- Bookings/s counts the 200s only: once every user has booked, further requests are refused
-- (409, already booked), so a run with refusals says so instead of counting them (a run that
-- outlasted its users is the usual cause; the server's log tells the others).
function done(summary, latency, requests)
  local ok, no = 0, 0
  for _, thread in ipairs(threads) do
    ok = ok + thread:get("booked")
    no = no + thread:get("refused")
  end
  io.write(string.format("bookings (200): %d, %.0f/s; refused: %d%s\n", ok, ok / (summary.duration / 1e6), no,
    no > 0 and " (not all 200: more users needed, or see the server's log; requests/s mixes them in)" or ""))
  io.write(string.format("p50 %.2f ms, p99 %.2f ms\n", latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
