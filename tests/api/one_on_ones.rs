//! 1:1s end to end: series, meetings, agendas, private notes, carried actions,
//! reminders with .ics invites, the access rules for every role, and account invitations.

use crate::helpers::{TestApp, PASSWORD};
use chrono::{DateTime, Utc};
use icalendar::{CalendarDateTime, Component, DatePerhapsTime};
use reqwest::Method;
use serde_json::{json, Value};

/// Who plays in these tests: HR, a manager, their report, and two outsiders.
struct Cast {
    admin: String,
    manager: String,
    report: String,
    lead: String,
    member: String,
    manager_id: i64,
    report_id: i64,
    member_id: i64,
}

async fn cast(app: &TestApp) -> Cast {
    let admin = app.admin_token().await;
    let person = |email: &str, name: &str, extra: Value| {
        let mut body =
            json!({"email": email, "name": name, "hired_on": "2024-01-01", "password": PASSWORD});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let manager_id = app
        .employee(
            &admin,
            person("mia@example.com", "Mia Manager", json!({"role": "lead"})),
        )
        .await;
    let report_id = app
        .employee(
            &admin,
            person(
                "remi@example.com",
                "Rémi Report",
                json!({"manager_id": manager_id, "locale": "fr"}),
            ),
        )
        .await;
    app.employee(
        &admin,
        person("lou@example.com", "Lou Lead", json!({"role": "lead"})),
    )
    .await;
    let member_id = app
        .employee(
            &admin,
            person(
                "max@example.com",
                "Max Member",
                json!({"manager_id": manager_id}),
            ),
        )
        .await;
    Cast {
        manager: app.login("mia@example.com", PASSWORD).await,
        report: app.login("remi@example.com", PASSWORD).await,
        lead: app.login("lou@example.com", PASSWORD).await,
        member: app.login("max@example.com", PASSWORD).await,
        admin,
        manager_id,
        report_id,
        member_id,
    }
}

fn biweekly(c: &Cast) -> Value {
    json!({"manager_id": c.manager_id, "report_id": c.report_id, "cadence": "biweekly",
           "starts_on": "2035-12-04", "time": "10:00", "timezone": "Europe/Paris",
           "duration_minutes": 30})
}

async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = app.api.request(method, app.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn ok(app: &TestApp, method: Method, path: &str, token: &str, body: Option<Value>) -> Value {
    let (status, body) = send(app, method.clone(), path, Some(token), body).await;
    assert!(
        (200..300).contains(&status),
        "{method} {path}: {status} {body}"
    );
    body
}

async fn series(app: &TestApp, token: &str, body: Value) -> Value {
    ok(app, Method::POST, "/api/v1/one-on-ones", token, Some(body)).await
}

async fn meetings(app: &TestApp, token: &str, series_id: &Value) -> Vec<Value> {
    let list = ok(
        app,
        Method::GET,
        &format!("/api/v1/one-on-ones/{series_id}/meetings"),
        token,
        None,
    )
    .await;
    list.as_array().unwrap().clone()
}

/// An email as a person sees it: recipient, subject, text and the calendar invite if any.
struct Mail {
    to: String,
    subject: String,
    text: String,
    calendar: Option<(String, icalendar::Calendar)>,
}

fn calendar_part(part: &mailparse::ParsedMail) -> Option<(String, String)> {
    if part.ctype.mimetype == "text/calendar" {
        let method = part.ctype.params.get("method").cloned().unwrap_or_default();
        return Some((method, part.get_body().unwrap()));
    }
    part.subparts.iter().find_map(calendar_part)
}

fn text_part(part: &mailparse::ParsedMail) -> Option<String> {
    if part.ctype.mimetype == "text/plain" {
        return Some(part.get_body().unwrap());
    }
    part.subparts.iter().find_map(text_part)
}

fn mails(app: &TestApp) -> Vec<Mail> {
    app.emails()
        .iter()
        .map(|raw| {
            let mail = mailparse::parse_mail(raw.as_bytes()).unwrap();
            let header = |name: &str| {
                mail.headers
                    .iter()
                    .find(|h| h.get_key().eq_ignore_ascii_case(name))
                    .map(|h| h.get_value())
                    .unwrap_or_default()
            };
            Mail {
                to: header("To"),
                subject: header("Subject"),
                text: text_part(&mail).unwrap_or_default(),
                calendar: calendar_part(&mail).map(|(method, ics)| (method, ics.parse().unwrap())),
            }
        })
        .collect()
}

fn start_of(cal: &icalendar::Calendar) -> DateTime<Utc> {
    match cal.events().next().unwrap().get_start().unwrap() {
        DatePerhapsTime::DateTime(CalendarDateTime::Utc(t)) => t,
        DatePerhapsTime::DateTime(CalendarDateTime::WithTimezone { date_time, tzid }) => {
            let tz: chrono_tz::Tz = tzid.parse().unwrap();
            date_time
                .and_local_timezone(tz)
                .single()
                .unwrap()
                .with_timezone(&Utc)
        }
        other => panic!("unexpected DTSTART {other:?}"),
    }
}

async fn a_biweekly_series_from_agenda_to_calendar(app: TestApp) {
    let c = cast(&app).await;
    let s = series(&app, &c.manager, biweekly(&c)).await;
    let sid = s["id"].clone();
    assert_eq!(s["status"], "active");
    assert_eq!(s["report"]["name"], "Rémi Report");
    // 10:00 in Paris is 09:00 UTC in winter.
    assert_eq!(
        s["next_meeting"]["starts_at"], "2035-12-04T09:00:00Z",
        "{s}"
    );
    assert_eq!(s["next_meeting"]["ends_at"], "2035-12-04T09:30:00Z");

    // Both people see the series; nobody else does.
    let mine = ok(&app, Method::GET, "/api/v1/one-on-ones", &c.report, None).await;
    assert_eq!(mine.as_array().unwrap().len(), 1);
    assert_eq!(mine[0]["id"], sid);
    let theirs = ok(&app, Method::GET, "/api/v1/one-on-ones", &c.lead, None).await;
    assert_eq!(theirs, json!([]));

    let first = meetings(&app, &c.report, &sid).await;
    assert_eq!(first.len(), 1, "the next meeting exists at once: {first:?}");
    let m1 = first[0]["id"].as_i64().unwrap();

    // Both add to the agenda; the manager ticks one off.
    let a = ok(
        &app,
        Method::POST,
        &format!("/api/v1/meetings/{m1}/agenda"),
        &c.manager,
        Some(json!({"text": "  Roadmap for Q1 "})),
    )
    .await;
    assert_eq!(a["text"], "Roadmap for Q1");
    let b = ok(
        &app,
        Method::POST,
        &format!("/api/v1/meetings/{m1}/agenda"),
        &c.report,
        Some(json!({"text": "Training budget"})),
    )
    .await;
    assert_eq!(b["author_id"], c.report_id);
    let ticked = ok(
        &app,
        Method::PATCH,
        &format!("/api/v1/agenda/{}", a["id"]),
        &c.report,
        Some(json!({"done": true})),
    )
    .await;
    assert_eq!(ticked["done"], true);

    // Notes: private ones are for their author alone.
    let secret = "Thinking about a promotion for Rémi";
    ok(
        &app,
        Method::POST,
        &format!("/api/v1/meetings/{m1}/notes"),
        &c.manager,
        Some(json!({"body": secret, "private": true})),
    )
    .await;
    ok(
        &app,
        Method::POST,
        &format!("/api/v1/meetings/{m1}/notes"),
        &c.manager,
        Some(json!({"body": "We agreed on the roadmap"})),
    )
    .await;
    let own = "Ask about remote Fridays";
    let n = ok(
        &app,
        Method::POST,
        &format!("/api/v1/meetings/{m1}/notes"),
        &c.report,
        Some(json!({"body": own, "private": true})),
    )
    .await;
    assert_eq!(n["private"], true);

    let action = ok(&app, Method::POST, &format!("/api/v1/meetings/{m1}/actions"), &c.manager,
        Some(json!({"text": "Book the Rust course", "owner_id": c.report_id, "due_on": "2035-12-15"}))).await;
    assert_eq!(action["owner_id"], c.report_id);
    assert_eq!(action["due_on"], "2035-12-15");
    assert_eq!(action["done"], false);

    let as_report = ok(
        &app,
        Method::GET,
        &format!("/api/v1/meetings/{m1}"),
        &c.report,
        None,
    )
    .await;
    assert_eq!(as_report["agenda"].as_array().unwrap().len(), 2);
    let bodies: Vec<&str> = as_report["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["We agreed on the roadmap", own]);
    let as_manager = ok(
        &app,
        Method::GET,
        &format!("/api/v1/meetings/{m1}"),
        &c.manager,
        None,
    )
    .await;
    let bodies: Vec<&str> = as_manager["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, [secret, "We agreed on the roadmap"]);
    assert_eq!(as_manager["actions"][0]["text"], "Book the Rust course");

    // The manager's private note shows through no endpoint the report can call.
    for path in [
        format!("/api/v1/meetings/{m1}"),
        format!("/api/v1/one-on-ones/{sid}"),
        format!("/api/v1/one-on-ones/{sid}/meetings"),
        "/api/v1/one-on-ones".to_string(),
    ] {
        let (_, body) = send(&app, Method::GET, &path, Some(&c.report), None).await;
        assert!(
            !body.to_string().contains(secret),
            "{path} leaks the private note"
        );
    }
    // HR reads no note, shared or private.
    for path in [format!("/api/v1/meetings/{m1}")] {
        let (status, body) = send(&app, Method::GET, &path, Some(&c.admin), None).await;
        assert_eq!(status, 403, "{body}");
        assert!(!body.to_string().contains("roadmap"));
    }

    // The day before, the scheduler creates the next meetings and sends the reminders.
    let o = app.tick("2035-12-03T09:00:00Z").await;
    assert_eq!(o.meetings.reminders, 2, "{o:?}");
    assert!(o.meetings.meetings_created >= 2, "{o:?}");
    let sent = mails(&app);
    assert_eq!(sent.len(), 2);
    let to_report = sent
        .iter()
        .find(|m| m.to.contains("remi@example.com"))
        .unwrap();
    let to_manager = sent
        .iter()
        .find(|m| m.to.contains("mia@example.com"))
        .unwrap();
    assert!(
        to_report
            .subject
            .starts_with("Tête-à-tête avec Mia Manager"),
        "{}",
        to_report.subject
    );
    assert!(
        to_manager
            .subject
            .starts_with("1:1 with Rémi Report on 2035-12-04 10:00"),
        "{}",
        to_manager.subject
    );
    for mail in [to_report, to_manager] {
        assert!(
            mail.text.contains("Roadmap for Q1") && mail.text.contains("Training budget"),
            "{}",
            mail.text
        );
        assert!(mail.text.contains("Book the Rust course") && mail.text.contains("2035-12-15"));
        assert!(
            mail.text
                .contains(&format!("{}/meetings/{m1}", app.address)),
            "{}",
            mail.text
        );
        assert!(
            !mail.text.contains(secret) && !mail.text.contains(own),
            "no note in emails"
        );
        let (method, cal) = mail.calendar.as_ref().expect("an .ics invite");
        assert_eq!(method, "REQUEST");
        assert_eq!(cal.property_value("METHOD"), Some("REQUEST"));
        let event = cal.events().next().unwrap();
        assert_eq!(
            event.get_uid(),
            Some(format!("meeting-{m1}@127.0.0.1").as_str())
        );
        assert_eq!(event.get_sequence(), Some(0));
        let start = start_of(cal);
        assert_eq!(start.to_rfc3339(), "2035-12-04T09:00:00+00:00");
        let zone: chrono_tz::Tz = cal.get_timezone().unwrap().parse().unwrap();
        assert_eq!(zone, chrono_tz::Europe::Paris);
        assert_eq!(
            start.with_timezone(&zone).format("%H:%M").to_string(),
            "10:00"
        );
        let organizer = event.properties().get("ORGANIZER").unwrap();
        assert_eq!(organizer.value(), "mailto:mia@example.com");
        assert_eq!(
            event.get_attendees()[0].cal_address,
            "mailto:remi@example.com"
        );
    }
    // Once only, whatever the number of passes.
    let again = app.tick("2035-12-03T09:00:30Z").await;
    assert_eq!(
        again.meetings.reminders + again.meetings.meetings_created,
        0,
        "{again:?}"
    );
    assert_eq!(app.emails().len(), 2);

    // Moving the meeting sends an update: same UID, SEQUENCE raised.
    let moved = ok(
        &app,
        Method::PATCH,
        &format!("/api/v1/meetings/{m1}"),
        &c.report,
        Some(json!({"starts_at": "2035-12-04T15:00:00+01:00"})),
    )
    .await;
    assert_eq!(moved["starts_at"], "2035-12-04T14:00:00Z");
    assert_eq!(moved["ends_at"], "2035-12-04T14:30:00Z");
    assert_eq!(moved["sequence"], 1);
    app.tick("2035-12-03T10:00:00Z").await;
    let updates: Vec<Mail> = mails(&app)
        .into_iter()
        .filter(|m| {
            m.calendar
                .as_ref()
                .is_some_and(|(_, c)| c.events().next().unwrap().get_sequence() == Some(1))
        })
        .collect();
    assert_eq!(updates.len(), 2);
    for u in &updates {
        let (_, cal) = u.calendar.as_ref().unwrap();
        assert_eq!(
            cal.events().next().unwrap().get_uid(),
            Some(format!("meeting-{m1}@127.0.0.1").as_str())
        );
        assert_eq!(start_of(cal).to_rfc3339(), "2035-12-04T14:00:00+00:00");
    }
    assert!(
        updates
            .iter()
            .any(|u| u.subject.starts_with("Updated: 1:1")),
        "english update"
    );
    assert!(
        updates.iter().any(|u| u.subject.starts_with("Modifié")),
        "french update"
    );

    // The action item left open shows in the next meeting until it is done.
    let all = meetings(&app, &c.manager, &sid).await;
    assert!(all.len() >= 3, "{all:?}");
    assert_eq!(all[1]["starts_at"], "2035-12-18T09:00:00Z");
    let m2 = all[1]["id"].as_i64().unwrap();
    let next = ok(
        &app,
        Method::GET,
        &format!("/api/v1/meetings/{m2}"),
        &c.report,
        None,
    )
    .await;
    assert_eq!(next["agenda"], json!([]));
    assert_eq!(next["notes"], json!([]));
    let carried = next["carried_actions"].as_array().unwrap();
    assert_eq!(carried.len(), 1);
    assert_eq!(carried[0]["text"], "Book the Rust course");
    assert_eq!(carried[0]["meeting_id"], m1);
    let m3 = all[2]["id"].as_i64().unwrap();
    let third = ok(
        &app,
        Method::GET,
        &format!("/api/v1/meetings/{m3}"),
        &c.manager,
        None,
    )
    .await;
    assert_eq!(third["carried_actions"].as_array().unwrap().len(), 1);
    let done = ok(
        &app,
        Method::PATCH,
        &format!("/api/v1/actions/{}", carried[0]["id"]),
        &c.report,
        Some(json!({"done": true})),
    )
    .await;
    assert_eq!(done["done"], true);
    assert!(done["done_at"].is_string());
    let next = ok(
        &app,
        Method::GET,
        &format!("/api/v1/meetings/{m2}"),
        &c.report,
        None,
    )
    .await;
    assert_eq!(next["carried_actions"], json!([]));
    // History stays readable to the two.
    let past = ok(
        &app,
        Method::GET,
        &format!("/api/v1/meetings/{m1}"),
        &c.report,
        None,
    )
    .await;
    assert_eq!(past["actions"][0]["done"], true);
}

/// (what, method, path, body, statuses for [manager, report, admin, lead outsider, member outsider])
type Case = (&'static str, Method, String, Option<Value>, [u16; 5]);

async fn every_role_gets_only_what_is_theirs(app: TestApp) {
    let c = cast(&app).await;
    let s = series(&app, &c.admin, biweekly(&c)).await;
    let sid = s["id"].as_i64().unwrap();
    let m = meetings(&app, &c.manager, &s["id"]).await[0]["id"]
        .as_i64()
        .unwrap();
    let agenda = ok(
        &app,
        Method::POST,
        &format!("/api/v1/meetings/{m}/agenda"),
        &c.manager,
        Some(json!({"text": "x"})),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let action = ok(
        &app,
        Method::POST,
        &format!("/api/v1/meetings/{m}/actions"),
        &c.manager,
        Some(json!({"text": "y", "owner_id": c.manager_id})),
    )
    .await["id"]
        .as_i64()
        .unwrap();

    let cases: Vec<Case> = vec![
        (
            "series",
            Method::GET,
            format!("/api/v1/one-on-ones/{sid}"),
            None,
            [200, 200, 200, 404, 404],
        ),
        (
            "series change",
            Method::PATCH,
            format!("/api/v1/one-on-ones/{sid}"),
            Some(json!({"reminder_hours_before": 24})),
            [200, 403, 200, 404, 404],
        ),
        (
            "meeting list",
            Method::GET,
            format!("/api/v1/one-on-ones/{sid}/meetings"),
            None,
            [200, 200, 200, 404, 404],
        ),
        (
            "meeting",
            Method::GET,
            format!("/api/v1/meetings/{m}"),
            None,
            [200, 200, 403, 404, 404],
        ),
        (
            "meeting move",
            Method::PATCH,
            format!("/api/v1/meetings/{m}"),
            Some(json!({"status": "scheduled"})),
            [200, 200, 200, 404, 404],
        ),
        (
            "agenda item",
            Method::POST,
            format!("/api/v1/meetings/{m}/agenda"),
            Some(json!({"text": "z"})),
            [201, 201, 403, 404, 404],
        ),
        (
            "agenda tick",
            Method::PATCH,
            format!("/api/v1/agenda/{agenda}"),
            Some(json!({"done": true})),
            [200, 200, 403, 404, 404],
        ),
        (
            "shared note",
            Method::POST,
            format!("/api/v1/meetings/{m}/notes"),
            Some(json!({"body": "n"})),
            [201, 201, 403, 404, 404],
        ),
        (
            "private note",
            Method::POST,
            format!("/api/v1/meetings/{m}/notes"),
            Some(json!({"body": "p", "private": true})),
            [201, 201, 403, 404, 404],
        ),
        (
            "action item",
            Method::POST,
            format!("/api/v1/meetings/{m}/actions"),
            Some(json!({"text": "a", "owner_id": c.report_id})),
            [201, 201, 403, 404, 404],
        ),
        (
            "action done",
            Method::PATCH,
            format!("/api/v1/actions/{action}"),
            Some(json!({"done": true})),
            [200, 200, 403, 404, 404],
        ),
    ];
    let tokens = [&c.manager, &c.report, &c.admin, &c.lead, &c.member];
    let roles = ["manager", "report", "admin", "lead", "member"];
    for (what, method, path, body, expected) in &cases {
        for ((token, role), want) in tokens.iter().zip(roles).zip(expected) {
            let (status, got) = send(&app, method.clone(), path, Some(token), body.clone()).await;
            assert_eq!(status, *want, "{role} on {what} ({method} {path}): {got}");
            if status >= 400 {
                assert!(
                    got["error"].is_string() && got["message"].is_string(),
                    "{got}"
                );
            }
        }
        let (status, _) = send(&app, method.clone(), path, None, body.clone()).await;
        assert_eq!(status, 401, "anonymous on {what}");
    }
    // Unknown ids are 404 for everyone, HR included.
    for path in [
        "/api/v1/meetings/9999",
        "/api/v1/one-on-ones/9999",
        "/api/v1/agenda/9999",
    ] {
        let (status, _) = send(&app, Method::GET, path, Some(&c.admin), None).await;
        assert!(status == 404 || status == 405, "{path}: {status}");
    }
    let (status, _) = send(
        &app,
        Method::PATCH,
        "/api/v1/actions/9999",
        Some(&c.admin),
        Some(json!({"done": true})),
    )
    .await;
    assert_eq!(status, 404);

    // Private notes: each author sees their own, nobody sees the other's.
    let manager_secret = ok(
        &app,
        Method::POST,
        &format!("/api/v1/meetings/{m}/notes"),
        &c.manager,
        Some(json!({"body": "manager only", "private": true})),
    )
    .await;
    assert_eq!(manager_secret["private"], true);
    ok(
        &app,
        Method::POST,
        &format!("/api/v1/meetings/{m}/notes"),
        &c.report,
        Some(json!({"body": "report only", "private": true})),
    )
    .await;
    let seen = |v: &Value| {
        v["notes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["body"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let by_manager = seen(
        &ok(
            &app,
            Method::GET,
            &format!("/api/v1/meetings/{m}"),
            &c.manager,
            None,
        )
        .await,
    );
    let by_report = seen(
        &ok(
            &app,
            Method::GET,
            &format!("/api/v1/meetings/{m}"),
            &c.report,
            None,
        )
        .await,
    );
    assert!(
        by_manager.contains(&"manager only".into()) && !by_manager.contains(&"report only".into()),
        "{by_manager:?}"
    );
    assert!(
        by_report.contains(&"report only".into()) && !by_report.contains(&"manager only".into()),
        "{by_report:?}"
    );
    assert!(
        by_manager.contains(&"n".into()) && by_report.contains(&"n".into()),
        "shared notes are shared"
    );

    // Listing: the two see the series, HR sees it with all=true, outsiders never.
    for (token, n) in [
        (&c.manager, 1),
        (&c.report, 1),
        (&c.admin, 0),
        (&c.lead, 0),
        (&c.member, 0),
    ] {
        let list = ok(&app, Method::GET, "/api/v1/one-on-ones", token, None).await;
        assert_eq!(list.as_array().unwrap().len(), n, "{list}");
    }
    let all = ok(
        &app,
        Method::GET,
        "/api/v1/one-on-ones?all=true",
        &c.admin,
        None,
    )
    .await;
    assert_eq!(all.as_array().unwrap().len(), 1);
    let (status, _) = send(
        &app,
        Method::GET,
        "/api/v1/one-on-ones?all=true",
        Some(&c.lead),
        None,
    )
    .await;
    assert_eq!(status, 403);

    // An admin who is one of the two is a participant: they read their own 1:1.
    let hr_report = app
        .employee(
            &c.admin,
            json!({"email": "hera@example.com", "name": "Hera", "hired_on": "2024-01-01"}),
        )
        .await;
    let own = series(&app, &c.admin, json!({"report_id": hr_report, "cadence": "monthly", "starts_on": "2035-12-05", "time": "09:30", "timezone": "America/New_York", "duration_minutes": 45})).await;
    let own_meeting = meetings(&app, &c.admin, &own["id"]).await[0]["id"]
        .as_i64()
        .unwrap();
    ok(
        &app,
        Method::GET,
        &format!("/api/v1/meetings/{own_meeting}"),
        &c.admin,
        None,
    )
    .await;
    // The others in this test are outsiders there.
    let (status, _) = send(
        &app,
        Method::GET,
        &format!("/api/v1/meetings/{own_meeting}"),
        Some(&c.manager),
        None,
    )
    .await;
    assert_eq!(status, 404);
}

async fn series_and_items_are_checked(app: TestApp) {
    let c = cast(&app).await;
    let (status, body) = send(&app, Method::POST, "/api/v1/one-on-ones", Some(&c.admin), Some(json!({
        "manager_id": c.manager_id, "report_id": c.manager_id, "cadence": "quarterly", "starts_on": "2035-02-30",
        "time": "25:61", "timezone": "Europe/Pariss", "duration_minutes": 4, "reminder_hours_before": -1
    }))).await;
    assert_eq!(status, 422, "{body}");
    for f in [
        "report_id",
        "cadence",
        "starts_on",
        "time",
        "timezone",
        "duration_minutes",
        "reminder_hours_before",
    ] {
        assert!(body["fields"][f].is_string(), "{f} missing from {body}");
    }
    let (status, body) = send(
        &app,
        Method::POST,
        "/api/v1/one-on-ones",
        Some(&c.admin),
        Some(json!({"manager_id": 9999, "report_id": c.report_id})),
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        body["fields"]["manager_id"]
            .as_str()
            .unwrap()
            .contains("9999"),
        "{body}"
    );
    // A manager sets up 1:1s with their own reports only; members cannot name another manager.
    let mut not_mine = biweekly(&c);
    not_mine["manager_id"] = json!(c.member_id);
    let (status, _) = send(
        &app,
        Method::POST,
        "/api/v1/one-on-ones",
        Some(&c.report),
        Some(not_mine),
    )
    .await;
    assert_eq!(status, 403);
    let mut boss = biweekly(&c);
    boss["manager_id"] = json!(c.report_id);
    boss["report_id"] = json!(c.manager_id);
    let (status, body) = send(
        &app,
        Method::POST,
        "/api/v1/one-on-ones",
        Some(&c.report),
        Some(boss),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["fields"]["report_id"]
        .as_str()
        .unwrap()
        .contains("does not report to you"));
    let (status, _) = send(
        &app,
        Method::POST,
        "/api/v1/one-on-ones",
        Some(&c.admin),
        Some(json!({"report_id": c.report_id, "colour": "red"})),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        ok(
            &app,
            Method::GET,
            "/api/v1/one-on-ones?all=true",
            &c.admin,
            None
        )
        .await,
        json!([]),
        "nothing stored"
    );

    let s = series(&app, &c.manager, biweekly(&c)).await;
    assert_eq!(s["reminder_hours_before"], 24, "default");
    let (status, body) = send(
        &app,
        Method::POST,
        "/api/v1/one-on-ones",
        Some(&c.manager),
        Some(biweekly(&c)),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (409, Some("series_exists"))
    );

    let m = meetings(&app, &c.manager, &s["id"]).await[0]["id"]
        .as_i64()
        .unwrap();
    let too_long = |n: usize| "é".repeat(n);
    for (path, body, field) in [
        ("agenda", json!({"text": too_long(501)}), "text"),
        ("agenda", json!({"text": "   "}), "text"),
        ("agenda", json!({}), "text"),
        ("notes", json!({"body": too_long(10_001)}), "body"),
        (
            "actions",
            json!({"text": too_long(501), "owner_id": c.manager_id}),
            "text",
        ),
        (
            "actions",
            json!({"text": "ok", "owner_id": c.member_id}),
            "owner_id",
        ),
        ("actions", json!({"text": "ok"}), "owner_id"),
        (
            "actions",
            json!({"text": "ok", "owner_id": c.report_id, "due_on": "15/12/2035"}),
            "due_on",
        ),
    ] {
        let (status, got) = send(
            &app,
            Method::POST,
            &format!("/api/v1/meetings/{m}/{path}"),
            Some(&c.manager),
            Some(body),
        )
        .await;
        assert_eq!(status, 422, "{path}: {got}");
        assert!(got["fields"][field].is_string(), "{path}: {got}");
    }
    ok(
        &app,
        Method::POST,
        &format!("/api/v1/meetings/{m}/agenda"),
        &c.manager,
        Some(json!({"text": too_long(500)})),
    )
    .await;
    ok(
        &app,
        Method::POST,
        &format!("/api/v1/meetings/{m}/notes"),
        &c.manager,
        Some(json!({"body": too_long(10_000)})),
    )
    .await;
    let meeting = ok(
        &app,
        Method::GET,
        &format!("/api/v1/meetings/{m}"),
        &c.manager,
        None,
    )
    .await;
    let agenda_id = meeting["agenda"][0]["id"].as_i64().unwrap();
    let (status, got) = send(
        &app,
        Method::PATCH,
        &format!("/api/v1/agenda/{agenda_id}"),
        Some(&c.manager),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 422, "{got}");
    for (body, field) in [
        (json!({"starts_at": "tomorrow"}), "starts_at"),
        (json!({"starts_at": "2001-01-01T00:00:00Z"}), "starts_at"),
        (json!({"status": "cancelled"}), "status"),
    ] {
        let (status, got) = send(
            &app,
            Method::PATCH,
            &format!("/api/v1/meetings/{m}"),
            Some(&c.manager),
            Some(body),
        )
        .await;
        assert_eq!(status, 422, "{got}");
        assert!(got["fields"][field].is_string(), "{got}");
    }
    let sid = &s["id"];
    let (status, got) = send(
        &app,
        Method::PATCH,
        &format!("/api/v1/one-on-ones/{sid}"),
        Some(&c.manager),
        Some(json!({"status": "done", "cadence": "daily", "duration_minutes": 500})),
    )
    .await;
    assert_eq!(status, 422);
    for f in ["status", "cadence", "duration_minutes"] {
        assert!(got["fields"][f].is_string(), "{f}: {got}");
    }
    // Paging as everywhere else.
    let (status, _) = send(
        &app,
        Method::GET,
        &format!("/api/v1/one-on-ones/{sid}/meetings?per_page=0"),
        Some(&c.manager),
        None,
    )
    .await;
    assert_eq!(status, 422);
}

/// Meeting rows of a series straight from the database: (scheduled_for, status).
fn stored_meetings(app: &TestApp, series_id: i32) -> Vec<(chrono::NaiveDateTime, String)> {
    use diesel::prelude::*;
    use pulse::db::schema::meetings::dsl as m;
    m::meetings
        .filter(m::series_id.eq(series_id))
        .order(m::id)
        .select((m::scheduled_for, m::status))
        .load(&mut app.conn())
        .unwrap()
}

async fn meetings_are_made_once_and_follow_the_schedule(app: TestApp) {
    let c = cast(&app).await;
    let mut weekly = biweekly(&c);
    weekly["cadence"] = json!("weekly");
    weekly["reminder_hours_before"] = json!(48);
    let s = series(&app, &c.manager, weekly).await;
    let sid = s["id"].as_i64().unwrap() as i32;
    let first = meetings(&app, &c.manager, &s["id"]).await;
    let m1 = first[0]["id"].as_i64().unwrap();
    ok(
        &app,
        Method::POST,
        &format!("/api/v1/meetings/{m1}/agenda"),
        &c.report,
        Some(json!({"text": "Keep me"})),
    )
    .await;

    // Two instances ticking at the same instant: every occurrence once.
    let (a, b) = tokio::join!(
        app.tick("2035-12-02T12:00:00Z"),
        app.tick("2035-12-02T12:00:00Z")
    );
    assert_eq!(
        a.meetings.reminders + b.meetings.reminders,
        2,
        "{a:?} {b:?}"
    );
    app.tick("2035-12-09T12:00:00Z").await;
    let rows = stored_meetings(&app, sid);
    let mut occurrences: Vec<_> = rows.iter().map(|(t, _)| *t).collect();
    occurrences.dedup();
    assert_eq!(occurrences.len(), rows.len(), "{rows:?}");
    assert_eq!(rows[0].0.to_string(), "2035-12-04 09:00:00");
    assert_eq!(rows[1].0.to_string(), "2035-12-11 09:00:00");
    assert!(rows.len() >= 6, "{rows:?}");

    // Skipping the announced meeting of Dec 11 (reminded 48 h before) cancels it in calendars.
    let all = meetings(&app, &c.manager, &s["id"]).await;
    let m2 = all[1]["id"].as_i64().unwrap();
    assert_eq!(app.emails().len(), 4, "two reminders per announced meeting");
    let skipped = ok(
        &app,
        Method::PATCH,
        &format!("/api/v1/meetings/{m2}"),
        &c.report,
        Some(json!({"status": "skipped"})),
    )
    .await;
    assert_eq!(
        (skipped["status"].as_str(), skipped["sequence"].as_i64()),
        (Some("skipped"), Some(1))
    );
    let o = app.tick("2035-12-09T13:00:00Z").await;
    assert_eq!(o.meetings.cancellations, 2, "{o:?}");
    let cancels: Vec<Mail> = mails(&app)
        .into_iter()
        .filter(|m| {
            m.calendar
                .as_ref()
                .is_some_and(|(method, _)| method == "CANCEL")
        })
        .collect();
    assert_eq!(cancels.len(), 2);
    let (_, cal) = cancels[0].calendar.as_ref().unwrap();
    assert_eq!(
        cal.events().next().unwrap().get_uid(),
        Some(format!("meeting-{m2}@127.0.0.1").as_str())
    );
    assert_eq!(cal.events().next().unwrap().get_sequence(), Some(1));
    assert!(cancels
        .iter()
        .any(|m| m.subject.starts_with("Cancelled: 1:1")));

    // A new time of day moves the upcoming meetings, their agendas with them.
    let m3 = all[2]["id"].as_i64().unwrap();
    ok(
        &app,
        Method::POST,
        &format!("/api/v1/meetings/{m3}/agenda"),
        &c.report,
        Some(json!({"text": "Move me along"})),
    )
    .await;
    let changed = ok(
        &app,
        Method::PATCH,
        &format!("/api/v1/one-on-ones/{}", s["id"]),
        &c.manager,
        Some(json!({"time": "14:00"})),
    )
    .await;
    assert_eq!(changed["time"], "14:00");
    let upcoming = meetings(&app, &c.report, &s["id"]).await;
    let m3_now = upcoming
        .iter()
        .find(|m| m["id"] == m3)
        .expect("the meeting keeps its id");
    assert_eq!(m3_now["sequence"], 1, "{m3_now}");
    assert!(
        m3_now["starts_at"]
            .as_str()
            .unwrap()
            .ends_with("T13:00:00Z"),
        "14:00 in Paris: {m3_now}"
    );
    let m3_body = ok(
        &app,
        Method::GET,
        &format!("/api/v1/meetings/{m3}"),
        &c.report,
        None,
    )
    .await;
    assert_eq!(m3_body["agenda"][0]["text"], "Move me along");
    // As many meetings as before, each occurrence once, the skipped one still skipped.
    assert_eq!(upcoming.len(), all.len(), "{upcoming:?}");
    let m2_now = upcoming.iter().find(|m| m["id"] == m2).unwrap();
    assert_eq!(
        (m2_now["status"].as_str(), m2_now["sequence"].as_i64()),
        (Some("skipped"), Some(1))
    );
    let rows = stored_meetings(&app, sid);
    let mut occurrences: Vec<_> = rows.iter().map(|(t, _)| *t).collect();
    occurrences.sort();
    occurrences.dedup();
    assert_eq!(occurrences.len(), rows.len(), "{rows:?}");
    assert!(
        rows.iter()
            .all(|(t, _)| t.format("%H:%M").to_string() == "13:00"),
        "{rows:?}"
    );

    // Pausing drops what is ahead; empty meetings go, those with content stay cancelled.
    let paused = ok(
        &app,
        Method::PATCH,
        &format!("/api/v1/one-on-ones/{}", s["id"]),
        &c.admin,
        Some(json!({"status": "paused"})),
    )
    .await;
    assert_eq!(paused["status"], "paused");
    assert!(paused["next_meeting"].is_null());
    let after_pause = meetings(&app, &c.manager, &s["id"]).await;
    let m3_paused = after_pause.iter().find(|m| m["id"] == m3).unwrap();
    assert_eq!(m3_paused["status"], "cancelled");
    let scheduled_ahead = after_pause
        .iter()
        .filter(|m| m["status"] == "scheduled" && m["starts_at"].as_str().unwrap() > "2035-12-10")
        .count();
    assert_eq!(scheduled_ahead, 0, "{after_pause:?}");
    let o = app.tick("2035-12-20T12:00:00Z").await;
    assert_eq!(
        o.meetings.meetings_created, 0,
        "a paused series makes no meetings"
    );

    // Resuming starts again from now; ending is final.
    let resumed = ok(
        &app,
        Method::PATCH,
        &format!("/api/v1/one-on-ones/{}", s["id"]),
        &c.manager,
        Some(json!({"status": "active"})),
    )
    .await;
    assert!(
        resumed["next_meeting"]["starts_at"].is_string(),
        "{resumed}"
    );
    let ended = ok(
        &app,
        Method::PATCH,
        &format!("/api/v1/one-on-ones/{}", s["id"]),
        &c.manager,
        Some(json!({"status": "ended"})),
    )
    .await;
    assert_eq!(ended["status"], "ended");
    let (status, body) = send(
        &app,
        Method::PATCH,
        &format!("/api/v1/one-on-ones/{}", s["id"]),
        Some(&c.manager),
        Some(json!({"status": "active"})),
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (409, Some("ended")));
    // The history stays readable to the two.
    ok(
        &app,
        Method::GET,
        &format!("/api/v1/meetings/{m1}"),
        &c.report,
        None,
    )
    .await;
    // Once ended, a new series for the same two may start.
    series(&app, &c.manager, biweekly(&c)).await;
}

fn setup_token(text: &str) -> String {
    let start =
        text.find("/account/setup?token=").expect("a setup link") + "/account/setup?token=".len();
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_hexdigit())
        .collect()
}

async fn setup_page(app: &TestApp, token: &str) -> (u16, String) {
    let res = app
        .get(&format!("/account/setup?token={token}"), None)
        .await;
    let status = res.status().as_u16();
    (status, res.text().await.unwrap())
}

async fn set_password(app: &TestApp, token: &str, password: &str, confirm: &str) -> (u16, String) {
    let res = app
        .api
        .post(app.url("/account/setup"))
        .form(&[
            ("token", token),
            ("password", password),
            ("password_confirm", confirm),
        ])
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.text().await.unwrap())
}

async fn an_invited_employee_chooses_a_password_and_signs_in(app: TestApp) {
    let c = cast(&app).await;
    let id = app
        .employee(&c.admin, json!({"email": "nina@example.com", "name": "Nina New", "hired_on": "2024-01-01", "locale": "fr"}))
        .await;
    let (status, _) = send(
        &app,
        Method::POST,
        &format!("/api/v1/employees/{id}/invite"),
        Some(&c.manager),
        None,
    )
    .await;
    assert_eq!(status, 403, "HR only");
    let (status, _) = send(
        &app,
        Method::POST,
        "/api/v1/employees/9999/invite",
        Some(&c.admin),
        None,
    )
    .await;
    assert_eq!(status, 404);
    let (status, first) = send(
        &app,
        Method::POST,
        &format!("/api/v1/employees/{id}/invite"),
        Some(&c.admin),
        None,
    )
    .await;
    assert_eq!(status, 202, "{first}");
    assert_eq!(first["employee_id"], id);
    let (status, _) = send(
        &app,
        Method::POST,
        &format!("/api/v1/employees/{id}/invite"),
        Some(&c.admin),
        None,
    )
    .await;
    assert_eq!(status, 202);

    app.tick(&Utc::now().to_rfc3339()).await;
    let sent: Vec<Mail> = mails(&app)
        .into_iter()
        .filter(|m| m.to.contains("nina@example.com"))
        .collect();
    assert_eq!(sent.len(), 2);
    assert!(
        sent.iter()
            .all(|m| m.subject.starts_with("Votre compte Pulse")),
        "in her language"
    );
    let tokens: Vec<String> = sent.iter().map(|m| setup_token(&m.text)).collect();
    assert!(
        tokens.iter().all(|t| t.len() >= 32),
        "at least 128 bits: {tokens:?}"
    );
    // Only the link sent last works.
    let (first_link, last_link) = {
        let mut ok_links = vec![];
        for t in &tokens {
            ok_links.push((setup_page(&app, t).await.0, t.clone()));
        }
        let stale = ok_links
            .iter()
            .find(|(s, _)| *s == 410)
            .expect("the older link no longer works")
            .1
            .clone();
        let fresh = ok_links
            .iter()
            .find(|(s, _)| *s == 200)
            .expect("the newer link works")
            .1
            .clone();
        (stale, fresh)
    };
    assert_ne!(first_link, last_link);
    // Tokens are stored only as hashes.
    {
        use diesel::prelude::*;
        use pulse::db::schema::account_invitations::dsl as a;
        let stored: Vec<String> = a::account_invitations
            .select(a::token_hash)
            .load(&mut app.conn())
            .unwrap();
        assert!(
            stored.iter().all(|h| !tokens.contains(h) && h.len() == 64),
            "{stored:?}"
        );
    }

    let (status, page) = setup_page(&app, &last_link).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Nina New")
            && page.contains("nina@example.com")
            && page.contains("name=\"password\"")
    );
    let (status, _) = setup_page(&app, &last_link).await;
    assert_eq!(status, 200, "a GET uses nothing up");
    let res = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": "nina@example.com", "password": "a long new password"}),
        )
        .await;
    assert_eq!(res.status(), 401, "no password yet");

    let (status, page) = set_password(&app, &last_link, "short", "short").await;
    assert_eq!(status, 422);
    assert!(page.contains("at least 10 characters"), "{page}");
    let (status, page) = set_password(
        &app,
        &last_link,
        "a long new password",
        "a long new passwort",
    )
    .await;
    assert_eq!(status, 422);
    assert!(page.contains("does not match"), "{page}");
    let (status, page) = set_password(
        &app,
        &last_link,
        "a long new password",
        "a long new password",
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("/login"));
    let token = app.login("nina@example.com", "a long new password").await;
    assert_eq!(
        ok(&app, Method::GET, "/api/v1/one-on-ones", &token, None).await,
        json!([])
    );

    // The link worked once.
    assert_eq!(
        set_password(&app, &last_link, "another password!", "another password!")
            .await
            .0,
        410
    );
    assert_eq!(setup_page(&app, &last_link).await.0, 410);
    assert_eq!(setup_page(&app, "not-a-token").await.0, 410);

    // Links expire after 7 days.
    send(
        &app,
        Method::POST,
        &format!("/api/v1/employees/{}/invite", c.member_id),
        Some(&c.admin),
        None,
    )
    .await;
    app.tick(&Utc::now().to_rfc3339()).await;
    let max_mail = mails(&app)
        .into_iter()
        .find(|m| m.to.contains("max@example.com"))
        .unwrap();
    let max_token = setup_token(&max_mail.text);
    assert_eq!(setup_page(&app, &max_token).await.0, 200);
    {
        use diesel::prelude::*;
        use pulse::db::schema::account_invitations::dsl as a;
        let week_ago = (Utc::now() - chrono::Duration::days(7)).naive_utc();
        diesel::update(a::account_invitations)
            .set(a::expires_at.eq(week_ago))
            .execute(&mut app.conn())
            .unwrap();
    }
    assert_eq!(setup_page(&app, &max_token).await.0, 410);
    assert_eq!(
        set_password(
            &app,
            &max_token,
            "a long new password",
            "a long new password"
        )
        .await
        .0,
        410
    );
}

async fn the_meeting_page_keeps_the_same_rules(app: TestApp) {
    let c = cast(&app).await;
    let s = series(&app, &c.manager, biweekly(&c)).await;
    let m = meetings(&app, &c.manager, &s["id"]).await[0]["id"]
        .as_i64()
        .unwrap();
    ok(
        &app,
        Method::POST,
        &format!("/api/v1/meetings/{m}/notes"),
        &c.manager,
        Some(json!({"body": "Manager eyes only", "private": true})),
    )
    .await;
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = |token: Option<String>| {
        let mut req = browser.get(app.url(&format!("/meetings/{m}")));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        async move {
            let res = req.send().await.unwrap();
            (res.status().as_u16(), res.text().await.unwrap())
        }
    };
    let form = |token: &str, fields: Vec<(&str, &str)>| {
        let req = browser
            .post(app.url(&format!("/meetings/{m}")))
            .bearer_auth(token)
            .form(&fields);
        async move { req.send().await.unwrap().status().as_u16() }
    };

    // The two people add through the page what the API then shows.
    assert_eq!(
        form(
            &c.report,
            vec![("op", "agenda"), ("text", "Conference in May")]
        )
        .await,
        303
    );
    assert_eq!(
        form(
            &c.report,
            vec![
                ("op", "note"),
                ("text", "Report eyes only"),
                ("private", "on")
            ]
        )
        .await,
        303
    );
    assert_eq!(
        form(
            &c.manager,
            vec![
                ("op", "action"),
                ("text", "Send the budget"),
                ("owner_id", &c.manager_id.to_string()),
                ("due_on", "2035-12-10")
            ]
        )
        .await,
        303
    );
    assert_eq!(
        form(&c.manager, vec![("op", "agenda"), ("text", "  ")]).await,
        422
    );
    let api = ok(
        &app,
        Method::GET,
        &format!("/api/v1/meetings/{m}"),
        &c.manager,
        None,
    )
    .await;
    assert_eq!(api["agenda"][0]["text"], "Conference in May");
    assert_eq!(api["actions"][0]["due_on"], "2035-12-10");
    let agenda_id = api["agenda"][0]["id"].to_string();
    assert_eq!(
        form(
            &c.manager,
            vec![
                ("op", "agenda_done"),
                ("item", &agenda_id),
                ("done", "true")
            ]
        )
        .await,
        303
    );
    let api = ok(
        &app,
        Method::GET,
        &format!("/api/v1/meetings/{m}"),
        &c.report,
        None,
    )
    .await;
    assert_eq!(api["agenda"][0]["done"], true);

    let (status, manager_page) = page(Some(c.manager.clone())).await;
    assert_eq!(status, 200);
    assert!(manager_page.contains("Conference in May") && manager_page.contains("Send the budget"));
    assert!(
        manager_page.contains("Manager eyes only") && !manager_page.contains("Report eyes only")
    );
    let (status, report_page) = page(Some(c.report.clone())).await;
    assert_eq!(status, 200);
    assert!(report_page.contains("Report eyes only") && !report_page.contains("Manager eyes only"));
    let (status, hr_page) = page(Some(c.admin.clone())).await;
    assert_eq!(status, 403);
    assert!(!hr_page.contains("Conference in May"));
    assert_eq!(page(Some(c.lead.clone())).await.0, 404);
    assert_eq!(page(None).await.0, 303, "to /login");
    assert_eq!(
        form(&c.admin, vec![("op", "note"), ("text", "HR was here")]).await,
        403
    );
    assert_eq!(
        form(&c.member, vec![("op", "note"), ("text", "Max was here")]).await,
        404
    );

    // A cookie riding on another site's form is refused, and nothing is stored.
    let res = browser
        .post(app.url(&format!("/meetings/{m}")))
        .header("cookie", format!("pulse_session={}", c.report))
        .header("origin", "https://evil.example")
        .form(&[("op", "agenda"), ("text", "Forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let api = ok(
        &app,
        Method::GET,
        &format!("/api/v1/meetings/{m}"),
        &c.report,
        None,
    )
    .await;
    assert!(!api.to_string().contains("Forged"));

    let res = browser
        .get(app.url("/one-on-ones"))
        .bearer_auth(&c.report)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let list = res.text().await.unwrap();
    assert!(
        list.contains("With Mia Manager") && list.contains(&format!("/meetings/{m}")),
        "{list}"
    );
}

async fn the_api_document_lists_the_one_on_one_endpoints(app: TestApp) {
    let doc: Value = app
        .get("/api/v1/openapi.json", None)
        .await
        .json()
        .await
        .unwrap();
    for path in [
        "/api/v1/one-on-ones",
        "/api/v1/one-on-ones/{id}",
        "/api/v1/one-on-ones/{id}/meetings",
        "/api/v1/meetings/{id}",
        "/api/v1/meetings/{id}/agenda",
        "/api/v1/meetings/{id}/notes",
        "/api/v1/meetings/{id}/actions",
        "/api/v1/agenda/{id}",
        "/api/v1/actions/{id}",
        "/api/v1/employees/{id}/invite",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from the OpenAPI document"
        );
    }
}

/// Found by schemathesis: a weekly series made biweekly used to move a meeting onto
/// the occurrence of one it was about to drop, and answer 500.
async fn a_cadence_change_frees_dropped_occurrences_first(app: TestApp) {
    let c = cast(&app).await;
    let mut weekly = biweekly(&c);
    weekly["cadence"] = json!("weekly");
    let s = series(&app, &c.manager, weekly).await;
    let sid = s["id"].as_i64().unwrap() as i32;
    app.tick("2035-12-02T12:00:00Z").await;
    assert!(stored_meetings(&app, sid).len() >= 5);
    ok(
        &app,
        Method::PATCH,
        &format!("/api/v1/one-on-ones/{sid}"),
        &c.manager,
        Some(json!({"cadence": "biweekly"})),
    )
    .await;
    let mut kept: Vec<String> = stored_meetings(&app, sid)
        .into_iter()
        .filter(|(_, status)| status != "cancelled")
        .map(|(t, _)| t.to_string())
        .filter(|t| t.as_str() >= "2035" && t.as_str() < "2036-01-02")
        .collect();
    kept.sort();
    assert_eq!(
        kept,
        [
            "2035-12-04 09:00:00",
            "2035-12-18 09:00:00",
            "2036-01-01 09:00:00"
        ]
    );
}

crate::on_both_engines!(
    a_cadence_change_frees_dropped_occurrences_first,
    a_biweekly_series_from_agenda_to_calendar,
    every_role_gets_only_what_is_theirs,
    series_and_items_are_checked,
    meetings_are_made_once_and_follow_the_schedule,
    an_invited_employee_chooses_a_password_and_signs_in,
    the_meeting_page_keeps_the_same_rules,
    the_api_document_lists_the_one_on_one_endpoints,
);
