//! Key drivers after several closed rounds: figures that match a hand computation, only
//! shown cells added up, leads limited to their teams.
//!
//! Two teams of four, threshold 3. Each response answers eNPS (1–10), growth, manager
//! and intent to stay (1–5); one Ops response in round 2 skips manager.
//! Round 1 (15 Sep, the previous period): everyone answers.
//! Round 2 (15 Oct): everyone answers. Round 3 (15 Nov): Ops 4, Sales only 2, so Sales'
//! cell is hidden (too few) and Ops' too (with the company it would give Sales away).
//! The period asked for is 1 Oct – 30 Nov (61 days); the previous one 1 Aug – 30 Sep.
//! The answers themselves are in drivers_seed.rs (shared with the browser test).

use crate::drivers_seed::three_rounds;
use crate::helpers::{TestApp, PASSWORD};
use serde_json::{json, Value};

const PERIOD: &str = "from=2026-10-01&to=2026-11-30";

async fn drivers(app: &TestApp, token: &str, query: &str) -> Value {
    let res = app
        .get(&format!("/api/v1/reports/drivers?{query}"), Some(token))
        .await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

fn entry<'a>(list: &'a Value, driver: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|d| d["driver"] == driver)
        .unwrap_or_else(|| panic!("{driver} in {list}"))
}

/// Asserts a figure object field by field: `{"value"|"r", "ci_low", "ci_high", …}`.
fn assert_figures(got: &Value, want: Value) {
    for (k, v) in want.as_object().unwrap() {
        assert_eq!(&got[k], v, "{k} of {got}");
    }
}

