//! GET /api/v1/openapi.json: the whole API, generated from the handlers' annotations.

use crate::routes::api::{
    account, account_invitations, action_plans, audit, auth, conversations, drivers, employees,
    erasure, health, meeting_items, one_on_one_overview, one_on_ones, reports, responses,
    retention, scim_tokens, surveys, teams, webhooks,
};
use actix_web::HttpResponse;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "Pulse", description = "Employee pulse surveys, eNPS and 1:1s. Errors are `{error, message, fields}`; lists are JSON arrays paged with ?page&per_page and a Link rel=next header."),
    paths(
        health::healthz,
        auth::login, auth::logout,
        teams::create, teams::list, teams::get, teams::update,
        employees::create, employees::list, employees::get, employees::update, employees::import,
        erasure::erase, erasure::export, retention::get, retention::put,
        surveys::create, surveys::list, surveys::get, surveys::update, surveys::send_round, surveys::rounds,
        responses::submit,
        account_invitations::invite,
        one_on_ones::create, one_on_ones::list, one_on_ones::get, one_on_ones::update, one_on_ones::meetings,
        one_on_ones::meeting, one_on_ones::update_meeting, one_on_ones::add_agenda_item, one_on_ones::update_agenda_item,
        one_on_ones::add_note, one_on_ones::add_action, one_on_one_overview::overview,
        meeting_items::patch_agenda_item, meeting_items::delete_agenda_item, meeting_items::patch_note,
        meeting_items::delete_note, meeting_items::patch_action, meeting_items::delete_action,
        meeting_items::templates, meeting_items::create_template, meeting_items::delete_template, meeting_items::add_from_template,
        account::notes, account::recovery_code, account::unlock, account::passphrase, account::start_afresh,
        reports::enps, reports::enps_csv, reports::enps_teams, reports::enps_turnover,
        reports::turnover_report, reports::turnover_csv, reports::round, reports::round_answers_csv, reports::close_round,
        audit::list, audit::csv, crate::routes::metrics::metrics,
        drivers::report,
        webhooks::create, webhooks::list, webhooks::delete,
        scim_tokens::create, scim_tokens::list, scim_tokens::delete,
        super::questions::list, super::questions::get, super::questions::create, super::questions::update, super::templates::list,
        crate::routes::api::lifecycle::cohorts, crate::routes::api::lifecycle::get_digest, crate::routes::api::lifecycle::put_digest,
        conversations::round_comments, conversations::replies, conversations::reply, action_plans::create, action_plans::list, action_plans::update,
    ),
    components(schemas(crate::error::ErrorBody, crate::error::CsvLineError, crate::domain::people::Role, crate::domain::people::LeaveReason)),
    modifiers(&Security, &ErrorResponses),
    security(("bearer" = []), ("cookie" = [])),
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "metrics_token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::auth::jwt::SESSION_COOKIE,
            ))),
        );
    }
}

/// The refusals every operation can give, declared once here rather than on each
/// handler: the error policy of `crate::error` applies to all of them alike.
struct ErrorResponses;

impl Modify for ErrorResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::HttpMethod;
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
        let error = |why: &str| -> RefOr<utoipa::openapi::Response> {
            RefOr::T(
                ResponseBuilder::new()
                    .description(why)
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("ErrorBody")))
                            .build(),
                    )
                    .build(),
            )
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            let ops = [
                (HttpMethod::Get, &mut item.get),
                (HttpMethod::Post, &mut item.post),
                (HttpMethod::Patch, &mut item.patch),
                (HttpMethod::Put, &mut item.put),
                (HttpMethod::Delete, &mut item.delete),
            ];
            for (method, op) in ops {
                let Some(op) = op.as_mut() else { continue };
                let public = op
                    .security
                    .as_ref()
                    .is_some_and(|s| s.iter().all(|r| *r == Default::default()));
                let writes = !matches!(method, HttpMethod::Get);
                let mut codes: Vec<(&str, &str)> = vec![
                    (
                        "400",
                        "the request cannot be read: malformed JSON, query or path",
                    ),
                    ("422", "a field is invalid: `fields` says which and why"),
                    (
                        "503",
                        "the database is unavailable or busy: retry after `Retry-After`",
                    ),
                ];
                if path != "/healthz" && path != "/api/v1/openapi.json" {
                    codes.push(("429", "too many attempts: retry after `Retry-After`"));
                }
                if !public {
                    codes.push(("401", "no valid session: sign in"));
                    codes.push(("403", "the caller's role may not do this"));
                }
                let names_a_record = op
                    .parameters
                    .as_ref()
                    .is_some_and(|ps| ps.iter().any(|p| p.name.ends_with("_id")));
                if path.contains('{') || names_a_record {
                    codes.push(("404", "no such resource, or not visible to the caller"));
                }
                if writes {
                    codes.push(("409", "the change conflicts with the current state"));
                    codes.push(("413", "the body is too large"));
                }
                for (code, why) in codes {
                    op.responses
                        .responses
                        .entry(code.to_string())
                        .or_insert_with(|| error(why));
                }
            }
        }
    }
}

pub async fn document() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}
