//! The HTML pages as a browser without JavaScript uses them: sessions, CSRF,
//! roles, forms that keep their input, flash messages, escaping, the survey
//! builder's limits and the round page's suppression message.

use crate::helpers::{TestApp, ADMIN_EMAIL, PASSWORD};
use reqwest::redirect::Policy;
use reqwest::{Client, Response, StatusCode};
use serde_json::json;

/// A cookie-keeping client that signs in through the login page and sends
/// forms as a browser on Pulse's own pages would (with Origin).
pub struct Browser<'a> {
    app: &'a TestApp,
    client: Client,
}

impl<'a> Browser<'a> {
    pub async fn sign_in(app: &'a TestApp, email: &str, password: &str) -> Browser<'a> {
        let client = Client::builder()
            .cookie_store(true)
            .redirect(Policy::none())
            .build()
            .unwrap();
        let b = Browser { app, client };
        let res = b
            .post_raw("/login", &[("email", email), ("password", password)])
            .await;
        assert_eq!(res.status(), 303, "sign-in as {email} failed");
        b
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.app.url(path)).send().await.unwrap()
    }

    pub async fn page(&self, path: &str) -> (StatusCode, String) {
        let res = self.get(path).await;
        (res.status(), res.text().await.unwrap())
    }

    async fn post_raw(&self, path: &str, form: &[(&str, &str)]) -> Response {
        self.client
            .post(self.app.url(path))
            .header("origin", &self.app.address)
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// The form token printed in a page of this session.
    pub async fn csrf(&self) -> String {
        let (_, html) = self.page("/").await;
        csrf_in(&html)
    }

    /// Posts a form with this session's token.
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Response {
        let token = self.csrf().await;
        let mut fields = form.to_vec();
        fields.push(("csrf", &token));
        self.post_raw(path, &fields).await
    }
}

pub fn csrf_in(html: &str) -> String {
    let at = html.find(r#"name="csrf" value=""#).expect("a form token") + 19;
    html[at..].chars().take_while(|c| *c != '"').collect()
}

fn location(res: &Response) -> String {
    res.headers()["location"].to_str().unwrap().to_string()
}

async fn admin(app: &TestApp) -> (String, Browser<'_>) {
    let token = app.admin_token().await;
    (token, Browser::sign_in(app, ADMIN_EMAIL, PASSWORD).await)
}

async fn forms_need_the_session_token_and_escape_what_they_show(app: TestApp) {
    let (token, hr) = admin(&app).await;
    app.employee(&token, json!({"email": "max@example.com", "name": "Max", "hired_on": "2024-01-01", "password": PASSWORD})).await;
    // Without the token, or with another session's, nothing is written.
    let res = hr.post_raw("/teams", &[("name", "Ops")]).await;
    assert_eq!(res.status(), 403);
    assert!(res.text().await.unwrap().contains("This form has expired"));
    let other = Browser::sign_in(&app, "max@example.com", PASSWORD).await;
    let foreign = other.csrf().await;
    assert_ne!(foreign, hr.csrf().await, "each session has its own token");
    let res = hr
        .post_raw("/teams", &[("name", "Ops"), ("csrf", &foreign)])
        .await;
    assert_eq!(res.status(), 403);
    // From another site, even with the right token: refused by the Origin check.
    let res = hr
        .client
        .post(app.url("/teams"))
        .header("origin", "https://evil.example")
        .form(&[("name", "Ops"), ("csrf", &hr.csrf().await)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(res.text().await.unwrap().contains("<html"), "an HTML page");
    let (_, teams) = hr.page("/teams").await;
    assert!(!teams.contains("Ops"));

    // With it: created, and the flash message shows once.
    let res = hr
        .post("/teams", &[("name", "<script>alert(1)</script>")])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/teams");
    let (_, html) = hr.page("/teams").await;
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    assert!(!html.contains("<script>alert(1)"));
    assert!(html.contains("was added."));
    let (_, again) = hr.page("/teams").await;
    assert!(!again.contains("was added."), "a flash message shows once");

    // A refused form keeps what was typed and says why beside the field.
    let res = hr.post("/teams", &[("name", "  ")]).await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains(r#"id="name-error""#), "{html}");
    assert!(html.contains("is required"));
}

async fn each_role_sees_its_own_pages(app: TestApp) {
    let (token, hr) = admin(&app).await;
    let team = app.team(&token, json!({"name": "Support"})).await;
    let lead = app.employee(&token, json!({"email": "lea@example.com", "name": "Lea Lead", "hired_on": "2024-01-01", "team_id": team, "password": PASSWORD})).await;
    app.patch(
        &format!("/api/v1/teams/{team}"),
        &token,
        json!({"lead_id": lead}),
    )
    .await;
    app.employee(&token, json!({"email": "max@example.com", "name": "Max Member", "hired_on": "2024-01-01", "team_id": team, "password": PASSWORD})).await;

    // No session: every page sends to the sign-in page, and back afterwards.
    let anonymous = Client::builder().redirect(Policy::none()).build().unwrap();
    let res = anonymous.get(app.url("/people?q=a")).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/login?next=%2Fpeople%3Fq%3Da");

    for path in [
        "/",
        "/people",
        "/teams",
        "/surveys",
        "/surveys/new",
        "/reports/enps",
        "/reports/turnover",
    ] {
        let (status, html) = hr.page(path).await;
        assert_eq!(status, 200, "{path}: {html}");
    }
    let (_, home) = hr.page("/").await;
    for link in ["/people", "/teams", "/surveys", "/reports/enps"] {
        assert!(
            home.contains(&format!(r#"href="{link}""#)),
            "admin nav has {link}"
        );
    }

    let lea = Browser::sign_in(&app, "lea@example.com", PASSWORD).await;
    let (status, home) = lea.page("/").await;
    assert_eq!(status, 200);
    assert!(home.contains("Support") && home.contains(r#"href="/reports/enps""#));
    assert!(
        !home.contains(r#"href="/people""#),
        "leads have no people page in their nav"
    );
    for path in ["/reports/enps", "/reports/turnover"] {
        assert_eq!(lea.page(path).await.0, 200, "{path}");
    }
    for path in ["/people", "/teams", "/surveys", "/surveys/new"] {
        let (status, html) = lea.page(path).await;
        assert_eq!(status, 403, "{path}");
        assert!(
            html.contains("You do not have access to this page"),
            "{html}"
        );
    }

    let max = Browser::sign_in(&app, "max@example.com", PASSWORD).await;
    let (status, home) = max.page("/").await;
    assert_eq!(status, 200);
    assert!(home.contains("Your 1:1s"));
    assert!(!home.contains(r#"href="/reports/enps""#));
    for path in ["/people", "/reports/enps", "/reports/turnover", "/rounds/1"] {
        assert_eq!(max.page(path).await.0, 403, "{path}");
    }
    assert_eq!(max.page("/surveys/nope").await.0, 403);
    assert_eq!(hr.page("/surveys/nope").await.0, 404);

    // Signing out takes a POST with the token; a GET only asks.
    let (status, html) = max.page("/logout").await;
    assert_eq!(status, 200);
    assert!(html.contains("Sign out of Pulse on this browser?"));
    assert_eq!(max.get("/").await.status(), 200, "still signed in");
    let res = max.post("/logout", &[]).await;
    assert_eq!(location(&res), "/login");
    assert_eq!(max.get("/").await.status(), 303);
}

async fn people_are_added_edited_and_leave(app: TestApp) {
    let (token, hr) = admin(&app).await;
    let team = app.team(&token, json!({"name": "Sales"})).await;
    let team = team.to_string();

    let res = hr
        .post(
            "/people",
            &[
                ("name", "Ana Lima"),
                ("email", "not-an-email"),
                ("team_id", &team),
                ("role", "member"),
                ("hired_on", "2024-03-01"),
                ("locale", "en"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains(r#"id="email-error""#), "{html}");
    assert!(html.contains(r#"value="Ana Lima""#), "the input is kept");
    assert!(html.contains(r#"value="not-an-email""#));

    let res = hr
        .post(
            "/people",
            &[
                ("name", "Ana Lima"),
                ("email", "ana@example.com"),
                ("team_id", &team),
                ("role", "member"),
                ("hired_on", "2024-03-01"),
                ("locale", "fr"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let page = location(&res);
    let (_, html) = hr.page(&page).await;
    assert!(html.contains("Ana Lima was added."));

    // The list finds her by name and by team.
    let (_, list) = hr.page("/people?q=lima").await;
    assert!(list.contains("ana@example.com") && list.contains("1 person"));
    let (_, list) = hr.page(&format!("/people?team={team}")).await;
    assert!(list.contains("ana@example.com"));

    // A duplicate email is told beside the field.
    let res = hr
        .post(
            "/people",
            &[
                ("name", "Other"),
                ("email", "ANA@example.com"),
                ("hired_on", "2024-03-01"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("already belongs"));

    // Departure: the reason needs a date; then it is recorded and can be undone.
    let res = hr
        .post(
            &format!("{page}/departure"),
            &[("left_on", ""), ("leave_reason", "voluntary")],
        )
        .await;
    assert_eq!(res.status(), 422);
    let res = hr
        .post(
            &format!("{page}/departure"),
            &[
                ("left_on", "2025-06-30"),
                ("leave_reason", "voluntary"),
                ("regretted", "yes"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (_, html) = hr.page(&page).await;
    assert!(
        html.contains("2025-06-30") && html.contains("regretted leaver"),
        "{html}"
    );
    let id = page.trim_start_matches("/people/");
    let api: serde_json::Value = app
        .get(&format!("/api/v1/employees/{id}"), Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(api["leave_reason"], "voluntary");
    assert_eq!(api["regretted"], true);
    let res = hr
        .post(&format!("{page}/departure"), &[("action", "undo")])
        .await;
    assert_eq!(res.status(), 303);
    let api: serde_json::Value = app
        .get(&format!("/api/v1/employees/{id}"), Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(api["left_on"], serde_json::Value::Null);

    // The last admin cannot be demoted from the edit form.
    let me = app
        .get("/api/v1/employees?q=hr%40example.com", Some(&token))
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap()[0]["id"]
        .clone();
    let res = hr
        .post(
            &format!("/people/{me}"),
            &[
                ("name", "Hana HR"),
                ("email", ADMIN_EMAIL),
                ("role", "member"),
                ("hired_on", "2024-01-01"),
                ("locale", "en"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("last admin"));
}

async fn send(hr: &Browser<'_>, form: Vec<(String, String)>) -> Response {
    let refs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    hr.post("/surveys/new", &refs).await
}

async fn the_builder_takes_ten_questions_and_previews_dates(app: TestApp) {
    let (_, hr) = admin(&app).await;
    let (status, html) = hr.page("/surveys/new").await;
    assert_eq!(status, 200);
    assert!(html.contains(r#"<datalist id="timezones">"#) && html.contains("Europe/Paris"));
    assert!(html.contains("The next five rounds go out"));

    let base: Vec<(String, String)> = [
        ("title", "Weekly pulse"),
        ("enps_scale", "1-10"),
        ("cadence", "weekly"),
        ("starts_on", "2035-12-03"),
        ("send_time", "09:00"),
        ("timezone", "Europe/Paris"),
        ("open_days", "5"),
        ("min_group_size", "5"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let with_questions = |n: usize, action: &str| {
        let mut f = base.clone();
        for i in 0..n {
            f.push((format!("q{i}_kind"), "scale".into()));
            f.push((format!("q{i}_prompt"), format!("Statement {i}")));
            f.push((format!("q{i}_required"), "yes".into()));
        }
        f.push(("action".into(), action.into()));
        f
    };

    // Preview: five local send dates, Monday 3 December 2035 first.
    let html = send(&hr, with_questions(1, "preview"))
        .await
        .text()
        .await
        .unwrap();
    let dates = html
        .split("<ol class=\"dates\">")
        .nth(1)
        .unwrap()
        .split("</ol>")
        .next()
        .unwrap();
    assert_eq!(dates.matches("<li>").count(), 5, "{dates}");
    assert!(dates.contains("Mon 3 Dec 2035, 09:00"), "{dates}");
    assert!(dates.contains("Mon 31 Dec 2035, 09:00"), "{dates}");

    // At ten questions the form offers no eleventh slot, and "add" adds none.
    let html = send(&hr, with_questions(9, "add"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains(r#"name="q9_prompt""#));
    assert!(!html.contains(r#"value="add""#), "no Add button at ten");
    let html = send(&hr, with_questions(10, "add"))
        .await
        .text()
        .await
        .unwrap();
    assert!(!html.contains(r#"name="q10_prompt""#));
    // A hand-made eleventh is refused by the server's rule.
    let res = send(&hr, with_questions(11, "create")).await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("at most 10 questions"));

    // Bad schedule and choice fields are told beside them, input kept.
    let mut f = with_questions(1, "create");
    f.retain(|(k, _)| k != "timezone");
    f.push(("timezone".into(), "Mars/Olympus".into()));
    f.push(("q1_kind".into(), "choice".into()));
    f.push(("q1_prompt".into(), "Pick".into()));
    f.push(("q1_options".into(), "Only one".into()));
    let res = send(&hr, f).await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains(r#"id="timezone-error""#) && html.contains("Mars/Olympus"),
        "{html}"
    );
    assert!(html.contains(r#"id="q1_options-error""#) && html.contains("2 to 8 options"));

    let res = send(&hr, with_questions(3, "create")).await;
    assert_eq!(res.status(), 303);
    let page = location(&res);
    let (_, html) = hr.page(&page).await;
    assert!(
        html.contains("Survey created. The first round goes out Mon 3 Dec 2035, 09:00"),
        "{html}"
    );
    assert!(html.contains("Statement 2"));

    // Pause and resume.
    let id = page.trim_start_matches("/surveys/");
    let res = hr
        .post(&format!("/surveys/{id}/status"), &[("status", "paused")])
        .await;
    assert_eq!(res.status(), 303);
    let (_, html) = hr.page(&page).await;
    assert!(html.contains("Paused: no rounds go out") && html.contains(r#"value="active""#));
    let (_, list) = hr.page("/surveys").await;
    assert!(list.contains("Weekly pulse") && list.contains("paused"));
}

async fn a_round_sent_from_its_page_shows_why_results_are_hidden(app: TestApp) {
    let (token, hr) = admin(&app).await;
    let team = app.team(&token, json!({"name": "Support"})).await;
    for i in 0..3 {
        app.employee(&token, json!({"email": format!("e{i}@example.com"), "name": format!("E {i}"), "hired_on": "2024-01-01", "team_id": team})).await;
    }
    let survey: serde_json::Value = app
        .post("/api/v1/surveys", Some(&token), json!({
            "title": "Pulse", "questions": [{"kind": "enps", "prompt": "Recommend?"}, {"kind": "text", "prompt": "Anything else?"}],
            "schedule": {"cadence": "once", "starts_on": "2035-01-01", "send_time": "09:00", "timezone": "UTC", "open_days": 5}
        }))
        .await
        .json()
        .await
        .unwrap();
    let id = survey["id"].as_i64().unwrap();
    let res = hr.post(&format!("/surveys/{id}/rounds"), &[]).await;
    assert_eq!(res.status(), 303);
    let (_, html) = hr.page(&format!("/surveys/{id}")).await;
    assert!(
        html.contains("Round sent: 4 people invited by email."),
        "{html}"
    );
    let round = html
        .split("/rounds/")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();

    // Two answers out of four: under the threshold of five.
    app.tick(&chrono::Utc::now().to_rfc3339()).await;
    let question = survey["questions"][0]["id"].as_i64().unwrap();
    for email in app.emails().iter().take(2) {
        let (_, _, text) = crate::surveys::read_email(email);
        let token = crate::surveys::link_path(&text)
            .trim_start_matches("/s/")
            .to_string();
        let res = app
            .post(
                "/api/v1/responses",
                None,
                json!({"token": token, "answers": [{"question_id": question, "score": 9}]}),
            )
            .await;
        assert_eq!(res.status(), 201);
    }
    // While open: no figure, no participation under the threshold, and a way to close.
    let (status, html) = hr.page(&format!("/rounds/{round}")).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("Results appear when the round closes"),
        "{html}"
    );
    assert!(!html.contains("2 of 3 invited") && !html.contains("eNPS +"));
    let res = hr.post(&format!("/rounds/{round}/close"), &[]).await;
    assert_eq!(res.status(), 303);
    let (status, html) = hr.page(&format!("/rounds/{round}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("Results hidden."), "{html}");
    assert!(html.contains("Fewer than 5 people answered this round"));
    assert!(!html.contains("eNPS +"), "no figure leaks");
}

/// After signing in, `next` leads only to a path on this site: a tab, a line
/// break or a backslash that a browser would turn into another host sends
/// home instead, and never fails the sign-in.
async fn sign_in_returns_only_to_this_site(app: TestApp) {
    admin(&app).await;
    let client = Client::builder().redirect(Policy::none()).build().unwrap();
    for (next, expected) in [
        ("/people?q=a", "/people?q=a"),
        ("/\t/evil.example", "/"),
        ("/\n/evil.example", "/"),
        ("/people\r\nSet-Cookie: x=1", "/"),
        ("/\\evil.example", "/"),
        ("//evil.example", "/"),
        ("https://evil.example/", "/"),
    ] {
        let res = client
            .post(app.url("/login"))
            .header("origin", &app.address)
            .form(&[
                ("email", ADMIN_EMAIL),
                ("password", PASSWORD),
                ("next", next),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303, "{next:?}");
        assert_eq!(location(&res), expected, "{next:?}");
    }
    // The sign-in page itself never carries a bad `next` into its form.
    let res = client
        .get(app.url("/login?next=/%09/evil.example"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(!res.text().await.unwrap().contains("evil.example"));
}

crate::on_both_engines!(
    forms_need_the_session_token_and_escape_what_they_show,
    each_role_sees_its_own_pages,
    people_are_added_edited_and_leave,
    the_builder_takes_ten_questions_and_previews_dates,
    a_round_sent_from_its_page_shows_why_results_are_hidden,
    sign_in_returns_only_to_this_site,
);
