//! `pulse bench answers`: answers over HTTP against the raw engine doing the same writes, side by side.
//!
//! On the configured database (a scratch one: the bench adds a survey, a round and
//! its invitees) it starts the real server in-process on a loopback port and posts
//! `POST /api/v1/responses` with distinct valid links from C keep-alive
//! connections; then C threads (SQLite) or C connections (PostgreSQL) do what one
//! answer used to cost the engine, one transaction each: look the link up, mark
//! it answered, insert the response and its answers, add it to the round and
//! team counters, commit.

use crate::config::Settings;
use crate::db::schema::{answers, invitations, responses, round_team_stats as stats, rounds};
use crate::db::{insert_all, DbConnection, Manager};
use crate::domain::survey::{EnpsScale, Question, QuestionKind};
use crate::repo::{self, rounds::NewRound, surveys::NewSurvey};
use crate::tokens::{random_token, sha256_hex};
use chrono::{Duration as Days, Utc};
use diesel::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub struct Options {
    pub connections: Vec<usize>,
    pub seconds: u64,
    pub people: usize,
}

/// Teams the invitees are spread over, so answers touch several counters.
const TEAMS: usize = 8;

/// The round every run answers, and one link per invitee.
struct Fixture {
    round_id: i32,
    questions: Vec<i32>,
    tokens: Vec<String>,
    /// The next unused link: every answer, HTTP or raw, takes a fresh one.
    next: Arc<AtomicUsize>,
}

/// What one run measured.
struct Run {
    answers: usize,
    errors: usize,
    seconds: f64,
    latencies_us: Vec<u64>,
}

impl Run {
    fn rate(&self) -> f64 {
        self.answers as f64 / self.seconds
    }

    fn percentile_ms(&mut self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        self.latencies_us.sort_unstable();
        let i = ((self.latencies_us.len() as f64 - 1.0) * p).round() as usize;
        self.latencies_us[i] as f64 / 1000.0
    }
}

pub async fn run(settings: &Settings, opts: Options) -> anyhow::Result<()> {
    let engine = settings.database_url.engine();
    let fixture = {
        let settings = settings.clone();
        let people = opts.people;
        tokio::task::spawn_blocking(move || set_up(&settings, people)).await??
    };
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let address = listener.local_addr()?;
    let mut server_settings = settings.clone();
    server_settings.bind = address.to_string();
    let app = crate::startup::Application::build_with_listener(server_settings, listener).await?;
    let server = tokio::spawn(app.run_until_stopped());

    println!(
        "{engine}: {} invitees in round {}, {} s per run; raw = one transaction per answer, the same writes",
        fixture.tokens.len(),
        fixture.round_id,
        opts.seconds
    );
    println!(
        "{:>5} {:>11} {:>8} {:>8} {:>7} {:>11} {:>8} {:>8} {:>7}",
        "conns",
        "http ans/s",
        "p50 ms",
        "p99 ms",
        "errors",
        "raw ans/s",
        "p50 ms",
        "p99 ms",
        "ratio"
    );
    let seconds = Duration::from_secs(opts.seconds);
    let raw_run = |c: usize| {
        let manager = Manager::new(settings.database_url.clone());
        let (tokens, next, round_id, questions) = (
            fixture.tokens.clone(),
            fixture.next.clone(),
            fixture.round_id,
            fixture.questions.clone(),
        );
        tokio::task::spawn_blocking(move || {
            raw_engine(&manager, &tokens, &next, round_id, &questions, c, seconds)
        })
    };
    for &c in &opts.connections {
        let mut http = over_http(address, &fixture, c, seconds).await?;
        let mut raw = raw_run(c).await??;
        println!(
            "{:>5} {:>11.0} {:>8.2} {:>8.2} {:>7} {:>11.0} {:>8.2} {:>8.2} {:>6.2}x",
            c,
            http.rate(),
            http.percentile_ms(0.5),
            http.percentile_ms(0.99),
            http.errors,
            raw.rate(),
            raw.percentile_ms(0.5),
            raw.percentile_ms(0.99),
            http.rate() / raw.rate().max(f64::MIN_POSITIVE),
        );
        if raw.errors > 0 {
            println!("      (raw engine: {} failed transactions)", raw.errors);
        }
    }
    // For reference: the engine with a single connection, where no transaction
    // waits for another's lock.
    let mut alone = raw_run(1).await??;
    println!(
        "raw engine, 1 connection: {:.0} answers/s, p50 {:.2} ms, p99 {:.2} ms",
        alone.rate(),
        alone.percentile_ms(0.5),
        alone.percentile_ms(0.99)
    );
    if fixture.next.load(Ordering::Relaxed) >= fixture.tokens.len() {
        println!("note: every link was used before the time was up; give more --people");
    }
    server.abort();
    Ok(())
}

