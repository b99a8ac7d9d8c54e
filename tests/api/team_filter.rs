//! The team field of report pages, /people, /action-plans and a round's page:
//! a select while the reader may choose among few teams, a search past that,
//! which lists only the teams the reader may see and keeps the other filters.

use crate::helpers::{TestApp, ADMIN_EMAIL, PASSWORD};
use crate::pages::Browser;
use crate::reports::{enps_survey, hire};
use reqwest::StatusCode;
use serde_json::json;

/// Teams a select still lists (`team_picker::SELECT_MAX` in the pages).
const SELECT_MAX: usize = 200;

/// The company of these tests: "North" with its squads and the Blue Falcons, led
/// by Lea; "South" with squads of the same names and the Hidden Harbour.
struct Company {
    north: i32,
    falcons: i32,
    south: i32,
    lea: i64,
}

/// More teams than a select lists: North alone (Lea's) has `SELECT_MAX + 6`.
async fn many_teams(app: &TestApp, admin: &str) -> Company {
    let north = app.insert_team("North", None);
    let south = app.insert_team("South", None);
    for i in 1..=SELECT_MAX + 4 {
        app.insert_team(&format!("Squad {i:03}"), Some(north));
    }
    for i in 1..=10 {
        app.insert_team(&format!("Squad {i:03}"), Some(south));
    }
    app.insert_team("Hidden Harbour", Some(south));
    let falcons = app.insert_team("Blue Falcons", Some(north));
    let lea = app.employee(admin, json!({"email": "lea@example.com", "name": "Lea Lead", "hired_on": "2024-01-01", "team_id": north, "password": PASSWORD})).await;
    app.patch(
        &format!("/api/v1/teams/{north}"),
        admin,
        json!({"lead_id": lea}),
    )
    .await;
    hire(app, admin, "falcon", 2, falcons.into()).await;
    hire(app, admin, "harbour", 3, south.into()).await;
    Company {
        north,
        falcons,
        south,
        lea,
    }
}

/// Handlebars writes `=` and `&` of an attribute as entities.
fn unescape(s: &str) -> String {
    s.replace("&#x3D;", "=").replace("&amp;", "&")
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('=', "&#x3D;")
}

