//! Erasing a person who left (GDPR article 17) and exporting their data (article 15).

use crate::helpers::{TestApp, PASSWORD};
use crate::private_notes::{holds, ok, send, whole_database};
use crate::reports::{answer, close_open_rounds, enps_survey, hire, send_now};
use reqwest::Method;
use serde_json::{json, Value};

const NAME: &str = "Robin Quokkason";
const EMAIL: &str = "robin.quokkason@example.com";

/// Every report HR sees, as JSON, to compare before and after.
async fn every_report(app: &TestApp, admin: &str, round: i64, team: i64) -> Vec<Value> {
    let mut out = vec![];
    for path in [
        "/api/v1/reports/enps?group_by=round".to_string(),
        "/api/v1/reports/enps?group_by=month".to_string(),
        format!("/api/v1/reports/enps?group_by=quarter&team_id={team}"),
        "/api/v1/reports/enps/teams".to_string(),
        "/api/v1/reports/turnover?group_by=month&from=2024-01-01".to_string(),
        format!("/api/v1/reports/turnover?group_by=year&team_id={team}&from=2024-01-01"),
        "/api/v1/reports/enps-turnover".to_string(),
        format!("/api/v1/reports/rounds/{round}"),
    ] {
        let res = app.get(&path, Some(admin)).await;
        let status = res.status();
        let body: Value = res.json().await.unwrap();
        assert_eq!(status, 200, "{path}: {body}");
        out.push(json!({ "path": path, "body": body }));
    }
    out
}

