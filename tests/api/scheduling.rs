//! The scheduler under concurrency and from the command line.

use crate::helpers::TestApp;
use crate::surveys::{people, read_email, weekly};
use diesel::prelude::*;
use serde_json::{json, Value};

async fn two_schedulers_create_each_round_and_email_once(app: TestApp) {
    let admin = app.admin_token().await;
    let (team, _) = people(&app, &admin).await;
    let mut body = weekly(team);
    body["schedule"]["cadence"] = json!("monthly");
    body["schedule"]["open_days"] = json!(20);
    app.post("/api/v1/surveys", Some(&admin), body).await;
    let at = chrono::DateTime::parse_from_rfc3339("2035-12-07T08:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let url = pulse::db::DatabaseUrl::parse(&app.database_url).unwrap();
    // Two instances, each with its own pool, tick at the same instant.
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let url = url.clone();
                let mailing = app.state.mailing.clone();
                s.spawn(move || {
                    let pool = pulse::db::connect(&url, 2).unwrap();
                    let mut conn = pool.get().unwrap();
                    pulse::jobs::scheduler::run(&mut conn, &mailing, at).unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let sent: usize = results.iter().map(|r| r.rounds_sent).sum();
    assert_eq!(sent, 1, "{results:?}");
    let mut conn = app.conn();
    let rounds: i64 = pulse::db::schema::rounds::table
        .count()
        .get_result(&mut conn)
        .unwrap();
    let invitations: i64 = pulse::db::schema::invitations::table
        .count()
        .get_result(&mut conn)
        .unwrap();
    let emails: i64 = pulse::db::schema::outbox::table
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!((rounds, invitations, emails), (1, 3, 3));
}

async fn pulse_tick_at_writes_eml_files_by_default(app: TestApp) {
    let admin = app.admin_token().await;
    let (team, _) = people(&app, &admin).await;
    app.post("/api/v1/surveys", Some(&admin), weekly(team))
        .await;
    let dir = app.mail_dir.join("cli");
    let run = |at: &str| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_pulse"))
            .args(["tick", "--at", at])
            .env("DATABASE_URL", &app.database_url)
            .env("PULSE_MAIL_DIR", &dir)
            .env("PULSE_BASE_URL", &app.address)
            .env_remove("SMTP_URL")
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let out = run("2035-12-07T08:00:00Z");
    assert!(
        out.contains("1 round(s) sent with 3 invitation(s)") && out.contains("3 sent"),
        "{out}"
    );
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 3);
    assert!(files.iter().all(|p| p.extension().unwrap() == "eml"));
    let (_, _, text) = read_email(&std::fs::read_to_string(&files[0]).unwrap());
    let link = crate::surveys::link_path(&text);
    assert!(
        text.contains(&format!("{}{link}", app.address)),
        "links use PULSE_BASE_URL"
    );
    assert_eq!(app.get(&link, None).await.status(), 200);
    let again = run("2035-12-07T08:00:00Z");
    assert!(
        again.contains("0 round(s) sent") && again.contains("0 sent"),
        "{again}"
    );
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 3);
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_pulse"))
        .args(["tick", "--at", "next monday"])
        .env("DATABASE_URL", &app.database_url)
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("RFC 3339"));
    let rounds: Value = app
        .get("/api/v1/surveys", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rounds[0]["next_round_at"], "2035-12-14T08:00:00Z");
}

