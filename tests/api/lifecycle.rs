//! Lifecycle surveys and the manager digest, over a real SMTP server: each
//! milestone, each departure and each lead's week gets exactly one email,
//! whatever the repeated passes, restarts and racing instances.

use crate::helpers::{TestApp, ADMIN_EMAIL, PASSWORD};
use crate::pages::Browser;
use crate::smtp_sink::SmtpSink;
use crate::surveys::read_email;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::{json, Value};

crate::on_both_engines!(
    onboarding_milestones_go_once_each_and_cohorts_show_once_closed,
    a_departure_gets_the_exit_survey_once_and_its_answers_join_turnover,
    each_lead_gets_one_digest_a_week_in_their_language,
);

/// A quarter start well after the survey is created, so every date below is
/// the same whatever day the tests run.
const S: &str = "2036-01-01";

fn day(offset: i64) -> NaiveDate {
    S.parse::<NaiveDate>().unwrap() + Duration::days(offset)
}

fn noon(d: NaiveDate) -> DateTime<Utc> {
    d.and_hms_opt(12, 0, 0).unwrap().and_utc()
}

fn transport(sink: &SmtpSink) -> pulse::mail::Transport {
    let url = sink.url();
    let settings =
        pulse::config::Settings::from_lookup(|k| (k == "SMTP_URL").then(|| url.clone())).unwrap();
    pulse::mail::Transport::from_settings(&settings).unwrap()
}

/// One scheduler + dispatch pass at `at` over SMTP. With `restart`, on a pool
/// of its own, as a process started afresh would be.
async fn tick(app: &TestApp, sink: &SmtpSink, at: DateTime<Utc>, restart: bool) {
    let pool = if restart {
        let url = pulse::db::DatabaseUrl::parse(&app.database_url).unwrap();
        pulse::db::connect(&url, 2).unwrap()
    } else {
        app.state.pool.clone()
    };
    pulse::jobs::tick(&pool, &app.state.mailing, &transport(sink), at)
        .await
        .unwrap();
}

/// (recipient, subject, text) of every message the sink received.
fn mails(sink: &SmtpSink) -> Vec<(String, String, String)> {
    sink.received()
        .iter()
        .map(|m| {
            let (_, subject, text) = read_email(&m.data);
            (m.to.join(","), subject, text)
        })
        .collect()
}

fn to(sink: &SmtpSink, who: &str) -> Vec<(String, String)> {
    mails(sink)
        .into_iter()
        .filter(|(r, _, _)| r == who)
        .map(|(_, s, t)| (s, t))
        .collect()
}

async fn answer(app: &TestApp, text: &str, answers: Value) {
    let link = crate::surveys::link_path(text);
    assert_eq!(app.get(&link, None).await.status(), 200, "the link opens");
    let token = link.trim_start_matches("/s/");
    let res = app
        .post(
            "/api/v1/responses",
            None,
            json!({"token": token, "answers": answers}),
        )
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
}

