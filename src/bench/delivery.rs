//! `pulse bench delivery`: imports a company, opens one round for everyone and hands every email to an SMTP sink, beside the raw tools doing the same.
//!
//! Runs on DATABASE_URL, which must be a scratch database (it refuses one
//! that already has people). Everything runs in this process: the import,
//! the opening and the dispatcher, so the peak RSS printed is theirs
//! together (plus the in-process sink when postfix's `smtp-sink` is absent).

use crate::config::Settings;
use crate::db::{DatabaseUrl, DbConnection, Pool};
use crate::domain::survey::{Question, QuestionKind};
use crate::jobs::{enqueue::RoundEmails, scheduler, Mailing};
use crate::mail::{dispatcher, smtp::SmtpRelay, Transport};
use crate::repo;
use anyhow::{bail, Context};
use chrono::Utc;
use diesel::prelude::*;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

const SMTP_SINK: &str = "/usr/sbin/smtp-sink";
const SMTP_SOURCE: &str = "/usr/sbin/smtp-source";

pub async fn run(settings: &Settings, pool: Pool, people: usize) -> anyhow::Result<()> {
    if people == 0 || people > 1_000_000 {
        bail!("--people must be 1 to 1000000");
    }
    let engine = settings.database_url.engine();
    {
        let mut conn = pool.get()?;
        let existing: i64 = crate::db::schema::employees::table
            .count()
            .get_result(&mut conn)?;
        if existing > 0 {
            bail!(
                "the database already has {existing} people: point DATABASE_URL at a scratch database (a new SQLite file, or an empty PostgreSQL database)"
            );
        }
    }
    println!("{engine} database, {people} people; everything below runs in this process");

    // Import.
    let csv = company_csv(people);
    let started = Instant::now();
    let rows = crate::domain::people_csv::parse(csv.as_bytes())
        .map_err(|e| anyhow::anyhow!("the generated CSV does not parse: {e:?}"))?;
    drop(csv);
    let parsed = started.elapsed();
    let summary = {
        let pool = pool.clone();
        tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            let mut conn = pool.get()?;
            let today = Utc::now().date_naive();
            repo::import::apply(&mut conn, &rows, today, &mut |_, _| {})
                .map_err(|e| anyhow::anyhow!("import failed: {e:?}"))
        })
        .await??
    };
    let imported = started.elapsed();
    crate::memory::give_back();
    println!(
        "import: {} people in {:.2} s (CSV parsing {:.2} s), {} created",
        people,
        imported.as_secs_f64(),
        parsed.as_secs_f64(),
        summary.created
    );
    println!("  memory: {}", memory());
    match raw_insert_time(&settings.database_url, people) {
        Ok(Some(raw)) => println!(
            "  raw engine, the same rows inserted in one transaction by its command-line client: {:.2} s (Pulse {:.1}x that)",
            raw,
            imported.as_secs_f64() / raw
        ),
        Ok(None) => println!("  (sqlite3 / psql not found: no raw figure)"),
        Err(e) => println!("  (raw insert failed: {e:#})"),
    }

    // Opening the round.
    let mailing = Arc::new(Mailing {
        templates: crate::emails::EmailTemplates::new()?,
        base_url: "https://pulse.bench.example".into(),
        from: "Pulse <pulse@bench.example>".into(),
        mail_dir: std::env::temp_dir(),
    });
    let survey = {
        let mut conn = pool.get()?;
        bench_survey(&mut conn)?
    };
    let started = Instant::now();
    let outcome = {
        let (pool, mailing) = (pool.clone(), mailing.clone());
        tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            let mut conn = pool.get()?;
            let now = Utc::now();
            scheduler::open_round(&mut conn, &survey, now, now, &mailing)
        })
        .await??
    };
    let opened = started.elapsed();
    crate::memory::give_back();
    let invited = match outcome {
        scheduler::RoundOutcome::Sent { invited, .. } => invited,
        other => bail!("the round did not open: {other:?}"),
    };
    println!(
        "round opened: {invited} invitations with their outbox emails in {:.2} s ({} per transaction)",
        opened.as_secs_f64(),
        scheduler::OPENING_CHUNK
    );
    println!("  memory: {}", memory());

    // Delivery.
    let sink = Sink::start().await?;
    let transport = Transport::Smtp(
        SmtpRelay::from_url(&format!("smtp://127.0.0.1:{}", sink.port))
            .map_err(anyhow::Error::msg)?,
    );
    let render: Arc<dyn dispatcher::Render> = Arc::new(RoundEmails::new(mailing.clone()));
    // smtp-source runs just before Pulse and just after it, into the same
    // sink: on two shared cores one blast alone moved by a third from run to
    // run (whatever else ran meanwhile), so Pulse is set against both.
    let size = sample_size(&pool, &mailing).await.unwrap_or(2048);
    let raw_before = smtp_source_rate(sink.port, people, size);
    let started = Instant::now();
    let report =
        dispatcher::dispatch_rendering(&pool, &transport, &mailing.from, Some(render), Utc::now())
            .await?;
    let took = started.elapsed().as_secs_f64();
    let rate = report.sent as f64 / took;
    println!(
        "delivery into {}: {} sent, {} retried, {} failed in {:.2} s: {:.0} messages/s",
        sink.kind, report.sent, report.retried, report.failed, took, rate
    );
    println!("  memory: {}", memory());
    if let Some(counted) = sink.counted() {
        println!("  the sink counted {counted} messages");
    }
    let raw_after = smtp_source_rate(sink.port, people, size);
    match (raw_before, raw_after) {
        (Some(Ok(before)), Some(Ok(after))) => println!(
            "  postfix smtp-source -s 10 -m {people} -l {size} into the same sink, just before and just after: {before:.0} and {after:.0} messages/s; Pulse {:.2}x their mean ({:.2}x and {:.2}x)",
            rate / ((before + after) / 2.0),
            rate / before,
            rate / after
        ),
        (Some(Err(e)), _) | (_, Some(Err(e))) => println!("  smtp-source failed: {e:#}"),
        _ => println!("  ({SMTP_SOURCE} not found: no raw figure; apt-get install postfix)"),
    }
    match first_email(&pool, &mailing, sink.port).await {
        Ok((first, all, n)) => println!(
            "first email: a round for one team of {n} opened while the loops of `pulse serve` wait for their 30 s tick: first email sent {:.0} ms after the opening began, all {n} after {:.0} ms",
            first * 1000.0,
            all * 1000.0
        ),
        Err(e) => println!("  (first email not measured: {e:#})"),
    }
    drop(sink);
    println!(
        "peak RSS of this process (VmHWM): {}",
        peak_rss().unwrap_or_else(|| "unknown".into())
    );
    Ok(())
}

