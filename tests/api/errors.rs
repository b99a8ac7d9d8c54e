//! Malformed input of every kind gets a 4xx in the contract's error shape, never a 500.

use crate::helpers::TestApp;
use serde_json::{json, Value};

async fn malformed_requests_get_clear_errors(app: TestApp) {
    let admin = app.admin_token().await;
    let send = |method: reqwest::Method, path: &str, ctype: &str, body: Vec<u8>| {
        app.api
            .request(method, app.url(path))
            .bearer_auth(&admin)
            .header("content-type", ctype)
            .body(body)
            .send()
    };
    let cases: Vec<(reqwest::Method, &str, &str, Vec<u8>, u16)> = vec![
        (
            reqwest::Method::POST,
            "/api/v1/teams",
            "application/json",
            b"{not json".to_vec(),
            400,
        ),
        (
            reqwest::Method::POST,
            "/api/v1/teams",
            "application/json",
            b"[]".to_vec(),
            400,
        ),
        (
            reqwest::Method::POST,
            "/api/v1/teams",
            "application/json",
            br#"{"name": 5}"#.to_vec(),
            400,
        ),
        (
            reqwest::Method::POST,
            "/api/v1/teams",
            "text/plain",
            br#"{"name":"x"}"#.to_vec(),
            400,
        ),
        (
            reqwest::Method::POST,
            "/api/v1/employees",
            "application/json",
            br#"{"email":"a@b.co","name":"A","hired_on":"2024-01-01","team_id":"x"}"#.to_vec(),
            400,
        ),
        (
            reqwest::Method::POST,
            "/api/v1/employees",
            "application/json",
            br#"{"email":"a@b.co","name":"A","hired_on":"2024-01-01","team_id":99999999999}"#
                .to_vec(),
            400,
        ),
        (
            reqwest::Method::PATCH,
            "/api/v1/employees/abc",
            "application/json",
            b"{}".to_vec(),
            404,
        ),
        (
            reqwest::Method::PATCH,
            "/api/v1/employees/424242",
            "application/json",
            b"{}".to_vec(),
            404,
        ),
        (
            reqwest::Method::GET,
            "/api/v1/nothing-here",
            "application/json",
            vec![],
            404,
        ),
        (
            reqwest::Method::POST,
            "/api/v1/teams",
            "application/json",
            vec![b' '; 2 << 20],
            413,
        ),
        (
            reqwest::Method::POST,
            "/api/v1/employees/import",
            "text/csv",
            vec![b'a'; 21 << 20],
            413,
        ),
        (
            reqwest::Method::POST,
            "/api/v1/employees/import",
            "text/csv",
            vec![0xff, 0xfe, 0x00],
            422,
        ),
        (
            reqwest::Method::POST,
            "/api/v1/auth/login",
            "application/json",
            br#"{"email":"x"}"#.to_vec(),
            400,
        ),
    ];
    for (method, path, ctype, body, expected) in cases {
        let res = send(method.clone(), path, ctype, body).await.unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        assert_eq!(status, expected, "{method} {path}: {text}");
        let body: Value = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("{method} {path} did not answer JSON: {text}"));
        assert!(
            body["error"].is_string() && body["message"].is_string(),
            "{body}"
        );
    }
}

