//! Outgoing webhooks against a real HTTP receiver on loopback that checks every
//! signature: a closed round's disclosed figures only, delivery after an outage,
//! Slack and Teams shapes, final refusals, the events of people and 1:1s, and the API's rules.

use crate::helpers::{TestApp, ADMIN_EMAIL, PASSWORD};
use crate::pages::Browser;
use crate::reports::{answer, close_open_rounds, enps_survey, hire, send_now};
use diesel::prelude::*;
use hmac::{Hmac, Mac};
use pulse::db::schema::outbox;
use serde_json::{json, Value};
use sha2::Sha256;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

/// One request as the receiver got it.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    path: String,
    headers: Vec<(String, String)>,
    pub(crate) body: String,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }

    /// Checks `Pulse-Signature` as a receiver would: HMAC-SHA256 of "<t>.<body>".
    pub(crate) fn signed_with(&self, secret: &str) -> bool {
        let Some(sig) = self.header("pulse-signature") else {
            return false;
        };
        let mut t = None;
        let mut v1 = None;
        for part in sig.split(',') {
            match part.split_once('=') {
                Some(("t", x)) => t = Some(x.to_string()),
                Some(("v1", x)) => v1 = Some(x.to_string()),
                _ => {}
            }
        }
        let (Some(t), Some(v1)) = (t, v1) else {
            return false;
        };
        let age = chrono::Utc::now().timestamp() - t.parse::<i64>().unwrap();
        assert!(age.abs() < 600, "a fresh timestamp: {t}");
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{t}.{}", self.body).as_bytes());
        mac.verify_slice(&hex::decode(v1).unwrap()).is_ok()
    }
}

