//! Handing memory freed by a large piece of work back to the system.

/// glibc keeps what is freed inside its arenas for reuse, and the next large
/// piece of work, on another thread, often cannot reuse it: after importing
/// 100,000 people and opening their round the process held ~40 MB of freed
/// memory on top of what it used. Called after such work (an import, a round
/// opened); it costs a few milliseconds, against the minutes of the work.
pub fn give_back() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages of the allocator's arenas
    // to the kernel; it is safe to call from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}
