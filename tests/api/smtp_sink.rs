//! A real SMTP server on loopback that keeps what it receives, can refuse on demand and can go down.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

/// One accepted message: the envelope and the data exactly as it arrived,
/// dot-unstuffed, with CRLF line ends and without the final "." line.
#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
}

impl Received {
    /// The Message-ID header's value, angle brackets included.
    pub fn message_id(&self) -> Option<String> {
        let headers = self.data.split("\r\n\r\n").next().unwrap_or_default();
        let unfolded = headers.replace("\r\n ", " ").replace("\r\n\t", " ");
        unfolded.split("\r\n").find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("message-id")
                .then(|| value.trim().to_string())
        })
    }
}

/// How the sink answers a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Accept,
    /// 451 to RCPT TO: "try again later".
    TempFailRcpt,
    /// 550 to RCPT TO: "no such mailbox".
    PermFailRcpt,
    /// 451 after the message data was transferred.
    TempFailData,
    /// 554 after the message data was transferred.
    PermFailData,
    /// Keeps the message data, then never answers: the client is left
    /// waiting, as a dispatcher that dies at that moment would be.
    HangData,
    /// Closes the connection once the data was transferred, without a reply.
    DropData,
}

/// Shared with the connection tasks, so a mode change applies to open connections too.
#[derive(Clone)]
struct State {
    received: Arc<Mutex<Vec<Received>>>,
    mode: Arc<Mutex<Mode>>,
}

pub struct SmtpSink {
    port: u16,
    state: State,
    stop: watch::Sender<bool>,
    server: Option<JoinHandle<()>>,
}

impl SmtpSink {
    /// Listens on a free loopback port.
    pub async fn start() -> Self {
        Self::start_on(0).await
    }

