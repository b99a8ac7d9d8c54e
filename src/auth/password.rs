//! Password hashing with argon2id at the OWASP minimum (19 MiB, t=2, p=1).

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::LazyLock;

fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashing cannot fail with valid params")
        .to_string()
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
    argon2()
        .verify_password(password.as_bytes(), &target)
        .is_ok()
        && real
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
}