async fn the_company_figures_match_the_hand_computation(app: TestApp) {
    let admin = app.admin_token().await;
    three_rounds(&app, &admin).await;
    let r = drivers(&app, &admin, PERIOD).await;
    assert_eq!(r["previous_from"], "2026-08-01");
    assert_eq!(r["previous_to"], "2026-09-30");
    // The company's cells of rounds 2 and 3 are both shown: 8 + 6 responses.
    //
    // Growth now: 4,3,5,3, 4,2,4,3, 5,4,3,4, 1,4 → n 14, Σx 49, mean 3.50,
    //   Σx² 187, s² = (187 − 49²/14)/13 = 1.1923.
    // Growth before (round 1): 2,1,2,1, 2,1,3,2 → n 8, mean 1.75, Σx² 28, s² = (28 − 24.5)/7 = 0.5.
    // Change 1.75; se = √(1.1923/14 + 0.5/8) = √(0.085165 + 0.0625) = 0.38427;
    //   df = 0.147665² / (0.085165²/13 + 0.0625²/7) = 0.021805/0.0011159 = 19.54 → 19,
    //   t = 2.093; half-width 0.80428: 0.95 to 2.55, a significant rise.
    // Correlation with eNPS (9,7,10,6, 8,5,9,7, 10,8,6,9, 3,8): n 14, Σy 105, Σy² 839,
    //   Σxy 395; r = (14·395 − 49·105)/√((14·187 − 49²)(14·839 − 105²))
    //   = 385/√(217·721) = 0.97334; z = 2.15210, 1.96/√11 = 0.59095:
    //   tanh(1.56115) = 0.916, tanh(2.74305) = 0.992.
    //   Impact 0.97334 × (5 − 3.5)/4 = 0.365.
    let growth = entry(&r["drivers"], "growth");
    assert_eq!(growth["name"], "Growth");
    assert_eq!(growth["score"], 3.5);
    assert_eq!(growth["n"], 14);
    assert_figures(
        &growth["change"],
        json!({"value": 1.75, "ci_low": 0.95, "ci_high": 2.55, "significant": true, "previous_score": 1.75, "previous_n": 8}),
    );
    assert_figures(
        &growth["correlation"],
        json!({"r": 0.973, "ci_low": 0.916, "ci_high": 0.992, "n": 14, "significant": true}),
    );
    assert_eq!(growth["impact"], 0.365);
    // Manager now: 13 answers (one skipped), Σx 52, mean 4.00, Σx² 216, s² = (216 − 208)/12
    //   = 0.6667. Before: 4,4,5,3, 4,3,4,4: mean 3.875, Σx² 123, s² = (123 − 120.125)/7 = 0.41071.
    // Change 4 − 3.875 = 0.125, exact in binary, rounded half away from zero: 0.13;
    //   se = √(0.6667/13 + 0.41071/8) = √(0.051282 + 0.051339) = 0.32035;
    //   df = 0.102621²/(0.051282²/12 + 0.051339²/7) = 0.010531/0.00059567 = 17.68 → 17,
    //   t = 2.110; half-width 0.67593: −0.55 to 0.80, no significant change.
    // Correlation over the 13 paired: Σy 99, Σy² 803, Σxy 414;
    //   r = (13·414 − 52·99)/√((13·216 − 52²)(13·803 − 99²)) = 234/√(104·638) = 0.90842;
    //   z = 1.51843, 1.96/√10 = 0.61980: 0.716 to 0.973. Impact 0.90842 × 1/4 = 0.227.
    let manager = entry(&r["drivers"], "manager");
    assert_eq!(manager["score"], 4.0);
    assert_eq!(manager["n"], 13);
    assert_figures(
        &manager["change"],
        json!({"value": 0.13, "ci_low": -0.55, "ci_high": 0.8, "significant": false}),
    );
    assert_figures(
        &manager["correlation"],
        json!({"r": 0.908, "ci_low": 0.716, "ci_high": 0.973, "n": 13}),
    );
    assert_eq!(manager["impact"], 0.227);
    // Ranked by impact: growth (0.365), manager (0.227).
    let ranked: Vec<&str> = r["drivers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["driver"].as_str().unwrap())
        .collect();
    assert_eq!(ranked, ["growth", "manager"]);
    assert_eq!(growth["rank"], 1);
    assert_eq!(manager["rank"], 2);
    // Intent to stay is beside the ranking: 5,4,5,3, 4,3,4,4, 5,4,3,4, 2,4 → Σx 54,
    //   n 14, mean 3.857 → 3.86; before 4,3,4,3, 4,2,5,3: mean 3.5, s² 0.85714.
    //   s² now = (218 − 54²/14)/13 = 0.74725; se = √(0.053375 + 0.107143) = 0.40065;
    //   df 13.86 → 13, t 2.160: 0.357 ± 0.86540 = −0.51 to 1.22.
    assert!(r["drivers"]
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["driver"] != "stay_intent"));
    let stay = entry(&r["outcomes"], "stay_intent");
    assert_eq!(stay["score"], 3.86);
    assert!(stay.get("rank").is_none());
    assert_figures(
        &stay["change"],
        json!({"value": 0.36, "ci_low": -0.51, "ci_high": 1.22, "significant": false}),
    );
}

