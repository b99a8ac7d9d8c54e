//! Turnover facts stored as people change: after every kind of change (hire, team move,
//! leave with a reason, rehire, a team's membership corrected away, a team re-parented,
//! an import, an erasure) and under concurrent edits, the stored facts and every figure read from
//! them equal those counted from the people directly.

use crate::helpers::TestApp;
use chrono::NaiveDate;
use pulse::auth::scope::Scope;
use pulse::domain::turnover::Grouping;
use pulse::domain::turnover_facts::Facts;
use pulse::repo;
use pulse::reports::enps::{self, EnpsParams};
use pulse::reports::{turnover, Listing};
use serde_json::{json, Value};

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn stored(app: &TestApp) -> Facts {
    repo::turnover::stored(&mut app.conn()).unwrap()
}

fn from_people(app: &TestApp) -> Facts {
    repo::turnover::from_people(&mut app.conn()).unwrap()
}

/// The stored facts are those counted from people, and every figure the reports show
/// from them is the figure counted from people.
async fn assert_figures_match(app: &TestApp, admin: &str, step: &str) {
    assert_eq!(stored(app), from_people(app), "facts after {step}");
    let (totals, summed) = repo::turnover::balances(&mut app.conn()).unwrap();
    assert_eq!(totals, summed, "totals after {step}");
    let mut conn = app.conn();
    let teams: Vec<i32> = repo::teams::edges(&mut conn)
        .unwrap()
        .into_iter()
        .map(|e| e.0)
        .collect();
    let (from, to) = ("2024-07-01", "2027-03-31");
    for team in teams.iter().copied().map(Some).chain([None]) {
        let d = turnover::load(&mut conn, &Scope::Everything, team, Listing::Group).unwrap();
        for (g, name) in [
            (Grouping::Month, "month"),
            (Grouping::Quarter, "quarter"),
            (Grouping::Year, "year"),
        ] {
            let want = turnover::periods(&d, team, day(from), day(to), g);
            let query = match team {
                Some(t) => format!("team_id={t}&"),
                None => String::new(),
            };
            let res = app
                .get(
                    &format!("/api/v1/reports/turnover?{query}from={from}&to={to}&group_by={name}"),
                    Some(admin),
                )
                .await;
            assert_eq!(res.status(), 200);
            let got: Value = res.json().await.unwrap();
            assert_eq!(
                got["periods"],
                serde_json::to_value(&want).unwrap(),
                "{step}: team {team:?} by {name}"
            );
        }
    }
    // eNPS beside turnover over a window that is not a calendar period.
    let (a, b) = ("2025-08-17", "2026-08-16");
    let p = EnpsParams {
        survey_id: None,
        team_id: None,
        from: None,
        to: None,
        group_by: None,
        scale: None,
    };
    let want =
        enps::beside_turnover_from_people(&mut conn, Scope::Everything, &p, day(a), day(b), None)
            .unwrap();
    let got: Value = app
        .get(
            &format!("/api/v1/reports/enps-turnover?from={a}&to={b}"),
            Some(admin),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got, serde_json::to_value(&want).unwrap(), "{step}: beside");
    // The HR dashboard's headcount, on days around every change.
    for d in [
        "2025-01-09",
        "2025-01-10",
        "2026-02-15",
        "2026-02-16",
        "2026-06-30",
    ] {
        assert_eq!(
            repo::turnover::headcount_on(&mut conn, day(d)).unwrap(),
            repo::reports::headcount_on(&mut conn, day(d)).unwrap(),
            "{step}: headcount on {d}"
        );
    }
    let today = chrono::Utc::now().date_naive();
    assert_eq!(
        repo::turnover::headcount_on(&mut conn, today).unwrap(),
        repo::reports::headcount_on(&mut conn, today).unwrap(),
        "{step}: headcount today"
    );
}

async fn patch(app: &TestApp, admin: &str, path: String, body: Value) {
    let res = app.patch(&path, admin, body).await;
    let status = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(status, 200, "{path}: {text}");
}

