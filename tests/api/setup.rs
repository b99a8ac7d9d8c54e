//! First run: the printed setup link creates the first admin, once.

use crate::helpers::TestApp;
use reqwest::redirect::Policy;
use serde_json::{json, Value};

async fn setup_link_creates_the_first_admin_once(app: TestApp) {
    let health: Value = app.get("/healthz", None).await.json().await.unwrap();
    let engine = match app.engine {
        crate::helpers::Engine::Sqlite => "sqlite",
        crate::helpers::Engine::Postgres => "postgres",
    };
    assert_eq!(health, json!({"status": "ok", "database": engine}));

    let url = app
        .setup_url
        .clone()
        .expect("a database without admin prints a setup link");
    let token = url.split("token=").nth(1).unwrap().to_string();
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .unwrap();

    let form = browser.get(&url).send().await.unwrap();
    assert_eq!(form.status(), 200);
    assert!(form.text().await.unwrap().contains("Create administrator"));
    let wrong = browser
        .get(app.url("/setup?token=nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 403);

    // Bad input keeps what was typed and says what to fix.
    let bad = browser
        .post(app.url("/setup"))
        .form(&[
            ("token", token.as_str()),
            ("name", "Hana"),
            ("email", "hana-at-example"),
            ("password", "short"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    let page = bad.text().await.unwrap();
    assert!(
        page.contains("value=\"hana-at-example\"") && page.contains("at least 10 characters"),
        "{page}"
    );

    let ok = browser
        .post(app.url("/setup"))
        .form(&[
            ("token", token.as_str()),
            ("name", "Hana <HR>"),
            ("email", "Hana@Example.com"),
            ("password", "correct horse battery"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 303);
    // The cookie it set signs the new admin in on the dashboard, with the name escaped.
    let home = browser
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(home.contains("Hana &lt;HR&gt;"), "{home}");

    let again = browser.get(&url).send().await.unwrap();
    assert_eq!(again.status(), 410);
    let token = app.login("hana@example.com", "correct horse battery").await;
    let me: Value = app
        .get("/api/v1/employees", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me[0]["role"], "admin");
    // The first admin is on the audit trail, as their own actor.
    let trail: Value = app
        .get("/api/v1/audit", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(trail.as_array().unwrap().len(), 1, "{trail}");
    assert_eq!(trail[0]["action"], "employee.role");
    assert_eq!(trail[0]["actor_id"], me[0]["id"]);
    assert_eq!(trail[0]["ip"], "127.0.0.1");
}

async fn pages_need_a_session(app: TestApp) {
    let browser = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    let res = browser.get(app.url("/")).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/login");
    let login = browser.get(app.url("/login")).send().await.unwrap();
    assert_eq!(login.status(), 200);
    let missing = browser.get(app.url("/no-such-page")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    assert!(missing.text().await.unwrap().contains("Page not found"));
}

crate::on_both_engines!(
    setup_link_creates_the_first_admin_once,
    pages_need_a_session
);