/// A paused one-off survey of four questions and an open round for `people`
/// new invitees, spread over new teams, with their counters.
fn set_up(settings: &Settings, people: usize) -> anyhow::Result<Fixture> {
    let pool = crate::startup::prepare_database(settings).map_err(anyhow::Error::msg)?;
    let mut conn = pool.get()?;
    let conn = &mut *conn;
    let now = Utc::now().naive_utc();
    let stamp = &random_token()[..8];
    let mut teams = Vec::with_capacity(TEAMS);
    for t in 0..TEAMS {
        let name = format!("Bench {stamp} {t}");
        teams.push(repo::teams::insert(
            conn,
            &repo::teams::NewTeam {
                name: &name,
                parent_id: None,
                lead_id: None,
                created_at: now,
            },
        )?);
    }
    let employees: Vec<repo::employees::NewEmployee> = (0..people)
        .map(|i| repo::employees::NewEmployee {
            email: format!("bench-{stamp}-{i}@bench.example"),
            name: format!("Bench {i}"),
            team_id: Some(teams[i % TEAMS]),
            manager_id: None,
            role: "member".into(),
            hired_on: now.date() - Days::days(400),
            left_on: None,
            leave_reason: None,
            regretted: false,
            locale: "en".into(),
            password_hash: None,
            created_at: now,
            updated_at: now,
        })
        .collect();
    insert_all!(conn, crate::db::schema::employees::table, employees);
    let employee_ids: Vec<i32> = crate::db::schema::employees::table
        .filter(crate::db::schema::employees::email.like(format!("bench-{stamp}-%")))
        .order(crate::db::schema::employees::id)
        .select(crate::db::schema::employees::id)
        .load(conn)?;
    let survey_id = repo::surveys::insert(
        conn,
        &NewSurvey {
            title: format!("Bench {stamp}"),
            intro: None,
            enps_scale: EnpsScale::OneToTen.as_str().into(),
            cadence: "once".into(),
            starts_on: now.date(),
            send_time: "09:00".into(),
            timezone: "UTC".into(),
            open_days: 5,
            reminder_after_days: None,
            min_group_size: 5,
            status: "paused".into(),
            question_version: 1,
            scheduled_until: now,
            created_at: now,
            updated_at: now,
        },
    )?;
    let question = |kind, prompt: &str, options: &[&str]| Question {
        kind,
        prompt: prompt.into(),
        options: options.iter().map(|o| o.to_string()).collect(),
        required: true,
        driver: None,
    };
    repo::surveys::insert_questions(
        conn,
        survey_id,
        1,
        &[
            question(
                QuestionKind::Enps,
                "How likely are you to recommend us?",
                &[],
            ),
            question(QuestionKind::Scale, "I have what I need", &[]),
            question(
                QuestionKind::Choice,
                "Where do you work?",
                &["Office", "Home"],
            ),
            question(QuestionKind::Text, "Anything else?", &[]),
        ],
    )?;
    let questions = repo::surveys::questions(conn, survey_id, 1)?
        .iter()
        .map(|q| q.id)
        .collect();
    let round_id = repo::rounds::insert(
        conn,
        &NewRound {
            survey_id,
            question_version: 1,
            scheduled_for: now,
            opens_at: now,
            closes_at: now + Days::days(1),
            reminder_at: None,
            reminded: true,
            status: "open".into(),
            invited: people as i32,
            responded: 0,
            enps_scale: EnpsScale::OneToTen.as_str().into(),
            min_group_size: 5,
            created_at: now,
        },
    )?;
    let tokens: Vec<String> = (0..employee_ids.len()).map(|_| random_token()).collect();
    let rows: Vec<_> = employee_ids
        .iter()
        .zip(&tokens)
        .enumerate()
        .map(|(i, (employee, token))| {
            (
                invitations::round_id.eq(round_id),
                invitations::employee_id.eq(*employee),
                invitations::team_id.eq(Some(teams[i % TEAMS])),
                invitations::token_hash.eq(sha256_hex(token)),
                invitations::responded.eq(false),
            )
        })
        .collect();
    insert_all!(conn, invitations::table, rows);
    let invited: std::collections::BTreeMap<i32, i32> = teams
        .iter()
        .enumerate()
        .map(|(t, id)| (*id, ((people + TEAMS - 1 - t) / TEAMS) as i32))
        .collect();
    repo::rounds::insert_team_stats(conn, round_id, &invited)?;
    Ok(Fixture {
        round_id,
        questions,
        tokens,
        next: Arc::new(AtomicUsize::new(0)),
    })
}

