//! Anonymous conversations on comments: a lead replies, the respondent answers
//! through their private link, neither learns who the other is; hidden comments
//! cannot be fetched or answered; nothing stored ties a conversation to a person.

use crate::helpers::{TestApp, PASSWORD};
use crate::pages::Browser;
use crate::private_notes::{holds, whole_database};
use crate::reports::{close_open_rounds, enps_survey, hire, send_now};
use diesel::prelude::*;
use serde_json::{json, Value};

pub(crate) fn count(app: &TestApp, sql: &str) -> i64 {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = app.conn();
    let q = diesel::sql_query(sql);
    match &mut conn {
        pulse::db::DbConnection::Sqlite(c) => q.get_result::<N>(c).unwrap().n,
        pulse::db::DbConnection::Postgresql(c) => q.get_result::<N>(c).unwrap().n,
    }
}

/// The column names of a table, on either engine.
fn columns(app: &TestApp, table: &str) -> Vec<String> {
    #[derive(QueryableByName)]
    struct C {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
    }
    let mut conn = app.conn();
    let mut out: Vec<String> = match &mut conn {
        pulse::db::DbConnection::Sqlite(c) => {
            diesel::sql_query(format!("SELECT name FROM pragma_table_info('{table}')"))
                .load::<C>(c)
                .unwrap()
        }
        pulse::db::DbConnection::Postgresql(c) => diesel::sql_query(format!(
            "SELECT column_name::text AS name FROM information_schema.columns WHERE table_name = '{table}'"
        ))
        .load::<C>(c)
        .unwrap(),
    }
    .into_iter()
    .map(|c| c.name)
    .collect();
    out.sort();
    out
}

/// Ops: a lead (Lea) and 6 people; Sales: another lead (Sam) and 6 people; one
/// survey with eNPS and a comment for both teams, one round sent now.
pub(crate) struct World {
    pub admin: String,
    pub lead: String,
    pub other_lead: String,
    pub ops: i64,
    pub sales: i64,
    pub round: i64,
    pub question: i64,
    pub survey: i64,
    pub tokens: std::collections::HashMap<String, String>,
}

