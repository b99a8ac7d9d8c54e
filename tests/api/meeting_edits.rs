//! What was written in a 1:1 can be corrected or removed by its author (an
//! action item also by its owner), with "edited" recorded; the agenda can be
//! reordered by either person; nothing else changes hands.

use crate::helpers::TestApp;
use crate::private_notes::{holds, ok, pair, send, whole_database, Pair};
use reqwest::Method;
use serde_json::{json, Value};

fn texts(list: &Value, field: &str) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|v| v[field].as_str().unwrap().to_string())
        .collect()
}

async fn authors_edit_and_delete_what_they_wrote(app: TestApp) {
    let Pair {
        lead,
        report,
        report_id,
        meeting: m,
        ..
    } = pair(&app).await;
    let agenda = format!("/api/v1/meetings/{m}/agenda");
    let mut ids = vec![];
    for (who, text) in [
        (&lead, "Wins"),
        (&lead, "Blockers"),
        (&lead, "Growth"),
        (&report, "Feedback"),
    ] {
        let item = ok(
            &app,
            Method::POST,
            &agenda,
            who,
            Some(json!({"text": text})),
        )
        .await;
        assert_eq!(item["edited_at"], Value::Null);
        ids.push(item["id"].as_i64().unwrap());
    }
    let item = |i: usize| format!("/api/v1/agenda-items/{}", ids[i]);

    // The author edits; the other person may not edit or delete it.
    let edited = ok(
        &app,
        Method::PATCH,
        &item(0),
        &lead,
        Some(json!({"text": "Wins this sprint"})),
    )
    .await;
    assert_eq!(edited["text"], "Wins this sprint");
    assert!(edited["edited_at"].is_string());
    for (method, body) in [
        (Method::PATCH, Some(json!({"text": "mine now"}))),
        (Method::DELETE, None),
    ] {
        let (status, out) = send(&app, method, &item(0), &report, body).await;
        assert_eq!(status, 403, "{out}");
    }
    let (status, out) = send(
        &app,
        Method::PATCH,
        &item(0),
        &lead,
        Some(json!({"text": "  "})),
    )
    .await;
    assert_eq!(status, 422, "{out}");
    assert!(out["fields"]["text"].is_string());
    let (status, _) = send(&app, Method::DELETE, &item(1), &lead, None).await;
    assert_eq!(status, 204);
    let (status, _) = send(&app, Method::DELETE, &item(1), &lead, None).await;
    assert_eq!(status, 404);
    // Either person reorders; the discussed flag stays either person's too.
    ok(
        &app,
        Method::PATCH,
        &item(3),
        &report,
        Some(json!({"position": 0})),
    )
    .await;
    ok(
        &app,
        Method::PATCH,
        &item(0),
        &report,
        Some(json!({"done": true})),
    )
    .await;
    let seen = ok(
        &app,
        Method::GET,
        &format!("/api/v1/meetings/{m}"),
        &report,
        None,
    )
    .await;
    assert_eq!(
        texts(&seen["agenda"], "text"),
        ["Feedback", "Wins this sprint", "Growth"]
    );
    assert_eq!(seen["agenda"][1]["done"], true);
    ok(
        &app,
        Method::PATCH,
        &item(3),
        &lead,
        Some(json!({"position": 99})),
    )
    .await;
    let seen = ok(
        &app,
        Method::GET,
        &format!("/api/v1/meetings/{m}"),
        &lead,
        None,
    )
    .await;
    assert_eq!(
        texts(&seen["agenda"], "text"),
        ["Wins this sprint", "Growth", "Feedback"]
    );

    // Notes: the author alone; another's private note does not exist for them.
    let notes = format!("/api/v1/meetings/{m}/notes");
    let shared = ok(
        &app,
        Method::POST,
        &notes,
        &lead,
        Some(json!({"body": "Roadmap agreed"})),
    )
    .await;
    let private = ok(
        &app,
        Method::POST,
        &notes,
        &lead,
        Some(json!({"body": "First draft", "private": true})),
    )
    .await;
    let note = |n: &Value| format!("/api/v1/notes/{}", n["id"]);
    let (status, _) = send(
        &app,
        Method::PATCH,
        &note(&shared),
        &report,
        Some(json!({"body": "x"})),
    )
    .await;
    assert_eq!(status, 403);
    for method in [Method::PATCH, Method::DELETE] {
        let (status, _) = send(
            &app,
            method,
            &note(&private),
            &report,
            Some(json!({"body": "x"})),
        )
        .await;
        assert_eq!(status, 404, "the report learns nothing of a private note");
    }
    let edited = ok(
        &app,
        Method::PATCH,
        &note(&private),
        &lead,
        Some(json!({"body": "Second thoughts on Kestrel"})),
    )
    .await;
    assert_eq!(
        (edited["body"].as_str(), edited["private"].as_bool()),
        (Some("Second thoughts on Kestrel"), Some(true))
    );
    assert!(edited["edited_at"].is_string());
    assert!(
        !holds(&whole_database(&app), "Kestrel"),
        "an edited private note is sealed again"
    );
    ok(
        &app,
        Method::PATCH,
        &note(&shared),
        &lead,
        Some(json!({"body": "Roadmap agreed, with dates"})),
    )
    .await;
    let seen = ok(
        &app,
        Method::GET,
        &format!("/api/v1/meetings/{m}"),
        &report,
        None,
    )
    .await;
    assert_eq!(
        texts(&seen["notes"], "body"),
        ["Roadmap agreed, with dates"]
    );
    assert!(seen["notes"][0]["edited_at"].is_string());
    let (status, _) = send(&app, Method::DELETE, &note(&private), &lead, None).await;
    assert_eq!(status, 204);
    let seen = ok(
        &app,
        Method::GET,
        &format!("/api/v1/meetings/{m}"),
        &lead,
        None,
    )
    .await;
    assert_eq!(
        texts(&seen["notes"], "body"),
        ["Roadmap agreed, with dates"]
    );

    // Actions: the author or the owner changes them; either ticks them off.
    let actions = format!("/api/v1/meetings/{m}/actions");
    let by_lead = ok(
        &app,
        Method::POST,
        &actions,
        &lead,
        Some(json!({"text": "Book the course", "owner_id": report_id})),
    )
    .await;
    let by_report = ok(
        &app,
        Method::POST,
        &actions,
        &report,
        Some(json!({"text": "Write the summary", "owner_id": report_id})),
    )
    .await;
    let action = |a: &Value| format!("/api/v1/actions/{}", a["id"]);
    let changed = ok(
        &app,
        Method::PATCH,
        &action(&by_lead),
        &report,
        Some(json!({"text": "Book the Rust course", "due_on": "2035-12-20"})),
    )
    .await;
    assert_eq!(
        (changed["text"].as_str(), changed["due_on"].as_str()),
        (Some("Book the Rust course"), Some("2035-12-20"))
    );
    assert!(changed["edited_at"].is_string());
    let cleared = ok(
        &app,
        Method::PATCH,
        &action(&by_lead),
        &lead,
        Some(json!({"due_on": null})),
    )
    .await;
    assert_eq!(cleared["due_on"], Value::Null);
    let (status, _) = send(
        &app,
        Method::PATCH,
        &action(&by_report),
        &lead,
        Some(json!({"text": "x"})),
    )
    .await;
    assert_eq!(status, 403, "neither author nor owner");
    let done = ok(
        &app,
        Method::PATCH,
        &action(&by_report),
        &lead,
        Some(json!({"done": true})),
    )
    .await;
    assert_eq!(done["done"], true);
    for (body, field) in [
        (json!({"owner_id": 999_999}), "owner_id"),
        (json!({"due_on": "2035-02-30"}), "due_on"),
        (json!({"text": ""}), "text"),
        (json!({}), "done"),
    ] {
        let (status, out) = send(&app, Method::PATCH, &action(&by_lead), &lead, Some(body)).await;
        assert_eq!(status, 422, "{out}");
        assert!(out["fields"][field].is_string(), "{out}");
    }
    let (status, _) = send(&app, Method::DELETE, &action(&by_report), &lead, None).await;
    assert_eq!(status, 403);
    let (status, _) = send(&app, Method::DELETE, &action(&by_lead), &report, None).await;
    assert_eq!(status, 204, "the owner may delete it");
    let seen = ok(
        &app,
        Method::GET,
        &format!("/api/v1/meetings/{m}"),
        &lead,
        None,
    )
    .await;
    assert_eq!(texts(&seen["actions"], "text"), ["Write the summary"]);
}

