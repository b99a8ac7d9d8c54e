//! Sign-in: uniform failures, token checks, rate limits, cookies and cross-site writes.

use crate::helpers::{TestApp, ADMIN_EMAIL, PASSWORD};
use base64::Engine as _;
use serde_json::{json, Value};

async fn wrong_password_and_unknown_account_look_the_same(app: TestApp) {
    app.admin_token().await;
    let wrong = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": ADMIN_EMAIL, "password": "not the password"}),
        )
        .await;
    let unknown = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": "nobody@example.com", "password": "not the password"}),
        )
        .await;
    assert_eq!(wrong.status(), 401);
    assert_eq!(unknown.status(), 401);
    let (a, b): (Value, Value) = (wrong.json().await.unwrap(), unknown.json().await.unwrap());
    assert_eq!(a, b);
    assert_eq!(a["error"], "invalid_credentials");

    let ok = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": "HR@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(ok.status(), 200);
    assert!(ok.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("HttpOnly"));
    let body: Value = ok.json().await.unwrap();
    assert_eq!(body["user"]["email"], ADMIN_EMAIL);
    assert_eq!(body["user"]["role"], "admin");
    let expires =
        chrono::DateTime::parse_from_rfc3339(body["expires_at"].as_str().unwrap()).unwrap();
    assert!(expires <= chrono::Utc::now() + chrono::Duration::hours(8));
}

async fn bad_tokens_are_refused(app: TestApp) {
    let token = app.admin_token().await;
    assert_eq!(app.get("/api/v1/teams", Some(&token)).await.status(), 200);
    assert_eq!(app.get("/api/v1/teams", None).await.status(), 401);

    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let parts: Vec<&str> = token.split('.').collect();
    let claims: Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
    // Tampered: claims changed, signature kept.
    let other = json!({"sub": "999", "iat": claims["iat"], "exp": claims["exp"]});
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        b64.encode(other.to_string()),
        parts[2]
    );
    // alg none: no signature at all.
    let none = format!(
        "{}.{}.",
        b64.encode(r#"{"alg":"none","typ":"JWT"}"#),
        parts[1]
    );
    // Expired: correctly signed with the real secret, but in the past.
    let secret = {
        let mut conn = app.conn();
        pulse::repo::settings::get(&mut conn, "jwt_secret")
            .unwrap()
            .unwrap()
    };
    let keys = pulse::auth::jwt::JwtKeys::new(secret.as_bytes());
    let (expired, _) = keys.issue(
        claims["sub"].as_str().unwrap().parse().unwrap(),
        chrono::Utc::now() - chrono::Duration::hours(9),
        None,
    );
    let (fresh, _) = keys.issue(
        claims["sub"].as_str().unwrap().parse().unwrap(),
        chrono::Utc::now(),
        None,
    );
    for bad in [tampered, none, expired, "garbage".to_string()] {
        let res = app.get("/api/v1/teams", Some(&bad)).await;
        assert_eq!(res.status(), 401, "{bad}");
        assert_eq!(res.json::<Value>().await.unwrap()["error"], "unauthorized");
    }
    // The control: the same secret makes a token that works.
    assert_eq!(app.get("/api/v1/teams", Some(&fresh)).await.status(), 200);
}

async fn failed_sign_ins_are_rate_limited(app: TestApp) {
    app.admin_token().await;
    for _ in 0..5 {
        let res = app
            .post(
                "/api/v1/auth/login",
                None,
                json!({"email": ADMIN_EMAIL, "password": "guess guess guess"}),
            )
            .await;
        assert_eq!(res.status(), 401);
    }
    // Even the right password waits now, so guessing gains nothing.
    let res = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": ADMIN_EMAIL, "password": PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), 429);
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0 && retry <= 15 * 60);
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "rate_limited");
    // Another account from the same address is not locked by these five.
    let other = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": "else@example.com", "password": "x"}),
        )
        .await;
    assert_eq!(other.status(), 401);
}