async fn erasing_a_leaver_keeps_every_figure_and_nothing_of_them(app: TestApp) {
    let admin = app.admin_token().await;
    let eng = app.team(&admin, json!({"name": "Eng"})).await;
    hire(&app, &admin, "eng", 6, eng).await;
    let lead_id = app
        .employee(
            &admin,
            json!({"email": "lea@example.com", "name": "Lea", "role": "lead",
            "team_id": eng, "hired_on": "2024-01-01", "password": PASSWORD}),
        )
        .await;
    let rob = app
        .employee(
            &admin,
            json!({"email": EMAIL, "name": NAME, "manager_id": lead_id,
            "team_id": eng, "hired_on": "2024-01-01", "password": PASSWORD}),
        )
        .await;
    let lead = app.login("lea@example.com", PASSWORD).await;
    let report = app.login(EMAIL, PASSWORD).await;

    // A 1:1 with their lead, with something of each kind in it.
    let series = ok(&app, Method::POST, "/api/v1/one-on-ones", &lead, Some(json!({
        "manager_id": lead_id, "report_id": rob, "cadence": "biweekly",
        "starts_on": "2035-12-04", "time": "10:00", "timezone": "Europe/Paris", "duration_minutes": 30}))).await;
    let meetings = ok(
        &app,
        Method::GET,
        &format!("/api/v1/one-on-ones/{}/meetings", series["id"]),
        &lead,
        None,
    )
    .await;
    let m = meetings[0]["id"].as_i64().unwrap();
    let post = |who: &str, what: &str, body: Value| {
        let path = format!("/api/v1/meetings/{m}/{what}");
        let (app, who) = (&app, who.to_string());
        async move { ok(app, Method::POST, &path, &who, Some(body)).await }
    };
    post(&report, "agenda", json!({"text": "Quokka agenda item"})).await;
    post(&report, "notes", json!({"body": "Quokka shared note"})).await;
    post(
        &report,
        "notes",
        json!({"body": "Quokka private note", "private": true}),
    )
    .await;
    post(
        &lead,
        "notes",
        json!({"body": "Lea's private note about the quokka", "private": true}),
    )
    .await;
    post(
        &lead,
        "actions",
        json!({"text": "Quokka action", "owner_id": rob}),
    )
    .await;

    // A round everyone answers, Rob with a comment; it closes.
    let survey: Value = app
        .post("/api/v1/surveys", Some(&admin), enps_survey(&[], "0-10"))
        .await
        .json()
        .await
        .unwrap();
    let q = survey["questions"][0]["id"].as_i64().unwrap();
    let tokens = send_now(&app, &admin, survey["id"].as_i64().unwrap()).await;
    for (email, token) in &tokens {
        let comment = if email == EMAIL {
            "Quokka survey comment"
        } else {
            ""
        };
        answer(&app, token, q, if email == EMAIL { 3 } else { 9 }, comment).await;
    }
    close_open_rounds(&app, &admin).await;
    let rounds: Value = app
        .get(
            &format!("/api/v1/surveys/{}/rounds", survey["id"]),
            Some(&admin),
        )
        .await
        .json()
        .await
        .unwrap();
    let round = rounds[0]["id"].as_i64().unwrap();

    // Erasure is for people who have left.
    let erase = |id: i64, confirm: &str| {
        let (app, admin, confirm) = (&app, admin.clone(), confirm.to_string());
        async move {
            send(
                app,
                Method::POST,
                &format!("/api/v1/employees/{id}/erase"),
                &admin,
                Some(json!({"confirm_email": confirm})),
            )
            .await
        }
    };
    let (status, body) = erase(rob, EMAIL).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (409, Some("still_employed")),
        "{body}"
    );
    let yesterday = (chrono::Utc::now() - chrono::Duration::days(1)).date_naive();
    ok(
        &app,
        Method::PATCH,
        &format!("/api/v1/employees/{rob}"),
        &admin,
        Some(json!({"left_on": yesterday, "leave_reason": "voluntary", "regretted": true})),
    )
    .await;

    // Article 15: what Pulse holds, the author's own private note only as sealed.
    let export = ok(
        &app,
        Method::GET,
        &format!("/api/v1/employees/{rob}/export"),
        &admin,
        None,
    )
    .await;
    let text = export.to_string();
    for held in [
        NAME,
        EMAIL,
        "Quokka agenda item",
        "Quokka shared note",
        "Quokka action",
    ] {
        assert!(text.contains(held), "the export lacks {held}: {export}");
    }
    assert!(
        !text.contains("Quokka private note"),
        "sealed, never in clear"
    );
    assert!(
        !text.contains("Lea's private note"),
        "another person's private note"
    );
    assert_eq!(export["person"]["left_on"], json!(yesterday));
    assert_eq!(export["survey_invitations"].as_array().unwrap().len(), 1);

    let before = every_report(&app, &admin, round, eng).await;
    let (status, body) = erase(rob, "someone.else@example.com").await;
    assert_eq!(status, 422, "{body}");
    let erased = ok(
        &app,
        Method::POST,
        &format!("/api/v1/employees/{rob}/erase"),
        &admin,
        Some(json!({"confirm_email": EMAIL.to_uppercase()})),
    )
    .await;
    assert_eq!(erased["one_on_ones"], 1, "{erased}");
    assert_eq!(erased["notes"], 3, "{erased}");
    assert_eq!(erased["agenda_items"], 1, "{erased}");
    assert_eq!(erased["action_items"], 1, "{erased}");
    assert_eq!(erased["invitations"], 1, "{erased}");

    // Every figure of every report is as it was: the departure stays, anonymous.
    assert_eq!(every_report(&app, &admin, round, eng).await, before);
    let db = whole_database(&app);
    for gone in [
        NAME,
        EMAIL,
        "Quokka agenda item",
        "Quokka shared note",
        "Quokka action",
        "Lea's private note",
    ] {
        assert!(!holds(&db, gone), "{gone} is still stored");
    }
    assert!(
        holds(&db, "Quokka survey comment"),
        "anonymous answers stay"
    );

    // The person is gone as a person: no sign-in, a placeholder, once only.
    let res = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": EMAIL, "password": PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), 401);
    let res = app.get("/api/v1/auth/logout", Some(&report)).await;
    assert_ne!(res.status(), 500);
    let (status, _) = send(&app, Method::GET, "/api/v1/account/notes", &report, None).await;
    assert_eq!(status, 401, "their sessions ended");
    let person = ok(
        &app,
        Method::GET,
        &format!("/api/v1/employees/{rob}"),
        &admin,
        None,
    )
    .await;
    assert_eq!(person["name"], "Erased person");
    assert_eq!(person["leave_reason"], "voluntary");
    let (status, body) = erase(rob, person["email"].as_str().unwrap()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (409, Some("already_erased"))
    );
    let audit = ok(
        &app,
        Method::GET,
        "/api/v1/audit?action=employee.erase",
        &admin,
        None,
    )
    .await;
    assert_eq!(audit.as_array().unwrap().len(), 1, "{audit}");
    // The lead's side of their 1:1 went with it; the lead is untouched.
    let (status, _) = send(
        &app,
        Method::GET,
        &format!("/api/v1/meetings/{m}"),
        &lead,
        None,
    )
    .await;
    assert_eq!(status, 404);
    ok(
        &app,
        Method::GET,
        &format!("/api/v1/employees/{lead_id}"),
        &admin,
        None,
    )
    .await;
}

