//! /privacy: the anonymity rules in plain words, for employees (linked from the form) and HR.

use crate::domain::anonymity::comment_threshold;
use crate::domain::survey::DEFAULT_MIN_GROUP;
use crate::routes::pages::render;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/privacy", web::get().to(page));
}

#[derive(Deserialize)]
pub struct Query {
    /// The survey's threshold, when the page is opened from its form.
    min: Option<u32>,
}

pub async fn page(req: HttpRequest, q: web::Query<Query>) -> HttpResponse {
    let min = q.min.unwrap_or(DEFAULT_MIN_GROUP as u32).clamp(3, 1000);
    render(
        &req,
        StatusCode::OK,
        "privacy",
        json!({
            "title": "Privacy",
            "user": null,
            "threshold": min,
            "comment_threshold": comment_threshold(min),
        }),
    )
}
