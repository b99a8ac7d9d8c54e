//! Three closed rounds of a pulse with driver questions, for the key-driver tests of the
//! API and of the browser: the data and its hand computation are in tests/api/drivers.rs.
//! Depends on `crate::helpers` alone, so tests/browser can include it too.

use crate::helpers::TestApp;
use diesel::prelude::*;
use pulse::db::schema::{round_cells, rounds};
use serde_json::{json, Value};

/// (eNPS, growth, manager, stay) per response.
type Answers = (i64, i64, Option<i64>, i64);

const R1_OPS: [Answers; 4] = [
    (8, 2, Some(4), 4),
    (6, 1, Some(4), 3),
    (9, 2, Some(5), 4),
    (5, 1, Some(3), 3),
];
const R1_SALES: [Answers; 4] = [
    (7, 2, Some(4), 4),
    (4, 1, Some(3), 2),
    (9, 3, Some(4), 5),
    (6, 2, Some(4), 3),
];
const R2_OPS: [Answers; 4] = [
    (9, 4, Some(4), 5),
    (7, 3, Some(4), 4),
    (10, 5, Some(5), 5),
    (6, 3, None, 3),
];
const R2_SALES: [Answers; 4] = [
    (8, 4, Some(4), 4),
    (5, 2, Some(3), 3),
    (9, 4, Some(5), 4),
    (7, 3, Some(4), 4),
];
const R3_OPS: [Answers; 4] = [
    (10, 5, Some(5), 5),
    (8, 4, Some(4), 4),
    (6, 3, Some(4), 3),
    (9, 4, Some(4), 4),
];
const R3_SALES: [Answers; 2] = [(3, 1, Some(2), 2), (8, 4, Some(4), 4)];

struct Survey {
    id: i64,
    enps: i64,
    growth: i64,
    manager: i64,
    stay: i64,
}

async fn driver_survey(app: &TestApp, admin: &str, teams: &[i64]) -> Survey {
    let res = app
        .post(
            "/api/v1/surveys",
            Some(admin),
            json!({
                "title": "Weekly pulse",
                "questions": [
                    {"kind": "enps", "prompt": "How likely are you to recommend working here?"},
                    {"kind": "scale", "prompt": "I am learning things that matter to me.", "driver": "growth"},
                    {"kind": "scale", "prompt": "My manager helps me do my best work.", "driver": "manager", "required": false},
                    {"kind": "scale", "prompt": "I picture myself still here in two years.", "driver": "stay_intent"}
                ],
                "enps_scale": "1-10",
                "audience": {"team_ids": teams},
                "schedule": {"cadence": "once", "starts_on": "2035-01-01", "send_time": "09:00", "timezone": "UTC", "open_days": 5},
                "min_group_size": 3
            }),
        )
        .await;
    assert_eq!(res.status(), 201);
    let s: Value = res.json().await.unwrap();
    let q = |i: usize| s["questions"][i]["id"].as_i64().unwrap();
    assert_eq!(s["questions"][1]["driver"], "growth");
    Survey {
        id: s["id"].as_i64().unwrap(),
        enps: q(0),
        growth: q(1),
        manager: q(2),
        stay: q(3),
    }
}

/// Sends one round, answers it as given (by email prefix, in order), closes it and
/// dates it `day`, as if it had run then.
async fn run_round(
    app: &TestApp,
    admin: &str,
    s: &Survey,
    day: &str,
    answers: &[(&str, &[Answers])],
) {
    // Only this round's invitations: the earlier rounds' emails are gone.
    if let Ok(dir) = std::fs::read_dir(&app.mail_dir) {
        for e in dir.flatten() {
            std::fs::remove_file(e.path()).unwrap();
        }
    }
    let res = app
        .post(
            &format!("/api/v1/surveys/{}/rounds", s.id),
            Some(admin),
            json!({}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let round: Value = res.json().await.unwrap();
    let round_id = round["id"].as_i64().unwrap() as i32;
    app.tick(&chrono::Utc::now().to_rfc3339()).await;
    let tokens: std::collections::HashMap<String, String> =
        app.emails().iter().filter_map(|e| invitation(e)).collect();
    for (prefix, rows) in answers {
        for (i, &(enps, growth, manager, stay)) in rows.iter().enumerate() {
            let mut given = vec![
                json!({"question_id": s.enps, "score": enps}),
                json!({"question_id": s.growth, "score": growth}),
                json!({"question_id": s.stay, "score": stay}),
            ];
            if let Some(m) = manager {
                given.push(json!({"question_id": s.manager, "score": m}));
            }
            let token = &tokens[&format!("{prefix}{i}@example.com")];
            let res = app
                .post(
                    "/api/v1/responses",
                    None,
                    json!({"token": token, "answers": given}),
                )
                .await;
            assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
        }
    }
    let res = app
        .post(
            &format!("/api/v1/rounds/{round_id}/close"),
            Some(admin),
            json!({}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let at = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .unwrap()
        .and_hms_opt(9, 0, 0)
        .unwrap();
    let mut conn = app.conn();
    diesel::update(rounds::table.find(round_id))
        .set(rounds::scheduled_for.eq(at))
        .execute(&mut conn)
        .unwrap();
    let moved = diesel::update(round_cells::table.filter(round_cells::round_id.eq(round_id)))
        .set(round_cells::scheduled_for.eq(at))
        .execute(&mut conn)
        .unwrap();
    assert!(moved > 0, "the round's cells were stored at close");
}

/// Two teams, three closed rounds; returns (ops, sales).
pub async fn three_rounds(app: &TestApp, admin: &str) -> (i64, i64) {
    let ops = app.team(admin, json!({"name": "Ops"})).await;
    let sales = app.team(admin, json!({"name": "Sales"})).await;
    for (prefix, team) in [("ops", ops), ("sal", sales)] {
        for i in 0..4 {
            app.employee(admin, json!({"email": format!("{prefix}{i}@example.com"), "name": format!("{prefix} {i}"), "hired_on": "2024-01-01", "team_id": team})).await;
        }
    }
    let s = driver_survey(app, admin, &[ops, sales]).await;
    run_round(
        app,
        admin,
        &s,
        "2026-09-15",
        &[("ops", &R1_OPS), ("sal", &R1_SALES)],
    )
    .await;
    run_round(
        app,
        admin,
        &s,
        "2026-10-15",
        &[("ops", &R2_OPS), ("sal", &R2_SALES)],
    )
    .await;
    run_round(
        app,
        admin,
        &s,
        "2026-11-15",
        &[("ops", &R3_OPS), ("sal", &R3_SALES)],
    )
    .await;
    (ops, sales)
}

/// The recipient of an invitation and the token of its answering link.
fn invitation(raw: &str) -> Option<(String, String)> {
    let mail = mailparse::parse_mail(raw.as_bytes()).ok()?;
    let to = mail
        .headers
        .iter()
        .find(|h| h.get_key() == "To")
        .map(|h| h.get_value())?;
    let email = to.split('<').nth(1)?.trim_end_matches('>').to_string();
    let text = mail
        .subparts
        .iter()
        .find(|p| p.ctype.mimetype == "text/plain")
        .map(|p| p.get_body().ok())
        .unwrap_or_else(|| mail.get_body().ok())?;
    let start = text.find("/s/")?;
    let token: String = text[start + 3..]
        .chars()
        .take_while(|c| c.is_ascii_hexdigit())
        .collect();
    Some((email, token))
}
