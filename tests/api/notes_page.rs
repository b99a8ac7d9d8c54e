//! /account/notes as the author uses it in a browser: a recovery code made
//! and shown once, the notes locked after HR resets the password, unlocked
//! again with the code; or, without it, started afresh.

use crate::helpers::TestApp;
use crate::helpers::PASSWORD;
use crate::pages::Browser;
use crate::private_notes::{ok, pair, Pair};
use reqwest::Method;
use serde_json::{json, Value};

const SECRET: &str = "Rob asked about the Quokka team";
const RESET: &str = "a password HR chose";

/// A lead with a private note in their 1:1, signed in through the login page.
struct Author<'a> {
    admin: String,
    lead_id: i64,
    meeting: i64,
    browser: Browser<'a>,
}

async fn author(app: &TestApp) -> Author<'_> {
    let Pair {
        admin,
        lead_id,
        lead,
        meeting,
        ..
    } = pair(app).await;
    ok(
        app,
        Method::POST,
        &format!("/api/v1/meetings/{meeting}/notes"),
        &lead,
        Some(json!({"body": SECRET, "private": true})),
    )
    .await;
    let browser = Browser::sign_in(app, "lea@example.com", PASSWORD).await;
    let (status, html) = browser.page("/account/notes").await;
    assert_eq!(status, 200);
    assert!(html.contains("Unlocked"), "{html}");
    Author {
        admin,
        lead_id,
        meeting,
        browser,
    }
}

/// HR resets the author's password; the author signs in with the new one.
async fn reset<'a>(app: &'a TestApp, a: &Author<'_>) -> Browser<'a> {
    ok(
        app,
        Method::PATCH,
        &format!("/api/v1/employees/{}", a.lead_id),
        &a.admin,
        Some(json!({"password": RESET})),
    )
    .await;
    Browser::sign_in(app, "lea@example.com", RESET).await
}

async fn private_notes_of(b: &Browser<'_>, meeting: i64) -> Vec<String> {
    let res = b.get(&format!("/api/v1/meetings/{meeting}")).await;
    assert_eq!(res.status(), 200);
    let seen: Value = res.json().await.unwrap();
    seen["notes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["private"] == true)
        .map(|n| n["body"].as_str().unwrap().to_string())
        .collect()
}

fn between<'h>(html: &'h str, start: &str, end: &str) -> &'h str {
    let at = html
        .find(start)
        .unwrap_or_else(|| panic!("no {start} in {html}"))
        + start.len();
    let len = html[at..].find(end).unwrap();
    &html[at..at + len]
}

async fn the_author_unlocks_their_notes_with_the_code_from_the_page(app: TestApp) {
    let a = author(&app).await;
    let res = a.browser.post("/account/notes/recovery-code", &[]).await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("shown only this once"), "{html}");
    let code = between(&html, r#"class="recovery-code">"#, "<").to_string();
    assert_eq!(code.len(), 39, "{code}");
    let (_, again) = a.browser.page("/account/notes").await;
    assert!(again.contains("A recovery code exists"));
    assert!(!again.contains(&code), "shown once only");
    let meeting = a.meeting;
    let lead = reset(&app, &a).await;

    let (status, html) = lead.page("/account/notes").await;
    assert_eq!(status, 200);
    assert!(html.contains("Locked") && html.contains("A recovery code exists"));
    assert!(html.contains(r#"action="/account/notes/unlock""#));
    assert!(private_notes_of(&lead, meeting).await.is_empty());

    // A wrong code is refused beside its field.
    let wrong = "AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA";
    let res = lead
        .post(
            "/account/notes/unlock",
            &[("recovery_code", wrong), ("password", RESET)],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("does not open your private notes"));

    let res = lead
        .post(
            "/account/notes/unlock",
            &[("recovery_code", &code), ("password", RESET)],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/account/notes");
    let (_, html) = lead.page("/account/notes").await;
    assert!(html.contains("unlocked again"), "{html}");
    assert!(html.contains("Unlocked"));
    assert_eq!(private_notes_of(&lead, meeting).await, [SECRET]);
}

async fn without_the_code_the_author_starts_afresh_from_the_page(app: TestApp) {
    let a = author(&app).await;
    let meeting = a.meeting;
    let lead = reset(&app, &a).await;
    let (_, html) = lead.page("/account/notes").await;
    assert!(html.contains("You have no recovery code yet"));
    assert!(html.contains("deletes those locked private notes"));

    let res = lead
        .post("/account/notes/start-afresh", &[("password", RESET)])
        .await;
    assert_eq!(res.status(), 422, "the box must be ticked");
    assert!(res.text().await.unwrap().contains("Tick the box"));
    let res = lead
        .post(
            "/account/notes/start-afresh",
            &[("password", PASSWORD), ("confirm", "yes")],
        )
        .await;
    assert_eq!(res.status(), 422, "the old password is not the current one");
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("is not your current password"));
    let (_, html) = lead.page("/account/notes").await;
    assert!(html.contains("Locked"), "nothing changed yet");

    let res = lead
        .post(
            "/account/notes/start-afresh",
            &[("password", RESET), ("confirm", "yes")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (_, html) = lead.page("/account/notes").await;
    assert!(
        html.contains("1 private note no key could open was deleted"),
        "{html}"
    );
    assert!(html.contains("Unlocked"));
    assert!(private_notes_of(&lead, meeting).await.is_empty());
}

crate::on_both_engines!(
    the_author_unlocks_their_notes_with_the_code_from_the_page,
    without_the_code_the_author_starts_afresh_from_the_page,
);
