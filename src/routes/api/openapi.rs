//! GET /api/v1/openapi.json: the whole API, generated from the handlers' annotations.

use crate::routes::api::{
    account_invitations, auth, employees, health, one_on_ones, reports, responses, surveys, teams,
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
        surveys::create, surveys::list, surveys::get, surveys::update, surveys::send_round, surveys::rounds,
        responses::submit,
        account_invitations::invite,
        one_on_ones::create, one_on_ones::list, one_on_ones::get, one_on_ones::update, one_on_ones::meetings,
        one_on_ones::meeting, one_on_ones::update_meeting, one_on_ones::add_agenda_item, one_on_ones::update_agenda_item,
        one_on_ones::add_note, one_on_ones::add_action, one_on_ones::update_action,
        reports::enps, reports::enps_csv, reports::enps_teams, reports::enps_turnover,
        reports::turnover_report, reports::turnover_csv, reports::round, reports::round_answers_csv, reports::close_round,
    ),
    components(schemas(crate::error::ErrorBody, crate::error::CsvLineError, crate::domain::people::Role, crate::domain::people::LeaveReason)),
    modifiers(&Security),
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
            "cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::auth::jwt::SESSION_COOKIE,
            ))),
        );
    }
}

pub async fn document() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}
