//! Opening big rounds: invitations written in chunks, carried on after a crash, emails stored small and rendered when sent.

use crate::helpers::TestApp;
use crate::surveys::{link_path, people, weekly};
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use pulse::db::schema::{invitations, outbox, round_openings, rounds};
use pulse::jobs::scheduler::{self, RoundOutcome, OPENING_CHUNK};
use serde_json::{json, Value};
use std::collections::HashSet;

fn at() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2035-12-07T08:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

/// More people than one chunk of invitations, all in one team, plus the admin.
async fn big_company(app: &TestApp, admin: &str) -> usize {
    let people = OPENING_CHUNK + 150;
    let mut csv = String::from("email,name,team,hired_on\n");
    for i in 0..people {
        csv.push_str(&format!("p{i}@example.com,Person {i},Big,2024-01-01\n"));
    }
    let res = app.post_csv(admin, &csv).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    people + 1
}

/// A survey for everyone, paused so that only the rounds a test opens exist.
async fn paused_survey(app: &TestApp, admin: &str) -> i64 {
    let mut body = weekly(0);
    body.as_object_mut().unwrap().remove("audience");
    let res = app.post("/api/v1/surveys", Some(admin), body).await;
    let survey: Value = res.json().await.unwrap();
    let id = survey["id"].as_i64().unwrap();
    let res = app
        .patch(
            &format!("/api/v1/surveys/{id}"),
            admin,
            json!({"status": "paused"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    id
}

fn counts(conn: &mut pulse::db::DbConnection, round_id: i32) -> (i32, usize, i64, i64) {
    let invited: i32 = rounds::table
        .find(round_id)
        .select(rounds::invited)
        .first(conn)
        .unwrap();
    let people: HashSet<i32> = invitations::table
        .filter(invitations::round_id.eq(round_id))
        .select(invitations::employee_id)
        .load::<i32>(conn)
        .unwrap()
        .into_iter()
        .collect();
    let emails: i64 = outbox::table
        .filter(outbox::dedupe_key.like(format!("invite:{round_id}:%")))
        .count()
        .get_result(conn)
        .unwrap();
    let opening: i64 = round_openings::table.count().get_result(conn).unwrap();
    (invited, people.len(), emails, opening)
}

/// A process dies after the first chunk of a round's invitations: while its
/// lease may be alive nobody else carries on, then the next scheduler pass
/// invites exactly those left, each once, with their emails.
async fn an_opening_cut_short_is_carried_on_by_the_next_pass(app: TestApp) {
    let admin = app.admin_token().await;
    let everyone = big_company(&app, &admin).await;
    let survey_id = paused_survey(&app, &admin).await;
    let mut conn = app.conn();
    let survey = pulse::repo::surveys::find(&mut conn, survey_id as i32)
        .unwrap()
        .unwrap();
    let outcome =
        scheduler::open_round_within(&mut conn, &survey, at(), at(), &app.state.mailing, 1, None)
            .unwrap();
    let RoundOutcome::Sent {
        round_id,
        invited,
        opening: true,
    } = outcome
    else {
        panic!("{outcome:?}")
    };
    assert_eq!(invited, OPENING_CHUNK);
    assert_eq!(
        counts(&mut conn, round_id),
        (OPENING_CHUNK as i32, OPENING_CHUNK, OPENING_CHUNK as i64, 1)
    );
    // The process carrying on dies holding the lease.
    assert!(pulse::repo::openings::claim(
        &mut conn,
        round_id,
        "dead",
        at().naive_utc(),
        (at() + Duration::seconds(60)).naive_utc()
    )
    .unwrap());
    let report =
        pulse::jobs::scheduler::run(&mut conn, &app.state.mailing, at() + Duration::seconds(30))
            .unwrap();
    assert_eq!(report.invitations, 0, "held by a process that may be alive");

    let report =
        pulse::jobs::scheduler::run(&mut conn, &app.state.mailing, at() + Duration::minutes(2))
            .unwrap();
    assert_eq!(report.invitations, everyone - OPENING_CHUNK);
    assert_eq!(
        counts(&mut conn, round_id),
        (everyone as i32, everyone, everyone as i64, 0)
    );
    let again =
        pulse::jobs::scheduler::run(&mut conn, &app.state.mailing, at() + Duration::minutes(5))
            .unwrap();
    assert_eq!(again.invitations, 0);
}

/// Sending a round by hand answers after the first chunk; the rest is
/// written meanwhile, and the round list shows it growing until it is done.
async fn sending_a_big_round_now_does_not_wait_for_every_invitation(app: TestApp) {
    let admin = app.admin_token().await;
    let everyone = big_company(&app, &admin).await;
    let survey_id = paused_survey(&app, &admin).await;
    let res = app
        .post(
            &format!("/api/v1/surveys/{survey_id}/rounds"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let round: Value = res.json().await.unwrap();
    let invited = round["invited"].as_i64().unwrap() as usize;
    assert!((OPENING_CHUNK..=everyone).contains(&invited), "{round}");
    let round_id = round["id"].as_i64().unwrap() as i32;

    let mut seen_opening = false;
    let mut listed = Value::Null;
    for _ in 0..600 {
        let res = app
            .get(&format!("/api/v1/surveys/{survey_id}/rounds"), Some(&admin))
            .await;
        let body: Value = res.json().await.unwrap();
        listed = body["items"]
            .as_array()
            .or(body.as_array())
            .and_then(|rounds| rounds.first().cloned())
            .unwrap_or_default();
        if listed["opening"] == json!(true) {
            seen_opening = true;
            assert_eq!(listed["to_invite"], json!(everyone), "{listed}");
        } else {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(listed["invited"], json!(everyone), "{listed}");
    assert!(listed.get("opening").is_none(), "{listed}");
    let mut conn = app.conn();
    assert_eq!(
        counts(&mut conn, round_id),
        (everyone as i32, everyone, everyone as i64, 0)
    );
    eprintln!("saw the opening in progress: {seen_opening}");
}

/// An invitation's outbox row holds what rendering needs, not the email;
/// the email is rendered when sent, under the Message-ID chosen when it was
/// queued, with a link that works; once sent the row forgets the link.
async fn round_emails_are_stored_small_and_rendered_when_sent(app: TestApp) {
    let admin = app.admin_token().await;
    let (team, _) = people(&app, &admin).await;
    app.post("/api/v1/surveys", Some(&admin), weekly(team))
        .await;
    let mut conn = app.conn();
    pulse::jobs::scheduler::run(&mut conn, &app.state.mailing, at()).unwrap();
    type Stored = (String, String, Option<String>, Option<String>, String);
    let stored: Vec<Stored> = outbox::table
        .order(outbox::id)
        .select((
            outbox::dedupe_key,
            outbox::message,
            outbox::template,
            outbox::token,
            outbox::message_id,
        ))
        .load(&mut conn)
        .unwrap();
    assert_eq!(stored.len(), 3);
    for (key, message, template, token, _) in &stored {
        assert!(key.starts_with("invite:"), "{key}");
        assert_eq!(message, "", "no composed email is stored");
        assert_eq!(template.as_deref(), Some("invitation"));
        assert_eq!(token.as_ref().map(String::len), Some(64));
    }

    let done = app.tick("2035-12-07T08:00:00Z").await;
    assert_eq!((done.sent, done.failed), (3, 0));
    let emails = app.emails();
    assert_eq!(emails.len(), 3);
    let ids: HashSet<String> = stored.iter().map(|s| s.4.clone()).collect();
    for raw in &emails {
        let mail = mailparse::parse_mail(raw.as_bytes()).unwrap();
        let id = mail
            .headers
            .iter()
            .find(|h| h.get_key().eq_ignore_ascii_case("Message-ID"))
            .map(|h| h.get_value())
            .unwrap();
        assert!(ids.contains(id.trim()), "{id} was chosen when queued");
        let text = mail.subparts[0].get_body().unwrap();
        let path = link_path(&text);
        let token = path.trim_start_matches("/s/");
        assert!(stored.iter().any(|s| s.3.as_deref() == Some(token)));
        let page = app.get(&path, None).await;
        assert_eq!(page.status(), 200, "the emailed link opens the form");
    }
    let left: Vec<(String, Option<String>)> = outbox::table
        .select((outbox::message, outbox::token))
        .load(&mut conn)
        .unwrap();
    assert!(
        left.iter().all(|(m, t)| m.is_empty() && t.is_none()),
        "{left:?}"
    );
}

crate::on_both_engines!(
    an_opening_cut_short_is_carried_on_by_the_next_pass,
    sending_a_big_round_now_does_not_wait_for_every_invitation,
    round_emails_are_stored_small_and_rendered_when_sent,
);
