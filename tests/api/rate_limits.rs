//! Sign-in limits under concurrency, and the client address behind trusted and untrusted proxies.

use crate::helpers::{TestApp, ADMIN_EMAIL, PASSWORD};
use serde_json::json;
use std::collections::BTreeMap;

/// Sends the sign-ins all at once and counts the answers by status code.
async fn concurrent_sign_ins(
    app: &TestApp,
    attempts: Vec<(String, String, Option<String>)>,
) -> BTreeMap<u16, usize> {
    let requests = attempts.into_iter().map(|(email, password, forwarded)| {
        let mut req = app
            .api
            .post(app.url("/api/v1/auth/login"))
            .json(&json!({"email": email, "password": password}));
        if let Some(f) = forwarded {
            req = req.header("X-Forwarded-For", f);
        }
        async move { req.send().await.unwrap().status().as_u16() }
    });
    let mut counts = BTreeMap::new();
    for status in futures_util::future::join_all(requests).await {
        *counts.entry(status).or_insert(0) += 1;
    }
    counts
}

async fn sign_in_status(app: &TestApp, email: &str, password: &str, forwarded: &str) -> u16 {
    app.api
        .post(app.url("/api/v1/auth/login"))
        .header("X-Forwarded-For", forwarded)
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

mod direct {
    use super::*;

    async fn concurrent_wrong_passwords_are_counted_before_they_are_checked(app: TestApp) {
        app.admin_token().await;
        let guesses = (0..20)
            .map(|i| (ADMIN_EMAIL.to_string(), format!("guess {i}"), None))
            .collect();
        let counts = concurrent_sign_ins(&app, guesses).await;
        assert_eq!(
            counts,
            BTreeMap::from([(401, 5), (429, 15)]),
            "five guesses evaluated, the rest refused unevaluated"
        );
        // The right password waits too, so guessing gains nothing.
        assert_eq!(
            sign_in_status(&app, ADMIN_EMAIL, PASSWORD, "192.0.2.1").await,
            429
        );
    }

    async fn the_right_password_within_the_limit_signs_in_and_starts_afresh(app: TestApp) {
        app.admin_token().await;
        let typos = (0..4)
            .map(|i| (ADMIN_EMAIL.to_string(), format!("typo {i}"), None))
            .collect();
        let counts = concurrent_sign_ins(&app, typos).await;
        assert_eq!(counts, BTreeMap::from([(401, 4)]));
        assert_eq!(
            sign_in_status(&app, ADMIN_EMAIL, PASSWORD, "192.0.2.1").await,
            200,
            "the fifth attempt is still evaluated"
        );
        // The success cleared the account's count: five more typos are evaluated.
        let typos = (0..5)
            .map(|i| (ADMIN_EMAIL.to_string(), format!("again {i}"), None))
            .collect();
        let counts = concurrent_sign_ins(&app, typos).await;
        assert_eq!(counts, BTreeMap::from([(401, 5)]));
        assert_eq!(
            sign_in_status(&app, ADMIN_EMAIL, PASSWORD, "192.0.2.1").await,
            429
        );
    }

    /// No trusted proxy is configured: X-Forwarded-For is the client's own
    /// word, so every request counts against the TCP peer.
    async fn an_untrusted_peers_forwarded_for_is_ignored(app: TestApp) {
        let guesses = (0..55)
            .map(|i| {
                (
                    format!("nobody{i}@example.com"),
                    "guess".to_string(),
                    Some(format!("203.0.113.{i}")),
                )
            })
            .collect();
        let counts = concurrent_sign_ins(&app, guesses).await;
        assert_eq!(counts, BTreeMap::from([(401, 50), (429, 5)]));
        assert_eq!(
            sign_in_status(&app, "someone@example.com", "guess", "198.51.100.9").await,
            429,
            "a new forwarded address does not escape the peer's limit"
        );
    }

    crate::on_both_engines!(
        concurrent_wrong_passwords_are_counted_before_they_are_checked,
        the_right_password_within_the_limit_signs_in_and_starts_afresh,
        an_untrusted_peers_forwarded_for_is_ignored,
    );
}

mod behind_proxy {
    use super::*;

    /// The test client connects from 127.0.0.1, here a trusted proxy.
    async fn forwarded_clients_of_a_trusted_proxy_are_limited_separately(app: TestApp) {
        let client = "203.0.113.7";
        let guesses = (0..55)
            .map(|i| {
                (
                    format!("nobody{i}@example.com"),
                    "guess".to_string(),
                    // What the client wrote itself, then what the proxy appended.
                    Some(format!("10.9.9.{i}, {client}")),
                )
            })
            .collect();
        let counts = concurrent_sign_ins(&app, guesses).await;
        assert_eq!(counts, BTreeMap::from([(401, 50), (429, 5)]));
        assert_eq!(
            sign_in_status(&app, "someone@example.com", "guess", client).await,
            429
        );
        // Another client behind the same proxy has its own allowance…
        assert_eq!(
            sign_in_status(&app, "someone@example.com", "guess", "198.51.100.9").await,
            401
        );
        // …which the first cannot borrow by naming it further left.
        assert_eq!(
            sign_in_status(
                &app,
                "someone@example.com",
                "guess",
                &format!("198.51.100.9, {client}")
            )
            .await,
            429
        );
    }

    crate::on_both_engines_with!(
        [("PULSE_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8")],
        forwarded_clients_of_a_trusted_proxy_are_limited_separately,
    );
}
