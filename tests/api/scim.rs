//! SCIM 2.0 provisioning (/scim/v2) with tokens HR makes: people and teams as an
//! identity provider sees them, departures on deactivation, team moves through
//! the employee path, SCIM errors, and the `scim2-tester` compliance tool run
//! against the app.

use crate::helpers::{TestApp, ADMIN_EMAIL};
use diesel::prelude::*;
use pulse::db::schema::team_memberships;
use reqwest::Response;
use serde_json::{json, Value};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

async fn make_token(app: &TestApp, admin: &str) -> (i64, String) {
    let res = app
        .post("/api/v1/scim-tokens", Some(admin), json!({"name": "Okta"}))
        .await;
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    (
        body["id"].as_i64().unwrap(),
        body["token"].as_str().unwrap().to_string(),
    )
}

async fn scim(
    app: &TestApp,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = app
        .api
        .request(method, app.url(&format!("/scim/v2{path}")))
        .bearer_auth(token);
    if let Some(b) = body {
        req = req
            .header("content-type", "application/scim+json")
            .body(b.to_string());
    }
    let res: Response = req.send().await.unwrap();
    let status = res.status().as_u16();
    if status != 204 {
        let ct = res.headers()["content-type"].to_str().unwrap().to_string();
        assert!(ct.starts_with("application/scim+json"), "{path}: {ct}");
    }
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn employee(app: &TestApp, admin: &str, id: &str) -> Value {
    app.get(&format!("/api/v1/employees/{id}"), Some(admin))
        .await
        .json()
        .await
        .unwrap()
}

fn today() -> String {
    chrono::Utc::now().date_naive().to_string()
}

fn assert_scim_error(status: u16, body: &Value, want_status: u16, scim_type: Option<&str>) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["schemas"], json!([ERROR]), "{body}");
    assert_eq!(body["status"], json!(want_status.to_string()), "{body}");
    assert!(
        body["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{body}"
    );
    if let Some(t) = scim_type {
        assert_eq!(body["scimType"], json!(t), "{body}");
    }
}

