//! HTTP routes: the JSON API under /api/v1 and the server-rendered pages.

pub mod api;
pub mod metrics;
pub mod nul;
pub mod pages;
pub mod scim;

use crate::error::AppError;
use crate::state::AppState;
use actix_web::dev::Service;
use actix_web::{error, web, HttpRequest, HttpResponse};
use futures_util::FutureExt;
use std::panic::AssertUnwindSafe;

/// JSON bodies are small forms; 1 MiB is generous.
pub const JSON_LIMIT: usize = 1 << 20;
/// A CSV of 100,000 people fits well within this.
pub const CSV_LIMIT: usize = 20 << 20;

pub fn configure(cfg: &mut web::ServiceConfig, state: web::Data<AppState>) {
    cfg.app_data(state)
        .app_data(
            web::JsonConfig::default()
                .limit(JSON_LIMIT)
                .error_handler(|e, _| json_error(e).into()),
        )
        .app_data(web::PayloadConfig::default().limit(CSV_LIMIT))
        .app_data(
            web::QueryConfig::default().error_handler(|e, _| {
                AppError::BadRequest(format!("bad query string: {e}")).into()
            }),
        )
        .app_data(
            web::PathConfig::default()
                .error_handler(|e, _| AppError::NotFound(format!("no such resource: {e}")).into()),
        )
        .app_data(web::FormConfig::default().limit(JSON_LIMIT))
        .configure(api::configure)
        .configure(scim::configure)
        .service(web::scope("/scim").default_service(web::to(scim::not_found)))
        .configure(pages::configure);
}

/// Routes grouped by path: each path becomes one resource, so a method it does
/// not take gets 405 with an `Allow` header (actix's resource default) instead
/// of falling through to 404. Written like `ServiceConfig::route`.
#[derive(Default)]
pub struct Router(Vec<(&'static str, actix_web::Resource)>);

impl Router {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn route(mut self, path: &'static str, route: actix_web::Route) -> Self {
        match self.0.iter_mut().find(|(p, _)| *p == path) {
            Some((_, resource)) => {
                let grown = std::mem::replace(resource, web::resource(path)).route(route);
                *resource = grown;
            }
            None => self.0.push((path, web::resource(path).route(route))),
        }
        self
    }

    /// Lets a function add a group of routes in the middle of a chain.
    pub fn apply(self, f: impl FnOnce(Self) -> Self) -> Self {
        f(self)
    }

    /// Adds the resources to `cfg`, in the order their paths first appeared.
    pub fn register(self, cfg: &mut web::ServiceConfig) {
        for (_, resource) in self.0 {
            cfg.service(resource);
        }
    }
}

/// A 405 from a resource comes with `Allow` but no body: it gets the API's
/// error shape under /api, and a page elsewhere, like every other refusal.
pub async fn explain_405(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    use actix_web::http::{header, StatusCode};
    let res = next.call(req).await?;
    if res.status() != StatusCode::METHOD_NOT_ALLOWED {
        return Ok(res.map_into_boxed_body());
    }
    let allow = res.headers().get(header::ALLOW).cloned();
    let (req, _) = res.into_parts();
    let allowed = allow
        .as_ref()
        .and_then(|a| a.to_str().ok())
        .unwrap_or("another method")
        .to_string();
    let message = format!(
        "{} {} is not supported: use {allowed}",
        req.method(),
        req.path()
    );
    let mut out = if req.path().starts_with("/api/") {
        actix_web::ResponseError::error_response(&AppError::MethodNotAllowed(message))
    } else if req.path().starts_with("/scim/") {
        actix_web::ResponseError::error_response(&crate::scim::ScimError::new(405, None, message))
    } else {
        pages::message_page(
            &req,
            StatusCode::METHOD_NOT_ALLOWED,
            "This address does not take that request",
            &message,
        )
    };
    if let Some(allow) = allow {
        out.headers_mut().insert(header::ALLOW, allow);
    }
    Ok(actix_web::dev::ServiceResponse::new(req, out))
}

/// A panic in one handler becomes that request's 500; the worker and every
/// other request carry on.
/// The access log's line for a request: `<method> <path> <status> <time>`, with no
/// query string (it may hold a setup token or the score chosen in an email) and
/// the survey link's token replaced, so the logs never tie a person to an answer.
pub fn access_log() -> actix_web::middleware::Logger {
    actix_web::middleware::Logger::new("%{method}xi %{path}xi %s %Dms")
        .custom_request_replace("method", |req| req.method().to_string())
        .custom_request_replace("path", |req| loggable_path(req.path()))
}

/// A request path as logs may show it: secrets in the path are replaced.
pub fn loggable_path(path: &str) -> String {
    for prefix in ["/s/", "/c/"] {
        if let Some(rest) = path.strip_prefix(prefix) {
            if !rest.is_empty() {
                return format!("{prefix}<redacted>");
            }
        }
    }
    path.to_string()
}

pub fn catch_panics<S, B>(
    req: actix_web::dev::ServiceRequest,
    srv: &S,
) -> impl std::future::Future<Output = Result<actix_web::dev::ServiceResponse<B>, actix_web::Error>>
where
    S: Service<
        actix_web::dev::ServiceRequest,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
{
    let call = AssertUnwindSafe(srv.call(req)).catch_unwind();
    async move {
        call.await.unwrap_or_else(|_| {
            Err(AppError::Internal(anyhow::anyhow!("a request handler panicked")).into())
        })
    }
}

fn json_error(e: error::JsonPayloadError) -> AppError {
    match e {
        error::JsonPayloadError::OverflowKnownLength { .. }
        | error::JsonPayloadError::Overflow { .. } => {
            AppError::PayloadTooLarge(format!("the JSON body is larger than {} bytes", JSON_LIMIT))
        }
        error::JsonPayloadError::ContentType => {
            AppError::BadRequest("send the body as JSON with Content-Type: application/json".into())
        }
        error::JsonPayloadError::Deserialize(e) => {
            AppError::BadRequest(format!("the JSON body is not valid: {e}"))
        }
        other => AppError::BadRequest(format!("cannot read the body: {other}")),
    }
}

pub(crate) async fn not_found(req: HttpRequest) -> Result<HttpResponse, AppError> {
    if req.path().starts_with("/api/") {
        Err(AppError::NotFound(format!(
            "no endpoint {} {}",
            req.method(),
            req.path()
        )))
    } else {
        Ok(pages::message_page(
            &req,
            actix_web::http::StatusCode::NOT_FOUND,
            "Page not found",
            "There is no page at this address.",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::loggable_path;

    #[test]
    fn survey_links_never_reach_the_log() {
        assert_eq!(loggable_path("/s/0123abcd"), "/s/<redacted>");
        assert_eq!(loggable_path("/s/0123abcd/extra"), "/s/<redacted>");
        assert_eq!(loggable_path("/c/feedbeef"), "/c/<redacted>");
        assert_eq!(loggable_path("/surveys/3"), "/surveys/3");
        assert_eq!(loggable_path("/account/setup"), "/account/setup");
    }
}
