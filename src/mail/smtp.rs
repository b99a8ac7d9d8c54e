//! SMTP sessions on sockets Pulse opens itself, with TCP_NODELAY, so a message costs a few round trips rather than a delayed acknowledgement.
//!
//! lettre writes the end-of-data marker ("\r\n.\r\n") as its own small write;
//! on a socket with Nagle's algorithm on, that write waits for the
//! acknowledgement of the message before it, which the relay delays by up to
//! 40 ms: about 25 messages a second per connection whatever the relay's speed.
//! lettre's own transport gives no access to the socket, so Pulse connects,
//! sets TCP_NODELAY and hands the stream to lettre's connection, which still
//! speaks the protocol (EHLO, STARTTLS, AUTH, dot-stuffing, replies).

use super::SendError;
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use std::fmt;
use std::time::Duration;

/// How long connecting, and each command of a session, may take before the
/// relay counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(60);

/// How the connection is encrypted, as SMTP_URL says.
#[derive(Clone)]
enum Security {
    /// `smtp://host` (port 25): plain.
    Plain,
    /// `smtp://host?tls=required` (587): STARTTLS, or no session.
    StartTls(TlsParameters),
    /// `smtp://host?tls=opportunistic` (587): STARTTLS when offered.
    Opportunistic(TlsParameters),
    /// `smtps://host` (465): TLS from the first byte.
    Implicit(TlsParameters),
}

/// The relay named by SMTP_URL, read the way lettre's `from_url` reads it:
/// `smtp://[user:password@]host[:port][/hello-name][?tls=required|opportunistic]`
/// or `smtps://…`.
#[derive(Clone)]
pub struct SmtpRelay {
    host: String,
    port: u16,
    security: Security,
    credentials: Option<Credentials>,
    hello: ClientId,
}

impl fmt::Debug for SmtpRelay {
    // Never the credentials.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpRelay")
            .field("host", &self.host)
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl SmtpRelay {
    /// Reads SMTP_URL. The error never repeats the URL, which may hold a password.
    pub fn from_url(url: &str) -> Result<Self, String> {
        let url = url::Url::parse(url).map_err(|e| format!("not a URL: {e}"))?;
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or("no host")?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let tls = url
            .query_pairs()
            .find(|(k, _)| k == "tls")
            .map(|(_, v)| v.into_owned());
        let params =
            || TlsParameters::new(host.clone()).map_err(|e| format!("cannot set up TLS: {e}"));
        let (security, default_port) = match (url.scheme(), tls.as_deref()) {
            ("smtp", None) => (Security::Plain, 25),
            ("smtp", Some("required")) => (Security::StartTls(params()?), 587),
            ("smtp", Some("opportunistic")) => (Security::Opportunistic(params()?), 587),
            ("smtps", _) => (Security::Implicit(params()?), 465),
            (scheme, tls) => {
                return Err(format!(
                    "unknown scheme `{scheme}` or tls parameter {tls:?} (smtp://, smtp://…?tls=required|opportunistic, smtps://)"
                ))
            }
        };
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(|s| s.into_owned())
                .map_err(|_| "the user or password is not UTF-8 once decoded".to_string())
        };
        let credentials = match url.password() {
            Some(password) => Some(Credentials::new(decode(url.username())?, decode(password)?)),
            None => None,
        };
        let path = url.path().trim_matches('/');
        let hello = if path.is_empty() {
            ClientId::default()
        } else {
            ClientId::Domain(path.to_string())
        };
        Ok(Self {
            port: url.port().unwrap_or(default_port),
            host,
            security,
            credentials,
            hello,
        })
    }

    /// A session that has greeted the relay, and logged in when SMTP_URL has credentials.
    pub async fn connect(&self) -> Result<SmtpSession, SendError> {
        let connection = tokio::time::timeout(CONNECT_TIMEOUT, self.open())
            .await
            .map_err(|_| SendError::unreachable("the mail relay did not answer in time"))??;
        Ok(SmtpSession { connection })
    }

