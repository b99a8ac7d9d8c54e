//! Answers committed together: a burst gets one right reply each, a failed batch
//! leaves nothing behind, and a round closed by another instance takes no more.

use crate::helpers::TestApp;
use crate::surveys::{create_survey, weekly};
use diesel::prelude::*;
use futures_util::future::join_all;
use pulse::answering::{batch, Submission, SubmitError};
use pulse::db::schema::{answers, invitations, responses, round_team_stats, rounds};
use pulse::db::DbConnection;
use pulse::domain::survey::RawAnswer;
use serde_json::{json, Value};

/// A survey of the four kinds of question sent now to `people` employees of one
/// team; returns the round id, the question ids and one link token per invitee.
async fn open_round(app: &TestApp, admin: &str, people: usize) -> (i32, Vec<i64>, Vec<String>) {
    let team = app.team(admin, json!({"name": "Support"})).await;
    let mut csv = String::from("email,name,team\n");
    for i in 0..people {
        csv.push_str(&format!("p{i}@example.com,Person {i},Support\n"));
    }
    assert_eq!(app.post_csv(admin, &csv).await.status(), 200);
    let (survey, q) = create_survey(app, admin, weekly(team)).await;
    let res = app
        .post(
            &format!("/api/v1/surveys/{}/rounds", survey["id"]),
            Some(admin),
            json!({}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let round = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap() as i32;
    // Known tokens instead of reading them out of the emails.
    let mut conn = app.conn();
    let ids: Vec<i32> = invitations::table
        .filter(invitations::round_id.eq(round))
        .select(invitations::id)
        .order(invitations::id)
        .load(&mut conn)
        .unwrap();
    assert_eq!(ids.len(), people);
    let tokens = ids
        .iter()
        .map(|id| {
            let token = format!("token-{round}-{id}");
            diesel::update(invitations::table.find(id))
                .set(invitations::token_hash.eq(pulse::tokens::sha256_hex(&token)))
                .execute(&mut conn)
                .unwrap();
            token
        })
        .collect();
    (round, q, tokens)
}

fn body(token: &str, q: &[i64], score: i64, text: &str) -> Value {
    json!({"token": token, "answers": [
        {"question_id": q[0], "score": score}, {"question_id": q[1], "score": 4},
        {"question_id": q[2], "choice": "Home"}, {"question_id": q[3], "text": text}]})
}

fn raw(q: &[i64], score: i32, text: &str) -> Vec<RawAnswer> {
    serde_json::from_value(body("", q, score.into(), text)["answers"].clone()).unwrap()
}

/// What the database holds for a round: responses, answers, invitations marked
/// answered, the round's counter and the sum of its team counters.
fn stored(conn: &mut DbConnection, round: i32) -> [i64; 5] {
    let responses: i64 = responses::table
        .filter(responses::round_id.eq(round))
        .count()
        .get_result(conn)
        .unwrap();
    let of_round = responses::table
        .filter(responses::round_id.eq(round))
        .select(responses::id);
    let answers: i64 = answers::table
        .filter(answers::response_id.eq_any(of_round))
        .count()
        .get_result(conn)
        .unwrap();
    let marked: i64 = invitations::table
        .filter(invitations::round_id.eq(round))
        .filter(invitations::responded.eq(true))
        .count()
        .get_result(conn)
        .unwrap();
    let responded: i32 = rounds::table
        .find(round)
        .select(rounds::responded)
        .first(conn)
        .unwrap();
    let counted: Vec<i32> = round_team_stats::table
        .filter(round_team_stats::round_id.eq(round))
        .select(round_team_stats::responses)
        .load(conn)
        .unwrap();
    [
        responses,
        answers,
        marked,
        responded.into(),
        counted.iter().map(|&n| i64::from(n)).sum(),
    ]
}

async fn a_burst_of_answers_gets_one_right_reply_each(app: TestApp) {
    let admin = app.admin_token().await;
    let (round, q, tokens) = open_round(&app, &admin, 30).await;
    // Everyone answers at once; the first link four times, the second with a
    // score out of range, and one link that does not exist.
    let mut sent: Vec<(Value, u16, &str)> = tokens[2..]
        .iter()
        .map(|t| (body(t, &q, 9, "fine"), 201, ""))
        .collect();
    for _ in 0..4 {
        sent.push((body(&tokens[0], &q, 3, "dup"), 0, ""));
    }
    sent.push((body(&tokens[1], &q, 11, "bad"), 422, "validation_failed"));
    sent.push((body("no-such-token", &q, 9, "x"), 410, "invalid_token"));
    let replies = join_all(sent.iter().map(|(b, _, _)| async {
        let res = app.post("/api/v1/responses", None, b.clone()).await;
        let status = res.status().as_u16();
        let body: Value = res.json().await.unwrap_or_default();
        (status, body["error"].as_str().unwrap_or("").to_string())
    }))
    .await;
    let mut duplicates = vec![];
    for ((b, status, code), (got, got_code)) in sent.iter().zip(&replies) {
        if *status == 0 {
            duplicates.push((*got, got_code.clone()));
        } else {
            assert_eq!((*got, got_code.as_str()), (*status, *code), "{b}");
        }
    }
    duplicates.sort();
    assert_eq!(
        duplicates,
        [
            (201, String::new()),
            (410, "already_answered".into()),
            (410, "already_answered".into()),
            (410, "already_answered".into()),
        ],
        "one submission of a link counts, the others are told it was used"
    );
    let mut conn = app.conn();
    assert_eq!(stored(&mut conn, round), [29, 29 * 4, 29, 29, 29]);
    // Nothing of the bad answer was kept: its link still works.
    let res = app
        .post("/api/v1/responses", None, body(&tokens[1], &q, 8, "ok"))
        .await;
    assert_eq!(res.status(), 201);
    assert_eq!(stored(&mut conn, round), [30, 30 * 4, 30, 30, 30]);
}

/// One batch holding every kind of submission: each gets its own outcome and
/// the good ones are stored together, counted once each.
async fn one_batch_sorts_out_each_submission(app: TestApp) {
    let admin = app.admin_token().await;
    let (round, q, tokens) = open_round(&app, &admin, 6).await;
    let now = chrono::Utc::now();
    let batch = [
        Submission::new(&tokens[0], raw(&q, 10, "a"), now),
        Submission::new(&tokens[0], raw(&q, 1, "again"), now),
        Submission::new(&tokens[1], raw(&q, 42, "out of range"), now),
        Submission::new("unknown", raw(&q, 9, "b"), now),
        Submission::new(&tokens[2], raw(&q, 7, "c"), now),
        Submission::new(&tokens[3], raw(&q, 2, "d"), now),
        // Too late for this round, whatever the round row says.
        Submission::new(
            &tokens[4],
            raw(&q, 9, "e"),
            now + chrono::Duration::days(30),
        ),
    ];
    let mut conn = app.conn();
    let mut facts = batch::FactsCache::default();
    let refs: Vec<&Submission> = batch.iter().collect();
    let outcomes = batch::commit(&mut conn, &mut facts, &refs).unwrap();
    let seen: Vec<String> = outcomes
        .iter()
        .map(|o| match o {
            Ok(()) => "stored".to_string(),
            Err(SubmitError::Refused(r)) => format!("{r:?}"),
            Err(SubmitError::Invalid(fields)) => format!("invalid {:?}", fields.keys()),
            Err(SubmitError::Failed(e)) => format!("failed {e}"),
        })
        .collect();
    assert_eq!(
        seen,
        [
            "stored".to_string(),
            "AlreadyAnswered".into(),
            format!("invalid [{}]", q[0]),
            "InvalidToken".into(),
            "stored".into(),
            "stored".into(),
            "RoundClosed".into(),
        ]
    );
    assert_eq!(stored(&mut conn, round), [3, 12, 3, 3, 3]);
    let (promoters, passives, detractors): (i32, i32, i32) = round_team_stats::table
        .filter(round_team_stats::round_id.eq(round))
        .select((
            diesel::dsl::sum(round_team_stats::promoters).assume_not_null(),
            diesel::dsl::sum(round_team_stats::passives).assume_not_null(),
            diesel::dsl::sum(round_team_stats::detractors).assume_not_null(),
        ))
        .first::<(i64, i64, i64)>(&mut conn)
        .map(|(a, b, c)| (a as i32, b as i32, c as i32))
        .unwrap();
    assert_eq!((promoters, passives, detractors), (1, 1, 1));
}

/// Makes the database refuse any answer whose comment is `boom`, as a crash or
/// a full disk would in the middle of a batch.
fn refuse_boom(conn: &mut DbConnection) {
    use diesel::connection::SimpleConnection;
    let sql = match conn {
        DbConnection::Sqlite(_) => {
            "CREATE TRIGGER refuse_boom BEFORE INSERT ON answers WHEN NEW.text = 'boom' \
             BEGIN SELECT RAISE(ABORT, 'boom'); END;"
        }
        DbConnection::Postgresql(_) => {
            "CREATE FUNCTION refuse_boom() RETURNS trigger AS $$ BEGIN \
               IF NEW.text = 'boom' THEN RAISE EXCEPTION 'boom'; END IF; RETURN NEW; \
             END $$ LANGUAGE plpgsql; \
             CREATE TRIGGER refuse_boom BEFORE INSERT ON answers \
               FOR EACH ROW EXECUTE FUNCTION refuse_boom();"
        }
    };
    conn.batch_execute(sql).unwrap();
}

async fn a_failed_batch_leaves_nothing_half_written(app: TestApp) {
    let admin = app.admin_token().await;
    let (round, q, tokens) = open_round(&app, &admin, 6).await;
    let mut conn = app.conn();
    refuse_boom(&mut conn);
    let now = chrono::Utc::now();
    let batch = [
        Submission::new(&tokens[0], raw(&q, 10, "fine"), now),
        Submission::new(&tokens[1], raw(&q, 3, "boom"), now),
        Submission::new(&tokens[2], raw(&q, 7, "fine"), now),
    ];
    let refs: Vec<&Submission> = batch.iter().collect();
    let mut facts = batch::FactsCache::default();
    assert!(batch::commit(&mut conn, &mut facts, &refs).is_err());
    assert_eq!(
        stored(&mut conn, round),
        [0; 5],
        "no response, answer, flag or count of the failed batch"
    );

    // Through the server: the others of a failing batch are stored on their own.
    let replies = join_all([0, 1, 2].map(|i| {
        let b = body(&tokens[i], &q, 9, if i == 1 { "boom" } else { "fine" });
        let app = &app;
        async move { app.post("/api/v1/responses", None, b).await.status() }
    }))
    .await;
    let replies: Vec<u16> = replies.iter().map(|s| s.as_u16()).collect();
    assert_eq!(replies, [201, 500, 201]);
    assert_eq!(stored(&mut conn, round), [2, 8, 2, 2, 2]);
}

/// A second instance of the application on the same database.
async fn second_instance(app: &TestApp) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let vars = [
        ("DATABASE_URL", app.database_url.clone()),
        ("PULSE_BASE_URL", address.clone()),
        ("PULSE_MAIL_DIR", app.mail_dir.display().to_string()),
    ];
    let settings = pulse::config::Settings::from_lookup(|k| {
        vars.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    })
    .unwrap();
    let other = pulse::startup::Application::build_with_listener(settings, listener)
        .await
        .unwrap();
    tokio::spawn(other.run_until_stopped());
    address
}

async fn a_round_closed_elsewhere_takes_no_more_answers(app: TestApp) {
    let admin = app.admin_token().await;
    let (round, q, tokens) = open_round(&app, &admin, 24).await;
    // This instance has seen the round open and knows its questions.
    let res = app
        .post("/api/v1/responses", None, body(&tokens[0], &q, 9, "x"))
        .await;
    assert_eq!(res.status(), 201);

    let other = second_instance(&app).await;
    let close = async {
        let res = app
            .api
            .post(format!("{other}/api/v1/rounds/{round}/close"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    };
    // Answers in flight while the other instance closes the round.
    let in_flight = join_all(tokens[1..16].iter().map(|t| {
        let (app, b) = (&app, body(t, &q, 8, "y"));
        async move {
            let res = app.post("/api/v1/responses", None, b).await;
            let status = res.status().as_u16();
            let body: Value = res.json().await.unwrap_or_default();
            (status, body["error"].as_str().unwrap_or("").to_string())
        }
    }));
    let ((), replies) = tokio::join!(close, in_flight);
    let accepted = replies.iter().filter(|(s, _)| *s == 201).count() as i64;
    for r in &replies {
        assert!(r.0 == 201 || (r.0 == 410 && r.1 == "round_closed"), "{r:?}");
    }
    // Later answers are refused, by this instance too.
    for t in &tokens[16..] {
        let res = app
            .post("/api/v1/responses", None, body(t, &q, 9, "z"))
            .await;
        let status = res.status();
        let reply: Value = res.json().await.unwrap();
        assert_eq!(
            (status.as_u16(), reply["error"].as_str()),
            (410, Some("round_closed"))
        );
    }
    // Every accepted answer is in the closed round, and no one's flag survived the close.
    let mut conn = app.conn();
    assert_eq!(
        stored(&mut conn, round),
        [
            1 + accepted,
            (1 + accepted) * 4,
            0,
            1 + accepted,
            1 + accepted
        ]
    );
}

crate::on_both_engines!(
    a_burst_of_answers_gets_one_right_reply_each,
    one_batch_sorts_out_each_submission,
    a_failed_batch_leaves_nothing_half_written,
    a_round_closed_elsewhere_takes_no_more_answers,
);