/// Seconds from the start of opening a round for one team (while the loops
/// of `pulse serve` run, idle) until its first email and all of them are
/// recorded sent, and how many it had: the dispatcher is woken by the
/// opening, not by its tick.
async fn first_email(
    pool: &Pool,
    mailing: &Arc<Mailing>,
    sink_port: u16,
) -> anyhow::Result<(f64, f64, usize)> {
    use crate::db::schema::{outbox, teams};
    let transport = Transport::Smtp(
        SmtpRelay::from_url(&format!("smtp://127.0.0.1:{sink_port}"))
            .map_err(anyhow::Error::msg)?,
    );
    tokio::spawn(crate::jobs::run_forever(
        pool.clone(),
        mailing.clone(),
        transport,
        std::time::Duration::from_secs(30),
        Arc::new(crate::metrics::Metrics::new()),
    ));
    // The loops' first passes, at start, find nothing to do; after them
    // only a wake sends anything before the tick, 30 s away.
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let survey = {
        let mut conn = pool.get()?;
        let survey = bench_survey(&mut conn)?;
        let team: i32 = teams::table
            .filter(teams::name.eq("Team 0"))
            .select(teams::id)
            .first(&mut conn)?;
        repo::surveys::set_audience(&mut conn, survey.id, &[team])?;
        survey
    };
    let started = Instant::now();
    let round_id = {
        let (pool, mailing) = (pool.clone(), mailing.clone());
        tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            let mut conn = pool.get()?;
            let now = Utc::now();
            match scheduler::open_round(&mut conn, &survey, now, now, &mailing)? {
                scheduler::RoundOutcome::Sent { round_id, .. } => Ok(round_id),
                other => bail!("the round did not open: {other:?}"),
            }
        })
        .await??
    };
    let mut conn = pool.get()?;
    let of_round = format!("invite:{round_id}:%");
    let total: i64 = outbox::table
        .filter(outbox::dedupe_key.like(&of_round))
        .count()
        .get_result(&mut conn)?;
    let mut first = None;
    loop {
        let sent: i64 = outbox::table
            .filter(outbox::dedupe_key.like(&of_round))
            .filter(outbox::status.eq(repo::outbox::SENT))
            .count()
            .get_result(&mut conn)?;
        let at = started.elapsed().as_secs_f64();
        if sent > 0 {
            first.get_or_insert(at);
        }
        if sent == total {
            return Ok((first.unwrap_or(at), at, total as usize));
        }
        if at > 60.0 {
            bail!("{sent} of {total} sent after a minute");
        }
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
}

