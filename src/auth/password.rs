//! Password hashing with argon2id at the OWASP minimum (19 MiB, t=2, p=1).

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::LazyLock;

/// How many argon2 computations the process runs at once: one per core.
/// Each holds 19 MiB while it runs; four logins at once took the serving
/// process from 34 MB to 112 MB, and on two cores they finish no sooner for
/// running together. The others wait their turn, on their blocking thread.
static TURNS: LazyLock<usize> =
    LazyLock::new(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
static ARGON2: crate::turns::Turns = crate::turns::Turns::new();

/// Runs `f`, an argon2 computation, in its turn.
pub(crate) fn in_turn<T>(f: impl FnOnce() -> T) -> T {
    let _turn = ARGON2.take(*TURNS);
    f()
}

fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    in_turn(|| {
        argon2()
            .hash_password(password.as_bytes(), &salt)
            .expect("argon2 hashing cannot fail with valid params")
            .to_string()
    })
}

/// A hash of nothing anyone knows, checked when the account does not exist
/// or has no password, so both cases take as long as a wrong password.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| hash("pulse-no-such-account"));

/// True only when `stored` is a valid hash of `password`. Slow on purpose: call
/// from a blocking thread.
pub fn verify(password: &str, stored: Option<&str>) -> bool {
    let (target, real) = match stored.and_then(|s| PasswordHash::new(s).ok()) {
        Some(h) => (h, true),
        None => (
            PasswordHash::new(&DUMMY_HASH).expect("dummy hash parses"),
            false,
        ),
    };
    in_turn(|| {
        argon2()
            .verify_password(password.as_bytes(), &target)
            .is_ok()
    }) && real
}

#[cfg(test)]
mod tests {
    #[test]
    fn hashes_verify_and_use_argon2id_parameters() {
        let h = super::hash("correct horse battery");
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(super::verify("correct horse battery", Some(&h)));
        assert!(!super::verify("wrong horse battery", Some(&h)));
        assert!(!super::verify("pulse-no-such-account", None));
        assert!(!super::verify("x", Some("not a hash")));
    }

    /// However many threads hash at once, no more than `TURNS` run together.
    #[test]
    fn no_more_argon2_runs_at_once_than_turns() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NOW: AtomicUsize = AtomicUsize::new(0);
        static MOST: AtomicUsize = AtomicUsize::new(0);
        let threads: Vec<_> = (0..*super::TURNS + 4)
            .map(|_| {
                std::thread::spawn(|| {
                    super::in_turn(|| {
                        let n = NOW.fetch_add(1, Ordering::SeqCst) + 1;
                        MOST.fetch_max(n, Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(20));
                        NOW.fetch_sub(1, Ordering::SeqCst);
                    })
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(MOST.load(Ordering::SeqCst), *super::TURNS);
    }
}
