//! Anonymity as a reader, a lead and a database administrator would try to break it:
//! one person over many rounds, views subtracted from each other, open rounds watched,
//! comments, filing teams, and what is left in the database once a round has closed.

use crate::helpers::TestApp;
use crate::reports::{close_open_rounds, hire};
use crate::surveys::{link_path, read_email};
use diesel::prelude::*;
use pulse::db::DbConnection;
use serde_json::{json, Value};
use std::collections::HashMap;

/// A weekly survey of `teams` from 2035-01-01 (a Monday) with eNPS and a comment.
fn weekly(min: i64, teams: &[i64]) -> Value {
    json!({
        "audience": {"team_ids": teams},
        "title": "Weekly pulse",
        "questions": [{"kind": "enps", "prompt": "How likely are you to recommend working here?"},
                      {"kind": "text", "prompt": "Anything else?", "required": false}],
        "schedule": {"cadence": "weekly", "starts_on": "2035-01-01", "send_time": "09:00",
                     "timezone": "UTC", "open_days": 5},
        "min_group_size": min
    })
}

async fn survey(app: &TestApp, admin: &str, body: Value) -> (i64, i64) {
    let res = app.post("/api/v1/surveys", Some(admin), body).await;
    assert_eq!(res.status(), 201);
    let s: Value = res.json().await.unwrap();
    (
        s["id"].as_i64().unwrap(),
        s["questions"][0]["id"].as_i64().unwrap(),
    )
}

/// The link token of every email still on disk (open rounds' only), by address.
fn tokens(app: &TestApp) -> HashMap<String, String> {
    app.emails()
        .iter()
        .map(|e| read_email(e))
        .filter_map(|(to, _, text)| {
            let email = to.split('<').nth(1)?.trim_end_matches('>').to_string();
            Some((
                email,
                link_path(&text).trim_start_matches("/s/").to_string(),
            ))
        })
        .collect()
}

async fn answer(app: &TestApp, token: &str, q: i64, score: i64, comment: &str) {
    let res = app
        .post(
            "/api/v1/responses",
            None,
            json!({"token": token, "answers": [{"question_id": q, "score": score},
                                               {"question_id": q + 1, "text": comment}]}),
        )
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
}

async fn get(app: &TestApp, admin: &str, path: &str) -> Value {
    let res = app.get(path, Some(admin)).await;
    assert_eq!(res.status(), 200, "{path}");
    res.json().await.unwrap()
}

fn all_suppressed(points: &Value) -> bool {
    points
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["suppressed"] == true && p.get("responses").is_none())
}

