//! The turnover page's "eNPS beside turnover": every team up to 500, past that one
//! page of 100 teams at a time (as the API answers unasked), each page with the very
//! figures of the whole table, linked page by page with the page's filters kept.

use crate::helpers::{TestApp, ADMIN_EMAIL, PASSWORD};
use crate::pages::Browser;
use crate::reports::{everyone_answers, hire};
use chrono::{Duration, Utc};
use serde_json::{json, Value};

/// Empty teams that sort before the company below: its teams straddle pages 1 and 2.
const FILLERS: usize = 98;

/// One row of the table as a reader sees it: team, eNPS, turnover.
type Row = [String; 3];

/// The rows of "eNPS beside turnover" on a page.
fn beside_rows(html: &str) -> Vec<Row> {
    let section = &html[html.find(r#"id="h-beside""#).expect("the table's section")..];
    let Some(start) = section.find("<tbody>") else {
        return vec![];
    };
    let body = &section[start..start + section[start..].find("</tbody>").unwrap()];
    let text = |cell: &str| cell[cell.find('>').unwrap() + 1..cell.find("</").unwrap()].to_string();
    body.split("<tr>")
        .skip(1)
        .map(|tr| {
            let cells: Vec<&str> = tr.split("<t").skip(1).collect();
            [text(cells[0]), text(cells[1]), text(cells[2])]
        })
        .collect()
}

/// The same rows from the API's whole listing, written as the page writes them.
fn api_rows(listing: &Value) -> Vec<Row> {
    listing["teams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let enps = match t["enps"].as_i64() {
                _ if t["suppressed"] == true => "hidden".to_string(),
                None => "–".to_string(),
                Some(e) if e > 0 => format!("+{e}"),
                Some(e) => e.to_string(),
            };
            let rate = t["turnover_rate"]
                .as_f64()
                .map(|r| format!("{r:.2}%"))
                .unwrap_or_else(|| "–".into());
            [t["name"].as_str().unwrap().to_string(), enps, rate]
        })
        .collect()
}

