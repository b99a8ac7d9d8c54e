//! What one Pulse process counts for `GET /metrics`, and the Prometheus text format it is written in.
//!
//! Hand-written rather than a metrics crate: a few counters and one histogram
//! family do not need one, and the format is small (version 0.0.4 of the
//! Prometheus text exposition). Requests are labelled by route *pattern*
//! (`/s/{token}`), never by the path that came in, so no survey link, id or
//! query ever becomes a label.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Upper bounds of the request-duration buckets, in seconds.
pub const BUCKETS: [f64; 12] = [
    0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The label of a request that matched no route: one value for all of them,
/// so scanners trying paths cannot grow the series without bound.
pub const UNMATCHED: &str = "unmatched";

#[derive(Default)]
struct RouteStats {
    by_status: BTreeMap<u16, u64>,
    /// Cumulative counts are computed when written; each slot counts its bucket only.
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// The process's counters; one per application, shared by its workers.
pub struct Metrics {
    started_at: f64,
    http: Mutex<BTreeMap<(&'static str, String), RouteStats>>,
    responses_stored: AtomicU64,
    answers_stored: AtomicU64,
    ticks: TickCounters,
}

/// What this process's scheduler and dispatcher passes did (`pulse serve` only).
#[derive(Default)]
struct TickCounters {
    ok: AtomicU64,
    failed: AtomicU64,
    /// Unix seconds of the last pass that completed; 0 before the first.
    last_ok: AtomicU64,
    sent: AtomicU64,
    retried: AtomicU64,
    given_up: AtomicU64,
    deferred: AtomicU64,
    rounds_sent: AtomicU64,
    rounds_closed: AtomicU64,
    webhooks_delivered: AtomicU64,
    webhooks_retried: AtomicU64,
    webhooks_failed: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// The methods Pulse serves; anything else is counted as `other`.
fn method_label(method: &str) -> &'static str {
    match method {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    }
}

impl Metrics {
    pub fn new() -> Self {
        let started_at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or_default();
        Self {
            started_at,
            http: Mutex::new(BTreeMap::new()),
            responses_stored: AtomicU64::new(0),
            answers_stored: AtomicU64::new(0),
            ticks: TickCounters::default(),
        }
    }

    /// Counts one scheduler + dispatch pass: what it did, or that it failed.
    pub fn tick(&self, outcome: Option<&crate::jobs::TickOutcome>) {
        let t = &self.ticks;
        let Some(o) = outcome else {
            t.failed.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let add = |c: &AtomicU64, n: usize| c.fetch_add(n as u64, Ordering::Relaxed);
        add(&t.ok, 1);
        self.deliveries(o.sent, o.retried, o.failed, o.deferred);
        add(&t.rounds_sent, o.schedule.rounds_sent);
        add(&t.rounds_closed, o.schedule.rounds_closed);
        add(&t.webhooks_delivered, o.webhooks.delivered);
        add(&t.webhooks_retried, o.webhooks.retried);
        add(&t.webhooks_failed, o.webhooks.failed);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        t.last_ok.store(now, Ordering::Relaxed);
    }

    /// Counts delivery attempts, of a pass or of a dispatch between passes.
    pub fn deliveries(&self, sent: usize, retried: usize, given_up: usize, deferred: usize) {
        let t = &self.ticks;
        let add = |c: &AtomicU64, n: usize| c.fetch_add(n as u64, Ordering::Relaxed);
        add(&t.sent, sent);
        add(&t.retried, retried);
        add(&t.given_up, given_up);
        add(&t.deferred, deferred);
    }

    /// Counts one finished request. `route` is the matched pattern, or `None`.
    pub fn observe_request(&self, method: &str, route: Option<&str>, status: u16, seconds: f64) {
        let key = (method_label(method), route.unwrap_or(UNMATCHED).to_string());
        let mut http = self.http.lock().unwrap_or_else(|e| e.into_inner());
        let stats = http.entry(key).or_default();
        *stats.by_status.entry(status).or_default() += 1;
        if let Some(slot) = BUCKETS.iter().position(|b| seconds <= *b) {
            stats.buckets[slot] += 1;
        }
        stats.count += 1;
        stats.sum += seconds;
    }

    /// Counts one stored response holding `answers` answers.
    pub fn answers_stored(&self, answers: usize) {
        self.responses_stored.fetch_add(1, Ordering::Relaxed);
        self.answers_stored
            .fetch_add(answers as u64, Ordering::Relaxed);
    }

    /// Writes this process's figures, then `shared` (read from the database at scrape time).
    pub fn render(&self, shared: &Shared) -> String {
        let mut out = Exposition::default();
        out.family(
            "pulse_http_requests_total",
            "counter",
            "HTTP requests answered, by method, route pattern and status.",
        );
        out.family_later(
            "pulse_http_request_duration_seconds",
            "histogram",
            "Time to answer an HTTP request, by method and route pattern.",
        );
        {
            let http = self.http.lock().unwrap_or_else(|e| e.into_inner());
            for ((method, route), stats) in http.iter() {
                for (status, n) in &stats.by_status {
                    out.sample(
                        "pulse_http_requests_total",
                        &[
                            ("method", method),
                            ("route", route),
                            ("status", &status.to_string()),
                        ],
                        *n as f64,
                    );
                }
            }
            out.open_later();
            for ((method, route), stats) in http.iter() {
                let mut cumulative = 0;
                for (bound, n) in BUCKETS.iter().zip(stats.buckets) {
                    cumulative += n;
                    out.sample(
                        "pulse_http_request_duration_seconds_bucket",
                        &[("method", method), ("route", route), ("le", &float(*bound))],
                        cumulative as f64,
                    );
                }
                let labels = [("method", *method), ("route", route.as_str())];
                out.sample(
                    "pulse_http_request_duration_seconds_bucket",
                    &[labels[0], labels[1], ("le", "+Inf")],
                    stats.count as f64,
                );
                out.sample(
                    "pulse_http_request_duration_seconds_sum",
                    &labels,
                    stats.sum,
                );
                out.sample(
                    "pulse_http_request_duration_seconds_count",
                    &labels,
                    stats.count as f64,
                );
            }
        }
        out.single(
            "pulse_responses_stored_total",
            "counter",
            "Survey responses this process stored (one per person and round).",
            self.responses_stored.load(Ordering::Relaxed) as f64,
        );
        out.single(
            "pulse_answers_stored_total",
            "counter",
            "Answers (one per question answered) this process stored.",
            self.answers_stored.load(Ordering::Relaxed) as f64,
        );
        let t = &self.ticks;
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed) as f64;
        out.family(
            "pulse_scheduler_passes_total",
            "counter",
            "Scheduler passes this process ran, by result (a failed dispatch pass counts as an error).",
        );
        out.sample(
            "pulse_scheduler_passes_total",
            &[("result", "ok")],
            load(&t.ok),
        );
        out.sample(
            "pulse_scheduler_passes_total",
            &[("result", "error")],
            load(&t.failed),
        );
        out.single(
            "pulse_scheduler_last_pass_timestamp_seconds",
            "gauge",
            "When this process last completed a scheduler and dispatch pass, in Unix seconds; 0 before the first.",
            load(&t.last_ok),
        );
        out.family(
            "pulse_email_deliveries_total",
            "counter",
            "Delivery attempts this process made, by outcome: sent, retried (failed, will be tried again), failed (given up for good), deferred (the mail relay did not answer; not counted as an attempt).",
        );
        for (outcome, c) in [
            ("sent", &t.sent),
            ("retried", &t.retried),
            ("failed", &t.given_up),
            ("deferred", &t.deferred),
        ] {
            out.sample(
                "pulse_email_deliveries_total",
                &[("outcome", outcome)],
                load(c),
            );
        }
        out.family(
            "pulse_webhook_deliveries_total",
            "counter",
            "Webhook delivery attempts this process made, by outcome: delivered (2xx), retried (will be tried again), failed (refused for good by a 4xx, or out of attempts).",
        );
        for (outcome, c) in [
            ("delivered", &t.webhooks_delivered),
            ("retried", &t.webhooks_retried),
            ("failed", &t.webhooks_failed),
        ] {
            out.sample(
                "pulse_webhook_deliveries_total",
                &[("outcome", outcome)],
                load(c),
            );
        }
        out.family(
            "pulse_scheduler_rounds_total",
            "counter",
            "Rounds this process's scheduler sent on schedule or closed.",
        );
        out.sample(
            "pulse_scheduler_rounds_total",
            &[("event", "sent")],
            load(&t.rounds_sent),
        );
        out.sample(
            "pulse_scheduler_rounds_total",
            &[("event", "closed")],
            load(&t.rounds_closed),
        );
        out.single(
            "pulse_process_start_time_seconds",
            "gauge",
            "When this process started, in Unix seconds.",
            self.started_at,
        );
        out.family(
            "pulse_build_info",
            "gauge",
            "The running version of Pulse and its database engine.",
        );
        out.sample(
            "pulse_build_info",
            &[
                ("version", env!("CARGO_PKG_VERSION")),
                ("engine", shared.engine),
            ],
            1.0,
        );
        shared.write(&mut out);
        out.text
    }
}

/// Figures every instance shares, read from the database (and the pool) when scraped.
#[derive(Debug, Clone, Default)]
pub struct Shared {
    pub engine: &'static str,
    /// Rounds by status: open, closing, closed, skipped.
    pub rounds: Vec<(String, i64)>,
    /// Outbox messages by status: pending, sent, failed.
    pub outbox: (i64, i64, i64),
    /// Pending messages that failed at least once and wait for a retry.
    pub outbox_retrying: i64,
    /// Age of the oldest message not yet sent, in seconds; 0 when none waits.
    pub outbox_oldest_pending_seconds: f64,
    pub pool_max: u32,
    pub pool_open: u32,
    pub pool_idle: u32,
}

impl Shared {
    fn write(&self, out: &mut Exposition) {
        out.single(
            "pulse_rounds_opened_total",
            "counter",
            "Rounds ever sent (every status but skipped), company-wide: the same on every instance.",
            self.rounds
                .iter()
                .filter(|(s, _)| s != "skipped")
                .map(|(_, n)| *n as f64)
                .sum(),
        );
        out.family("pulse_rounds", "gauge", "Rounds by status, company-wide.");
        for status in ["open", "closing", "closed", "skipped"] {
            let n = self
                .rounds
                .iter()
                .find(|(s, _)| s == status)
                .map_or(0, |(_, n)| *n);
            out.sample("pulse_rounds", &[("status", status)], n as f64);
        }
        out.family(
            "pulse_outbox_messages",
            "gauge",
            "Outbox messages by status: pending (the queue depth), sent, failed (given up after retries or refused for good).",
        );
        let (pending, sent, failed) = self.outbox;
        for (status, n) in [("pending", pending), ("sent", sent), ("failed", failed)] {
            out.sample("pulse_outbox_messages", &[("status", status)], n as f64);
        }
        out.single(
            "pulse_outbox_retrying_messages",
            "gauge",
            "Pending messages whose delivery failed at least once and that wait for a retry.",
            self.outbox_retrying as f64,
        );
        out.single(
            "pulse_outbox_oldest_pending_age_seconds",
            "gauge",
            "How long the oldest unsent message has waited; 0 when the outbox is empty.",
            self.outbox_oldest_pending_seconds,
        );
        out.single(
            "pulse_db_pool_max_connections",
            "gauge",
            "Connections the database pool may open.",
            self.pool_max as f64,
        );
        out.single(
            "pulse_db_pool_connections",
            "gauge",
            "Connections the database pool holds open.",
            self.pool_open as f64,
        );
        out.single(
            "pulse_db_pool_idle_connections",
            "gauge",
            "Open connections no request is using.",
            self.pool_idle as f64,
        );
        out.single(
            "pulse_db_pool_in_use_connections",
            "gauge",
            "Connections checked out by requests and jobs right now.",
            self.pool_open.saturating_sub(self.pool_idle) as f64,
        );
    }
}

/// A text exposition being written: HELP and TYPE once per family, then its samples.
#[derive(Default)]
struct Exposition {
    text: String,
    later: Option<String>,
}

impl Exposition {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.text, "# HELP {name} {}", escape_help(help));
        let _ = writeln!(self.text, "# TYPE {name} {kind}");
    }

    /// A family whose header is written when `open_later` is called.
    fn family_later(&mut self, name: &str, kind: &str, help: &str) {
        self.later = Some(format!(
            "# HELP {name} {}\n# TYPE {name} {kind}\n",
            escape_help(help)
        ));
    }

    fn open_later(&mut self) {
        if let Some(header) = self.later.take() {
            self.text.push_str(&header);
        }
    }

    fn single(&mut self, name: &str, kind: &str, help: &str, value: f64) {
        self.family(name, kind, help);
        self.sample(name, &[], value);
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.text.push_str(name);
        if !labels.is_empty() {
            self.text.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.text.push(',');
                }
                let _ = write!(self.text, "{k}=\"{}\"", escape_label(v));
            }
            self.text.push('}');
        }
        let _ = writeln!(self.text, " {}", float(value));
    }
}