/// Every endpoint of the contract is in the OpenAPI document, with its method.
async fn openapi_describes_every_endpoint(app: TestApp) {
    let doc: Value = app
        .get("/api/v1/openapi.json", None)
        .await
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let expected = [
        ("get", "/healthz"),
        ("post", "/api/v1/auth/login"),
        ("post", "/api/v1/auth/logout"),
        ("post", "/api/v1/teams"),
        ("get", "/api/v1/teams"),
        ("patch", "/api/v1/teams/{id}"),
        ("post", "/api/v1/employees"),
        ("get", "/api/v1/employees"),
        ("get", "/api/v1/employees/{id}"),
        ("patch", "/api/v1/employees/{id}"),
        ("post", "/api/v1/employees/import"),
        ("post", "/api/v1/surveys"),
        ("get", "/api/v1/surveys"),
        ("get", "/api/v1/surveys/{id}"),
        ("patch", "/api/v1/surveys/{id}"),
        ("post", "/api/v1/surveys/{id}/rounds"),
        ("get", "/api/v1/surveys/{id}/rounds"),
        ("post", "/api/v1/responses"),
        ("get", "/api/v1/reports/enps"),
        ("get", "/api/v1/reports/enps/teams"),
        ("get", "/api/v1/reports/turnover"),
        ("get", "/api/v1/reports/enps.csv"),
        ("get", "/api/v1/reports/turnover.csv"),
        ("get", "/api/v1/audit"),
        ("get", "/api/v1/audit.csv"),
        ("get", "/metrics"),
        ("post", "/api/v1/webhooks"),
        ("get", "/api/v1/webhooks"),
        ("delete", "/api/v1/webhooks/{id}"),
        ("get", "/api/v1/questions"),
        ("post", "/api/v1/questions"),
        ("patch", "/api/v1/questions/{id}"),
        ("get", "/api/v1/templates"),
    ];
    for (method, path) in expected {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} missing from the OpenAPI document"
        );
    }
    // Schemas referenced by the document exist.
    let text = doc.to_string();
    for r in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = r.split('"').next().unwrap();
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "schema {name} is referenced but not defined"
        );
    }
}