/// HR and outsiders change nothing, and learn nothing from trying.
async fn outsiders_cannot_change_meeting_items(app: TestApp) {
    let Pair {
        admin,
        lead,
        meeting: m,
        ..
    } = pair(&app).await;
    let item = ok(
        &app,
        Method::POST,
        &format!("/api/v1/meetings/{m}/agenda"),
        &lead,
        Some(json!({"text": "Wins"})),
    )
    .await;
    let note = ok(
        &app,
        Method::POST,
        &format!("/api/v1/meetings/{m}/notes"),
        &lead,
        Some(json!({"body": "Shared"})),
    )
    .await;
    for path in [
        format!("/api/v1/agenda-items/{}", item["id"]),
        format!("/api/v1/notes/{}", note["id"]),
    ] {
        for method in [Method::PATCH, Method::DELETE] {
            let (status, out) = send(
                &app,
                method,
                &path,
                &admin,
                Some(json!({"text": "x", "body": "x"})),
            )
            .await;
            assert!(status == 403 || status == 404, "{path}: {status} {out}");
            assert!(!out.to_string().contains("Shared"));
        }
    }
    let seen = ok(
        &app,
        Method::GET,
        &format!("/api/v1/meetings/{m}"),
        &lead,
        None,
    )
    .await;
    assert_eq!(texts(&seen["agenda"], "text"), ["Wins"]);
    assert_eq!(texts(&seen["notes"], "body"), ["Shared"]);
}