    /// Listens on `port`, e.g. the port of a sink that was stopped, as a mail
    /// server coming back would. Retries briefly: the old socket may linger.
    pub async fn start_on(port: u16) -> Self {
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let mut tries = 0;
        let listener = loop {
            match listen(addr) {
                Ok(listener) => break listener,
                Err(e) if tries < 50 => {
                    tries += 1;
                    eprintln!("smtp sink: cannot listen on {addr} yet ({e}), retrying");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("smtp sink: cannot listen on {addr}: {e}"),
            }
        };
        let port = listener.local_addr().unwrap().port();
        let state = State {
            received: Arc::default(),
            mode: Arc::new(Mutex::new(Mode::Accept)),
        };
        let (stop, stopped) = watch::channel(false);
        let server = tokio::spawn(serve(listener, state.clone(), stopped));
        Self {
            port,
            state,
            stop,
            server: Some(server),
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// An `SMTP_URL` for this sink: plain SMTP, no TLS.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn set_mode(&self, mode: Mode) {
        *self.state.mode.lock().unwrap() = mode;
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.received.lock().unwrap().clone()
    }

    /// How many times each Message-ID arrived.
    pub fn count_by_message_id(&self) -> HashMap<String, usize> {
        let mut counts = HashMap::new();
        for message in self.received() {
            let id = message
                .message_id()
                .expect("every message has a Message-ID");
            *counts.entry(id).or_default() += 1;
        }
        counts
    }

    /// Closes the listener and every open connection, like a server going
    /// down: new connections are refused and pooled ones are broken. Returns
    /// once the port is free.
    pub async fn stop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(server) = self.server.take() {
            server.await.expect("smtp sink task panicked");
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// SO_REUSEADDR so the port can be taken again while connections the sink
/// closed are still in TIME_WAIT.
fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(128)
}

async fn serve(listener: TcpListener, state: State, mut stopped: watch::Receiver<bool>) {
    let mut sessions = JoinSet::new();
    loop {
        tokio::select! {
            _ = stopped.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    sessions.spawn(session(stream, state.clone()));
                }
                Err(e) => eprintln!("smtp sink: accept failed: {e}"),
            },
            // Reaps finished sessions so the set does not grow.
            Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
        }
    }
    drop(listener);
    // Dropping each session's task drops its socket: the client sees the connection close.
    sessions.shutdown().await;
}

/// What the client has said so far in the current mail transaction.
#[derive(Default)]
struct Transaction {
    from: Option<String>,
    to: Vec<String>,
}

/// Lines longer than this end the session: a test sink has no use for them.
const MAX_LINE: usize = 1 << 20;

async fn session(stream: TcpStream, state: State) {
    if let Err(e) = run_session(stream, &state).await {
        // Clients vanish (the pool aborts connections), which is no failure of the sink.
        if e.kind() != std::io::ErrorKind::UnexpectedEof {
            eprintln!("smtp sink: session ended: {e}");
        }
    }
}

async fn run_session(stream: TcpStream, state: &State) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    write
        .write_all(b"220 127.0.0.1 pulse test sink ESMTP\r\n")
        .await?;
    let mut transaction = Transaction::default();
    let mut greeted = false;
    let mut line = Vec::new();
    loop {
        if !read_line(&mut read, &mut line).await? {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&line);
        let (verb, arg) = match text.split_once(' ') {
            Some((v, a)) => (v.to_ascii_uppercase(), a.trim().to_string()),
            None => (text.trim().to_ascii_uppercase(), String::new()),
        };
        let reply: String = match verb.as_str() {
            "EHLO" => {
                greeted = true;
                transaction = Transaction::default();
                // No PIPELINING, 8BITMIME or SMTPUTF8: messages must be 7-bit
                // clean, and a client must wait for each reply.
                format!("250-127.0.0.1 greets {arg}\r\n250-SIZE 10485760\r\n250 HELP\r\n")
            }
            "HELO" => {
                greeted = true;
                transaction = Transaction::default();
                format!("250 127.0.0.1 greets {arg}\r\n")
            }
            "MAIL" => match path_after(&arg, "FROM:") {
                _ if !greeted => "503 5.5.1 say EHLO first\r\n".into(),
                _ if transaction.from.is_some() => "503 5.5.1 nested MAIL command\r\n".into(),
                Some(from) => {
                    transaction = Transaction {
                        from: Some(from),
                        to: Vec::new(),
                    };
                    "250 2.1.0 sender ok\r\n".into()
                }
                None => "501 5.5.4 syntax: MAIL FROM:<address>\r\n".into(),
            },
            "RCPT" => match path_after(&arg, "TO:") {
                _ if transaction.from.is_none() => "503 5.5.1 need MAIL first\r\n".into(),
                Some(to) if !to.is_empty() => match mode(state) {
                    Mode::TempFailRcpt => "451 4.3.0 mailbox busy, try again later\r\n".into(),
                    Mode::PermFailRcpt => "550 5.1.1 no such mailbox here\r\n".into(),
                    _ => {
                        transaction.to.push(to);
                        "250 2.1.5 recipient ok\r\n".into()
                    }
                },
                _ => "501 5.5.4 syntax: RCPT TO:<address>\r\n".into(),
            },
            "DATA" => {
                if transaction.from.is_none() || transaction.to.is_empty() {
                    "503 5.5.1 need MAIL and RCPT first\r\n".into()
                } else {
                    write
                        .write_all(b"354 end data with <CR><LF>.<CR><LF>\r\n")
                        .await?;
                    let data = read_data(&mut read).await?;
                    let done = std::mem::take(&mut transaction);
                    match mode(state) {
                        Mode::TempFailData => {
                            "451 4.3.0 cannot queue now, try again later\r\n".into()
                        }
                        Mode::PermFailData => "554 5.6.0 message refused\r\n".into(),
                        Mode::DropData => return Ok(()),
                        Mode::HangData => {
                            state.received.lock().unwrap().push(Received {
                                from: done.from.unwrap_or_default(),
                                to: done.to,
                                data,
                            });
                            std::future::pending::<String>().await
                        }
                        _ => {
                            let mut received = state.received.lock().unwrap();
                            received.push(Received {
                                from: done.from.unwrap_or_default(),
                                to: done.to,
                                data,
                            });
                            format!("250 2.0.0 queued as {}\r\n", received.len())
                        }
                    }
                }
            }
            "RSET" => {
                transaction = Transaction::default();
                "250 2.0.0 reset\r\n".into()
            }
            "NOOP" => "250 2.0.0 ok\r\n".into(),
            "QUIT" => {
                write.write_all(b"221 2.0.0 bye\r\n").await?;
                return Ok(());
            }
            "" => "500 5.5.2 empty command\r\n".into(),
            _ => "502 5.5.2 command not implemented\r\n".into(),
        };
        write.write_all(reply.as_bytes()).await?;
    }
}

fn mode(state: &State) -> Mode {
    *state.mode.lock().unwrap()
}

/// The address in `FROM:<a@b> PARAMS` (case-insensitive keyword, optional
/// space after the colon); `<>` gives an empty address.
fn path_after(arg: &str, keyword: &str) -> Option<String> {
    let head = arg.get(..keyword.len())?;
    if !head.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let rest = arg[keyword.len()..].trim_start();
    let rest = rest.strip_prefix('<')?;
    let end = rest.find('>')?;
    Some(rest[..end].to_string())
}

/// Reads one line without its line end (CRLF, or a bare LF from a sloppy
/// client); false at end of stream.
async fn read_line<R: AsyncBufReadExt + Unpin>(
    read: &mut R,
    line: &mut Vec<u8>,
) -> std::io::Result<bool> {
    line.clear();
    let n = read.read_until(b'\n', line).await?;
    if n == 0 {
        return Ok(false);
    }
    if line.len() > MAX_LINE {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "line too long",
        ));
    }
    if !line.ends_with(b"\n") {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    line.pop();
    if line.ends_with(b"\r") {
        line.pop();
    }
    Ok(true)
}