/// A NUL character is refused with a 422 naming the field, the same on both
/// engines (PostgreSQL cannot store it), wherever text comes in: a query, a
/// sign-in, a survey, an answer through the API or the form.
async fn nul_characters_are_refused_with_the_field(app: TestApp) {
    use crate::surveys::{create_survey, link_path, people, read_email, weekly};
    let admin = app.admin_token().await;
    let field_error = |body: &Value, field: &str| {
        body["error"] == "validation_failed"
            && body["fields"][field]
                .as_str()
                .is_some_and(|m| m.contains("NUL"))
    };

    let res = app.get("/api/v1/employees?q=%00", Some(&admin)).await;
    assert_eq!(res.status(), 422);
    assert!(field_error(&res.json().await.unwrap(), "q"));

    let res = app
        .post(
            "/api/v1/auth/login",
            None,
            serde_json::json!({"email": "hr\u{0}@example.com", "password": "whatever it is"}),
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(field_error(&res.json().await.unwrap(), "email"));

    let (team, _) = people(&app, &admin).await;
    let mut body = weekly(team);
    body["title"] = Value::from("Weekly\u{0} pulse");
    let res = app.post("/api/v1/surveys", Some(&admin), body).await;
    assert_eq!(res.status(), 422);
    assert!(field_error(&res.json().await.unwrap(), "title"));

    let (survey, q) = create_survey(&app, &admin, weekly(team)).await;
    let round = app
        .post(
            &format!("/api/v1/surveys/{}/rounds", survey["id"]),
            Some(&admin),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(round.status(), 201);
    app.tick(&chrono::Utc::now().to_rfc3339()).await;
    let link = link_path(&read_email(&app.emails()[0]).2);
    let token = link.trim_start_matches("/s/").to_string();
    let answer = serde_json::json!({"token": token, "answers": [
        {"question_id": q[0], "score": 9}, {"question_id": q[1], "score": 4},
        {"question_id": q[2], "choice": "Home"}, {"question_id": q[3], "text": "fine\u{0}"}]});
    let res = app.post("/api/v1/responses", None, answer).await;
    assert_eq!(res.status(), 422);
    assert!(field_error(&res.json().await.unwrap(), "answers[3].text"));

    let (q0, q1, q2, q3) = (
        format!("q{}", q[0]),
        format!("q{}", q[1]),
        format!("q{}", q[2]),
        format!("q{}", q[3]),
    );
    let res = app
        .api
        .post(app.url(&link))
        .form(&[
            (q0.as_str(), "9"),
            (q1.as_str(), "4"),
            (q2.as_str(), "Home"),
            (q3.as_str(), "a\u{0}b"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains(&q3));

    // Nothing of it was stored, and the link still takes a clean answer.
    let res = app
        .api
        .post(app.url(&link))
        .form(&[
            (q0.as_str(), "9"),
            (q1.as_str(), "4"),
            (q2.as_str(), "Home"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

/// A method a path does not take gets 405 with the methods it does take, in
/// the API's error shape under /api; an unknown path is still a 404.
async fn undeclared_methods_get_405_with_allow(app: TestApp) {
    let admin = app.admin_token().await;
    let allow = |res: &reqwest::Response| {
        let mut methods: Vec<String> = res.headers()["allow"]
            .to_str()
            .unwrap()
            .split(',')
            .map(|m| m.trim().to_string())
            .collect();
        methods.sort();
        methods.join(",")
    };
    for (method, path, allowed) in [
        (reqwest::Method::DELETE, "/api/v1/teams", "GET,POST"),
        (reqwest::Method::PUT, "/api/v1/employees/1", "GET,PATCH"),
        (reqwest::Method::GET, "/api/v1/employees/import", "POST"),
        (reqwest::Method::GET, "/api/v1/auth/login", "POST"),
        (reqwest::Method::DELETE, "/api/v1/meetings/1", "GET,PATCH"),
    ] {
        let res = app
            .api
            .request(method.clone(), app.url(path))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 405, "{method} {path}");
        assert_eq!(allow(&res), allowed, "{method} {path}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], "method_not_allowed", "{body}");
    }
    let res = app
        .api
        .request(reqwest::Method::DELETE, app.url("/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
    assert_eq!(allow(&res), "GET,POST");
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("DELETE /login is not supported"));
    assert_eq!(
        app.get("/api/v1/nothing-here", Some(&admin)).await.status(),
        404
    );
    assert_eq!(app.get("/nothing-here", None).await.status(), 404);
}

/// The document says what clients and fuzzers would otherwise guess: the refusals
/// each operation can give, paging bounds, formats, and a public `/healthz`.
async fn openapi_declares_refusals_bounds_and_formats(app: TestApp) {
    let doc: Value = app
        .get("/api/v1/openapi.json", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(doc["paths"]["/healthz"]["get"]["security"], json!([{}]));
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let codes = op["responses"].as_object().unwrap();
            for code in ["400", "422", "503"] {
                assert!(codes.contains_key(code), "{method} {path} lacks {code}");
            }
            if path.contains('{') {
                assert!(codes.contains_key("404"), "{method} {path} lacks 404");
            }
            if method != "get" {
                assert!(codes.contains_key("413"), "{method} {path} lacks 413");
            }
            if path.starts_with("/api/v1/reports") || path.starts_with("/api/v1/teams") {
                assert!(
                    codes.contains_key("401") && codes.contains_key("403"),
                    "{method} {path}"
                );
            }
        }
    }
    assert!(doc["paths"]["/api/v1/auth/login"]["post"]["responses"]["429"].is_object());
    let params = doc["paths"]["/api/v1/employees"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let param = |name: &str| params.iter().find(|p| p["name"] == name).unwrap()["schema"].clone();
    assert_eq!(param("page")["minimum"], 1);
    assert_eq!(
        (
            param("per_page")["minimum"].clone(),
            param("per_page")["maximum"].clone()
        ),
        (json!(1), json!(1000))
    );
    let params = doc["paths"]["/api/v1/reports/enps"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let from = params.iter().find(|p| p["name"] == "from").unwrap();
    assert_eq!(from["schema"]["format"], "date");
    let group_by = params.iter().find(|p| p["name"] == "group_by").unwrap();
    assert_eq!(group_by["schema"]["pattern"], "^(round|month|quarter)$");
}

crate::on_both_engines!(
    malformed_requests_get_clear_errors,
    openapi_describes_every_endpoint,
    openapi_declares_refusals_bounds_and_formats,
    nul_characters_are_refused_with_the_field,
    undeclared_methods_get_405_with_allow,
);
