//! The question library, templates and rotating pulses: what HR builds from, and
//! what each person is asked and shown, on both engines.

use crate::helpers::TestApp;
use crate::pages::Browser;
use crate::surveys::create_survey;
use diesel::prelude::*;
use pulse::db::schema::invitations;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

async fn library(app: &TestApp, admin: &str, query: &str) -> Vec<Value> {
    let res = app
        .get(
            &format!("/api/v1/questions?per_page=1000{query}"),
            Some(admin),
        )
        .await;
    assert_eq!(res.status(), 200);
    res.json::<Value>()
        .await
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn by_key<'a>(qs: &'a [Value], key: &str) -> &'a Value {
    qs.iter().find(|q| q["key"] == key).unwrap()
}

async fn the_library_ships_its_questions_and_hr_versions_them(app: TestApp) {
    let admin = app.admin_token().await;
    let qs = library(&app, &admin, "").await;
    assert!(qs.len() >= 40, "{}", qs.len());
    for d in pulse::domain::driver::Driver::ALL {
        let n = qs.iter().filter(|q| q["driver"] == d.key()).count();
        assert!(n >= if d.is_outcome() { 1 } else { 4 }, "{}: {n}", d.key());
    }
    let stay = by_key(&qs, "stay_intent.two_years");
    assert_eq!(
        stay["prompt"]["en"],
        "I see myself working here in two years."
    );
    assert_eq!(
        stay["prompt"]["fr"],
        "Je me vois travailler ici dans deux ans."
    );
    assert_eq!(by_key(&qs, "enps.recommend")["kind"], "enps");
    assert!(qs
        .iter()
        .all(|q| q["retired"] == false && q["version"] == 1));

    // Only HR reads and edits the library.
    app.employee(&admin, json!({"email": "m@example.com", "name": "Mo", "hired_on": "2024-01-01", "password": "member password 1"}))
        .await;
    let member = app.login("m@example.com", "member password 1").await;
    assert_eq!(
        app.get("/api/v1/questions", Some(&member)).await.status(),
        403
    );

    // HR adds its own, field by field.
    let res = app
        .post(
            "/api/v1/questions",
            Some(&admin),
            json!({"kind": "text", "driver": "vibes", "prompt": {"en": " ", "fr": "Bonjour"}}),
        )
        .await;
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.unwrap();
    assert!(body["fields"]["prompt.en"].is_string(), "{body}");
    assert!(body["fields"]["driver"].is_string(), "{body}");
    let res = app
        .post(
            "/api/v1/questions",
            Some(&admin),
            json!({"kind": "choice", "prompt": {"en": "Where?", "fr": "Où ?"},
            "options": {"en": ["Office", "Home"], "fr": ["Bureau"]}}),
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(res.json::<Value>().await.unwrap()["fields"]["options.fr"].is_string());
    let res = app
        .post("/api/v1/questions", Some(&admin), json!({"kind": "scale", "driver": "growth",
            "prompt": {"en": "I had a useful career talk this quarter.", "fr": "J'ai eu un échange utile sur ma carrière ce trimestre."}}))
        .await;
    assert_eq!(res.status(), 201);
    let own: Value = res.json().await.unwrap();
    assert_eq!(
        (own["key"].clone(), own["version"].clone()),
        (Value::Null, json!(1))
    );

    // A survey built from the library keeps its wording when the library changes.
    let (survey, _) = create_survey(&app, &admin, json!({"template": "quarterly-enps"})).await;
    let overall = by_key(&qs, "satisfaction.overall");
    let id = overall["id"].as_i64().unwrap();
    let res = app
        .patch(
            &format!("/api/v1/questions/{id}"),
            &admin,
            json!({"prompt": {"en": "All in all, I like working here."}}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let edited: Value = res.json().await.unwrap();
    assert_eq!(edited["version"], 2);
    assert_eq!(
        edited["prompt"]["fr"], overall["prompt"]["fr"],
        "the other language stays"
    );
    let detail: Value = app
        .get(&format!("/api/v1/questions/{id}"), Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["history"][0]["version"], 1);
    assert_eq!(
        detail["history"][0]["prompt"]["en"],
        "Overall, I enjoy working here."
    );
    let again: Value = app
        .get(&format!("/api/v1/surveys/{}", survey["id"]), Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let prompts: Vec<&str> = again["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["prompt"].as_str().unwrap())
        .collect();
    assert!(
        prompts.contains(&"Overall, I enjoy working here."),
        "{prompts:?}"
    );
    let (later, _) = create_survey(&app, &admin, json!({"template": "quarterly-enps"})).await;
    assert!(later["questions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|q| q["prompt"] == "All in all, I like working here."));

    // Bad edits are refused by field; a kind cannot change.
    let comment = by_key(&qs, "comment.anything_else")["id"].as_i64().unwrap();
    let res = app
        .patch(
            &format!("/api/v1/questions/{comment}"),
            &admin,
            json!({"driver": "pay"}),
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(res.json::<Value>().await.unwrap()["fields"]["driver"].is_string());
    let res = app
        .patch(
            &format!("/api/v1/questions/{comment}"),
            &admin,
            json!({"kind": "scale"}),
        )
        .await;
    assert!(res.status().is_client_error(), "{}", res.status());
    assert_eq!(
        app.patch("/api/v1/questions/99999", &admin, json!({"retired": true}))
            .await
            .status(),
        404
    );

    // Retired: out of the templates, and out of a `retired=false` list.
    let res = app
        .patch(
            &format!("/api/v1/questions/{id}"),
            &admin,
            json!({"retired": true}),
        )
        .await;
    assert_eq!(res.json::<Value>().await.unwrap()["retired"], true);
    let (third, _) = create_survey(&app, &admin, json!({"template": "quarterly-enps"})).await;
    assert_eq!(third["questions"].as_array().unwrap().len(), 3);
    assert!(!library(&app, &admin, "&retired=false")
        .await
        .iter()
        .any(|q| q["id"] == id));
    assert_eq!(
        library(&app, &admin, "&driver=growth").await.len(),
        5,
        "four shipped, one added"
    );

    // Starting again seeds nothing twice and keeps HR's changes.
    let mut conn = app.conn();
    assert_eq!(
        pulse::repo::library::seed(&mut conn, chrono::Utc::now().naive_utc()).unwrap(),
        0
    );
    let after = library(&app, &admin, "").await;
    assert_eq!(after.len(), qs.len() + 1);
    assert_eq!(by_key(&after, "satisfaction.overall")["retired"], true);
}

async fn templates_fill_a_survey_and_given_fields_override_them(app: TestApp) {
    let admin = app.admin_token().await;
    let res = app.get("/api/v1/templates", Some(&admin)).await;
    assert_eq!(res.status(), 200);
    let templates: Vec<Value> = res.json().await.unwrap();
    let keys: Vec<&str> = templates
        .iter()
        .map(|t| t["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        ["weekly-engagement", "quarterly-enps", "onboarding", "exit"]
    );
    assert_eq!(templates[0]["rotation"]["per_round"], 3);
    assert_eq!(templates[2]["trigger"]["kind"], "onboarding");
    assert_eq!(templates[3]["trigger"]["kind"], "exit");
    let fr: Vec<Value> = app
        .get("/api/v1/templates?language=fr", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(fr[3]["title"], "Questionnaire de départ");

    // Two fields: a rotating weekly pulse with every driver of the library.
    let (weekly, _) = create_survey(&app, &admin, json!({"template": "weekly-engagement"})).await;
    assert_eq!(weekly["title"], "Weekly engagement pulse");
    assert_eq!(weekly["schedule"]["cadence"], "weekly");
    let qs = weekly["questions"].as_array().unwrap();
    assert_eq!(qs.len(), 43, "eNPS, 41 driver questions, a comment");
    assert_eq!(qs[0]["kind"], "enps");
    let drivers: BTreeSet<&str> = qs.iter().filter_map(|q| q["driver"].as_str()).collect();
    assert_eq!(drivers.len(), 11, "{drivers:?}");
    assert_eq!(weekly["rotation"]["per_round"], 3);
    assert_eq!(weekly["rotation"]["plan"]["pool"], 41);
    let summary = weekly["rotation"]["summary"].as_str().unwrap();
    assert!(
        summary.contains("3 of the 41") && summary.contains("1 person in 14"),
        "{summary}"
    );

    // Fields given override the template's.
    let (q1, _) = create_survey(&app, &admin, json!({"template": "quarterly-enps", "title": "T1", "language": "fr",
        "schedule": {"cadence": "quarterly", "starts_on": "2035-01-05", "send_time": "10:00", "timezone": "Europe/Paris", "open_days": 10}})).await;
    assert_eq!(q1["title"], "T1");
    assert_eq!(
        q1["intro"],
        "Une fois par trimestre : recommanderiez-vous de travailler ici, et pourquoi ?"
    );
    assert_eq!(
        q1["questions"][1]["prompt"],
        "Je me vois travailler ici dans deux ans."
    );
    assert_eq!(q1["questions"][1]["driver"], "stay_intent");
    assert_eq!(q1["schedule"]["timezone"], "Europe/Paris");
    assert!(q1.get("rotation").is_none());
    let (own, _) = create_survey(
        &app,
        &admin,
        json!({"template": "exit", "questions": [{"kind": "text", "prompt": "Why?"}]}),
    )
    .await;
    assert_eq!(own["questions"].as_array().unwrap().len(), 1);
    assert_eq!(own["title"], "Exit survey");
    // The lifecycle templates make lifecycle surveys: no cadence sends them.
    assert_eq!(own["trigger"]["kind"], "exit", "{own}");
    assert!(own["next_round_at"].is_null(), "{own}");
    let (onboarding, _) = create_survey(&app, &admin, json!({"template": "onboarding"})).await;
    assert_eq!(onboarding["trigger"]["kind"], "onboarding", "{onboarding}");
    assert_eq!(
        onboarding["trigger"]["days_after_hire"],
        json!([30, 60, 90])
    );
    let (weekly_again, _) =
        create_survey(&app, &admin, json!({"template": "weekly-engagement"})).await;
    assert!(weekly_again.get("trigger").is_none(), "{weekly_again}");

    for (body, field) in [
        (json!({"template": "daily"}), "template"),
        (
            json!({"template": "weekly-engagement", "language": "de"}),
            "language",
        ),
        // Without its rotation, 43 questions break the ten-question rule.
        (
            json!({"template": "weekly-engagement", "rotation": null}),
            "questions",
        ),
        (
            json!({"template": "weekly-engagement", "rotation": {"per_round": 9}}),
            "rotation.per_round",
        ),
    ] {
        let res = app
            .post("/api/v1/surveys", Some(&admin), body.clone())
            .await;
        assert_eq!(res.status(), 422, "{body}");
        let e: Value = res.json().await.unwrap();
        assert!(e["fields"][field].is_string(), "{body}: {e}");
    }
    // A rotating survey holds up to 50 questions; a plain one, 10.
    let many: Vec<Value> = (0..51)
        .map(|i| json!({"kind": "scale", "prompt": format!("Q{i}")}))
        .collect();
    let mut body = crate::surveys::weekly(app.team(&admin, json!({"name": "Ops"})).await);
    body["questions"] = json!(many);
    body["rotation"] = json!({"per_round": 3});
    let e: Value = app
        .post("/api/v1/surveys", Some(&admin), body.clone())
        .await
        .json()
        .await
        .unwrap();
    assert!(
        e["fields"]["questions"]
            .as_str()
            .unwrap()
            .contains("at most 50"),
        "{e}"
    );
    body["questions"] = json!(many[..50]);
    let (rotating, _) = create_survey(&app, &admin, body).await;
    // PATCH: a new rotation makes a new version of the same questions.
    let res = app
        .patch(
            &format!("/api/v1/surveys/{}", rotating["id"]),
            &admin,
            json!({"rotation": {"per_round": 5}}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let patched: Value = res.json().await.unwrap();
    assert_eq!(patched["rotation"]["per_round"], 5);
    assert_eq!(patched["questions"].as_array().unwrap().len(), 50);
    let res = app
        .patch(
            &format!("/api/v1/surveys/{}", rotating["id"]),
            &admin,
            json!({"rotation": null}),
        )
        .await;
    assert_eq!(res.status(), 422, "50 questions without rotation");
}

/// People of one team, a rotating survey of eNPS and six driver questions (two
/// sets of three), rounds sent now with tokens chosen per set.
struct Rotating {
    team: i64,
    survey: i64,
    people: usize,
}

async fn rotating(app: &TestApp, admin: &str, people: usize) -> Rotating {
    let team = app.team(admin, json!({"name": "Support"})).await;
    let mut csv = String::from("email,name,team\n");
    for i in 0..people {
        csv.push_str(&format!("p{i}@example.com,Person {i},Support\n"));
    }
    assert_eq!(app.post_csv(admin, &csv).await.status(), 200);
    let mut body = crate::surveys::weekly(team);
    body["questions"] = json!([
        {"kind": "enps", "prompt": "Recommend?"},
        {"kind": "scale", "prompt": "G1", "driver": "growth"},
        {"kind": "scale", "prompt": "G2", "driver": "growth"},
        {"kind": "scale", "prompt": "P1", "driver": "pay"},
        {"kind": "scale", "prompt": "P2", "driver": "pay"},
        {"kind": "scale", "prompt": "M1", "driver": "manager"},
        {"kind": "scale", "prompt": "M2", "driver": "manager"},
    ]);
    body["rotation"] = json!({"per_round": 3});
    let (survey, _) = create_survey(app, admin, body).await;
    assert_eq!(survey["rotation"]["plan"]["sets"], 2);
    Rotating {
        team,
        survey: survey["id"].as_i64().unwrap(),
        people,
    }
}

impl Rotating {
    /// Sends a round; `in_set_one` of the links draw the second set, the rest the first.
    async fn round(&self, app: &TestApp, admin: &str, in_set_one: usize) -> (i64, Vec<String>) {
        // Rounds are sent at whole seconds: one a second per survey.
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let res = app
            .post(
                &format!("/api/v1/surveys/{}/rounds", self.survey),
                Some(admin),
                json!({}),
            )
            .await;
        assert_eq!(res.status(), 201);
        let round = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        let mut conn = app.conn();
        let ids: Vec<i32> = invitations::table
            .filter(invitations::round_id.eq(round as i32))
            .select(invitations::id)
            .order(invitations::id)
            .load(&mut conn)
            .unwrap();
        assert_eq!(ids.len(), self.people);
        let mut tokens = vec![];
        for (n, id) in ids.iter().enumerate() {
            let want = u64::from(n < in_set_one);
            let token = (0..)
                .map(|k| format!("token-{round}-{id}-{k}"))
                .find(|t| pulse::answering::link_key(t) % 2 == want)
                .unwrap();
            diesel::update(invitations::table.find(id))
                .set(invitations::token_hash.eq(pulse::tokens::sha256_hex(&token)))
                .execute(&mut conn)
                .unwrap();
            tokens.push(token);
        }
        (round, tokens)
    }
}

/// The question ids the answering form of a link shows.
async fn asked(app: &TestApp, token: &str) -> Vec<i64> {
    let html = app
        .get(&format!("/s/{token}"), None)
        .await
        .text()
        .await
        .unwrap();
    let mut ids: Vec<i64> = html
        .split("name=\"q")
        .skip(1)
        .filter_map(|s| s.split('"').next()?.parse().ok())
        .collect();
    ids.dedup();
    ids
}

async fn answer(app: &TestApp, token: &str, ids: &[i64]) -> reqwest::Response {
    let answers: Vec<Value> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| json!({"question_id": id, "score": if i == 0 { 9 } else { 4 }}))
        .collect();
    app.post(
        "/api/v1/responses",
        None,
        json!({"token": token, "answers": answers}),
    )
    .await
}

async fn report(app: &TestApp, admin: &str, round: i64) -> BTreeMap<i64, Value> {
    let res = app
        .post(
            &format!("/api/v1/rounds/{round}/close"),
            Some(admin),
            json!({}),
        )
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    let r: Value = app
        .get(&format!("/api/v1/reports/rounds/{round}"), Some(admin))
        .await
        .json()
        .await
        .unwrap();
    r["questions"]
        .as_array()
        .unwrap_or_else(|| panic!("{r}"))
        .iter()
        .map(|q| (q["question_id"].as_i64().unwrap(), q.clone()))
        .collect()
}

async fn each_link_answers_exactly_its_draw_and_figures_need_enough_answers_per_question(
    app: TestApp,
) {
    let admin = app.admin_token().await;
    let s = rotating(&app, &admin, 12).await;
    let _ = s.team;
    // Three rounds: sets of 6 and 6, of 10 and 2, of 9 and 3 (threshold 3).
    for (in_set_one, shown_in_set_one) in [(6, true), (2, false), (3, true)] {
        let (round, tokens) = s.round(&app, &admin, in_set_one).await;
        let mut asked_count: BTreeMap<i64, usize> = BTreeMap::new();
        let mut forms = vec![];
        for t in &tokens {
            let ids = asked(&app, t).await;
            assert_eq!(ids.len(), 4, "eNPS and three drawn: {ids:?}");
            assert_eq!(
                asked(&app, t).await,
                ids,
                "a link always shows the same draw"
            );
            forms.push(ids);
        }
        let enps = forms[0][0];
        assert!(forms.iter().all(|f| f[0] == enps), "eNPS on every form");
        let sets: BTreeSet<&Vec<i64>> = forms.iter().collect();
        assert_eq!(sets.len(), 2, "two different sets this round");
        // A question the link was not asked, or one of its questions left out: refused, nothing stored.
        let other = forms.iter().find(|f| *f != &forms[0]).unwrap();
        let foreign = *other.iter().find(|q| !forms[0].contains(q)).unwrap();
        let mut wrong = forms[0].clone();
        wrong[3] = foreign;
        let res = answer(&app, &tokens[0], &wrong).await;
        assert_eq!(res.status(), 422);
        let e: Value = res.json().await.unwrap();
        assert!(e["fields"][format!("answers.{foreign}")].is_string(), "{e}");
        assert_eq!(answer(&app, &tokens[0], &forms[0][..3]).await.status(), 422);
        for (t, ids) in tokens.iter().zip(&forms) {
            assert_eq!(answer(&app, t, ids).await.status(), 201);
            for id in ids {
                *asked_count.entry(*id).or_default() += 1;
            }
        }
        let report = report(&app, &admin, round).await;
        assert_eq!(report.len(), 7);
        assert_eq!(report[&enps]["answers"], 12);
        for (id, q) in &report {
            let n = asked_count[id];
            if n >= 3 {
                assert_eq!(q["answers"], n, "question {id}: {q}");
                assert!(q.get("suppressed").is_none());
            } else {
                assert_eq!(q["suppressed"], true, "{q}");
                assert_eq!(q["reason"], "too_few");
                assert!(q.get("mean").is_none() && q.get("answers").is_none(), "{q}");
            }
        }
        let hidden = report.values().filter(|q| q["suppressed"] == true).count();
        assert_eq!(hidden, if shown_in_set_one { 0 } else { 3 });
    }
}

async fn the_builder_starts_from_a_template_and_shows_the_coverage_plan(app: TestApp) {
    let admin = app.admin_token().await;
    let hr = Browser::sign_in(&app, crate::helpers::ADMIN_EMAIL, crate::helpers::PASSWORD).await;
    let res = hr
        .post(
            "/surveys/new",
            &[
                ("action", "template-weekly-engagement"),
                ("template_language", "en"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("Weekly engagement pulse"));
    assert!(html.contains("Coverage plan."), "the plan is shown");
    assert!(html.contains("1 person in 14"));
    assert!(html.contains("name=\"q42_kind\""), "43 slots");
    assert!(
        html.contains("value=\"recognition\" selected"),
        "drivers carried in the form"
    );
    // The onboarding template makes a lifecycle survey in the builder too:
    // its trigger and milestones are filled, and what is typed is what is made.
    let html = hr
        .post(
            "/surveys/new",
            &[
                ("action", "template-onboarding"),
                ("template_language", "en"),
            ],
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("value=\"onboarding\" selected"),
        "trigger filled"
    );
    assert!(html.contains("value=\"30, 60, 90\""), "milestones filled");
    let form = |trigger: &'static str, days: &'static str| {
        vec![
            ("action", "create"),
            ("title", "Leaving us"),
            ("enps_scale", "1-10"),
            ("q0_kind", "text"),
            ("q0_prompt", "What made you decide to leave?"),
            ("cadence", "once"),
            ("starts_on", "2035-12-03"),
            ("send_time", "09:00"),
            ("timezone", "UTC"),
            ("open_days", "14"),
            ("min_group_size", "5"),
            ("trigger", trigger),
            ("days_after_hire", days),
        ]
    };
    let res = hr
        .post("/surveys/new", &form("onboarding", "30, sixty"))
        .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("whole numbers of days"));
    let res = hr.post("/surveys/new", &form("exit", "")).await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let surveys: Value = app
        .get("/api/v1/surveys", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let made = surveys
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["title"] == "Leaving us")
        .unwrap_or_else(|| panic!("{surveys}"));
    let made: Value = app
        .get(&format!("/api/v1/surveys/{}", made["id"]), Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(made["trigger"]["kind"], "exit", "{made}");

    // The library page lists it by driver, and adds HR's own.
    let (status, page) = hr.page("/questions").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Relationship with manager")
            && page.contains("I see myself working here in two years.")
    );
    let res = hr
        .post(
            "/questions",
            &[
                ("kind", "scale"),
                ("prompt_en", "My team celebrates wins."),
                ("prompt_fr", "Mon équipe célèbre ses réussites."),
                ("driver", "recognition"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let res = hr
        .post(
            "/questions",
            &[("kind", "scale"), ("prompt_en", ""), ("prompt_fr", "x")],
        )
        .await;
    assert_eq!(res.status(), 422);
}

/// The demo company's weekly pulse comes from the template and rotates: each
/// closed round asks every driver, each respondent three of its questions.
async fn the_demo_company_runs_a_rotating_pulse_from_the_library(app: TestApp) {
    let mut conn = app.conn();
    let hash = pulse::auth::password::hash(crate::helpers::PASSWORD);
    pulse::demo::run(&mut conn, 120, 6, &hash, 7).unwrap();
    let admin = app
        .login("hr@demo.pulse.example", crate::helpers::PASSWORD)
        .await;
    let surveys: Vec<Value> = app
        .get("/api/v1/surveys", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let pulse = surveys
        .iter()
        .find(|s| s["title"] == "Weekly engagement pulse")
        .unwrap();
    assert_eq!(pulse["rotation"]["per_round"], 3);
    let rounds: Vec<Value> = app
        .get(
            &format!("/api/v1/surveys/{}/rounds", pulse["id"]),
            Some(&admin),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(rounds.len() >= 5, "{}", rounds.len());
    let round = &rounds[0];
    let r: Value = app
        .get(
            &format!("/api/v1/reports/rounds/{}", round["id"]),
            Some(&admin),
        )
        .await
        .json()
        .await
        .unwrap();
    let qs = r["questions"].as_array().unwrap_or_else(|| panic!("{r}"));
    assert_eq!(qs.len(), 43);
    let enps = qs[0]["answers"].as_u64().unwrap();
    assert_eq!(Some(enps), round["responded"].as_u64());
    let shown: Vec<u64> = qs[1..42]
        .iter()
        .filter_map(|q| q["answers"].as_u64())
        .collect();
    assert!(
        !shown.is_empty(),
        "some driver questions reach the threshold"
    );
    assert!(
        shown.iter().all(|&n| n >= 5 && n < enps / 3),
        "{shown:?} of {enps}"
    );
    assert!(qs[1..42].iter().any(|q| q["reason"] == "too_few"));
}

crate::on_both_engines!(
    the_demo_company_runs_a_rotating_pulse_from_the_library,
    the_library_ships_its_questions_and_hr_versions_them,
    templates_fill_a_survey_and_given_fields_override_them,
    each_link_answers_exactly_its_draw_and_figures_need_enough_answers_per_question,
    the_builder_starts_from_a_template_and_shows_the_coverage_plan,
);