/// The issue's walk-through with a real SMTP server: `pulse tick --at` the
/// first instant mails every invitee a working link; SMTP going down delays
/// the reminders but loses and repeats nothing.
async fn rounds_go_out_over_smtp_and_survive_an_outage(app: TestApp) {
    let admin = app.admin_token().await;
    let (team, _) = people(&app, &admin).await;
    let survey: Value = app
        .post("/api/v1/surveys", Some(&admin), weekly(team))
        .await
        .json()
        .await
        .unwrap();
    let q0 = survey["questions"][0]["id"].as_i64().unwrap();
    let mut sink = crate::smtp_sink::SmtpSink::start().await;
    let tick = |at: &str, smtp: String| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_pulse"))
            .args(["tick", "--at", at])
            .env("DATABASE_URL", &app.database_url)
            .env("SMTP_URL", smtp)
            .env("PULSE_BASE_URL", &app.address)
            .env("PULSE_MAIL_FROM", "Pulse <pulse@example.com>")
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let smtp = sink.url();
    let out = tokio::task::block_in_place(|| tick("2035-12-07T08:00:00Z", smtp.clone()));
    assert!(out.contains("3 sent"), "{out}");
    let received = sink.received();
    assert_eq!(received.len(), 3);
    let mut to: Vec<String> = received.iter().flat_map(|r| r.to.clone()).collect();
    to.sort();
    assert_eq!(
        to,
        vec!["e0@example.com", "e1@example.com", "e2@example.com"]
    );
    let first = received
        .iter()
        .find(|r| r.to == ["e0@example.com"])
        .unwrap();
    let (_, _, text) = read_email(&first.data);
    let link = crate::surveys::link_path(&text);
    let answers = json!([{"question_id": q0, "score": 10}, {"question_id": survey["questions"][1]["id"], "score": 5},
                         {"question_id": survey["questions"][2]["id"], "choice": "Office"}]);
    let res = app
        .post(
            "/api/v1/responses",
            None,
            json!({"token": link.trim_start_matches("/s/"), "answers": answers}),
        )
        .await;
    assert_eq!(res.status(), 201);

    // SMTP is down when the reminders are due: they wait in the outbox,
    // without an attempt counted against them.
    let port = sink.port();
    sink.stop().await;
    let out = tokio::task::block_in_place(|| tick("2035-12-09T08:00:00Z", smtp.clone()));
    assert!(
        out.contains("2 reminder(s)")
            && out.contains("0 sent")
            && out.contains("0 to retry")
            && out.contains("2 waiting for the mail relay"),
        "{out}"
    );
    // Back up: a later pass delivers each reminder once, to the two who did not answer.
    let sink = crate::smtp_sink::SmtpSink::start_on(port).await;
    let out = tokio::task::block_in_place(|| tick("2035-12-09T09:00:00Z", smtp.clone()));
    assert!(out.contains("2 sent"), "{out}");
    let out = tokio::task::block_in_place(|| tick("2035-12-09T10:00:00Z", smtp.clone()));
    assert!(
        out.contains("0 sent") && out.contains("0 reminder(s)"),
        "{out}"
    );
    let reminders = sink.received();
    assert_eq!(reminders.len(), 2);
    assert!(reminders.iter().all(|r| r.to != ["e0@example.com"]));
    assert!(sink.count_by_message_id().values().all(|&n| n == 1));
}

crate::on_both_engines!(
    two_schedulers_create_each_round_and_email_once,
    pulse_tick_at_writes_eml_files_by_default,
    rounds_go_out_over_smtp_and_survive_an_outage,
);

