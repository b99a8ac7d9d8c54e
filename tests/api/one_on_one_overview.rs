//! HR's 1:1 overview: which series are kept and how regularly, as counts and
//! dates — never what was written in a meeting.

use crate::helpers::{TestApp, ADMIN_EMAIL, PASSWORD};
use crate::pages::Browser;
use crate::private_notes::{ok, pair, send, Pair};
use chrono::{Duration, NaiveDateTime, SubsecRound, Utc};
use diesel::prelude::*;
use pulse::db::schema::meetings;
use reqwest::Method;
use serde_json::json;

/// Puts a meeting `days_ago` in the past, with `status`.
fn set_meeting(app: &TestApp, id: i64, at: NaiveDateTime, status: &str) {
    let mut conn = app.conn();
    diesel::update(meetings::table.find(id as i32))
        .set((
            meetings::scheduled_for.eq(at),
            meetings::starts_at.eq(at),
            meetings::ends_at.eq(at + Duration::minutes(30)),
            meetings::remind_at.eq(at - Duration::hours(24)),
            meetings::status.eq(status),
        ))
        .execute(&mut conn)
        .unwrap();
}

fn add_meeting(app: &TestApp, series: i64, at: NaiveDateTime, status: &str) {
    let mut conn = app.conn();
    diesel::insert_into(meetings::table)
        .values((
            meetings::series_id.eq(series as i32),
            meetings::scheduled_for.eq(at),
            meetings::starts_at.eq(at),
            meetings::ends_at.eq(at + Duration::minutes(30)),
            meetings::remind_at.eq(at - Duration::hours(24)),
            meetings::status.eq(status),
            meetings::sequence.eq(0),
            meetings::created_at.eq(at),
            meetings::updated_at.eq(at),
        ))
        .execute(&mut conn)
        .unwrap();
}

const CONTENT: [&str; 4] = [
    "Zebra promotion plan",
    "Walrus budget agreed",
    "Narwhal worries",
    "Pelican write-up",
];

async fn hr_sees_that_one_on_ones_happened_and_nothing_of_them(app: TestApp) {
    let hr = app.admin_token().await;
    let none = ok(&app, Method::GET, "/api/v1/one-on-ones/overview", &hr, None).await;
    assert_eq!(none, json!([]));
    let Pair {
        admin,
        lead_id,
        lead,
        report,
        report_id,
        meeting: m,
    } = pair(&app).await;
    // What the two wrote in their meeting, none of which HR may see.
    let base = format!("/api/v1/meetings/{m}");
    ok(
        &app,
        Method::POST,
        &format!("{base}/agenda"),
        &report,
        Some(json!({"text": CONTENT[0]})),
    )
    .await;
    for (body, private) in [(CONTENT[1], false), (CONTENT[2], true)] {
        ok(
            &app,
            Method::POST,
            &format!("{base}/notes"),
            &lead,
            Some(json!({"body": body, "private": private})),
        )
        .await;
    }
    ok(
        &app,
        Method::POST,
        &format!("{base}/actions"),
        &lead,
        Some(json!({"text": CONTENT[3], "owner_id": report_id})),
    )
    .await;
    let series = ok(&app, Method::GET, "/api/v1/one-on-ones", &lead, None).await[0]["id"]
        .as_i64()
        .unwrap();

    // That meeting was held ten days ago; one was skipped three days ago, and
    // one held long before the quarter.
    let now = Utc::now().naive_utc().trunc_subsecs(0);
    let held = now - Duration::days(10);
    set_meeting(&app, m, held, "scheduled");
    add_meeting(&app, series, now - Duration::days(3), "skipped");
    add_meeting(&app, series, now - Duration::days(120), "scheduled");

    // A second series, with a meeting to come, so that the list has two pages.
    let sam = app
        .employee(
            &admin,
            json!({"email": "sam@example.com", "name": "Sam", "manager_id": lead_id,
                   "hired_on": "2024-01-01"}),
        )
        .await;
    ok(
        &app,
        Method::POST,
        "/api/v1/one-on-ones",
        &lead,
        Some(
            json!({"manager_id": lead_id, "report_id": sam, "cadence": "weekly",
                    "starts_on": "2035-12-04", "time": "10:00", "timezone": "Europe/Paris",
                    "duration_minutes": 30}),
        ),
    )
    .await;

    let res = app
        .api
        .get(app.url("/api/v1/one-on-ones/overview?per_page=1&page=2"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["x-total-count"], "2");
    assert!(res.headers().get("link").is_none(), "the last page");
    let page2: serde_json::Value = res.json().await.unwrap();
    let res = app
        .api
        .get(app.url("/api/v1/one-on-ones/overview?per_page=1"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    let link = res.headers()["link"].to_str().unwrap().to_string();
    assert!(
        link.contains("page=2") && link.contains("rel=\"next\""),
        "{link}"
    );
    let page1: serde_json::Value = res.json().await.unwrap();
    assert_eq!(page1[0]["report"]["name"], "Sam", "newest first: {page1}");
    assert_eq!(page1[0]["meetings_held"], 0);
    assert!(page1[0]["next_meeting_at"].is_string());

    let row = &page2[0];
    let day = |t: NaiveDateTime| {
        t.and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    assert_eq!(
        *row,
        json!({
            "id": series,
            "manager": {"id": lead_id, "name": "Lea"},
            "report": {"id": report_id, "name": "Rob"},
            "cadence": "biweekly",
            "status": "active",
            "meetings_scheduled": 2,
            "meetings_held": 1,
            "meetings_skipped": 1,
            "last_held_at": day(held),
            "next_meeting_at": null,
            "overdue": false,
        })
    );
    let everything = format!("{page1}{page2}");
    for text in CONTENT {
        assert!(!everything.contains(text), "{text} in {everything}");
    }

    // Thirty days without a held biweekly meeting is overdue (14 + 7 of grace).
    set_meeting(&app, m, now - Duration::days(30), "scheduled");
    let all = ok(
        &app,
        Method::GET,
        "/api/v1/one-on-ones/overview",
        &admin,
        None,
    )
    .await;
    let row = all
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == series)
        .unwrap();
    assert_eq!(row["overdue"], true, "{row}");
    assert_eq!(row["meetings_held"], 1);

    // Only HR: the lead and the report are refused.
    for token in [&lead, &report] {
        let (status, _) = send(
            &app,
            Method::GET,
            "/api/v1/one-on-ones/overview",
            token,
            None,
        )
        .await;
        assert_eq!(status, 403);
    }

    // The page shows the same, and nothing written either.
    let hr = Browser::sign_in(&app, ADMIN_EMAIL, PASSWORD).await;
    let (status, html) = hr.page("/one-on-ones/overview").await;
    assert_eq!(status, 200);
    assert!(html.contains("Lea") && html.contains("Rob") && html.contains("Sam"));
    assert!(html.contains("Overdue"), "{html}");
    assert!(html.contains(&(now - Duration::days(30)).date().to_string()));
    for text in CONTENT {
        assert!(!html.contains(text), "{text} on the page");
    }
    let (status, home) = hr.page("/").await;
    assert_eq!(status, 200);
    assert!(home.contains(r#"href="/one-on-ones/overview""#));
    let as_lead = Browser::sign_in(&app, "lea@example.com", PASSWORD).await;
    let (status, _) = as_lead.page("/one-on-ones/overview").await;
    assert_eq!(status, 403);
}

crate::on_both_engines!(hr_sees_that_one_on_ones_happened_and_nothing_of_them);
