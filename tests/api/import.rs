//! CSV import: spreadsheet dialects, idempotent re-import, and all-or-nothing errors.

use crate::helpers::TestApp;
use serde_json::{json, Value};

/// As a French-locale spreadsheet exports it: BOM, semicolons, quoted cells,
/// columns in its own order, a manager listed after their report.
const SPREADSHEET: &str =
    "\u{FEFF}name;email;team;manager_email;role;hired_on;left_on;leave_reason;regretted\r\n\
\"Lima, Ana\";ana@example.com;Engineering/Platform;zoe@example.com;member;2024-03-01;;;\r\n\
Bo Berg;bo@example.com;Engineering/Platform;zoe@example.com;;2023-05-10;2025-02-28;voluntary;yes\r\n\
Zoé Martin;ZOE@example.com;Engineering;;lead;2021-01-04;;;\r\n\
Sam Sales;sam@example.com;Sales;hr@example.com;member;2022-09-01;;;\r\n";

async fn imports_a_spreadsheet_and_reimports_it_unchanged(app: TestApp) {
    let admin = app.admin_token().await;
    let res = app.post_csv(&admin, SPREADSHEET).await;
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"created": 4, "updated": 0, "unchanged": 0}));

    let teams: Value = app
        .get("/api/v1/teams", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let team = |name: &str| {
        teams
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(team("Platform")["parent_id"], team("Engineering")["id"]);
    assert_eq!(team("Sales")["parent_id"], Value::Null);

    let people: Value = app
        .get("/api/v1/employees?per_page=10", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let person = |email: &str| {
        people
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["email"] == email)
            .unwrap()
            .clone()
    };
    assert_eq!(person("ana@example.com")["name"], "Lima, Ana");
    assert_eq!(
        person("ana@example.com")["manager_id"],
        person("zoe@example.com")["id"]
    );
    assert_eq!(
        person("sam@example.com")["manager_id"],
        person("hr@example.com")["id"]
    );
    assert_eq!(person("bo@example.com")["left_on"], "2025-02-28");
    assert_eq!(person("bo@example.com")["regretted"], true);
    assert_eq!(person("zoe@example.com")["role"], "lead");

    let again: Value = app
        .post_csv(&admin, SPREADSHEET)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again, json!({"created": 0, "updated": 0, "unchanged": 4}));

    let changed = SPREADSHEET.replace(
        "Sam Sales;sam@example.com;Sales",
        "Sam Sales;sam@example.com;Engineering",
    );
    let third: Value = app.post_csv(&admin, &changed).await.json().await.unwrap();
    assert_eq!(third, json!({"created": 0, "updated": 1, "unchanged": 3}));

    // Comma-separated with only the two required columns works as well.
    let plain: Value = app
        .post_csv(&admin, "email,name\nnew@example.com,New Person\n")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(plain, json!({"created": 1, "updated": 0, "unchanged": 0}));
}