async fn cookie_sessions_work_and_refuse_cross_site_writes(app: TestApp) {
    app.admin_token().await;
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let res = browser
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": ADMIN_EMAIL, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        browser
            .get(app.url("/api/v1/teams"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let evil = browser
        .post(app.url("/api/v1/teams"))
        .header("Origin", "https://evil.example")
        .json(&json!({"name": "Evil"}))
        .send()
        .await
        .unwrap();
    assert_eq!(evil.status(), 403);
    let cross = browser
        .post(app.url("/api/v1/teams"))
        .header("Sec-Fetch-Site", "cross-site")
        .json(&json!({"name": "Evil"}))
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), 403);
    let own = browser
        .post(app.url("/api/v1/teams"))
        .header("Origin", app.address.as_str())
        .json(&json!({"name": "Ours"}))
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), 201);

    let out = browser
        .post(app.url("/api/v1/auth/logout"))
        .header("Origin", app.address.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 204);
    assert_eq!(
        browser
            .get(app.url("/api/v1/teams"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
}

/// Signing out ends the person's sessions everywhere, Bearer tokens included.
async fn signing_out_revokes_bearer_tokens(app: TestApp) {
    let old = app.admin_token().await;
    // A token from an earlier second, so the check cannot pass by timing.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let current = app.login(ADMIN_EMAIL, PASSWORD).await;
    assert_eq!(app.get("/api/v1/teams", Some(&old)).await.status(), 200);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let out = app
        .post("/api/v1/auth/logout", Some(&current), json!({}))
        .await;
    assert_eq!(out.status(), 204);
    for token in [&old, &current] {
        assert_eq!(app.get("/api/v1/teams", Some(token)).await.status(), 401);
    }
    let again = app.login(ADMIN_EMAIL, PASSWORD).await;
    assert_eq!(
        app.get("/api/v1/teams", Some(&again)).await.status(),
        200,
        "signing back in works at once"
    );
}

/// Whether `token` still opens the person's own record.
async fn session_works(app: &TestApp, id: i64, token: &str) -> bool {
    let status = app
        .get(&format!("/api/v1/employees/{id}"), Some(token))
        .await
        .status();
    assert!(status == 200 || status == 401, "{status}");
    status == 200
}

/// Tokens from an earlier second, so the checks cannot pass by timing.
async fn next_second() {
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
}

/// A new password, email or role ends every session of the person, whether
/// HR changes it through the API or the CSV import; other changes do not.
async fn password_email_and_role_changes_end_sessions(app: TestApp) {
    let admin = app.admin_token().await;
    let id = app
        .employee(
            &admin,
            json!({"email": "ana@example.com", "name": "Ana", "hired_on": "2024-01-01", "password": PASSWORD}),
        )
        .await;
    let path = format!("/api/v1/employees/{id}");
    let new_password = "another good password";

    let old = app.login("ana@example.com", PASSWORD).await;
    next_second().await;
    let res = app
        .patch(&path, &admin, json!({"password": new_password}))
        .await;
    assert_eq!(res.status(), 200);
    assert!(!session_works(&app, id, &old).await, "password change");
    let token = app.login("ana@example.com", new_password).await;
    assert!(session_works(&app, id, &token).await);

    next_second().await;
    let res = app
        .patch(&path, &admin, json!({"name": "Ana Lima", "locale": "fr"}))
        .await;
    assert_eq!(res.status(), 200);
    assert!(
        session_works(&app, id, &token).await,
        "a new name keeps sessions"
    );

    let res = app
        .patch(&path, &admin, json!({"email": "ana.lima@example.com"}))
        .await;
    assert_eq!(res.status(), 200);
    assert!(!session_works(&app, id, &token).await, "email change");
    let token = app.login("ana.lima@example.com", new_password).await;

    next_second().await;
    let res = app.patch(&path, &admin, json!({"role": "member"})).await;
    assert_eq!(res.status(), 200);
    assert!(
        session_works(&app, id, &token).await,
        "the same role keeps sessions"
    );
    let res = app.patch(&path, &admin, json!({"role": "lead"})).await;
    assert_eq!(res.status(), 200);
    assert!(!session_works(&app, id, &token).await, "role change");
    let token = app.login("ana.lima@example.com", new_password).await;

    next_second().await;
    let res = app
        .post_csv(
            &admin,
            "email,name,role\nana.lima@example.com,Ana Lima,member\n",
        )
        .await;
    assert_eq!(res.status(), 200);
    assert!(
        !session_works(&app, id, &token).await,
        "role change by import"
    );
}

/// Choosing a password on the account setup page ends the older sessions.
async fn setting_a_password_from_an_invitation_ends_sessions(app: TestApp) {
    let admin = app.admin_token().await;
    let id = app
        .employee(
            &admin,
            json!({"email": "bo@example.com", "name": "Bo", "hired_on": "2024-01-01", "password": PASSWORD}),
        )
        .await;
    let old = app.login("bo@example.com", PASSWORD).await;
    let res = app
        .post(
            &format!("/api/v1/employees/{id}/invite"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(res.status(), 202);
    app.tick(&chrono::Utc::now().to_rfc3339()).await;
    let email = app
        .emails()
        .iter()
        .map(|m| crate::surveys::read_email(m).2)
        .find(|text| text.contains("/account/setup?token="))
        .expect("an invitation email");
    let start = email.find("/account/setup?token=").unwrap() + "/account/setup?token=".len();
    let token: String = email[start..]
        .chars()
        .take_while(|c| c.is_ascii_hexdigit())
        .collect();
    next_second().await;
    let new_password = "a brand new password";
    let res = app
        .api
        .post(app.url("/account/setup"))
        .form(&[
            ("token", token.as_str()),
            ("password", new_password),
            ("password_confirm", new_password),
        ])
        .send()
        .await
        .unwrap();
    let status = res.status();
    assert_eq!(status, 200, "{}", res.text().await.unwrap());
    assert!(!session_works(&app, id, &old).await);
    let fresh = app.login("bo@example.com", new_password).await;
    assert!(session_works(&app, id, &fresh).await);
}

async fn roles_limit_what_each_person_sees(app: TestApp) {
    let admin = app.admin_token().await;
    let eng = app.team(&admin, json!({"name": "Engineering"})).await;
    let web = app
        .team(&admin, json!({"name": "Web", "parent_id": eng}))
        .await;
    let sales = app.team(&admin, json!({"name": "Sales"})).await;
    let lead = app.employee(&admin, json!({"email": "lead@example.com", "name": "Lea", "hired_on": "2024-01-01", "team_id": eng, "password": PASSWORD})).await;
    app.patch(
        &format!("/api/v1/teams/{eng}"),
        &admin,
        json!({"lead_id": lead}),
    )
    .await;
    let dev = app.employee(&admin, json!({"email": "dev@example.com", "name": "Dev", "hired_on": "2024-01-01", "team_id": web, "password": PASSWORD})).await;
    let seller = app
        .employee(
            &admin,
            json!({"email": "sam@example.com", "name": "Sam", "hired_on": "2024-01-01", "team_id": sales}),
        )
        .await;

    // Being made a team lead gave Lea the lead role.
    let lead_token = app.login("lead@example.com", PASSWORD).await;
    let member_token = app.login("dev@example.com", PASSWORD).await;

    // A lead sees their team and its sub-teams, nobody else.
    let seen: Value = app
        .get("/api/v1/employees", Some(&lead_token))
        .await
        .json()
        .await
        .unwrap();
    let mut ids: Vec<i64> = seen
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, vec![lead, dev]);
    assert_eq!(
        app.get(&format!("/api/v1/employees/{dev}"), Some(&lead_token))
            .await
            .status(),
        200
    );
    assert_eq!(
        app.get(&format!("/api/v1/employees/{seller}"), Some(&lead_token))
            .await
            .status(),
        403
    );
    assert_eq!(
        app.get(&format!("/api/v1/teams/{sales}"), Some(&lead_token))
            .await
            .status(),
        403
    );
    assert_eq!(
        app.get(&format!("/api/v1/teams/{web}"), Some(&lead_token))
            .await
            .status(),
        200
    );

    // A member sees themselves only and writes nothing.
    let me: Value = app
        .get("/api/v1/employees", Some(&member_token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me.as_array().unwrap().len(), 1);
    assert_eq!(me[0]["id"], dev);
    assert_eq!(
        app.get(&format!("/api/v1/employees/{lead}"), Some(&member_token))
            .await
            .status(),
        403
    );
    let denied = app
        .post(
            "/api/v1/teams",
            Some(&member_token),
            json!({"name": "Mine"}),
        )
        .await;
    assert_eq!(denied.status(), 403);
    assert_eq!(denied.json::<Value>().await.unwrap()["error"], "forbidden");
    assert_eq!(
        app.post("/api/v1/teams", Some(&lead_token), json!({"name": "Mine"}))
            .await
            .status(),
        403
    );
    assert_eq!(
        app.patch(
            &format!("/api/v1/employees/{dev}"),
            &lead_token,
            json!({"name": "X"})
        )
        .await
        .status(),
        403
    );

    // A departure ends the session at once.
    app.patch(
        &format!("/api/v1/employees/{dev}"),
        &admin,
        json!({"left_on": "2025-01-31", "leave_reason": "voluntary"}),
    )
    .await;
    assert_eq!(
        app.get("/api/v1/employees", Some(&member_token))
            .await
            .status(),
        401
    );
}

crate::on_both_engines!(
    wrong_password_and_unknown_account_look_the_same,
    bad_tokens_are_refused,
    failed_sign_ins_are_rate_limited,
    cookie_sessions_work_and_refuse_cross_site_writes,
    signing_out_revokes_bearer_tokens,
    password_email_and_role_changes_end_sessions,
    setting_a_password_from_an_invitation_ends_sessions,
    roles_limit_what_each_person_sees,
);
