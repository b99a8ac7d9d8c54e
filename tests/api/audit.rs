//! The audit trail: a walk-through of admin actions on record with actor and address, filters, admins only, CSV, append only, and the emails a person gets.

use crate::helpers::{TestApp, ADMIN_EMAIL, PASSWORD};
use crate::smtp_sink::SmtpSink;
use crate::surveys::{read_email, weekly};
use reqwest::Method;
use serde_json::{json, Value};

/// The client address the trusted proxy (loopback) forwards.
const CLIENT_IP: &str = "203.0.113.7";

async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = app
        .api
        .request(method, app.url(path))
        .bearer_auth(token)
        .header("x-forwarded-for", CLIENT_IP);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn ok(app: &TestApp, method: Method, path: &str, token: &str, body: Option<Value>) -> Value {
    let (status, body) = send(app, method.clone(), path, token, body).await;
    assert!(
        (200..300).contains(&status),
        "{method} {path}: {status} {body}"
    );
    body
}

async fn audit(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let body = ok(
        app,
        Method::GET,
        &format!("/api/v1/audit?{query}"),
        token,
        None,
    )
    .await;
    body.as_array().unwrap().clone()
}

fn actions(entries: &[Value]) -> Vec<&str> {
    entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect()
}

async fn admin_actions_are_on_record_with_who_and_where(app: TestApp) {
    let admin = app.admin_token().await;
    let me = ok(
        &app,
        Method::POST,
        "/api/v1/auth/login",
        "",
        Some(json!({"email": ADMIN_EMAIL, "password": PASSWORD})),
    )
    .await["user"]["id"]
        .as_i64()
        .unwrap();
    let sink = SmtpSink::start().await;

    // People, roles, passwords, emails, departures, invitations, imports.
    let team = ok(
        &app,
        Method::POST,
        "/api/v1/teams",
        &admin,
        Some(json!({"name": "=HYPERLINK(\"http://x\")"})),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    ok(
        &app,
        Method::PATCH,
        &format!("/api/v1/teams/{team}"),
        &admin,
        Some(json!({"name": "Platform"})),
    )
    .await;
    let ana = ok(&app, Method::POST, "/api/v1/employees", &admin, Some(json!({"email": "ana@example.com", "name": "Ana Lima", "hired_on": "2024-01-01", "team_id": team, "password": "first password 1"}))).await["id"].as_i64().unwrap();
    ok(
        &app,
        Method::PATCH,
        &format!("/api/v1/employees/{ana}"),
        &admin,
        Some(json!({"role": "lead", "name": "Ana Lima-Souza"})),
    )
    .await;
    ok(
        &app,
        Method::PATCH,
        &format!("/api/v1/employees/{ana}"),
        &admin,
        Some(json!({"password": "second password 2"})),
    )
    .await;
    ok(
        &app,
        Method::PATCH,
        &format!("/api/v1/employees/{ana}"),
        &admin,
        Some(json!({"email": "ana.souza@example.com"})),
    )
    .await;
    let bob = ok(&app, Method::POST, "/api/v1/employees", &admin, Some(json!({"email": "bob@example.com", "name": "Bob", "hired_on": "2024-01-01", "team_id": team, "manager_id": ana}))).await["id"].as_i64().unwrap();
    ok(
        &app,
        Method::POST,
        &format!("/api/v1/employees/{bob}/invite"),
        &admin,
        None,
    )
    .await;
    ok(
        &app,
        Method::PATCH,
        &format!("/api/v1/employees/{bob}"),
        &admin,
        Some(json!({"left_on": "2026-01-31", "leave_reason": "voluntary"})),
    )
    .await;
    let res = app
        .api
        .post(app.url("/api/v1/employees/import"))
        .bearer_auth(&admin)
        .header("x-forwarded-for", CLIENT_IP)
        .header("content-type", "text/csv")
        .body("email,name,hired_on\ncy@example.com,Cy,2024-02-01\n")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // Surveys, rounds, exports, 1:1s.
    let dee = ok(&app, Method::POST, "/api/v1/employees", &admin, Some(json!({"email": "dee@example.com", "name": "Dee", "hired_on": "2024-01-01", "team_id": team, "manager_id": ana}))).await["id"].as_i64().unwrap();
    let sid = ok(
        &app,
        Method::POST,
        "/api/v1/surveys",
        &admin,
        Some(weekly(team)),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    ok(
        &app,
        Method::PATCH,
        &format!("/api/v1/surveys/{sid}"),
        &admin,
        Some(json!({"status": "paused"})),
    )
    .await;
    let round = ok(
        &app,
        Method::POST,
        &format!("/api/v1/surveys/{sid}/rounds"),
        &admin,
        None,
    )
    .await["id"]
        .as_i64()
        .unwrap();
    ok(
        &app,
        Method::POST,
        &format!("/api/v1/rounds/{round}/close"),
        &admin,
        None,
    )
    .await;
    ok(
        &app,
        Method::GET,
        "/api/v1/reports/enps.csv?group_by=quarter",
        &admin,
        None,
    )
    .await;
    ok(
        &app,
        Method::GET,
        "/api/v1/reports/turnover.csv",
        &admin,
        None,
    )
    .await;
    ok(&app, Method::POST, "/api/v1/one-on-ones", &admin, Some(json!({"manager_id": ana, "report_id": dee, "cadence": "weekly", "starts_on": "2035-01-08", "time": "10:00", "timezone": "Europe/Paris", "duration_minutes": 30}))).await;

    let all = audit(&app, &admin, "per_page=1000").await;
    let seen = actions(&all);
    for expected in [
        "team.create",
        "team.update",
        "employee.create",
        "employee.update",
        "employee.role",
        "employee.password",
        "employee.email",
        "employee.invite",
        "employee.departure",
        "employee.import",
        "survey.create",
        "survey.update",
        "round.open",
        "round.close",
        "export.enps",
        "export.turnover",
    ] {
        assert!(seen.contains(&expected), "{expected} missing from {seen:?}");
    }
    // Newest first; every entry names the admin and the forwarded client address.
    assert_eq!(seen[..2], ["one_on_one.create", "export.turnover"]);
    for e in &all {
        assert_eq!(e["actor_id"], me, "{e}");
        assert_eq!(e["actor_email"], ADMIN_EMAIL, "{e}");
        assert_eq!(e["ip"], CLIENT_IP, "{e}");
        assert!(e["at"].as_str().unwrap().ends_with('Z'), "{e}");
        let detail = e["detail"].as_str().unwrap();
        assert!(
            !detail.contains("password 2") && !detail.contains("password 1"),
            "{e}"
        );
    }
    let role = all.iter().find(|e| e["action"] == "employee.role").unwrap();
    assert_eq!(role["target"], format!("employee:{ana}"));
    assert_eq!(role["detail"], "member → lead");
    let update = all
        .iter()
        .find(|e| e["action"] == "employee.update")
        .unwrap();
    assert_eq!(update["detail"], "name");
    let email = all
        .iter()
        .find(|e| e["action"] == "employee.email")
        .unwrap();
    assert_eq!(email["target"], format!("employee:{ana}"));
    // People are named by id only: nothing in the trail for an erasure to remove.
    for e in &all {
        assert!(!e["detail"].as_str().unwrap().contains("@"), "{e}");
        assert!(!e["detail"].as_str().unwrap().contains("Ana"), "{e}");
    }
    let closed = all.iter().find(|e| e["action"] == "round.close").unwrap();
    assert_eq!(closed["target"], format!("round:{round}"));
    let export = all.iter().find(|e| e["action"] == "export.enps").unwrap();
    assert_eq!(export["detail"], "group_by=quarter");
    let paused = all.iter().find(|e| e["action"] == "survey.update").unwrap();
    assert_eq!(paused["detail"], "status active → paused");

    // Filters: action, a family of actions, actor, window; bad ones are named.
    let passwords = audit(&app, &admin, "action=employee.password").await;
    assert_eq!(passwords.len(), 1);
    assert_eq!(passwords[0]["target"], format!("employee:{ana}"));
    let people_actions = audit(&app, &admin, "action=employee.*&per_page=1000").await;
    assert!(!people_actions.is_empty());
    assert!(actions(&people_actions)
        .iter()
        .all(|a| a.starts_with("employee.")));
    assert_eq!(
        people_actions.len(),
        seen.iter().filter(|a| a.starts_with("employee.")).count()
    );
    let one_on_ones = audit(&app, &admin, "action=one_on_one.*").await;
    assert_eq!(actions(&one_on_ones), ["one_on_one.create"]);
    assert_eq!(
        audit(&app, &admin, &format!("actor_id={me}&per_page=1000"))
            .await
            .len(),
        all.len()
    );
    assert!(audit(&app, &admin, &format!("actor_id={ana}"))
        .await
        .is_empty());
    let today = chrono::Utc::now().date_naive();
    let q = format!("from={today}&to={today}&per_page=1000");
    assert_eq!(audit(&app, &admin, &q).await.len(), all.len());
    assert!(
        audit(&app, &admin, &format!("from={}", today.succ_opt().unwrap()))
            .await
            .is_empty()
    );
    assert!(
        audit(&app, &admin, &format!("to={}", today.pred_opt().unwrap()))
            .await
            .is_empty()
    );
    let first = all.last().unwrap()["at"].as_str().unwrap().to_string();
    let since = audit(
        &app,
        &admin,
        &format!("from={}&per_page=1000", first.replace('+', "%2B")),
    )
    .await;
    assert_eq!(since.len(), all.len());
    let (status, body) = send(
        &app,
        Method::GET,
        "/api/v1/audit?from=yesterday&action=DROP%20TABLE",
        &admin,
        None,
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["fields"]["from"].is_string() && body["fields"]["action"].is_string(),
        "{body}"
    );
    // Paging as every list.
    let res = app.get("/api/v1/audit?per_page=2", Some(&admin)).await;
    assert!(res.headers()["link"].to_str().unwrap().contains("page=2"));

    // Admins only; no route edits it.
    let ana_token = app
        .login("ana.souza@example.com", "second password 2")
        .await;
    for path in ["/api/v1/audit", "/api/v1/audit.csv"] {
        let (status, _) = send(&app, Method::GET, path, &ana_token, None).await;
        assert_eq!(status, 403, "{path}");
    }
    assert_eq!(app.get("/api/v1/audit", None).await.status(), 401);
    // The page: the same list and filters, for admins only.
    let res = app
        .get("/audit?action=employee.password", Some(&admin))
        .await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(
        html.contains(&format!("employee:{ana}")) && html.contains(CLIENT_IP),
        "{html}"
    );
    assert!(
        !html.contains("employee.role"),
        "the filter was not applied"
    );
    // Handlebars writes `=` as `&#x3D;` in an attribute.
    assert!(
        html.contains("/api/v1/audit.csv?action&#x3D;employee.password"),
        "{html}"
    );
    let res = app.get("/audit?from=someday", Some(&admin)).await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("neither a date"));
    assert_eq!(app.get("/audit", Some(&ana_token)).await.status(), 403);
    for method in [Method::PATCH, Method::DELETE, Method::PUT, Method::POST] {
        let (status, _) = send(
            &app,
            method.clone(),
            "/api/v1/audit",
            &admin,
            Some(json!({})),
        )
        .await;
        assert_eq!(status, 405, "{method}");
    }

    // The CSV: BOM, CRLF, formula guard; downloading it is itself recorded.
    let res = app
        .api
        .get(app.url("/api/v1/audit.csv?action=team.*"))
        .bearer_auth(&admin)
        .header("x-forwarded-for", CLIENT_IP)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let bytes = res.bytes().await.unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines[0], "at,actor_id,actor_email,action,target,ip,detail");
    assert_eq!(lines.len(), 3, "{text}");
    let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let created = reader
        .records()
        .map(Result::unwrap)
        .find(|r| &r[3] == "team.create")
        .unwrap();
    assert!(created[6].starts_with("'=HYPERLINK"), "{:?}", &created[6]);
    assert_eq!(&created[5], CLIENT_IP);
    let exports = audit(&app, &admin, "action=export.audit").await;
    assert_eq!(exports.len(), 1);
    assert_eq!(exports[0]["detail"], "action=team.*");

    // The database itself refuses to change or remove an entry.
    let mut conn = app.conn();
    for sql in ["UPDATE audit_log SET ip = 'x'", "DELETE FROM audit_log"] {
        use diesel::RunQueryDsl;
        let refused = match &mut conn {
            pulse::db::DbConnection::Sqlite(c) => diesel::sql_query(sql).execute(c).is_err(),
            pulse::db::DbConnection::Postgresql(c) => diesel::sql_query(sql).execute(c).is_err(),
        };
        assert!(refused, "{sql} was allowed");
    }
    assert_eq!(
        audit(&app, &admin, "per_page=1000").await.len(),
        all.len() + 1
    );

    // The person hears of the new password, and of the email change at both addresses, over SMTP.
    let url = sink.url();
    let settings =
        pulse::config::Settings::from_lookup(|k| (k == "SMTP_URL").then(|| url.clone())).unwrap();
    let transport = pulse::mail::Transport::from_settings(&settings).unwrap();
    pulse::jobs::tick(
        &app.state.pool,
        &app.state.mailing,
        &transport,
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    let notices: Vec<(Vec<String>, String, String)> = sink
        .received()
        .iter()
        .map(|m| {
            let (_, subject, text) = read_email(&m.data);
            (m.to.clone(), subject, text)
        })
        .filter(|(_, subject, _)| subject.contains("was changed"))
        .collect();
    assert_eq!(notices.len(), 3, "{notices:?}");
    let to = |addr: &str, what: &str| {
        notices
            .iter()
            .find(|(rcpt, subject, _)| rcpt == &[addr.to_string()] && subject.contains(what))
            .unwrap_or_else(|| panic!("no {what} notice to {addr}: {notices:?}"))
    };
    let (_, _, text) = to("ana@example.com", "password");
    assert!(
        text.contains("Hana HR") && !text.contains("second password"),
        "{text}"
    );
    let (_, _, old) = to("ana@example.com", "email address");
    assert!(old.contains("ana.souza@example.com"), "{old}");
    to("ana.souza@example.com", "email address");
}

crate::on_both_engines_with!(
    [("PULSE_TRUSTED_PROXIES", "127.0.0.1")],
    admin_actions_are_on_record_with_who_and_where,
);

/// The pages call the same services as the API: their actions are on record too.
async fn page_actions_are_on_record(app: TestApp) {
    use crate::pages::Browser;
    let admin = app.admin_token().await;
    let hr = Browser::sign_in(&app, ADMIN_EMAIL, PASSWORD).await;
    let res = hr.post("/teams", &[("name", "Ops")]).await;
    assert_eq!(res.status(), 303);
    let eve = app
        .employee(
            &admin,
            json!({"email": "eve@example.com", "name": "Eve", "hired_on": "2024-01-01"}),
        )
        .await;
    let res = hr
        .post(
            &format!("/people/{eve}/departure"),
            &[("left_on", "2026-03-31"), ("leave_reason", "involuntary")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let entries = audit(&app, &admin, "per_page=1000").await;
    let team = entries
        .iter()
        .find(|e| e["action"] == "team.create")
        .unwrap();
    assert!(
        team["detail"].as_str().unwrap().starts_with("Ops"),
        "{team}"
    );
    assert_eq!(team["ip"], "127.0.0.1");
    let left = entries
        .iter()
        .find(|e| e["action"] == "employee.departure")
        .unwrap();
    assert_eq!(left["target"], format!("employee:{eve}"));
    assert_eq!(left["detail"], "left on 2026-03-31, involuntary");
    // No proxy is trusted here: a forwarded address is the client's own claim and is ignored.
    let (status, _) = send(
        &app,
        Method::GET,
        "/api/v1/reports/turnover.csv",
        &admin,
        None,
    )
    .await;
    assert_eq!(status, 200);
    let export = audit(&app, &admin, "action=export.*").await;
    assert_eq!(export.len(), 1);
    assert_eq!(export[0]["ip"], "127.0.0.1");
}

mod pages_walk {
    use super::*;
    crate::on_both_engines!(page_actions_are_on_record);
}
