//! Teams and employees: creation, validation, changes, departures and paging.

use crate::helpers::TestApp;
use serde_json::{json, Value};

async fn teams_form_a_tree_without_loops_or_twins(app: TestApp) {
    let admin = app.admin_token().await;
    let eng = app.team(&admin, json!({"name": "Engineering"})).await;
    let platform = app
        .team(&admin, json!({"name": "Platform", "parent_id": eng}))
        .await;

    let twin = app
        .post(
            "/api/v1/teams",
            Some(&admin),
            json!({"name": "Platform", "parent_id": eng}),
        )
        .await;
    assert_eq!(twin.status(), 409);
    // The same name elsewhere in the tree is fine.
    app.team(&admin, json!({"name": "Platform"})).await;

    let looped = app
        .patch(
            &format!("/api/v1/teams/{eng}"),
            &admin,
            json!({"parent_id": platform}),
        )
        .await;
    assert_eq!(looped.status(), 422);
    assert!(looped.json::<Value>().await.unwrap()["fields"]["parent_id"]
        .as_str()
        .unwrap()
        .contains("under itself"));

    let bad = app
        .post(
            "/api/v1/teams",
            Some(&admin),
            json!({"name": " ", "parent_id": 9999, "lead_id": 9999}),
        )
        .await;
    assert_eq!(bad.status(), 422);
    let body: Value = bad.json().await.unwrap();
    for field in ["name", "parent_id", "lead_id"] {
        assert!(
            body["fields"][field].is_string(),
            "{field} not reported in {body}"
        );
    }

    let renamed: Value = app
        .patch(
            &format!("/api/v1/teams/{platform}"),
            &admin,
            json!({"name": "Core", "parent_id": null}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(renamed["name"], "Core");
    assert_eq!(renamed["parent_id"], Value::Null);
    let all: Value = app
        .get("/api/v1/teams", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all.as_array().unwrap().len(), 3);
}

async fn employees_are_validated_and_unique_by_email(app: TestApp) {
    let admin = app.admin_token().await;
    let team = app.team(&admin, json!({"name": "Sales"})).await;
    let res = app
        .post("/api/v1/employees", Some(&admin), json!({"email": "Ana.Lima@Example.com", "name": "Ana Lima", "team_id": team, "hired_on": "2024-03-01", "locale": "fr-FR"}))
        .await;
    assert_eq!(res.status(), 201);
    let ana: Value = res.json().await.unwrap();
    assert_eq!(ana["email"], "ana.lima@example.com");
    assert_eq!(ana["role"], "member");
    assert_eq!(ana["locale"], "fr");
    assert_eq!(ana["has_password"], false);
    assert!(ana.get("password_hash").is_none());

    let dup = app
        .post(
            "/api/v1/employees",
            Some(&admin),
            json!({"email": "ANA.LIMA@example.com", "name": "Other", "hired_on": "2024-01-01"}),
        )
        .await;
    assert_eq!(dup.status(), 409);
    assert_eq!(
        dup.json::<Value>().await.unwrap()["error"],
        "duplicate_email"
    );

    let bad = app
        .post("/api/v1/employees", Some(&admin), json!({"email": "nope", "name": "", "hired_on": "01/03/2024", "role": "boss", "team_id": 777, "password": "short"}))
        .await;
    assert_eq!(bad.status(), 422);
    let body: Value = bad.json().await.unwrap();
    assert_eq!(body["error"], "validation_failed");
    for field in ["email", "name", "hired_on", "role", "team_id", "password"] {
        assert!(
            body["fields"][field].is_string(),
            "{field} not reported in {body}"
        );
    }
    assert!(body["fields"]["hired_on"]
        .as_str()
        .unwrap()
        .contains("YYYY-MM-DD"));
    let missing = app
        .post(
            "/api/v1/employees",
            Some(&admin),
            json!({"email": "x@example.com", "name": "X"}),
        )
        .await;
    assert_eq!(missing.status(), 422);

    // Nothing half-written: still just the admin and Ana.
    let all: Value = app
        .get("/api/v1/employees", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all.as_array().unwrap().len(), 2);
}

async fn departures_and_managers_follow_the_rules(app: TestApp) {
    let admin = app.admin_token().await;
    let boss = app
        .employee(
            &admin,
            json!({"email": "boss@example.com", "name": "Boss", "hired_on": "2020-01-01"}),
        )
        .await;
    let ana = app
        .employee(
            &admin,
            json!({"email": "ana@example.com", "name": "Ana", "hired_on": "2024-03-01", "manager_id": boss}),
        )
        .await;
    let path = format!("/api/v1/employees/{ana}");

    let before = app
        .patch(&path, &admin, json!({"left_on": "2024-02-01"}))
        .await;
    assert_eq!(before.status(), 422);
    let no_date = app
        .patch(&path, &admin, json!({"leave_reason": "voluntary"}))
        .await;
    assert_eq!(no_date.status(), 422);
    let loop_ = app
        .patch(
            &format!("/api/v1/employees/{boss}"),
            &admin,
            json!({"manager_id": ana}),
        )
        .await;
    assert_eq!(loop_.status(), 422);
    let unknown_field = app
        .patch(&path, &admin, json!({"left": "2025-01-01"}))
        .await;
    assert_eq!(unknown_field.status(), 400);
    assert!(unknown_field.json::<Value>().await.unwrap()["message"]
        .as_str()
        .unwrap()
        .contains("unknown field"));

    let left: Value = app
        .patch(
            &path,
            &admin,
            json!({"left_on": "2025-06-30", "leave_reason": "voluntary", "regretted": true}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(left["left_on"], "2025-06-30");
    assert_eq!(left["leave_reason"], "voluntary");
    assert_eq!(left["regretted"], true);
    // Undoing the departure clears what described it.
    let back: Value = app
        .patch(&path, &admin, json!({"left_on": null}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(back["left_on"], Value::Null);
    assert_eq!(back["leave_reason"], Value::Null);
    assert_eq!(back["regretted"], false);
    // Absent fields are left alone; null clears.
    let cleared: Value = app
        .patch(&path, &admin, json!({"manager_id": null}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(cleared["manager_id"], Value::Null);
    assert_eq!(cleared["name"], "Ana");

    // HR cannot lock itself out.
    let me: Value = app
        .get("/api/v1/employees?q=hr@", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let me = me[0]["id"].as_i64().unwrap();
    let demote = app
        .patch(
            &format!("/api/v1/employees/{me}"),
            &admin,
            json!({"role": "member"}),
        )
        .await;
    assert_eq!(demote.status(), 409);
    assert_eq!(
        app.patch(
            &format!("/api/v1/employees/{ana}"),
            &admin,
            json!({"role": "admin"})
        )
        .await
        .status(),
        200
    );
    assert_eq!(
        app.patch(
            &format!("/api/v1/employees/{me}"),
            &admin,
            json!({"role": "member"})
        )
        .await
        .status(),
        200
    );
}

async fn lists_are_paged_with_a_next_link(app: TestApp) {
    let admin = app.admin_token().await;
    for i in 0..4 {
        app.employee(&admin, json!({"email": format!("p{i}@example.com"), "name": format!("Person {i}"), "hired_on": "2024-01-01"})).await;
    }
    let first = app
        .get("/api/v1/employees?per_page=2&q=person", Some(&admin))
        .await;
    let link = first.headers()["link"].to_str().unwrap().to_string();
    assert!(
        link.contains("page=2")
            && link.contains("per_page=2")
            && link.contains("q=person")
            && link.contains("rel=\"next\""),
        "{link}"
    );
    let names: Value = first.json().await.unwrap();
    assert_eq!(names.as_array().unwrap().len(), 2);
    let last = app
        .get("/api/v1/employees?per_page=2&page=2&q=person", Some(&admin))
        .await;
    assert!(last.headers().get("link").is_none());
    let page2: Value = last.json().await.unwrap();
    assert_eq!(page2[1]["name"], "Person 3");
    assert_eq!(
        app.get("/api/v1/employees?per_page=5000", Some(&admin))
            .await
            .status(),
        422
    );
    assert_eq!(
        app.get("/api/v1/employees?page=0", Some(&admin))
            .await
            .status(),
        422
    );
    assert_eq!(
        app.get("/api/v1/employees?page=abc", Some(&admin))
            .await
            .status(),
        400
    );
}

/// An address pasted with a byte-order mark or a zero-width space is the same
/// person, not a look-alike account; a date out of any working life is refused.
async fn look_alike_emails_and_impossible_dates_are_refused(app: TestApp) {
    let admin = app.admin_token().await;
    let res = app
        .post(
            "/api/v1/employees",
            Some(&admin),
            json!({"email": "\u{FEFF}HR@example.com", "name": "Twin", "hired_on": "2024-01-01"}),
        )
        .await;
    assert_eq!(res.status(), 409);
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"],
        "duplicate_email"
    );

    let res = app
        .post(
            "/api/v1/employees",
            Some(&admin),
            json!({"email": " ana\u{200B}@example.com\u{2060} ", "name": "Ana", "hired_on": "2024-01-01"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    assert_eq!(
        res.json::<Value>().await.unwrap()["email"],
        "ana@example.com"
    );
    let res = app
        .post_csv(&admin, "email,name\n\u{FEFF}ana@example.com,Ana\n")
        .await;
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"created": 0, "updated": 0, "unchanged": 1})
    );
    // Signing in with the pasted form finds the account too.
    let res = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": "\u{FEFF}hr@example.com", "password": crate::helpers::PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), 200);

    for day in ["0000-01-01", "1899-12-31", "2201-01-01"] {
        let res = app
            .post(
                "/api/v1/employees",
                Some(&admin),
                json!({"email": "old@example.com", "name": "Old", "hired_on": day}),
            )
            .await;
        assert_eq!(res.status(), 422, "{day}");
        let body: Value = res.json().await.unwrap();
        assert!(
            body["fields"]["hired_on"]
                .as_str()
                .unwrap()
                .contains("between 1900-01-01 and 2200-12-31"),
            "{body}"
        );
        let res = app
            .post_csv(
                &admin,
                &format!("email,name,hired_on\nold@example.com,Old,{day}\n"),
            )
            .await;
        assert_eq!(res.status(), 422);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["errors"][0]["column"], "hired_on", "{body}");
    }
}

crate::on_both_engines!(
    teams_form_a_tree_without_loops_or_twins,
    employees_are_validated_and_unique_by_email,
    departures_and_managers_follow_the_rules,
    lists_are_paged_with_a_next_link,
    look_alike_emails_and_impossible_dates_are_refused,
);
