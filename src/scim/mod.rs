//! SCIM 2.0 (RFC 7643, RFC 7644): the protocol parts that do not touch the database.
//!
//! `filter` and `patch` are pure; `schema` publishes what Pulse supports (only the
//! attributes it stores, so generated test data and provider mappings stay sane).
//! The routes are in `routes::scim`.

pub mod filter;
pub mod patch;
pub mod schema;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::{json, Value};

pub const CONTENT_TYPE: &str = "application/scim+json";
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
pub const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const SEARCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// The most resources one list answer holds.
pub const MAX_RESULTS: usize = 200;

/// A SCIM error (RFC 7644 §3.12): `status` as a string, an optional `scimType`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimError {
    pub status: u16,
    pub scim_type: Option<&'static str>,
    pub detail: String,
}

impl ScimError {
    pub fn new(status: u16, scim_type: Option<&'static str>, detail: impl Into<String>) -> Self {
        Self {
            status,
            scim_type,
            detail: detail.into(),
        }
    }
    pub fn bad(scim_type: &'static str, detail: impl Into<String>) -> Self {
        Self::new(400, Some(scim_type), detail)
    }
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(404, None, detail)
    }
    pub fn body(&self) -> Value {
        let mut b = json!({
            "schemas": [ERROR_SCHEMA],
            "status": self.status.to_string(),
            "detail": self.detail,
        });
        if let Some(t) = self.scim_type {
            b["scimType"] = json!(t);
        }
        b
    }
}

impl std::fmt::Display for ScimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.detail)
    }
}

impl ResponseError for ScimError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
    fn error_response(&self) -> HttpResponse {
        let mut r = HttpResponse::build(self.status_code());
        if self.status == 401 {
            r.insert_header(("WWW-Authenticate", "Bearer realm=\"scim\""));
        }
        r.content_type(CONTENT_TYPE).body(self.body().to_string())
    }
}

impl From<patch::PatchError> for ScimError {
    fn from(e: patch::PatchError) -> Self {
        Self::bad(e.scim_type, e.detail)
    }
}

impl From<crate::error::AppError> for ScimError {
    fn from(e: crate::error::AppError) -> Self {
        use crate::error::AppError as E;
        match e {
            E::Validation { message, fields } => {
                let each: Vec<String> = fields.iter().map(|(k, v)| format!("{k} {v}")).collect();
                let detail = if each.is_empty() {
                    message
                } else {
                    each.join("; ")
                };
                Self::bad("invalidValue", detail)
            }
            E::BadRequest(m) => Self::bad("invalidValue", m),
            E::Conflict { message, .. } => Self::new(409, Some("uniqueness"), message),
            E::NotFound(m) => Self::not_found(m),
            E::Unauthorized(m) => Self::new(401, None, m),
            E::Forbidden(m) => Self::new(403, None, m),
            E::PayloadTooLarge(m) => Self::new(413, None, m),
            E::Unavailable(_) => Self::new(503, None, "the database is unavailable"),
            other => {
                let status = other.status_code().as_u16();
                if status >= 500 {
                    tracing::error!("scim: {other:?}");
                    Self::new(status, None, "internal error")
                } else {
                    Self::new(status, None, other.to_string())
                }
            }
        }
    }
}

impl From<diesel::result::Error> for ScimError {
    fn from(e: diesel::result::Error) -> Self {
        crate::error::AppError::from(e).into()
    }
}

pub type ScimResult<T> = Result<T, ScimError>;

/// A SCIM JSON answer.
pub fn respond(status: StatusCode, body: &Value) -> HttpResponse {
    HttpResponse::build(status)
        .content_type(CONTENT_TYPE)
        .body(body.to_string())
}

/// `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5), on top-level names
/// (`name.givenName` keeps `name`); `id` and `schemas` always stay.
pub fn project(resource: &mut Value, attributes: Option<&str>, excluded: Option<&str>) {
    let Some(obj) = resource.as_object_mut() else {
        return;
    };
    let names = |s: &str| -> Vec<String> {
        s.split(',')
            .map(|a| filter::strip_urn(a.trim()))
            .map(|a| a.split('.').next().unwrap_or("").to_ascii_lowercase())
            .filter(|a| !a.is_empty())
            .collect()
    };
    let always = ["id", "schemas"];
    if let Some(a) = attributes.filter(|a| !a.trim().is_empty()) {
        let keep = names(a);
        obj.retain(|k, _| {
            let k = k.to_ascii_lowercase();
            always.contains(&k.as_str()) || keep.contains(&k)
        });
    } else if let Some(x) = excluded {
        let drop = names(x);
        obj.retain(|k, _| {
            let k = k.to_ascii_lowercase();
            always.contains(&k.as_str()) || !drop.contains(&k)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_carry_status_as_a_string() {
        let b = ScimError::bad("invalidFilter", "nope").body();
        assert_eq!(b["status"], json!("400"));
        assert_eq!(b["scimType"], json!("invalidFilter"));
        assert_eq!(b["schemas"], json!([ERROR_SCHEMA]));
        assert!(ScimError::not_found("x").body().get("scimType").is_none());
    }

    #[test]
    fn projection_keeps_id_and_the_asked_attributes() {
        let mut r = json!({"id": "1", "schemas": [], "userName": "a", "name": {"givenName": "A"}, "active": true});
        project(&mut r, Some("name.givenName,userName"), None);
        assert_eq!(
            r,
            json!({"id": "1", "schemas": [], "userName": "a", "name": {"givenName": "A"}})
        );
        let mut r = json!({"id": "1", "userName": "a", "active": true});
        project(&mut r, None, Some("active"));
        assert_eq!(r, json!({"id": "1", "userName": "a"}));
    }
}
