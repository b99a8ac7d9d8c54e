//! Choosing a team among hundreds in a real browser: the report page offers a
//! search instead of a select, finds a team by part of its name and shows its
//! report, with the page's dates kept; pressing Enter in the field searches too.

use super::{
    accessible, axe_source, body_text, browser, css, fill, fits_the_width, screenshot, set_date,
    set_size, sign_in, submit, DESKTOP, PHONE,
};
use crate::helpers::{spawn_app, Engine, ADMIN_EMAIL, PASSWORD};
use fantoccini::Locator;
use serde_json::json;

/// The value of a form field, as the browser would send it.
async fn value(c: &fantoccini::Client, selector: &str) -> String {
    css(c, selector)
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default()
}

async fn hr_finds_a_team_by_name(engine: Engine) {
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let admin = app.admin_token().await;
    let north = app.insert_team("North", None);
    for i in 1..=210 {
        app.insert_team(&format!("Squad {i:03}"), Some(north));
    }
    let falcons = app.insert_team("Blue Falcons", Some(north));
    // Two people in the Blue Falcons, five in the company.
    for i in 0..5 {
        let team = if i < 2 { falcons } else { north };
        app.employee(&admin, json!({"email": format!("e{i}@example.com"), "name": format!("Employee {i}"), "hired_on": "2024-01-01", "team_id": team})).await;
    }
    sign_in(&c, &app, ADMIN_EMAIL, PASSWORD).await;
    c.goto(&app.url("/reports/turnover")).await.unwrap();
    assert!(
        c.find_all(Locator::Css("select#team_id"))
            .await
            .unwrap()
            .is_empty(),
        "no select of the 212 teams"
    );
    assert!(body_text(&c).await.contains("Group: Whole company"));

    set_date(&c, "#from", "2026-01-01").await;
    set_date(&c, "#to", "2026-03-31").await;
    fill(&c, "#team_q", "falc").await;
    submit(&c, ".team-search button[type=submit]").await;
    let found = c.find_all(Locator::Css("ul.team-matches a")).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].text().await.unwrap(), "North / Blue Falcons");
    accessible(&c, axe_source().as_deref(), "the team search").await;
    screenshot(&c, "team-search-desktop", DESKTOP).await;
    set_size(&c, PHONE).await;
    fits_the_width(&c, "the team search").await;
    screenshot(&c, "team-search-phone", PHONE).await;
    set_size(&c, DESKTOP).await;

    submit(&c, "ul.team-matches a").await;
    let h1 = css(&c, "h1").await.text().await.unwrap();
    assert_eq!(h1, "Turnover · North / Blue Falcons");
    assert_eq!(value(&c, "input[name=team_id]").await, falcons.to_string());
    assert_eq!(value(&c, "#from").await, "2026-01-01", "the dates are kept");
    let text = body_text(&c).await;
    assert!(text.contains("2 → 2"), "the team's two people: {text}");

    // Show keeps the chosen team; Enter in the field searches; no match says so.
    submit(&c, ".form-actions button[type=submit]").await;
    assert_eq!(
        css(&c, "h1").await.text().await.unwrap(),
        "Turnover · North / Blue Falcons"
    );
    fill(&c, "#team_q", "zebra\u{E007}").await;
    let notice = css(&c, "#team-no-match").await.text().await.unwrap();
    assert_eq!(notice, "No team you may choose matches “zebra”.");
    // HR goes back to the whole company, the dates still kept.
    submit(&c, "#team-chosen a").await;
    assert_eq!(value(&c, "#from").await, "2026-01-01");
    assert_eq!(
        css(&c, "h1").await.text().await.unwrap(),
        "Turnover · Whole company"
    );
    assert!(!body_text(&c).await.contains("2 → 2"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hr_finds_a_team_by_name_sqlite() {
    hr_finds_a_team_by_name(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hr_finds_a_team_by_name_postgres() {
    hr_finds_a_team_by_name(Engine::Postgres).await;
}