/// The link of the table's pager marked `rel`, as a path.
fn pager_link(html: &str, rel: &str) -> Option<String> {
    let nav = &html[html.find(r#"aria-label="Pages of eNPS beside turnover""#)?..];
    let nav = &nav[..nav.find("</nav>").unwrap()];
    let a = nav
        .split("<a ")
        .find(|a| a.contains(&format!(r#"rel="{rel}""#)))?;
    let href = &a[a.find(r#"href=""#).unwrap() + 6..];
    Some(
        href[..href.find('"').unwrap()]
            .replace("&#x3D;", "=")
            .replace("&amp;", "&"),
    )
}

/// Every team of the API's listing, in one page of up to 1,000.
async fn listing(app: &TestApp, admin: &str, filters: &str) -> Vec<Row> {
    let path = format!("/api/v1/reports/enps-turnover?{filters}&per_page=1000");
    let res = app.get(&path, Some(admin)).await;
    assert_eq!(res.status(), 200);
    api_rows(&res.json().await.unwrap())
}

async fn ok_page(b: &Browser<'_>, path: &str) -> String {
    let (status, html) = b.page(path).await;
    assert_eq!(status, 200, "{path}: {html}");
    html
}

/// Eng with Web (6) and Mobile (6, one of whom has left since), Sales (6), Tiny (3,
/// too few to show, which hides Sales too): everyone answers one round, which
/// closes. Returns Eng's id.
async fn company(app: &TestApp, admin: &str) -> i64 {
    let eng = app.team(admin, json!({"name": "Eng"})).await;
    let mut mobile = 0;
    for (name, n) in [("Web", 6), ("Mobile", 5)] {
        mobile = app
            .team(admin, json!({"name": name, "parent_id": eng}))
            .await;
        hire(app, admin, name, n, mobile).await;
    }
    let leaver = app.employee(admin, json!({"email": "leaver@example.com", "name": "Leaver", "hired_on": "2024-01-01", "team_id": mobile})).await;
    let sales = app.team(admin, json!({"name": "Sales"})).await;
    hire(app, admin, "sales", 6, sales).await;
    let tiny = app.team(admin, json!({"name": "Tiny"})).await;
    hire(app, admin, "tiny", 3, tiny).await;
    // The admin answers too, filed under the company.
    // Given in order of address, these make Web +50, Mobile +33 and Eng +42:
    // three teams with both figures that differ, so a correlation is given.
    assert_eq!(everyone_answers(app, admin, &[10, 9, 7, 3]).await, 22);
    let left_on = (Utc::now().date_naive() - Duration::days(10)).to_string();
    let res = app
        .patch(
            &format!("/api/v1/employees/{leaver}"),
            admin,
            json!({"left_on": left_on, "leave_reason": "voluntary"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    eng
}

async fn a_long_table_goes_by_pages_with_the_whole_tables_figures(app: TestApp) {
    let admin = app.admin_token().await;
    for i in 1..=FILLERS {
        app.insert_team(&format!("Filler {i:03}"), None);
    }
    let eng = company(&app, &admin).await;
    let hr = Browser::sign_in(&app, ADMIN_EMAIL, PASSWORD).await;
    let today = Utc::now().date_naive();
    let filters = format!(
        "from={}&to={today}&group_by=quarter&scale=1-10",
        today - Duration::days(365)
    );

    // 103 teams: the whole table on one page, as before, with no pager.
    let path = format!("/reports/turnover?{filters}");
    let small = ok_page(&hr, &path).await;
    let whole = beside_rows(&small);
    assert_eq!(whole.len(), FILLERS + 5);
    assert_eq!(whole, listing(&app, &admin, &filters).await);
    assert!(!small.contains("Pages of eNPS beside turnover") && !small.contains("teams in all"));
    assert!(
        small.contains("Correlation across teams with both figures"),
        "{:?}",
        &whole[FILLERS..]
    );
    // The figures that matter: shown, hidden (Tiny, and Sales beside it) and a turnover rate.
    let eng_row = whole.iter().position(|r| r[0] == "Eng").unwrap();
    assert_eq!(eng_row, FILLERS, "{whole:?}");
    let company_rows = whole[FILLERS..].to_vec();
    assert!(
        company_rows.iter().any(|r| r[1].starts_with('+')),
        "{company_rows:?}"
    );
    assert!(company_rows
        .iter()
        .any(|r| r[0] == "Tiny" && r[1] == "hidden"));
    assert!(company_rows
        .iter()
        .any(|r| r[0] == "Sales" && r[1] == "hidden"));
    assert!(company_rows
        .iter()
        .any(|r| r[0] == "Mobile" && r[2] != "0.00%" && r[2] != "–"));
    // A subtree is listed whole, with the figures of the whole table.
    let html = ok_page(&hr, &format!("{path}&team_id={eng}")).await;
    assert_eq!(beside_rows(&html), whole[FILLERS..FILLERS + 3]);

    // 503 teams: over the API's 500, so the page lists 100 and links to the next.
    for i in 1..=400 {
        app.insert_team(&format!("Squad {i:03}"), None);
    }
    let all = listing(&app, &admin, &filters).await;
    assert_eq!(all.len(), 503);
    assert_eq!(
        all[..FILLERS + 5],
        whole[..],
        "new empty teams change no figure"
    );
    // The search is kept too, like every other filter.
    let html = ok_page(&hr, &format!("{path}&team_q=sal")).await;
    let rows = beside_rows(&html);
    assert_eq!(rows, all[..100]);
    assert!(
        html.contains(
            "503 teams in all, too many for one page: this is page 1 of 6, teams 1 to 100"
        ),
        "{html}"
    );
    // A page's correlation is over its own teams: here Eng and Web alone have both figures.
    assert!(html.contains("Fewer than three teams of this page have both figures"));
    assert!(pager_link(&html, "prev").is_none());
    let next = pager_link(&html, "next").expect("a link to the next teams");
    assert!(next.starts_with("/reports/turnover?") && next.ends_with("#h-beside"));
    for kept in [filters.as_str(), "team_q=sal", "beside_page=2"] {
        assert!(next.contains(kept), "{next} keeps {kept}");
    }

    // The next page: the next hundred teams, figure for figure, and the way back.
    let html = ok_page(&hr, &next).await;
    assert_eq!(beside_rows(&html), all[100..200]);
    assert!(html.contains("this is page 2 of 6, teams 101 to 200"));
    assert!(html.contains(&format!(r#"value="{}""#, today - Duration::days(365))));
    let back = pager_link(&html, "prev").unwrap();
    assert!(back.contains("beside_page=1") && back.contains(&filters));
    assert_eq!(beside_rows(&ok_page(&hr, &back).await), all[..100]);

    // Page by page the whole table is there; the last page has no next.
    let mut paged = vec![];
    let mut at = Some(format!("{path}&beside_page=1"));
    while let Some(p) = at {
        let html = ok_page(&hr, &p).await;
        paged.extend(beside_rows(&html));
        at = pager_link(&html, "next");
    }
    assert_eq!(paged, all);
    let html = ok_page(&hr, &format!("{path}&beside_page=6")).await;
    assert!(html.contains("this is page 6 of 6, teams 501 to 503"));
    // A page past the last shows the last.
    let html = ok_page(&hr, &format!("{path}&beside_page=99")).await;
    assert_eq!(beside_rows(&html), all[500..]);
    assert!(pager_link(&html, "next").is_none() && pager_link(&html, "prev").is_some());
}

crate::on_both_engines!(a_long_table_goes_by_pages_with_the_whole_tables_figures);