/// N people in teams of 10 under departments of 10 teams, each with a manager.
fn company_csv(people: usize) -> String {
    let mut csv = String::with_capacity(people * 80);
    csv.push_str("email,name,team,manager_email,hired_on\n");
    for i in 0..people {
        let team = i / 10;
        let lead = team * 10;
        let manager = if i == lead {
            String::new()
        } else {
            format!("p{lead}@bench.example")
        };
        csv.push_str(&format!(
            "p{i}@bench.example,Person {i},Dept {}/Team {team},{manager},2020-01-01\n",
            team / 10
        ));
    }
    csv
}

/// A once-only survey for everyone, opening with the eNPS question.
fn bench_survey(conn: &mut DbConnection) -> anyhow::Result<repo::surveys::Survey> {
    let now = Utc::now().naive_utc();
    let id = repo::surveys::insert(
        conn,
        &repo::surveys::NewSurvey {
            title: "Weekly pulse".into(),
            intro: Some("Two minutes, anonymous.".into()),
            enps_scale: "1-10".into(),
            cadence: "once".into(),
            starts_on: now.date(),
            send_time: "09:00".into(),
            timezone: "Europe/Paris".into(),
            open_days: 7,
            reminder_after_days: None,
            min_group_size: 5,
            status: "paused".into(),
            question_version: 1,
            scheduled_until: now,
            created_at: now,
            updated_at: now,
        },
    )?;
    let question = |kind, prompt: &str| Question {
        kind,
        prompt: prompt.into(),
        options: Vec::new(),
        required: false,
        driver: None,
    };
    repo::surveys::insert_questions(
        conn,
        id,
        1,
        &[
            question(
                QuestionKind::Enps,
                "How likely are you to recommend us as a place to work?",
            ),
            question(QuestionKind::Scale, "I have what I need to do my job well."),
        ],
    )?;
    repo::surveys::find(conn, id)?.context("the survey just made")
}

/// The size of one rendered invitation, so smtp-source sends as many bytes.
async fn sample_size(pool: &Pool, mailing: &Arc<Mailing>) -> Option<usize> {
    use dispatcher::Render;
    let pool = pool.clone();
    let from = mailing.from.clone();
    let render = RoundEmails::new(mailing.clone());
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get().ok()?;
        let round_id: i32 = crate::db::schema::rounds::table
            .select(crate::db::schema::rounds::id)
            .first(&mut conn)
            .ok()?;
        let message = repo::outbox::OutboxMessage {
            id: 0,
            dedupe_key: "invite:0:0".into(),
            recipient: "p0@bench.example".into(),
            message: String::new(),
            message_id: crate::mail::new_message_id("invite:0:0", &from),
            attempts: 0,
            template: Some("invitation".into()),
            round_id: Some(round_id),
            token: Some(crate::tokens::random_token()),
            to_name: Some("Person 0".into()),
            locale: Some("en".into()),
        };
        render
            .render(&mut conn, &message)
            .ok()?
            .ok()
            .map(|m| m.len())
    })
    .await
    .ok()?
}

