//! The JSON API under /api/v1, its paging rules and its OpenAPI document.

pub mod account;
pub mod account_invitations;
pub mod action_plans;
pub mod audit;
pub mod auth;
pub mod conversations;
pub mod drivers;
pub mod employees;
pub mod erasure;
pub mod health;
pub mod lifecycle;
pub mod meeting_items;
pub mod one_on_one_overview;
pub mod one_on_ones;
pub mod openapi;
pub mod questions;
pub mod reports;
pub mod responses;
pub mod retention;
pub mod scim_tokens;
pub mod surveys;
pub mod teams;
pub mod templates;
pub mod webhooks;

use crate::error::AppError;
use actix_web::{http::header, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Deserializer, Serialize};

pub fn configure(cfg: &mut web::ServiceConfig) {
    crate::routes::Router::new()
        .route("/healthz", web::get().to(health::healthz))
        .route("/metrics", web::get().to(crate::routes::metrics::metrics))
        .register(cfg);
    cfg.service(
        web::scope("/api/v1")
            .configure(|cfg| api_routes().register(cfg))
            .default_service(web::to(crate::routes::not_found)),
    );
}

fn api_routes() -> crate::routes::Router {
    crate::routes::Router::new()
        .route("/openapi.json", web::get().to(openapi::document))
        .route("/auth/login", web::post().to(auth::login))
        .route("/auth/logout", web::post().to(auth::logout))
        .route("/teams", web::post().to(teams::create))
        .route("/teams", web::get().to(teams::list))
        .route("/teams/{id}", web::get().to(teams::get))
        .route("/teams/{id}", web::patch().to(teams::update))
        .route("/employees", web::post().to(employees::create))
        .route("/employees", web::get().to(employees::list))
        .route("/employees/import", web::post().to(employees::import))
        .route("/employees/{id}", web::get().to(employees::get))
        .route("/employees/{id}", web::patch().to(employees::update))
        .route("/employees/{id}/erase", web::post().to(erasure::erase))
        .route("/settings/retention", web::get().to(retention::get))
        .route("/settings/retention", web::put().to(retention::put))
        .route("/employees/{id}/export", web::get().to(erasure::export))
        .route("/surveys", web::post().to(surveys::create))
        .route("/surveys", web::get().to(surveys::list))
        .route("/surveys/{id}", web::get().to(surveys::get))
        .route("/surveys/{id}", web::patch().to(surveys::update))
        .route("/surveys/{id}/rounds", web::post().to(surveys::send_round))
        .route("/surveys/{id}/rounds", web::get().to(surveys::rounds))
        .route("/rounds/{id}/close", web::post().to(reports::close_round))
        .route("/responses", web::post().to(responses::submit))
        .apply(library_routes)
        .apply(one_on_one_routes)
        .apply(listening_routes)
        .route("/reports/enps", web::get().to(reports::enps))
        .route("/reports/enps.csv", web::get().to(reports::enps_csv))
        .route("/reports/enps/teams", web::get().to(reports::enps_teams))
        .route(
            "/reports/enps-turnover",
            web::get().to(reports::enps_turnover),
        )
        .route("/reports/turnover", web::get().to(reports::turnover_report))
        .route("/reports/lifecycle", web::get().to(lifecycle::cohorts))
        .route("/account/digest", web::get().to(lifecycle::get_digest))
        .route("/account/digest", web::put().to(lifecycle::put_digest))
        .route(
            "/reports/turnover.csv",
            web::get().to(reports::turnover_csv),
        )
        .route("/reports/rounds/{id}", web::get().to(reports::round))
        .route("/reports/drivers", web::get().to(drivers::report))
        .route("/audit", web::get().to(audit::list))
        .route("/audit.csv", web::get().to(audit::csv))
        .route("/webhooks", web::post().to(webhooks::create))
        .route("/webhooks", web::get().to(webhooks::list))
        .route("/webhooks/{id}", web::delete().to(webhooks::delete))
        .route("/scim-tokens", web::post().to(scim_tokens::create))
        .route("/scim-tokens", web::get().to(scim_tokens::list))
        .route("/scim-tokens/{id}", web::delete().to(scim_tokens::delete))
        .route(
            "/reports/rounds/{id}/answers.csv",
            web::get().to(reports::round_answers_csv),
        )
}

/// The question library and the survey templates built from it.
fn library_routes(routes: crate::routes::Router) -> crate::routes::Router {
    routes
        .route("/questions", web::get().to(questions::list))
        .route("/questions", web::post().to(questions::create))
        .route("/questions/{id}", web::get().to(questions::get))
        .route("/questions/{id}", web::patch().to(questions::update))
        .route("/templates", web::get().to(templates::list))
}

/// 1:1s and the account invitations that let people sign in for them.
/// Conversations on comments and action plans.
fn listening_routes(routes: crate::routes::Router) -> crate::routes::Router {
    routes
        .route(
            "/comments/{id}/replies",
            web::get().to(conversations::replies),
        )
        .route(
            "/comments/{id}/replies",
            web::post().to(conversations::reply),
        )
        .route(
            "/reports/rounds/{id}/comments",
            web::get().to(conversations::round_comments),
        )
        .route("/action-plans", web::post().to(action_plans::create))
        .route("/action-plans", web::get().to(action_plans::list))
        .route("/action-plans/{id}", web::patch().to(action_plans::update))
}

