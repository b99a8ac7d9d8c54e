//! Cells stored when a round closes: filled for rounds closed before, kept as decided, read a page at a time.

use crate::helpers::TestApp;
use crate::reports::{everyone_answers, hire};
use diesel::prelude::*;
use pulse::db::schema::round_cells;
use serde_json::{json, Value};

/// Eng with Web (6) and Mobile (6) under it, Sales (6): everyone answers one round, which closes.
async fn company_with_one_closed_round(app: &TestApp, admin: &str) -> (i64, i64, i64) {
    let eng = app.team(admin, json!({"name": "Eng"})).await;
    let web = app
        .team(admin, json!({"name": "Web", "parent_id": eng}))
        .await;
    let mobile = app
        .team(admin, json!({"name": "Mobile", "parent_id": eng}))
        .await;
    let sales = app.team(admin, json!({"name": "Sales"})).await;
    hire(app, admin, "web", 6, web).await;
    hire(app, admin, "mob", 6, mobile).await;
    hire(app, admin, "sal", 6, sales).await;
    // The admin answers too, filed under the company.
    assert_eq!(everyone_answers(app, admin, &[10, 9, 7, 3]).await, 19);
    (eng, mobile, sales)
}

async fn heat_map(app: &TestApp, admin: &str, query: &str) -> Value {
    let res = app
        .get(&format!("/api/v1/reports/enps/teams{query}"), Some(admin))
        .await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

fn team(map: &Value, id: i64) -> &Value {
    map["teams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["team_id"] == id)
        .unwrap()
}

async fn a_round_keeps_the_cells_decided_when_it_closed(app: TestApp) {
    let admin = app.admin_token().await;
    let (eng, mobile, _) = company_with_one_closed_round(&app, &admin).await;
    let stored = |app: &TestApp| -> i64 {
        round_cells::table
            .count()
            .get_result(&mut app.conn())
            .unwrap()
    };
    // The company, Eng, Web, Mobile and Sales.
    assert_eq!(stored(&app), 5);
    let before = heat_map(&app, &admin, "").await;
    assert_eq!(team(&before, eng)["responses"], 12, "{before}");

    // A database from before cells were stored: the first report fills them, the same.
    diesel::delete(round_cells::table)
        .execute(&mut app.conn())
        .unwrap();
    assert_eq!(heat_map(&app, &admin, "").await, before);
    assert_eq!(stored(&app), 5);

    // Moving Mobile out of Eng later does not redraw the closed round: Eng's cell
    // is Eng as it was when the round closed.
    let res = app
        .patch(
            &format!("/api/v1/teams/{mobile}"),
            &admin,
            json!({"parent_id": null}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let after = heat_map(&app, &admin, "").await;
    assert_eq!(team(&after, eng)["responses"], 12, "{after}");
    assert_eq!(after["company"], before["company"]);
}

async fn the_heat_map_pages_its_teams(app: TestApp) {
    let admin = app.admin_token().await;
    company_with_one_closed_round(&app, &admin).await;
    let all = heat_map(&app, &admin, "").await;
    assert_eq!(all["teams"].as_array().unwrap().len(), 4);

    let res = app
        .get("/api/v1/reports/enps/teams?per_page=3", Some(&admin))
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["x-total-count"], "4");
    let link = res.headers()["link"].to_str().unwrap().to_string();
    assert!(
        link.contains("page=2") && link.contains("rel=\"next\""),
        "{link}"
    );
    let first: Value = res.json().await.unwrap();
    let last = heat_map(&app, &admin, "?page=2&per_page=3").await;
    let mut paged: Vec<Value> = first["teams"].as_array().unwrap().clone();
    paged.extend(last["teams"].as_array().unwrap().iter().cloned());
    // The pages together are the whole heat map, figure for figure.
    assert_eq!(Value::Array(paged), all["teams"]);
    assert_eq!(first["company"], all["company"]);

    let res = app
        .get("/api/v1/reports/enps/teams?page=2&per_page=3", Some(&admin))
        .await;
    assert!(res.headers().get("link").is_none());
    for bad in ["?per_page=0", "?page=0", "?per_page=1001"] {
        let res = app
            .get(&format!("/api/v1/reports/enps/teams{bad}"), Some(&admin))
            .await;
        assert_eq!(res.status(), 422, "{bad}");
    }
}

/// Adds `n` empty squads under `parent`, straight into the database (as an import would).
fn squads(app: &TestApp, parent: i64, n: usize) {
    let mut conn = app.conn();
    for i in 0..n {
        let name = format!("Squad {i:03}");
        pulse::repo::teams::insert(
            &mut conn,
            &pulse::repo::teams::NewTeam {
                name: &name,
                parent_id: Some(parent as i32),
                lead_id: None,
                created_at: chrono::Utc::now().naive_utc(),
            },
        )
        .unwrap();
    }
}

async fn a_large_tree_answers_its_first_page_unless_asked(app: TestApp) {
    let admin = app.admin_token().await;
    let (eng, _, sales) = company_with_one_closed_round(&app, &admin).await;
    let small = heat_map(&app, &admin, "").await;
    // 500 teams and fewer are answered whole, with no paging headers.
    squads(&app, sales, 496);
    let res = app.get("/api/v1/reports/enps/teams", Some(&admin)).await;
    assert!(res.headers().get("x-total-count").is_none());
    let whole: Value = res.json().await.unwrap();
    assert_eq!(whole["teams"].as_array().unwrap().len(), 500);

    // One more and an unpaged request gets the first page of 100, said in the headers.
    squads(&app, eng, 1);
    for path in [
        "/api/v1/reports/enps/teams",
        "/api/v1/reports/enps-turnover",
    ] {
        let res = app.get(path, Some(&admin)).await;
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(res.headers()["x-total-count"], "501", "{path}");
        let link = res.headers()["link"].to_str().unwrap().to_string();
        assert!(
            link.contains("page=2") && link.contains("per_page=100"),
            "{link}"
        );
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["teams"].as_array().unwrap().len(), 100, "{path}");
    }
    // The figures are those of the small tree: teams are listed by id, the old ones first.
    let first = heat_map(&app, &admin, "").await;
    assert_eq!(first["company"], small["company"]);
    let four = |v: &Value| v["teams"].as_array().unwrap()[..4].to_vec();
    assert_eq!(four(&first), four(&small));
    // Asked for, every page is there.
    let res = app
        .get("/api/v1/reports/enps/teams?per_page=1000", Some(&admin))
        .await;
    assert!(res.headers().get("link").is_none());
    let all: Value = res.json().await.unwrap();
    assert_eq!(all["teams"].as_array().unwrap().len(), 501);
}

async fn the_report_page_folds_a_large_tree(app: TestApp) {
    use crate::pages::Browser;
    let admin = app.admin_token().await;
    let (eng, _, sales) = company_with_one_closed_round(&app, &admin).await;
    squads(&app, sales, 130);
    let rows = |html: &str| html.matches(r#"<th scope="row""#).count();
    let hr = Browser::sign_in(&app, crate::helpers::ADMIN_EMAIL, crate::helpers::PASSWORD).await;
    // Eng and Sales, then 132 teams below them: only the top level fits, each folding its sub-teams.
    let (status, html) = hr.page("/reports/enps").await;
    assert_eq!(status, 200);
    let heat = &html[html.find("h-heat").unwrap()..];
    assert_eq!(rows(heat), 2, "{heat}");
    assert!(
        heat.contains("130 sub-teams ›") && heat.contains("2 sub-teams ›"),
        "{heat}"
    );
    assert!(heat.contains(&format!("team_id={sales}#h-heat")), "{heat}");
    // Opening Sales: Sales, then its squads 60 at a time.
    let (_, html) = hr.page(&format!("/reports/enps?team_id={sales}")).await;
    let heat = &html[html.find("h-heat").unwrap()..];
    assert_eq!(rows(heat), 61, "{heat}");
    assert!(heat.contains("More teams ›") && !heat.contains("Previous teams"));
    let (_, html) = hr
        .page(&format!("/reports/enps?team_id={sales}&heat_page=3"))
        .await;
    let heat = &html[html.find("h-heat").unwrap()..];
    assert_eq!(rows(heat), 10, "{heat}");
    assert!(heat.contains("Squad 129") && heat.contains("Previous teams"));
    assert!(!heat.contains("More teams"));
    // A small subtree is listed whole, its figures as before.
    let (_, html) = hr.page(&format!("/reports/enps?team_id={eng}")).await;
    let heat = &html[html.find("h-heat").unwrap()..];
    assert_eq!(rows(heat), 3, "{heat}");
    assert!(!heat.contains("sub-teams ›</a>"));
}

crate::on_both_engines!(
    a_round_keeps_the_cells_decided_when_it_closed,
    the_heat_map_pages_its_teams,
    a_large_tree_answers_its_first_page_unless_asked,
    the_report_page_folds_a_large_tree,
);
