//! Session tokens: HS256 JWTs with the algorithm pinned and an 8-hour life.

use crate::auth::notes_key::{NotesKey, SessionSealer};
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

pub const SESSION_HOURS: i64 = 8;
pub const SESSION_COOKIE: &str = "pulse_session";

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    /// The employee id, as a string per RFC 7519.
    pub sub: String,
    pub iat: i64,
    pub exp: i64,
    /// The person's notes key, sealed under a key of the server's
    /// (src/auth/notes_key.rs); absent when the sign-in could not unlock it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nk: Option<String>,
    /// Signed in through the OpenID provider: no password was typed, so the
    /// notes key waits for the person's notes passphrase.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sso: bool,
}

/// What a valid token says.
pub struct Verified {
    pub employee_id: i32,
    /// Unix seconds.
    pub issued_at: i64,
    pub notes_key: Option<NotesKey>,
    pub sso: bool,
}

#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// Derived from the secret, so page tags can never pass for a JWT signature.
    tags: ring::hmac::Key,
    notes: SessionSealer,
}

impl JwtKeys {
    pub fn new(secret: &[u8]) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            tags: {
                let root = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
                let derived = ring::hmac::sign(&root, b"pulse page tags v1");
                ring::hmac::Key::new(ring::hmac::HMAC_SHA256, derived.as_ref())
            },
            notes: SessionSealer::new(secret),
        }
    }

    /// A keyed tag of `data` for one `purpose` (the CSRF token of a session,
    /// the signature of a flash message), hex-encoded.
    pub fn tag(&self, purpose: &str, data: &str) -> String {
        hex::encode(ring::hmac::sign(&self.tags, &tag_input(purpose, data)))
    }

    /// Whether `tag` is `tag(purpose, data)`, compared in constant time.
    pub fn check_tag(&self, purpose: &str, data: &str, tag: &str) -> bool {
        hex::decode(tag)
            .is_ok_and(|t| ring::hmac::verify(&self.tags, &tag_input(purpose, data), &t).is_ok())
    }

    /// A session for `employee_id`, carrying their notes key when the sign-in unlocked it.
    pub fn issue(
        &self,
        employee_id: i32,
        now: DateTime<Utc>,
        notes_key: Option<&NotesKey>,
    ) -> (String, DateTime<Utc>) {
        self.issue_as(employee_id, now, notes_key, false)
    }

    /// A session from a sign-in through the OpenID provider (`sso`), which
    /// brings no notes key until the person gives their notes passphrase.
    pub fn issue_as(
        &self,
        employee_id: i32,
        now: DateTime<Utc>,
        notes_key: Option<&NotesKey>,
        sso: bool,
    ) -> (String, DateTime<Utc>) {
        let expires_at = now + Duration::hours(SESSION_HOURS);
        let iat = now.timestamp();
        let claims = Claims {
            sub: employee_id.to_string(),
            iat,
            exp: expires_at.timestamp(),
            nk: notes_key.map(|k| self.notes.seal(k, employee_id, iat)),
            sso,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 encoding cannot fail");
        (token, expires_at)
    }

    /// The employee id of a valid token and when it was issued (Unix
    /// seconds). Only HS256 is accepted, so a token claiming `alg: none` or an
    /// asymmetric algorithm is refused.
    pub fn verify(&self, token: &str) -> Option<Verified> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation).ok()?;
        // A token may not outlive the session length, whatever it claims.
        if data.claims.exp - data.claims.iat > SESSION_HOURS * 3600 {
            return None;
        }
        let employee_id = data.claims.sub.parse().ok()?;
        let issued_at = data.claims.iat;
        let notes_key =
            (data.claims.nk.as_deref()).and_then(|nk| self.notes.open(nk, employee_id, issued_at));
        Some(Verified {
            employee_id,
            issued_at,
            notes_key,
            sso: data.claims.sso,
        })
    }
}

fn tag_input(purpose: &str, data: &str) -> Vec<u8> {
    [purpose.as_bytes(), b"\0", data.as_bytes()].concat()
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    #[test]
    fn round_trips_and_refuses_tampering() {
        let keys = JwtKeys::new(b"secret one");
        let (token, exp) = keys.issue(42, Utc::now(), None);
        let verified = keys.verify(&token).expect("valid");
        assert_eq!(verified.employee_id, 42);
        assert_eq!(verified.notes_key, None);
        assert!(exp <= Utc::now() + Duration::hours(8));
        assert!(JwtKeys::new(b"secret two").verify(&token).is_none());
        let (old, _) = keys.issue(42, Utc::now() - Duration::hours(9), None);
        assert!(keys.verify(&old).is_none());
    }

    #[test]
    fn a_session_carries_its_notes_key_sealed() {
        let keys = JwtKeys::new(b"secret one");
        let key = NotesKey::generate();
        let (token, _) = keys.issue(42, Utc::now(), Some(&key));
        assert_eq!(keys.verify(&token).and_then(|v| v.notes_key), Some(key));
        // Another server secret verifies nothing, so opens nothing.
        assert!(JwtKeys::new(b"secret two").verify(&token).is_none());
    }

    #[test]
    fn tags_depend_on_key_purpose_and_data() {
        let keys = JwtKeys::new(b"secret one");
        let t = keys.tag("csrf", "session");
        assert!(keys.check_tag("csrf", "session", &t));
        assert!(!keys.check_tag("flash", "session", &t));
        assert!(!keys.check_tag("csrf", "other session", &t));
        assert!(!JwtKeys::new(b"secret two").check_tag("csrf", "session", &t));
        assert!(!keys.check_tag("csrf", "session", "not hex"));
    }

    #[test]
    fn refuses_alg_none() {
        let keys = JwtKeys::new(b"k");
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let exp = (Utc::now() + Duration::hours(1)).timestamp();
        let forged = format!(
            "{}.{}.",
            b64.encode(r#"{"alg":"none","typ":"JWT"}"#),
            b64.encode(format!(r#"{{"sub":"1","iat":0,"exp":{exp}}}"#))
        );
        assert!(keys.verify(&forged).is_none());
    }
}
