//! Single sign-on against a real OpenID provider on loopback (tests/oidc/provider.mjs).
//!
//! The provider can be made to misbehave once (tests/oidc/provider.mjs):
//! sign with another key, name another audience, send an expired token or
//! answer another sign-in's nonce; each is refused with its reason. The same
//! checks are unit tests of `auth::oidc::id_token` with tokens the tests sign.

use crate::helpers::{spawn_app_with, Engine, TestApp, PASSWORD};
use crate::oidc_provider::{self, Provider};
use reqwest::header::LOCATION;
use reqwest::{Client, Response};
use serde_json::{json, Value};

/// Pulse with single sign-on, and the provider it trusts.
async fn app_and_provider(engine: Engine, extra: &[(&str, &str)]) -> Option<(TestApp, Provider)> {
    let port = oidc_provider::free_port();
    let mut vars: Vec<(&str, String)> = oidc_provider::settings(port);
    vars.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    let borrowed: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = spawn_app_with(engine, &borrowed).await?;
    let provider = oidc_provider::start(port, &app.url("/auth/oidc/callback"));
    Some((app, provider))
}

/// A browser: keeps cookies, follows no redirect by itself.
fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn location(res: &Response) -> String {
    res.headers()
        .get(LOCATION)
        .unwrap_or_else(|| panic!("no redirect from {} ({})", res.url(), res.status()))
        .to_str()
        .unwrap()
        .to_string()
}

fn absolute(base: &str, location: &str) -> String {
    if location.starts_with("http") {
        location.into()
    } else {
        format!("{}{location}", base.trim_end_matches('/'))
    }
}