    async fn open(&self) -> Result<AsyncSmtpConnection, SendError> {
        let mut connection = match &self.security {
            // TLS from the first byte needs lettre's own stream.
            Security::Implicit(params) => AsyncSmtpConnection::connect_tokio1(
                (self.host.as_str(), self.port),
                Some(CONNECT_TIMEOUT),
                &self.hello,
                Some(params.clone()),
                None,
            )
            .await
            .map_err(classify)?,
            _ => {
                let stream = connect_tcp(&self.host, self.port).await?;
                AsyncSmtpConnection::connect_with_transport(Box::new(stream), &self.hello)
                    .await
                    .map_err(classify)?
            }
        };
        match &self.security {
            Security::StartTls(params) => connection
                .starttls(params.clone(), &self.hello)
                .await
                .map_err(classify)?,
            Security::Opportunistic(params) if connection.can_starttls() => connection
                .starttls(params.clone(), &self.hello)
                .await
                .map_err(classify)?,
            _ => {}
        }
        if let Some(credentials) = &self.credentials {
            connection
                .auth(&[Mechanism::Plain, Mechanism::Login], credentials)
                .await
                .map_err(classify)?;
        }
        Ok(connection)
    }

    /// Whether the relay answers now: a new session that takes a NOOP.
    pub async fn probe(&self) -> bool {
        match self.connect().await {
            Ok(mut session) => {
                let ok = session.connection.test_connected().await;
                session.close().await;
                ok
            }
            Err(_) => false,
        }
    }
}

/// A TCP connection to the relay with Nagle's algorithm off: each write goes
/// out at once instead of waiting for the acknowledgement of the previous one.
async fn connect_tcp(host: &str, port: u16) -> Result<tokio::net::TcpStream, SendError> {
    let stream = tokio::net::TcpStream::connect((host, port))
        .await
        .map_err(|e| SendError::unreachable(format!("cannot connect: {e}")))?;
    stream
        .set_nodelay(true)
        .map_err(|e| SendError::unreachable(format!("cannot set TCP_NODELAY: {e}")))?;
    Ok(stream)
}

/// One open SMTP connection, which sends messages one after the other.
pub struct SmtpSession {
    connection: AsyncSmtpConnection,
}

impl SmtpSession {
    /// Sends one message; the session is unusable afterwards when `is_broken`.
    pub async fn send(&mut self, envelope: &Envelope, raw: &[u8]) -> Result<(), SendError> {
        self.connection
            .send(envelope, raw)
            .await
            .map(drop)
            .map_err(classify)
    }

    /// After an error that left the conversation in an unknown state.
    pub fn is_broken(&self) -> bool {
        self.connection.has_broken()
    }

    /// Says goodbye, not waiting for long on a relay that went quiet.
    pub async fn close(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(5), self.connection.quit()).await;
    }
}

/// A 5xx says the server will never take this message; a 4xx or a client
/// error may pass later or once the operator fixes it; no reply at all
/// (refused or dropped connection, timeout, TLS) may be the relay's fault.
fn classify(e: lettre::transport::smtp::Error) -> SendError {
    if e.is_permanent() {
        SendError::permanent(e.to_string())
    } else if e.is_transient() || e.is_response() || e.is_client() {
        SendError::temporary(e.to_string())
    } else {
        SendError::unreachable(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn connections_to_the_relay_send_small_writes_at_once() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let stream = connect_tcp("127.0.0.1", port).await.unwrap();
        assert!(stream.nodelay().unwrap(), "TCP_NODELAY is set");
        assert!(connect_tcp("127.0.0.1", 1).await.unwrap_err().unreachable);
    }

    #[test]
    fn urls_are_read_as_lettre_reads_them() {
        let r = SmtpRelay::from_url("smtp://127.0.0.1:2525").unwrap();
        assert_eq!((r.host.as_str(), r.port), ("127.0.0.1", 2525));
        assert!(matches!(r.security, Security::Plain) && r.credentials.is_none());
        let r = SmtpRelay::from_url("smtp://u%40x:p%2Fw@mail.example.com?tls=required").unwrap();
        assert_eq!(r.port, 587);
        assert!(matches!(r.security, Security::StartTls(_)));
        assert!(r.credentials.is_some());
        let r = SmtpRelay::from_url("smtps://mail.example.com/pulse.example.com").unwrap();
        assert_eq!(r.port, 465);
        assert!(matches!(r.hello, ClientId::Domain(ref d) if d == "pulse.example.com"));
        assert!(SmtpRelay::from_url("smtp://mail.example.com?tls=opportunistic").is_ok());
        let e = SmtpRelay::from_url("http://user:secret@x").unwrap_err();
        assert!(!e.contains("secret"), "{e}");
        assert!(SmtpRelay::from_url("smtp://x?tls=maybe").is_err());
        assert!(SmtpRelay::from_url("not a url").is_err());
    }
}
