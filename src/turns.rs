//! A first-come, first-served queue that lets a given number of holders in
//! at once: the process's SQLite writers (one at a time) and its argon2
//! computations (one per core) wait their turn in it.

use std::sync::{Condvar, Mutex};

/// Tickets handed out, and tickets given back: ticket `t` is let in once
/// `t < returned + at_once`, so the holders are let in in arrival order and
/// never more than `at_once` of them together.
pub struct Turns {
    tickets: Mutex<Tickets>,
    returned_one: Condvar,
}

struct Tickets {
    next: u64,
    returned: u64,
}

/// A turn being held; dropping it (also while a panic unwinds) gives it back.
pub struct Turn<'a>(&'a Turns);

impl Turns {
    pub const fn new() -> Self {
        Self {
            tickets: Mutex::new(Tickets {
                next: 0,
                returned: 0,
            }),
            returned_one: Condvar::new(),
        }
    }

    /// Waits until this caller's turn comes, with `at_once` holders at most.
    pub fn take(&self, at_once: usize) -> Turn<'_> {
        // Turns are given back as their holders unwind, so a poisoned lock
        // still holds true counts.
        let mut tickets = self.tickets.lock().unwrap_or_else(|e| e.into_inner());
        let mine = tickets.next;
        tickets.next += 1;
        while mine >= tickets.returned + at_once as u64 {
            tickets = self
                .returned_one
                .wait(tickets)
                .unwrap_or_else(|e| e.into_inner());
        }
        Turn(self)
    }
}

impl Default for Turns {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        self.0
            .tickets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .returned += 1;
        self.0.returned_one.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// However many threads ask at once, no more than `at_once` hold a turn together.
    #[test]
    fn no_more_hold_a_turn_at_once_than_allowed() {
        for at_once in [1, 3] {
            let turns = Turns::new();
            let (now, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
            std::thread::scope(|s| {
                for _ in 0..at_once + 4 {
                    s.spawn(|| {
                        let _turn = turns.take(at_once);
                        let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(n, Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(20));
                        now.fetch_sub(1, Ordering::SeqCst);
                    });
                }
            });
            assert_eq!(most.load(Ordering::SeqCst), at_once);
        }
    }
}
