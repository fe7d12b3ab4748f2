//! How the services' memory allocator is set up.

/// glibc gives each thread that contends for the heap an arena of its own, up to eight per CPU,
/// and memory freed in an arena stays with it. The services run a few dozen threads (async
/// workers, one blocking thread per pooled connection, bcrypt), so after a burst of writes most
/// of their resident memory was free space spread over sixteen arenas (`malloc_stats()`: 23 MB
/// held, 5 MB in use). One arena per CPU is enough: no more threads than CPUs run, and so allocate,
/// at once. `MALLOC_ARENA_MAX`, when the operator sets it, wins.
pub fn limit_allocator_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        let arenas = std::thread::available_parallelism().map_or(2, |n| n.get());
        let arenas = i32::try_from(arenas).unwrap_or(i32::MAX);
        // SAFETY: mallopt only sets a tunable; it is called before the service starts threads.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, arenas);
        }
    }
}