async fn stored_facts_follow_every_change_to_people(app: TestApp) {
    let admin = app.admin_token().await;
    let eng = app.team(&admin, json!({"name": "Eng"})).await;
    let web = app
        .team(&admin, json!({"name": "Web", "parent_id": eng}))
        .await;
    let sales = app.team(&admin, json!({"name": "Sales"})).await;
    // The first report stores the facts (here: the admin alone); from then on every
    // change must keep them, or the next comparison fails.
    assert_figures_match(&app, &admin, "the first report").await;
    let filled = stored(&app);
    assert!(
        repo::settings::get(&mut app.conn(), repo::turnover::FILLED_KEY)
            .unwrap()
            .is_some()
    );

    // Hire.
    let ada = app
        .employee(
            &admin,
            json!({"email": "ada@example.com", "name": "Ada", "team_id": web, "hired_on": "2025-01-10"}),
        )
        .await;
    let bo = app
        .employee(
            &admin,
            json!({"email": "bo@example.com", "name": "Bo", "team_id": sales, "hired_on": "2025-03-01"}),
        )
        .await;
    assert_ne!(stored(&app), filled, "a hire adds facts");
    assert_figures_match(&app, &admin, "two hires").await;

    // Move team (from today: Sales until yesterday, Web from today).
    patch(
        &app,
        &admin,
        format!("/api/v1/employees/{bo}"),
        json!({"team_id": web}),
    )
    .await;
    assert_figures_match(&app, &admin, "a team move").await;

    // Leave with a reason, regretted, within the first year... and then not.
    patch(
        &app,
        &admin,
        format!("/api/v1/employees/{ada}"),
        json!({"left_on": "2025-12-31", "leave_reason": "voluntary", "regretted": true}),
    )
    .await;
    assert_figures_match(&app, &admin, "a leaver").await;
    patch(
        &app,
        &admin,
        format!("/api/v1/employees/{ada}"),
        json!({"left_on": "2026-02-15", "leave_reason": "involuntary"}),
    )
    .await;
    assert_figures_match(&app, &admin, "a changed leave").await;

    // Rehire: back from a later day, still employed.
    patch(
        &app,
        &admin,
        format!("/api/v1/employees/{ada}"),
        json!({"left_on": null, "leave_reason": null, "regretted": false, "hired_on": "2026-06-01"}),
    )
    .await;
    assert_figures_match(&app, &admin, "a rehire").await;

    // A membership corrected away: hired today into Sales, moved the same day (the
    // Sales stay is deleted, not ended), then out of every team.
    let today = chrono::Utc::now().date_naive().to_string();
    let cy = app
        .employee(
            &admin,
            json!({"email": "cy@example.com", "name": "Cy", "team_id": sales, "hired_on": today}),
        )
        .await;
    patch(
        &app,
        &admin,
        format!("/api/v1/employees/{cy}"),
        json!({"team_id": web}),
    )
    .await;
    assert_figures_match(&app, &admin, "a stay deleted by a same-day correction").await;
    patch(
        &app,
        &admin,
        format!("/api/v1/employees/{cy}"),
        json!({"team_id": null}),
    )
    .await;
    assert_figures_match(&app, &admin, "out of every team").await;

    // A team re-parented: Sales (and Bo's old stay in it) now counts under Eng.
    patch(
        &app,
        &admin,
        format!("/api/v1/teams/{sales}"),
        json!({"parent_id": eng}),
    )
    .await;
    assert_figures_match(&app, &admin, "a re-parented team").await;

    // An import: new people (a team path makes a new team), a leaver, a move.
    let csv = "email,name,team,hired_on,left_on,leave_reason,regretted\n\
        dee@example.com,Dee,Eng/Platform,2024-11-04,,,\n\
        eli@example.com,Eli,Sales,2025-05-05,2026-01-20,other,true\n\
        bo@example.com,Bo,Eng/Web,2025-03-01,2026-03-31,voluntary,false\n\
        ada@example.com,Ada,Eng/Platform,2026-06-01,,,\n";
    let res = app.post_csv(&admin, csv).await;
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["created"], 2, "{body}");
    assert_figures_match(&app, &admin, "an import").await;

    // Erasing a leaver (their row stays, dates and stays kept): no fact moves.
    let eli: Value = app
        .get("/api/v1/employees?q=eli", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let eli = eli[0]["id"].as_i64().unwrap();
    let before_erasure = stored(&app);
    let res = app
        .post(
            &format!("/api/v1/employees/{eli}/erase"),
            Some(&admin),
            json!({"confirm_email": "eli@example.com"}),
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    assert_eq!(stored(&app), before_erasure);
    assert_figures_match(&app, &admin, "an erasure").await;

    // Figures did change along the way: a store that kept its first fill would fail.
    assert_ne!(stored(&app), filled);
    let year = app
        .get(
            "/api/v1/reports/turnover?from=2026-01-01&to=2026-12-31&group_by=year",
            Some(&admin),
        )
        .await
        .json::<Value>()
        .await
        .unwrap();
    // Eli (20 January) and Bo (31 March) left in 2026; Ada's leave was undone.
    assert_eq!(year["periods"][0]["separations"], 2, "{year}");
}

async fn an_older_database_is_filled_on_the_first_report(app: TestApp) {
    let admin = app.admin_token().await;
    let eng = app.team(&admin, json!({"name": "Eng"})).await;
    for (i, hired) in ["2024-02-01", "2025-05-05", "2025-09-30"]
        .iter()
        .enumerate()
    {
        app.employee(
            &admin,
            json!({"email": format!("p{i}@example.com"), "name": "P", "team_id": eng, "hired_on": hired}),
        )
        .await;
    }
    assert_figures_match(&app, &admin, "filled").await;
    // As before the facts existed: nothing stored, not marked filled.
    {
        use diesel::prelude::*;
        let mut c = app.conn();
        diesel::delete(pulse::db::schema::turnover_facts::table)
            .execute(&mut c)
            .unwrap();
        diesel::delete(pulse::db::schema::turnover_balances::table)
            .execute(&mut c)
            .unwrap();
        repo::settings::delete(&mut c, repo::turnover::FILLED_KEY).unwrap();
    }
    // Changes meanwhile keep nothing; the first report stores everything.
    let res = app
        .post(
            "/api/v1/employees",
            Some(&admin),
            json!({"email": "late@example.com", "name": "Late", "team_id": eng, "hired_on": "2026-01-05"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let company = app
        .get(
            "/api/v1/reports/turnover?from=2026-01-01&to=2026-01-31",
            Some(&admin),
        )
        .await
        .json::<Value>()
        .await
        .unwrap();
    // The admin (hired today) is not counted in January; the four are, on the 31st.
    assert_eq!(company["periods"][0]["headcount_end"], 4, "{company}");
    assert_figures_match(&app, &admin, "filled on first read").await;
}

/// Edits of the same people, their teams and the teams above them, all at once: each
/// change is added under the lock, so none is lost.
async fn concurrent_edits_lose_no_fact(app: TestApp) {
    let admin = app.admin_token().await;
    let eng = app.team(&admin, json!({"name": "Eng"})).await;
    let ops = app.team(&admin, json!({"name": "Ops"})).await;
    let web = app
        .team(&admin, json!({"name": "Web", "parent_id": eng}))
        .await;
    let mut people = vec![];
    for i in 0..8 {
        people.push(
            app.employee(
                &admin,
                json!({"email": format!("c{i}@example.com"), "name": "C", "team_id": web, "hired_on": "2024-03-01"}),
            )
            .await,
        );
    }
    assert_figures_match(&app, &admin, "before").await;
    let app = std::sync::Arc::new(app);
    let mut tasks = vec![];
    for (i, &id) in people.iter().enumerate() {
        // Each person gets two different leaves at once: one of them wins, and the
        // facts must hold the winner's alone.
        for left in ["2025-10-31", "2026-01-15"] {
            let (app, admin) = (app.clone(), admin.clone());
            let reason = if i % 2 == 0 { "voluntary" } else { "other" };
            tasks.push(tokio::spawn(async move {
                app.patch(
                    &format!("/api/v1/employees/{id}"),
                    &admin,
                    json!({"left_on": left, "leave_reason": reason}),
                )
                .await
                .status()
            }));
        }
    }
    // Meanwhile Web moves between Eng and Ops and back.
    for parent in [ops, eng, ops] {
        let (app, admin) = (app.clone(), admin.clone());
        tasks.push(tokio::spawn(async move {
            app.patch(
                &format!("/api/v1/teams/{web}"),
                &admin,
                json!({"parent_id": parent}),
            )
            .await
            .status()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
    assert_figures_match(&app, &admin, "concurrent edits").await;
}

async fn enps_beside_turnover_pages_its_teams(app: TestApp) {
    let admin = app.admin_token().await;
    let mut ids = vec![];
    for i in 0..5 {
        let t = app.team(&admin, json!({"name": format!("T{i}")})).await;
        app.employee(
            &admin,
            json!({"email": format!("t{i}@example.com"), "name": "T", "team_id": t, "hired_on": "2025-01-01"}),
        )
        .await;
        ids.push(t);
    }
    let whole: Value = app
        .get("/api/v1/reports/enps-turnover", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(whole["teams"].as_array().unwrap().len(), 5);
    let res = app
        .get(
            "/api/v1/reports/enps-turnover?page=2&per_page=2",
            Some(&admin),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["x-total-count"], "5");
    let link = res.headers()["link"].to_str().unwrap().to_string();
    assert!(
        link.contains("page=3") && link.contains("rel=\"next\""),
        "{link}"
    );
    let page: Value = res.json().await.unwrap();
    assert_eq!(
        page["teams"],
        json!(whole["teams"].as_array().unwrap()[2..4])
    );
    // The last page has no next.
    let res = app
        .get(
            "/api/v1/reports/enps-turnover?page=3&per_page=2",
            Some(&admin),
        )
        .await;
    assert!(res.headers().get("link").is_none());
    let bad = app
        .get("/api/v1/reports/enps-turnover?per_page=0", Some(&admin))
        .await;
    assert_eq!(bad.status(), 422);
}

crate::on_both_engines!(
    stored_facts_follow_every_change_to_people,
    an_older_database_is_filled_on_the_first_report,
    concurrent_edits_lose_no_fact,
    enps_beside_turnover_pages_its_teams,
);