/// The first break: a team of one who answers every week used to show
/// with `responses: 5` by month. Now no grouping, view or export shows them.
async fn one_person_answering_many_rounds_is_never_shown(app: TestApp) {
    let admin = app.admin_token().await;
    let solo = app.team(&admin, json!({"name": "Solo"})).await;
    let big = app.team(&admin, json!({"name": "Big"})).await;
    hire(&app, &admin, "solo", 1, solo).await;
    hire(&app, &admin, "big", 6, big).await;
    let (_, q) = survey(&app, &admin, weekly(5, &[solo, big])).await;
    for week in 0..5 {
        let day =
            chrono::NaiveDate::from_ymd_opt(2035, 1, 1).unwrap() + chrono::Duration::weeks(week);
        app.tick(&format!("{day}T10:00:00Z")).await;
        for (email, token) in tokens(&app) {
            let score = if email.starts_with("solo") { 1 } else { 10 };
            answer(&app, &token, q, score, &format!("{email} week {week}")).await;
        }
    }
    app.tick("2035-02-10T10:00:00Z").await; // closes the last round
    let window = "from=2035-01-01&to=2035-03-31";
    for by in ["round", "month", "quarter"] {
        let r = get(
            &app,
            &admin,
            &format!("/api/v1/reports/enps?team_id={solo}&group_by={by}&{window}"),
        )
        .await;
        assert!(!r["points"].as_array().unwrap().is_empty());
        assert!(all_suppressed(&r["points"]), "{by}: {r}");
        assert!(r["points"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["reason"] == "too_few"));
    }
    // The company (7 a week) shows; Big is then hidden, or company − Big = Solo.
    let company = get(
        &app,
        &admin,
        &format!("/api/v1/reports/enps?group_by=month&{window}"),
    )
    .await;
    let jan = &company["points"][0];
    assert_eq!(
        (jan["responses"].as_i64(), jan["rounds"].as_i64()),
        (Some(35), Some(5))
    );
    let big_r = get(
        &app,
        &admin,
        &format!("/api/v1/reports/enps?team_id={big}&group_by=month&{window}"),
    )
    .await;
    assert!(all_suppressed(&big_r["points"]), "{big_r}");
    assert!(big_r["points"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["reason"] == "derivable"));
    let heat = get(
        &app,
        &admin,
        &format!("/api/v1/reports/enps/teams?{window}"),
    )
    .await;
    for t in heat["teams"].as_array().unwrap() {
        assert_eq!(t["suppressed"], true, "{t}");
    }
    assert_eq!(heat["company"]["responses"], 35);
    let beside = get(
        &app,
        &admin,
        &format!("/api/v1/reports/enps-turnover?{window}"),
    )
    .await;
    assert!(beside["teams"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["suppressed"] == true && t["enps"].is_null()));
    let csv = app
        .get(
            &format!("/api/v1/reports/enps.csv?team_id={solo}&group_by=month&{window}"),
            Some(&admin),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(csv.lines().skip(1).all(|l| l.contains(",true")), "{csv}");
    // No round report of any week shows Solo, and no answers export of it exists.
    let rounds: Value = get(&app, &admin, "/api/v1/surveys/1/rounds").await;
    for r in rounds.as_array().unwrap() {
        let report = get(
            &app,
            &admin,
            &format!("/api/v1/reports/rounds/{}?team_id={solo}", r["id"]),
        )
        .await;
        assert_eq!(report["suppressed"], true, "{report}");
        assert!(report.get("questions").is_none());
        let csv = app
            .get(
                &format!(
                    "/api/v1/reports/rounds/{}/answers.csv?team_id={solo}",
                    r["id"]
                ),
                Some(&admin),
            )
            .await;
        assert_eq!(csv.status(), 403);
    }
}

/// Eng with its sub-teams Web and Mobile of the given sizes, and a weekly survey of Eng:
/// the admin's token, the three team ids and the eNPS question's id.
async fn engineering(app: &TestApp, web_n: usize, mob_n: usize) -> (String, [i64; 3], i64) {
    let admin = app.admin_token().await;
    let eng = app.team(&admin, json!({"name": "Eng"})).await;
    let web = app
        .team(&admin, json!({"name": "Web", "parent_id": eng}))
        .await;
    let mobile = app
        .team(&admin, json!({"name": "Mobile", "parent_id": eng}))
        .await;
    hire(app, &admin, "web", web_n, web).await;
    hire(app, &admin, "mob", mob_n, mobile).await;
    let (_, q) = survey(app, &admin, weekly(5, &[eng])).await;
    (admin, [eng, web, mobile], q)
}

/// Views of different periods, windows and groupings add up shown cells only, so
/// one cannot be subtracted from another to give what a round hid.
async fn views_cannot_be_subtracted_from_each_other(app: TestApp) {
    let (admin, [eng, web, mobile], q) = engineering(&app, 8, 6).await;
    // Week 1: everyone answers. Week 2: every Web person, and two of Mobile.
    app.tick("2035-01-01T10:00:00Z").await;
    for (_, token) in tokens(&app) {
        answer(&app, &token, q, 9, "ok").await;
    }
    app.tick("2035-01-08T10:00:00Z").await;
    let mut mobile_answers = 0;
    for (email, token) in tokens(&app) {
        if email.starts_with("mob") {
            if mobile_answers == 2 {
                continue;
            }
            mobile_answers += 1;
        }
        answer(
            &app,
            &token,
            q,
            if email.starts_with("mob") { 1 } else { 9 },
            "ok",
        )
        .await;
    }
    app.tick("2035-01-20T10:00:00Z").await;
    let w = "from=2035-01-01&to=2035-01-31";
    let month = |team: i64| format!("/api/v1/reports/enps?team_id={team}&group_by=month&{w}");
    let by_round = |team: i64| format!("/api/v1/reports/enps?team_id={team}&group_by=round&{w}");
    // Mobile's month is week 1's cell alone: week 2's two answers never mix in.
    let m = get(&app, &admin, &month(mobile)).await["points"][0].clone();
    assert_eq!(
        (m["responses"].as_i64(), m["detractors"].as_i64()),
        (Some(6), Some(0))
    );
    assert_eq!(m["left_out"], json!({"too_few": 1, "derivable": 0}));
    let r = get(&app, &admin, &by_round(mobile)).await["points"].clone();
    assert_eq!(r[0]["responses"], 6);
    assert_eq!(
        (r[1]["suppressed"].clone(), r[1]["reason"].clone()),
        (json!(true), json!("too_few"))
    );
    // Web hides in week 2 (Eng − Web would be Mobile's two), so its month is week 1 alone.
    let wm = get(&app, &admin, &month(web)).await["points"][0].clone();
    assert_eq!(wm["responses"], 8);
    assert_eq!(wm["left_out"], json!({"too_few": 0, "derivable": 1}));
    // Eng shows both weeks: 14 + 10. Eng − Web − Mobile (month) = 10, week 2's Eng,
    // which holds Web's eight with Mobile's two: nothing smaller than the threshold.
    let em = get(&app, &admin, &month(eng)).await["points"][0].clone();
    assert_eq!(
        (em["responses"].as_i64(), em["detractors"].as_i64()),
        (Some(24), Some(2))
    );
    // Windows that end just before or just after week 2 give the same cells.
    let before = get(
        &app,
        &admin,
        &format!(
            "/api/v1/reports/enps?team_id={mobile}&group_by=quarter&from=2035-01-01&to=2035-01-07"
        ),
    )
    .await;
    let after = get(
        &app,
        &admin,
        &format!(
            "/api/v1/reports/enps?team_id={mobile}&group_by=quarter&from=2035-01-01&to=2035-01-09"
        ),
    )
    .await;
    assert_eq!(
        before["points"][0]["responses"],
        after["points"][0]["responses"]
    );
    assert_eq!(
        before["points"][0]["detractors"],
        after["points"][0]["detractors"]
    );
    // The heat map over the month agrees with the month views.
    let heat = get(&app, &admin, &format!("/api/v1/reports/enps/teams?{w}")).await;
    let row = |id: i64| {
        heat["teams"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["team_id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(row(mobile)["responses"], 6);
    assert_eq!(row(web)["responses"], 8);
    assert_eq!(row(eng)["responses"], 24);
}

/// A lead who asks someone to answer "now" learns nothing: an open round shows no
/// figure, and participation only once the group reaches the threshold.
async fn an_open_round_shows_nothing_until_it_closes(app: TestApp) {
    let admin = app.admin_token().await;
    let ops = app.team(&admin, json!({"name": "Ops"})).await;
    hire(&app, &admin, "ops", 7, ops).await;
    let (survey_id, q) = survey(&app, &admin, weekly(5, &[ops])).await;
    app.tick("2035-01-01T10:00:00Z").await;
    let round =
        get(&app, &admin, &format!("/api/v1/surveys/{survey_id}/rounds")).await[0]["id"].clone();
    let path = format!("/api/v1/reports/rounds/{round}");
    let first = get(&app, &admin, &path).await;
    assert_eq!(first["status"], "open");
    assert_eq!(first["available_at"], "2035-01-06T09:00:00Z");
    assert_eq!(
        first["live"],
        json!({"suppressed": true, "reason": "too_few"})
    );
    let tokens: Vec<String> = tokens(&app).into_values().collect();
    for (i, token) in tokens.iter().take(4).enumerate() {
        answer(&app, token, q, 10 - i as i64, "hello").await;
        assert_eq!(
            get(&app, &admin, &path).await,
            first,
            "after answer {}",
            i + 1
        );
        let list = get(&app, &admin, &format!("/api/v1/surveys/{survey_id}/rounds")).await;
        assert_eq!(list[0]["responded"], Value::Null);
    }
    answer(&app, &tokens[4], q, 3, "hello").await;
    let five = get(&app, &admin, &path).await;
    assert_eq!(
        five["live"],
        json!({"invited": 7, "responded": 5, "participation": 71.4})
    );
    assert!(
        five.get("enps").is_none()
            && five.get("questions").is_none()
            && five.get("responses").is_none()
    );
    let csv = app.get(&format!("{path}/answers.csv"), Some(&admin)).await;
    assert_eq!(csv.status(), 409);
    let trend = get(
        &app,
        &admin,
        "/api/v1/reports/enps?group_by=round&from=2035-01-01&to=2035-01-31",
    )
    .await;
    assert_eq!(trend["points"], json!([]), "an open round is in no trend");
    // HR closes it early: the figures appear.
    let closed = app
        .post(
            &format!("/api/v1/rounds/{round}/close"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(closed.status(), 200);
    let closed: Value = closed.json().await.unwrap();
    assert_eq!(closed["status"], "closed");
    let after = get(&app, &admin, &path).await;
    assert_eq!(after["status"], "closed");
    assert_eq!(
        (after["responses"].as_i64(), after["promoters"].as_i64()),
        (Some(5), Some(2))
    );
    assert_eq!(
        after["questions"][1]["comments"].as_array().unwrap().len(),
        5
    );
    assert_eq!(
        app.post(
            "/api/v1/responses",
            None,
            json!({"token": tokens[5], "answers": []})
        )
        .await
        .status(),
        410
    );
    // A member of the team cannot close rounds.
    let lead_id = app.employee(&admin, json!({"email": "lead@example.com", "name": "Lead", "hired_on": "2024-01-01", "role": "lead", "password": crate::helpers::PASSWORD})).await;
    let lead = app
        .login("lead@example.com", crate::helpers::PASSWORD)
        .await;
    assert_eq!(
        app.post(
            &format!("/api/v1/rounds/{round}/close"),
            Some(&lead),
            json!({})
        )
        .await
        .status(),
        403
    );
    let _ = lead_id;
}

/// Comments and exports have their own threshold, max(min, 5), and their own
/// complementary suppression: the company's comments minus two teams' must not
/// give the third's.
async fn comments_have_their_own_complementary_suppression(app: TestApp) {
    let admin = app.admin_token().await;
    let mut teams = vec![];
    for (name, n) in [("A", 5), ("B", 5), ("C", 4)] {
        let t = app.team(&admin, json!({"name": name})).await;
        hire(&app, &admin, &name.to_lowercase(), n, t).await;
        teams.push(t);
    }
    let (_, q) = survey(&app, &admin, weekly(3, &teams)).await;
    app.tick("2035-01-01T10:00:00Z").await;
    for (email, token) in tokens(&app) {
        answer(&app, &token, q, 8, &format!("comment from {email}")).await;
    }
    close_open_rounds(&app, &admin).await;
    let round = 1;
    let comments = |r: &Value| r["questions"][1]["comments"].as_array().map(|c| c.len());
    let company = get(&app, &admin, &format!("/api/v1/reports/rounds/{round}")).await;
    let mut per_team: Vec<Value> = vec![];
    for t in &teams {
        per_team.push(
            get(
                &app,
                &admin,
                &format!("/api/v1/reports/rounds/{round}?team_id={t}"),
            )
            .await,
        );
    }
    // Every team's figures show (threshold 3), but C's four comments do not …
    assert!(per_team.iter().all(|r| r["responses"].is_number()));
    assert_eq!(comments(&per_team[2]), None);
    assert!(per_team[2]["questions"][1]["comments_suppressed"].is_string());
    // … nor can they be had as the company's fourteen minus A's and B's five each.
    let shown = [
        comments(&company),
        comments(&per_team[0]),
        comments(&per_team[1]),
    ];
    assert!(shown.iter().any(Option::is_none), "{shown:?}");
    for (i, t) in [None, Some(teams[0]), Some(teams[1]), Some(teams[2])]
        .iter()
        .enumerate()
    {
        let q = t.map(|t| format!("?team_id={t}")).unwrap_or_default();
        let csv = app
            .get(
                &format!("/api/v1/reports/rounds/{round}/answers.csv{q}"),
                Some(&admin),
            )
            .await;
        let expected = match i {
            0 => shown[0].is_some(),
            1 => shown[1].is_some(),
            2 => shown[2].is_some(),
            _ => false,
        };
        assert_eq!(csv.status() == 200, expected, "export {i}");
    }
}

/// An answer is filed under the smallest team around its author that had enough
/// invitees: a team of two files under its department.
async fn answers_are_filed_under_a_group_large_enough(app: TestApp) {
    let (_, [eng, web, mobile], q) = engineering(&app, 6, 2).await;
    app.tick("2035-01-01T10:00:00Z").await;
    for (_, token) in tokens(&app) {
        answer(&app, &token, q, 9, "").await;
    }
    use pulse::db::schema::responses;
    let mut conn = app.conn();
    let filed: Vec<Option<i32>> = responses::table
        .select(responses::team_id)
        .load(&mut conn)
        .unwrap();
    assert_eq!(filed.iter().filter(|t| **t == Some(web as i32)).count(), 6);
    assert_eq!(filed.iter().filter(|t| **t == Some(eng as i32)).count(), 2);
    assert!(!filed.contains(&Some(mobile as i32)));
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = diesel::sql_types::Text)]
    v: String,
}

fn texts(conn: &mut DbConnection, sql: &str) -> Vec<String> {
    match conn {
        DbConnection::Sqlite(c) => diesel::sql_query(sql).load::<Row>(c),
        DbConnection::Postgresql(c) => diesel::sql_query(sql).load::<Row>(c),
    }
    .unwrap()
    .into_iter()
    .map(|r| r.v)
    .collect()
}

/// Someone with the whole database after a round closes finds no link from an answer
/// to a person: not in flags, reminder links, emails or files, not in ids, physical
/// order or PostgreSQL's transaction ids.
async fn a_closed_round_leaves_no_link_in_the_database(app: TestApp) {
    let admin = app.admin_token().await;
    let ops = app.team(&admin, json!({"name": "Ops"})).await;
    hire(&app, &admin, "ops", 9, ops).await;
    let mut body = weekly(5, &[ops]);
    body["schedule"]["reminder_after_days"] = json!(2);
    let (_, q) = survey(&app, &admin, body).await;
    app.tick("2035-01-01T10:00:00Z").await;
    let mut tokens: Vec<(String, String)> = tokens(&app).into_iter().collect();
    tokens.sort();
    // Eight answer in a known order, the ninth gets the reminder.
    for (i, (_, token)) in tokens.iter().take(8).enumerate() {
        answer(&app, token, q, 9, &format!("order-{i}")).await;
    }
    app.tick("2035-01-03T10:00:00Z").await;
    let mut conn = app.conn();
    let pg = matches!(conn, DbConnection::Postgresql(_));
    let before_xmins: Vec<i64> = if pg {
        texts(
            &mut conn,
            "SELECT xmin::text AS v FROM invitations WHERE round_id = 1",
        )
        .iter()
        .map(|x| x.parse().unwrap())
        .collect()
    } else {
        vec![]
    };
    let before_ids = texts(&mut conn, "SELECT id AS v FROM responses");
    assert_eq!(
        texts(
            &mut conn,
            "SELECT CAST(count(*) AS TEXT) AS v FROM invitations WHERE responded"
        ),
        ["8"]
    );
    assert_eq!(texts(&mut conn, "SELECT CAST(count(*) AS TEXT) AS v FROM invitations WHERE reminder_token_hash IS NOT NULL"), ["1"]);
    assert!(
        app.emails().len() >= 10,
        "invitations and the reminder are on disk"
    );

    app.tick("2035-01-07T10:00:00Z").await;
    let count = |conn: &mut DbConnection, sql: &str| {
        texts(
            conn,
            &format!("SELECT CAST(count(*) AS TEXT) AS v FROM {sql}"),
        )[0]
        .clone()
    };
    assert_eq!(count(&mut conn, "invitations WHERE responded"), "0");
    assert_eq!(
        count(
            &mut conn,
            "invitations WHERE reminder_token_hash IS NOT NULL"
        ),
        "0"
    );
    assert_eq!(
        count(
            &mut conn,
            "outbox WHERE dedupe_key LIKE 'invite:1:%' OR dedupe_key LIKE 'reminder:1:%'"
        ),
        "0"
    );
    assert_eq!(app.emails().len(), 0, "the round's .eml files are gone");
    assert_eq!(
        count(&mut conn, "responses"),
        "8",
        "the answers themselves stay"
    );
    let after_ids = texts(&mut conn, "SELECT id AS v FROM responses");
    assert!(
        after_ids.iter().all(|id| !before_ids.contains(id)),
        "new ids"
    );
    // Physical order says nothing about the order of answering (a chance of 1 in 8! to coincide).
    let order_sql = |by: &str| {
        format!("SELECT a.text AS v FROM responses r JOIN answers a ON a.response_id = r.id WHERE a.text IS NOT NULL ORDER BY {by}")
    };
    let physical = texts(&mut conn, &order_sql(if pg { "r.ctid" } else { "r.rowid" }));
    let answered: Vec<String> = (0..8).map(|i| format!("order-{i}")).collect();
    assert_eq!(physical.len(), 8);
    assert_ne!(
        physical, answered,
        "responses still lie in the order they came"
    );
    let by_answer_id = texts(&mut conn, &order_sql("a.id"));
    assert_ne!(
        by_answer_id, answered,
        "answer ids still count up in the order they came"
    );
    if pg {
        // Every response and answer was written by the one rewriting transaction,
        // which is none of the answers' transactions nor next to one.
        let xmins: Vec<i64> = texts(
            &mut conn,
            "SELECT xmin::text AS v FROM responses UNION ALL SELECT xmin::text AS v FROM answers",
        )
        .iter()
        .map(|x| x.parse().unwrap())
        .collect();
        assert!(xmins.windows(2).all(|w| w[0] == w[1]), "{xmins:?}");
        for x in before_xmins {
            assert!(
                (xmins[0] - x).abs() > 1,
                "a response's xmin {} neighbours an invitation's {x}",
                xmins[0]
            );
        }
        let stats: Vec<i64> = texts(&mut conn, "SELECT xmin::text AS v FROM round_team_stats")
            .iter()
            .map(|x| x.parse().unwrap())
            .collect();
        assert!(
            stats.iter().all(|&s| s == xmins[0]),
            "the counters were rewritten with the responses"
        );
    }
    // The figures are intact.
    let report = get(&app, &admin, "/api/v1/reports/rounds/1").await;
    assert_eq!(
        (report["responses"].as_i64(), report["promoters"].as_i64()),
        (Some(8), Some(8))
    );
}

/// The whole server log of a walk-through, from `pulse serve` itself, holds no
/// link token, no setup token and no score from an email link.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_log_holds_no_secret() {
    use std::io::Read;
    let dir = std::env::temp_dir().join(format!("pulse-log-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("pulse.db");
    let mail = dir.join("mail");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let env = |c: &mut std::process::Command| {
        c.env("DATABASE_URL", &db)
            .env("PULSE_BIND", format!("127.0.0.1:{port}"))
            .env("PULSE_BASE_URL", &base)
            .env("PULSE_MAIL_DIR", &mail)
            .env("PULSE_TICK_SECONDS", "1")
            .env("PULSE_ADMIN_PASSWORD", crate::helpers::PASSWORD)
            .env("RUST_LOG", "info");
    };
    let mut admin = std::process::Command::new(env!("CARGO_BIN_EXE_pulse"));
    env(&mut admin);
    let out = admin
        .args([
            "admin",
            "create",
            "--email",
            "hr@example.com",
            "--name",
            "HR",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut serve = std::process::Command::new(env!("CARGO_BIN_EXE_pulse"));
    env(&mut serve);
    let mut server = serve
        .arg("serve")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let http = reqwest::Client::new();
    let mut up = false;
    for _ in 0..100 {
        if http.get(format!("{base}/healthz")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(up, "pulse serve did not start");
    let login: Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": "hr@example.com", "password": crate::helpers::PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().unwrap().to_string();
    let api = |path: &str, body: Value| {
        http.post(format!("{base}{path}"))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let team: Value = api("/api/v1/teams", json!({"name": "Ops"}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for i in 0..3 {
        api("/api/v1/employees", json!({"email": format!("p{i}@example.com"), "name": format!("P {i}"), "hired_on": "2024-01-01", "team_id": team["id"]})).await.unwrap();
    }
    let s: Value = api(
        "/api/v1/surveys",
        weekly(3, &[team["id"].as_i64().unwrap()]),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(
        api(&format!("/api/v1/surveys/{}/rounds", s["id"]), json!({}))
            .await
            .unwrap()
            .status(),
        201
    );
    // The serve loop writes the emails within a few ticks.
    let mut links = vec![];
    for _ in 0..100 {
        links = std::fs::read_dir(&mail)
            .map(|d| {
                d.flatten()
                    .map(|e| std::fs::read_to_string(e.path()).unwrap())
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
            .iter()
            .map(|e| link_path(&read_email(e).2))
            .collect();
        if links.len() == 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(links.len(), 3);
    let q = s["questions"][0]["id"].as_i64().unwrap();
    for link in &links {
        assert_eq!(
            http.get(format!("{base}{link}?score=9"))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
        let posted = http
            .post(format!("{base}{link}"))
            .form(&[(format!("q{q}"), "9")])
            .send()
            .await
            .unwrap();
        assert_eq!(posted.status(), 200);
    }
    let setup = http
        .get(format!("{base}/account/setup?token=secret-setup-token-123"))
        .send()
        .await
        .unwrap();
    assert!(setup.status().is_client_error() || setup.status().is_success());
    server.kill().unwrap();
    let mut log = String::new();
    server
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    server.wait().unwrap();
    assert!(
        log.contains("/s/<redacted>"),
        "the requests were logged: {log}"
    );
    for link in &links {
        let secret = link.trim_start_matches("/s/");
        assert!(!log.contains(secret), "a link token is in the log");
    }
    assert!(
        !log.contains("score=") && !log.contains("secret-setup-token-123"),
        "{log}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

crate::on_both_engines!(
    one_person_answering_many_rounds_is_never_shown,
    views_cannot_be_subtracted_from_each_other,
    an_open_round_shows_nothing_until_it_closes,
    comments_have_their_own_complementary_suppression,
    answers_are_filed_under_a_group_large_enough,
    a_closed_round_leaves_no_link_in_the_database,
);
