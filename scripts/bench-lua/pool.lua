-- A pool of single-use credentials (refresh tokens, authorization codes), one a line in the file
-- BENCH_POOL, dealt out round-robin to wrk's BENCH_THREADS threads. A script that loads this file
-- takes a value with take() and may put one back with give().
dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")

local all_values

function thread_setup(thread, index)
  if not all_values then
    all_values = {}
    for line in io.lines(os.getenv("BENCH_POOL")) do
      if line ~= "" then
        all_values[#all_values + 1] = line
      end
    end
  end
  local threads = tonumber(os.getenv("BENCH_THREADS"))
  local mine = {}
  for i = index, #all_values, threads do
    mine[#mine + 1] = all_values[i]
  end
  thread:set("values", table.concat(mine, "\n"))
  thread:set("unexpected", 0)
end

local pool = {}

function init(args)
  for value in string.gmatch(values, "[^\n]+") do
    pool[#pool + 1] = value
  end
end

-- An empty pool (only after failures, or a pool too small for the run) gives a value that cannot
-- work, so it shows as a 400.
function take()
  return table.remove(pool) or "pool-exhausted"
end

function give(value)
  pool[#pool + 1] = value
end

form_headers = {
  ["Content-Type"] = "application/x-www-form-urlencoded",
  ["Authorization"] = os.getenv("BENCH_AUTHORIZATION"),
}
