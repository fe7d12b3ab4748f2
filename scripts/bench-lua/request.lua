-- One fixed request, described by the environment:
--   BENCH_METHOD (GET), BENCH_BODY (a form body; sets the form content type),
--   BENCH_AUTHORIZATION (the Authorization header's value), BENCH_LUA_DIR (this directory).
dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")

wrk.method = os.getenv("BENCH_METHOD") or "GET"
local body = os.getenv("BENCH_BODY") or ""
if body ~= "" then
  wrk.body = body
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end
local authorization = os.getenv("BENCH_AUTHORIZATION") or ""
if authorization ~= "" then
  wrk.headers["Authorization"] = authorization
end
