//! Private notes' keys: each person's notes key, wrapped under their password or a recovery code, and the notes sealed under it.
//!
//! The notes key is 32 random bytes made at the person's first sign-in. The
//! database holds it only wrapped (ChaCha20-Poly1305, from `ring`): under a
//! key derived from their password with argon2id, and, once they ask for
//! one, under a key derived from a recovery code shown to them once. While
//! they are signed in, their session token carries the key sealed under a key
//! derived from the server secret, so the server can use it only for requests
//! that bring that token. Whoever resets the password, or reads the database
//! and the server secret, gets a wrapping that no known password opens.

use argon2::{Algorithm, Argon2, Params, Version};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use rand::RngCore;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305, NONCE_LEN};
use ring::hkdf;

const KEY_LEN: usize = 32;
/// 160 random bits: far beyond guessing, so a fast key derivation suffices.
const RECOVERY_BYTES: usize = 20;

#[derive(Clone, PartialEq, Eq)]
pub struct NotesKey([u8; KEY_LEN]);

impl std::fmt::Debug for NotesKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NotesKey(..)")
    }
}

impl NotesKey {
    pub fn generate() -> Self {
        Self(random())
    }

    /// A private note's text, bound to its author and meeting so a sealed
    /// note copied onto another row does not open.
    pub fn seal_note(&self, author_id: i32, meeting_id: i32, text: &str) -> String {
        seal(&self.0, &note_aad(author_id, meeting_id), text.as_bytes())
    }

    pub fn open_note(&self, author_id: i32, meeting_id: i32, sealed: &str) -> Option<String> {
        let bytes = open(&self.0, &note_aad(author_id, meeting_id), sealed)?;
        String::from_utf8(bytes).ok()
    }

    /// The key under a key derived from `password` and `salt` (hex).
    pub fn wrap_for_password(&self, password: &str, salt: &str) -> String {
        seal(
            &password_key(password, salt),
            b"notes key/password",
            &self.0,
        )
    }

    pub fn unwrap_with_password(wrap: &str, password: &str, salt: &str) -> Option<Self> {
        from_bytes(open(
            &password_key(password, salt),
            b"notes key/password",
            wrap,
        )?)
    }

    pub fn wrap_for_recovery(&self, code: &RecoveryCode) -> String {
        seal(&code.key(), b"notes key/recovery", &self.0)
    }

    pub fn unwrap_with_recovery(wrap: &str, code: &RecoveryCode) -> Option<Self> {
        from_bytes(open(&code.key(), b"notes key/recovery", wrap)?)
    }
}

fn note_aad(author_id: i32, meeting_id: i32) -> Vec<u8> {
    format!("private note/{author_id}/{meeting_id}").into_bytes()
}

fn from_bytes(bytes: Vec<u8>) -> Option<NotesKey> {
    bytes.try_into().ok().map(NotesKey)
}

/// A new random salt for the password-derived wrapping key, hex-encoded.
pub fn new_salt() -> String {
    hex::encode(random::<16>())
}

/// argon2id at the parameters of password hashes (19 MiB, t=2, p=1), with a
/// salt of its own: the stored password hash says nothing about this key.
fn password_key(password: &str, salt: &str) -> [u8; KEY_LEN] {
    let params = Params::new(19 * 1024, 2, 1, Some(KEY_LEN)).expect("argon2 parameters are valid");
    let mut out = [0u8; KEY_LEN];
    super::password::in_turn(|| {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params).hash_password_into(
            password.as_bytes(),
            salt.as_bytes(),
            &mut out,
        )
    })
    .expect("a 32-hex-digit salt and a 32-byte output are within argon2's limits");
    out
}

/// A recovery code: 160 random bits, shown as eight groups of four base32
/// characters. Typed back, case, spaces and dashes do not matter.
#[derive(Clone, PartialEq, Eq)]
pub struct RecoveryCode([u8; RECOVERY_BYTES]);

impl std::fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoveryCode(..)")
    }
}

impl RecoveryCode {
    pub fn generate() -> Self {
        Self(random())
    }

    pub fn parse(typed: &str) -> Option<Self> {
        let compact: String = typed
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let bytes = data_encoding::BASE32_NOPAD
            .decode(compact.as_bytes())
            .ok()?;
        bytes.try_into().ok().map(Self)
    }

    pub fn show(&self) -> String {
        let plain = data_encoding::BASE32_NOPAD.encode(&self.0);
        plain
            .as_bytes()
            .chunks(4)
            .map(|c| std::str::from_utf8(c).expect("base32 is ASCII"))
            .collect::<Vec<_>>()
            .join("-")
    }

    fn key(&self) -> [u8; KEY_LEN] {
        derive(b"pulse recovery code", &self.0, b"notes key wrap v1")
    }
}

/// Seals notes keys into session tokens; derived from the server secret.
#[derive(Clone)]
pub struct SessionSealer([u8; KEY_LEN]);

impl SessionSealer {
    pub fn new(secret: &[u8]) -> Self {
        Self(derive(
            b"pulse sessions",
            secret,
            b"notes key in session v1",
        ))
    }

    /// Bound to the person and the instant the session was issued, so it
    /// cannot be moved into another token.
    pub fn seal(&self, key: &NotesKey, employee_id: i32, issued_at: i64) -> String {
        seal(&self.0, &session_aad(employee_id, issued_at), &key.0)
    }

