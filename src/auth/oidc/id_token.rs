//! Checking an OpenID Connect ID token: signature against the provider's JWKS, issuer, audience, expiry and nonce.
//!
//! Pure: the caller fetches the keys and knows the time. Every refusal has
//! its own reason, so a test can tell a wrong audience from an expired token.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

/// Clocks of the provider and of Pulse may differ this much.
pub const LEEWAY_SECONDS: u64 = 60;

/// Only asymmetric algorithms: a token "signed" with the client secret
/// (HS256) or with none would let anyone who knows the secret mint one.
const ALLOWED: [Algorithm; 6] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::ES256,
    Algorithm::ES384,
];

/// What the token must say to be accepted.
pub struct Expected<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub nonce: &'a str,
    /// Unix seconds.
    pub now: u64,
}

/// The person the provider vouches for.
#[derive(Debug, PartialEq, Eq)]
pub struct Identity {
    pub subject: String,
    /// Present only when the token says the provider verified it.
    pub email: Option<String>,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the ID token is not a well-formed JWT")]
    Malformed,
    #[error("the ID token is signed with {0}, which Pulse does not accept")]
    Algorithm(String),
    #[error("no key of the provider's JWKS matches the ID token")]
    UnknownKey,
    #[error("the ID token's signature does not verify")]
    Signature,
    #[error("the ID token was issued by someone else")]
    Issuer,
    #[error("the ID token was issued for another application")]
    Audience,
    #[error("the ID token has expired")]
    Expired,
    #[error("the ID token answers another sign-in (nonce)")]
    Nonce,
    #[error("the provider did not vouch for an email address")]
    NoVerifiedEmail,
    #[error("the provider's user information is about someone else than its ID token")]
    Subject,
}

#[derive(Deserialize)]
struct Claims {
    sub: String,
    iss: String,
    #[serde(deserialize_with = "one_or_many")]
    aud: Vec<String>,
    azp: Option<String>,
    exp: u64,
    nonce: Option<String>,
    email: Option<String>,
    email_verified: Option<bool>,
}

fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Aud {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Aud::deserialize(d)? {
        Aud::One(a) => vec![a],
        Aud::Many(a) => a,
    })
}

/// Checks `token` as OpenID Connect Core §3.1.3.7 asks of a confidential
/// client that got it straight from the token endpoint.
pub fn verify(token: &str, keys: &JwkSet, expected: &Expected) -> Result<Identity, Refusal> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| Refusal::Malformed)?;
    if !ALLOWED.contains(&header.alg) {
        return Err(Refusal::Algorithm(format!("{:?}", header.alg)));
    }
    let jwk = match &header.kid {
        Some(kid) => keys.find(kid),
        // Without a key id, only a provider with a single key is unambiguous.
        None if keys.keys.len() == 1 => keys.keys.first(),
        None => None,
    }
    .ok_or(Refusal::UnknownKey)?;
    let key = DecodingKey::from_jwk(jwk).map_err(|_| Refusal::UnknownKey)?;
    // The library checks the signature only; every claim is checked below,
    // against our own clock, so each refusal says what was wrong.
    let mut validation = Validation::new(header.alg);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let claims = jsonwebtoken::decode::<Claims>(token, &key, &validation)
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidSignature => Refusal::Signature,
            jsonwebtoken::errors::ErrorKind::InvalidAlgorithm => {
                Refusal::Algorithm(format!("{:?}", header.alg))
            }
            _ => Refusal::Malformed,
        })?
        .claims;
    if claims.iss != expected.issuer {
        return Err(Refusal::Issuer);
    }
    let for_us = claims.aud.iter().any(|a| a == expected.client_id);
    let azp_ok = claims.aud.len() == 1 || claims.azp.as_deref() == Some(expected.client_id);
    if !for_us || !azp_ok {
        return Err(Refusal::Audience);
    }
    if claims.exp + LEEWAY_SECONDS <= expected.now {
        return Err(Refusal::Expired);
    }
    if claims.nonce.as_deref() != Some(expected.nonce) {
        return Err(Refusal::Nonce);
    }
    Ok(Identity {
        email: verified_email(claims.email, claims.email_verified),
        subject: claims.sub,
    })
}

