//! Reports: hand-computed eNPS and turnover, suppression that cannot be undone by subtraction, access, CSV.

use crate::helpers::{TestApp, PASSWORD};
use crate::surveys::{link_path, read_email};
use serde_json::{json, Value};
use std::collections::HashMap;

pub fn enps_survey(teams: &[i64], scale: &str) -> Value {
    json!({
        "title": "Pulse",
        "questions": [{"kind": "enps", "prompt": "How likely are you to recommend working here?"},
                      {"kind": "text", "prompt": "Anything else?"}],
        "enps_scale": scale,
        "audience": {"team_ids": teams},
        "schedule": {"cadence": "once", "starts_on": "2035-01-01", "send_time": "09:00", "timezone": "UTC", "open_days": 5},
        "min_group_size": 5
    })
}

/// Sends a round of `survey` now and returns each invitee's link token by email address.
pub async fn send_now(app: &TestApp, admin: &str, survey: i64) -> HashMap<String, String> {
    let res = app
        .post(
            &format!("/api/v1/surveys/{survey}/rounds"),
            Some(admin),
            json!({}),
        )
        .await;
    assert_eq!(res.status(), 201);
    app.tick(&chrono::Utc::now().to_rfc3339()).await;
    app.emails()
        .iter()
        .map(|e| read_email(e))
        // Invitations only: a tick also writes each lead's weekly digest.
        .filter(|(_, _, text)| text.contains("/s/"))
        .map(|(to, _, text)| (to, link_path(&text).trim_start_matches("/s/").to_string()))
        .collect::<Vec<_>>()
        .into_iter()
        .filter_map(|(to, token)| {
            Some((
                to.split('<').nth(1)?.trim_end_matches('>').to_string(),
                token,
            ))
        })
        .collect()
}

/// Closes every open round now, as HR would from its page: figures appear only then.
pub async fn close_open_rounds(app: &TestApp, admin: &str) {
    let surveys: Value = app
        .get("/api/v1/surveys", Some(admin))
        .await
        .json()
        .await
        .unwrap();
    for s in surveys.as_array().unwrap() {
        let rounds: Value = app
            .get(&format!("/api/v1/surveys/{}/rounds", s["id"]), Some(admin))
            .await
            .json()
            .await
            .unwrap();
        for r in rounds.as_array().unwrap() {
            if r["status"] == "open" {
                let res = app
                    .post(
                        &format!("/api/v1/rounds/{}/close", r["id"]),
                        Some(admin),
                        json!({}),
                    )
                    .await;
                assert_eq!(res.status(), 200);
            }
        }
    }
}

pub async fn answer(app: &TestApp, token: &str, question: i64, score: i64, comment: &str) {
    let res = app
        .post("/api/v1/responses", None, json!({"token": token, "answers": [
            {"question_id": question, "score": score}, {"question_id": question + 1, "text": comment}]}))
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
}

/// Sends a round of a company-wide eNPS survey now, every invitee answering the next
/// of `scores` in turn, and closes it: its figures appear. Returns how many were invited.
pub async fn everyone_answers(app: &TestApp, admin: &str, scores: &[i64]) -> usize {
    let survey: Value = app
        .post("/api/v1/surveys", Some(admin), enps_survey(&[], "1-10"))
        .await
        .json()
        .await
        .unwrap();
    let q = survey["questions"][0]["id"].as_i64().unwrap();
    let tokens = send_now(app, admin, survey["id"].as_i64().unwrap()).await;
    // By address, so that who gives which score, and so every team's figure,
    // is the same from run to run (a map's order is not).
    let mut by_address: Vec<_> = tokens.iter().collect();
    by_address.sort();
    for (i, (_, token)) in by_address.into_iter().enumerate() {
        answer(app, token, q, scores[i % scores.len()], "").await;
    }
    close_open_rounds(app, admin).await;
    tokens.len()
}

pub async fn hire(app: &TestApp, admin: &str, prefix: &str, n: usize, team: i64) {
    for i in 0..n {
        app.employee(admin, json!({"email": format!("{prefix}{i}@example.com"), "name": format!("{prefix} {i}"), "hired_on": "2024-01-01", "team_id": team})).await;
    }
}