    pub fn open(&self, sealed: &str, employee_id: i32, issued_at: i64) -> Option<NotesKey> {
        from_bytes(open(&self.0, &session_aad(employee_id, issued_at), sealed)?)
    }
}

fn session_aad(employee_id: i32, issued_at: i64) -> Vec<u8> {
    format!("session/{employee_id}/{issued_at}").into_bytes()
}

struct KeyLen;

impl hkdf::KeyType for KeyLen {
    fn len(&self) -> usize {
        KEY_LEN
    }
}

/// HKDF-SHA256 of high-entropy input: a recovery code or the server secret.
fn derive(salt: &[u8], input: &[u8], info: &[u8]) -> [u8; KEY_LEN] {
    let mut out = [0u8; KEY_LEN];
    hkdf::Salt::new(hkdf::HKDF_SHA256, salt)
        .extract(input)
        .expand(&[info], KeyLen)
        .and_then(|okm| okm.fill(&mut out))
        .expect("32 bytes is a valid HKDF-SHA256 output length");
    out
}

fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes
}

fn aead(key: &[u8; KEY_LEN]) -> LessSafeKey {
    LessSafeKey::new(UnboundKey::new(&CHACHA20_POLY1305, key).expect("a 32-byte key"))
}

/// base64(nonce ‖ ciphertext ‖ tag), with a fresh random 96-bit nonce: keys
/// seal few enough messages that random nonces never repeat in practice.
fn seal(key: &[u8; KEY_LEN], aad: &[u8], plaintext: &[u8]) -> String {
    let nonce: [u8; NONCE_LEN] = random();
    let mut in_out = plaintext.to_vec();
    aead(key)
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad),
            &mut in_out,
        )
        .expect("sealing fails only past 256 GiB");
    B64.encode([nonce.as_slice(), &in_out].concat())
}

fn open(key: &[u8; KEY_LEN], aad: &[u8], sealed: &str) -> Option<Vec<u8>> {
    let bytes = B64.decode(sealed).ok()?;
    if bytes.len() < NONCE_LEN {
        return None;
    }
    let (nonce, rest) = bytes.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
    let mut in_out = rest.to_vec();
    let plain = aead(key)
        .open_in_place(nonce, Aad::from(aad), &mut in_out)
        .ok()?;
    Some(plain.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_note_opens_only_with_its_key_author_and_meeting() {
        let key = NotesKey::generate();
        let sealed = key.seal_note(7, 3, "worried about the reorg");
        assert!(!sealed.contains("reorg"));
        assert_eq!(
            key.open_note(7, 3, &sealed).as_deref(),
            Some("worried about the reorg")
        );
        assert_eq!(key.open_note(8, 3, &sealed), None);
        assert_eq!(key.open_note(7, 4, &sealed), None);
        assert_eq!(NotesKey::generate().open_note(7, 3, &sealed), None);
        // Two seals of one text differ: the nonce is fresh each time.
        assert_ne!(sealed, key.seal_note(7, 3, "worried about the reorg"));
    }

    #[test]
    fn the_password_wrap_opens_with_that_password_only() {
        let key = NotesKey::generate();
        let salt = new_salt();
        let wrap = key.wrap_for_password("correct horse", &salt);
        assert_eq!(
            NotesKey::unwrap_with_password(&wrap, "correct horse", &salt),
            Some(key)
        );
        assert_eq!(
            NotesKey::unwrap_with_password(&wrap, "reset by HR", &salt),
            None
        );
        assert_eq!(
            NotesKey::unwrap_with_password(&wrap, "correct horse", &new_salt()),
            None
        );
        assert_eq!(
            NotesKey::unwrap_with_password("garbage", "correct horse", &salt),
            None
        );
    }

    #[test]
    fn a_recovery_code_reads_back_however_it_is_typed() {
        let key = NotesKey::generate();
        let code = RecoveryCode::generate();
        let shown = code.show();
        assert_eq!(shown.len(), 32 + 7);
        assert_eq!(shown.split('-').count(), 8);
        let wrap = key.wrap_for_recovery(&code);
        let typed = RecoveryCode::parse(&format!(" {} ", shown.to_lowercase().replace('-', " ")))
            .expect("the shown code parses");
        assert_eq!(NotesKey::unwrap_with_recovery(&wrap, &typed), Some(key));
        let other = RecoveryCode::generate();
        assert_eq!(NotesKey::unwrap_with_recovery(&wrap, &other), None);
        assert_eq!(RecoveryCode::parse("not a code"), None);
        assert_eq!(RecoveryCode::parse(&shown[..20]), None);
    }

    #[test]
    fn a_session_seal_is_bound_to_its_person_instant_and_secret() {
        let key = NotesKey::generate();
        let sealer = SessionSealer::new(b"server secret");
        let sealed = sealer.seal(&key, 5, 1_700_000_000);
        assert_eq!(sealer.open(&sealed, 5, 1_700_000_000), Some(key));
        assert_eq!(sealer.open(&sealed, 6, 1_700_000_000), None);
        assert_eq!(sealer.open(&sealed, 5, 1_700_000_001), None);
        assert_eq!(
            SessionSealer::new(b"another secret").open(&sealed, 5, 1_700_000_000),
            None
        );
    }
}
