//! Settings read from the environment, with defaults that run on a fresh machine.

use crate::db::DatabaseUrl;
use crate::domain::client_address::TrustedProxies;
use std::path::PathBuf;

#[derive(Clone)]
pub struct Settings {
    pub database_url: DatabaseUrl,
    pub bind: String,
    /// Where emailed links point; never derived from a request's Host header,
    /// which an attacker controls.
    pub base_url: url::Url,
    pub smtp_url: Option<String>,
    pub mail_dir: PathBuf,
    pub mail_from: String,
    /// JWT key; when absent one is generated and kept in the database.
    pub secret: Option<String>,
    /// How often `pulse serve` runs the scheduler and dispatcher.
    pub tick_seconds: u64,
    /// `PULSE_TRUSTED_PROXIES`: comma-separated addresses or CIDR ranges of
    /// the reverse proxies in front of Pulse. Only from these peers is
    /// `X-Forwarded-For` believed, and then the client is its right-most
    /// address that is not itself a trusted proxy; the sign-in limit per
    /// address counts that client. Empty by default: the TCP peer is the
    /// client and the header is ignored, as any client can write it.
    pub trusted_proxies: TrustedProxies,
    /// `PULSE_METRICS_TOKEN`: when set, `GET /metrics` wants
    /// `Authorization: Bearer <it>`; unset, the figures are open to anyone
    /// who can reach the port.
    pub metrics_token: Option<String>,
    /// Single sign-on through an OpenID provider, when `PULSE_OIDC_ISSUER` is set.
    pub oidc: Option<crate::auth::oidc::OidcSettings>,
    /// `PULSE_PASSWORD_SIGN_IN=off` leaves single sign-on as the only way in.
    pub password_sign_in: bool,
}

// Secrets stay out of logs even when the settings are printed with {:?}.
impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("database", &self.database_url.engine())
            .field("bind", &self.bind)
            .field("base_url", &self.base_url.as_str())
            .field("smtp", &self.smtp_url.as_ref().map(|_| "<set>"))
            .field("mail_dir", &self.mail_dir)
            .field("mail_from", &self.mail_from)
            .field("secret", &self.secret.as_ref().map(|_| "<set>"))
            .field("trusted_proxies", &self.trusted_proxies.to_string())
            .field(
                "metrics_token",
                &self.metrics_token.as_ref().map(|_| "<set>"),
            )
            .field(
                "oidc_issuer",
                &self.oidc.as_ref().map(|o| o.issuer.as_str()),
            )
            .field("password_sign_in", &self.password_sign_in)
            .finish()
    }
}

/// All three OpenID settings or none: half a configuration is a mistake to
/// report at start, not a sign-in button that fails.
fn oidc_settings(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<Option<crate::auth::oidc::OidcSettings>, String> {
    let (issuer, id, secret) = (
        get("PULSE_OIDC_ISSUER"),
        get("PULSE_OIDC_CLIENT_ID"),
        get("PULSE_OIDC_CLIENT_SECRET"),
    );
    let (issuer, client_id, client_secret) = match (issuer, id, secret) {
        (None, None, None) => return Ok(None),
        (Some(i), Some(c), Some(s)) => (i.trim().to_string(), c.trim().to_string(), s),
        _ => return Err("single sign-on needs all of PULSE_OIDC_ISSUER, PULSE_OIDC_CLIENT_ID and PULSE_OIDC_CLIENT_SECRET".into()),
    };
    match url::Url::parse(&issuer) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => {}
        _ => return Err(format!("PULSE_OIDC_ISSUER `{issuer}` must be the provider's http(s) URL, as its tokens name it")),
    }
    Ok(Some(crate::auth::oidc::OidcSettings {
        issuer,
        client_id,
        client_secret,
        name: get("PULSE_OIDC_NAME").unwrap_or_else(|| "single sign-on".into()),
    }))
}

impl Settings {
    pub fn from_env() -> Result<Self, String> {
        Self::from_lookup(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
    }

    /// Reads through `get` so tests can build settings without touching the
    /// process environment.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let database_url =
            DatabaseUrl::parse(&get("DATABASE_URL").unwrap_or_else(|| "pulse.db".into()))?;
        let bind = get("PULSE_BIND").unwrap_or_else(|| "127.0.0.1:8080".into());
        let base_raw = get("PULSE_BASE_URL").unwrap_or_else(|| format!("http://{bind}"));
        let base_url = url::Url::parse(base_raw.trim_end_matches('/'))
            .map_err(|e| format!("PULSE_BASE_URL `{base_raw}` is not a URL: {e}"))?;
        if !matches!(base_url.scheme(), "http" | "https") {
            return Err(format!(
                "PULSE_BASE_URL `{base_raw}` must start with http:// or https://"
            ));
        }
        let oidc = oidc_settings(&get)?;
        let password_sign_in = match get("PULSE_PASSWORD_SIGN_IN").map(|v| v.trim().to_lowercase())
        {
            None => true,
            Some(v) if matches!(v.as_str(), "on" | "true" | "yes" | "1") => true,
            Some(v) if matches!(v.as_str(), "off" | "false" | "no" | "0") => false,
            Some(v) => return Err(format!("PULSE_PASSWORD_SIGN_IN `{v}` must be on or off")),
        };
        if !password_sign_in && oidc.is_none() {
            return Err("PULSE_PASSWORD_SIGN_IN=off needs single sign-on: set PULSE_OIDC_ISSUER, PULSE_OIDC_CLIENT_ID and PULSE_OIDC_CLIENT_SECRET, or nobody could sign in".into());
        }
        Ok(Self {
            oidc,
            password_sign_in,
            database_url,
            bind,
            base_url,
            smtp_url: get("SMTP_URL"),
            mail_dir: PathBuf::from(get("PULSE_MAIL_DIR").unwrap_or_else(|| "mail".into())),
            mail_from: get("PULSE_MAIL_FROM").unwrap_or_else(|| "Pulse <pulse@localhost>".into()),
            secret: get("PULSE_SECRET"),
            tick_seconds: match get("PULSE_TICK_SECONDS") {
                None => 30,
                Some(v) => v
                    .trim()
                    .parse()
                    .ok()
                    .filter(|s| (1..=3600).contains(s))
                    .ok_or_else(|| format!("PULSE_TICK_SECONDS `{v}` must be a whole number of seconds from 1 to 3600"))?,
            },
            trusted_proxies: match get("PULSE_TRUSTED_PROXIES") {
                None => TrustedProxies::default(),
                Some(v) => TrustedProxies::parse(&v)
                    .map_err(|e| format!("PULSE_TRUSTED_PROXIES: {e}"))?,
            },
            metrics_token: match get("PULSE_METRICS_TOKEN") {
                None => None,
                Some(t) if t.trim().len() >= 16 && !t.trim().contains(char::is_whitespace) => {
                    Some(t.trim().to_string())
                }
                Some(_) => {
                    return Err("PULSE_METRICS_TOKEN must be at least 16 characters without spaces (for example `openssl rand -hex 32`)".into())
                }
            },
        })
    }

