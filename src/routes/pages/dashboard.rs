//! stub
use crate::routes::pages::ui::{PageResult, Session};
use actix_web::HttpRequest;
use serde_json::json;

pub async fn home(req: HttpRequest, session: Session) -> PageResult {
    let user = session.require(&req)?;
    Ok(user.page(&req, "home", json!({"title": "Dashboard"})))
}