/// Seconds the engine's own command-line client takes to insert the same
/// people (email, name, team, dates) into a table of the same shape, one
/// transaction; None when the client is not installed.
fn raw_insert_time(url: &DatabaseUrl, people: usize) -> anyhow::Result<Option<f64>> {
    let mut script = String::with_capacity(people * 120);
    let (program, args): (&str, Vec<String>) = match url {
        DatabaseUrl::Sqlite(_) => {
            let file =
                std::env::temp_dir().join(format!("pulse-bench-raw-{}.db", std::process::id()));
            let _ = std::fs::remove_file(&file);
            script.push_str("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;\n");
            ("sqlite3", vec![file.display().to_string()])
        }
        DatabaseUrl::Postgres(u) => ("psql", vec!["-q".into(), "-X".into(), u.clone()]),
    };
    script.push_str(
        "BEGIN;\nCREATE TEMP TABLE raw_people (id SERIAL PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT NOT NULL, team_id INTEGER, manager_id INTEGER, role TEXT NOT NULL, hired_on DATE NOT NULL, locale TEXT NOT NULL, created_at TIMESTAMP NOT NULL, updated_at TIMESTAMP NOT NULL);\n",
    );
    if matches!(url, DatabaseUrl::Sqlite(_)) {
        script = script.replace("SERIAL PRIMARY KEY", "INTEGER PRIMARY KEY");
    }
    for i in 0..people {
        let team = i / 10 + 1;
        let manager = if i % 10 == 0 {
            "NULL".to_string()
        } else {
            (i / 10 * 10 + 1).to_string()
        };
        script.push_str(&format!(
            "INSERT INTO raw_people (email, name, team_id, manager_id, role, hired_on, locale, created_at, updated_at) VALUES ('p{i}@bench.example', 'Person {i}', {team}, {manager}, 'member', '2020-01-01', 'en', '2026-01-01 00:00:00', '2026-01-01 00:00:00');\n"
        ));
    }
    script.push_str("COMMIT;\n");
    let started = Instant::now();
    let child = Command::new(program)
        .args(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).context(program),
    };
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().context("stdin")?;
        stdin.write_all(script.as_bytes())?;
    }
    let out = child.wait_with_output()?;
    let took = started.elapsed().as_secs_f64();
    if let DatabaseUrl::Sqlite(_) = url {
        let file = std::env::temp_dir().join(format!("pulse-bench-raw-{}.db", std::process::id()));
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
        }
    }
    if !out.status.success() {
        bail!("{program}: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(Some(took))
}

/// Rate of postfix's `smtp-source` with 10 sessions into the sink; None when not installed.
fn smtp_source_rate(port: u16, messages: usize, size: usize) -> Option<anyhow::Result<f64>> {
    if !std::path::Path::new(SMTP_SOURCE).exists() {
        return None;
    }
    let started = Instant::now();
    let out = Command::new(SMTP_SOURCE)
        .args([
            "-s",
            "10",
            "-m",
            &messages.to_string(),
            "-l",
            &size.to_string(),
        ])
        .arg(format!("127.0.0.1:{port}"))
        .output();
    let took = started.elapsed().as_secs_f64();
    Some(match out {
        Ok(o) if o.status.success() => Ok(messages as f64 / took),
        Ok(o) => Err(anyhow::anyhow!(
            "exit {}: {}",
            o.status,
            String::from_utf8_lossy(&o.stderr)
        )),
        Err(e) => Err(e.into()),
    })
}

/// Where the emails go: postfix's `smtp-sink` when installed, else a small
/// SMTP server in this process that counts what it takes.
struct Sink {
    port: u16,
    kind: &'static str,
    child: Option<std::process::Child>,
    counted: Option<Arc<AtomicUsize>>,
}

impl Sink {
    async fn start() -> anyhow::Result<Self> {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0")?;
            l.local_addr()?.port()
        };
        if std::path::Path::new(SMTP_SINK).exists() {
            let child = Command::new(SMTP_SINK)
                .args(["-u", "nobody", &format!("127.0.0.1:{port}"), "1000"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .context("cannot start smtp-sink")?;
            for _ in 0..100 {
                if tokio::net::TcpStream::connect(("127.0.0.1", port))
                    .await
                    .is_ok()
                {
                    return Ok(Self {
                        port,
                        kind: "postfix smtp-sink",
                        child: Some(child),
                        counted: None,
                    });
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            bail!("smtp-sink did not start listening");
        }
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let counted = Arc::new(AtomicUsize::new(0));
        let count = counted.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let count = count.clone();
                tokio::spawn(async move {
                    let _ = serve_smtp(stream, &count).await;
                });
            }
        });
        Ok(Self {
            port,
            kind: "the in-process sink",
            child: None,
            counted: Some(counted),
        })
    }

    fn counted(&self) -> Option<usize> {
        self.counted.as_ref().map(|c| c.load(Ordering::Relaxed))
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Just enough SMTP to take messages: every command is accepted, data is
/// read up to the lone dot and counted.
async fn serve_smtp(stream: tokio::net::TcpStream, count: &AtomicUsize) -> std::io::Result<()> {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    stream.set_nodelay(true)?;
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 sink ESMTP\r\n").await?;
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" => write.write_all(b"250-sink\r\n250 8BITMIME\r\n").await?,
            "DATA" => {
                write.write_all(b"354 go ahead\r\n").await?;
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                }
                count.fetch_add(1, Ordering::Relaxed);
                write.write_all(b"250 taken\r\n").await?;
            }
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            _ => write.write_all(b"250 ok\r\n").await?,
        }
    }
}

/// A line of /proc/self/status, e.g. VmHWM: the most memory this process has held.
fn status_line(name: &str) -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .map(|v| v.trim().to_string())
}

fn peak_rss() -> Option<String> {
    status_line("VmHWM")
}

/// Resident memory now and at its peak so far.
fn memory() -> String {
    format!(
        "RSS {}, peak {}",
        status_line("VmRSS").unwrap_or_default(),
        status_line("VmHWM").unwrap_or_default()
    )
}
