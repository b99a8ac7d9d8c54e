//! One-time secrets: random tokens for links and sessions, stored only as their SHA-256.

use rand::RngCore;
use sha2::{Digest, Sha256};

/// 256 random bits, hex-encoded: session secrets and one-time tokens.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

pub fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}