async fn a_team_adds_only_its_shown_cells(app: TestApp) {
    let admin = app.admin_token().await;
    let (ops, sales) = three_rounds(&app, &admin).await;
    // Ops: round 3's cell is hidden (derivable), so only round 2 counts.
    // Growth now 4,3,5,3: n 4, mean 3.75, Σx² 59, s² = (59 − 56.25)/3 = 0.91667.
    // Before 2,1,2,1: mean 1.5, s² = (10 − 9)/3 = 0.33333.
    // se = √(0.229167 + 0.083333) = 0.55902; df = 0.3125²/(0.229167²/3 + 0.083333²/3)
    //   = 0.097656/0.019821 = 4.93 → 4, t 2.776: 2.25 ± 1.55183 = 0.70 to 3.80.
    // r with eNPS 9,7,10,6: Σy 32, Σy² 266, Σxy 125; r = (4·125 − 15·32)/√((4·59 − 225)(4·266 − 1024))
    //   = 20/√(11·40) = 0.95346; z = 1.86855, 1.96/√1: tanh(−0.09141) = −0.091,
    //   tanh(3.82852) = 0.999: no clear link with so few.
    let r = drivers(&app, &admin, &format!("team_id={ops}&{PERIOD}")).await;
    let growth = entry(&r["drivers"], "growth");
    assert_eq!(
        (growth["score"].as_f64(), growth["n"].as_u64()),
        (Some(3.75), Some(4))
    );
    assert_figures(
        &growth["change"],
        json!({"value": 2.25, "ci_low": 0.7, "ci_high": 3.8, "significant": true}),
    );
    assert_figures(
        &growth["correlation"],
        json!({"r": 0.953, "ci_low": -0.091, "ci_high": 0.999, "n": 4, "significant": false}),
    );
    // Manager: 3 answers in round 2 (one skipped): 4,4,5, mean 4.33, r over 3 pairs
    //   (4,9) (4,7) (5,10): r = (3·114 − 13·26)/√((3·57 − 169)(3·230 − 676)) = 4/√28 = 0.756,
    //   and with n − 3 = 0 its interval is the whole −1 to 1.
    let manager = entry(&r["drivers"], "manager");
    assert_eq!(manager["score"], 4.33);
    assert_figures(
        &manager["correlation"],
        json!({"r": 0.756, "ci_low": -1.0, "ci_high": 1.0, "n": 3}),
    );

    // Sales: round 3 has only 2 answers, so again round 2 alone: growth 4,2,4,3,
    //   n 4, mean 3.25 (the 1 and the 4 of round 3 are nowhere).
    let r = drivers(&app, &admin, &format!("team_id={sales}&{PERIOD}")).await;
    let growth = entry(&r["drivers"], "growth");
    assert_eq!(
        (growth["score"].as_f64(), growth["n"].as_u64()),
        (Some(3.25), Some(4))
    );
    // Each says which round it leaves out, and why.
    assert_eq!(growth["left_out"], json!({"too_few": 1, "derivable": 0}));
    let r = drivers(&app, &admin, &format!("team_id={ops}&{PERIOD}")).await;
    let growth = entry(&r["drivers"], "growth");
    assert_eq!(growth["left_out"], json!({"too_few": 0, "derivable": 1}));
    let r = drivers(&app, &admin, PERIOD).await;
    assert!(entry(&r["drivers"], "growth").get("left_out").is_none());

    // Round 3 alone: the company's cell is shown, both teams' are hidden.
    let only = "from=2026-11-01&to=2026-11-30";
    let company = drivers(&app, &admin, only).await;
    assert_eq!(entry(&company["drivers"], "growth")["n"], 6);
    for (team, reason) in [(ops, "derivable"), (sales, "too_few")] {
        let r = drivers(&app, &admin, &format!("team_id={team}&{only}")).await;
        let g = entry(&r["drivers"], "growth");
        assert_eq!(g["suppressed"], true, "{g}");
        assert_eq!(g["reason"], reason, "{g}");
        assert!(g.get("score").is_none() && g.get("n").is_none(), "{g}");
        assert_eq!(g["correlation"]["suppressed"], true, "{g}");
    }
    // Every figure a sum of shown cells: company − Ops − Sales over the whole period is
    // round 3's company cell (shown), never a hidden team's.
    let n = |v: &Value| entry(&v["drivers"], "growth")["n"].as_u64().unwrap();
    let all = drivers(&app, &admin, PERIOD).await;
    let o = drivers(&app, &admin, &format!("team_id={ops}&{PERIOD}")).await;
    let s = drivers(&app, &admin, &format!("team_id={sales}&{PERIOD}")).await;
    assert_eq!(n(&all) - n(&o) - n(&s), n(&company));
}

