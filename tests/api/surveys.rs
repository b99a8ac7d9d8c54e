//! Surveys end to end: rules, rounds from the schedule, emailed links, answers, reminders, anonymity.

use crate::helpers::TestApp;
use serde_json::{json, Value};

/// The plain-text part and the recipient of a stored email.
pub fn read_email(raw: &str) -> (String, String, String) {
    let mail = mailparse::parse_mail(raw.as_bytes()).unwrap();
    let to = mail
        .headers
        .iter()
        .find(|h| h.get_key() == "To")
        .map(|h| h.get_value())
        .unwrap_or_default();
    let subject = mail
        .headers
        .iter()
        .find(|h| h.get_key() == "Subject")
        .map(|h| h.get_value())
        .unwrap_or_default();
    let text = mail
        .subparts
        .iter()
        .find(|p| p.ctype.mimetype == "text/plain")
        .map(|p| p.get_body().unwrap())
        .unwrap_or_else(|| mail.get_body().unwrap());
    (to, subject, text)
}

/// The `/s/<token>` path in an email's text.
pub fn link_path(text: &str) -> String {
    let start = text.find("/s/").expect("the email has an answering link");
    let token: String = text[start + 3..]
        .chars()
        .take_while(|c| c.is_ascii_hexdigit())
        .collect();
    format!("/s/{token}")
}

pub async fn people(app: &TestApp, admin: &str) -> (i64, Vec<i64>) {
    let team = app.team(admin, json!({"name": "Support"})).await;
    let sub = app
        .team(admin, json!({"name": "Support Nights", "parent_id": team}))
        .await;
    let other = app.team(admin, json!({"name": "Finance"})).await;
    let mut ids = vec![];
    for (i, (t, locale)) in [(team, "en"), (team, "fr"), (sub, "en")].iter().enumerate() {
        let body = json!({"email": format!("e{i}@example.com"), "name": format!("Employee {i}"), "hired_on": "2024-01-01", "team_id": t, "locale": locale});
        ids.push(app.employee(admin, body).await);
    }
    // Not invited: another team, someone who left, someone not yet hired.
    app.employee(admin, json!({"email": "fin@example.com", "name": "Fin", "hired_on": "2024-01-01", "team_id": other})).await;
    app.employee(admin, json!({"email": "gone@example.com", "name": "Gone", "hired_on": "2024-01-01", "team_id": team, "left_on": "2025-06-30", "leave_reason": "other"})).await;
    app.employee(admin, json!({"email": "later@example.com", "name": "Later", "hired_on": "2099-01-01", "team_id": team})).await;
    (team, ids)
}