async fn enps_matches_the_hand_computed_figures(app: TestApp) {
    let admin = app.admin_token().await;
    let team = app.team(&admin, json!({"name": "Ops"})).await;
    hire(&app, &admin, "ops", 12, team).await;
    let survey: Value = app
        .post(
            "/api/v1/surveys",
            Some(&admin),
            enps_survey(&[team], "1-10"),
        )
        .await
        .json()
        .await
        .unwrap();
    let q = survey["questions"][0]["id"].as_i64().unwrap();
    let tokens = send_now(&app, &admin, survey["id"].as_i64().unwrap()).await;
    assert_eq!(tokens.len(), 12);
    // 10 of 12 answer: 10,10,9,9,9,8,7,6,3,1 → 5 promoters, 2 passives, 3 detractors.
    for (i, score) in [10, 10, 9, 9, 9, 8, 7, 6, 3, 1].iter().enumerate() {
        answer(
            &app,
            &tokens[&format!("ops{i}@example.com")],
            q,
            *score,
            "=1+1 fine",
        )
        .await;
    }
    close_open_rounds(&app, &admin).await;
    let report: Value = app
        .get(
            &format!("/api/v1/reports/enps?team_id={team}&group_by=round"),
            Some(&admin),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["scale"], "1-10");
    let p = &report["points"][0];
    assert_eq!(
        (p["invited"].as_i64(), p["responses"].as_i64()),
        (Some(12), Some(10))
    );
    assert_eq!(
        (
            p["promoters"].as_i64(),
            p["passives"].as_i64(),
            p["detractors"].as_i64()
        ),
        (Some(5), Some(2), Some(3))
    );
    assert_eq!(p["enps"], 20);
    // 1.96·100·sqrt((0.8 − 0.04)/10) = 54.04; × sqrt((12 − 10)/(12 − 1)) = 23.04 → 23.0
    assert_eq!(p["margin_of_error"], 23.0);
    assert_eq!(p["participation"], 83.3);
    let beside: Value = app
        .get("/api/v1/reports/enps-turnover", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(beside["teams"][0]["enps"], 20, "{beside}");
    assert_eq!(beside["teams"][0]["turnover_rate"], 0.0);
    assert_eq!(
        beside["correlation"],
        Value::Null,
        "one team cannot correlate"
    );
    let month: Value = app
        .get("/api/v1/reports/enps", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        month["points"][0]["enps"], 20,
        "the company trend by month: {month}"
    );

    // Round results: per-question figures and comments (10 ≥ 5).
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
    let results: Value = app
        .get(&format!("/api/v1/reports/rounds/{round}"), Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(results["questions"][0]["enps"]["enps"], 20);
    assert_eq!(
        results["questions"][1]["comments"]
            .as_array()
            .unwrap()
            .len(),
        10
    );

    // CSV: opens in a spreadsheet, and nothing in it runs as a formula.
    let csv = app
        .get(
            &format!("/api/v1/reports/rounds/{round}/answers.csv"),
            Some(&admin),
        )
        .await;
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let text = csv.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 10);
    assert!(
        rows.iter().all(|r| r[2].starts_with("'=")),
        "formula neutralised: {text}"
    );
    let enps_csv = app
        .get(
            &format!("/api/v1/reports/enps.csv?team_id={team}&group_by=round"),
            Some(&admin),
        )
        .await
        .text()
        .await
        .unwrap();
    let line = enps_csv.lines().nth(1).unwrap();
    assert!(
        line.contains(",Ops,1-10,12,10,83.3,5,2,3,20,23,false"),
        "{line}"
    );
}

async fn small_teams_stay_hidden_even_by_subtraction(app: TestApp) {
    let admin = app.admin_token().await;
    let eng = app
        .team(&admin, json!({"name": "=HYPERLINK(\"http://evil\")"}))
        .await;
    let web = app
        .team(&admin, json!({"name": "Web", "parent_id": eng}))
        .await;
    let mobile = app
        .team(&admin, json!({"name": "Mobile", "parent_id": eng}))
        .await;
    hire(&app, &admin, "web", 8, web).await;
    hire(&app, &admin, "mob", 4, mobile).await;
    let survey: Value = app
        .post("/api/v1/surveys", Some(&admin), enps_survey(&[eng], "0-10"))
        .await
        .json()
        .await
        .unwrap();
    let q = survey["questions"][0]["id"].as_i64().unwrap();
    let tokens = send_now(&app, &admin, survey["id"].as_i64().unwrap()).await;
    for (email, token) in &tokens {
        answer(
            &app,
            token,
            q,
            if email.starts_with("mob") { 0 } else { 10 },
            "ok",
        )
        .await;
    }
    close_open_rounds(&app, &admin).await;
    let report: Value = app
        .get("/api/v1/reports/enps/teams", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let team = |id: i64| {
        report["teams"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["team_id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(team(mobile)["suppressed"], true);
    assert!(team(mobile).get("enps").is_none() && team(mobile).get("responses").is_none());
    // Eng − Web would be Mobile: at most one of the two may show.
    let shown = |t: &Value| t.get("responses").is_some();
    assert!(!(shown(&team(eng)) && shown(&team(web))), "{report}");
    assert!(
        !(shown(&report["company"]) && shown(&team(web))),
        "company − Web would be Mobile: {report}"
    );
    let mobile_trend: Value = app
        .get(
            &format!("/api/v1/reports/enps?team_id={mobile}"),
            Some(&admin),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mobile_trend["points"][0]["suppressed"], true);
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
    let r: Value = app
        .get(
            &format!("/api/v1/reports/rounds/{round}?team_id={mobile}"),
            Some(&admin),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["suppressed"], true);
    assert!(r.get("questions").is_none());
    assert_eq!(
        app.get(
            &format!("/api/v1/reports/rounds/{round}/answers.csv?team_id={mobile}"),
            Some(&admin)
        )
        .await
        .status(),
        403
    );
    // The CSV of a team with a formula for a name shows it as text.
    let csv = app
        .get(
            &format!("/api/v1/reports/enps.csv?team_id={eng}"),
            Some(&admin),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(
        csv.contains("\"'=HYPERLINK(\"\"http://evil\"\")\""),
        "{csv}"
    );
}

async fn leads_see_their_teams_only_and_members_none(app: TestApp) {
    let admin = app.admin_token().await;
    let eng = app.team(&admin, json!({"name": "Eng"})).await;
    let web = app
        .team(&admin, json!({"name": "Web", "parent_id": eng}))
        .await;
    let sales = app.team(&admin, json!({"name": "Sales"})).await;
    let lead = app.employee(&admin, json!({"email": "lead@example.com", "name": "Lead", "hired_on": "2024-01-01", "team_id": eng, "password": PASSWORD})).await;
    app.patch(
        &format!("/api/v1/teams/{eng}"),
        &admin,
        json!({"lead_id": lead}),
    )
    .await;
    app.employee(&admin, json!({"email": "m@example.com", "name": "M", "hired_on": "2024-01-01", "team_id": web, "password": PASSWORD})).await;
    let lead = app.login("lead@example.com", PASSWORD).await;
    let member = app.login("m@example.com", PASSWORD).await;
    for path in [
        format!("/api/v1/reports/enps?team_id={eng}"),
        format!("/api/v1/reports/enps?team_id={web}"),
        format!("/api/v1/reports/turnover?team_id={web}"),
        "/api/v1/reports/enps/teams".into(),
    ] {
        assert_eq!(app.get(&path, Some(&lead)).await.status(), 200, "{path}");
    }
    for path in [
        format!("/api/v1/reports/enps?team_id={sales}"),
        "/api/v1/reports/enps".into(),
        format!("/api/v1/reports/turnover?team_id={sales}"),
        "/api/v1/reports/turnover".into(),
        format!("/api/v1/reports/enps.csv?team_id={sales}"),
    ] {
        let res = app.get(&path, Some(&lead)).await;
        assert_eq!(res.status(), 403, "{path}");
        assert_eq!(res.json::<Value>().await.unwrap()["error"], "forbidden");
    }
    let teams: Value = app
        .get("/api/v1/reports/enps/teams", Some(&lead))
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<i64> = teams["teams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["team_id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![eng, web]);
    assert!(teams.get("company").is_none());
    for path in [
        "/api/v1/reports/enps",
        "/api/v1/reports/turnover",
        "/api/v1/reports/enps/teams",
    ] {
        assert_eq!(app.get(path, Some(&member)).await.status(), 403, "{path}");
    }
}

async fn turnover_matches_the_hand_computed_rates(app: TestApp) {
    let admin = app.admin_token().await;
    let ops = app.team(&admin, json!({"name": "Ops"})).await;
    // 100 people on 1 January 2026; 2 leave on 15 January; 1 joins on 10 January.
    let mut csv = String::from("email,name,team,hired_on,left_on,leave_reason,regretted\n");
    for i in 0..100 {
        let (left, reason, regretted) = match i {
            0 => ("2026-01-15", "voluntary", "yes"),
            1 => ("2026-01-15", "involuntary", "no"),
            _ => ("", "", ""),
        };
        csv.push_str(&format!(
            "p{i}@example.com,P {i},Ops,2025-06-01,{left},{reason},{regretted}\n"
        ));
    }
    csv.push_str("new@example.com,New,Ops,2026-01-10,,,\n");
    let res = app.post_csv(&admin, &csv).await;
    assert_eq!(res.status(), 200);
    let report: Value = app
        .get(
            &format!("/api/v1/reports/turnover?team_id={ops}&from=2026-01-01&to=2026-03-31"),
            Some(&admin),
        )
        .await
        .json()
        .await
        .unwrap();
    let jan = &report["periods"][0];
    assert_eq!(jan["period_start"], "2026-01-01");
    assert_eq!(
        (
            jan["headcount_start"].as_i64(),
            jan["headcount_end"].as_i64()
        ),
        (Some(100), Some(99))
    );
    assert_eq!(jan["average_headcount"], 99.5);
    assert_eq!(jan["separations"], 2);
    assert_eq!(
        (
            jan["voluntary"].as_i64(),
            jan["involuntary"].as_i64(),
            jan["regretted"].as_i64()
        ),
        (Some(1), Some(1), Some(1))
    );
    assert_eq!(jan["turnover_rate"], 2.01);
    assert_eq!(jan["voluntary_rate"], 1.01);
    assert_eq!(report["periods"][1]["separations"], 0);
    let quarter: Value = app
        .get(
            "/api/v1/reports/turnover?from=2026-01-01&to=2026-03-31&group_by=quarter",
            Some(&admin),
        )
        .await
        .json()
        .await
        .unwrap();
    // Mean of the monthly averages: (99.5 + 99 + 99) / 3 = 99.1667 → 2 / 99.1667 = 2.02%.
    assert_eq!(quarter["periods"][0]["turnover_rate"], 2.02);
    let csv = app
        .get(
            "/api/v1/reports/turnover.csv?from=2026-01-01&to=2026-01-31",
            Some(&admin),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(
        csv.lines()
            .nth(1)
            .unwrap()
            .contains("2026-01-01,2026-01-31,Company,100,99,99.50,2,1,1,0,1"),
        "{csv}"
    );

    // Moving someone today does not rewrite January's team headcount.
    let people: Value = app
        .get("/api/v1/employees?q=p5@", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let sales = app.team(&admin, json!({"name": "Sales"})).await;
    app.patch(
        &format!("/api/v1/employees/{}", people[0]["id"]),
        &admin,
        json!({"team_id": sales}),
    )
    .await;
    let again: Value = app
        .get(
            &format!("/api/v1/reports/turnover?team_id={ops}&from=2026-01-01&to=2026-01-31"),
            Some(&admin),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["periods"][0]["headcount_start"], 100);
    assert_eq!(
        again["periods"][0]["separations"], 2,
        "a move is not a separation"
    );
}

async fn mixed_scales_are_never_silently_combined(app: TestApp) {
    let admin = app.admin_token().await;
    let team = app.team(&admin, json!({"name": "Ops"})).await;
    hire(&app, &admin, "ops", 5, team).await;
    for scale in ["1-10", "0-10"] {
        let s: Value = app
            .post("/api/v1/surveys", Some(&admin), enps_survey(&[team], scale))
            .await
            .json()
            .await
            .unwrap();
        app.post(
            &format!("/api/v1/surveys/{}/rounds", s["id"]),
            Some(&admin),
            json!({}),
        )
        .await;
    }
    close_open_rounds(&app, &admin).await;
    let mixed = app.get("/api/v1/reports/enps", Some(&admin)).await;
    assert_eq!(mixed.status(), 422);
    assert!(mixed.json::<Value>().await.unwrap()["fields"]["scale"]
        .as_str()
        .unwrap()
        .contains("0-10"));
    let one: Value = app
        .get("/api/v1/reports/enps?scale=0-10", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["scale"], "0-10");
    assert_eq!(
        app.get("/api/v1/reports/enps?group_by=week", Some(&admin))
            .await
            .status(),
        422
    );
    assert_eq!(
        app.get("/api/v1/reports/enps?from=2026-13-01", Some(&admin))
            .await
            .status(),
        422
    );
    assert_eq!(
        app.get(
            "/api/v1/reports/enps?from=2026-02-01&to=2026-01-01",
            Some(&admin)
        )
        .await
        .status(),
        422
    );
}

crate::on_both_engines!(
    enps_matches_the_hand_computed_figures,
    small_teams_stay_hidden_even_by_subtraction,
    leads_see_their_teams_only_and_members_none,
    turnover_matches_the_hand_computed_rates,
    mixed_scales_are_never_silently_combined,
);