/// The message after DATA, up to the line holding a single ".", with the
/// leading dot the client added to lines starting with "." removed (RFC 5321 4.5.2).
async fn read_data<R: AsyncBufReadExt + Unpin>(read: &mut R) -> std::io::Result<String> {
    let mut data = Vec::new();
    let mut line = Vec::new();
    loop {
        if !read_line(read, &mut line).await? {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        if line == b"." {
            return Ok(String::from_utf8_lossy(&data).into_owned());
        }
        let content = line.strip_prefix(b".").unwrap_or(&line);
        data.extend_from_slice(content);
        data.extend_from_slice(b"\r\n");
    }
}

/// The sink speaks SMTP as a client other than lettre would see it.
mod tests {
    use super::*;

    struct Client {
        read: BufReader<tokio::net::tcp::OwnedReadHalf>,
        write: tokio::net::tcp::OwnedWriteHalf,
    }

    impl Client {
        async fn connect(port: u16) -> std::io::Result<Self> {
            let (read, write) = TcpStream::connect(("127.0.0.1", port)).await?.into_split();
            let mut client = Self {
                read: BufReader::new(read),
                write,
            };
            assert!(client.reply().await.starts_with("220 "));
            Ok(client)
        }

        /// A whole reply, multi-line ones included, as one string.
        async fn reply(&mut self) -> String {
            let mut all = String::new();
            loop {
                let mut line = String::new();
                self.read.read_line(&mut line).await.unwrap();
                assert!(line.ends_with("\r\n"), "reply line {line:?}");
                all.push_str(&line);
                if line.as_bytes().get(3) != Some(&b'-') {
                    return all;
                }
            }
        }

        async fn say(&mut self, line: &str) -> String {
            self.write
                .write_all(format!("{line}\r\n").as_bytes())
                .await
                .unwrap();
            self.reply().await
        }
    }

    #[tokio::test]
    async fn keeps_a_message_with_its_envelope_and_unstuffs_dots() {
        let sink = SmtpSink::start().await;
        let mut c = Client::connect(sink.port()).await.unwrap();
        assert!(c.say("MAIL FROM:<a@example.com>").await.starts_with("503 "));
        let ehlo = c.say("EHLO client.example").await;
        assert!(
            ehlo.starts_with("250-") && ehlo.ends_with("250 HELP\r\n"),
            "{ehlo}"
        );
        assert!(c.say("DATA").await.starts_with("503 "));
        assert!(c
            .say("mail from:<a@example.com> BODY=7BIT")
            .await
            .starts_with("250 "));
        assert!(c.say("RCPT TO:<x@example.org>").await.starts_with("250 "));
        assert!(c.say("RSET").await.starts_with("250 "));
        assert!(
            c.say("DATA").await.starts_with("503 "),
            "RSET ended the transaction"
        );
        assert!(c
            .say("MAIL FROM: <a@example.com>")
            .await
            .starts_with("250 "));
        assert!(c.say("RCPT TO:<b@example.org>").await.starts_with("250 "));
        assert!(c.say("RCPT TO:<c@example.org>").await.starts_with("250 "));
        assert!(c.say("NOOP").await.starts_with("250 "));
        assert!(c.say("DATA").await.starts_with("354 "));
        // As a client sends it: lines starting with "." get a second one.
        c.write
            .write_all(b"Subject: dots\r\n\r\n..starts with a dot\r\n..\r\nend\r\n")
            .await
            .unwrap();
        assert!(c.say(".").await.starts_with("250 "));
        assert!(c.say("QUIT").await.starts_with("221 "));

        let received = sink.received();
        assert_eq!(received.len(), 1);
        assert_eq!(received[0].from, "a@example.com");
        assert_eq!(received[0].to, vec!["b@example.org", "c@example.org"]);
        assert_eq!(
            received[0].data,
            "Subject: dots\r\n\r\n.starts with a dot\r\n.\r\nend\r\n"
        );
    }

    #[tokio::test]
    async fn refuses_on_demand_and_goes_down_and_up_on_one_port() {
        let mut sink = SmtpSink::start().await;
        let port = sink.port();
        let mut c = Client::connect(port).await.unwrap();
        c.say("HELO client.example").await;
        c.say("MAIL FROM:<a@example.com>").await;
        sink.set_mode(Mode::TempFailRcpt);
        assert!(c.say("RCPT TO:<b@example.org>").await.starts_with("451 "));
        sink.set_mode(Mode::PermFailRcpt);
        assert!(c.say("RCPT TO:<b@example.org>").await.starts_with("550 "));
        sink.set_mode(Mode::PermFailData);
        assert!(c.say("RCPT TO:<b@example.org>").await.starts_with("250 "));
        assert!(c.say("DATA").await.starts_with("354 "));
        c.write
            .write_all(b"Subject: no\r\n\r\nbody\r\n")
            .await
            .unwrap();
        assert!(c.say(".").await.starts_with("554 "));
        assert!(sink.received().is_empty());

        sink.stop().await;
        let mut buf = [0u8; 1];
        use tokio::io::AsyncReadExt;
        assert_eq!(
            c.read.read(&mut buf).await.unwrap_or(0),
            0,
            "open connections are closed"
        );
        assert!(
            Client::connect(port).await.is_err(),
            "connections are refused"
        );

        let sink = SmtpSink::start_on(port).await;
        assert_eq!(sink.port(), port);
        let mut c = Client::connect(port).await.unwrap();
        assert!(c.say("QUIT").await.starts_with("221 "));
    }
}
