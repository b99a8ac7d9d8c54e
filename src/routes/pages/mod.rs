//! Server-rendered pages: sign-in, first-run setup and the dashboard.

pub mod account;
pub mod account_notes;
pub mod action_plans;
pub mod answer;
pub mod audit;
pub mod charts;
pub mod conversation;
pub mod dashboard;
pub mod digest;
pub mod drivers;
pub mod lifecycle;
pub mod one_on_one_new;
pub mod one_on_one_overview;
pub mod one_on_ones;
pub mod people;
pub mod privacy;
pub mod questions;
pub mod reports;
pub mod rounds;
pub mod scim_tokens;
pub mod session;
pub mod setup;
pub mod sso;
pub mod surveys;
pub mod team_picker;
pub mod teams;
pub mod ui;
pub mod webhooks;

use crate::auth::Caller;
use crate::state::AppState;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

pub fn configure(cfg: &mut web::ServiceConfig) {
    crate::routes::Router::new()
        .route("/", web::get().to(dashboard::home))
        .route("/login", web::get().to(session::login_form))
        .route("/login", web::post().to(session::login))
        .route("/logout", web::get().to(session::logout_confirm))
        .route("/logout", web::post().to(session::logout))
        .route("/setup", web::get().to(setup::form))
        .route("/setup", web::post().to(setup::submit))
        .route("/s/{token}", web::get().to(answer::form))
        .route("/s/{token}", web::post().to(answer::submit))
        .route("/account/setup", web::get().to(account::setup_form))
        .route("/account/setup", web::post().to(account::setup))
        .route("/one-on-ones", web::get().to(one_on_ones::list))
        .route(
            "/one-on-ones/overview",
            web::get().to(one_on_one_overview::page),
        )
        .route("/one-on-ones/new", web::get().to(one_on_one_new::form))
        .route("/one-on-ones/new", web::post().to(one_on_one_new::submit))
        .route(
            "/one-on-ones/{id:\\d+}",
            web::post().to(one_on_ones::series_act),
        )
        .route("/meetings/{id}", web::get().to(one_on_ones::show))
        .route("/meetings/{id}", web::post().to(one_on_ones::act))
        .route("/static/pulse.css", web::get().to(ui::stylesheet))
        .route("/static/pulse.js", web::get().to(ui::script))
        .register(cfg);
    cfg.configure(people::configure)
        .configure(teams::configure)
        .configure(surveys::configure)
        .configure(rounds::configure)
        .configure(reports::configure)
        .configure(drivers::configure)
        .configure(privacy::configure)
        .configure(account_notes::configure)
        .configure(audit::configure)
        .configure(sso::configure)
        .configure(webhooks::configure)
        .configure(scim_tokens::configure)
        .configure(questions::configure)
        .configure(digest::configure)
        .configure(lifecycle::configure)
        .configure(conversation::configure)
        .configure(action_plans::configure);
}

/// Renders a page with the layout; a template error is a bug, logged and
/// shown as a plain 500 page.
pub fn render(
    req: &HttpRequest,
    status: StatusCode,
    template: &str,
    data: serde_json::Value,
) -> HttpResponse {
    let Some(state) = req.app_data::<web::Data<AppState>>() else {
        return HttpResponse::InternalServerError().body("Pulse is not configured");
    };
    let mut data = data;
    ui::layout_defaults(&mut data);
    match state.templates.render(template, &data) {
        Ok(html) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(html),
        Err(e) => {
            tracing::error!(error = %e, template, "template failed");
            HttpResponse::InternalServerError()
                .content_type("text/plain")
                .body("internal error")
        }
    }
}

/// A page that only says something: not found, forbidden, link used…
pub fn message_page(
    req: &HttpRequest,
    status: StatusCode,
    heading: &str,
    text: &str,
) -> HttpResponse {
    render(
        req,
        status,
        "message",
        json!({ "title": heading, "heading": heading, "text": text, "link": null, "user": null }),
    )
}

pub fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .finish()
}

pub(crate) fn user_json(c: &Caller) -> serde_json::Value {
    json!({ "id": c.id, "name": c.name, "email": c.email, "role": c.role.as_str() })
}