/// `pulse serve` on a database of its own, sending to `sink`, with a
/// scheduler tick every `tick_seconds`; killed when dropped.
struct Serve {
    address: String,
    database_url: String,
    client: reqwest::Client,
    server: std::process::Child,
    _db: crate::helpers::TestDb,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

impl Serve {
    async fn start(
        engine: crate::helpers::Engine,
        sink: &crate::smtp_sink::SmtpSink,
        tick_seconds: u64,
    ) -> Option<Self> {
        let (database_url, db) = crate::helpers::test_database(engine)?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let address = format!("http://127.0.0.1:{port}");
        let server = std::process::Command::new(env!("CARGO_BIN_EXE_pulse"))
            .arg("serve")
            .env("DATABASE_URL", &database_url)
            .env("PULSE_BIND", format!("127.0.0.1:{port}"))
            .env("SMTP_URL", sink.url())
            .env("PULSE_TICK_SECONDS", tick_seconds.to_string())
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let serve = Self {
            address,
            database_url,
            client: reqwest::Client::new(),
            server,
            _db: db,
        };
        let mut up = false;
        for _ in 0..100 {
            if serve.client.get(serve.url("/healthz")).send().await.is_ok() {
                up = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(up, "pulse serve did not answer");
        Some(serve)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Makes the admin in the database, as `pulse admin create` does, and signs in.
    async fn admin_token(&self) -> String {
        let mut conn =
            pulse::db::Manager::new(pulse::db::DatabaseUrl::parse(&self.database_url).unwrap())
                .establish()
                .unwrap();
        let admin = pulse::domain::email::Email::parse(crate::helpers::ADMIN_EMAIL).unwrap();
        pulse::repo::employees::make_admin(
            &mut conn,
            &admin,
            "HR",
            &pulse::auth::password::hash(crate::helpers::PASSWORD),
        )
        .unwrap();
        let login = self
            .post(
                "/api/v1/auth/login",
                None,
                json!({"email": crate::helpers::ADMIN_EMAIL, "password": crate::helpers::PASSWORD}),
            )
            .await;
        login["token"].as_str().unwrap().to_string()
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Value,
    ) -> (u16, Value) {
        let mut req = self.client.request(method, self.url(path)).json(&body);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Value {
        let (status, body) = self.send(reqwest::Method::POST, path, token, body).await;
        assert!((200..300).contains(&status), "POST {path}: {status} {body}");
        body
    }

    /// Sends a round of a new survey for everyone now, through the API.
    async fn send_round(&self, token: &str) {
        let mut survey = weekly(0);
        survey["audience"] = json!({"team_ids": []});
        let s = self.post("/api/v1/surveys", Some(token), survey).await;
        self.post(
            &format!("/api/v1/surveys/{}/rounds", s["id"]),
            Some(token),
            json!({}),
        )
        .await;
    }
}

/// Waits up to `seconds` for the sink to hold `n` messages; returns how many it holds.
async fn wait_for_mail(sink: &crate::smtp_sink::SmtpSink, n: usize, seconds: u64) -> usize {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    loop {
        let received = sink.received().len();
        if received >= n || std::time::Instant::now() >= deadline {
            return received;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// `pulse serve` runs the dispatcher on its own: a round sent from the API
/// reaches the SMTP server without any `pulse tick`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pulse_serve_delivers_mail_by_itself() {
    let sink = crate::smtp_sink::SmtpSink::start().await;
    let serve = Serve::start(crate::helpers::Engine::Sqlite, &sink, 1)
        .await
        .unwrap();
    let token = serve.admin_token().await;
    serve.send_round(&token).await;
    assert_eq!(
        wait_for_mail(&sink, 1, 10).await,
        1,
        "the admin, the only employee, got the invitation"
    );
}

/// Emails queued in `pulse serve` go at once, not at the dispatcher's next
/// tick: with a tick of an hour, after the first pass, a round sent through
/// the API and a password changed by an admin each reach the SMTP server
/// (the deadline is for a loaded machine: without the wake they would wait
/// the hour).
async fn queued_emails_go_without_waiting_for_the_tick(engine: crate::helpers::Engine) {
    let sink = crate::smtp_sink::SmtpSink::start().await;
    let Some(serve) = Serve::start(engine, &sink, 3600).await else {
        return;
    };
    let token = serve.admin_token().await;
    // The first pass, at start, is over: whatever comes next waits for the
    // hour unless queuing wakes the dispatcher.
    let mut passes = String::new();
    for _ in 0..200 {
        passes = serve
            .client
            .get(serve.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if passes.contains(r#"pulse_scheduler_passes_total{result="ok"} 1"#) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        passes.contains(r#"pulse_scheduler_passes_total{result="ok"} 1"#),
        "{passes}"
    );
    serve.send_round(&token).await;
    assert_eq!(wait_for_mail(&sink, 1, 60).await, 1, "the invitation");
    assert_eq!(sink.received()[0].to, [crate::helpers::ADMIN_EMAIL]);
    // Any email, not only a round's: an admin sets someone's password.
    let person = serve
        .post(
            "/api/v1/employees",
            Some(&token),
            json!({"email": "kim@example.com", "name": "Kim", "hired_on": "2024-01-01"}),
        )
        .await;
    let (status, _) = serve
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v1/employees/{}", person["id"]),
            Some(&token),
            json!({"password": "a brand new passphrase"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(wait_for_mail(&sink, 2, 60).await, 2, "the password notice");
    assert_eq!(sink.received()[1].to, ["kim@example.com"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_emails_go_without_waiting_for_the_tick_sqlite() {
    queued_emails_go_without_waiting_for_the_tick(crate::helpers::Engine::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_emails_go_without_waiting_for_the_tick_postgres() {
    queued_emails_go_without_waiting_for_the_tick(crate::helpers::Engine::Postgres).await
}
