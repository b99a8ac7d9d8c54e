//! The retention setting: answers of long-closed rounds and old sent emails go; every figure stays.

use crate::helpers::{TestApp, PASSWORD};
use crate::private_notes::{holds, ok, send, whole_database};
use crate::reports::{answer, close_open_rounds, enps_survey, hire, send_now};
use chrono::{Duration, Utc};
use diesel::prelude::*;
use reqwest::Method;
use serde_json::{json, Value};

fn stored(app: &TestApp, table: &str) -> i64 {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = app.conn();
    let q = diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"));
    match &mut conn {
        pulse::db::DbConnection::Sqlite(c) => q.get_result::<N>(c).unwrap().n,
        pulse::db::DbConnection::Postgresql(c) => q.get_result::<N>(c).unwrap().n,
    }
}

async fn report(app: &TestApp, admin: &str, round: i64) -> Value {
    ok(
        app,
        Method::GET,
        &format!("/api/v1/reports/rounds/{round}"),
        admin,
        None,
    )
    .await
}

async fn trend(app: &TestApp, admin: &str) -> Value {
    let by_round = ok(
        app,
        Method::GET,
        "/api/v1/reports/enps?group_by=round",
        admin,
        None,
    )
    .await;
    let teams = ok(app, Method::GET, "/api/v1/reports/enps/teams", admin, None).await;
    json!([by_round, teams])
}

async fn answers_and_emails_go_when_the_policy_says_and_figures_stay(app: TestApp) {
    let admin = app.admin_token().await;
    let ops = app.team(&admin, json!({"name": "Ops"})).await;
    hire(&app, &admin, "ops", 7, ops).await;
    let survey: Value = app
        .post("/api/v1/surveys", Some(&admin), enps_survey(&[], "0-10"))
        .await
        .json()
        .await
        .unwrap();
    let q = survey["questions"][0]["id"].as_i64().unwrap();
    let tokens = send_now(&app, &admin, survey["id"].as_i64().unwrap()).await;
    for (i, token) in tokens.values().enumerate() {
        answer(
            &app,
            token,
            q,
            [10, 9, 8, 2][i % 4],
            &format!("Wombat comment {i}"),
        )
        .await;
    }
    close_open_rounds(&app, &admin).await;
    let round = ok(
        &app,
        Method::GET,
        &format!("/api/v1/surveys/{}/rounds", survey["id"]),
        &admin,
        None,
    )
    .await[0]["id"]
        .as_i64()
        .unwrap();
    let before = report(&app, &admin, round).await;
    assert!(
        before["questions"].to_string().contains("Wombat comment"),
        "{before}"
    );
    let trend_before = trend(&app, &admin).await;
    assert!(stored(&app, "answers") > 0, "answers are stored");

    // Only admins, and only sensible values.
    let member = app
        .employee(&admin, json!({"email": "m@example.com", "name": "M", "hired_on": "2024-01-01", "password": PASSWORD}))
        .await;
    let m = app.login("m@example.com", PASSWORD).await;
    // An email that outlives its round: an account invitation, sent now.
    ok(
        &app,
        Method::POST,
        &format!("/api/v1/employees/{member}/invite"),
        &admin,
        Some(json!({})),
    )
    .await;
    app.tick(&Utc::now().to_rfc3339()).await;
    assert!(stored(&app, "outbox") > 0);
    let (status, _) = send(
        &app,
        Method::PUT,
        "/api/v1/settings/retention",
        &m,
        Some(json!({"answer_months": 1})),
    )
    .await;
    assert_eq!(status, 403);
    let (status, body) = send(
        &app,
        Method::PUT,
        "/api/v1/settings/retention",
        &admin,
        Some(json!({"answer_months": 0, "sent_email_days": 99999})),
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        body["fields"]["answer_months"].is_string()
            && body["fields"]["sent_email_days"].is_string(),
        "{body}"
    );
    assert_eq!(
        ok(
            &app,
            Method::GET,
            "/api/v1/settings/retention",
            &admin,
            None
        )
        .await,
        json!({"answer_months": null, "sent_email_days": null}),
        "a refused change changes nothing"
    );
    ok(
        &app,
        Method::PUT,
        "/api/v1/settings/retention",
        &admin,
        Some(json!({"answer_months": 1, "sent_email_days": 30})),
    )
    .await;

    // Within the month nothing goes; after it, the answers do.
    app.tick(&(Utc::now() + Duration::days(20)).to_rfc3339())
        .await;
    assert_eq!(report(&app, &admin, round).await, before);
    let emails_kept = stored(&app, "outbox");
    app.tick(&(Utc::now() + Duration::days(40)).to_rfc3339())
        .await;
    assert_eq!(stored(&app, "answers"), 0);
    assert_eq!(stored(&app, "responses"), 0);
    assert!(
        stored(&app, "outbox") < emails_kept,
        "sent emails older than 30 days went"
    );
    assert!(!holds(&whole_database(&app), "Wombat comment"));

    let after = report(&app, &admin, round).await;
    // An RFC 3339 instant with its offset, as the OpenAPI `date-time` says.
    let removed_at = after["answers_removed_at"].as_str().unwrap_or_default();
    assert!(
        chrono::DateTime::parse_from_rfc3339(removed_at).is_ok(),
        "{after}"
    );
    assert!(after.get("questions").is_none(), "{after}");
    for figure in [
        "responses",
        "invited",
        "enps",
        "promoters",
        "detractors",
        "participation",
    ] {
        assert_eq!(after[figure], before[figure], "{figure} is kept");
    }
    assert_eq!(
        trend(&app, &admin).await,
        trend_before,
        "every trend reads counters"
    );
    let (status, body) = send(
        &app,
        Method::GET,
        &format!("/api/v1/reports/rounds/{round}/answers.csv"),
        &admin,
        None,
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (410, Some("answers_removed"))
    );
    // Another pass finds nothing more to do; the change is on the audit trail.
    app.tick(&(Utc::now() + Duration::days(41)).to_rfc3339())
        .await;
    assert_eq!(report(&app, &admin, round).await, after);
    let audit = ok(
        &app,
        Method::GET,
        "/api/v1/audit?action=setting.change",
        &admin,
        None,
    )
    .await;
    assert!(
        audit.to_string().contains("answers kept 1 months"),
        "{audit}"
    );
}

crate::on_both_engines!(answers_and_emails_go_when_the_policy_says_and_figures_stay);
