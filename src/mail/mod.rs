//! Email: composing messages and handing them to SMTP or to .eml files.

pub mod dispatcher;
pub mod prepared;
pub mod smtp;

use crate::config::Settings;
use lettre::address::{Address, Envelope};
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Attachment, Body, Mailbox, MultiPart, SinglePart};
use lettre::Message;
use smtp::{SmtpRelay, SmtpSession};
use std::fmt;
use std::path::{Path, PathBuf};

/// One email as the application means it; addresses are checked by `compose`.
#[derive(Debug, Clone)]
pub struct Email {
    pub to: String,
    pub to_name: Option<String>,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// An iCalendar invite (.ics text); its METHOD names the part's `method=`.
    pub calendar: Option<String>,
}

/// Builds the full RFC 5322 message (multipart/alternative text+html, UTF-8) with a fixed Message-ID.
///
/// The result is 7-bit clean with CRLF line ends (lettre picks quoted-printable
/// or base64 for the parts and RFC 2047 words for headers), so any SMTP server
/// takes it as it is, 8BITMIME or not, and it can be stored and resent verbatim.
pub fn compose(from: &str, email: &Email, message_id: &str) -> Result<String, String> {
    let to = Recipient {
        address: &email.to,
        name: email.to_name.as_deref(),
        subject: &email.subject,
    };
    build(from, &to, message_id, body(email)?)
}

/// Who a message goes to and what it is about.
pub struct Recipient<'a> {
    pub address: &'a str,
    pub name: Option<&'a str>,
    pub subject: &'a str,
}

/// `compose` for a text and an HTML part that are quoted-printable already
/// (`prepared::PreparedBody`): the parts are taken as they are.
pub fn compose_encoded(
    from: &str,
    to: &Recipient,
    message_id: &str,
    text: Vec<u8>,
    html: Vec<u8>,
) -> Result<String, String> {
    let qp = ContentTransferEncoding::QuotedPrintable;
    let parts = MultiPart::alternative_plain_html(
        Body::dangerous_pre_encoded(text, qp),
        Body::dangerous_pre_encoded(html, qp),
    );
    build(from, to, message_id, parts)
}

fn build(from: &str, to: &Recipient, message_id: &str, body: MultiPart) -> Result<String, String> {
    let from: Mailbox = from
        .parse()
        .map_err(|e| format!("sender `{from}` is not a valid mailbox: {e}"))?;
    let address: Address = to
        .address
        .trim()
        .parse()
        .map_err(|e| format!("recipient `{}` is not a valid address: {e}", to.address))?;
    let message = Message::builder()
        .from(from)
        .to(Mailbox::new(to.name.map(str::to_string), address))
        .subject(to.subject)
        .message_id(Some(message_id.to_string()))
        .date_now()
        .multipart(body)
        .map_err(|e| format!("cannot build the message: {e}"))?;
    String::from_utf8(message.formatted()).map_err(|e| format!("message is not UTF-8: {e}"))
}

/// Text and HTML as alternatives; with an invite, the calendar joins them as a
/// `text/calendar; method=…` alternative (what mail clients turn into
/// accept/decline buttons) and rides along as an `invite.ics` attachment for
/// those that only import files.
fn body(email: &Email) -> Result<MultiPart, String> {
    let alternatives = MultiPart::alternative_plain_html(email.text.clone(), email.html.clone());
    let Some(ics) = &email.calendar else {
        return Ok(alternatives);
    };
    let method = calendar_method(ics);
    let calendar_type =
        ContentType::parse(&format!("text/calendar; charset=utf-8; method={method}"))
            .map_err(|e| format!("bad calendar content type: {e}"))?;
    let file_type = ContentType::parse("application/ics")
        .map_err(|e| format!("bad calendar content type: {e}"))?;
    Ok(MultiPart::mixed()
        .multipart(
            alternatives.singlepart(
                SinglePart::builder()
                    .content_type(calendar_type)
                    .body(ics.clone()),
            ),
        )
        .singlepart(Attachment::new("invite.ics".into()).body(ics.clone(), file_type)))
}

