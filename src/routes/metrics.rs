//! GET /metrics (Prometheus text format, behind `PULSE_METRICS_TOKEN` when set) and the middleware that times every request.

use crate::error::{AppError, AppResult};
use crate::metrics::Shared;
use crate::state::AppState;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest, HttpResponse};

/// Counts and times every request under its route pattern, whatever answered it
/// (a handler, a refusal, a 404, a panic turned into a 500).
pub async fn track(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = std::time::Instant::now();
    let metrics = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.metrics.clone());
    let method = req.method().to_string();
    // The pattern (`/s/{token}`), never the path: no link, id or query in a label.
    let route = req.match_pattern();
    let res = next.call(req).await;
    if let Some(m) = metrics {
        let status = match &res {
            Ok(r) => r.status(),
            Err(e) => e.as_response_error().status_code(),
        };
        m.observe_request(
            &method,
            route.as_deref(),
            status.as_u16(),
            started.elapsed().as_secs_f64(),
        );
    }
    res
}

/// Compares in time independent of where the two differ.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn authorized(req: &HttpRequest, token: &str) -> bool {
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .is_some_and(|(scheme, sent)| {
            scheme.eq_ignore_ascii_case("bearer")
                && same_secret(sent.trim().as_bytes(), token.as_bytes())
        })
}

#[utoipa::path(get, path = "/metrics", tag = "health",
    security((), ("metrics_token" = [])),
    responses((status = 200, description = "Prometheus text format 0.0.4: requests by route pattern and status with latency histograms, responses and answers stored, rounds, outbox depth and oldest pending age, delivery failures, database pool use", content_type = "text/plain", body = String),
              (status = 401, description = "PULSE_METRICS_TOKEN is set and the request lacks `Authorization: Bearer <it>`", body = crate::error::ErrorBody)))]
pub async fn metrics(req: HttpRequest, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    if let Some(token) = &state.settings.metrics_token {
        if !authorized(&req, token) {
            let mut res = actix_web::ResponseError::error_response(&AppError::Unauthorized(
                "send Authorization: Bearer <PULSE_METRICS_TOKEN>".into(),
            ));
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer realm=\"pulse-metrics\""),
            );
            return Ok(res);
        }
    }
    let pool = state.pool.state();
    let mut shared = Shared {
        engine: state.engine,
        pool_max: state.pool.max_size(),
        pool_open: pool.connections,
        pool_idle: pool.idle_connections,
        ..Default::default()
    };
    let now = crate::repo::now();
    let (rounds, outbox, retrying, oldest) = state
        .db(move |conn| {
            Ok((
                crate::repo::rounds::count_by_status(conn)?,
                crate::repo::outbox::counts(conn)?,
                crate::repo::outbox::retrying(conn)?,
                crate::repo::outbox::oldest_pending(conn)?,
            ))
        })
        .await?;
    shared.rounds = rounds;
    shared.outbox = outbox;
    shared.outbox_retrying = retrying;
    shared.outbox_oldest_pending_seconds = oldest
        .map(|t| ((now - t).num_milliseconds().max(0) as f64) / 1000.0)
        .unwrap_or(0.0);
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(state.metrics.render(&shared)))
}

#[cfg(test)]
mod tests {
    use super::same_secret;

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret(b"abc", b"abc"));
        assert!(!same_secret(b"abc", b"abd"));
        assert!(!same_secret(b"abc", b"abcd"));
        assert!(!same_secret(b"", b"a"));
    }
}
