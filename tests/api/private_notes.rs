//! Private notes sealed under their author's key: nowhere in the database as
//! text, unreadable after an admin resets the password and signs in as the
//! author, and back with the recovery code.

use crate::helpers::{Engine, TestApp, PASSWORD};
use diesel::prelude::*;
use pulse::db::DbConnection;
use reqwest::Method;
use serde_json::{json, Value};

pub(crate) async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = app.api.request(method, app.url(path)).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

pub(crate) async fn ok(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> Value {
    let (status, body) = send(app, method.clone(), path, token, body).await;
    assert!(
        (200..300).contains(&status),
        "{method} {path}: {status} {body}"
    );
    body
}

#[derive(QueryableByName)]
struct Text {
    #[diesel(sql_type = diesel::sql_types::Text)]
    v: String,
}

/// Everything the database holds, as someone with the files or a superuser
/// login would read it: SQLite's main file and log, or every row of every
/// PostgreSQL table as text.
pub(crate) fn whole_database(app: &TestApp) -> Vec<u8> {
    let mut conn = app.conn();
    match &mut conn {
        DbConnection::Sqlite(_) => {
            let mut bytes = std::fs::read(&app.database_url).unwrap();
            if let Ok(wal) = std::fs::read(format!("{}-wal", app.database_url)) {
                bytes.extend(wal);
            }
            bytes
        }
        DbConnection::Postgresql(c) => {
            let tables: Vec<Text> = diesel::sql_query(
                "SELECT table_name::text AS v FROM information_schema.tables WHERE table_schema = 'public'",
            )
            .load(c)
            .unwrap();
            assert!(tables.iter().any(|t| t.v == "meeting_notes"));
            let mut all = Vec::new();
            for t in tables {
                let rows: Vec<Text> =
                    diesel::sql_query(format!("SELECT t::text AS v FROM \"{}\" t", t.v))
                        .load(c)
                        .unwrap();
                for r in rows {
                    all.extend(r.v.into_bytes());
                }
            }
            all
        }
    }
}

pub(crate) fn holds(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// A lead and their report, both signed in, and the first meeting of their 1:1.
pub(crate) struct Pair {
    pub admin: String,
    pub lead_id: i64,
    pub lead: String,
    pub report: String,
    pub report_id: i64,
    pub meeting: i64,
}

pub(crate) async fn pair(app: &TestApp) -> Pair {
    let admin = app.admin_token().await;
    let lead_id = app
        .employee(
            &admin,
            json!({"email": "lea@example.com", "name": "Lea", "role": "lead",
                                 "hired_on": "2024-01-01", "password": PASSWORD}),
        )
        .await;
    let report_id = app
        .employee(
            &admin,
            json!({"email": "rob@example.com", "name": "Rob", "manager_id": lead_id,
                                 "hired_on": "2024-01-01", "password": PASSWORD}),
        )
        .await;
    let lead = app.login("lea@example.com", PASSWORD).await;
    let report = app.login("rob@example.com", PASSWORD).await;
    let series = ok(
        app,
        Method::POST,
        "/api/v1/one-on-ones",
        &lead,
        Some(
            json!({"manager_id": lead_id, "report_id": report_id, "cadence": "biweekly",
                    "starts_on": "2035-12-04", "time": "10:00", "timezone": "Europe/Paris",
                    "duration_minutes": 30}),
        ),
    )
    .await;
    let meetings = ok(
        app,
        Method::GET,
        &format!("/api/v1/one-on-ones/{}/meetings", series["id"]),
        &lead,
        None,
    )
    .await;
    Pair {
        admin,
        lead_id,
        lead,
        report,
        report_id,
        meeting: meetings[0]["id"].as_i64().unwrap(),
    }
}

async fn private_notes_are_sealed_and_only_their_author_opens_them(app: TestApp) {
    let Pair {
        admin,
        lead_id,
        lead,
        report,
        meeting: m,
        ..
    } = pair(&app).await;
    let notes = format!("/api/v1/meetings/{m}/notes");
    let meeting = format!("/api/v1/meetings/{m}");

    let secret = "Rob may leave for Quokka Labs";
    let written = ok(
        &app,
        Method::POST,
        &notes,
        &lead,
        Some(json!({"body": secret, "private": true})),
    )
    .await;
    assert_eq!(written["body"], secret);
    ok(
        &app,
        Method::POST,
        &notes,
        &lead,
        Some(json!({"body": "Shared: roadmap agreed"})),
    )
    .await;
    let seen = ok(&app, Method::GET, &meeting, &lead, None).await;
    assert_eq!(seen["notes"][0]["body"], secret);
    assert_eq!(seen["locked_private_notes"], 0);

    // Whoever holds the database finds the shared note, never the private one.
    let db = whole_database(&app);
    assert!(
        holds(&db, "Shared: roadmap agreed"),
        "the scan must see stored text"
    );
    assert!(
        !holds(&db, secret),
        "a private note is readable in the database"
    );
    assert!(!holds(&db, "Quokka"));

    let code = ok(
        &app,
        Method::POST,
        "/api/v1/account/notes/recovery-code",
        &lead,
        None,
    )
    .await;
    let code = code["recovery_code"].as_str().unwrap().to_string();
    assert!(!holds(&whole_database(&app), &code.replace('-', "")));

    // HR resets the lead's password and signs in as them: the notes stay shut.
    let reset = "a password HR chose";
    let (status, body) = send(
        &app,
        Method::PATCH,
        &format!("/api/v1/employees/{lead_id}"),
        &admin,
        Some(json!({"password": reset})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let as_lead = app.login("lea@example.com", reset).await;
    let seen = ok(&app, Method::GET, &meeting, &as_lead, None).await;
    assert!(!seen.to_string().contains(secret));
    assert_eq!(
        seen["notes"].as_array().unwrap().len(),
        1,
        "only the shared note: {seen}"
    );
    assert_eq!(seen["locked_private_notes"], 1);
    let state = ok(&app, Method::GET, "/api/v1/account/notes", &as_lead, None).await;
    assert_eq!(
        state,
        json!({"unlocked": false, "locked": true, "has_recovery_code": true, "needs_passphrase": false})
    );
    let (status, body) = send(
        &app,
        Method::POST,
        &notes,
        &as_lead,
        Some(json!({"body": "x", "private": true})),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (409, Some("notes_locked"))
    );
    let (status, _) = send(
        &app,
        Method::POST,
        "/api/v1/account/notes/recovery-code",
        &as_lead,
        None,
    )
    .await;
    assert_eq!(
        status, 409,
        "a locked session cannot replace the recovery code"
    );

    // A wrong or malformed code, or a wrong password, opens nothing.
    let unlock = "/api/v1/account/notes/unlock";
    let wrong = "AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA";
    for (body, field) in [
        (
            json!({"recovery_code": wrong, "password": reset}),
            "recovery_code",
        ),
        (
            json!({"recovery_code": "1234", "password": reset}),
            "recovery_code",
        ),
        (
            json!({"recovery_code": code, "password": PASSWORD}),
            "password",
        ),
    ] {
        let (status, out) = send(&app, Method::POST, unlock, &as_lead, Some(body)).await;
        assert_eq!(status, 422, "{out}");
        assert!(out["fields"][field].is_string(), "{out}");
    }
    // The author, with the code, gets them back, in this session and the next sign-ins.
    let back = ok(
        &app,
        Method::POST,
        unlock,
        &as_lead,
        Some(json!({"recovery_code": code.to_lowercase(), "password": reset})),
    )
    .await;
    let token = back["token"].as_str().unwrap();
    let seen = ok(&app, Method::GET, &meeting, token, None).await;
    assert_eq!(seen["notes"][0]["body"], secret);
    assert_eq!(seen["locked_private_notes"], 0);
    let again = app.login("lea@example.com", reset).await;
    let seen = ok(&app, Method::GET, &meeting, &again, None).await;
    assert_eq!(seen["notes"][0]["body"], secret);

    // The report never sees it, nor does HR's own session.
    let seen = ok(&app, Method::GET, &meeting, &report, None).await;
    assert!(!seen.to_string().contains(secret));
    let (status, seen) = send(&app, Method::GET, &meeting, &admin, None).await;
    assert_eq!(status, 403);
    assert!(!seen.to_string().contains(secret));
    assert!(!holds(&whole_database(&app), secret));
}

/// Someone who lost the code too starts afresh: the notes no key opens are
/// deleted and new ones can be written; a session that merely lacked the key
/// loses nothing.
async fn without_the_code_the_author_can_start_afresh(app: TestApp) {
    let Pair {
        admin,
        lead_id,
        lead,
        meeting: m,
        ..
    } = pair(&app).await;
    let notes = format!("/api/v1/meetings/{m}/notes");
    ok(
        &app,
        Method::POST,
        &notes,
        &lead,
        Some(json!({"body": "kept", "private": true})),
    )
    .await;

    // Not locked: starting afresh with the right password keeps everything.
    let same = ok(
        &app,
        Method::POST,
        "/api/v1/account/notes/start-afresh",
        &lead,
        Some(json!({"password": PASSWORD})),
    )
    .await;
    assert_eq!(same["deleted_private_notes"], 0);
    let seen = ok(
        &app,
        Method::GET,
        &format!("/api/v1/meetings/{m}"),
        same["token"].as_str().unwrap(),
        None,
    )
    .await;
    assert_eq!(seen["notes"][0]["body"], "kept");

    let reset = "a password HR chose";
    ok(
        &app,
        Method::PATCH,
        &format!("/api/v1/employees/{lead_id}"),
        &admin,
        Some(json!({"password": reset})),
    )
    .await;
    let as_lead = app.login("lea@example.com", reset).await;
    let (status, out) = send(
        &app,
        Method::POST,
        "/api/v1/account/notes/unlock",
        &as_lead,
        Some(
            json!({"recovery_code": "AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA", "password": reset}),
        ),
    )
    .await;
    assert_eq!(
        (status, out["error"].as_str()),
        (409, Some("no_recovery_code"))
    );
    let fresh = ok(
        &app,
        Method::POST,
        "/api/v1/account/notes/start-afresh",
        &as_lead,
        Some(json!({"password": reset})),
    )
    .await;
    assert_eq!(fresh["deleted_private_notes"], 1);
    let token = fresh["token"].as_str().unwrap();
    ok(
        &app,
        Method::POST,
        &notes,
        token,
        Some(json!({"body": "new start", "private": true})),
    )
    .await;
    let seen = ok(
        &app,
        Method::GET,
        &format!("/api/v1/meetings/{m}"),
        token,
        None,
    )
    .await;
    let bodies: Vec<&str> = seen["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["new start"]);
    assert_eq!(seen["locked_private_notes"], 0);
}

/// Private notes stored as text before notes were sealed are sealed at their
/// author's next sign-in, and read as before.
async fn notes_written_before_sealing_are_sealed_at_sign_in(app: TestApp) {
    let Pair {
        lead_id,
        meeting: m,
        ..
    } = pair(&app).await;
    {
        use pulse::db::schema::meeting_notes as n;
        let mut conn = app.conn();
        // As an earlier version stored it: the text in `body`.
        diesel::insert_into(n::table)
            .values((
                n::meeting_id.eq(m as i32),
                n::author_id.eq(lead_id as i32),
                n::body.eq("legacy secret"),
                n::private.eq(true),
                n::created_at.eq(chrono::Utc::now().naive_utc()),
            ))
            .execute(&mut conn)
            .unwrap();
    }
    assert!(holds(&whole_database(&app), "legacy secret"));
    let lead = app.login("lea@example.com", PASSWORD).await;
    let seen = ok(
        &app,
        Method::GET,
        &format!("/api/v1/meetings/{m}"),
        &lead,
        None,
    )
    .await;
    assert_eq!(seen["notes"][0]["body"], "legacy secret");
    let mut conn = app.conn();
    if let DbConnection::Sqlite(c) = &mut conn {
        diesel::sql_query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(c)
            .unwrap();
    }
    if app.engine == Engine::Postgres {
        diesel::sql_query("VACUUM")
            .execute(match &mut conn {
                DbConnection::Postgresql(c) => c,
                _ => unreachable!(),
            })
            .unwrap();
    }
    assert!(!holds(&whole_database(&app), "legacy secret"));
}

crate::on_both_engines!(
    private_notes_are_sealed_and_only_their_author_opens_them,
    without_the_code_the_author_can_start_afresh,
    notes_written_before_sealing_are_sealed_at_sign_in,
);