/// Goes from Pulse's "Sign in with …" to the provider, signs in there as
/// `login`, and returns the address the provider sends the browser back to.
async fn through_the_provider(
    b: &Client,
    app: &TestApp,
    provider: &Provider,
    login: &str,
) -> String {
    let res = b
        .get(app.url("/auth/oidc/start?next=/one-on-ones"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let mut at = location(&res);
    assert!(at.starts_with(&provider.issuer), "{at}");
    for step in [
        "code_challenge_method=S256",
        "nonce=",
        "state=",
        "scope=openid+email",
    ] {
        assert!(
            at.contains(step),
            "the authorization request lacks {step}: {at}"
        );
    }
    // The provider: its authorization endpoint sends to its login form.
    loop {
        let res = b.get(&at).send().await.unwrap();
        if res.status().is_redirection() {
            let next = absolute(&provider.issuer, &location(&res));
            if next.starts_with(&app.address) {
                return next;
            }
            at = next;
            continue;
        }
        let html = res.text().await.unwrap();
        let action = html
            .split("action=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap_or_else(|| panic!("no login form at {at}: {html}"));
        let res = b
            .post(absolute(&provider.issuer, action))
            .form(&[
                ("prompt", "login"),
                ("login", login),
                ("password", "anything"),
            ])
            .send()
            .await
            .unwrap();
        assert!(res.status().is_redirection(), "{}", res.status());
        at = absolute(&provider.issuer, &location(&res));
    }
}

async fn notes_state(b: &Client, app: &TestApp) -> Value {
    let res = b
        .get(app.url("/api/v1/account/notes"))
        .send()
        .await
        .unwrap();
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body
}

async fn page_error(res: Response) -> (u16, String) {
    let status = res.status().as_u16();
    (status, res.text().await.unwrap())
}

async fn a_person_signs_in_through_the_provider(engine: Engine) {
    let Some((app, provider)) = app_and_provider(engine, &[]).await else {
        return;
    };
    let admin = app.admin_token().await;
    // No Pulse password: this person only ever signs in through the provider.
    let ada = app
        .employee(
            &admin,
            json!({"email": "ada@example.com", "name": "Ada", "hired_on": "2024-01-02"}),
        )
        .await;

    let login = app.get("/login", None).await.text().await.unwrap();
    assert!(login.contains("Sign in with Acme ID"), "{login}");
    assert!(
        login.contains("id=\"password\""),
        "password sign-in stays on by default"
    );

    let b = browser();
    let back = through_the_provider(&b, &app, &provider, "ada@example.com").await;
    let res = b.get(&back).send().await.unwrap();
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    assert_eq!(
        location(&res),
        "/one-on-ones",
        "back where the person was going"
    );
    let me: Value = b
        .get(app.url("/api/v1/account/notes"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["needs_passphrase"], true, "{me}");
    assert_eq!(me["unlocked"], false);

    // The provider's answer works once: replayed, its state is refused.
    let (status, html) = page_error(browser().get(&back).send().await.unwrap()).await;
    assert_eq!(status, 400, "another browser has no state cookie");
    assert!(html.contains("another browser"), "{html}");
    // Even with the state cookie (say, both stolen), it works only once.
    let state = url::Url::parse(&back)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .to_string();
    let replay = browser()
        .get(&back)
        .header("cookie", format!("pulse_sso={state}"))
        .send()
        .await
        .unwrap();
    let (status, html) = page_error(replay).await;
    assert_eq!(status, 400);
    assert!(html.contains("already used"), "{html}");

    // Someone the provider knows but Pulse does not gets no account.
    let b2 = browser();
    let back = through_the_provider(&b2, &app, &provider, "stranger@example.com").await;
    let (status, html) = page_error(b2.get(&back).send().await.unwrap()).await;
    assert_eq!(status, 403);
    assert!(
        html.contains("nobody in Pulse has the email address stranger@example.com"),
        "{html}"
    );
    assert_eq!(
        b2.get(app.url("/api/v1/account/notes"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );

    // An address the provider does not vouch for is not matched.
    app.employee(
        &admin,
        json!({"email": "unverified.bo@example.com", "name": "Bo", "hired_on": "2024-01-02"}),
    )
    .await;
    let b3 = browser();
    let back = through_the_provider(&b3, &app, &provider, "unverified.bo@example.com").await;
    let (status, html) = page_error(b3.get(&back).send().await.unwrap()).await;
    assert_eq!(status, 401);
    assert!(
        html.contains("did not vouch for an email address"),
        "{html}"
    );

    // A code taken to another sign-in's state fails at the provider (PKCE)
    // or at the nonce: never a session.
    let b4 = browser();
    let first = through_the_provider(&b4, &app, &provider, "ada@example.com").await;
    let second = through_the_provider(&b4, &app, &provider, "ada@example.com").await;
    let code = |u: &str| {
        url::Url::parse(u)
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "code")
            .unwrap()
            .1
            .to_string()
    };
    let state_of_second = url::Url::parse(&second)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .to_string();
    let crossed = app.url(&format!(
        "/auth/oidc/callback?code={}&state={state_of_second}",
        code(&first)
    ));
    let (status, _) = page_error(b4.get(&crossed).send().await.unwrap()).await;
    assert!(status == 401 || status == 503, "refused: {status}");
    assert_eq!(
        b4.get(app.url("/api/v1/account/notes"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );

    // People who leave cannot sign in through the provider either.
    let res = app
        .patch(
            &format!("/api/v1/employees/{ada}"),
            &admin,
            json!({"left_on": "2024-06-30", "leave_reason": "voluntary"}),
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let b5 = browser();
    let back = through_the_provider(&b5, &app, &provider, "ada@example.com").await;
    let (status, _) = page_error(b5.get(&back).send().await.unwrap()).await;
    assert_eq!(status, 403);
}

/// A provider that signs with another key, for another application, too
/// late or for another sign-in gets no one signed in.
async fn bad_id_tokens_are_refused(engine: Engine) {
    let Some((app, provider)) = app_and_provider(engine, &[]).await else {
        return;
    };
    let admin = app.admin_token().await;
    app.employee(
        &admin,
        json!({"email": "ada@example.com", "name": "Ada", "hired_on": "2024-01-02"}),
    )
    .await;
    for (mode, why) in [
        ("key", "signature does not verify"),
        ("aud", "issued for another application"),
        ("exp", "has expired"),
        ("nonce", "answers another sign-in"),
    ] {
        provider.tamper(mode).await;
        let b = browser();
        let back = through_the_provider(&b, &app, &provider, "ada@example.com").await;
        let (status, html) = page_error(b.get(&back).send().await.unwrap()).await;
        assert_eq!(status, 401, "{mode}: {html}");
        assert!(html.contains(why), "{mode}: {html}");
        assert_eq!(
            b.get(app.url("/api/v1/account/notes"))
                .send()
                .await
                .unwrap()
                .status(),
            401,
            "{mode}: no session"
        );
    }
    // The provider behaves again: the same person signs in.
    let b = browser();
    let back = through_the_provider(&b, &app, &provider, "ada@example.com").await;
    assert_eq!(b.get(&back).send().await.unwrap().status(), 303);
}

/// Private notes of someone who signs in only through the provider: their
/// notes passphrase makes and opens the key; a Pulse password serves as one.
async fn a_notes_passphrase_opens_private_notes_after_single_sign_on(engine: Engine) {
    let Some((app, provider)) = app_and_provider(engine, &[]).await else {
        return;
    };
    let admin = app.admin_token().await;
    app.employee(
        &admin,
        json!({"email": "ada@example.com", "name": "Ada", "hired_on": "2024-01-02"}),
    )
    .await;
    let sign_in = |login: &'static str| {
        let (app, provider) = (&app, &provider);
        async move {
            let b = browser();
            let back = through_the_provider(&b, app, provider, login).await;
            assert_eq!(b.get(&back).send().await.unwrap().status(), 303);
            b
        }
    };
    let passphrase = |b: &Client, p: &str| {
        b.post(app.url("/api/v1/account/notes/passphrase"))
            .json(&json!({ "passphrase": p }))
            .send()
    };
    let b = sign_in("ada@example.com").await;
    let res = passphrase(&b, "short").await.unwrap();
    assert_eq!(res.status(), 422);
    assert_eq!(notes_state(&b, &app).await["needs_passphrase"], true);
    let res = passphrase(&b, "a long notes passphrase").await.unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let state = notes_state(&b, &app).await;
    assert_eq!(
        (state["unlocked"].clone(), state["needs_passphrase"].clone()),
        (json!(true), json!(false))
    );

    // The next sign-in: the key is locked again until the passphrase opens it.
    let b = sign_in("ada@example.com").await;
    assert_eq!(notes_state(&b, &app).await["needs_passphrase"], true);
    let res = passphrase(&b, "another long passphrase").await.unwrap();
    assert_eq!(res.status(), 422, "a wrong passphrase opens nothing");
    assert_eq!(
        passphrase(&b, "a long notes passphrase")
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(notes_state(&b, &app).await["unlocked"], true);

    // Someone with a Pulse password: the password is their passphrase, so
    // both ways in open the same key.
    app.employee(
        &admin,
        json!({"email": "cy@example.com", "name": "Cy", "hired_on": "2024-01-02", "password": PASSWORD}),
    )
    .await;
    let b = sign_in("cy@example.com").await;
    let res = passphrase(&b, "not my password at all").await.unwrap();
    assert_eq!(res.status(), 422);
    assert_eq!(passphrase(&b, PASSWORD).await.unwrap().status(), 200);
    let token = app.login("cy@example.com", PASSWORD).await;
    let res = app.get("/api/v1/account/notes", Some(&token)).await;
    assert_eq!(res.json::<Value>().await.unwrap()["unlocked"], true);
}

/// With password sign-in off, the provider is the only way in.
async fn password_sign_in_can_be_turned_off(engine: Engine) {
    let Some((app, provider)) =
        app_and_provider(engine, &[("PULSE_PASSWORD_SIGN_IN", "off")]).await
    else {
        return;
    };
    // The admin exists with a password, which no longer signs anyone in.
    let mut conn = app.conn();
    let email = pulse::domain::email::Email::parse(crate::helpers::ADMIN_EMAIL).unwrap();
    pulse::repo::employees::make_admin(
        &mut conn,
        &email,
        "Hana HR",
        &pulse::auth::password::hash(PASSWORD),
    )
    .unwrap();
    let res = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": crate::helpers::ADMIN_EMAIL, "password": PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), 403);
    assert!(res.text().await.unwrap().contains("sign in with Acme ID"));
    let login = app.get("/login", None).await.text().await.unwrap();
    assert!(login.contains("Sign in with Acme ID"));
    assert!(
        !login.contains("id=\"password\""),
        "no password field: {login}"
    );

    let b = browser();
    let back = through_the_provider(&b, &app, &provider, crate::helpers::ADMIN_EMAIL).await;
    let res = b.get(&back).send().await.unwrap();
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let res = b.get(app.url("/api/v1/employees")).send().await.unwrap();
    assert_eq!(res.status(), 200, "HR works as before once signed in");
}

macro_rules! on_both {
    ($($name:ident),*) => {
        mod sqlite { $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(crate::helpers::Engine::Sqlite).await })* }
        mod postgres { $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(crate::helpers::Engine::Postgres).await })* }
    };
}

on_both!(
    a_person_signs_in_through_the_provider,
    bad_id_tokens_are_refused,
    a_notes_passphrase_opens_private_notes_after_single_sign_on,
    password_sign_in_can_be_turned_off
);