async fn cohorts(app: &TestApp, admin: &str, survey_id: i64) -> Value {
    let path = format!("/api/v1/reports/lifecycle?survey_id={survey_id}");
    let res = app.get(&path, Some(admin)).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn create(app: &TestApp, admin: &str, body: Value) -> Value {
    let res = app.post("/api/v1/surveys", Some(admin), body).await;
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    body
}

async fn onboarding_milestones_go_once_each_and_cohorts_show_once_closed(app: TestApp) {
    let admin = app.admin_token().await;
    let team = app.team(&admin, json!({"name": "Support"})).await;
    let today = Utc::now().date_naive();
    let person = |email: &str, hired: NaiveDate, locale: &str| json!({"email": email, "name": email, "hired_on": hired.to_string(), "team_id": team, "locale": locale});
    // Three people reach 30 days on the quarter's first three days.
    for (i, locale) in ["fr", "en", "en"].iter().enumerate() {
        let hired = day(-30 + i as i64);
        app.employee(
            &admin,
            person(&format!("new{i}@example.com"), hired, locale),
        )
        .await;
    }
    // Hired long before the survey: their milestones have passed, no flood.
    app.employee(
        &admin,
        person("veteran@example.com", today - Duration::days(100), "en"),
    )
    .await;
    // Outside the audience.
    let other = app.team(&admin, json!({"name": "Finance"})).await;
    app.employee(
        &admin,
        json!({"email": "fin@example.com", "name": "Fin", "hired_on": day(-30).to_string(), "team_id": other}),
    )
    .await;

    let bad = app
        .post(
            "/api/v1/surveys",
            Some(&admin),
            json!({"title": "Onboarding", "questions": [{"kind": "scale", "prompt": "Q"}],
                   "trigger": {"kind": "onboarding", "days_after_hire": [60, 30]}}),
        )
        .await;
    assert_eq!(bad.status(), 422);
    let body: Value = bad.json().await.unwrap();
    assert!(
        body["fields"]["trigger.days_after_hire"].is_string(),
        "{body}"
    );

    let survey = create(
        &app,
        &admin,
        json!({
            "title": "Settling in",
            "questions": [
                {"kind": "scale", "prompt": "I know what is expected of me here"},
                {"kind": "text", "prompt": "What would have helped you settle in sooner?", "required": false}
            ],
            "audience": {"team_ids": [team]},
            "trigger": {"kind": "onboarding", "days_after_hire": [30, 60, 90]},
            "schedule": {"cadence": "once", "starts_on": today.to_string(), "send_time": "00:00",
                         "timezone": "UTC", "open_days": 14},
            "min_group_size": 3
        }),
    )
    .await;
    let id = survey["id"].as_i64().unwrap();
    assert_eq!(survey["trigger"]["days_after_hire"], json!([30, 60, 90]));
    assert_eq!(survey["next_round_at"], Value::Null);
    let q = survey["questions"][0]["id"].as_i64().unwrap();
    let by_hand = app
        .post(
            &format!("/api/v1/surveys/{id}/rounds"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(by_hand.status(), 409);

    let sink = SmtpSink::start().await;
    tick(&app, &sink, noon(today), false).await;
    assert!(
        mails(&sink).is_empty(),
        "nobody is due today: {:?}",
        mails(&sink)
    );

    // Each day of the quarter's start, with repeated passes and restarts.
    for d in 0..3 {
        tick(&app, &sink, noon(day(d)), false).await;
        tick(&app, &sink, noon(day(d)), true).await;
        tick(&app, &sink, noon(day(d)) + Duration::hours(3), true).await;
    }
    // Two instances racing on the same pass.
    let at = noon(day(2));
    let url = pulse::db::DatabaseUrl::parse(&app.database_url).unwrap();
    let invited: usize = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let (url, mailing) = (url.clone(), app.state.mailing.clone());
                s.spawn(move || {
                    let pool = pulse::db::connect(&url, 2).unwrap();
                    let mut conn = pool.get().unwrap();
                    pulse::jobs::lifecycle::run(&mut conn, &mailing, at).unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(invited, 0, "everyone due was invited before");
    for d in 3..8 {
        tick(&app, &sink, noon(day(d)), d % 2 == 0).await;
    }
    for i in 0..3 {
        let got = to(&sink, &format!("new{i}@example.com"));
        assert_eq!(got.len(), 1, "new{i}: {got:?}");
    }
    let (subject, text) = &to(&sink, "new0@example.com")[0];
    assert!(subject.starts_with("Comment se passent"), "{subject}");
    assert!(
        text.contains("Settling in") && text.contains("trimestre"),
        "{text}"
    );
    let (subject, _) = &to(&sink, "new1@example.com")[0];
    assert!(
        subject.starts_with("How are your first weeks going?"),
        "{subject}"
    );
    assert!(to(&sink, "veteran@example.com").is_empty());
    assert!(to(&sink, "fin@example.com").is_empty());
    assert_eq!(mails(&sink).len(), 3, "{:?}", mails(&sink));

    // While the cohort is open: no figures, only when they come.
    let report = cohorts(&app, &admin, id).await;
    let cohort = &report["cohorts"][0];
    assert_eq!(report["kind"], "onboarding");
    assert_eq!(cohort["days_after_hire"], 30);
    assert_eq!(cohort["period"], "2036 Q1");
    assert_eq!(cohort["status"], "open");
    assert_eq!(cohort["available_at"], "2036-04-15T00:00:00Z");
    assert!(cohort.get("figures").is_none(), "{cohort}");

    for (i, score) in [4, 5, 3].iter().enumerate() {
        let (_, text) = &to(&sink, &format!("new{i}@example.com"))[0];
        answer(&app, text, json!([{"question_id": q, "score": score}])).await;
    }
    // The 60- and 90-day milestones fall while no pass runs for weeks: too
    // late to ask by the time one does, so they are not sent.
    tick(&app, &sink, "2036-04-16T00:00:00Z".parse().unwrap(), true).await;
    assert_eq!(mails(&sink).len(), 3);
    let report = cohorts(&app, &admin, id).await;
    let cohort = &report["cohorts"][0];
    assert_eq!(cohort["status"], "closed", "{report}");
    assert_eq!(cohort["figures"]["responses"], 3, "{cohort}");
    assert_eq!(cohort["figures"]["invited"], 3, "{cohort}");
    assert_eq!(cohort["questions"][0]["mean"], 4.0, "{cohort}");
    assert_eq!(report["cohorts"].as_array().unwrap().len(), 1);
    // Company-wide views are the pulse of everyone: cohorts stay out of them,
    // and are read by survey.
    let enps = |q: String| {
        let app = &app;
        let admin = admin.clone();
        async move {
            let path =
                format!("/api/v1/reports/enps?from=2036-01-01&to=2036-05-01&group_by=round{q}");
            let v: Value = app.get(&path, Some(&admin)).await.json().await.unwrap();
            v["points"].as_array().unwrap().len()
        }
    };
    assert_eq!(enps(String::new()).await, 0);
    assert_eq!(enps(format!("&survey_id={id}")).await, 1);
    let hr = Browser::sign_in(&app, ADMIN_EMAIL, PASSWORD).await;
    let (status, html) = hr.page(&format!("/surveys/{id}")).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("30, 60, 90 days after their hire date"),
        "{html}"
    );
    assert!(!html.contains("Send a round now"));
    let (status, html) = hr.page(&format!("/surveys/{id}/cohorts")).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("2036 Q1 · 30 days") && html.contains("<strong>3</strong> of 3 answered"),
        "{html}"
    );
    assert!(html.contains("mean <strong>4.00</strong>"), "{html}");

    // Not a lifecycle survey, or not HR: refused.
    let lead_pw = "lead password 123";
    app.employee(&admin, json!({"email": "lead@example.com", "name": "Lead", "hired_on": "2020-01-01", "role": "lead", "password": lead_pw})).await;
    let lead = app.login("lead@example.com", lead_pw).await;
    let res = app
        .get(
            &format!("/api/v1/reports/lifecycle?survey_id={id}"),
            Some(&lead),
        )
        .await;
    assert_eq!(res.status(), 403);
    let res = app
        .get("/api/v1/reports/lifecycle?survey_id=999", Some(&admin))
        .await;
    assert_eq!(res.status(), 404);
    let res = app
        .get("/api/v1/reports/lifecycle?survey_id=x", Some(&admin))
        .await;
    assert!(res.status().is_client_error());
}

async fn a_departure_gets_the_exit_survey_once_and_its_answers_join_turnover(app: TestApp) {
    let admin = app.admin_token().await;
    let team = app.team(&admin, json!({"name": "Support"})).await;
    let mut ids = std::collections::BTreeMap::new();
    for (who, locale) in [("a", "en"), ("c", "fr"), ("d", "en"), ("e", "en")] {
        let id = app
            .employee(
                &admin,
                json!({"email": format!("{who}@example.com"), "name": who, "hired_on": "2020-01-01",
                       "team_id": team, "locale": locale}),
            )
            .await;
        ids.insert(who, id);
    }
    let survey = create(
        &app,
        &admin,
        json!({
            "title": "Before you go",
            "questions": [
                {"kind": "choice", "prompt": "What weighed most in your decision to leave?",
                 "options": ["Growth", "Pay", "Manager", "Workload", "Something else"]},
                {"kind": "text", "prompt": "What one thing should we change?", "required": false}
            ],
            "trigger": {"kind": "exit"},
            "schedule": {"cadence": "once", "starts_on": "2026-12-01", "send_time": "00:00",
                         "timezone": "UTC", "open_days": 14},
            "min_group_size": 3
        }),
    )
    .await;
    let q = survey["questions"][0]["id"].as_i64().unwrap();
    let bad = app
        .post(
            "/api/v1/surveys",
            Some(&admin),
            json!({"title": "Exit", "questions": [{"kind": "scale", "prompt": "Q"}],
                   "trigger": {"kind": "exit", "days_after_hire": [30]}}),
        )
        .await;
    assert_eq!(bad.status(), 422);

    // Departures recorded every way people are: the API, a CSV import.
    let leave = |when: NaiveDate| json!({"left_on": when.to_string(), "leave_reason": "voluntary"});
    for (who, when) in [("a", day(20)), ("c", day(-2)), ("e", day(-30))] {
        let res = app
            .patch(
                &format!("/api/v1/employees/{}", ids[who]),
                &admin,
                leave(when),
            )
            .await;
        assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    }
    let res = app
        .patch(
            &format!("/api/v1/employees/{}", ids["d"]),
            &admin,
            json!({"left_on": "2026-01-01", "leave_reason": "other"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let csv = format!(
        "email,name,team,hired_on,left_on,leave_reason\nb@example.com,b,Support,2030-01-01,{},voluntary\n",
        day(3)
    );
    assert_eq!(app.post_csv(&admin, &csv).await.status(), 200);

    let sink = SmtpSink::start().await;
    tick(&app, &sink, noon(day(0)), false).await;
    tick(&app, &sink, noon(day(0)), true).await;
    // b leaves within open_days, c left two days ago: both at once; a later.
    assert_eq!(to(&sink, "b@example.com").len(), 1);
    assert_eq!(to(&sink, "c@example.com").len(), 1);
    assert!(to(&sink, "a@example.com").is_empty());
    for d in 1..9 {
        tick(&app, &sink, noon(day(d)), d % 3 == 0).await;
    }
    assert_eq!(
        to(&sink, "a@example.com").len(),
        1,
        "a, open_days before leaving"
    );
    assert_eq!(to(&sink, "b@example.com").len(), 1);
    assert_eq!(to(&sink, "c@example.com").len(), 1);
    // Left before the survey existed, or a month before anyone recorded it.
    assert!(to(&sink, "d@example.com").is_empty());
    assert!(to(&sink, "e@example.com").is_empty());
    assert_eq!(mails(&sink).len(), 3);
    let (subject, text) = &to(&sink, "c@example.com")[0];
    assert!(subject.starts_with("Avant votre départ"), "{subject}");
    assert!(text.contains("Before you go"));
    let (subject, _) = &to(&sink, "a@example.com")[0];
    assert!(subject.starts_with("Before you go:"), "{subject}");

    let turnover = format!(
        "/api/v1/reports/turnover?from={}&to={}&group_by=quarter",
        day(0),
        day(89)
    );
    let open: Value = app.get(&turnover, Some(&admin)).await.json().await.unwrap();
    assert_eq!(
        open["exit_reasons"],
        json!([]),
        "an open cohort shows nothing: {open}"
    );

    for (who, choice) in [("a", "Growth"), ("b", "Growth"), ("c", "Pay")] {
        let (_, text) = &to(&sink, &format!("{who}@example.com"))[0];
        answer(&app, text, json!([{"question_id": q, "choice": choice}])).await;
    }
    tick(&app, &sink, "2036-04-16T00:00:00Z".parse().unwrap(), false).await;
    let closed: Value = app.get(&turnover, Some(&admin)).await.json().await.unwrap();
    let reasons = &closed["exit_reasons"][0];
    assert_eq!(reasons["respondents"], 3, "{closed}");
    assert_eq!(reasons["period"], "2036 Q1");
    let dist = &reasons["questions"][0]["distribution"];
    assert_eq!(dist[0], json!(["Growth", 2]), "{reasons}");
    assert_eq!(dist[1], json!(["Pay", 1]), "{reasons}");
    // Comments need max(min_group_size, 5) respondents.
    assert!(reasons["questions"][1]["comments"].is_null(), "{reasons}");
    assert_eq!(
        closed["periods"][0]["separations"], 2,
        "a and b left in 2036 Q1: {closed}"
    );
    let hr = Browser::sign_in(&app, ADMIN_EMAIL, PASSWORD).await;
    let (status, html) = hr
        .page(&format!(
            "/reports/turnover?from={}&to={}&group_by=quarter",
            day(0),
            day(89)
        ))
        .await;
    assert_eq!(status, 200);
    assert!(html.contains("Why people left"), "{html}");
    assert!(
        html.contains("<li>Growth: 2</li>") && html.contains("<li>Pay: 1</li>"),
        "{html}"
    );

    // A team's view has no cohort to show.
    let res: Value = app
        .get(&format!("{turnover}&team_id={team}"), Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert!(res.get("exit_reasons").is_none(), "{res}");
    // Nothing links an answer to a person: the exit round's responses hold
    // no employee, and its invitations forgot who answered.
    let mut conn = app.conn();
    use diesel::prelude::*;
    let flagged: i64 = pulse::db::schema::invitations::table
        .filter(pulse::db::schema::invitations::responded.eq(true))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(flagged, 0);
    // People were invited on different days: the days answers came are
    // blurred to the cohort's quarter, so none can be matched with one invitation.
    let days: Vec<NaiveDate> = pulse::db::schema::responses::table
        .select(pulse::db::schema::responses::submitted_on)
        .load(&mut conn)
        .unwrap();
    assert_eq!(days, vec![day(0); 3]);
}

async fn each_lead_gets_one_digest_a_week_in_their_language(app: TestApp) {
    let admin = app.admin_token().await;
    let pw = "lead password 123";
    let lea = app
        .employee(&admin, json!({"email": "lea@example.com", "name": "Léa", "hired_on": "2030-01-01", "role": "lead", "locale": "fr", "password": pw}))
        .await;
    let max = app
        .employee(&admin, json!({"email": "max@example.com", "name": "Max", "hired_on": "2030-01-01", "role": "lead", "locale": "en", "password": pw}))
        .await;
    let team = app
        .team(&admin, json!({"name": "Support", "lead_id": lea}))
        .await;
    let finance = app
        .team(&admin, json!({"name": "Finance", "lead_id": max}))
        .await;
    for i in 0..3 {
        app.employee(&admin, json!({"email": format!("m{i}@example.com"), "name": format!("M{i}"), "hired_on": "2030-01-01", "team_id": team}))
            .await;
    }
    let survey = create(&app, &admin, crate::surveys::weekly(team)).await;
    let q: Vec<i64> = survey["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["id"].as_i64().unwrap())
        .collect();
    // Max turns the digest off from his account.
    let max_token = app.login("max@example.com", pw).await;
    let res = app
        .api
        .put(app.url("/api/v1/account/digest"))
        .bearer_auth(&max_token)
        .json(&json!({"enabled": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = app
        .api
        .put(app.url("/api/v1/account/digest"))
        .bearer_auth(&max_token)
        .json(&json!({"enabled": "no"}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_client_error());

    let sink = SmtpSink::start().await;
    let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
    // Friday: the round opens; its invitations go out.
    tick(&app, &sink, at("2035-12-07T08:00:00Z"), false).await;
    for i in 0..3 {
        let (_, text) = to(&sink, &format!("m{i}@example.com"))
            .into_iter()
            .next()
            .unwrap();
        let answers = json!([{"question_id": q[0], "score": 10 - i},
                             {"question_id": q[1], "score": 4},
                             {"question_id": q[2], "choice": "Office"}]);
        answer(&app, &text, answers).await;
    }
    let digests = |who: &str| {
        to(&sink, who)
            .into_iter()
            .filter(|(s, _)| s.contains("Pulse ("))
            .collect::<Vec<_>>()
    };
    // Friday's pass was the first of the week of Monday 3 December: its digest.
    let week1 = digests("lea@example.com");
    assert_eq!(week1.len(), 1, "{week1:?}");
    assert!(week1[0].0.ends_with("(2035-12-03)"), "{}", week1[0].0);
    // The next week, many passes and restarts: one digest, the round still open.
    for (t, restart) in [
        ("2035-12-10T05:00:00Z", false),
        ("2035-12-10T07:00:00Z", false),
        ("2035-12-10T07:00:00Z", true),
        ("2035-12-11T09:00:00Z", true),
        ("2035-12-12T09:00:00Z", false),
        ("2035-12-16T23:00:00Z", true),
    ] {
        tick(&app, &sink, at(t), restart).await;
    }
    let first = digests("lea@example.com");
    assert_eq!(first.len(), 2, "{first:?}");
    assert!(
        first[1].0.starts_with("Vos équipes cette semaine"),
        "{}",
        first[1].0
    );
    assert!(first[1].0.ends_with("(2035-12-10)"), "{}", first[1].0);
    let text = &first[1].1;
    assert!(
        text.contains("Vagues encore ouvertes") && text.contains("Weekly pulse"),
        "{text}"
    );
    assert!(text.contains("Aucune vague ne s'est clôturée"), "{text}");
    assert!(digests("max@example.com").is_empty(), "Max opted out");

    // Open actions of her own teams join her digest; another lead's do not.
    for (team_id, owner, text) in [
        (team, lea, "Pair new starters with a buddy"),
        (finance, max, "Close the books by Friday noon"),
    ] {
        let res = app
            .post(
                "/api/v1/action-plans",
                Some(&admin),
                json!({"team_id": team_id, "text": text, "owner_id": owner, "due_on": "2036-01-15"}),
            )
            .await;
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    }
    // The next week: the closed round's figures.
    tick(&app, &sink, at("2035-12-17T06:30:00Z"), true).await;
    tick(&app, &sink, at("2035-12-17T07:30:00Z"), false).await;
    let all = digests("lea@example.com");
    assert_eq!(all.len(), 3, "{all:?}");
    assert!(all[2].0.ends_with("(2035-12-17)"), "{}", all[2].0);
    let text = &all[2].1;
    // Scores 10, 9, 8: two promoters, one passive, eNPS 67.
    assert!(
        text.contains("== Support ==") && text.contains("eNPS 67"),
        "{text}"
    );
    assert!(text.contains("(3/3)"), "{text}");
    assert!(
        text.contains("Actions en cours") && text.contains("Pair new starters with a buddy"),
        "{text}"
    );
    assert!(!text.contains("Close the books"), "{text}");
    // The same on the dashboard's API.
    let lea_token = app.login("lea@example.com", pw).await;
    let mine: Value = app
        .get("/api/v1/account/digest", Some(&lea_token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["enabled"], true);
    assert!(mine["digest"]["teams"][0]["name"] == "Support", "{mine}");
    // The lead's dashboard and account page show the same week.
    let lea_pages = Browser::sign_in(&app, "lea@example.com", pw).await;
    let (status, html) = lea_pages.page("/").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("Your week (") && html.contains("Weekly pulse"),
        "{html}"
    );
    let (status, html) = lea_pages.page("/account/digest").await;
    assert_eq!(status, 200);
    assert!(html.contains("You get the weekly digest"), "{html}");

    // The unsubscribe link: a GET asks, a POST stops it.
    let start = text.find("/digest/unsubscribe/").unwrap();
    let link: String = text[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    let res = app.get(&link, None).await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("Stop the weekly digest"));
    let res = app.api.post(app.url(&link)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        app.get("/digest/unsubscribe/nonsense", None).await.status(),
        404
    );
    tick(&app, &sink, at("2035-12-24T07:00:00Z"), false).await;
    assert_eq!(digests("lea@example.com").len(), 3, "unsubscribed");
    let mine: Value = app
        .get("/api/v1/account/digest", Some(&lea_token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["enabled"], false);
}

/// `pulse demo` gives the company onboarding and exit surveys with closed,
/// disclosed cohorts; its history is recorded as sent, so the next pass
/// sends none of it again.
fn the_demo_has_lifecycle_surveys_with_history(engine: crate::helpers::Engine) {
    let Some((url, _guard)) = crate::helpers::test_database(engine) else {
        return eprintln!("skipped: TEST_DATABASE_URL not set");
    };
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pulse"))
        .args(["demo", "--employees", "300", "--weeks", "4"])
        .env("DATABASE_URL", &url)
        .env("PULSE_ADMIN_PASSWORD", "correct horse battery")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let db = pulse::db::DatabaseUrl::parse(&url).unwrap();
    let mut conn = pulse::db::Manager::new(db).establish().unwrap();
    let triggers = pulse::repo::lifecycle::triggers(&mut conn).unwrap();
    let kinds: Vec<&str> = triggers.values().map(|t| t.kind()).collect();
    assert_eq!(kinds, ["onboarding", "exit"]);
    let scope = pulse::auth::Scope::Everything;
    for &survey_id in triggers.keys() {
        let report = pulse::reports::lifecycle::load(&mut conn, &scope, survey_id).unwrap();
        let shown = report
            .cohorts
            .iter()
            .filter(|c| c.status == "closed" && c.figures.is_some())
            .count();
        assert!(shown >= 2, "{} has {shown} disclosed cohorts", report.kind);
    }
    let mailing = pulse::jobs::Mailing::new(
        &pulse::config::Settings::from_lookup(|k| (k == "DATABASE_URL").then(|| url.clone()))
            .unwrap(),
    )
    .unwrap();
    let sent = pulse::jobs::lifecycle::run(&mut conn, &mailing, chrono::Utc::now()).unwrap();
    // Only milestones and departures falling within the last open_days can
    // go out, and none of them was already sent by the demo's history.
    let again = pulse::jobs::lifecycle::run(&mut conn, &mailing, chrono::Utc::now()).unwrap();
    assert_eq!(again, 0, "after {sent}");
}

#[test]
fn the_demo_has_lifecycle_surveys_with_history_on_sqlite() {
    the_demo_has_lifecycle_surveys_with_history(crate::helpers::Engine::Sqlite);
}

#[test]
fn the_demo_has_lifecycle_surveys_with_history_on_postgres() {
    the_demo_has_lifecycle_surveys_with_history(crate::helpers::Engine::Postgres);
}