/// A label value as the format wants it: backslash, double quote and line feed escaped.
pub fn escape_label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn escape_help(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\n', "\\n")
}

/// A sample value: integers without a fraction, `+Inf`/`-Inf`/`NaN` spelled as the format does.
fn float(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape_label(r#"a"b\c"#), r#"a\"b\\c"#);
        assert_eq!(escape_label("x\ny"), "x\\ny");
        assert_eq!(
            escape_label(r"/one-on-ones/{id:\d+}"),
            r"/one-on-ones/{id:\\d+}"
        );
    }

    #[test]
    fn values_are_written_as_the_format_wants() {
        assert_eq!(float(3.0), "3");
        assert_eq!(float(0.25), "0.25");
        assert_eq!(float(f64::INFINITY), "+Inf");
        assert_eq!(float(f64::NAN), "NaN");
    }

    #[test]
    fn scheduler_passes_count_deliveries_and_failures() {
        let m = Metrics::new();
        let mut o = crate::jobs::TickOutcome {
            sent: 3,
            retried: 2,
            failed: 1,
            ..Default::default()
        };
        o.schedule.rounds_sent = 1;
        o.webhooks.delivered = 4;
        o.webhooks.failed = 1;
        m.tick(Some(&o));
        m.tick(None);
        let text = m.render(&Shared::default());
        for line in [
            r#"pulse_email_deliveries_total{outcome="sent"} 3"#,
            r#"pulse_email_deliveries_total{outcome="retried"} 2"#,
            r#"pulse_email_deliveries_total{outcome="failed"} 1"#,
            r#"pulse_email_deliveries_total{outcome="deferred"} 0"#,
            r#"pulse_scheduler_passes_total{result="ok"} 1"#,
            r#"pulse_scheduler_passes_total{result="error"} 1"#,
            r#"pulse_scheduler_rounds_total{event="sent"} 1"#,
            r#"pulse_webhook_deliveries_total{outcome="delivered"} 4"#,
            r#"pulse_webhook_deliveries_total{outcome="retried"} 0"#,
            r#"pulse_webhook_deliveries_total{outcome="failed"} 1"#,
        ] {
            assert!(text.lines().any(|l| l == line), "no `{line}` in\n{text}");
        }
        assert!(!text.contains("pulse_scheduler_last_pass_timestamp_seconds 0\n"));
    }

    #[test]
    fn the_histogram_is_cumulative_and_ends_with_inf() {
        let m = Metrics::new();
        m.observe_request("GET", Some("/api/v1/teams"), 200, 0.003);
        m.observe_request("GET", Some("/api/v1/teams"), 403, 0.3);
        m.observe_request("GET", Some("/api/v1/teams"), 200, 60.0);
        m.observe_request("BREW", None, 404, 0.001);
        let text = m.render(&Shared::default());
        let line = |prefix: &str| {
            text.lines()
                .find(|l| l.starts_with(prefix))
                .unwrap_or_else(|| panic!("no {prefix} in\n{text}"))
                .rsplit(' ')
                .next()
                .unwrap()
                .to_string()
        };
        let teams = r#"method="GET",route="/api/v1/teams""#;
        assert_eq!(
            line(&format!(
                r#"pulse_http_requests_total{{{teams},status="200"}}"#
            )),
            "2"
        );
        assert_eq!(
            line(&format!(
                r#"pulse_http_requests_total{{{teams},status="403"}}"#
            )),
            "1"
        );
        assert_eq!(
            line(&format!(
                r#"pulse_http_request_duration_seconds_bucket{{{teams},le="0.005"}}"#
            )),
            "1"
        );
        assert_eq!(
            line(&format!(
                r#"pulse_http_request_duration_seconds_bucket{{{teams},le="0.5"}}"#
            )),
            "2"
        );
        assert_eq!(
            line(&format!(
                r#"pulse_http_request_duration_seconds_bucket{{{teams},le="10"}}"#
            )),
            "2"
        );
        assert_eq!(
            line(&format!(
                r#"pulse_http_request_duration_seconds_bucket{{{teams},le="+Inf"}}"#
            )),
            "3"
        );
        assert_eq!(
            line(&format!(
                r#"pulse_http_request_duration_seconds_count{{{teams}}}"#
            )),
            "3"
        );
        assert_eq!(
            line(r#"pulse_http_requests_total{method="other",route="unmatched",status="404"}"#),
            "1"
        );
        // Each family's header comes once, before its samples.
        assert_eq!(
            text.matches("# TYPE pulse_http_request_duration_seconds histogram")
                .count(),
            1
        );
    }
}