/// The teams a search listed: (link, label) in page order.
fn matches(html: &str) -> Vec<(String, String)> {
    let Some(start) = html.find(r#"<ul class="team-matches""#) else {
        return vec![];
    };
    let list = &html[start..start + html[start..].find("</ul>").unwrap()];
    list.split(r#"<a href=""#)
        .skip(1)
        .map(|a| {
            let href = unescape(&a[..a.find('"').unwrap()]);
            let label = &a[a.find('>').unwrap() + 1..a.find("</a>").unwrap()];
            (href, label.to_string())
        })
        .collect()
}

fn labels(found: &[(String, String)]) -> Vec<&str> {
    found.iter().map(|(_, l)| l.as_str()).collect()
}

async fn ok_page(b: &Browser<'_>, path: &str) -> String {
    let (status, html) = b.page(path).await;
    assert_eq!(status, StatusCode::OK, "{path}: {html}");
    html
}

async fn hr_finds_a_team_among_many(app: TestApp) {
    let admin = app.admin_token().await;
    let c = many_teams(&app, &admin).await;
    let hr = Browser::sign_in(&app, ADMIN_EMAIL, PASSWORD).await;

    for path in ["/reports/enps", "/reports/turnover", "/reports/drivers"] {
        let html = ok_page(&hr, path).await;
        assert!(!html.contains(r#"<select id="team_id""#), "{path}");
        for team in [c.north, c.falcons, c.south] {
            assert!(
                !html.contains(&format!(r#"<option value="{team}""#)),
                "{path} lists team {team}"
            );
        }
        assert!(html.contains(r#"<input type="hidden" name="team_id" value="">"#));
        assert!(
            html.contains("Group: <strong>Whole company</strong>"),
            "{path}"
        );
        assert!(html.contains(r#"<label for="team_q">Find a team"#));
        assert!(matches(&html).is_empty(), "no list before a search");
    }
    // The eNPS page keeps its survey, group_by and scale selects: nothing else.
    let html = ok_page(&hr, "/reports/enps").await;
    assert_eq!(html.matches("<option").count(), 1 + 3 + 3, "{html}");

    // Part of a name, in any case, with the other filters kept by each link.
    let filters = "from=2026-01-01&to=2026-03-31&group_by=month";
    let html = ok_page(&hr, &format!("/reports/turnover?{filters}&team_q=fALc")).await;
    let found = matches(&html);
    assert_eq!(labels(&found), ["North / Blue Falcons"]);
    assert_eq!(
        found[0].0,
        format!("/reports/turnover?{filters}&team_id={}", c.falcons)
    );
    assert!(html.contains(r#"aria-labelledby="team-matches""#));
    assert!(html.contains("Teams matching “fALc”"));
    let html = ok_page(&hr, &found[0].0).await;
    assert!(
        html.contains("<h1>Turnover · North / Blue Falcons</h1>"),
        "{html}"
    );
    assert!(html.contains("Group: <strong>North / Blue Falcons</strong>"));
    assert!(html.contains(&format!(
        r#"<input type="hidden" name="team_id" value="{}">"#,
        c.falcons
    )));
    assert!(html.contains(r#"value="2026-01-01""#));
    // The team's own figures: its two people, where the company has six.
    assert!(html.contains(r#"<td class="num">2 → 2</td>"#), "{html}");
    let whole = ok_page(&hr, &format!("/reports/turnover?{filters}")).await;
    assert!(!whole.contains(r#"<td class="num">2 → 2</td>"#));
    // HR may go back to the whole company, with the same filters.
    assert!(html.contains(&format!(
        r#"<a href="{}">Whole company</a>"#,
        escape(&format!("/reports/turnover?{filters}"))
    )));

    // eNPS: the chosen team's report, its survey and scale filters kept.
    let html = ok_page(&hr, "/reports/enps?scale=0-10&group_by=quarter&team_q=blue").await;
    let found = matches(&html);
    assert_eq!(labels(&found), ["North / Blue Falcons"]);
    assert!(found[0].0.contains("scale=0-10") && found[0].0.contains("group_by=quarter"));
    let html = ok_page(&hr, &found[0].0).await;
    assert!(
        html.contains("<h1>eNPS · North / Blue Falcons</h1>"),
        "{html}"
    );
    assert!(html.contains(r#"<option value="quarter" selected>"#));
    let html = ok_page(
        &hr,
        "/reports/drivers?from=2026-01-01&to=2026-03-31&team_q=BLUE",
    )
    .await;
    let found = matches(&html);
    assert_eq!(labels(&found), ["North / Blue Falcons"]);
    let html = ok_page(&hr, &found[0].0).await;
    assert!(html.contains("<h1>Key drivers · North / Blue Falcons</h1>"));

    // Namesakes are told apart by their parent, and "parent / name" narrows.
    let found = matches(&ok_page(&hr, "/reports/enps?team_q=squad+007").await);
    assert_eq!(labels(&found), ["North / Squad 007", "South / Squad 007"]);
    let found = matches(&ok_page(&hr, "/reports/enps?team_q=south+%2F+squad+00").await);
    assert_eq!(found.len(), 9);
    assert!(found.iter().all(|(_, l)| l.starts_with("South / Squad 00")));
    // Wildcards are matched as typed.
    assert!(matches(&ok_page(&hr, "/reports/enps?team_q=%25").await).is_empty());

    // At most 25, and the page says there are more.
    let html = ok_page(&hr, "/reports/enps?team_q=squad").await;
    assert_eq!(matches(&html).len(), 25);
    assert!(html.contains("Only the first 25 are listed"));

    // No match says so; an empty search is no error and lists nothing.
    let html = ok_page(&hr, "/reports/enps?team_q=zebra").await;
    assert!(matches(&html).is_empty());
    assert!(html.contains("No team you may choose matches “zebra”."));
    let html = ok_page(&hr, "/reports/enps?team_q=++").await;
    assert!(matches(&html).is_empty() && !html.contains("No team you may choose"));

    // An unknown team is answered as before.
    for path in ["/reports/enps", "/reports/turnover", "/reports/drivers"] {
        let (status, _) = hr.page(&format!("{path}?team_id=999999")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
}

async fn a_leads_search_stays_in_their_tree(app: TestApp) {
    let admin = app.admin_token().await;
    let c = many_teams(&app, &admin).await;
    let lea = Browser::sign_in(&app, "lea@example.com", PASSWORD).await;

    // Over 200 teams of their own: the search, on their first team, with no company.
    let html = ok_page(&lea, "/reports/enps").await;
    assert!(!html.contains(r#"<select id="team_id""#));
    assert!(html.contains("Group: <strong>North</strong>"), "{html}");
    assert!(html.contains(&format!(
        r#"<input type="hidden" name="team_id" value="{}">"#,
        c.north
    )));
    assert!(!html.contains("Whole company"));

    for path in ["/reports/enps", "/reports/turnover", "/reports/drivers"] {
        let found = matches(&ok_page(&lea, &format!("{path}?team_q=squad+00")).await);
        assert_eq!(found.len(), 9, "{path}");
        assert!(
            found.iter().all(|(_, l)| l.starts_with("North / Squad 00")),
            "{path}: {found:?}"
        );
        for q in ["harbour", "south", "south+%2F+squad"] {
            let html = ok_page(&lea, &format!("{path}?team_q={q}")).await;
            assert!(matches(&html).is_empty(), "{path} {q}");
            assert!(html.contains("No team you may choose matches"));
        }
    }
    let found = matches(&ok_page(&lea, "/reports/enps?team_q=falcons").await);
    assert_eq!(labels(&found), ["North / Blue Falcons"]);
    let html = ok_page(&lea, &found[0].0).await;
    assert!(html.contains("<h1>eNPS · North / Blue Falcons</h1>"));

    // A team outside their tree is refused as before.
    for path in ["/reports/enps", "/reports/turnover", "/reports/drivers"] {
        let (status, _) = lea.page(&format!("{path}?team_id={}", c.south)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    }
}

async fn people_actions_and_rounds_search_too(app: TestApp) {
    let admin = app.admin_token().await;
    let c = many_teams(&app, &admin).await;
    let hr = Browser::sign_in(&app, ADMIN_EMAIL, PASSWORD).await;

    // /people: "All teams" or one team, the name search kept.
    let html = ok_page(&hr, "/people?q=falcon").await;
    assert!(!html.contains(r#"<select id="team""#));
    assert!(!html.contains(&format!(r#"<option value="{}""#, c.falcons)));
    assert!(html.contains("Team: <strong>All teams</strong>"));
    let found = matches(&ok_page(&hr, "/people?q=falcon&team_q=falc").await);
    assert_eq!(
        found,
        [(
            format!("/people?q=falcon&team={}", c.falcons),
            "North / Blue Falcons".to_string()
        )]
    );
    let html = ok_page(&hr, &found[0].0).await;
    assert!(html.contains("Team: <strong>North / Blue Falcons</strong>"));
    assert!(html.contains("2 people"), "{html}");

    // /action-plans: the team chosen above is the one the form records for.
    let html = ok_page(&hr, "/action-plans").await;
    assert!(!html.contains(r#"<select id="action-team""#));
    assert!(html.contains("For: <strong>Whole company</strong>"));
    let found = matches(&ok_page(&hr, "/action-plans?team_q=blue").await);
    assert_eq!(labels(&found), ["North / Blue Falcons"]);
    let html = ok_page(&hr, &found[0].0).await;
    assert!(
        html.contains("For: <strong>North / Blue Falcons</strong>"),
        "{html}"
    );
    let res = hr
        .post(
            "/action-plans",
            &[
                ("text", "Quieter desks"),
                ("team_id", &c.falcons.to_string()),
                ("owner_id", &c.lea.to_string()),
                ("due_on", "2027-03-01"),
                ("back", "/action-plans"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let html = ok_page(&hr, &found[0].0).await;
    assert!(html.contains("Quieter desks"));

    // A round's page: the group among its invitees.
    let (survey, _) = crate::surveys::create_survey(&app, &admin, enps_survey(&[], "1-10")).await;
    let res = app
        .post(
            &format!("/api/v1/surveys/{}/rounds", survey["id"]),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let round = res.json::<serde_json::Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let html = ok_page(&hr, &format!("/rounds/{round}")).await;
    assert!(!html.contains(r#"<select id="team_id""#));
    assert!(html.contains("Group: <strong>Everyone invited</strong>"));
    let found = matches(&ok_page(&hr, &format!("/rounds/{round}?team_q=falc")).await);
    assert_eq!(
        found,
        [(
            format!("/rounds/{round}?team_id={}", c.falcons),
            "North / Blue Falcons".to_string()
        )]
    );
}

async fn few_teams_keep_the_select(app: TestApp) {
    app.admin_token().await;
    let eng = app.insert_team("Eng", None);
    let web = app.insert_team("Web", Some(eng));
    let hr = Browser::sign_in(&app, ADMIN_EMAIL, PASSWORD).await;
    let select = format!(
        r#"<select id="team_id" name="team_id"><option value="" selected>Whole company</option><option value="{eng}">Eng</option><option value="{web}">Eng / Web</option></select>"#
    );
    for path in ["/reports/enps", "/reports/turnover", "/reports/drivers"] {
        let html = ok_page(&hr, path).await;
        assert!(html.contains(&select), "{path}: {html}");
        assert!(!html.contains("team_q"), "{path}");
        // A search asked for anyway changes nothing.
        let searched = ok_page(&hr, &format!("{path}?team_q=web")).await;
        assert!(searched.contains(&select) && matches(&searched).is_empty());
    }
    let html = ok_page(&hr, &format!("/people?team={web}")).await;
    assert!(html.contains(&format!(
        r#"<select id="team" name="team"><option value="">All teams</option><option value="{eng}">Eng</option><option value="{web}" selected>Eng / Web</option></select>"#
    )));
    let html = ok_page(&hr, "/action-plans").await;
    assert!(html.contains(r#"<select id="action-team" name="team_id"><option value="" selected>Whole company</option>"#));
}

crate::on_both_engines!(
    hr_finds_a_team_among_many,
    a_leads_search_stays_in_their_tree,
    people_actions_and_rounds_search_too,
    few_teams_keep_the_select,
);