fn one_on_one_routes(routes: crate::routes::Router) -> crate::routes::Router {
    use meeting_items as items;
    use one_on_ones as o;
    routes
        .route(
            "/employees/{id}/invite",
            web::post().to(account_invitations::invite),
        )
        .route("/one-on-ones", web::post().to(o::create))
        .route("/one-on-ones", web::get().to(o::list))
        .route(
            "/one-on-ones/overview",
            web::get().to(one_on_one_overview::overview),
        )
        .route("/one-on-ones/{id}", web::get().to(o::get))
        .route("/one-on-ones/{id}", web::patch().to(o::update))
        .route("/one-on-ones/{id}/meetings", web::get().to(o::meetings))
        .route("/meetings/{id}", web::get().to(o::meeting))
        .route("/meetings/{id}", web::patch().to(o::update_meeting))
        .route("/meetings/{id}/agenda", web::post().to(o::add_agenda_item))
        .route("/meetings/{id}/notes", web::post().to(o::add_note))
        .route("/meetings/{id}/actions", web::post().to(o::add_action))
        .route("/agenda/{id}", web::patch().to(o::update_agenda_item))
        .route("/actions/{id}", web::patch().to(items::patch_action))
        .route("/actions/{id}", web::delete().to(items::delete_action))
        .route(
            "/agenda-items/{id}",
            web::patch().to(items::patch_agenda_item),
        )
        .route(
            "/agenda-items/{id}",
            web::delete().to(items::delete_agenda_item),
        )
        .route("/notes/{id}", web::patch().to(items::patch_note))
        .route("/notes/{id}", web::delete().to(items::delete_note))
        .route("/agenda-templates", web::get().to(items::templates))
        .route("/agenda-templates", web::post().to(items::create_template))
        .route(
            "/agenda-templates/{id}",
            web::delete().to(items::delete_template),
        )
        .route(
            "/meetings/{id}/agenda/from-template",
            web::post().to(items::add_from_template),
        )
        .route("/account/notes", web::get().to(account::notes))
        .route(
            "/account/notes/recovery-code",
            web::post().to(account::recovery_code),
        )
        .route("/account/notes/unlock", web::post().to(account::unlock))
        .route(
            "/account/notes/passphrase",
            web::post().to(account::passphrase),
        )
        .route(
            "/account/notes/start-afresh",
            web::post().to(account::start_afresh),
        )
}

/// `?page=N&per_page=M`: pages count from 1; 100 a page by default, 1000 at most.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::IntoParams)]
pub struct Paging {
    /// From 1.
    #[param(minimum = 1)]
    pub page: Option<i64>,
    /// 1 to 1000, default 100.
    #[param(minimum = 1, maximum = 1000)]
    pub per_page: Option<i64>,
}

impl Paging {
    pub fn check(self) -> Result<(i64, i64), AppError> {
        let page = self.page.unwrap_or(1);
        let per_page = self.per_page.unwrap_or(100);
        if page < 1 {
            return Err(AppError::field("page", "pages count from 1"));
        }
        if !(1..=1000).contains(&per_page) {
            return Err(AppError::field("per_page", "must be between 1 and 1000"));
        }
        Ok((page, per_page))
    }

    pub fn offset(self) -> Result<(i64, i64), AppError> {
        let (page, per_page) = self.check()?;
        Ok(((page - 1).saturating_mul(per_page), per_page))
    }
}

/// A JSON array page, with `Link: <…>; rel="next"` while more remain.
pub fn paged<T: Serialize>(
    req: &HttpRequest,
    paging: Paging,
    items: Vec<T>,
    total: i64,
) -> Result<HttpResponse, AppError> {
    let (page, per_page) = paging.check()?;
    let mut res = HttpResponse::Ok();
    res.insert_header(("X-Total-Count", total.to_string()));
    if let Some(link) = next_page_link(req, page, per_page, total) {
        res.insert_header((header::LINK, link));
    }
    Ok(res.json(items))
}

/// `<…?page=N+1&per_page=M>; rel="next"` while more than `page` pages remain.
pub fn next_page_link(req: &HttpRequest, page: i64, per_page: i64, total: i64) -> Option<String> {
    if page.saturating_mul(per_page) >= total {
        return None;
    }
    let mut query: Vec<(String, String)> =
        url::form_urlencoded::parse(req.query_string().as_bytes())
            .into_owned()
            .filter(|(k, _)| k != "page" && k != "per_page")
            .collect();
    query.push(("page".into(), (page + 1).to_string()));
    query.push(("per_page".into(), per_page.to_string()));
    let qs = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(query)
        .finish();
    Some(format!("<{}?{qs}>; rel=\"next\"", req.path()))
}

/// Pages a list held in memory (small lists such as teams).
pub fn paged_vec<T: Serialize>(
    req: &HttpRequest,
    paging: Paging,
    items: Vec<T>,
) -> Result<HttpResponse, AppError> {
    let (offset, limit) = paging.offset()?;
    let total = items.len() as i64;
    let page = items
        .into_iter()
        .skip(offset as usize)
        .take(limit as usize)
        .collect();
    paged(req, paging, page, total)
}

/// For PATCH bodies: tells a field that is absent (`None`, leave it) from one
/// sent as null (`Some(None)`, clear it).
pub fn double_option<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}
