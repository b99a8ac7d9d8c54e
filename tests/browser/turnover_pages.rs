//! Past 500 teams the turnover page's "eNPS beside turnover" goes by pages of 100:
//! HR reads how many teams there are, goes to the next page and back by the
//! pager's links with the dates kept; axe-core and the phone width on a page.

use super::{
    accessible, axe_source, body_text, browser, css, fits_the_width, screenshot, set_date,
    set_size, sign_in, submit, DESKTOP, PHONE,
};
use crate::helpers::{spawn_app, Engine, ADMIN_EMAIL, PASSWORD};
use fantoccini::Locator;

/// The team names of the table's rows, in order.
async fn rows(c: &fantoccini::Client) -> Vec<String> {
    let mut names = vec![];
    for th in c
        .find_all(Locator::Css("#h-beside ~ .table-wrap tbody th"))
        .await
        .unwrap()
    {
        names.push(th.text().await.unwrap());
    }
    names
}

async fn hr_pages_through_enps_beside_turnover(engine: Engine) {
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    app.admin_token().await;
    let north = app.insert_team("North", None);
    for i in 1..=510 {
        app.insert_team(&format!("Squad {i:03}"), Some(north));
    }
    sign_in(&c, &app, ADMIN_EMAIL, PASSWORD).await;
    c.goto(&app.url("/reports/turnover")).await.unwrap();
    set_date(&c, "#from", "2026-01-01").await;
    submit(&c, ".form-actions button[type=submit]").await;

    let count = css(&c, "#beside-count").await.text().await.unwrap();
    assert!(
        count.starts_with("511 teams in all") && count.contains("page 1 of 6"),
        "{count}"
    );
    let first = rows(&c).await;
    assert_eq!(first.len(), 100);
    assert_eq!(first[..2], ["North", "Squad 001"]);
    assert!(c
        .find_all(Locator::Css("nav.pager a[rel=prev]"))
        .await
        .unwrap()
        .is_empty());
    accessible(
        &c,
        axe_source().as_deref(),
        "a page of eNPS beside turnover",
    )
    .await;
    set_size(&c, PHONE).await;
    fits_the_width(&c, "a page of eNPS beside turnover").await;
    screenshot(&c, "turnover-pages-phone", PHONE).await;
    set_size(&c, DESKTOP).await;

    submit(&c, "nav.pager a[rel=next]").await;
    let second = rows(&c).await;
    assert_eq!(second[0], "Squad 100");
    assert_eq!(second.len(), 100);
    assert!(body_text(&c)
        .await
        .contains("page 2 of 6, teams 101 to 200"));
    let from = css(&c, "#from").await.prop("value").await.unwrap();
    assert_eq!(from.as_deref(), Some("2026-01-01"), "the dates are kept");
    submit(&c, "nav.pager a[rel=prev]").await;
    assert_eq!(rows(&c).await, first);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hr_pages_through_enps_beside_turnover_sqlite() {
    hr_pages_through_enps_beside_turnover(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hr_pages_through_enps_beside_turnover_postgres() {
    hr_pages_through_enps_beside_turnover(Engine::Postgres).await;
}