/// Creates a survey and returns it with its question ids in order.
pub async fn create_survey(app: &TestApp, admin: &str, body: Value) -> (Value, Vec<i64>) {
    let res = app.post("/api/v1/surveys", Some(admin), body).await;
    assert_eq!(res.status(), 201);
    let survey: Value = res.json().await.unwrap();
    let q = survey["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["id"].as_i64().unwrap())
        .collect();
    (survey, q)
}

pub fn weekly(team: i64) -> Value {
    json!({
        "title": "Weekly pulse",
        "intro": "Two minutes, every Monday.",
        "questions": [
            {"kind": "enps", "prompt": "How likely are you to recommend working here?"},
            {"kind": "scale", "prompt": "I have what I need to do my job"},
            {"kind": "choice", "prompt": "Where do you work most?", "options": ["Office", "Home"]},
            {"kind": "text", "prompt": "Anything else?", "required": false}
        ],
        "audience": {"team_ids": [team]},
        "schedule": {"cadence": "weekly", "starts_on": "2035-12-07", "send_time": "09:00",
                     "timezone": "Europe/Paris", "open_days": 5, "reminder_after_days": 2},
        "min_group_size": 3
    })
}

async fn surveys_are_checked_field_by_field(app: TestApp) {
    let admin = app.admin_token().await;
    let eleven: Vec<Value> = (0..11)
        .map(|i| json!({"kind": "scale", "prompt": format!("Q{i}")}))
        .collect();
    let bad = json!({
        "title": "",
        "questions": eleven,
        "enps_scale": "0-5",
        "audience": {"team_ids": [4242]},
        "schedule": {"cadence": "daily", "starts_on": "2026-02-30", "send_time": "25:00", "timezone": "Europe/Pariss", "open_days": 0},
        "min_group_size": 2
    });
    let res = app.post("/api/v1/surveys", Some(&admin), bad).await;
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.unwrap();
    for f in [
        "title",
        "questions",
        "enps_scale",
        "audience.team_ids",
        "schedule.cadence",
        "schedule.starts_on",
        "schedule.send_time",
        "schedule.timezone",
        "schedule.open_days",
        "min_group_size",
    ] {
        assert!(body["fields"][f].is_string(), "{f} missing from {body}");
    }
    let mut none = weekly(1);
    none["questions"] = json!([]);
    none["audience"] = json!({"team_ids": []});
    let res = app.post("/api/v1/surveys", Some(&admin), none).await;
    assert_eq!(res.status(), 422);
    let mut bad_choice = weekly(1);
    bad_choice["questions"] = json!([{"kind": "choice", "prompt": "Pick", "options": ["Only"]}, {"kind": "stars", "prompt": "?"}]);
    bad_choice["audience"] = json!({"team_ids": []});
    let body: Value = app
        .post("/api/v1/surveys", Some(&admin), bad_choice)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        body["fields"]["questions[0].options"].is_string()
            && body["fields"]["questions[1].kind"].is_string(),
        "{body}"
    );
    // A driver belongs to a scale question and must be one Pulse knows.
    let mut bad_driver = weekly(1);
    bad_driver["questions"] = json!([{"kind": "enps", "prompt": "Recommend?", "driver": "growth"}, {"kind": "scale", "prompt": "I grow", "driver": "vibes"}]);
    bad_driver["audience"] = json!({"team_ids": []});
    let body: Value = app
        .post("/api/v1/surveys", Some(&admin), bad_driver)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        body["fields"]["questions[0].driver"].is_string()
            && body["fields"]["questions[1].driver"].is_string(),
        "{body}"
    );
    let res = app
        .post(
            "/api/v1/surveys",
            Some(&admin),
            json!({"title": "x", "colour": "red"}),
        )
        .await;
    assert_eq!(res.status(), 400);
    let surveys: Value = app
        .get("/api/v1/surveys", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(surveys, json!([]), "nothing stored");

    // A valid one says when it goes out: 09:00 in Paris is 08:00 UTC in winter.
    let (team, _) = people(&app, &admin).await;
    let res = app
        .post("/api/v1/surveys", Some(&admin), weekly(team))
        .await;
    assert_eq!(res.status(), 201);
    let s: Value = res.json().await.unwrap();
    assert_eq!(s["next_round_at"], "2035-12-07T08:00:00Z");
    assert_eq!(s["upcoming"][1], "2035-12-14T08:00:00Z");
    assert_eq!(s["enps_scale"], "1-10");
    assert_eq!(s["questions"].as_array().unwrap().len(), 4);
    assert_eq!(s["questions"][3]["required"], false);
    assert!(s["questions"][0]["id"].is_i64());

    // A scale question keeps the driver it measures; others name none.
    let mut with_driver = weekly(team);
    with_driver["questions"][1]["driver"] = json!("growth");
    let s: Value = app
        .post("/api/v1/surveys", Some(&admin), with_driver)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(s["questions"][1]["driver"], "growth", "{s}");
    assert!(s["questions"][0].get("driver").is_none(), "{s}");
}

