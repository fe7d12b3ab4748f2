-- The refresh_token grant. Refresh tokens rotate and are single-use, so each thread keeps a pool:
-- request() takes a token out, response() puts back the new one from the JSON body. wrk handles a
-- connection's response before it asks for that connection's next request, so a pool at least as
-- large as the thread's connections never runs dry while every answer is a 200.
--   BENCH_REFRESH_POOL  a file with one refresh token a line
--   BENCH_THREADS       wrk's thread count (the pool is dealt out round-robin)
--   BENCH_AUTHORIZATION the client's Basic credentials
dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")

local all_tokens

function thread_setup(thread, index)
  if not all_tokens then
    all_tokens = {}
    for line in io.lines(os.getenv("BENCH_REFRESH_POOL")) do
      if line ~= "" then
        all_tokens[#all_tokens + 1] = line
      end
    end
  end
  local threads = tonumber(os.getenv("BENCH_THREADS"))
  local mine = {}
  for i = index, #all_tokens, threads do
    mine[#mine + 1] = all_tokens[i]
  end
  thread:set("tokens", table.concat(mine, "\n"))
  thread:set("unexpected", 0)
end

local pool = {}
local headers = {
  ["Content-Type"] = "application/x-www-form-urlencoded",
  ["Authorization"] = os.getenv("BENCH_AUTHORIZATION"),
}

function init(args)
  for token in string.gmatch(tokens, "[^\n]+") do
    pool[#pool + 1] = token
  end
end

function request()
  -- An empty pool (only after failures) sends a token that cannot work, so it shows as a 400.
  local token = table.remove(pool) or "pool-exhausted"
  return wrk.format("POST", nil, headers, "grant_type=refresh_token&refresh_token=" .. token)
end

function response(status, headers, body)
  local token = status == 200 and body:match('"refresh_token"%s*:%s*"([^"]+)"')
  if token then
    pool[#pool + 1] = token
  else
    unexpected = unexpected + 1
  end
end
