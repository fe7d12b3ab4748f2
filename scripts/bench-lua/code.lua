-- The authorization_code grant: each code is redeemed once, so the pool must hold at least as many
-- codes as the run makes requests (scripts/bench mints them through the real flow beforehand).
--   BENCH_POOL          a file with one authorization code a line
--   BENCH_THREADS       wrk's thread count
--   BENCH_AUTHORIZATION the client's Basic credentials
--   BENCH_VERIFIER      the PKCE verifier every code's challenge was made from
dofile(os.getenv("BENCH_LUA_DIR") .. "/pool.lua")

local verifier = os.getenv("BENCH_VERIFIER")

function request()
  return wrk.format("POST", nil, form_headers,
    "grant_type=authorization_code&code_verifier=" .. verifier .. "&code=" .. take())
end

function response(status, headers, body)
  if status ~= 200 or not body:find('"id_token"', 1, true) then
    unexpected = unexpected + 1
  end
end