fn answer_body(token: &str, q: &[i32], n: usize) -> String {
    format!(
        r#"{{"token":"{token}","answers":[{{"question_id":{},"score":{}}},{{"question_id":{},"score":{}}},{{"question_id":{},"choice":"{}"}},{{"question_id":{},"text":"fine"}}]}}"#,
        q[0],
        1 + n % 10,
        q[1],
        1 + n % 5,
        q[2],
        if n.is_multiple_of(2) {
            "Office"
        } else {
            "Home"
        },
        q[3],
    )
}

/// C keep-alive HTTP/1.1 connections posting answers for `time`.
async fn over_http(
    address: std::net::SocketAddr,
    fixture: &Fixture,
    connections: usize,
    time: Duration,
) -> anyhow::Result<Run> {
    let started = Instant::now();
    let deadline = started + time;
    let tokens = Arc::new(fixture.tokens.clone());
    let questions = Arc::new(fixture.questions.clone());
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (tokens, questions, next) = (tokens.clone(), questions.clone(), fixture.next.clone());
        tasks.push(tokio::spawn(async move {
            let mut stream = tokio::net::TcpStream::connect(address).await?;
            stream.set_nodelay(true)?;
            let (mut latencies, mut errors) = (Vec::new(), 0usize);
            let mut buf = Vec::with_capacity(4096);
            while Instant::now() < deadline {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let Some(token) = tokens.get(n) else { break };
                let body = answer_body(token, &questions, n);
                let request = format!(
                    "POST /api/v1/responses HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
                let sent = Instant::now();
                stream.write_all(request.as_bytes()).await?;
                let status = read_response(&mut stream, &mut buf).await?;
                latencies.push(sent.elapsed().as_micros() as u64);
                if status != 201 {
                    errors += 1;
                }
            }
            anyhow::Ok((latencies, errors))
        }));
    }
    let mut run = Run {
        answers: 0,
        errors: 0,
        seconds: 0.0,
        latencies_us: Vec::new(),
    };
    for t in tasks {
        let (latencies, errors) = t.await??;
        run.answers += latencies.len() - errors;
        run.errors += errors;
        run.latencies_us.extend(latencies);
    }
    run.seconds = started.elapsed().as_secs_f64();
    Ok(run)
}

/// Reads one HTTP/1.1 response with a Content-Length body; returns its status.
async fn read_response(
    stream: &mut tokio::net::TcpStream,
    buf: &mut Vec<u8>,
) -> anyhow::Result<u16> {
    buf.clear();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = std::str::from_utf8(&buf[..end])?;
            let status: u16 = head
                .split(' ')
                .nth(1)
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| anyhow::anyhow!("not an HTTP response: {head}"))?;
            let length: usize = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().ok())?
                })
                .unwrap_or(0);
            while buf.len() < end + 4 + length {
                let n = stream.read(&mut chunk).await?;
                anyhow::ensure!(n > 0, "the server closed the connection");
                buf.extend_from_slice(&chunk[..n]);
            }
            return Ok(status);
        }
        let n = stream.read(&mut chunk).await?;
        anyhow::ensure!(n > 0, "the server closed the connection");
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// C threads, each with its own connection, one transaction per answer.
fn raw_engine(
    manager: &Manager,
    tokens: &[String],
    next: &AtomicUsize,
    round_id: i32,
    questions: &[i32],
    connections: usize,
    time: Duration,
) -> anyhow::Result<Run> {
    let started = Instant::now();
    let deadline = started + time;
    let results: Vec<anyhow::Result<(Vec<u64>, usize)>> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..connections)
            .map(|_| {
                s.spawn(|| {
                    let mut conn = manager.establish()?;
                    let (mut latencies, mut errors) = (Vec::new(), 0usize);
                    while Instant::now() < deadline {
                        let n = next.fetch_add(1, Ordering::Relaxed);
                        let Some(token) = tokens.get(n) else { break };
                        let began = Instant::now();
                        match raw_answer(&mut conn, &sha256_hex(token), round_id, questions, n) {
                            Ok(()) => latencies.push(began.elapsed().as_micros() as u64),
                            Err(_) => errors += 1,
                        }
                    }
                    anyhow::Ok((latencies, errors))
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a worker panicked")))
            })
            .collect()
    });
    let mut run = Run {
        answers: 0,
        errors: 0,
        seconds: started.elapsed().as_secs_f64(),
        latencies_us: Vec::new(),
    };
    for r in results {
        let (latencies, errors) = r?;
        run.answers += latencies.len();
        run.errors += errors;
        run.latencies_us.extend(latencies);
    }
    Ok(run)
}