pub(crate) async fn world(app: &TestApp) -> World {
    let admin = app.admin_token().await;
    let lea = app
        .employee(&admin, json!({"email": "lea@example.com", "name": "Lea Lead", "role": "lead", "hired_on": "2024-01-01", "password": PASSWORD}))
        .await;
    let sam = app
        .employee(&admin, json!({"email": "sam@example.com", "name": "Sam Lead", "role": "lead", "hired_on": "2024-01-01", "password": PASSWORD}))
        .await;
    let ops = app
        .team(&admin, json!({"name": "Ops", "lead_id": lea}))
        .await;
    let sales = app
        .team(&admin, json!({"name": "Sales", "lead_id": sam}))
        .await;
    hire(app, &admin, "ops", 6, ops).await;
    hire(app, &admin, "sales", 6, sales).await;
    let survey: Value = app
        .post(
            "/api/v1/surveys",
            Some(&admin),
            enps_survey(&[ops, sales], "1-10"),
        )
        .await
        .json()
        .await
        .unwrap();
    let question = survey["questions"][0]["id"].as_i64().unwrap();
    let survey = survey["id"].as_i64().unwrap();
    let tokens = send_now(app, &admin, survey).await;
    let rounds: Value = app
        .get(&format!("/api/v1/surveys/{survey}/rounds"), Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    World {
        lead: app.login("lea@example.com", PASSWORD).await,
        other_lead: app.login("sam@example.com", PASSWORD).await,
        admin,
        ops,
        sales,
        round: rounds[0]["id"].as_i64().unwrap(),
        question,
        survey,
        tokens,
    }
}

/// Answers with a score and, when given, a comment; returns the conversation link's path.
pub(crate) async fn answer(
    app: &TestApp,
    token: &str,
    q: i64,
    comment: Option<&str>,
) -> Option<String> {
    let mut answers = vec![json!({"question_id": q, "score": 8})];
    if let Some(c) = comment {
        answers.push(json!({"question_id": q + 1, "text": c}));
    }
    let res = app
        .post(
            "/api/v1/responses",
            None,
            json!({"token": token, "answers": answers}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    body["conversation_url"]
        .as_str()
        .map(|u| u.trim_start_matches(&app.address).to_string())
}

async fn page(app: &TestApp, path: &str) -> (u16, String) {
    let res = app.get(path, None).await;
    (res.status().as_u16(), res.text().await.unwrap())
}

async fn a_lead_replies_and_the_respondent_answers_without_either_being_named(app: TestApp) {
    let w = world(&app).await;
    let mut links = vec![];
    for i in 0..6 {
        let t = &w.tokens[&format!("ops{i}@example.com")];
        let comment = (i < 5).then(|| format!("Ops comment number {i}"));
        links.push(answer(&app, t, w.question, comment.as_deref()).await);
    }
    for i in 0..6 {
        answer(
            &app,
            &w.tokens[&format!("sales{i}@example.com")],
            w.question,
            Some("Sales says hi"),
        )
        .await;
    }
    assert!(links[5].is_none(), "no comment, no conversation");
    let mine = links[0].clone().expect("a comment opens a conversation");
    assert!(mine.starts_with("/c/") && mine.len() == 3 + 64, "{mine}");

    // While the round is open: nothing to read or answer on either side.
    let comments_path = format!(
        "/api/v1/reports/rounds/{}/comments?team_id={}",
        w.round, w.ops
    );
    let listed: Value = app
        .get(&comments_path, Some(&w.lead))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed, json!([]));
    let (status, html) = page(&app, &mine).await;
    assert_eq!(status, 200);
    assert!(html.contains("still open"), "{html}");
    let open_ids: Vec<i64> = {
        #[derive(QueryableByName)]
        struct I {
            #[diesel(sql_type = diesel::sql_types::Integer)]
            id: i32,
        }
        let mut conn = app.conn();
        let q = diesel::sql_query("SELECT id FROM answers WHERE text IS NOT NULL");
        match &mut conn {
            pulse::db::DbConnection::Sqlite(c) => q.load::<I>(c).unwrap(),
            pulse::db::DbConnection::Postgresql(c) => q.load::<I>(c).unwrap(),
        }
        .into_iter()
        .map(|i| i64::from(i.id))
        .collect()
    };
    let res = app
        .post(
            &format!("/api/v1/comments/{}/replies", open_ids[0]),
            Some(&w.admin),
            json!({"text": "early"}),
        )
        .await;
    assert_eq!(
        res.status(),
        404,
        "an open round's comments cannot be answered"
    );
    let before_close: i64 = count(&app, "SELECT COUNT(*) AS n FROM conversations");
    assert_eq!(before_close, 11, "5 in Ops and 6 in Sales left a comment");
    let ids_before = count(
        &app,
        "SELECT COUNT(*) AS n FROM conversations c JOIN responses r ON r.id = c.response_id",
    );
    assert_eq!(ids_before, 11);

    close_open_rounds(&app, &w.admin).await;
    // The conversations followed their responses to the new random ids.
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) AS n FROM conversations c JOIN responses r ON r.id = c.response_id"
        ),
        11
    );

    let listed: Value = app
        .get(&comments_path, Some(&w.lead))
        .await
        .json()
        .await
        .unwrap();
    let listed = listed.as_array().unwrap().clone();
    assert_eq!(listed.len(), 5, "Ops' comments only: {listed:?}");
    let target = listed
        .iter()
        .find(|c| c["text"] == "Ops comment number 0")
        .expect("the comment is listed");
    let id = target["id"].as_i64().unwrap();
    assert!(target.get("respondent").is_none() && target.get("team_id").is_none());

    // Sam leads Sales: Ops' comment does not exist for him; a member cannot reply.
    let res = app
        .post(
            &format!("/api/v1/comments/{id}/replies"),
            Some(&w.other_lead),
            json!({"text": "hi"}),
        )
        .await;
    assert_eq!(res.status(), 404);
    assert_eq!(
        app.get(
            &format!("/api/v1/comments/{id}/replies"),
            Some(&w.other_lead)
        )
        .await
        .status(),
        404
    );
    let member = {
        let mut conn = app.conn();
        let e = pulse::repo::employees::find_by_email(&mut conn, "ops3@example.com")
            .unwrap()
            .unwrap();
        pulse::repo::employees::update(
            &mut conn,
            e.id,
            &pulse::repo::employees::EmployeeChanges {
                password_hash: Some(Some(pulse::auth::password::hash(PASSWORD))),
                ..Default::default()
            },
        )
        .unwrap();
        app.login(&e.email, PASSWORD).await
    };
    let res = app
        .post(
            &format!("/api/v1/comments/{id}/replies"),
            Some(&member),
            json!({"text": "hi"}),
        )
        .await;
    assert_eq!(res.status(), 403);

    // Bad input says what to fix; nothing is stored.
    for body in [
        json!({}),
        json!({"text": "   "}),
        json!({"text": "x".repeat(2001)}),
    ] {
        let res = app
            .post(
                &format!("/api/v1/comments/{id}/replies"),
                Some(&w.lead),
                body,
            )
            .await;
        assert_eq!(res.status(), 422);
        let b: Value = res.json().await.unwrap();
        assert!(b["fields"]["text"].is_string(), "{b}");
    }
    assert_eq!(
        app.post(
            "/api/v1/comments/999999/replies",
            Some(&w.lead),
            json!({"text": "x"})
        )
        .await
        .status(),
        404
    );

    let emails_before = app.emails().len();
    let res = app
        .post(
            &format!("/api/v1/comments/{id}/replies"),
            Some(&w.lead),
            json!({"text": "Thanks, can you say more about the rota?"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let thread: Value = res.json().await.unwrap();
    assert_eq!(thread["messages"][0]["author"], "A team lead");
    assert_eq!(thread["messages"][0]["side"], "lead");
    let thread_text = thread.to_string();
    assert!(
        !thread_text.contains("Lea") && !thread_text.contains("lea@"),
        "{thread_text}"
    );

    // The respondent reads it through their link: "Your team lead", no name.
    let (status, html) = page(&app, &mine).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("Thanks, can you say more about the rota?"),
        "{html}"
    );
    assert!(html.contains("Your team lead"));
    assert!(!html.contains("Lea") && !html.contains("lea@example.com"));
    // Another respondent's link shows their own comment and no one else's thread.
    let (_, other) = page(&app, links[1].as_deref().unwrap()).await;
    assert!(other.contains("Ops comment number 1") && !other.contains("rota"));

    // The respondent answers; a too long answer is refused with the draft kept.
    let form = |text: &str| {
        vec![
            ("comment_id".to_string(), id.to_string()),
            ("text".to_string(), text.to_string()),
        ]
    };
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = client
        .post(app.url(&mine))
        .form(&form(&"y".repeat(2001)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("at most 2000 characters"));
    let res = client
        .post(app.url(&mine))
        .form(&form("Weekend shifts change every week."))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    // Someone else's comment cannot be answered through this link.
    let other_id = listed
        .iter()
        .find(|c| c["text"] == "Ops comment number 1")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let res = client
        .post(app.url(&mine))
        .form(&[
            ("comment_id", other_id.to_string()),
            ("text", "sneaky".to_string()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    // A respondent cannot start a thread no one opened.
    let res = client
        .post(app.url(links[1].as_deref().unwrap()))
        .form(&[
            ("comment_id", other_id.to_string()),
            ("text", "first!".to_string()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("once a team lead or HR has replied"));

    let replies: Value = app
        .get(&format!("/api/v1/comments/{id}/replies"), Some(&w.lead))
        .await
        .json()
        .await
        .unwrap();
    let replies = replies.as_array().unwrap();
    assert_eq!(replies.len(), 2);
    assert_eq!(replies[1]["author"], "The respondent");
    assert_eq!(replies[1]["text"], "Weekend shifts change every week.");
    assert_eq!(
        replies[1]["sent_on"].as_str().unwrap().len(),
        10,
        "a day, no time"
    );
    // HR sees and answers it too, as "HR".
    let res = app
        .post(
            &format!("/api/v1/comments/{id}/replies"),
            Some(&w.admin),
            json!({"text": "HR here: noted."}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let (_, html) = page(&app, &mine).await;
    assert!(html.contains("HR here: noted.") && !html.contains("Hana"));

    // No one was emailed: Pulse does not know who the respondent is.
    assert_eq!(app.emails().len(), emails_before);

    // Nothing stored ties a conversation or a message to a person or an invitation.
    assert_eq!(
        columns(&app, "conversations"),
        ["id", "response_id", "round_id", "token_hash"]
    );
    assert_eq!(
        columns(&app, "comment_messages"),
        [
            "answer_id",
            "body",
            "id",
            "position",
            "round_id",
            "sent_on",
            "side"
        ]
    );
    let db = whole_database(&app);
    for link in links.iter().flatten() {
        let token = link.trim_start_matches("/c/");
        assert!(
            !holds(&db, token),
            "a conversation token is stored as a hash only"
        );
    }
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM audit_log WHERE target LIKE '%comment%' OR detail LIKE '%comment%'"), 0);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) AS n FROM invitations WHERE responded"
        ),
        0
    );
}

async fn hidden_comments_cannot_be_fetched_or_answered(app: TestApp) {
    let w = world(&app).await;
    // Ops: 6 comments; Sales: 3 (under the comment threshold of 5).
    for i in 0..6 {
        answer(
            &app,
            &w.tokens[&format!("ops{i}@example.com")],
            w.question,
            Some("ops view"),
        )
        .await;
    }
    let mut sales_link = None;
    for i in 0..3 {
        sales_link = answer(
            &app,
            &w.tokens[&format!("sales{i}@example.com")],
            w.question,
            Some("sales view"),
        )
        .await;
    }
    close_open_rounds(&app, &w.admin).await;
    let sales_comments: Value = app
        .get(
            &format!(
                "/api/v1/reports/rounds/{}/comments?team_id={}",
                w.round, w.sales
            ),
            Some(&w.admin),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(sales_comments, json!([]), "too few in Sales for comments");
    // Shown beside the company's, Ops' comments would give Sales' away: hidden too.
    let company: Value = app
        .get(
            &format!("/api/v1/reports/rounds/{}/comments", w.round),
            Some(&w.admin),
        )
        .await
        .json()
        .await
        .unwrap();
    let ops: Value = app
        .get(
            &format!(
                "/api/v1/reports/rounds/{}/comments?team_id={}",
                w.round, w.ops
            ),
            Some(&w.admin),
        )
        .await
        .json()
        .await
        .unwrap();
    let shown = company.as_array().unwrap().len() + ops.as_array().unwrap().len();
    assert!(
        company.as_array().unwrap().is_empty() || ops.as_array().unwrap().is_empty(),
        "complementary suppression: {company} {ops}"
    );
    assert!(shown > 0 || company.as_array().unwrap().is_empty());
    // Whatever the report hides, an id does not reveal: every hidden comment is 404.
    #[derive(QueryableByName)]
    struct I {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        id: i32,
        #[diesel(sql_type = diesel::sql_types::Text)]
        text: String,
    }
    let all: Vec<I> = {
        let mut conn = app.conn();
        let q = diesel::sql_query("SELECT id, text FROM answers WHERE text IS NOT NULL");
        match &mut conn {
            pulse::db::DbConnection::Sqlite(c) => q.load::<I>(c).unwrap(),
            pulse::db::DbConnection::Postgresql(c) => q.load::<I>(c).unwrap(),
        }
    };
    let visible: Vec<i64> = company
        .as_array()
        .unwrap()
        .iter()
        .chain(ops.as_array().unwrap())
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    for a in &all {
        let path = format!("/api/v1/comments/{}/replies", a.id);
        let expected = if visible.contains(&i64::from(a.id)) {
            200
        } else {
            404
        };
        assert_eq!(
            app.get(&path, Some(&w.admin)).await.status(),
            expected,
            "{}",
            a.text
        );
        if expected == 404 {
            assert_eq!(
                app.post(&path, Some(&w.admin), json!({"text": "who?"}))
                    .await
                    .status(),
                404
            );
        }
    }
    assert!(all.iter().any(|a| a.text == "sales view"));
    // Sam leads Sales, whose comments his report hides: none exists for him.
    for a in all.iter().filter(|a| a.text == "sales view") {
        let path = format!("/api/v1/comments/{}/replies", a.id);
        assert_eq!(app.get(&path, Some(&w.other_lead)).await.status(), 404);
    }
    // The Sales respondent is told whether anyone can read their comment at all:
    // only among the company's, when the company's comments are the ones shown.
    let readable = company
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["text"] == "sales view");
    let (_, html) = page(&app, sales_link.as_deref().unwrap()).await;
    assert_eq!(html.contains("Too few people"), !readable, "{html}");
}

async fn conversations_go_with_the_rounds_answers(app: TestApp) {
    let w = world(&app).await;
    let mut link = None;
    for i in 0..6 {
        link = answer(
            &app,
            &w.tokens[&format!("ops{i}@example.com")],
            w.question,
            Some("keep or go"),
        )
        .await;
    }
    close_open_rounds(&app, &w.admin).await;
    let listed: Value = app
        .get(
            &format!(
                "/api/v1/reports/rounds/{}/comments?team_id={}",
                w.round, w.ops
            ),
            Some(&w.lead),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = listed[0]["id"].as_i64().unwrap();
    let res = app
        .post(
            &format!("/api/v1/comments/{id}/replies"),
            Some(&w.lead),
            json!({"text": "Retention reply"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let res = app
        .api
        .put(app.url("/api/v1/settings/retention"))
        .bearer_auth(&w.admin)
        .json(&json!({"answer_months": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    app.tick(&(chrono::Utc::now() + chrono::Duration::days(40)).to_rfc3339())
        .await;
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM conversations"), 0);
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM comment_messages"), 0);
    assert!(!holds(&whole_database(&app), "Retention reply"));
    let (status, _) = page(&app, link.as_deref().unwrap()).await;
    assert_eq!(status, 410);
    assert_eq!(
        app.get(&format!("/api/v1/comments/{id}/replies"), Some(&w.lead))
            .await
            .status(),
        404
    );
}

async fn the_round_page_replies_and_the_thank_you_page_shows_the_link(app: TestApp) {
    let w = world(&app).await;
    // Answering through the page: the thank-you page carries the private link.
    let client = reqwest::Client::new();
    let t0 = &w.tokens["ops0@example.com"];
    let html = client
        .post(app.url(&format!("/s/{t0}")))
        .form(&[
            (format!("q{}", w.question), "9".to_string()),
            (format!("q{}", w.question + 1), "Page comment".to_string()),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Your private conversation link"), "{html}");
    let at = html.find("/c/").unwrap();
    let link: String = html[at..]
        .chars()
        .take_while(|c| *c != '"' && *c != '<')
        .collect();
    for i in 1..6 {
        answer(
            &app,
            &w.tokens[&format!("ops{i}@example.com")],
            w.question,
            Some("other"),
        )
        .await;
    }
    close_open_rounds(&app, &w.admin).await;
    let lea = Browser::sign_in(&app, "lea@example.com", PASSWORD).await;
    let (status, html) = lea
        .page(&format!("/rounds/{}?team_id={}", w.round, w.ops))
        .await;
    assert_eq!(status, 200);
    assert!(
        html.contains("Reply anonymously") && html.contains("Page comment"),
        "{html}"
    );
    let at = html.find("Page comment").unwrap();
    let id_at = html[..at].rfind("id=\"comment-").unwrap() + 12;
    let id: String = html[id_at..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    let res = lea
        .post(
            &format!("/comments/{id}/replies"),
            &[
                ("text", "Reply from the page"),
                ("round_id", &w.round.to_string()),
                ("team_id", &w.ops.to_string()),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (_, html) = lea
        .page(&format!("/rounds/{}?team_id={}", w.round, w.ops))
        .await;
    assert!(html.contains("Reply from the page") && html.contains("A team lead"));
    let (_, mine) = page(&app, &link).await;
    assert!(mine.contains("Reply from the page") && mine.contains("Send my answer"));
    let _ = (w.sales, w.survey);
}

crate::on_both_engines!(
    a_lead_replies_and_the_respondent_answers_without_either_being_named,
    hidden_comments_cannot_be_fetched_or_answered,
    conversations_go_with_the_rounds_answers,
    the_round_page_replies_and_the_thank_you_page_shows_the_link,
);