/// The calendar's top-level METHOD (REQUEST, CANCEL…), PUBLISH when absent.
fn calendar_method(ics: &str) -> &str {
    ics.lines()
        .find_map(|l| l.trim_end().strip_prefix("METHOD:"))
        .filter(|m| !m.is_empty() && m.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        .unwrap_or("PUBLISH")
}

/// A Message-ID for an outbox dedupe key, e.g. "<invite.12.34.<random hex>@pulse>" built from the key and the domain of `from` — stable once stored.
///
/// The key makes a message traceable in a mail server's logs; the random part
/// keeps ids unique across databases (a demo and a production instance may
/// both send `invite:1:1`).
pub fn new_message_id(dedupe_key: &str, from: &str) -> String {
    use rand::Rng;
    let mut local = String::with_capacity(dedupe_key.len());
    for c in dedupe_key.chars() {
        if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
            local.push(c);
        } else if !local.is_empty() && !local.ends_with('.') {
            local.push('.');
        }
    }
    // Keeps the header on one short line whatever the key.
    local.truncate(64);
    let local = local.trim_end_matches('.');
    let random: [u8; 8] = rand::thread_rng().gen();
    let domain = from
        .parse::<Mailbox>()
        .map(|m| m.email.domain().to_string())
        .unwrap_or_else(|_| "pulse".to_string());
    if local.is_empty() {
        format!("<{}@{domain}>", hex::encode(random))
    } else {
        format!("<{local}.{}@{domain}>", hex::encode(random))
    }
}

/// Where composed messages go.
#[derive(Debug, Clone)]
pub enum Transport {
    Smtp(SmtpRelay),
    Files(PathBuf),
}

/// Why a message was not handed over; `permanent` means retrying cannot help,
/// `unreachable` that no SMTP reply came at all (refused or dropped
/// connection, timeout, TLS), so the relay rather than the message may be at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendError {
    pub permanent: bool,
    pub unreachable: bool,
    pub message: String,
}

impl SendError {
    fn temporary(message: impl Into<String>) -> Self {
        Self {
            permanent: false,
            unreachable: false,
            message: message.into(),
        }
    }

    pub(crate) fn permanent(message: impl Into<String>) -> Self {
        Self {
            permanent: true,
            unreachable: false,
            message: message.into(),
        }
    }

    fn unreachable(message: impl Into<String>) -> Self {
        Self {
            permanent: false,
            unreachable: true,
            message: message.into(),
        }
    }
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.permanent {
            "permanent"
        } else {
            "temporary"
        };
        write!(f, "{kind} failure: {}", self.message)
    }
}

impl std::error::Error for SendError {}

impl Transport {
    /// SMTP_URL set → SMTP sessions to that relay (smtp:// with ?tls=required / opportunistic STARTTLS, and smtps://, as lettre's `from_url` reads them), else .eml files in PULSE_MAIL_DIR (created if missing).
    pub fn from_settings(settings: &Settings) -> Result<Self, String> {
        match &settings.smtp_url {
            Some(url) => SmtpRelay::from_url(url)
                .map(Self::Smtp)
                .map_err(|e| format!("SMTP_URL is not usable: {e}")),
            None => {
                std::fs::create_dir_all(&settings.mail_dir).map_err(|e| {
                    format!(
                        "cannot create PULSE_MAIL_DIR {}: {e}",
                        settings.mail_dir.display()
                    )
                })?;
                Ok(Self::Files(settings.mail_dir.clone()))
            }
        }
    }

    /// A sender that keeps its SMTP connection from one message to the next.
    pub fn session(&self) -> Session {
        match self {
            Self::Smtp(relay) => Session::Smtp {
                relay: relay.clone(),
                open: None,
            },
            Self::Files(dir) => Session::Files(dir.clone()),
        }
    }

    /// Sends one stored raw message on a session of its own; see `Session::send_raw`.
    pub async fn send_raw(&self, from: &str, to: &str, raw: &str) -> Result<(), SendError> {
        let mut session = self.session();
        let sent = session.send_raw(from, to, raw).await;
        session.close().await;
        sent
    }

    /// Whether the relay answers now: a new connection that takes a NOOP.
    /// The mail directory always answers.
    pub async fn probe(&self) -> bool {
        match self {
            Self::Smtp(relay) => relay.probe().await,
            Self::Files(_) => true,
        }
    }
}

