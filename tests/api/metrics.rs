//! GET /metrics: parsed by the Prometheus project's own Python parser, moving as answers arrive, behind its token, with no link in it.

use crate::helpers::TestApp;
use crate::surveys::{create_survey, link_path, people, read_email, weekly};
use serde_json::{json, Value};
use std::collections::HashMap;

pub const METRICS_TOKEN: &str = "metrics-token-0123456789abcdef";

/// One sample as the parser read it.
#[derive(Debug, Clone)]
pub struct Sample {
    pub name: String,
    pub labels: HashMap<String, String>,
    pub value: f64,
}

/// Parses a text exposition with `prometheus_client.parser` (the reference
/// implementation's Python client), which refuses malformed input; the test
/// fails when Python or the package is missing rather than passing unchecked.
pub fn parse(text: &str) -> Vec<Sample> {
    use std::io::Write;
    const SCRIPT: &str = r#"
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = []
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        out.append({"family": family.name, "type": family.type, "name": s.name, "labels": s.labels, "value": s.value})
print(json.dumps(out))
"#;
    let mut child = std::process::Command::new("python3")
        .args(["-c", SCRIPT])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs (and `pip install prometheus-client`)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the Prometheus parser refused /metrics (needs `pip install prometheus-client`): {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    let parsed: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    parsed
        .into_iter()
        .map(|s| Sample {
            name: s["name"].as_str().unwrap().to_string(),
            labels: serde_json::from_value(s["labels"].clone()).unwrap(),
            value: s["value"].as_f64().unwrap_or(f64::NAN),
        })
        .collect()
}

/// The value of the one sample named `name` whose labels include `labels`.
pub fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    let found: Vec<&Sample> = samples
        .iter()
        .filter(|s| {
            s.name == name
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .collect();
    match found.as_slice() {
        [one] => one.value,
        [] => 0.0,
        many => panic!("{} samples of {name} {labels:?}: {many:?}", many.len()),
    }
}

async fn scrape(app: &TestApp) -> (String, Vec<Sample>) {
    let res = app.get("/metrics", Some(METRICS_TOKEN)).await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let text = res.text().await.unwrap();
    let samples = parse(&text);
    (text, samples)
}

async fn metrics_parse_move_with_answers_and_keep_links_out(app: TestApp) {
    // The token is enforced.
    let res = app.get("/metrics", None).await;
    assert_eq!(res.status(), 401);
    assert!(res.headers().contains_key("www-authenticate"));
    assert_eq!(
        app.get("/metrics", Some("wrong-token-0123456789abcdef"))
            .await
            .status(),
        401
    );
    let res = app
        .api
        .get(app.url("/metrics"))
        .header("authorization", format!("Basic {METRICS_TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);

    let (_, before) = scrape(&app).await;
    assert_eq!(value(&before, "pulse_responses_stored_total", &[]), 0.0);
    assert_eq!(value(&before, "pulse_rounds_opened_total", &[]), 0.0);
    assert!(value(&before, "pulse_db_pool_max_connections", &[]) >= 1.0);

    let admin = app.admin_token().await;
    let (team, invited) = people(&app, &admin).await;
    let (survey, questions) = create_survey(&app, &admin, weekly(team)).await;
    let res = app
        .post(
            &format!("/api/v1/surveys/{}/rounds", survey["id"]),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(res.status(), 201);

    // Invitations wait in the outbox: its depth and age show.
    let (_, queued) = scrape(&app).await;
    assert_eq!(value(&queued, "pulse_rounds_opened_total", &[]), 1.0);
    assert_eq!(value(&queued, "pulse_rounds", &[("status", "open")]), 1.0);
    assert_eq!(
        value(&queued, "pulse_outbox_messages", &[("status", "pending")]),
        invited.len() as f64
    );
    assert!(value(&queued, "pulse_outbox_oldest_pending_age_seconds", &[]) >= 0.0);

    app.tick(&chrono::Utc::now().to_rfc3339()).await;
    let links: Vec<String> = app
        .emails()
        .iter()
        .map(|raw| link_path(&read_email(raw).2))
        .collect();
    assert_eq!(links.len(), invited.len());
    let (_, sent) = scrape(&app).await;
    assert_eq!(
        value(&sent, "pulse_outbox_messages", &[("status", "pending")]),
        0.0
    );
    assert_eq!(
        value(&sent, "pulse_outbox_messages", &[("status", "sent")]),
        invited.len() as f64
    );
    assert_eq!(
        value(&sent, "pulse_outbox_oldest_pending_age_seconds", &[]),
        0.0
    );

    // Two answer through the API, one opens the form first.
    let form = app.get(&links[2], None).await;
    assert_eq!(form.status(), 200);
    for link in &links[..2] {
        let token = link.trim_start_matches("/s/");
        let res = app
            .post(
                "/api/v1/responses",
                None,
                json!({"token": token, "answers": [
                    {"question_id": questions[0], "score": 9},
                    {"question_id": questions[1], "score": 4},
                    {"question_id": questions[2], "choice": "Home"}]}),
            )
            .await;
        assert_eq!(res.status(), 201);
    }
    // A refused answer is not counted.
    let token = links[0].trim_start_matches("/s/");
    let res = app
        .post(
            "/api/v1/responses",
            None,
            json!({"token": token, "answers": [{"question_id": questions[0], "score": 9}]}),
        )
        .await;
    assert_eq!(res.status(), 410);

    let (text, after) = scrape(&app).await;
    assert_eq!(value(&after, "pulse_responses_stored_total", &[]), 2.0);
    assert_eq!(value(&after, "pulse_answers_stored_total", &[]), 6.0);
    let responses = [("method", "POST"), ("route", "/api/v1/responses")];
    assert_eq!(
        value(
            &after,
            "pulse_http_requests_total",
            &[responses[0], responses[1], ("status", "201")]
        ),
        2.0
    );
    assert_eq!(
        value(
            &after,
            "pulse_http_requests_total",
            &[responses[0], responses[1], ("status", "410")]
        ),
        1.0
    );
    assert_eq!(
        value(
            &after,
            "pulse_http_request_duration_seconds_count",
            &[responses[0], responses[1]]
        ),
        3.0
    );
    assert_eq!(
        value(
            &after,
            "pulse_http_request_duration_seconds_bucket",
            &[responses[0], responses[1], ("le", "+Inf")]
        ),
        3.0
    );
    // The form was counted under its pattern; the link itself appears nowhere.
    assert_eq!(
        value(
            &after,
            "pulse_http_requests_total",
            &[
                ("method", "GET"),
                ("route", "/s/{token}"),
                ("status", "200")
            ]
        ),
        1.0
    );
    for link in &links {
        let token = link.trim_start_matches("/s/");
        assert!(!text.contains(token), "a survey token leaked into /metrics");
    }
    assert!(
        after
            .iter()
            .filter_map(|s| s.labels.get("route"))
            .all(|r| !r
                .replace("/api/v1/", "/")
                .chars()
                .any(|c| c.is_ascii_digit())),
        "a route label holds an id: {text}"
    );
    // Paths that match nothing share one label.
    app.get("/no/such/page/12345", None).await;
    let (text, unmatched) = scrape(&app).await;
    assert!(!text.contains("12345"));
    assert!(
        value(
            &unmatched,
            "pulse_http_requests_total",
            &[("route", "unmatched"), ("status", "404")]
        ) >= 1.0
    );
}

/// Without a token set, /metrics is open (the default for a private network).
async fn metrics_are_open_without_a_token(app: TestApp) {
    let res = app.get("/metrics", None).await;
    assert_eq!(res.status(), 200);
    let samples = parse(&res.text().await.unwrap());
    assert_eq!(
        value(
            &samples,
            "pulse_build_info",
            &[("engine", app.state.engine)]
        ),
        1.0
    );
}

crate::on_both_engines_with!(
    [("PULSE_METRICS_TOKEN", crate::metrics::METRICS_TOKEN)],
    metrics_parse_move_with_answers_and_keep_links_out,
);

mod open {
    use super::*;
    crate::on_both_engines!(metrics_are_open_without_a_token);
}
