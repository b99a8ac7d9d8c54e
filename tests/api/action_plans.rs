//! Action plans: leads for their teams, HR for all, fields checked one by one; the
//! dashboard shows what is open; the next pulse shows what was done since the last.

use crate::conversations::{answer, world};
use crate::helpers::{TestApp, PASSWORD};
use crate::pages::Browser;
use crate::reports::{close_open_rounds, send_now};
use serde_json::{json, Value};

async fn post(app: &TestApp, token: &str, body: Value) -> (u16, Value) {
    let res = app.post("/api/v1/action-plans", Some(token), body).await;
    (
        res.status().as_u16(),
        res.json().await.unwrap_or(Value::Null),
    )
}

async fn leads_record_actions_for_their_teams_and_hr_for_all(app: TestApp) {
    let w = world(&app).await;
    let lea_id = 2;
    let (status, created) = post(
        &app,
        &w.lead,
        json!({"team_id": w.ops, "text": "Publish the rota two weeks ahead", "owner_id": lea_id, "due_on": "2030-01-31", "driver": "wellbeing", "round_id": w.round}),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["status"], "open");
    assert_eq!(created["team_name"], "Ops");
    assert_eq!(created["driver"], "wellbeing");
    assert_eq!(created["owner_name"], "Lea Lead");
    let id = created["id"].as_i64().unwrap();

    // Not her team; not for members; a company-wide action is HR's.
    let (status, _) = post(
        &app,
        &w.lead,
        json!({"team_id": w.sales, "text": "x", "owner_id": lea_id, "due_on": "2030-01-31"}),
    )
    .await;
    assert_eq!(status, 403);
    let (status, body) = post(
        &app,
        &w.lead,
        json!({"text": "x", "owner_id": lea_id, "due_on": "2030-01-31"}),
    )
    .await;
    assert_eq!(status, 422);
    assert!(body["fields"]["team_id"].is_string(), "{body}");

    // Every bad field is named.
    let (status, body) = post(&app, &w.admin, json!({"team_id": 9999, "text": " ", "owner_id": 9999, "due_on": "31/01/2030", "driver": "mood", "round_id": 9999})).await;
    assert_eq!(status, 422);
    for f in [
        "team_id", "text", "owner_id", "due_on", "driver", "round_id",
    ] {
        assert!(body["fields"][f].is_string(), "{f}: {body}");
    }
    let (status, body) = post(&app, &w.admin, json!({"team_id": w.ops, "text": "x"})).await;
    assert_eq!(status, 422);
    assert!(
        body["fields"]["owner_id"].is_string() && body["fields"]["due_on"].is_string(),
        "{body}"
    );
    // A lead cannot name someone outside their teams as owner.
    let sales0 = {
        let mut conn = app.conn();
        pulse::repo::employees::find_by_email(&mut conn, "sales0@example.com")
            .unwrap()
            .unwrap()
            .id
    };
    let (status, body) = post(
        &app,
        &w.lead,
        json!({"team_id": w.ops, "text": "x", "owner_id": sales0, "due_on": "2030-01-31"}),
    )
    .await;
    assert_eq!(status, 422);
    assert!(body["fields"]["owner_id"].is_string(), "{body}");
    let res = app
        .post(
            "/api/v1/action-plans",
            Some(&w.lead),
            json!({"team_id": "ops"}),
        )
        .await;
    assert!(
        res.status() == 400 || res.status() == 422,
        "{}",
        res.status()
    );

    // HR: a Sales action and a company-wide one.
    let (status, sales_action) = post(
        &app,
        &w.admin,
        json!({"team_id": w.sales, "text": "Sales offsite", "owner_id": 3, "due_on": "2020-01-01"}),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(sales_action["overdue"], true);
    let (status, company) = post(&app, &w.admin, json!({"team_id": null, "text": "Clearer pay bands", "owner_id": 1, "due_on": "2030-06-30", "driver": "pay"})).await;
    assert_eq!(status, 201);
    assert_eq!(company["team_name"], "Whole company");

    // Lists: Lea sees Ops' and the company's; with team_id, Ops' only; Sam not Ops'.
    let mine: Value = app
        .get("/api/v1/action-plans", Some(&w.lead))
        .await
        .json()
        .await
        .unwrap();
    let texts: Vec<&str> = mine
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts.len(), 2, "{texts:?}");
    assert!(
        texts.contains(&"Publish the rota two weeks ahead") && texts.contains(&"Clearer pay bands")
    );
    let ops: Value = app
        .get(
            &format!("/api/v1/action-plans?team_id={}", w.ops),
            Some(&w.lead),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ops.as_array().unwrap().len(), 1);
    assert_eq!(
        app.get(
            &format!("/api/v1/action-plans?team_id={}", w.ops),
            Some(&w.other_lead)
        )
        .await
        .status(),
        403
    );
    let all: Value = app
        .get("/api/v1/action-plans?per_page=2", Some(&w.admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all.as_array().unwrap().len(), 2);
    assert_eq!(
        app.get("/api/v1/action-plans?status=maybe", Some(&w.admin))
            .await
            .status(),
        422
    );

    // Status: done and back; others' and bad values refused.
    let res = app
        .patch(
            &format!("/api/v1/action-plans/{id}"),
            &w.other_lead,
            json!({"status": "done"}),
        )
        .await;
    assert_eq!(res.status(), 404);
    let res = app
        .patch(
            &format!("/api/v1/action-plans/{}", company["id"]),
            &w.lead,
            json!({"status": "done"}),
        )
        .await;
    assert_eq!(res.status(), 403);
    let res = app
        .patch(
            &format!("/api/v1/action-plans/{id}"),
            &w.lead,
            json!({"status": "finished"}),
        )
        .await;
    assert_eq!(res.status(), 422);
    let res = app
        .patch(
            &format!("/api/v1/action-plans/{id}"),
            &w.lead,
            json!({"status": "done"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let done: Value = res.json().await.unwrap();
    assert_eq!(done["status"], "done");
    assert_eq!(done["done_on"], chrono::Utc::now().date_naive().to_string());
    let open: Value = app
        .get("/api/v1/action-plans?status=open", Some(&w.lead))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(open.as_array().unwrap().len(), 1);
    assert_eq!(
        app.patch(
            "/api/v1/action-plans/99999",
            &w.admin,
            json!({"status": "done"})
        )
        .await
        .status(),
        404
    );
}

async fn open_actions_on_the_dashboard_and_done_ones_above_the_next_pulse(app: TestApp) {
    let w = world(&app).await;
    for i in 0..6 {
        answer(
            &app,
            &w.tokens[&format!("ops{i}@example.com")],
            w.question,
            None,
        )
        .await;
    }
    close_open_rounds(&app, &w.admin).await;
    // Open actions are never "changed since last time".
    let (_, old) = post(&app, &w.admin, json!({"team_id": w.ops, "text": "Something from long ago", "owner_id": 2, "due_on": "2030-01-31"})).await;

    // From the round page's form, as Lea would.
    let lea = Browser::sign_in(&app, "lea@example.com", PASSWORD).await;
    let (status, html) = lea
        .page(&format!("/rounds/{}?team_id={}", w.round, w.ops))
        .await;
    assert_eq!(status, 200);
    assert!(html.contains("Record an action from this round"), "{html}");
    let res = lea
        .post(
            "/action-plans",
            &[
                ("team_id", &w.ops.to_string()),
                ("text", "Quiet hours on Thursday mornings"),
                ("owner_id", "2"),
                ("due_on", "2030-02-15"),
                ("driver", "wellbeing"),
                ("round_id", &w.round.to_string()),
                ("back", &format!("/rounds/{}", w.round)),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (_, dash) = lea.page("/").await;
    assert!(
        dash.contains("Open actions") && dash.contains("Quiet hours on Thursday mornings"),
        "{dash}"
    );
    let (_, list) = lea.page("/action-plans").await;
    assert!(list.contains("Quiet hours on Thursday mornings"));
    let sam = Browser::sign_in(&app, "sam@example.com", PASSWORD).await;
    let (_, dash) = sam.page("/").await;
    assert!(!dash.contains("Quiet hours"), "Sam leads Sales only");
    let hr = Browser::sign_in(&app, "hr@example.com", PASSWORD).await;
    let (_, dash) = hr.page("/").await;
    assert!(dash.contains("Quiet hours"));

    let all: Value = app
        .get("/api/v1/action-plans", Some(&w.lead))
        .await
        .json()
        .await
        .unwrap();
    let quiet = all
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["text"] == "Quiet hours on Thursday mornings")
        .unwrap()
        .clone();
    assert_eq!(quiet["round_id"], w.round);
    // Marked done through the page: it leaves the dashboard for the next pulse.
    let res = lea
        .post(
            &format!("/action-plans/{}", quiet["id"]),
            &[("status", "done"), ("back", "/action-plans")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (_, dash) = lea.page("/").await;
    assert!(
        !dash.contains("Quiet hours"),
        "done actions leave the dashboard"
    );
    let (_, sales_action) = post(&app, &w.admin, json!({"team_id": w.sales, "text": "Sales-only change", "owner_id": 3, "due_on": "2030-01-31"})).await;
    app.patch(
        &format!("/api/v1/action-plans/{}", sales_action["id"]),
        &w.admin,
        json!({"status": "done"}),
    )
    .await;
    let _ = old;
    assert_eq!(old["status"], "open");

    // The next pulse: Ops people see Ops' and the company's changes, not Sales'.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let tokens = send_now(&app, &w.admin, w.survey).await;
    let (status, form) = page(&app, &format!("/s/{}", tokens["ops0@example.com"])).await;
    assert_eq!(status, 200);
    assert!(form.contains("What we changed since last time"), "{form}");
    assert!(form.contains("Quiet hours on Thursday mornings") && form.contains("Ops"));
    assert!(!form.contains("Sales-only change") && !form.contains("Something from long ago"));
    assert!(!form.contains("Lea"), "no owner named");
    let changes_at = form.find("What we changed").unwrap();
    assert!(
        changes_at < form.find("<form").unwrap(),
        "above the answering form"
    );
    let (_, sales_form) = page(&app, &format!("/s/{}", tokens["sales0@example.com"])).await;
    assert!(sales_form.contains("Sales-only change") && !sales_form.contains("Quiet hours"));
}

async fn page(app: &TestApp, path: &str) -> (u16, String) {
    let res = app.get(path, None).await;
    (res.status().as_u16(), res.text().await.unwrap())
}

async fn the_demo_company_has_a_conversation_and_actions(app: TestApp) {
    {
        let mut conn = app.conn();
        pulse::demo::run(&mut conn, 60, 6, &pulse::auth::password::hash(PASSWORD), 7).unwrap();
    }
    let hr = app.login("hr@demo.pulse.example", PASSWORD).await;
    let actions: Value = app
        .get("/api/v1/action-plans", Some(&hr))
        .await
        .json()
        .await
        .unwrap();
    let actions = actions.as_array().unwrap();
    assert!(actions.len() >= 3, "{actions:?}");
    assert!(
        actions.iter().any(|a| a["status"] == "done")
            && actions.iter().any(|a| a["status"] == "open")
    );
    assert_eq!(
        crate::conversations::count(&app, "SELECT COUNT(*) AS n FROM conversations"),
        1
    );
    #[derive(diesel::QueryableByName)]
    struct I {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        answer_id: i32,
    }
    let id = {
        use diesel::RunQueryDsl;
        let mut conn = app.conn();
        let q = diesel::sql_query("SELECT answer_id FROM comment_messages");
        let rows = match &mut conn {
            pulse::db::DbConnection::Sqlite(c) => q.load::<I>(c).unwrap(),
            pulse::db::DbConnection::Postgresql(c) => q.load::<I>(c).unwrap(),
        };
        rows[0].answer_id
    };
    let thread: Value = app
        .get(&format!("/api/v1/comments/{id}/replies"), Some(&hr))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(thread.as_array().unwrap().len(), 3, "{thread}");
    assert_eq!(thread[1]["author"], "The respondent");
    let b = Browser::sign_in(&app, "hr@demo.pulse.example", PASSWORD).await;
    let (_, dash) = b.page("/").await;
    assert!(
        dash.contains("Publish each sprint"),
        "the demo's open action is on the dashboard"
    );
}

async fn a_due_action_plan_fires_action_due_once(app: TestApp) {
    let w = world(&app).await;
    let receiver = crate::webhooks::Receiver::start();
    let (_, secret) = crate::webhooks::register(
        &app,
        &w.admin,
        json!({"url": receiver.url("/"), "events": ["action.due"]}),
    )
    .await;
    let today = chrono::Utc::now().date_naive();
    for (text, due) in [
        ("Rota published", today),
        ("Later", today + chrono::Duration::days(5)),
    ] {
        let (status, _) = post(
            &app,
            &w.lead,
            json!({"team_id": w.ops, "text": text, "owner_id": 2, "due_on": due.to_string()}),
        )
        .await;
        assert_eq!(status, 201);
    }
    let (_, done) = post(&app, &w.lead, json!({"team_id": w.ops, "text": "Already done", "owner_id": 2, "due_on": today.to_string()})).await;
    app.patch(
        &format!("/api/v1/action-plans/{}", done["id"]),
        &w.lead,
        json!({"status": "done"}),
    )
    .await;
    app.tick(&chrono::Utc::now().to_rfc3339()).await;
    app.tick(&chrono::Utc::now().to_rfc3339()).await;
    let got = receiver.received();
    assert_eq!(got.len(), 1, "once, and only the open one due today");
    assert!(got[0].signed_with(&secret));
    let body = got[0].json();
    assert_eq!(body["event"], "action.due");
    assert_eq!(body["data"]["team_id"], w.ops);
    assert_eq!(body["data"]["due_on"], today.to_string());
    assert!(body["data"]["action_plan_id"].is_i64());
    assert!(
        !got[0].body.contains("Rota published"),
        "ids and the day only"
    );
}

crate::on_both_engines!(
    a_due_action_plan_fires_action_due_once,
    the_demo_company_has_a_conversation_and_actions,
    leads_record_actions_for_their_teams_and_hr_for_all,
    open_actions_on_the_dashboard_and_done_ones_above_the_next_pulse,
);
