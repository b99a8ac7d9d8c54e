//! NUL characters are refused at the edge, the same on both engines: PostgreSQL cannot store them in text.
//!
//! One check for every route: the query string, and JSON or form bodies, are
//! looked at before any handler runs, so no field of any endpoint or page can
//! carry a NUL down to the database. A CSV upload needs no check here: every
//! one of its cells goes through a parser that refuses control characters.

use crate::error::AppError;
use crate::routes::JSON_LIMIT;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{header, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, ResponseError};
use futures_util::StreamExt;
use serde_json::Value;

const WHY: &str = "contains a NUL character (\\u0000), which Pulse cannot store: remove it";

/// The first query parameter (by name) whose name or value holds a NUL.
pub fn nul_in_query(query: &str) -> Option<String> {
    nul_in_pairs(query.as_bytes())
}

/// The first field of a `application/x-www-form-urlencoded` body holding a NUL.
pub fn nul_in_form(body: &[u8]) -> Option<String> {
    nul_in_pairs(body)
}

fn nul_in_pairs(encoded: &[u8]) -> Option<String> {
    url::form_urlencoded::parse(encoded)
        .find(|(k, v)| k.contains('\0') || v.contains('\0'))
        .map(|(k, _)| field_name(&k))
}

/// The path (`answers[1].text`) of the first string or key holding a NUL.
pub fn nul_in_json(value: &Value) -> Option<String> {
    fn walk(v: &Value, path: &mut String) -> bool {
        match v {
            Value::String(s) => s.contains('\0'),
            Value::Array(items) => items.iter().enumerate().any(|(i, item)| {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                let found = walk(item, path);
                if !found {
                    path.truncate(len);
                }
                found
            }),
            Value::Object(map) => map.iter().any(|(k, item)| {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(&field_name(k));
                let found = k.contains('\0') || walk(item, path);
                if !found {
                    path.truncate(len);
                }
                found
            }),
            _ => false,
        }
    }
    let mut path = String::new();
    walk(value, &mut path).then(|| if path.is_empty() { "body".into() } else { path })
}

/// A field name fit to show: the NULs taken out.
fn field_name(raw: &str) -> String {
    let name = raw.replace('\0', "");
    if name.is_empty() {
        "field".into()
    } else {
        name
    }
}

enum Body {
    Json,
    Form,
}

fn body_kind(req: &ServiceRequest) -> Option<Body> {
    let mime = req.mime_type().ok().flatten()?;
    let json = mime.subtype() == "json" || mime.suffix().is_some_and(|s| s == "json");
    match (mime.type_().as_str(), mime.subtype().as_str()) {
        ("application", _) if json => Some(Body::Json),
        ("application", "x-www-form-urlencoded") => Some(Body::Form),
        _ => None,
    }
}

/// The middleware: a request with a NUL anywhere a handler would read text
/// gets a 422 naming the field, as JSON under /api and as a page elsewhere.
pub async fn refuse_nul(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let mut found = nul_in_query(req.query_string());
    if found.is_none() {
        if let Some(kind) = body_kind(&req) {
            let declared = req
                .headers()
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
            // A body over the limit is left to the extractor, which refuses it.
            if declared.is_none_or(|n| n <= JSON_LIMIT) {
                let body = match read_limited(req.take_payload()).await {
                    Ok(body) => body,
                    Err(e) => return Ok(req.into_response(e.error_response())),
                };
                found = match kind {
                    Body::Json => serde_json::from_slice::<Value>(&body)
                        .ok()
                        .and_then(|v| nul_in_json(&v)),
                    Body::Form => nul_in_form(&body),
                };
                req.set_payload(Payload::from(body));
            }
        }
    }
    match found {
        None => Ok(next.call(req).await?.map_into_boxed_body()),
        Some(field) => {
            let res = if req.path().starts_with("/api/") {
                AppError::field(&field, WHY).error_response()
            } else {
                crate::routes::pages::message_page(
                    req.request(),
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "This form cannot be saved",
                    &format!("The field “{field}” {WHY}."),
                )
            };
            Ok(req.into_response(res))
        }
    }
}

async fn read_limited(mut payload: Payload) -> Result<web::Bytes, AppError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| AppError::BadRequest(format!("cannot read the body: {e}")))?;
        if body.len() + chunk.len() > JSON_LIMIT {
            return Err(AppError::PayloadTooLarge(format!(
                "the body is larger than {JSON_LIMIT} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_nul_in_queries_and_forms() {
        assert_eq!(nul_in_query("q=%00"), Some("q".into()));
        assert_eq!(nul_in_query("page=1&q=a%00b"), Some("q".into()));
        assert_eq!(nul_in_query("%00=1"), Some("field".into()));
        assert_eq!(nul_in_query("q=a%2500&page=2"), None);
        assert_eq!(
            nul_in_form(b"email=a%40b.c&password=x%00y"),
            Some("password".into())
        );
        assert_eq!(nul_in_form(b"title=Weekly+pulse"), None);
    }

    #[test]
    fn names_the_json_path() {
        let answers = json!({"token": "t", "answers": [{"question_id": 1, "score": 3},
                                                       {"question_id": 2, "text": "a\u{0}b"}]});
        assert_eq!(nul_in_json(&answers), Some("answers[1].text".into()));
        assert_eq!(
            nul_in_json(&json!({"title": "\u{0}"})),
            Some("title".into())
        );
        assert_eq!(nul_in_json(&json!("\u{0}")), Some("body".into()));
        assert_eq!(nul_in_json(&json!({"a\u{0}": 1})), Some("a".into()));
        assert_eq!(
            nul_in_json(&json!({"title": "fine \\u0000 as text", "n": [1, 2]})),
            None
        );
    }
}