/// One sender: an SMTP connection opened at the first message and kept
/// while it works, or the mail directory.
pub enum Session {
    Smtp {
        relay: SmtpRelay,
        open: Option<Box<SmtpSession>>,
    },
    Files(PathBuf),
}

impl Session {
    /// Sends the stored raw message with an envelope from `from` to `to`. Files: writes `<mail_dir>/<sanitised message id>.eml` atomically (write temp then rename) so a resend overwrites rather than duplicates. SMTP 5xx → permanent; 4xx / connection errors → temporary.
    pub async fn send_raw(&mut self, from: &str, to: &str, raw: &str) -> Result<(), SendError> {
        match self {
            Self::Smtp { relay, open } => {
                let envelope = envelope(from, to)?;
                let session = match open {
                    Some(session) => session,
                    None => open.insert(Box::new(relay.connect().await?)),
                };
                let sent = session.send(&envelope, raw.as_bytes()).await;
                if session.is_broken() {
                    *open = None;
                }
                sent
            }
            Self::Files(dir) => {
                let path = dir.join(format!("{}.eml", file_stem(raw)));
                let raw = raw.to_string();
                tokio::task::spawn_blocking(move || write_atomically(&path, raw.as_bytes()))
                    .await
                    .map_err(|e| SendError::temporary(format!("file writer stopped: {e}")))?
                    .map_err(|e| SendError::temporary(format!("cannot write the .eml file: {e}")))
            }
        }
    }

    /// Ends the SMTP conversation politely.
    pub async fn close(self) {
        if let Self::Smtp {
            open: Some(session),
            ..
        } = self
        {
            session.close().await;
        }
    }
}

/// An address that does not parse will not parse on the next attempt either.
fn envelope(from: &str, to: &str) -> Result<Envelope, SendError> {
    let from = from
        .parse::<Mailbox>()
        .map_err(|e| SendError::permanent(format!("sender `{from}` is not valid: {e}")))?;
    let to = to
        .trim()
        .parse::<Mailbox>()
        .map_err(|e| SendError::permanent(format!("recipient `{to}` is not valid: {e}")))?;
    Envelope::new(Some(from.email), vec![to.email])
        .map_err(|e| SendError::permanent(format!("no usable envelope: {e}")))
}

/// The file name for a message: its Message-ID made safe for any file system,
/// so the same message always lands in the same file. A message without one
/// (never composed here) is named by its content's hash for the same reason.
fn file_stem(raw: &str) -> String {
    let stem: String = match header_value(raw, "Message-ID") {
        Some(id) => id
            .trim()
            .trim_start_matches('<')
            .trim_end_matches('>')
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@' | '+') {
                    c
                } else {
                    '_'
                }
            })
            .take(200)
            .collect(),
        None => String::new(),
    };
    // A leading dot would hide the file; an empty stem would name it ".eml".
    let stem = stem.trim_start_matches('.');
    if stem.is_empty() {
        use sha2::{Digest, Sha256};
        hex::encode(Sha256::digest(raw.as_bytes()))
    } else {
        stem.to_string()
    }
}

/// The unfolded value of the first header called `name`, from the header block only.
fn header_value(raw: &str, name: &str) -> Option<String> {
    let mut found: Option<String> = None;
    for line in raw.split('\n') {
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some(value) = found.as_mut() {
                value.push_str(line);
            }
            continue;
        }
        if found.is_some() {
            break;
        }
        if let Some((field, value)) = line.split_once(':') {
            if field.trim().eq_ignore_ascii_case(name) {
                found = Some(value.to_string());
            }
        }
    }
    found
}

