-- Shared by the scenario scripts of scripts/bench: one machine-readable summary line at the end.
-- wrk counts a status of 400 or more in errors.status; socket errors (connect, read, write,
-- timeout) are counted apart. `counted_threads` lets a script add what its threads counted.

local counted_threads = {}

function setup(thread)
  counted_threads[#counted_threads + 1] = thread
  if thread_setup then
    thread_setup(thread, #counted_threads)
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  local other = 0
  for _, thread in ipairs(counted_threads) do
    other = other + (thread:get("unexpected") or 0)
  end
  local seconds = summary.duration / 1e6
  io.write(string.format(
    "BENCH requests=%d seconds=%.3f rps=%.1f p50_us=%d p99_us=%d max_us=%d non2xx=%d socket_errors=%d unexpected=%d\n",
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50), latency:percentile(99), latency.max,
    e.status, e.connect + e.read + e.write + e.timeout, other))
end
