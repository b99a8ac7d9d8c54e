//! Talking to the OpenID provider: discovery, its signing keys and the code-for-token exchange.

use super::id_token::{self, Expected, Identity, Refusal, UserInfo};
use super::OidcSettings;
use jsonwebtoken::jwk::JwkSet;
use serde::Deserialize;
use std::time::Duration;
use tokio::sync::RwLock;

/// Why a sign-in through the provider did not happen.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("the identity provider could not be reached or answered badly: {0}")]
    Provider(String),
    #[error("the identity provider refused the sign-in: {0}")]
    Refused(String),
    #[error(transparent)]
    Token(#[from] Refusal),
}

#[derive(Clone, Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
    userinfo_endpoint: Option<String>,
}

#[derive(Deserialize)]
struct TokenResponse {
    id_token: Option<String>,
    access_token: Option<String>,
}

#[derive(Deserialize)]
struct TokenError {
    error: String,
    error_description: Option<String>,
}

/// The provider's metadata and keys, fetched when first needed and kept;
/// the keys are fetched again when a token names one we do not have (the
/// provider rotated them).
pub struct Oidc {
    pub settings: OidcSettings,
    http: reqwest::Client,
    discovery: RwLock<Option<Discovery>>,
    keys: RwLock<Option<JwkSet>>,
}

impl Oidc {
    pub fn new(settings: OidcSettings) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            // The provider's answers are read, never followed elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            // Sign-ins are rare and the HTTP workers each run their own
            // runtime: a kept-alive connection would outlive its worker's
            // use and be reset under the next request. One connection each.
            .pool_max_idle_per_host(0)
            .build()
            .expect("an HTTP client with a timeout builds");
        Self {
            settings,
            http,
            discovery: RwLock::new(None),
            keys: RwLock::new(None),
        }
    }

    async fn discovery(&self) -> Result<Discovery, OidcError> {
        if let Some(d) = self.discovery.read().await.clone() {
            return Ok(d);
        }
        let url = format!(
            "{}/.well-known/openid-configuration",
            self.settings.issuer.trim_end_matches('/')
        );
        let found: Discovery = self.get_json(&url, None).await?;
        // OpenID Connect Discovery §4.3: the document must be the issuer's own.
        if found.issuer != self.settings.issuer {
            return Err(OidcError::Provider(format!(
                "its discovery document names the issuer `{}`, not `{}` (PULSE_OIDC_ISSUER)",
                found.issuer, self.settings.issuer
            )));
        }
        *self.discovery.write().await = Some(found.clone());
        Ok(found)
    }

    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        url: &str,
        bearer: Option<&str>,
    ) -> Result<T, OidcError> {
        let mut request = self.http.get(url);
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        let res = request
            .send()
            .await
            .map_err(|e| OidcError::Provider(format!("GET {url}: {}", chain(&e))))?;
        if !res.status().is_success() {
            return Err(OidcError::Provider(format!("GET {url}: {}", res.status())));
        }
        res.json()
            .await
            .map_err(|e| OidcError::Provider(format!("GET {url}: {e}")))
    }

    /// Where to send the browser: the authorization code flow with PKCE
    /// (S256), `state` and `nonce`, asking for the person's email.
    pub async fn authorization_url(
        &self,
        state: &str,
        nonce: &str,
        code_challenge: &str,
        redirect_uri: &str,
    ) -> Result<String, OidcError> {
        let d = self.discovery().await?;
        let mut url = url::Url::parse(&d.authorization_endpoint).map_err(|e| {
            OidcError::Provider(format!("authorization_endpoint is not a URL: {e}"))
        })?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.settings.client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("scope", "openid email")
            .append_pair("state", state)
            .append_pair("nonce", nonce)
            .append_pair("code_challenge", code_challenge)
            .append_pair("code_challenge_method", "S256");
        Ok(url.into())
    }

    /// Trades the code for an ID token at the token endpoint (the client
    /// authenticates with HTTP Basic), checks the token and returns the
    /// person's verified email address.
    pub async fn sign_in(
        &self,
        code: &str,
        code_verifier: &str,
        redirect_uri: &str,
        nonce: &str,
        now: u64,
    ) -> Result<String, OidcError> {
        let d = self.discovery().await?;
        let res = self
            .http
            .post(&d.token_endpoint)
            .basic_auth(
                form_encode(&self.settings.client_id),
                Some(form_encode(&self.settings.client_secret)),
            )
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", redirect_uri),
                ("code_verifier", code_verifier),
            ])
            .send()
            .await
            .map_err(|e| OidcError::Provider(format!("token endpoint: {}", chain(&e))))?;
        if !res.status().is_success() {
            let status = res.status();
            return Err(match res.json::<TokenError>().await {
                Ok(e) => OidcError::Refused(match e.error_description {
                    Some(d) => format!("{}: {d}", e.error),
                    None => e.error,
                }),
                Err(_) => OidcError::Provider(format!("token endpoint: {status}")),
            });
        }
        let tokens = res
            .json::<TokenResponse>()
            .await
            .map_err(|e| OidcError::Provider(format!("token endpoint: {e}")))?;
        let id_token = tokens
            .id_token
            .ok_or_else(|| OidcError::Provider("the token endpoint sent no id_token".into()))?;
        let identity = self.check(&d, &id_token, nonce, now).await?;
        let info = match (&identity.email, &d.userinfo_endpoint, &tokens.access_token) {
            (None, Some(url), Some(access)) => {
                Some(self.get_json::<UserInfo>(url, Some(access)).await?)
            }
            _ => None,
        };
        let email = id_token::email_of(identity, info)?;
        Ok(email)
    }

    async fn check(
        &self,
        d: &Discovery,
        token: &str,
        nonce: &str,
        now: u64,
    ) -> Result<Identity, OidcError> {
        let expected = Expected {
            issuer: &self.settings.issuer,
            client_id: &self.settings.client_id,
            nonce,
            now,
        };
        let cached = self.keys.read().await.clone();
        if let Some(keys) = cached {
            match id_token::verify(token, &keys, &expected) {
                Err(Refusal::UnknownKey) => {}
                done => return Ok(done?),
            }
        }
        let keys: JwkSet = self.get_json(&d.jwks_uri, None).await?;
        *self.keys.write().await = Some(keys.clone());
        Ok(id_token::verify(token, &keys, &expected)?)
    }
}

/// An error with its causes: reqwest's own message ("error sending request")
/// says nothing of why.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}

/// RFC 6749 §2.3.1: the client id and secret are form-encoded before they
/// go into the Basic header.
fn form_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