/// Readers of the mail directory never see half a message, and a crash
/// mid-write leaves only a hidden temporary file behind.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use rand::Rng;
    use std::io::Write;
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(
        ".{name}.{:08x}.tmp",
        rand::thread_rng().gen::<u32>()
    ));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    const FROM: &str = "Pulse <pulse@example.com>";

    fn email() -> Email {
        Email {
            to: "zoe@example.org".into(),
            to_name: Some("Zoë Ångström".into()),
            subject: "Wie geht's? Ihre Meinung zählt — 2 Minuten ✓".into(),
            text: "Hallo Zoë,\r\n\r\nbitte antworten: https://pulse.example.com/r/abc\r\n.\r\nEnde"
                .into(),
            html: "<p>Hallo Zoë, <a href=\"https://pulse.example.com/r/abc\">antworten</a></p>"
                .into(),
            calendar: None,
        }
    }

    /// Header block and body, split at the first empty line.
    fn split(raw: &str) -> (&str, &str) {
        raw.split_once("\r\n\r\n").expect("a header block")
    }

    /// Decodes RFC 2047 encoded words (B and Q); whitespace between two
    /// adjacent encoded words is dropped, as the RFC says.
    fn decode_words(value: &str) -> String {
        let mut out = String::new();
        let mut previous_was_word = false;
        for token in value.split_whitespace() {
            let decoded = token
                .strip_prefix("=?")
                .and_then(|t| t.strip_suffix("?="))
                .map(|t| {
                    let mut it = t.splitn(3, '?');
                    let (charset, enc, text) =
                        (it.next().unwrap(), it.next().unwrap(), it.next().unwrap());
                    assert!(charset.eq_ignore_ascii_case("utf-8"), "{charset}");
                    let bytes = match enc {
                        "b" | "B" => base64::engine::general_purpose::STANDARD
                            .decode(text)
                            .unwrap(),
                        "q" | "Q" => decode_qp(&text.replace('_', " ")),
                        other => panic!("unknown encoding {other}"),
                    };
                    String::from_utf8(bytes).unwrap()
                });
            let is_word = decoded.is_some();
            let joins_previous_word = is_word && previous_was_word;
            if !out.is_empty() && !joins_previous_word {
                out.push(' ');
            }
            out.push_str(decoded.as_deref().unwrap_or(token));
            previous_was_word = is_word;
        }
        out
    }

    fn decode_qp(s: &str) -> Vec<u8> {
        let mut out = Vec::new();
        let bytes = s.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'=' {
                if bytes[i + 1..].starts_with(b"\r\n") {
                    i += 3;
                    continue;
                }
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        out
    }

    fn part_body(part: &str) -> String {
        let (headers, body) = split(part);
        let encoding = header_value(headers, "Content-Transfer-Encoding")
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let bytes = match encoding.as_str() {
            "base64" => base64::engine::general_purpose::STANDARD
                .decode(body.replace("\r\n", ""))
                .unwrap(),
            "quoted-printable" => decode_qp(body),
            _ => body.as_bytes().to_vec(),
        };
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn composes_a_multipart_alternative_message_with_the_given_message_id() {
        let id = new_message_id("invite:12:34", FROM);
        let raw = compose(FROM, &email(), &id).unwrap();
        assert!(raw.is_ascii(), "must pass servers without 8BITMIME");
        assert!(!raw.replace("\r\n", "").contains('\n'), "CRLF only");

        let (headers, body) = split(&raw);
        assert_eq!(header_value(headers, "Message-ID").unwrap().trim(), id);
        assert!(header_value(headers, "Date").is_some());
        assert_eq!(
            decode_words(&header_value(headers, "Subject").unwrap()),
            email().subject
        );
        let to = header_value(headers, "To").unwrap();
        assert!(to.contains("<zoe@example.org>"), "{to}");
        assert!(decode_words(&to).contains("Zoë Ångström"), "{to}");

        let content_type = header_value(headers, "Content-Type").unwrap();
        assert!(
            content_type.contains("multipart/alternative"),
            "{content_type}"
        );
        let boundary = content_type
            .split("boundary=")
            .nth(1)
            .unwrap()
            .trim()
            .trim_matches('"')
            .to_string();
        let parts: Vec<&str> = body
            .split(&format!("--{boundary}"))
            .map(|p| p.trim_start_matches("\r\n"))
            .filter(|p| !p.is_empty() && !p.starts_with("--"))
            .collect();
        assert_eq!(parts.len(), 2, "{body}");
        let (plain_headers, _) = split(parts[0]);
        let plain_type = header_value(plain_headers, "Content-Type").unwrap();
        assert!(plain_type.contains("text/plain"), "{plain_type}");
        assert!(plain_type.to_ascii_lowercase().contains("charset=utf-8"));
        assert_eq!(
            part_body(parts[0]).trim_end_matches("\r\n"),
            email().text,
            "the text part round-trips, dot line included"
        );
        let (html_headers, _) = split(parts[1]);
        assert!(header_value(html_headers, "Content-Type")
            .unwrap()
            .contains("text/html"));
        assert_eq!(part_body(parts[1]).trim_end_matches("\r\n"), email().html);
    }

    #[test]
    fn an_invite_adds_a_calendar_alternative_and_an_ics_attachment() {
        let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:CANCEL\r\nBEGIN:VEVENT\r\nUID:m-1@x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let mut e = email();
        e.calendar = Some(ics.into());
        let raw = compose(FROM, &e, &new_message_id("k", FROM)).unwrap();
        assert!(raw.is_ascii());
        let mail = mailparse::parse_mail(raw.as_bytes()).unwrap();
        assert_eq!(mail.ctype.mimetype, "multipart/mixed");
        let alternatives = &mail.subparts[0];
        assert_eq!(alternatives.ctype.mimetype, "multipart/alternative");
        let kinds: Vec<&str> = alternatives
            .subparts
            .iter()
            .map(|p| p.ctype.mimetype.as_str())
            .collect();
        assert_eq!(kinds, ["text/plain", "text/html", "text/calendar"]);
        let calendar = &alternatives.subparts[2];
        assert_eq!(calendar.ctype.params.get("method").unwrap(), "CANCEL");
        assert_eq!(calendar.get_body().unwrap(), ics);
        let file = &mail.subparts[1];
        assert_eq!(file.ctype.mimetype, "application/ics");
        assert_eq!(
            file.get_content_disposition()
                .params
                .get("filename")
                .unwrap(),
            "invite.ics"
        );
        assert_eq!(calendar_method("VERSION:2.0\r\n"), "PUBLISH");
    }

    #[test]
    fn compose_rejects_bad_addresses() {
        let id = new_message_id("k", FROM);
        let mut bad_to = email();
        bad_to.to = "not an address".into();
        assert!(compose(FROM, &bad_to, &id)
            .unwrap_err()
            .contains("recipient"));
        assert!(compose("nobody", &email(), &id)
            .unwrap_err()
            .contains("sender"));
    }

    #[test]
    fn message_ids_carry_the_key_and_the_sender_domain() {
        let id = new_message_id("invite:12:34", FROM);
        let inner = id.strip_prefix('<').unwrap().strip_suffix('>').unwrap();
        let (local, domain) = inner.split_once('@').unwrap();
        assert_eq!(domain, "example.com");
        let random = local.strip_prefix("invite.12.34.").unwrap();
        assert_eq!(random.len(), 16);
        assert!(random.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(id, new_message_id("invite:12:34", FROM), "random part");

        // Whatever the key, the id stays a valid dot-atom.
        for key in [
            "",
            "::",
            "a..b",
            "ünïcode key/with spaces",
            &"x".repeat(300),
        ] {
            let id = new_message_id(key, "no mailbox at all");
            let inner = id.strip_prefix('<').unwrap().strip_suffix('>').unwrap();
            let (local, domain) = inner.split_once('@').unwrap();
            assert_eq!(domain, "pulse");
            assert!(!local.starts_with('.') && !local.ends_with('.') && !local.contains(".."));
            assert!(local
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)));
            assert!(id.len() < 100, "{id}");
        }
    }

    #[test]
    fn file_names_come_from_the_message_id() {
        let raw = "From: a@b.c\r\nMessage-ID:\r\n <inv.1/2@x.y>\r\nSubject: s\r\n\r\nMessage-ID: <body@x>\r\n";
        assert_eq!(file_stem(raw), "inv.1_2@x.y");
        let no_id = "Subject: s\r\n\r\nbody";
        assert_eq!(file_stem(no_id), file_stem(no_id));
        assert_eq!(file_stem(no_id).len(), 64);
        assert_eq!(file_stem("Message-ID: <../../etc>\r\n\r\n"), "_.._etc");
    }
}