    /// The base URL without a trailing slash, for building links.
    pub fn base(&self) -> String {
        self.base_url.as_str().trim_end_matches('/').to_string()
    }

    pub fn is_https(&self) -> bool {
        self.base_url.scheme() == "https"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_run_without_any_environment() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.database_url, DatabaseUrl::Sqlite("pulse.db".into()));
        assert_eq!(s.bind, "127.0.0.1:8080");
        assert_eq!(s.base(), "http://127.0.0.1:8080");
        assert!(!s.is_https());
    }

    #[test]
    fn rejects_a_base_url_that_is_not_http() {
        assert!(settings(&[("PULSE_BASE_URL", "ftp://x")])
            .unwrap_err()
            .contains("http"));
        assert!(settings(&[("PULSE_BASE_URL", "not a url")]).is_err());
        assert!(
            settings(&[("PULSE_BASE_URL", "https://pulse.example.com/")])
                .unwrap()
                .is_https()
        );
    }

    #[test]
    fn trusted_proxies_are_addresses_or_ranges() {
        assert!(settings(&[]).unwrap().trusted_proxies.is_empty());
        let s = settings(&[("PULSE_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.1")]).unwrap();
        assert_eq!(s.trusted_proxies.to_string(), "10.0.0.0/8,192.0.2.1/32");
        let err = settings(&[("PULSE_TRUSTED_PROXIES", "10.0.0.0/40")]).unwrap_err();
        assert!(err.starts_with("PULSE_TRUSTED_PROXIES"), "{err}");
    }

    #[test]
    fn a_metrics_token_is_long_enough() {
        assert_eq!(settings(&[]).unwrap().metrics_token, None);
        let s = settings(&[("PULSE_METRICS_TOKEN", " 0123456789abcdef ")]).unwrap();
        assert_eq!(s.metrics_token.as_deref(), Some("0123456789abcdef"));
        let err = settings(&[("PULSE_METRICS_TOKEN", "short")]).unwrap_err();
        assert!(err.starts_with("PULSE_METRICS_TOKEN"), "{err}");
    }

    #[test]
    fn single_sign_on_needs_all_three_settings() {
        let s = settings(&[]).unwrap();
        assert!(s.oidc.is_none() && s.password_sign_in);
        let err = settings(&[("PULSE_OIDC_ISSUER", "https://id.example.com")]).unwrap_err();
        assert!(err.contains("PULSE_OIDC_CLIENT_ID"), "{err}");
        let full = [
            ("PULSE_OIDC_ISSUER", "https://id.example.com"),
            ("PULSE_OIDC_CLIENT_ID", "pulse"),
            ("PULSE_OIDC_CLIENT_SECRET", "s3cret-s3cret"),
        ];
        let s = settings(&full).unwrap();
        assert_eq!(s.oidc.as_ref().unwrap().issuer, "https://id.example.com");
        assert!(!format!("{s:?}").contains("s3cret"));
        let err = settings(&[("PULSE_PASSWORD_SIGN_IN", "off")]).unwrap_err();
        assert!(err.contains("single sign-on"), "{err}");
        let off = [full.as_slice(), &[("PULSE_PASSWORD_SIGN_IN", "off")]].concat();
        assert!(!settings(&off).unwrap().password_sign_in);
        let bad = [full.as_slice(), &[("PULSE_PASSWORD_SIGN_IN", "maybe")]].concat();
        assert!(settings(&bad).is_err());
    }

    #[test]
    fn secrets_are_not_printed() {
        let s = settings(&[
            ("PULSE_SECRET", "hunter2"),
            ("SMTP_URL", "smtp://u:pw@h"),
            ("PULSE_METRICS_TOKEN", "scrape-me-0123456789"),
        ])
        .unwrap();
        let shown = format!("{s:?}");
        assert!(!shown.contains("hunter2") && !shown.contains("pw@h"));
        assert!(!shown.contains("scrape-me"));
    }
}