/// Talking points start an agenda: Pulse's own and a lead's own, added once.
async fn an_agenda_starts_from_talking_points(app: TestApp) {
    let Pair {
        lead,
        report,
        meeting: m,
        ..
    } = pair(&app).await;
    let list = ok(&app, Method::GET, "/api/v1/agenda-templates", &lead, None).await;
    let keys: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["key"].as_str().unwrap())
        .collect();
    assert!(keys.contains(&"builtin:weekly"), "{list}");
    let from = format!("/api/v1/meetings/{m}/agenda/from-template");
    let added = ok(
        &app,
        Method::POST,
        &from,
        &lead,
        Some(json!({"template": "builtin:weekly"})),
    )
    .await;
    assert_eq!(added.as_array().unwrap().len(), 4);
    let again = ok(
        &app,
        Method::POST,
        &from,
        &report,
        Some(json!({"template": "builtin:weekly"})),
    )
    .await;
    assert_eq!(
        again,
        json!([]),
        "items already on the agenda are not added twice"
    );

    let (status, out) = send(
        &app,
        Method::POST,
        "/api/v1/agenda-templates",
        &lead,
        Some(json!({"name": " ", "items": [" "]})),
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        out["fields"]["name"].is_string() && out["fields"]["items"].is_string(),
        "{out}"
    );
    let mine = ok(
        &app,
        Method::POST,
        "/api/v1/agenda-templates",
        &lead,
        Some(json!({"name": "Quarterly check-in", "items": ["Goals", "", "Wellbeing"]})),
    )
    .await;
    assert_eq!(
        (mine["own"].as_bool(), mine["items"].clone()),
        (Some(true), json!(["Goals", "Wellbeing"]))
    );
    let key = mine["key"].as_str().unwrap().to_string();
    // Another person's template is not theirs to use or delete.
    let (status, _) = send(
        &app,
        Method::POST,
        &from,
        &report,
        Some(json!({"template": key})),
    )
    .await;
    assert_eq!(status, 422);
    let (status, _) = send(
        &app,
        Method::DELETE,
        &format!("/api/v1/agenda-templates/{key}"),
        &report,
        None,
    )
    .await;
    assert_eq!(status, 404);
    ok(
        &app,
        Method::POST,
        &from,
        &lead,
        Some(json!({"template": key})),
    )
    .await;
    let seen = ok(
        &app,
        Method::GET,
        &format!("/api/v1/meetings/{m}"),
        &report,
        None,
    )
    .await;
    assert_eq!(
        texts(&seen["agenda"], "text"),
        [
            "Wins since we last met",
            "Blockers",
            "Growth and learning",
            "Feedback, both ways",
            "Goals",
            "Wellbeing"
        ]
    );
    let (status, _) = send(
        &app,
        Method::DELETE,
        &format!("/api/v1/agenda-templates/{key}"),
        &lead,
        None,
    )
    .await;
    assert_eq!(status, 204);
    let list = ok(&app, Method::GET, "/api/v1/agenda-templates", &lead, None).await;
    assert!(!list.to_string().contains("Quarterly check-in"));
}

crate::on_both_engines!(
    an_agenda_starts_from_talking_points,
    authors_edit_and_delete_what_they_wrote,
    outsiders_cannot_change_meeting_items,
);