/// A small HTTP/1.1 server on a thread of its own: records each request and
/// answers with the status it is set to. Stopped, it closes its port.
pub(crate) struct Receiver {
    addr: SocketAddr,
    got: Arc<Mutex<Vec<Received>>>,
    status: Arc<AtomicU16>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Receiver {
    pub(crate) fn start() -> Receiver {
        Self::start_on(0)
    }

    fn start_on(port: u16) -> Receiver {
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        let addr = listener.local_addr().unwrap();
        let got = Arc::new(Mutex::new(vec![]));
        let status = Arc::new(AtomicU16::new(200));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (got, status, stop) = (got.clone(), status.clone(), stop.clone());
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(conn) = conn {
                        serve(conn, status.load(Ordering::SeqCst), &got);
                    }
                }
            })
        };
        Receiver {
            addr,
            got,
            status,
            stop,
            thread: Some(thread),
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub(crate) fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    fn answer(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    /// Closes the port: connections are refused from now on.
    fn stop(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

/// Reads one request, records it, then answers with `status`.
fn serve(conn: TcpStream, status: u16, got: &Mutex<Vec<Received>>) -> Option<()> {
    let mut reader = BufReader::new(conn.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let path = line.split_whitespace().nth(1)?.to_string();
    let mut headers = vec![];
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (n, v) = h.split_once(':')?;
        headers.push((n.trim().to_string(), v.trim().to_string()));
    }
    let len: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    // Recorded before the answer: a sender that has its answer finds it here.
    got.lock().unwrap().push(Received {
        path,
        headers,
        body: String::from_utf8(body).ok()?,
    });
    let mut conn = conn;
    let _ = write!(
        conn,
        "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
    );
    Some(())
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339()
}

/// Registers a webhook and returns (id, secret).
pub(crate) async fn register(app: &TestApp, admin: &str, body: Value) -> (i64, String) {
    let res = app.post("/api/v1/webhooks", Some(admin), body).await;
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    (
        body["id"].as_i64().unwrap(),
        body["secret"].as_str().unwrap().to_string(),
    )
}

async fn webhooks(app: &TestApp, admin: &str) -> Vec<Value> {
    let res = app.get("/api/v1/webhooks", Some(admin)).await;
    assert_eq!(res.status(), 200);
    res.json::<Value>()
        .await
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// Eng (6) and Sales (6) answer in full; Tiny (2) too, below the threshold of 5.
async fn round_with_a_small_team(app: &TestApp, admin: &str) -> (i64, i64) {
    let eng = app.team(admin, json!({"name": "Eng"})).await;
    let sales = app.team(admin, json!({"name": "Sales"})).await;
    let tiny = app.team(admin, json!({"name": "Tiny"})).await;
    hire(app, admin, "eng", 6, eng).await;
    hire(app, admin, "sal", 6, sales).await;
    hire(app, admin, "tin", 2, tiny).await;
    let survey: Value = app
        .post(
            "/api/v1/surveys",
            Some(admin),
            enps_survey(&[eng, sales, tiny], "1-10"),
        )
        .await
        .json()
        .await
        .unwrap();
    let q = survey["questions"][0]["id"].as_i64().unwrap();
    let tokens = send_now(app, admin, survey["id"].as_i64().unwrap()).await;
    assert_eq!(tokens.len(), 14);
    for (i, token) in tokens.values().enumerate() {
        answer(
            app,
            token,
            q,
            [10, 9, 7, 3][i % 4],
            "a comment that stays home",
        )
        .await;
    }
    (survey["id"].as_i64().unwrap(), tiny)
}

const FIGURES: [&str; 8] = [
    "invited",
    "responses",
    "participation",
    "promoters",
    "passives",
    "detractors",
    "enps",
    "margin_of_error",
];

async fn a_closing_round_delivers_its_disclosed_figures_signed(app: TestApp) {
    let admin = app.admin_token().await;
    let receiver = Receiver::start();
    let (_, secret) = register(
        &app,
        &admin,
        json!({"url": receiver.url("/hooks/pulse"), "events": ["round.opened", "round.closed"]}),
    )
    .await;
    let (survey, tiny) = round_with_a_small_team(&app, &admin).await;

    // Opening the round was told (delivered by the pass that sent the invitations).
    let got = receiver.received();
    assert_eq!(got.len(), 1, "{got:?}");
    let opened = got[0].json();
    assert_eq!(opened["event"], "round.opened");
    assert_eq!(opened["data"]["invited"], 14);
    assert_eq!(opened["data"]["survey_id"], survey);
    assert!(got[0].signed_with(&secret));
    assert_eq!(got[0].path, "/hooks/pulse");
    assert_eq!(got[0].header("pulse-event"), Some("round.opened"));
    assert_eq!(got[0].header("content-type"), Some("application/json"));

    close_open_rounds(&app, &admin).await;
    let outcome = app.tick(&now()).await;
    assert_eq!(outcome.webhooks.delivered, 1);
    let got = receiver.received();
    assert_eq!(got.len(), 2);
    let closed = &got[1];
    assert!(closed.signed_with(&secret), "signature of {closed:?}");
    assert!(!closed.signed_with("another secret"));
    let body = closed.json();
    assert_eq!(body["event"], "round.closed");
    assert_eq!(closed.header("pulse-delivery"), body["id"].as_str());
    let data = &body["data"];
    let round = data["round_id"].as_i64().unwrap();

    // Every figure is the one the round's report shows HR, and no other.
    let report = |team: Option<i64>| {
        let path = match team {
            Some(t) => format!("/api/v1/reports/rounds/{round}?team_id={t}"),
            None => format!("/api/v1/reports/rounds/{round}"),
        };
        let (app, admin) = (&app, &admin);
        async move {
            app.get(&path, Some(admin))
                .await
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let company = report(None).await;
    for k in FIGURES {
        assert_eq!(data["company"][k], company[k], "company {k}");
    }
    assert_eq!(data["company"]["responses"], 14);
    let teams = data["teams"].as_array().unwrap();
    assert_eq!(teams.len(), 3, "{data}");
    for t in teams {
        let shown = report(t["team_id"].as_i64()).await;
        if shown["suppressed"] == true {
            assert_eq!(t["suppressed"], true, "{t} / {shown}");
            assert_eq!(t["reason"], shown["reason"]);
            for k in FIGURES {
                assert!(t.get(k).is_none(), "a hidden team has no {k}: {t}");
            }
        } else {
            for k in FIGURES {
                assert_eq!(t[k], shown[k], "{} {k}", t["name"]);
            }
        }
    }
    let tiny = teams.iter().find(|t| t["team_id"] == tiny).unwrap();
    assert_eq!(
        tiny,
        &json!({"team_id": tiny["team_id"], "name": "Tiny", "suppressed": true, "reason": "too_few"})
    );
    // No answer text, no name, no address leaves.
    assert!(!closed.body.contains("comment that stays home"));
    assert!(!closed.body.contains("@example.com"));

    // Delivered once: a later pass sends nothing again.
    app.tick(&now()).await;
    assert_eq!(receiver.received().len(), 2);
    let listed = webhooks(&app, &admin).await;
    assert_eq!(listed[0]["last_status"], "200 OK");
    assert!(listed[0]["last_delivered_at"].is_string());
    assert_eq!(listed[0]["failures"], 0);
    assert_eq!(listed[0]["pending"], 0);
    assert!(listed[0].get("secret").is_none(), "{}", listed[0]);
    receiver.stop();
}

async fn a_receiver_that_was_down_gets_the_message_at_a_later_pass(app: TestApp) {
    let admin = app.admin_token().await;
    let receiver = Receiver::start();
    let port = receiver.addr.port();
    let url = receiver.url("/in");
    receiver.stop();
    let (hook, secret) = register(
        &app,
        &admin,
        json!({"url": url, "events": ["employee.left"], "format": "json"}),
    )
    .await;
    let id = app
        .employee(
            &admin,
            json!({"email": "lea@example.com", "name": "Léa Leaver", "hired_on": "2024-01-01"}),
        )
        .await;
    let max = app
        .employee(
            &admin,
            json!({"email": "max@example.com", "name": "Max Mover", "hired_on": "2024-01-01"}),
        )
        .await;
    let res = app
        .patch(
            &format!("/api/v1/employees/{id}"),
            &admin,
            json!({"left_on": "2026-12-31", "leave_reason": "voluntary"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    // A departure arriving by CSV import is told as well.
    let res = app
        .post_csv(
            &admin,
            "email,name,left_on\nmax@example.com,Max Mover,2026-12-20\n",
        )
        .await;
    assert_eq!(res.status(), 200);

    // The receiver is down: the attempts fail and wait, nothing is lost; the pass
    // waits for the receiver once, not once per delivery.
    let outcome = app.tick(&now()).await;
    assert_eq!(outcome.webhooks.retried, 2, "{outcome:?}");
    let errors: Vec<Option<String>> = outbox::table
        .filter(outbox::webhook_id.eq(hook as i32))
        .order(outbox::id)
        .select(outbox::last_error)
        .load(&mut app.conn())
        .unwrap();
    assert!(
        errors[0]
            .as_deref()
            .unwrap()
            .to_lowercase()
            .contains("refused"),
        "{errors:?}"
    );
    assert!(
        errors[1].as_deref().unwrap().contains("not tried"),
        "{errors:?}"
    );
    let listed = webhooks(&app, &admin).await;
    assert_eq!(listed[0]["id"], hook);
    assert_eq!(listed[0]["pending"], 2);
    assert_eq!(listed[0]["failures"], 0);
    assert!(listed[0]["last_delivered_at"].is_null());
    let status = listed[0]["last_status"].as_str().unwrap().to_lowercase();
    assert!(status.contains("refused"), "{status}");
    // Not due again at once: back-off.
    let outcome = app.tick(&now()).await;
    assert_eq!(outcome.webhooks.retried + outcome.webhooks.delivered, 0);

    // Back up on the same port: the next pass after the back-off delivers them.
    let receiver = Receiver::start_on(port);
    let later = (chrono::Utc::now() + chrono::Duration::minutes(5)).to_rfc3339();
    let outcome = app.tick(&later).await;
    assert_eq!(outcome.webhooks.delivered, 2, "{outcome:?}");
    let got = receiver.received();
    assert_eq!(got.len(), 2);
    assert!(got.iter().all(|r| r.signed_with(&secret)));
    let body = got[0].json();
    assert_eq!(body["event"], "employee.left");
    assert_eq!(
        body["data"],
        json!({"employee_id": id, "left_on": "2026-12-31"})
    );
    assert_eq!(
        got[1].json()["data"],
        json!({"employee_id": max, "left_on": "2026-12-20"})
    );
    assert!(!got[0].body.contains("Léa") && !got[0].body.contains("lea@"));
    let listed = webhooks(&app, &admin).await;
    assert_eq!(listed[0]["last_status"], "200 OK");
    assert_eq!(listed[0]["pending"], 0);
    receiver.stop();
}

async fn slack_and_teams_get_a_message_of_the_results(app: TestApp) {
    let admin = app.admin_token().await;
    let receiver = Receiver::start();
    let (_, slack_secret) = register(
        &app,
        &admin,
        json!({"url": receiver.url("/slack"), "events": ["round.closed"], "format": "slack"}),
    )
    .await;
    let (_, teams_secret) = register(
        &app,
        &admin,
        json!({"url": receiver.url("/teams"), "events": ["round.closed"], "format": "teams"}),
    )
    .await;
    round_with_a_small_team(&app, &admin).await;
    assert!(
        receiver.received().is_empty(),
        "neither asked for round.opened"
    );
    close_open_rounds(&app, &admin).await;
    app.tick(&now()).await;
    let got = receiver.received();
    assert_eq!(got.len(), 2);
    let slack = got.iter().find(|r| r.path == "/slack").unwrap();
    let teams = got.iter().find(|r| r.path == "/teams").unwrap();
    assert!(slack.signed_with(&slack_secret) && !slack.signed_with(&teams_secret));
    assert!(teams.signed_with(&teams_secret));

    let s = slack.json();
    assert!(s["text"]
        .as_str()
        .unwrap()
        .starts_with("Results of “Pulse”"));
    assert_eq!(s["blocks"][0]["type"], "header");
    let section = s["blocks"][1]["text"]["text"].as_str().unwrap();
    assert!(section.contains("• *Company*: eNPS"), "{section}");
    assert!(
        section.contains("• *Tiny*: hidden: fewer than 5 answered"),
        "{section}"
    );
    assert!(s["blocks"][2]["elements"][0]["text"]
        .as_str()
        .unwrap()
        .contains(&format!("{}/rounds/", app.address)));

    let t = teams.json();
    assert_eq!(t["@type"], "MessageCard");
    assert_eq!(t["@context"], "https://schema.org/extensions");
    assert_eq!(t["title"], "Results of “Pulse”");
    let facts = t["sections"][0]["facts"].as_array().unwrap();
    assert_eq!(facts[0]["name"], "Company");
    assert!(facts[0]["value"]
        .as_str()
        .unwrap()
        .contains("14 of 14 answered"));
    let tiny = facts.iter().find(|f| f["name"] == "Tiny").unwrap();
    assert_eq!(tiny["value"], "hidden: fewer than 5 answered");
    assert_eq!(t["potentialAction"][0]["@type"], "OpenUri");
    receiver.stop();
}

async fn a_4xx_is_final_and_a_5xx_is_retried(app: TestApp) {
    let admin = app.admin_token().await;
    let gone = Receiver::start();
    gone.answer(410);
    let busy = Receiver::start();
    busy.answer(503);
    for r in [&gone, &busy] {
        register(
            &app,
            &admin,
            json!({"url": r.url("/"), "events": ["employee.left"]}),
        )
        .await;
    }
    let id = app
        .employee(
            &admin,
            json!({"email": "x@example.com", "name": "X", "hired_on": "2024-01-01"}),
        )
        .await;
    app.patch(
        &format!("/api/v1/employees/{id}"),
        &admin,
        json!({"left_on": "2026-12-31"}),
    )
    .await;
    let outcome = app.tick(&now()).await;
    assert_eq!((outcome.webhooks.failed, outcome.webhooks.retried), (1, 1));
    let listed = webhooks(&app, &admin).await;
    assert_eq!(listed[0]["last_status"], "410 Gone");
    assert_eq!(
        (listed[0]["failures"].clone(), listed[0]["pending"].clone()),
        (json!(1), json!(0))
    );
    assert_eq!(listed[1]["last_status"], "503 Service Unavailable");
    assert_eq!(
        (listed[1]["failures"].clone(), listed[1]["pending"].clone()),
        (json!(0), json!(1))
    );

    // Hours later: the 503 is tried again, the 410 never.
    busy.answer(200);
    let later = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    app.tick(&later).await;
    assert_eq!(gone.received().len(), 1);
    assert_eq!(busy.received().len(), 2);
    let listed = webhooks(&app, &admin).await;
    assert_eq!(listed[1]["last_status"], "200 OK");
    gone.stop();
    busy.stop();
}

async fn a_due_action_item_is_told_without_its_text(app: TestApp) {
    let admin = app.admin_token().await;
    let receiver = Receiver::start();
    let (_, secret) = register(
        &app,
        &admin,
        json!({"url": receiver.url("/"), "events": ["action.due"]}),
    )
    .await;
    let manager = app
        .employee(&admin, json!({"email": "mia@example.com", "name": "Mia", "hired_on": "2024-01-01", "role": "lead", "password": PASSWORD}))
        .await;
    let report = app
        .employee(&admin, json!({"email": "remi@example.com", "name": "Rémi", "hired_on": "2024-01-01", "manager_id": manager}))
        .await;
    let mia = app.login("mia@example.com", PASSWORD).await;
    let today = chrono::Utc::now().date_naive();
    let res = app
        .post(
            "/api/v1/one-on-ones",
            Some(&mia),
            json!({"manager_id": manager, "report_id": report,
            "cadence": "weekly", "starts_on": today.to_string(), "time": "23:30", "timezone": "UTC",
            "duration_minutes": 30}),
        )
        .await;
    let series: Value = res.json().await.unwrap();
    let meetings: Value = app
        .get(
            &format!("/api/v1/one-on-ones/{}/meetings", series["id"]),
            Some(&mia),
        )
        .await
        .json()
        .await
        .unwrap();
    let meeting = &meetings[0]["id"];
    for (text, due) in [
        ("Secret plan A", today),
        ("Later plan", today + chrono::Duration::days(3)),
    ] {
        let res = app
            .post(
                &format!("/api/v1/meetings/{meeting}/actions"),
                Some(&mia),
                json!({"text": text, "owner_id": report, "due_on": due.to_string()}),
            )
            .await;
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    }
    app.tick(&now()).await;
    app.tick(&now()).await;
    let got = receiver.received();
    assert_eq!(got.len(), 1, "once, and only the item due today: {got:?}");
    assert!(got[0].signed_with(&secret));
    let body = got[0].json();
    assert_eq!(body["event"], "action.due");
    assert_eq!(body["data"]["owner_id"], report);
    assert_eq!(body["data"]["due_on"], today.to_string());
    assert_eq!(body["data"]["one_on_one_id"], series["id"]);
    assert!(!got[0].body.contains("Secret plan"));
    receiver.stop();
}

async fn bad_webhooks_are_refused_and_only_admins_manage_them(app: TestApp) {
    let admin = app.admin_token().await;
    for (body, field) in [
        (
            json!({"url": "ftp://example.com/x", "events": ["round.closed"]}),
            "url",
        ),
        (
            json!({"url": "file:///etc/passwd", "events": ["round.closed"]}),
            "url",
        ),
        (
            json!({"url": "javascript:alert(1)", "events": ["round.closed"]}),
            "url",
        ),
        (
            json!({"url": "example.com/hook", "events": ["round.closed"]}),
            "url",
        ),
        (
            json!({"url": "https://u:p@example.com/", "events": ["round.closed"]}),
            "url",
        ),
        (json!({"events": ["round.closed"]}), "url"),
        (
            json!({"url": "https://example.com/", "events": []}),
            "events",
        ),
        (
            json!({"url": "https://example.com/", "events": ["round.deleted"]}),
            "events",
        ),
        (json!({"url": "https://example.com/"}), "events"),
        (
            json!({"url": "https://example.com/", "events": ["round.closed"], "format": "xml"}),
            "format",
        ),
    ] {
        let res = app
            .post("/api/v1/webhooks", Some(&admin), body.clone())
            .await;
        assert_eq!(res.status(), 422, "{body}");
        let err: Value = res.json().await.unwrap();
        assert!(err["fields"][field].is_string(), "{body}: {err}");
    }
    let res = app
        .post(
            "/api/v1/webhooks",
            Some(&admin),
            json!({"url": "gopher://x", "events": ["round.closed"]}),
        )
        .await;
    let err: Value = res.json().await.unwrap();
    assert!(
        err["fields"]["url"]
            .as_str()
            .unwrap()
            .contains("only http and https"),
        "{err}"
    );
    assert!(webhooks(&app, &admin).await.is_empty());

    let (id, secret) = register(
        &app,
        &admin,
        json!({"url": "https://hooks.example.com/services/T0/B0/xyz", "events": ["employee.left", "round.closed"], "format": "slack"}),
    )
    .await;
    assert_eq!(secret.len(), 64);
    let listed = webhooks(&app, &admin).await;
    assert_eq!(
        listed[0]["events"],
        json!(["round.closed", "employee.left"])
    );
    assert_eq!(listed[0]["format"], "slack");
    assert!(listed[0]["last_status"].is_null());

    app.employee(&admin, json!({"email": "m@example.com", "name": "M", "hired_on": "2024-01-01", "password": PASSWORD}))
        .await;
    let member = app.login("m@example.com", PASSWORD).await;
    let res = app
        .post(
            "/api/v1/webhooks",
            Some(&member),
            json!({"url": "https://example.com/", "events": ["round.closed"]}),
        )
        .await;
    assert_eq!(res.status(), 403);
    assert_eq!(
        app.get("/api/v1/webhooks", Some(&member)).await.status(),
        403
    );
    assert_eq!(app.get("/api/v1/webhooks", None).await.status(), 401);
    let delete = |token: String, id: i64| {
        let app = &app;
        async move {
            app.api
                .delete(app.url(&format!("/api/v1/webhooks/{id}")))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(delete(member.clone(), id).await, 403);
    assert_eq!(delete(admin.clone(), id).await, 204);
    assert_eq!(delete(admin.clone(), id).await, 404);
    assert!(webhooks(&app, &admin).await.is_empty());

    // Both on record, naming the host only: a chat webhook's URL is a secret of its own.
    let audit: Value = app
        .get("/api/v1/audit?action=webhook.*", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["webhook.delete", "webhook.create"]);
    assert!(audit.to_string().contains("hooks.example.com"));
    assert!(!audit.to_string().contains("xyz"));
}

async fn hr_manages_webhooks_from_their_page(app: TestApp) {
    let admin = app.admin_token().await;
    let hr = Browser::sign_in(&app, ADMIN_EMAIL, PASSWORD).await;
    let (status, html) = hr.page("/webhooks").await;
    assert_eq!(status, 200);
    assert!(html.contains("No webhook yet"));

    let res = hr
        .post(
            "/webhooks",
            &[
                ("url", "ftp://files.example.com/"),
                ("events", "round.closed"),
                ("format", "json"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("only http and https URLs"), "{html}");
    assert!(
        html.contains(r#"value="ftp://files.example.com/""#),
        "the form keeps its input"
    );

    let res = hr
        .post(
            "/webhooks",
            &[
                ("url", "https://example.com/teams-hook"),
                ("events", "round.closed"),
                ("events", "employee.left"),
                ("format", "teams"),
            ],
        )
        .await;
    assert_eq!(res.status(), 201);
    let html = res.text().await.unwrap();
    let listed = webhooks(&app, &admin).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(
        listed[0]["events"],
        json!(["round.closed", "employee.left"])
    );
    assert_eq!(listed[0]["format"], "teams");
    let at = html
        .find(r#"class="recovery-code">"#)
        .expect("the secret, once")
        + 22;
    let secret: String = html[at..].chars().take_while(|c| *c != '<').collect();
    assert_eq!(secret.len(), 64, "{secret}");
    let (_, again) = hr.page("/webhooks").await;
    assert!(again.contains("https://example.com/teams-hook"));
    assert!(again.contains("nothing sent yet"));
    assert!(!again.contains(&secret), "shown only once");

    let id = listed[0]["id"].as_i64().unwrap();
    let res = hr.post(&format!("/webhooks/{id}/delete"), &[]).await;
    assert_eq!(res.status(), 303);
    assert!(webhooks(&app, &admin).await.is_empty());
    assert_eq!(
        hr.post(&format!("/webhooks/{id}/delete"), &[])
            .await
            .status(),
        404
    );

    app.employee(&admin, json!({"email": "m@example.com", "name": "M", "hired_on": "2024-01-01", "password": PASSWORD}))
        .await;
    let member = Browser::sign_in(&app, "m@example.com", PASSWORD).await;
    assert_eq!(member.page("/webhooks").await.0, 403);
}

crate::on_both_engines!(
    a_closing_round_delivers_its_disclosed_figures_signed,
    a_receiver_that_was_down_gets_the_message_at_a_later_pass,
    slack_and_teams_get_a_message_of_the_results,
    a_4xx_is_final_and_a_5xx_is_retried,
    a_due_action_item_is_told_without_its_text,
    bad_webhooks_are_refused_and_only_admins_manage_them,
    hr_manages_webhooks_from_their_page,
);
