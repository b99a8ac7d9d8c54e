//! /one-on-ones/overview: HR's table of 1:1 series — who meets whom, how
//! often they met over the last quarter, which are overdue; never content.

use crate::domain::one_on_one_overview::{GRACE_DAYS, QUARTER_DAYS};
use crate::routes::api::one_on_one_overview::overview_page;
use crate::routes::pages::ui::{page_number, pager, OrPage, PageResult, Session};
use crate::state::AppState;
use actix_web::{web, HttpRequest};
use serde::Deserialize;
use serde_json::json;

const PER_PAGE: i64 = 50;

#[derive(Deserialize)]
pub struct Query {
    page: Option<String>,
}

pub async fn page(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    q: web::Query<Query>,
) -> PageResult {
    let user = session.require(&req)?;
    user.require_admin(&req)?;
    let page = page_number(q.page.as_deref());
    let (rows, total) = overview_page(&state, (page - 1) * PER_PAGE, PER_PAGE)
        .await
        .or_page(&req, &user)?;
    let day = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map_or_else(|| "—".to_string(), |t| t.date_naive().to_string())
    };
    let series: Vec<_> = rows
        .iter()
        .map(|s| {
            json!({
                "manager": s.manager.name, "report": s.report.name,
                "cadence": s.cadence, "status": s.status,
                "scheduled": s.meetings_scheduled, "held": s.meetings_held,
                "skipped": s.meetings_skipped,
                "last_held": day(s.last_held_at), "next": day(s.next_meeting_at),
                "overdue": s.overdue,
            })
        })
        .collect();
    let mut data = pager(page, total, PER_PAGE, |p| {
        format!("/one-on-ones/overview?page={p}")
    });
    data["title"] = json!("1:1 overview");
    data["series"] = json!(series);
    data["overdue"] = json!(rows.iter().filter(|s| s.overdue).count());
    data["total"] = json!(total);
    data["quarter_days"] = json!(QUARTER_DAYS);
    data["grace_days"] = json!(GRACE_DAYS);
    Ok(user.page(&req, "one_on_one_overview", data))
}
