//! Single sign-on with OpenID Connect: settings, PKCE, the provider client and ID token checks.

pub mod client;
pub mod id_token;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use sha2::{Digest, Sha256};

pub use client::{Oidc, OidcError};

/// `PULSE_OIDC_ISSUER`, `PULSE_OIDC_CLIENT_ID`, `PULSE_OIDC_CLIENT_SECRET`
/// and `PULSE_OIDC_NAME` (the provider's name on the sign-in button).
#[derive(Clone)]
pub struct OidcSettings {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    pub name: String,
}

/// The PKCE verifier (RFC 7636): 256 random bits, base64url, kept by Pulse.
pub fn code_verifier() -> String {
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    B64.encode(bytes)
}

/// The S256 challenge sent to the provider in place of the verifier.
pub fn code_challenge(verifier: &str) -> String {
    B64.encode(Sha256::digest(verifier.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_challenge_is_the_base64url_sha256_of_the_verifier() {
        // Worked out apart, with Python's hashlib and base64.urlsafe_b64encode.
        assert_eq!(
            code_challenge("dBjftJeZ4CVP-mJ0kyqbaWkKcpSVs5uT2D2kqhR_8bE"),
            "Lb4ysKx2RzzPncwepHfVj6BQPXjOQblWcOSEr-8wJTY"
        );
        let v = code_verifier();
        assert_eq!(v.len(), 43);
        assert_ne!(v, code_verifier());
    }
}