async fn only_admins_erase_or_export(app: TestApp) {
    let admin = app.admin_token().await;
    let id = app
        .employee(
            &admin,
            json!({"email": "m@example.com", "name": "M", "hired_on": "2024-01-01",
            "left_on": "2024-06-30", "password": PASSWORD}),
        )
        .await;
    let lead = app
        .employee(
            &admin,
            json!({"email": "l@example.com", "name": "L", "role": "lead",
            "hired_on": "2024-01-01", "password": PASSWORD}),
        )
        .await;
    let _ = lead;
    let token = app.login("l@example.com", PASSWORD).await;
    let (status, _) = send(
        &app,
        Method::POST,
        &format!("/api/v1/employees/{id}/erase"),
        &token,
        Some(json!({"confirm_email": "m@example.com"})),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = send(
        &app,
        Method::GET,
        &format!("/api/v1/employees/{id}/export"),
        &token,
        None,
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = send(
        &app,
        Method::POST,
        "/api/v1/employees/999999/erase",
        &admin,
        Some(json!({"confirm_email": "x@example.com"})),
    )
    .await;
    assert_eq!(status, 404);
}

/// HR does both from the person's page.
async fn hr_exports_and_erases_from_the_persons_page(app: TestApp) {
    let admin = app.admin_token().await;
    let id = app
        .employee(
            &admin,
            json!({"email": EMAIL, "name": NAME, "hired_on": "2024-01-01"}),
        )
        .await;
    let hr = crate::pages::Browser::sign_in(&app, crate::helpers::ADMIN_EMAIL, PASSWORD).await;
    let (_, html) = hr.page(&format!("/people/{id}")).await;
    assert!(
        html.contains(&format!("/people/{id}/export.json")),
        "{html}"
    );
    assert!(html.contains("Erasing is possible once their last day has passed"));
    let res = hr.get(&format!("/people/{id}/export.json")).await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("attachment"));
    let doc: Value = res.json().await.unwrap();
    assert_eq!(doc["person"]["email"], EMAIL);

    ok(
        &app,
        Method::PATCH,
        &format!("/api/v1/employees/{id}"),
        &admin,
        Some(json!({"left_on": "2025-03-31", "leave_reason": "other"})),
    )
    .await;
    let (_, html) = hr.page(&format!("/people/{id}")).await;
    assert!(
        html.contains(&format!("action=\"/people/{id}/erase\"")),
        "{html}"
    );
    let res = hr
        .post(
            &format!("/people/{id}/erase"),
            &[("confirm_email", "wrong@example.com")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (_, html) = hr.page(&format!("/people/{id}")).await;
    assert!(
        html.contains("confirm_email"),
        "the refusal is shown: {html}"
    );
    assert!(html.contains(NAME), "nothing erased yet");
    let res = hr
        .post(&format!("/people/{id}/erase"), &[("confirm_email", EMAIL)])
        .await;
    assert_eq!(res.status(), 303);
    let (_, html) = hr.page(&format!("/people/{id}")).await;
    assert!(html.contains("Erased Robin Quokkason"), "{html}");
    assert!(html.contains("Erased person"));
    assert!(!html.contains(EMAIL));
}

/// What the listening features keep about a person is in their export and
/// goes with an erasure: the onboarding and exit surveys sent to them, their
/// digest setting, and the action plans they own.
async fn lifecycle_digest_and_action_plans_are_exported_and_erased(app: TestApp) {
    use diesel::prelude::*;
    use pulse::db::schema::{digest_preferences, lifecycle_sends};
    let admin = app.admin_token().await;
    let team = app.team(&admin, json!({"name": "Support"})).await;
    let rob = app
        .employee(
            &admin,
            json!({"email": EMAIL, "name": NAME, "hired_on": "2024-01-01", "team_id": team}),
        )
        .await;
    let res = app
        .post("/api/v1/surveys", Some(&admin), json!({"template": "exit"}))
        .await;
    assert_eq!(res.status(), 201);
    let exit: Value = res.json().await.unwrap();
    let res = app
        .post(
            "/api/v1/action-plans",
            Some(&admin),
            json!({"team_id": team, "text": "Document the on-call rota", "owner_id": rob, "due_on": "2026-03-01"}),
        )
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let res = app
        .patch(
            &format!("/api/v1/employees/{rob}"),
            &admin,
            json!({"left_on": "2026-02-01", "leave_reason": "voluntary"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    // As the lifecycle pass and the account page would have left them.
    let mut conn = app.conn();
    diesel::insert_into(lifecycle_sends::table)
        .values((
            lifecycle_sends::survey_id.eq(exit["id"].as_i64().unwrap() as i32),
            lifecycle_sends::employee_id.eq(rob as i32),
            lifecycle_sends::milestone.eq(0),
            lifecycle_sends::sent_on.eq(chrono::NaiveDate::from_ymd_opt(2026, 1, 20).unwrap()),
        ))
        .execute(&mut conn)
        .unwrap();
    diesel::insert_into(digest_preferences::table)
        .values((
            digest_preferences::employee_id.eq(rob as i32),
            digest_preferences::enabled.eq(false),
        ))
        .execute(&mut conn)
        .unwrap();

    let export: Value = app
        .get(&format!("/api/v1/employees/{rob}/export"), Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        export["lifecycle_surveys_sent"][0]["milestone"], 0,
        "{export}"
    );
    assert_eq!(export["lifecycle_surveys_sent"][0]["sent_on"], "2026-01-20");
    assert_eq!(export["weekly_digest"], false);
    assert_eq!(
        export["action_plans"][0]["text"],
        "Document the on-call rota"
    );

    let res = app
        .post(
            &format!("/api/v1/employees/{rob}/erase"),
            Some(&admin),
            json!({"confirm_email": EMAIL}),
        )
        .await;
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["lifecycle_surveys"], 1, "{body}");
    let left: i64 = lifecycle_sends::table
        .filter(lifecycle_sends::employee_id.eq(rob as i32))
        .count()
        .get_result(&mut conn)
        .unwrap();
    let setting: i64 = digest_preferences::table
        .filter(digest_preferences::employee_id.eq(rob as i32))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!((left, setting), (0, 0));
}

crate::on_both_engines!(
    lifecycle_digest_and_action_plans_are_exported_and_erased,
    erasing_a_leaver_keeps_every_figure_and_nothing_of_them,
    only_admins_erase_or_export,
    hr_exports_and_erases_from_the_persons_page
);
