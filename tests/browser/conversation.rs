//! A conversation on a comment, in a real browser: the respondent answers with a
//! comment and keeps their private link, the lead replies from the round page,
//! the respondent answers back; neither page names the other side.

use super::{
    accessible, answer_link, axe_source, body_text, browser, click, css, fill, fits_the_width,
    sign_in, submit, PHONE,
};
use crate::helpers::{spawn_app, Engine, PASSWORD};
use serde_json::{json, Value};

async fn a_lead_and_a_respondent_talk_without_names(engine: Engine) {
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let admin = app.admin_token().await;
    let lea = app.employee(&admin, json!({"email": "lea@example.com", "name": "Lea Lead", "role": "lead", "hired_on": "2024-01-01", "password": PASSWORD})).await;
    let ops = app
        .team(&admin, json!({"name": "Ops", "lead_id": lea}))
        .await;
    for i in 0..6 {
        app.employee(&admin, json!({"email": format!("ops{i}@example.com"), "name": format!("Quokka {i}"), "hired_on": "2024-01-01", "team_id": ops})).await;
    }
    let survey: Value = app
        .post("/api/v1/surveys", Some(&admin), json!({
            "title": "Weekly pulse",
            "questions": [{"kind": "enps", "prompt": "How likely are you to recommend working here?"},
                          {"kind": "text", "prompt": "What would make your week better?", "required": false}],
            "audience": {"team_ids": [ops]},
            "schedule": {"cadence": "once", "starts_on": "2035-01-01", "send_time": "09:00", "timezone": "UTC", "open_days": 5},
            "min_group_size": 5}))
        .await
        .json()
        .await
        .unwrap();
    let q = survey["questions"][0]["id"].as_i64().unwrap();
    let res = app
        .post(
            &format!("/api/v1/surveys/{}/rounds", survey["id"]),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let round = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    app.tick(&chrono::Utc::now().to_rfc3339()).await;
    let links: Vec<String> = app.emails().iter().filter_map(|e| answer_link(e)).collect();
    assert_eq!(links.len(), 6);

    // The respondent answers in the browser and keeps the link from the thank-you page.
    c.goto(&app.url(&links[0])).await.unwrap();
    c.execute(
        "document.querySelector(`input[name='q${arguments[0]}'][value='6']`).checked = true; return true;",
        vec![json!(q)],
    )
    .await
    .unwrap();
    fill(
        &c,
        &format!("#q{}", q + 1),
        "Handovers between shifts are chaotic.",
    )
    .await;
    submit(&c, "main form button[type=submit]").await;
    let link = css(&c, "#conversation-link")
        .await
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    assert!(link.contains("/c/"), "{link}");
    for l in &links[1..] {
        let token = l.trim_start_matches("/s/");
        let res = app
            .post("/api/v1/responses", None, json!({"token": token, "answers": [{"question_id": q, "score": 9}, {"question_id": q + 1, "text": "All good here."}]}))
            .await;
        assert_eq!(res.status(), 201);
    }
    assert_eq!(
        app.post(
            &format!("/api/v1/rounds/{round}/close"),
            Some(&admin),
            json!({})
        )
        .await
        .status(),
        200
    );

    // The lead replies from the round page.
    sign_in(&c, &app, "lea@example.com", PASSWORD).await;
    c.goto(&app.url(&format!("/rounds/{round}?team_id={ops}")))
        .await
        .unwrap();
    let comment = c
        .find_all(fantoccini::Locator::Css("ul.comments > li"))
        .await
        .unwrap();
    let mut target = None;
    for li in comment {
        if li
            .text()
            .await
            .unwrap()
            .contains("Handovers between shifts")
        {
            target = li.attr("id").await.unwrap();
        }
    }
    let target = target.expect("the comment is on the round page");
    click(&c, &format!("#{target} details summary")).await;
    let id = target.trim_start_matches("comment-");
    fill(
        &c,
        &format!("#reply-{id}"),
        "Thank you. Which handover is worst: morning or evening?",
    )
    .await;
    submit(&c, &format!("#{target} form button[type=submit]")).await;
    let text = body_text(&c).await;
    assert!(
        text.contains("Reply sent") && text.contains("A team lead"),
        "{text}"
    );

    // The respondent, signed out, reads it and answers back.
    c.delete_all_cookies().await.unwrap();
    c.goto(&link).await.unwrap();
    let text = body_text(&c).await;
    assert!(
        text.contains("Which handover is worst") && text.contains("Your team lead"),
        "{text}"
    );
    assert!(!text.contains("Lea") && !text.contains("Quokka"), "{text}");
    accessible(&c, axe_source().as_deref(), "the conversation page").await;
    fill(
        &c,
        &format!("#answer-{id}"),
        "Evening: nobody writes anything down.",
    )
    .await;
    submit(&c, &format!("#comment-{id} form button[type=submit]")).await;
    let text = body_text(&c).await;
    assert!(
        text.contains("Evening: nobody writes anything down.") && text.contains("You"),
        "{text}"
    );
    super::set_size(&c, PHONE).await;
    fits_the_width(&c, "the conversation page").await;

    // The lead sees the answer from "the respondent", with a day and no time.
    sign_in(&c, &app, "lea@example.com", PASSWORD).await;
    c.goto(&app.url(&format!("/rounds/{round}?team_id={ops}")))
        .await
        .unwrap();
    let text = css(&c, &format!("#{target}")).await.text().await.unwrap();
    assert!(
        text.contains("The respondent") && text.contains("Evening: nobody writes anything down."),
        "{text}"
    );
    assert!(!text.contains("Quokka") && !text.contains("ops0"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lead_and_a_respondent_talk_without_names_sqlite() {
    a_lead_and_a_respondent_talk_without_names(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lead_and_a_respondent_talk_without_names_postgres() {
    a_lead_and_a_respondent_talk_without_names(Engine::Postgres).await;
}