async fn token_lifecycle(app: TestApp) {
    let admin = app.admin_token().await;
    // Only admins make tokens.
    let none = app
        .post("/api/v1/scim-tokens", None, json!({"name": "x"}))
        .await;
    assert_eq!(none.status(), 401);
    let res = app
        .post("/api/v1/scim-tokens", Some(&admin), json!({"name": " "}))
        .await;
    assert_eq!(res.status(), 422);

    let (id, token) = make_token(&app, &admin).await;
    let (status, body) = scim(&app, "GET", "/Users", "not-a-token", None).await;
    assert_scim_error(status, &body, 401, None);
    let res = app.api.get(app.url("/scim/v2/Users")).send().await.unwrap();
    assert_eq!(res.status(), 401);

    let listed: Value = app
        .get("/api/v1/scim-tokens", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed[0]["name"], json!("Okta"));
    assert!(
        listed[0].get("token").is_none(),
        "the secret is shown once: {listed}"
    );
    assert_eq!(listed[0]["last_used_at"], Value::Null);

    let (status, body) = scim(&app, "GET", "/Users", &token, None).await;
    assert_eq!(status, 200);
    assert_eq!(body["totalResults"], json!(1));
    assert_eq!(body["Resources"][0]["userName"], json!(ADMIN_EMAIL));
    let listed: Value = app
        .get("/api/v1/scim-tokens", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert!(listed[0]["last_used_at"].is_string(), "{listed}");
    assert_eq!(listed[0]["revoked"], json!(false));

    // Stored as SHA-256 only.
    {
        use pulse::db::schema::scim_tokens;
        let hash: String = scim_tokens::table
            .select(scim_tokens::token_hash)
            .first(&mut app.conn())
            .unwrap();
        assert_eq!(hash, pulse::tokens::sha256_hex(&token));
    }

    let res = app
        .api
        .delete(app.url(&format!("/api/v1/scim-tokens/{id}")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let (status, body) = scim(&app, "GET", "/ServiceProviderConfig", &token, None).await;
    assert_scim_error(status, &body, 401, None);
    let listed: Value = app
        .get("/api/v1/scim-tokens", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed[0]["revoked"], json!(true));
    let again = app
        .api
        .delete(app.url(&format!("/api/v1/scim-tokens/{id}")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 404);

    for action in ["scim_token.create", "scim_token.revoke"] {
        let entries: Value = app
            .get(&format!("/api/v1/audit?action={action}"), Some(&admin))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(entries.as_array().unwrap().len(), 1, "{action}: {entries}");
        assert_eq!(entries[0]["target"], json!(format!("scim_token:{id}")));
    }
}

async fn users_lifecycle(app: TestApp) {
    let admin = app.admin_token().await;
    let (_, token) = make_token(&app, &admin).await;

    let (status, ann) = scim(
        &app,
        "POST",
        "/Users",
        &token,
        Some(json!({
            "schemas": [USER], "userName": "Ann.Lee@example.com", "externalId": "okta-1",
            "name": {"givenName": "Ann", "familyName": "Lee"}, "active": true,
            "emails": [{"value": "Ann.Lee@example.com", "primary": true}],
        })),
    )
    .await;
    assert_eq!(status, 201, "{ann}");
    let id = ann["id"].as_str().unwrap().to_string();
    assert_eq!(ann["externalId"], json!("okta-1"));
    assert_eq!(ann["active"], json!(true));
    assert!(ann["meta"]["location"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/scim/v2/Users/{id}")));
    let e = employee(&app, &admin, &id).await;
    assert_eq!(e["email"], json!("ann.lee@example.com"), "{e}");
    assert_eq!(e["name"], json!("Ann Lee"));
    assert_eq!(e["hired_on"], json!(today()));
    assert_eq!(e["left_on"], Value::Null);

    // Filters: userName case-insensitively, externalId exactly.
    for (filter, n) in [
        (r#"userName eq "ANN.LEE@example.com""#, 1),
        (r#"externalId eq "okta-1""#, 1),
        (r#"externalId eq "OKTA-1""#, 0),
        (r#"userName eq "nobody@example.com""#, 0),
    ] {
        let q = percent_encoding::utf8_percent_encode(filter, percent_encoding::NON_ALPHANUMERIC);
        let (status, body) = scim(&app, "GET", &format!("/Users?filter={q}"), &token, None).await;
        assert_eq!(status, 200);
        assert_eq!(body["totalResults"], json!(n), "{filter}: {body}");
    }
    let (status, got) = scim(&app, "GET", &format!("/Users/{id}"), &token, None).await;
    assert_eq!(status, 200);
    assert_eq!(got["name"]["givenName"], json!("Ann"));

    // PUT replaces; the name follows name.formatted.
    let (status, put) = scim(
        &app,
        "PUT",
        &format!("/Users/{id}"),
        &token,
        Some(json!({
            "schemas": [USER], "userName": "Ann.Lee@example.com", "externalId": "okta-1",
            "name": {"formatted": "Ann Lee-Smith"}, "active": true,
            "emails": [{"value": "Ann.Lee@example.com", "primary": true}],
        })),
    )
    .await;
    assert_eq!(status, 200, "{put}");
    assert_eq!(
        employee(&app, &admin, &id).await["name"],
        json!("Ann Lee-Smith")
    );

    // Okta deactivates with a replace without a path: a departure today.
    let (status, off) = scim(
        &app,
        "PATCH",
        &format!("/Users/{id}"),
        &token,
        Some(json!({
            "schemas": [PATCH], "Operations": [{"op": "replace", "value": {"active": false}}],
        })),
    )
    .await;
    assert_eq!(status, 200, "{off}");
    assert_eq!(off["active"], json!(false));
    let e = employee(&app, &admin, &id).await;
    assert_eq!(e["left_on"], json!(today()), "{e}");
    assert_eq!(e["leave_reason"], json!("other"));
    // Entra reactivates with a path and a string.
    let (status, on) = scim(&app, "PATCH", &format!("/Users/{id}"), &token, Some(json!({
        "schemas": [PATCH], "Operations": [{"op": "Replace", "path": "active", "value": "True"}],
    }))).await;
    assert_eq!(status, 200, "{on}");
    assert_eq!(on["active"], json!(true));
    let e = employee(&app, &admin, &id).await;
    assert_eq!(e["left_on"], Value::Null, "{e}");
    assert_eq!(e["leave_reason"], Value::Null);

    // A change of email with a value path.
    let (status, moved) = scim(&app, "PATCH", &format!("/Users/{id}"), &token, Some(json!({
        "schemas": [PATCH], "Operations": [
            {"op": "replace", "path": "userName", "value": "ann@example.org"},
            {"op": "replace", "path": "emails[primary eq true].value", "value": "ann@example.org"}],
    }))).await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(
        employee(&app, &admin, &id).await["email"],
        json!("ann@example.org")
    );

    // HR changes the name in Pulse: the User reads the same.
    let res = app
        .patch(
            &format!("/api/v1/employees/{id}"),
            &admin,
            json!({"name": "Ann Smith"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let (_, got) = scim(&app, "GET", &format!("/Users/{id}"), &token, None).await;
    assert_eq!(got["name"]["formatted"], json!("Ann Smith"), "{got}");
    assert_eq!(got["userName"], json!("ann@example.org"));

    // A userName that is not an email takes the primary email.
    let (status, bo) = scim(&app, "POST", "/Users", &token, Some(json!({
        "schemas": [USER], "userName": "bo", "displayName": "Bo Berg",
        "emails": [{"value": "bo.home@example.net"}, {"value": "bo@example.com", "primary": true}],
    }))).await;
    assert_eq!(status, 201, "{bo}");
    let bo_id = bo["id"].as_str().unwrap().to_string();
    let e = employee(&app, &admin, &bo_id).await;
    assert_eq!(e["email"], json!("bo@example.com"));
    assert_eq!(e["name"], json!("Bo Berg"));
    // The same userName again, in another case.
    let (status, body) = scim(
        &app,
        "POST",
        "/Users",
        &token,
        Some(json!({
            "schemas": [USER], "userName": "BO", "emails": [{"value": "bo2@example.com"}],
        })),
    )
    .await;
    assert_scim_error(status, &body, 409, Some("uniqueness"));

    // Pagination: 1-based startIndex, count, totalResults over all.
    let (status, page) = scim(&app, "GET", "/Users?startIndex=2&count=1", &token, None).await;
    assert_eq!(status, 200);
    assert_eq!(page["totalResults"], json!(3), "{page}");
    assert_eq!(page["startIndex"], json!(2));
    assert_eq!(page["itemsPerPage"], json!(1));
    assert_eq!(page["Resources"][0]["id"], json!(id));

    // DELETE: gone for SCIM, a departure in Pulse; the row stays for turnover.
    let (status, _) = scim(&app, "DELETE", &format!("/Users/{bo_id}"), &token, None).await;
    assert_eq!(status, 204);
    let (status, body) = scim(&app, "GET", &format!("/Users/{bo_id}"), &token, None).await;
    assert_scim_error(status, &body, 404, None);
    let e = employee(&app, &admin, &bo_id).await;
    assert_eq!(e["left_on"], json!(today()), "{e}");
    let turnover = app.get("/api/v1/reports/turnover", Some(&admin)).await;
    assert_eq!(turnover.status(), 200);
    // Provisioned again: the same person comes back.
    let (status, back) = scim(
        &app,
        "POST",
        "/Users",
        &token,
        Some(json!({
            "schemas": [USER], "userName": "bo", "displayName": "Bo Berg",
            "emails": [{"value": "bo@example.com", "primary": true}],
        })),
    )
    .await;
    assert_eq!(status, 201, "{back}");
    assert_eq!(back["id"], json!(bo_id));
    assert_eq!(employee(&app, &admin, &bo_id).await["left_on"], Value::Null);

    // Changes are on the audit trail under the token.
    let entries: Value = app
        .get("/api/v1/audit?action=employee.*", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        entries
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["ip"].as_str().unwrap().contains("SCIM token")),
        "{entries}"
    );
}

async fn groups_move_people(app: TestApp) {
    let admin = app.admin_token().await;
    let (_, token) = make_token(&app, &admin).await;
    // cy was hired long ago into a team made in Pulse; di arrives by SCIM.
    let old_team = app.team(&admin, json!({"name": "Old"})).await;
    let cy = app
        .employee(&admin, json!({"email": "cy@example.com", "name": "Cy", "hired_on": "2025-01-01", "team_id": old_team}))
        .await
        .to_string();
    let mut ids = vec![cy.clone()];
    for who in ["di"] {
        let (status, u) = scim(&app, "POST", "/Users", &token, Some(json!({
            "schemas": [USER], "userName": format!("{who}@example.com"),
            "name": {"formatted": who}, "emails": [{"value": format!("{who}@example.com"), "primary": true}],
        }))).await;
        assert_eq!(status, 201, "{u}");
        ids.push(u["id"].as_str().unwrap().to_string());
    }
    let (cy, di) = (ids[0].clone(), ids[1].clone());
    let (status, g) = scim(
        &app,
        "POST",
        "/Groups",
        &token,
        Some(json!({
            "schemas": [GROUP], "displayName": "Platform", "externalId": "grp-1",
            "members": [{"value": cy}],
        })),
    )
    .await;
    assert_eq!(status, 201, "{g}");
    let gid = g["id"].as_str().unwrap().to_string();
    let team: Value = app
        .get(&format!("/api/v1/teams/{gid}"), Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(team["name"], json!("Platform"));
    assert_eq!(
        employee(&app, &admin, &cy).await["team_id"].to_string(),
        gid
    );

    let q = percent_encoding::utf8_percent_encode(
        r#"displayName eq "platform""#,
        percent_encoding::NON_ALPHANUMERIC,
    );
    let (_, found) = scim(&app, "GET", &format!("/Groups?filter={q}"), &token, None).await;
    assert_eq!(found["totalResults"], json!(1), "{found}");

    // Add di, then take cy out: both through the employee path, with team history.
    let (status, g) = scim(&app, "PATCH", &format!("/Groups/{gid}"), &token, Some(json!({
        "schemas": [PATCH], "Operations": [{"op": "add", "path": "members", "value": [{"value": di}]}],
    }))).await;
    assert_eq!(status, 200, "{g}");
    assert_eq!(g["members"].as_array().unwrap().len(), 2);
    assert_eq!(
        employee(&app, &admin, &di).await["team_id"].to_string(),
        gid
    );
    let (status, g) = scim(&app, "PATCH", &format!("/Groups/{gid}"), &token, Some(json!({
        "schemas": [PATCH], "Operations": [{"op": "remove", "path": format!("members[value eq \"{cy}\"]")}],
    }))).await;
    assert_eq!(status, 200, "{g}");
    assert_eq!(
        g["members"],
        json!([{"value": di, "$ref": format!("{}/scim/v2/Users/{di}", app.address)}])
    );
    assert_eq!(employee(&app, &admin, &cy).await["team_id"], Value::Null);
    let stays: Vec<(i32, Option<chrono::NaiveDate>)> = team_memberships::table
        .filter(team_memberships::employee_id.eq(cy.parse::<i32>().unwrap()))
        .select((team_memberships::team_id, team_memberships::ended_on))
        .load(&mut app.conn())
        .unwrap();
    // The stay in Old ended yesterday; the one in Platform began and ended today
    // (a same-day stay is not kept, as with any move made in Pulse).
    let yesterday = chrono::Utc::now().date_naive().pred_opt().unwrap();
    assert_eq!(stays, vec![(old_team as i32, Some(yesterday))], "{stays:?}");

    // A team with people cannot go; once empty it leaves SCIM and stays in Pulse.
    let (status, body) = scim(&app, "DELETE", &format!("/Groups/{gid}"), &token, None).await;
    assert_scim_error(status, &body, 409, None);
    let (status, g) = scim(
        &app,
        "PUT",
        &format!("/Groups/{gid}"),
        &token,
        Some(json!({
            "schemas": [GROUP], "displayName": "Platform Team", "members": [],
        })),
    )
    .await;
    assert_eq!(status, 200, "{g}");
    assert!(g.get("members").is_none());
    assert_eq!(employee(&app, &admin, &di).await["team_id"], Value::Null);
    let (status, _) = scim(&app, "DELETE", &format!("/Groups/{gid}"), &token, None).await;
    assert_eq!(status, 204);
    let (status, body) = scim(&app, "GET", &format!("/Groups/{gid}"), &token, None).await;
    assert_scim_error(status, &body, 404, None);
    let team = app.get(&format!("/api/v1/teams/{gid}"), Some(&admin)).await;
    assert_eq!(team.status(), 200);
}

/// Method, path, body, the status and scimType expected.
type Case = (
    &'static str,
    String,
    Option<Value>,
    u16,
    Option<&'static str>,
);

async fn bad_input(app: TestApp) {
    let admin = app.admin_token().await;
    let (_, token) = make_token(&app, &admin).await;
    let cases: Vec<Case> = vec![
        (
            "GET",
            "/Users?filter=userName%20eq".into(),
            None,
            400,
            Some("invalidFilter"),
        ),
        (
            "GET",
            "/Users?filter=userName%20zz%20%22a%22".into(),
            None,
            400,
            Some("invalidFilter"),
        ),
        (
            "POST",
            "/Users".into(),
            Some(json!({"schemas": [USER]})),
            400,
            Some("invalidValue"),
        ),
        (
            "POST",
            "/Users".into(),
            Some(json!({"schemas": [USER], "userName": "zed"})),
            400,
            Some("invalidValue"),
        ),
        (
            "POST",
            "/Users".into(),
            Some(
                json!({"schemas": [USER], "userName": "zed", "emails": [{"value": "not an email"}]}),
            ),
            400,
            Some("invalidValue"),
        ),
        (
            "POST",
            "/Users".into(),
            Some(json!({"schemas": [USER], "userName": "z@example.com", "active": "maybe"})),
            400,
            Some("invalidValue"),
        ),
        (
            "POST",
            "/Users".into(),
            Some(json!([1])),
            400,
            Some("invalidSyntax"),
        ),
        (
            "PATCH",
            "/Users/1".into(),
            Some(json!({"schemas": [PATCH], "Operations": [{"op": "move", "path": "a"}]})),
            400,
            Some("invalidSyntax"),
        ),
        (
            "PATCH",
            "/Users/1".into(),
            Some(json!({"schemas": [PATCH], "Operations": [{"op": "remove"}]})),
            400,
            Some("noTarget"),
        ),
        (
            "POST",
            "/Groups".into(),
            Some(json!({"schemas": [GROUP], "displayName": "X", "members": [{"value": "999"}]})),
            400,
            Some("invalidValue"),
        ),
        ("GET", "/Users/999".into(), None, 404, None),
        ("GET", "/Users/abc".into(), None, 404, None),
        ("GET", "/Nothing".into(), None, 404, None),
    ];
    for (method, path, body, status, scim_type) in cases {
        let (got, err) = scim(&app, method, &path, &token, body).await;
        assert_scim_error(got, &err, status, scim_type);
    }
    // No half-made people.
    let people: Value = app
        .get("/api/v1/employees", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(people.as_array().unwrap().len(), 1, "{people}");
}

/// The `scim2-tester` compliance checks (PyPI `scim2-tester`, `scim2-cli`) against the app.
async fn compliance_tool(app: TestApp) {
    if std::process::Command::new("scim2")
        .arg("--help")
        .output()
        .is_err()
    {
        eprintln!("skipped: the scim2 command is missing (pip install scim2-tester scim2-cli)");
        return;
    }
    let admin = app.admin_token().await;
    let (_, token) = make_token(&app, &admin).await;
    let url = app.url("/scim/v2");
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("scim2")
            .args([
                "--url",
                &url,
                "-h",
                &format!("Authorization: Bearer {token}"),
                "test",
            ])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    let count = |w: &str| text.lines().filter(|l| l.starts_with(w)).count();
    assert!(count("SUCCESS") >= 60, "too few checks ran:\n{text}");
    assert_eq!(count("ERROR"), 0, "scim2-tester found failures:\n{text}");
    assert_eq!(count("CRITICAL"), 0, "{text}");
}

/// A provisioned leaver's export shows what the provider said; erasing them
/// removes it, and they are no longer a SCIM User.
async fn export_and_erasure(app: TestApp) {
    let admin = app.admin_token().await;
    let (_, token) = make_token(&app, &admin).await;
    let (status, u) = scim(
        &app,
        "POST",
        "/Users",
        &token,
        Some(json!({
            "schemas": [USER], "userName": "eve.provisioned", "externalId": "ext-eve-77",
            "name": {"formatted": "Eve Example"}, "active": false,
            "emails": [{"value": "eve@example.com", "primary": true}],
        })),
    )
    .await;
    assert_eq!(status, 201, "{u}");
    let id = u["id"].as_str().unwrap().to_string();
    let export: Value = app
        .get(&format!("/api/v1/employees/{id}/export"), Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        export["provisioning"]["external_id"],
        json!("ext-eve-77"),
        "{export}"
    );
    // Only a past departure can be erased: HR dates it back.
    let res = app
        .patch(
            &format!("/api/v1/employees/{id}"),
            &admin,
            json!({"hired_on": "2025-01-01", "left_on": "2025-06-30"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let res = app
        .post(
            &format!("/api/v1/employees/{id}/erase"),
            Some(&admin),
            json!({"confirm_email": "eve@example.com"}),
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let (status, body) = scim(&app, "GET", &format!("/Users/{id}"), &token, None).await;
    assert_scim_error(status, &body, 404, None);
    use pulse::db::schema::scim_resources;
    let kept: Vec<(Option<String>, Option<String>, String)> = scim_resources::table
        .select((
            scim_resources::external_id,
            scim_resources::user_name,
            scim_resources::attributes,
        ))
        .load(&mut app.conn())
        .unwrap();
    assert_eq!(kept, vec![(None, None, "{}".to_string())]);
    // The erased person is in no list either.
    let (_, users) = scim(&app, "GET", "/Users", &token, None).await;
    assert_eq!(users["totalResults"], json!(1), "only HR: {users}");
}

/// HR makes and revokes tokens from the page, without the API.
async fn tokens_from_the_page(app: TestApp) {
    app.admin_token().await;
    let hr =
        crate::pages::Browser::sign_in(&app, crate::helpers::ADMIN_EMAIL, crate::helpers::PASSWORD)
            .await;
    let (status, html) = hr.page("/scim-tokens").await;
    assert_eq!(status, 200);
    assert!(
        html.contains(&format!("{}/scim/v2", app.address)),
        "the endpoint is shown"
    );
    let res = hr.post("/scim-tokens", &[("name", "")]).await;
    assert_eq!(res.status(), 422);
    let res = hr.post("/scim-tokens", &[("name", "Entra ID")]).await;
    assert_eq!(res.status(), 201);
    let html = res.text().await.unwrap();
    let at = html
        .find("class=\"recovery-code\">")
        .expect("the token is shown once")
        + 22;
    let token: String = html[at..]
        .chars()
        .take_while(|c| c.is_ascii_hexdigit())
        .collect();
    assert_eq!(token.len(), 64, "{html}");
    let (status, _) = scim(&app, "GET", "/Users", &token, None).await;
    assert_eq!(status, 200);
    let (_, html) = hr.page("/scim-tokens").await;
    assert!(!html.contains(&token), "never shown again");
    let id = html
        .split("/scim-tokens/")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .unwrap()
        .to_string();
    let res = hr.post(&format!("/scim-tokens/{id}/revoke"), &[]).await;
    assert_eq!(res.status(), 303);
    let (status, _) = scim(&app, "GET", "/Users", &token, None).await;
    assert_eq!(status, 401);
}

crate::on_both_engines!(
    tokens_from_the_page,
    export_and_erasure,
    token_lifecycle,
    users_lifecycle,
    groups_move_people,
    bad_input,
    compliance_tool,
);