/// One answer as the engine sees it: the statements of the old request path
/// that wrote or looked up the link, in one transaction (`BEGIN IMMEDIATE` on
/// SQLite, as the server's writes), with prepared statements.
fn raw_answer(
    conn: &mut DbConnection,
    token_hash: &str,
    round_id: i32,
    q: &[i32],
    n: usize,
) -> QueryResult<()> {
    let score = 1 + (n % 10) as i32;
    let (promoter, passive, detractor) = (
        i32::from(score >= 9),
        i32::from((7..=8).contains(&score)),
        i32::from(score <= 6),
    );
    let response_id = random_token()[..32].to_string();
    macro_rules! body {
        ($c:ident) => {{
            let (id, team_id, responded): (i32, Option<i32>, bool) = invitations::table
                .filter(
                    invitations::token_hash
                        .eq(token_hash)
                        .or(invitations::reminder_token_hash.eq(token_hash)),
                )
                .select((
                    invitations::id,
                    invitations::team_id,
                    invitations::responded,
                ))
                .first($c)?;
            if responded {
                return Err(diesel::result::Error::RollbackTransaction);
            }
            diesel::update(
                invitations::table
                    .find(id)
                    .filter(invitations::responded.eq(false)),
            )
            .set(invitations::responded.eq(true))
            .execute($c)?;
            diesel::insert_into(responses::table)
                .values((
                    responses::id.eq(&response_id),
                    responses::round_id.eq(round_id),
                    responses::team_id.eq(team_id),
                    responses::submitted_on.eq(Utc::now().date_naive()),
                ))
                .execute($c)?;
            let row = |question: i32,
                       score: Option<i32>,
                       scale: Option<&'static str>,
                       choice: Option<&'static str>,
                       text: Option<&'static str>| {
                (
                    answers::response_id.eq(response_id.as_str()),
                    answers::question_id.eq(question),
                    answers::score.eq(score),
                    answers::scale.eq(scale),
                    answers::choice.eq(choice),
                    answers::text.eq(text),
                )
            };
            diesel::insert_into(answers::table)
                .values(vec![
                    row(q[0], Some(score), Some("1-10"), None, None),
                    row(q[1], Some(1 + (n % 5) as i32), None, None, None),
                    row(q[2], None, None, Some("Office"), None),
                    row(q[3], None, None, None, Some("fine")),
                ])
                .execute($c)?;
            diesel::update(rounds::table.find(round_id))
                .set(rounds::responded.eq(rounds::responded + 1))
                .execute($c)?;
            diesel::update(stats::table.find((round_id, team_id.unwrap_or(0))))
                .set((
                    stats::responses.eq(stats::responses + 1),
                    stats::promoters.eq(stats::promoters + promoter),
                    stats::passives.eq(stats::passives + passive),
                    stats::detractors.eq(stats::detractors + detractor),
                ))
                .execute($c)?;
            Ok(())
        }};
    }
    match conn {
        DbConnection::Sqlite(c) => c.immediate_transaction(|c| body!(c)),
        DbConnection::Postgresql(c) => c.transaction(|c| body!(c)),
    }
}
