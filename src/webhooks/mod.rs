//! Outgoing webhooks: events written to the outbox, formatted, signed and delivered over HTTP.

pub mod deliver;
pub mod events;
pub mod format;

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The events a webhook can ask for.
pub const EVENTS: [&str; 4] = [
    events::ROUND_OPENED,
    events::ROUND_CLOSED,
    events::ACTION_DUE,
    events::EMPLOYEE_LEFT,
];

/// How a delivery's body is written: Pulse's own JSON, or a message that a
/// Slack or Microsoft Teams incoming webhook shows as is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Slack,
    Teams,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "json" => Some(Format::Json),
            "slack" => Some(Format::Slack),
            "teams" => Some(Format::Teams),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Slack => "slack",
            Format::Teams => "teams",
        }
    }
}

/// A webhook's URL: absolute http or https with a host, no credentials in it
/// (they would show in the list), at most 2,000 characters.
pub fn parse_url(raw: &str) -> Result<url::Url, String> {
    let raw = raw.trim();
    if raw.len() > 2000 {
        return Err("must be at most 2,000 characters".into());
    }
    let url = url::Url::parse(raw)
        .map_err(|e| format!("`{raw}` is not an absolute URL ({e}): give http(s)://host/path"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "only http and https URLs can receive webhooks, not `{}:`",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("the URL has no host".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "put no user name or password in the URL: every delivery is signed instead".into(),
        );
    }
    Ok(url)
}

/// `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" under the secret>`: the
/// `Pulse-Signature` header. The timestamp is signed with the body, so a receiver
/// that refuses old timestamps cannot be fed a recorded delivery again later.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_of_timestamp_dot_body() {
        // Computed apart: python3 -c 'import hmac,hashlib;
        // print(hmac.new(b"s3cret", b"1700000000.{\"event\":\"round.closed\"}", hashlib.sha256).hexdigest())'
        let body = br#"{"event":"round.closed"}"#;
        assert_eq!(
            signature("s3cret", 1_700_000_000, body),
            "t=1700000000,v1=80a743037642b80cdadd9670fdae481e9326d81da6b30f57ddd011831123f576"
        );
        assert_ne!(
            signature("s3cret", 1_700_000_001, body),
            signature("s3cret", 1_700_000_000, body)
        );
    }

    #[test]
    fn urls_must_be_http_or_https() {
        assert!(parse_url("https://hooks.slack.com/services/T0/B0/x").is_ok());
        assert!(parse_url(" http://127.0.0.1:9000/hook ").is_ok());
        for bad in [
            "ftp://example.com/x",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "example.com/hook",
            "",
            "https://user:pw@example.com/",
            "mailto:hr@example.com",
        ] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }
}