/// The email address, only when the provider says it checked it.
pub fn verified_email(email: Option<String>, verified: Option<bool>) -> Option<String> {
    match (email, verified) {
        (Some(email), Some(true)) if !email.trim().is_empty() => Some(email),
        _ => None,
    }
}

/// What the provider's UserInfo endpoint says of the person.
#[derive(Deserialize)]
pub struct UserInfo {
    pub sub: String,
    pub email: Option<String>,
    pub email_verified: Option<bool>,
}

/// The verified email of the ID token, else of the UserInfo answer, which
/// must be about the same subject (OpenID Connect Core §5.3.2): providers
/// may keep the email out of the ID token in the code flow.
pub fn email_of(token: Identity, info: Option<UserInfo>) -> Result<String, Refusal> {
    if let Some(email) = token.email {
        return Ok(email);
    }
    match info {
        Some(i) if i.sub == token.subject => {
            verified_email(i.email, i.email_verified).ok_or(Refusal::NoVerifiedEmail)
        }
        Some(_) => Err(Refusal::Subject),
        None => Err(Refusal::NoVerifiedEmail),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    use base64::Engine;
    use jsonwebtoken::{EncodingKey, Header};
    use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
    use serde_json::{json, Value};

    const ISSUER: &str = "https://id.example.com";
    const CLIENT: &str = "pulse";
    const NOW: u64 = 1_800_000_000;

    /// A P-256 key of the test's own: its private half signs, its public half
    /// is published as a JWK under `kid`.
    struct Signer {
        kid: String,
        pkcs8: Vec<u8>,
        jwk: Value,
    }

    fn signer(kid: &str) -> Signer {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .unwrap()
            .as_ref()
            .to_vec();
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8, &rng).unwrap();
        // An uncompressed point: 0x04 ‖ x ‖ y.
        let point = pair.public_key().as_ref();
        let jwk = json!({
            "kty": "EC", "crv": "P-256", "kid": kid, "use": "sig", "alg": "ES256",
            "x": B64.encode(&point[1..33]), "y": B64.encode(&point[33..65]),
        });
        Signer {
            kid: kid.into(),
            pkcs8,
            jwk,
        }
    }

    impl Signer {
        fn sign(&self, claims: &Value) -> String {
            let mut header = Header::new(Algorithm::ES256);
            header.kid = Some(self.kid.clone());
            jsonwebtoken::encode(&header, claims, &EncodingKey::from_ec_der(&self.pkcs8)).unwrap()
        }
    }

    fn jwks(signers: &[&Signer]) -> JwkSet {
        serde_json::from_value(
            json!({ "keys": signers.iter().map(|s| &s.jwk).collect::<Vec<_>>() }),
        )
        .unwrap()
    }

    fn claims() -> Value {
        json!({
            "iss": ISSUER, "sub": "u-1", "aud": CLIENT, "exp": NOW + 300, "iat": NOW,
            "nonce": "n-1", "email": "ada@example.com", "email_verified": true,
        })
    }

    fn with(mut c: Value, key: &str, value: Value) -> Value {
        c[key] = value;
        c
    }

    fn check(token: &str, keys: &JwkSet) -> Result<Identity, Refusal> {
        verify(
            token,
            keys,
            &Expected {
                issuer: ISSUER,
                client_id: CLIENT,
                nonce: "n-1",
                now: NOW,
            },
        )
    }

    #[test]
    fn a_token_of_the_provider_for_us_names_the_person() {
        let s = signer("k1");
        assert_eq!(
            check(&s.sign(&claims()), &jwks(&[&s])),
            Ok(Identity {
                subject: "u-1".into(),
                email: Some("ada@example.com".into())
            })
        );
        // An audience list is fine when we are the authorized party.
        let many = with(
            with(claims(), "aud", json!([CLIENT, "other"])),
            "azp",
            json!(CLIENT),
        );
        assert!(check(&s.sign(&many), &jwks(&[&s])).is_ok());
    }

    #[test]
    fn a_token_signed_by_another_key_is_refused() {
        let (published, other) = (signer("k1"), signer("k1"));
        assert_eq!(
            check(&other.sign(&claims()), &jwks(&[&published])),
            Err(Refusal::Signature)
        );
        let stranger = signer("k9");
        assert_eq!(
            check(&stranger.sign(&claims()), &jwks(&[&published])),
            Err(Refusal::UnknownKey)
        );
    }

    #[test]
    fn each_wrong_claim_is_refused_for_its_reason() {
        let s = signer("k1");
        let keys = jwks(&[&s]);
        let refused = |c: Value| check(&s.sign(&c), &keys).unwrap_err();
        assert_eq!(
            refused(with(claims(), "aud", json!("another-app"))),
            Refusal::Audience
        );
        assert_eq!(
            refused(with(claims(), "aud", json!([CLIENT, "other"]))),
            Refusal::Audience,
            "several audiences without us as azp"
        );
        assert_eq!(
            refused(with(claims(), "iss", json!("https://evil.example"))),
            Refusal::Issuer
        );
        assert_eq!(
            refused(with(claims(), "exp", json!(NOW - LEEWAY_SECONDS))),
            Refusal::Expired
        );
        assert!(
            check(&s.sign(&with(claims(), "exp", json!(NOW - 30))), &keys).is_ok(),
            "within the leeway"
        );
        assert_eq!(
            refused(with(claims(), "nonce", json!("n-2"))),
            Refusal::Nonce
        );
        let mut no_nonce = claims();
        no_nonce.as_object_mut().unwrap().remove("nonce");
        assert_eq!(refused(no_nonce), Refusal::Nonce);
        let unverified = check(
            &s.sign(&with(claims(), "email_verified", json!(false))),
            &keys,
        );
        assert_eq!(unverified.unwrap().email, None);
    }

    #[test]
    fn the_email_comes_from_the_token_or_userinfo_about_the_same_subject() {
        let token = |email: Option<&str>| Identity {
            subject: "u-1".into(),
            email: email.map(String::from),
        };
        let info = |sub: &str, email: &str, verified: bool| {
            Some(UserInfo {
                sub: sub.into(),
                email: Some(email.into()),
                email_verified: Some(verified),
            })
        };
        assert_eq!(email_of(token(Some("a@x.com")), None), Ok("a@x.com".into()));
        assert_eq!(
            email_of(token(None), info("u-1", "b@x.com", true)),
            Ok("b@x.com".into())
        );
        assert_eq!(
            email_of(token(None), info("u-2", "b@x.com", true)),
            Err(Refusal::Subject)
        );
        assert_eq!(
            email_of(token(None), info("u-1", "b@x.com", false)),
            Err(Refusal::NoVerifiedEmail)
        );
        assert_eq!(email_of(token(None), None), Err(Refusal::NoVerifiedEmail));
    }

    #[test]
    fn unsigned_and_symmetric_tokens_are_refused() {
        let s = signer("k1");
        let keys = jwks(&[&s]);
        let body = B64.encode(claims().to_string());
        let none = format!("{}.{body}.", B64.encode(r#"{"alg":"none","kid":"k1"}"#));
        assert!(matches!(
            check(&none, &keys),
            Err(Refusal::Malformed | Refusal::Algorithm(_))
        ));
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("k1".into());
        let hs = jsonwebtoken::encode(
            &header,
            &claims(),
            &EncodingKey::from_secret(b"client secret"),
        )
        .unwrap();
        assert_eq!(check(&hs, &keys), Err(Refusal::Algorithm("HS256".into())));
        assert_eq!(check("not a token", &keys), Err(Refusal::Malformed));
    }
}