async fn a_weekly_round_goes_out_is_answered_and_reminded(app: TestApp) {
    let admin = app.admin_token().await;
    let (team, _) = people(&app, &admin).await;
    let (survey, q) = create_survey(&app, &admin, weekly(team)).await;

    // Just before the first instant nothing happens; at it, one email per invitee.
    let early = app.tick("2035-12-07T07:59:59Z").await;
    assert_eq!(early.schedule.rounds_sent, 0);
    let first = app.tick("2035-12-07T08:00:00Z").await;
    assert_eq!(
        (
            first.schedule.rounds_sent,
            first.schedule.invitations,
            first.sent
        ),
        (1, 3, 3)
    );
    let emails = app.emails();
    assert_eq!(emails.len(), 3);
    let mut recipients: Vec<String> = emails.iter().map(|e| read_email(e).0).collect();
    recipients.sort();
    assert_eq!(recipients.len(), 3);
    assert!(
        recipients
            .iter()
            .all(|r| r.contains("e0@") || r.contains("e1@") || r.contains("e2@")),
        "{recipients:?}"
    );
    let (_, subject_fr, text_fr) = emails
        .iter()
        .map(|e| read_email(e))
        .find(|(to, ..)| to.contains("e1@"))
        .unwrap();
    assert!(subject_fr.starts_with("Votre avis compte"), "{subject_fr}");
    assert!(text_fr.contains("anonymes"));
    let (_, subject, text) = emails
        .iter()
        .map(|e| read_email(e))
        .find(|(to, ..)| to.contains("e0@"))
        .unwrap();
    assert_eq!(subject, "Your voice counts: Weekly pulse");
    assert!(
        text.contains("Open until 2035-12-12 09:00 (Europe/Paris)"),
        "{text}"
    );
    assert!(text.contains("anonymous"));
    let link = link_path(&text);
    assert!(
        text.contains(&format!("{link}?score=10")),
        "score links for the eNPS question"
    );

    // Ticking again at the same instant sends nothing new.
    let again = app.tick("2035-12-07T08:00:00Z").await;
    assert_eq!((again.schedule.rounds_sent, again.sent), (0, 0));
    assert_eq!(app.emails().len(), 3);

    // GET shows the form without using the link (mail scanners open links).
    let page = app.get(&format!("{link}?score=9"), None).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("How likely are you to recommend working here?"));
    assert!(
        html.contains(r#"value="9" checked"#),
        "the clicked score is preselected"
    );
    assert!(html.contains("<fieldset") && html.contains("<legend>"));
    assert_eq!(
        app.get(&link, None).await.status(),
        200,
        "still usable after a GET"
    );

    // A bad form keeps the answers and says what to fix next to the question.
    let form = reqwest::Client::new();
    let bad = form
        .post(app.url(&link))
        .form(&[
            (format!("q{}", q[0]), "9"),
            (format!("q{}", q[3]), "Keep this comment"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    let html = bad.text().await.unwrap();
    assert!(
        html.contains("please answer this question")
            && html.contains("Keep this comment")
            && html.contains(r#"value="9" checked"#)
    );

    let ok = form
        .post(app.url(&link))
        .form(&[
            (format!("q{}", q[0]), "9".to_string()),
            (format!("q{}", q[1]), "4".into()),
            (format!("q{}", q[2]), "Home".into()),
            (format!("q{}", q[3]), "Fine <b>team</b>".into()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert!(ok.text().await.unwrap().contains("Thank you"));

    // Used: the link now answers 410, the same page as an unknown link.
    let used = app.get(&link, None).await;
    assert_eq!(used.status(), 410);
    let unknown = app.get("/s/0123456789abcdef", None).await;
    assert_eq!(unknown.status(), 410);
    assert_eq!(used.text().await.unwrap(), unknown.text().await.unwrap());
    let token = link.trim_start_matches("/s/");
    let twice = app
        .post(
            "/api/v1/responses",
            None,
            json!({"token": token, "answers": [{"question_id": q[0], "score": 5}]}),
        )
        .await;
    assert_eq!(twice.status(), 410);
    assert_eq!(
        twice.json::<Value>().await.unwrap()["error"],
        "already_answered"
    );

    // Two days later, one reminder to each of the two who have not answered.
    let remind = app.tick("2035-12-09T08:00:00Z").await;
    assert_eq!((remind.schedule.reminders, remind.sent), (2, 2));
    let reminders: Vec<_> = app
        .emails()
        .iter()
        .map(|e| read_email(e))
        .filter(|(_, s, _)| s.contains("Reminder") || s.contains("Rappel"))
        .collect();
    assert_eq!(reminders.len(), 2);
    assert!(
        reminders.iter().all(|(to, ..)| !to.contains("e0@")),
        "the respondent gets no reminder"
    );
    assert_eq!(
        app.tick("2035-12-10T08:00:00Z").await.schedule.reminders,
        0,
        "one reminder only"
    );
    // Both the reminder's link and the first email's link work for a non-respondent.
    let reminder_link = link_path(&reminders[0].2);
    assert_eq!(app.get(&reminder_link, None).await.status(), 200);

    // After open_days the round closes and links stop working.
    let closed = app.tick("2035-12-12T08:00:00Z").await;
    assert_eq!(closed.schedule.rounds_closed, 1);
    assert_eq!(app.get(&reminder_link, None).await.status(), 410);
    let late = app
        .post(
            "/api/v1/responses",
            None,
            json!({"token": reminder_link.trim_start_matches("/s/"), "answers": []}),
        )
        .await;
    // Closing forgot the reminder links along with who answered: the link is
    // simply unknown now, and the page says the same as for a closed round.
    assert_eq!(
        late.json::<Value>().await.unwrap()["error"],
        "invalid_token"
    );

    let rounds: Value = app
        .get(
            &format!("/api/v1/surveys/{}/rounds", survey["id"]),
            Some(&admin),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rounds.as_array().unwrap().len(), 1);
    assert_eq!(rounds[0]["invited"], 3);
    // One answer is under the threshold: how many answered is not shown either.
    assert_eq!(rounds[0]["responded"], Value::Null);
    assert_eq!(rounds[0]["participation_suppressed"], "too_few");
    assert_eq!(rounds[0]["status"], "closed");
    assert_eq!(rounds[0]["scheduled_for"], "2035-12-07T08:00:00Z");
    assert_eq!(rounds[0]["closes_at"], "2035-12-12T08:00:00Z");
}

async fn answers_are_checked_and_nothing_partial_is_stored(app: TestApp) {
    let admin = app.admin_token().await;
    let (team, _) = people(&app, &admin).await;
    let mut body = weekly(team);
    body["enps_scale"] = json!("0-10");
    let (survey, q) = create_survey(&app, &admin, body).await;
    let round = app
        .post(
            &format!("/api/v1/surveys/{}/rounds", survey["id"]),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(round.status(), 201);
    assert_eq!(round.json::<Value>().await.unwrap()["invited"], 3);
    app.tick(&chrono::Utc::now().to_rfc3339()).await;
    let emails = app.emails();
    let token = link_path(&read_email(&emails[0]).2)
        .trim_start_matches("/s/")
        .to_string();

    let answer = |score: i64, scale: i64, choice: &str| {
        json!({"token": token, "answers": [
            {"question_id": q[0], "score": score}, {"question_id": q[1], "score": scale}, {"question_id": q[2], "choice": choice}]})
    };
    let out_of_range = app
        .post("/api/v1/responses", None, answer(11, 3, "Home"))
        .await;
    assert_eq!(out_of_range.status(), 422);
    let body: Value = out_of_range.json().await.unwrap();
    assert!(
        body["fields"][format!("answers.{}", q[0])]
            .as_str()
            .unwrap()
            .contains("0 to 10"),
        "{body}"
    );
    let bad_choice = app
        .post("/api/v1/responses", None, answer(3, 6, "Moon"))
        .await;
    let body: Value = bad_choice.json().await.unwrap();
    assert!(
        body["fields"][format!("answers.{}", q[1])].is_string()
            && body["fields"][format!("answers.{}", q[2])].is_string()
    );
    let missing = app
        .post(
            "/api/v1/responses",
            None,
            json!({"token": token, "answers": [{"question_id": q[0], "score": 0}]}),
        )
        .await;
    assert_eq!(missing.status(), 422);
    let mut conn = app.conn();
    use diesel::prelude::*;
    let stored: i64 = pulse::db::schema::responses::table
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(stored, 0, "nothing stored for a refused answer");

    // 0 is a valid score on the 0-10 scale; it is stored with its scale.
    let ok = app
        .post("/api/v1/responses", None, answer(0, 5, "Office"))
        .await;
    assert_eq!(ok.status(), 201);
    let scales: Vec<Option<String>> = pulse::db::schema::answers::table
        .filter(pulse::db::schema::answers::question_id.eq(q[0] as i32))
        .select(pulse::db::schema::answers::scale)
        .load(&mut conn)
        .unwrap();
    assert_eq!(scales, vec![Some("0-10".to_string())]);
    assert_eq!(
        app.post(
            "/api/v1/responses",
            None,
            json!({"token": "nope", "answers": []})
        )
        .await
        .json::<Value>()
        .await
        .unwrap()["error"],
        "invalid_token"
    );
}

async fn stored_answers_cannot_be_traced_to_a_person(app: TestApp) {
    let admin = app.admin_token().await;
    let (team, ids) = people(&app, &admin).await;
    let (_, q) = create_survey(&app, &admin, weekly(team)).await;
    app.tick("2035-12-07T08:00:00Z").await;
    let (_, _, text) = app
        .emails()
        .iter()
        .map(|e| read_email(e))
        .find(|(to, ..)| to.contains("e2@"))
        .unwrap();
    let token = link_path(&text).trim_start_matches("/s/").to_string();
    let answers = json!([{"question_id": q[0], "score": 3}, {"question_id": q[1], "score": 2}, {"question_id": q[2], "choice": "Office"}]);
    assert_eq!(
        app.post(
            "/api/v1/responses",
            None,
            json!({"token": token, "answers": answers})
        )
        .await
        .status(),
        201
    );

    use diesel::prelude::*;
    use pulse::db::schema::{invitations, responses};
    let mut conn = app.conn();
    // The schema itself has nowhere to put a person or a time of day.
    let mut columns = |table: &str| -> Vec<String> {
        #[derive(QueryableByName)]
        struct C {
            #[diesel(sql_type = diesel::sql_types::Text)]
            name: String,
        }
        let sql = match &mut conn {
            pulse::db::DbConnection::Sqlite(_) => format!("SELECT name FROM pragma_table_info('{table}') ORDER BY cid"),
            pulse::db::DbConnection::Postgresql(_) => format!(
                "SELECT column_name::text AS name FROM information_schema.columns WHERE table_name = '{table}' ORDER BY ordinal_position"
            ),
        };
        match &mut conn {
            pulse::db::DbConnection::Sqlite(c) => diesel::sql_query(sql).load::<C>(c).unwrap(),
            pulse::db::DbConnection::Postgresql(c) => diesel::sql_query(sql).load::<C>(c).unwrap(),
        }
        .into_iter()
        .map(|c| c.name)
        .collect()
    };
    assert_eq!(
        columns("responses"),
        vec!["id", "round_id", "team_id", "submitted_on"]
    );
    assert_eq!(
        columns("answers"),
        vec![
            "id",
            "response_id",
            "question_id",
            "score",
            "scale",
            "choice",
            "text"
        ]
    );
    assert!(!columns("invitations")
        .iter()
        .any(|c| c.contains("response") || c.ends_with("_at")));

    // The stored row: a random id, the team snapshot, a date; nothing else.
    let (id, team_id, day): (String, Option<i32>, chrono::NaiveDate) = responses::table
        .select((responses::id, responses::team_id, responses::submitted_on))
        .first(&mut conn)
        .unwrap();
    assert_eq!(id.len(), 32);
    assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
    assert!(!ids
        .iter()
        .any(|e| id.contains(&e.to_string()) && id.len() < 4));
    let sub_team: Option<i32> = invitations::table
        .filter(invitations::employee_id.eq(ids[2] as i32))
        .select(invitations::team_id)
        .first(&mut conn)
        .unwrap();
    assert_eq!(team_id, sub_team, "the team as at sending");
    assert_eq!(day, chrono::Utc::now().date_naive());
    let answered: Vec<bool> = invitations::table
        .order(invitations::employee_id)
        .select(invitations::responded)
        .load(&mut conn)
        .unwrap();
    assert_eq!(answered, vec![false, false, true]);
}

async fn missed_rounds_are_skipped_and_late_ones_still_sent(app: TestApp) {
    let admin = app.admin_token().await;
    let (team, _) = people(&app, &admin).await;
    let survey: Value = app
        .post("/api/v1/surveys", Some(&admin), weekly(team))
        .await
        .json()
        .await
        .unwrap();
    // Down from before the first round until 2 days into the second one's window.
    let t = app.tick("2035-12-16T08:00:00Z").await;
    assert_eq!(
        (t.schedule.rounds_skipped, t.schedule.rounds_sent, t.sent),
        (1, 1, 3)
    );
    let rounds: Value = app
        .get(
            &format!("/api/v1/surveys/{}/rounds", survey["id"]),
            Some(&admin),
        )
        .await
        .json()
        .await
        .unwrap();
    let statuses: Vec<(&str, &str, i64)> = rounds
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["scheduled_for"].as_str().unwrap(),
                r["status"].as_str().unwrap(),
                r["invited"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        vec![
            ("2035-12-14T08:00:00Z", "open", 3),
            ("2035-12-07T08:00:00Z", "skipped", 0)
        ]
    );
    assert_eq!(
        rounds[0]["opens_at"], "2035-12-16T08:00:00Z",
        "sent late, opens now"
    );
    assert_eq!(
        rounds[0]["closes_at"], "2035-12-19T08:00:00Z",
        "but closes as planned"
    );

    // Paused surveys send nothing; resuming does not send what fell due meanwhile.
    let paused = app
        .patch(
            &format!("/api/v1/surveys/{}", survey["id"]),
            &admin,
            json!({"status": "paused"}),
        )
        .await;
    assert_eq!(
        paused.json::<Value>().await.unwrap()["next_round_at"],
        Value::Null
    );
    assert_eq!(
        app.tick("2035-12-21T08:00:00Z").await.schedule.rounds_sent,
        0
    );
}

async fn editing_questions_applies_to_later_rounds_only(app: TestApp) {
    let admin = app.admin_token().await;
    let (team, _) = people(&app, &admin).await;
    let survey: Value = app
        .post("/api/v1/surveys", Some(&admin), weekly(team))
        .await
        .json()
        .await
        .unwrap();
    let old_q: Vec<i64> = survey["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["id"].as_i64().unwrap())
        .collect();
    app.tick("2035-12-07T08:00:00Z").await;
    let first_round_text = read_email(&app.emails()[0]).2;
    let edited: Value = app
        .patch(
            &format!("/api/v1/surveys/{}", survey["id"]),
            &admin,
            json!({"questions": [{"kind": "scale", "prompt": "I feel heard"}]}),
        )
        .await
        .json()
        .await
        .unwrap();
    let new_q = edited["questions"][0]["id"].as_i64().unwrap();
    assert!(!old_q.contains(&new_q));

    // The first round still takes its own questions.
    let token = link_path(&first_round_text)
        .trim_start_matches("/s/")
        .to_string();
    let old = json!([{"question_id": old_q[0], "score": 8}, {"question_id": old_q[1], "score": 3}, {"question_id": old_q[2], "choice": "Home"}]);
    assert_eq!(
        app.post(
            "/api/v1/responses",
            None,
            json!({"token": token, "answers": old})
        )
        .await
        .status(),
        201
    );

    // The next round uses the new list.
    app.tick("2035-12-14T08:00:00Z").await;
    let newest = app
        .emails()
        .iter()
        .map(|e| read_email(e))
        .rfind(|(_, s, _)| s.contains("Weekly"))
        .unwrap();
    let html = app
        .get(&link_path(&newest.2), None)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("I feel heard") && !html.contains("recommend working here"),
        "{html}"
    );
    let archived = app
        .patch(
            &format!("/api/v1/surveys/{}", survey["id"]),
            &admin,
            json!({"status": "archived"}),
        )
        .await;
    assert_eq!(archived.status(), 200);
    assert_eq!(
        app.patch(
            &format!("/api/v1/surveys/{}", survey["id"]),
            &admin,
            json!({"status": "active"})
        )
        .await
        .status(),
        409
    );
    assert_eq!(
        app.post(
            &format!("/api/v1/surveys/{}/rounds", survey["id"]),
            Some(&admin),
            json!({})
        )
        .await
        .status(),
        409
    );
}

crate::on_both_engines!(
    surveys_are_checked_field_by_field,
    a_weekly_round_goes_out_is_answered_and_reminded,
    answers_are_checked_and_nothing_partial_is_stored,
    stored_answers_cannot_be_traced_to_a_person,
    missed_rounds_are_skipped_and_late_ones_still_sent,
    editing_questions_applies_to_later_rounds_only,
);
