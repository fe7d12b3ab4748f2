-- The refresh_token grant. Refresh tokens rotate and are single-use, so each thread keeps a pool:
-- request() takes a token out, response() puts back the new one from the JSON body. wrk handles a
-- connection's response before it asks for that connection's next request, so a pool at least as
-- large as the thread's connections never runs dry while every answer is a 200.
--   BENCH_POOL          a file with one refresh token a line
--   BENCH_THREADS       wrk's thread count (the pool is dealt out round-robin)
--   BENCH_AUTHORIZATION the client's Basic credentials
dofile(os.getenv("BENCH_LUA_DIR") .. "/pool.lua")

function request()
  return wrk.format("POST", nil, form_headers, "grant_type=refresh_token&refresh_token=" .. take())
end

function response(status, headers, body)
  local token = status == 200 and body:match('"refresh_token"%s*:%s*"([^"]+)"')
  if token then
    give(token)
  else
    unexpected = unexpected + 1
  end
end