async fn a_bad_file_lists_every_bad_line_and_writes_nothing(app: TestApp) {
    let admin = app.admin_token().await;
    let file = "email,name,team,manager_email,hired_on\n\
                ok@example.com,Okay,NewTeam,,2024-01-01\n\
                broken,,NewTeam,,2024-13-01\n\
                two@example.com,Two,NewTeam,ghost@example.com,2024-01-01\n";
    let res = app.post_csv(&admin, file).await;
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "invalid_csv");
    let lines: Vec<(i64, String)> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["line"].as_i64().unwrap(),
                e["column"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        vec![
            (3, "email".into()),
            (3, "name".into()),
            (3, "hired_on".into())
        ]
    );

    // Once the format is right, unknown managers are reported too.
    let res = app
        .post_csv(
            &admin,
            &file.replace(
                "broken,,NewTeam,,2024-13-01",
                "fine@example.com,Fine,NewTeam,,2024-01-01",
            ),
        )
        .await;
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["errors"][0]["line"], 4);
    assert_eq!(body["errors"][0]["column"], "manager_email");

    let people: Value = app
        .get("/api/v1/employees", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        people.as_array().unwrap().len(),
        1,
        "only the admin: nothing was written"
    );
    let teams: Value = app
        .get("/api/v1/teams", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(teams, json!([]), "no team created either");

    let header = app.post_csv(&admin, "mail,name\nx@example.com,X\n").await;
    assert_eq!(header.status(), 422);
    assert!(
        header.json::<Value>().await.unwrap()["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("unknown column")
    );
}

async fn import_needs_an_admin(app: TestApp) {
    let admin = app.admin_token().await;
    app.employee(&admin, json!({"email": "m@example.com", "name": "M", "hired_on": "2024-01-01", "password": crate::helpers::PASSWORD})).await;
    let member = app.login("m@example.com", crate::helpers::PASSWORD).await;
    assert_eq!(
        app.post_csv(&member, "email,name\na@example.com,A\n")
            .await
            .status(),
        403
    );
}

/// The import keeps an admin by the API's rule: a file that demotes the last
/// admin, or records their departure, is refused on that line (422, as every
/// other bad line of a file) and writes nothing.
async fn an_import_cannot_remove_the_last_admin(app: TestApp) {
    let admin = app.admin_token().await;
    for (file, column) in [
        (
            "email,name,role\nsam@example.com,Sam,member\nhr@example.com,Hana HR,member\n",
            "role",
        ),
        (
            "email,name,left_on\nsam@example.com,Sam,\nhr@example.com,Hana HR,2099-01-31\n",
            "left_on",
        ),
    ] {
        let res = app.post_csv(&admin, file).await;
        let status = res.status();
        let body: Value = res.json().await.unwrap();
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["error"], "invalid_csv");
        assert_eq!(body["errors"][0]["line"], 3, "{body}");
        assert_eq!(body["errors"][0]["column"], column, "{body}");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("last admin"),
            "{body}"
        );
        let people: Value = app
            .get("/api/v1/employees", Some(&admin))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(people.as_array().unwrap().len(), 1, "nothing was written");
        assert_eq!(people[0]["role"], "admin");
        assert_eq!(people[0]["left_on"], Value::Null);
    }
    // Handing the role over in the same file is fine.
    let res = app
        .post_csv(
            &admin,
            "email,name,role\nhr@example.com,Hana HR,member\nnew.hr@example.com,New HR,admin\n",
        )
        .await;
    assert_eq!(res.status(), 200);
}

/// A team path deeper than 16 levels, or a cell longer than any real value,
/// is a bad cell of its line: refused at once, whatever its size.
async fn deep_team_paths_and_long_cells_are_refused_on_their_line(app: TestApp) {
    let admin = app.admin_token().await;
    let huge = vec!["T"; 262_144].join("/");
    let seventeen = vec!["T"; 17].join("/");
    let file = format!(
        "email,name,team\na@example.com,A,{huge}\nb@example.com,B,{seventeen}\nc@example.com,{},Ops\n",
        "n".repeat(201)
    );
    let res = app.post_csv(&admin, &file).await;
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(status, 422, "{body}");
    let found: Vec<(i64, &str)> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["line"].as_i64().unwrap(), e["column"].as_str().unwrap()))
        .collect();
    assert_eq!(found, vec![(2, "team"), (3, "team"), (4, "name")], "{body}");
    assert!(body["errors"][1]["message"]
        .as_str()
        .unwrap()
        .contains("at most 16"));

    let sixteen = vec!["T"; 16].join("/");
    let res = app
        .post_csv(
            &admin,
            &format!("email,name,team\na@example.com,A,{sixteen}\n"),
        )
        .await;
    assert_eq!(res.status(), 200);
    let teams: Value = app
        .get("/api/v1/teams", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(teams.as_array().unwrap().len(), 16);
}

crate::on_both_engines!(
    imports_a_spreadsheet_and_reimports_it_unchanged,
    a_bad_file_lists_every_bad_line_and_writes_nothing,
    import_needs_an_admin,
    an_import_cannot_remove_the_last_admin,
    deep_team_paths_and_long_cells_are_refused_on_their_line,
);