async fn leads_see_their_team_and_bad_input_is_refused(app: TestApp) {
    let admin = app.admin_token().await;
    let (ops, sales) = three_rounds(&app, &admin).await;
    let lead_id = app.employee(&admin, json!({"email": "lead@example.com", "name": "Lead", "hired_on": "2024-01-01", "team_id": ops, "password": PASSWORD})).await;
    let res = app
        .patch(
            &format!("/api/v1/teams/{ops}"),
            &admin,
            json!({"lead_id": lead_id}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let member = app.employee(&admin, json!({"email": "m@example.com", "name": "M", "hired_on": "2024-01-01", "team_id": ops, "password": PASSWORD})).await;
    assert!(member > 0);
    let lead = app.login("lead@example.com", PASSWORD).await;
    let member = app.login("m@example.com", PASSWORD).await;
    let r = drivers(&app, &lead, &format!("team_id={ops}&{PERIOD}")).await;
    assert_eq!(entry(&r["drivers"], "growth")["score"], 3.75);
    for (token, query) in [
        (&lead, format!("team_id={sales}&{PERIOD}")),
        (&lead, PERIOD.to_string()),
        (&member, format!("team_id={ops}&{PERIOD}")),
    ] {
        let res = app
            .get(&format!("/api/v1/reports/drivers?{query}"), Some(token))
            .await;
        assert_eq!(res.status(), 403, "{query}");
        assert_eq!(res.json::<Value>().await.unwrap()["error"], "forbidden");
    }
    for (query, status, field) in [
        ("from=yesterday", 422, Some("from")),
        ("from=2026-12-01&to=2026-11-01", 422, Some("from")),
        ("team_id=99999", 404, None),
        ("team_id=abc", 400, None),
    ] {
        let res = app
            .get(&format!("/api/v1/reports/drivers?{query}"), Some(&admin))
            .await;
        assert_eq!(res.status(), status, "{query}");
        let body: Value = res.json().await.unwrap();
        assert!(body["message"].is_string(), "{body}");
        if let Some(f) = field {
            assert!(body["fields"][f].is_string(), "{body}");
        }
    }
    // Names in the reader's language.
    let res = app
        .patch(
            &format!("/api/v1/employees/{lead_id}"),
            &admin,
            json!({"locale": "fr"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let r = drivers(&app, &lead, &format!("team_id={ops}&{PERIOD}")).await;
    assert_eq!(
        entry(&r["drivers"], "manager")["name"],
        "Relation avec le manager"
    );
    assert_eq!(
        entry(&r["outcomes"], "stay_intent")["name"],
        "Intention de rester"
    );

    // A period with no closed round: nothing to rank, and no error.
    let r = drivers(&app, &admin, "from=2020-01-01&to=2020-03-31").await;
    assert_eq!(r["drivers"], json!([]));
    assert_eq!(r["outcomes"], json!([]));
}

async fn the_page_shows_a_lead_their_team_and_refuses_the_rest(app: TestApp) {
    use crate::pages::Browser;
    let admin = app.admin_token().await;
    let (ops, sales) = three_rounds(&app, &admin).await;
    let lead = app.employee(&admin, json!({"email": "lead@example.com", "name": "Lead", "hired_on": "2024-01-01", "team_id": ops, "password": PASSWORD})).await;
    app.patch(
        &format!("/api/v1/teams/{ops}"),
        &admin,
        json!({"lead_id": lead}),
    )
    .await;
    app.employee(&admin, json!({"email": "m@example.com", "name": "M", "hired_on": "2024-01-01", "team_id": ops, "password": PASSWORD})).await;

    // Linked from the other report pages.
    let hr = Browser::sign_in(&app, crate::helpers::ADMIN_EMAIL, PASSWORD).await;
    let (status, html) = hr.page("/reports/enps").await;
    assert_eq!(status, 200);
    assert!(html.contains(r#"href="/reports/drivers""#), "{html}");
    let (status, html) = hr.page(&format!("/reports/drivers?{PERIOD}")).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("+1.75 (+0.95 to +2.55): a significant rise"),
        "{html}"
    );
    let (status, html) = hr.page("/reports/drivers?from=soon").await;
    assert_eq!(status, 422);
    assert!(html.contains("field-error"), "{html}");

    // A lead lands on their team, and may not read another one.
    let lea = Browser::sign_in(&app, "lead@example.com", PASSWORD).await;
    let (status, html) = lea.page(&format!("/reports/drivers?{PERIOD}")).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("Key drivers · Ops") && html.contains("3.75 of 5 (n &#x3D; 4)"),
        "{html}"
    );
    let (status, _) = lea
        .page(&format!("/reports/drivers?team_id={sales}&{PERIOD}"))
        .await;
    assert_eq!(status, 403);
    let max = Browser::sign_in(&app, "m@example.com", PASSWORD).await;
    assert_eq!(max.page("/reports/drivers").await.0, 403);
}

async fn the_openapi_document_describes_the_report(app: TestApp) {
    let doc: Value = app
        .get("/api/v1/openapi.json", None)
        .await
        .json()
        .await
        .unwrap();
    let op = &doc["paths"]["/api/v1/reports/drivers"]["get"];
    let params: Vec<&str> = op["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(params, ["team_id", "from", "to"]);
    let schema = &doc["components"]["schemas"]["DriverOut"];
    for field in [
        "driver",
        "name",
        "score",
        "change",
        "correlation",
        "suppressed",
        "reason",
    ] {
        assert!(
            schema["properties"].get(field).is_some(),
            "{field} in {schema}"
        );
    }
}

/// A lead's weekly digest names their team's significant driver changes over
/// the last four weeks against the four before, and nothing of other teams.
async fn the_digest_tells_a_lead_their_teams_significant_driver_changes(app: TestApp) {
    let admin = app.admin_token().await;
    let (ops, _sales) = crate::drivers_seed::three_rounds(&app, &admin).await;
    let lead = app
        .employee(&admin, json!({"email": "lead@example.com", "name": "Lead", "hired_on": "2024-01-01", "role": "lead"}))
        .await;
    let res = app
        .patch(
            &format!("/api/v1/teams/{ops}"),
            &admin,
            json!({"lead_id": lead}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let digest_at = |at: &str| {
        let mut conn = app.conn();
        pulse::reports::digest::load(&mut conn, lead as i32, at.parse().unwrap())
            .unwrap()
            .drivers
            .unwrap()
    };
    // The week of Monday 9 November: 12 Oct–8 Nov (the round of 15 October)
    // against 14 Sep–11 Oct (15 September). Ops' growth went from 2, 1, 2, 1
    // (mean 1.5, variance 1/3) to 4, 3, 5, 3 (3.75, variance 11/12): +2.25,
    // SE = sqrt(1/12 + 11/48) = 0.559, Welch df = 4.93, taken as 4 (rounded
    // down, so intervals err wide): t = 2.776, 2.25 ± 1.55 = +0.70 to +3.80.
    let lines = digest_at("2026-11-10T08:00:00Z");
    let growth = lines
        .iter()
        .find(|l| l.driver == "Growth")
        .unwrap_or_else(|| panic!("{lines:?}"));
    assert_eq!(growth.team, "Ops");
    assert_eq!(growth.change, "+2.25 [+0.70, +3.80]");
    assert!(lines.iter().all(|l| l.team == "Ops"), "{lines:?}");
    // The week of 30 November: 15 October against 15 November moved nothing
    // significantly (growth 3.75 to 4.00), so the section is empty.
    let later = digest_at("2026-12-01T08:00:00Z");
    assert!(later.iter().all(|l| l.driver != "Growth"), "{later:?}");
}

crate::on_both_engines!(
    the_digest_tells_a_lead_their_teams_significant_driver_changes,
    the_company_figures_match_the_hand_computation,
    a_team_adds_only_its_shown_cells,
    leads_see_their_team_and_bad_input_is_refused,
    the_page_shows_a_lead_their_team_and_refuses_the_rest,
    the_openapi_document_describes_the_report,
);
