//! /one-on-ones/new: a lead (or HR, for anyone) starts a 1:1 series, seeing its next five dates before saving.

use crate::domain::one_on_one::{next_dates, parse_schedule};
use crate::error::AppError;
use crate::repo;
use crate::routes::api::one_on_ones::{start_series, SeriesInput};
use crate::routes::pages::ui::{
    field, field_errors, local_time, redirect_with, FormData, OrPage, PageResult, Session, User,
};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;

const FIELDS: [&str; 7] = [
    "manager_id",
    "report_id",
    "cadence",
    "starts_on",
    "time",
    "timezone",
    "duration_minutes",
];

/// What the form holds, as typed.
struct Draft(BTreeMap<&'static str, String>);

impl Draft {
    fn get(&self, k: &str) -> &str {
        self.0.get(k).map(String::as_str).unwrap_or_default()
    }

    fn read(form: &FormData) -> Self {
        Self(
            FIELDS
                .iter()
                .map(|k| (*k, form.get(k).trim().to_string()))
                .collect(),
        )
    }

    fn input(&self) -> Result<SeriesInput, BTreeMap<String, String>> {
        let mut errors = BTreeMap::new();
        let mut id = |k: &str| match self.get(k) {
            "" => None,
            v => v
                .parse()
                .map_err(|_| errors.insert(k.into(), "choose one of the people listed".into()))
                .ok(),
        };
        let (manager_id, report_id) = (id("manager_id"), id("report_id"));
        let duration = match self.get("duration_minutes").parse() {
            Ok(d) => Some(d),
            Err(_) => {
                errors.insert(
                    "duration_minutes".into(),
                    "is a number of minutes, e.g. 30".into(),
                );
                None
            }
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        let text = |k: &str| Some(self.get(k).to_string()).filter(|v| !v.is_empty());
        Ok(SeriesInput {
            manager_id,
            report_id,
            cadence: text("cadence"),
            starts_on: text("starts_on"),
            time: text("time"),
            timezone: text("timezone"),
            duration_minutes: duration,
            reminder_hours_before: None,
        })
    }
}

/// The people the form offers: a lead's direct reports; for HR, everyone
/// employed today as either side.
async fn people(state: &AppState, user: &User) -> Result<Vec<(i32, String)>, AppError> {
    let (me, admin) = (user.caller.id, user.is_admin());
    let today = Utc::now().date_naive();
    state
        .db(move |conn| {
            let people = if admin {
                repo::employees::employed_on(conn, today)?
            } else {
                repo::employees::reports_of(conn, me, today)?
            };
            let mut out: Vec<(i32, String)> = people
                .into_iter()
                .map(|e| (e.id, format!("{} ({})", e.name, e.email)))
                .collect();
            out.sort_by(|a, b| a.1.cmp(&b.1));
            Ok(out)
        })
        .await
}

/// The zone a new series starts in: that of the person's latest series, if
/// any; otherwise left empty for the browser to fill with its own zone.
async fn usual_timezone(state: &AppState, user: &User) -> Result<String, AppError> {
    let me = user.caller.id;
    state
        .db(move |conn| {
            let (latest, _) = repo::one_on_ones::list_series(conn, Some(me), 0, 1)?;
            Ok(latest
                .into_iter()
                .next()
                .map(|s| s.timezone)
                .unwrap_or_default())
        })
        .await
}

fn render(
    req: &HttpRequest,
    user: &User,
    status: StatusCode,
    people: &[(i32, String)],
    draft: &Draft,
    errors: &BTreeMap<String, String>,
    preview: Vec<String>,
) -> actix_web::HttpResponse {
    let choose = |none: &str| {
        std::iter::once((String::new(), none.to_string()))
            .chain(people.iter().map(|(id, n)| (id.to_string(), n.clone())))
            .collect::<Vec<_>>()
    };
    let mut fields: Vec<Value> = vec![];
    if user.is_admin() {
        fields.push(
            field("manager_id", "Manager")
                .value(draft.get("manager_id"))
                .options(choose("Me"))
                .errors(errors)
                .json(),
        );
    }
    fields.push(
        field("report_id", "With")
            .value(draft.get("report_id"))
            .options(choose("Choose a person"))
            .required()
            .errors(errors)
            .json(),
    );
    let schedule = vec![
        field("cadence", "How often")
            .value(draft.get("cadence"))
            .options([
                ("weekly", "Every week"),
                ("biweekly", "Every two weeks"),
                ("monthly", "Every month"),
            ])
            .errors(errors)
            .json(),
        field("starts_on", "First meeting")
            .kind("date")
            .value(draft.get("starts_on"))
            .required()
            .errors(errors)
            .json(),
        field("time", "Time")
            .kind("time")
            .value(draft.get("time"))
            .required()
            .errors(errors)
            .json(),
        field("timezone", "Time zone")
            .hint("An IANA name, e.g. Europe/Paris")
            .value(draft.get("timezone"))
            .list("timezones")
            .autocomplete("off")
            .required()
            .errors(errors)
            .json(),
        field("duration_minutes", "Minutes")
            .kind("number")
            .range(5, 480)
            .value(draft.get("duration_minutes"))
            .errors(errors)
            .json(),
    ];
    user.render(
        req,
        status,
        "one_on_one_new",
        json!({
            "title": "New 1:1",
            "people": fields,
            "schedule": schedule,
            "no_people": people.is_empty(),
            "has_errors": !errors.is_empty(),
            "error": errors.get("form"),
            "preview": preview,
            "timezones": chrono_tz::TZ_VARIANTS.iter().map(|t| t.name()).collect::<Vec<_>>(),
        }),
    )
}

#[derive(Deserialize)]
pub struct NewQuery {
    report_id: Option<i32>,
}

pub async fn form(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    q: web::Query<NewQuery>,
) -> PageResult {
    let user = session.require(&req)?;
    let people = people(&state, &user).await.or_page(&req, &user)?;
    let tz = usual_timezone(&state, &user).await.or_page(&req, &user)?;
    let mut draft = Draft(BTreeMap::new());
    draft.0.insert("cadence", "biweekly".into());
    draft.0.insert("time", "10:00".into());
    draft.0.insert("duration_minutes", "30".into());
    draft.0.insert("timezone", tz);
    if let Some(r) = q.report_id {
        draft.0.insert("report_id", r.to_string());
    }
    Ok(render(
        &req,
        &user,
        StatusCode::OK,
        &people,
        &draft,
        &BTreeMap::new(),
        vec![],
    ))
}

/// The form's two buttons post here: preview the dates, or start the series.
pub async fn submit(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    form: FormData,
) -> PageResult {
    let user = session.require(&req)?;
    user.check_csrf(&req, &form)?;
    let draft = Draft::read(&form);
    let people = people(&state, &user).await.or_page(&req, &user)?;
    let now = Utc::now();
    let refused = |errors: BTreeMap<String, String>, preview: Vec<String>| {
        Ok(render(
            &req,
            &user,
            StatusCode::UNPROCESSABLE_ENTITY,
            &people,
            &draft,
            &errors,
            preview,
        ))
    };
    let input = match draft.input() {
        Ok(i) => i,
        Err(errors) => return refused(errors, vec![]),
    };
    let mut errors = BTreeMap::new();
    let schedule = parse_schedule(&input.schedule_fields(), None, &mut errors);
    let preview: Vec<String> = schedule
        .map(|s| {
            next_dates(&s, now, 5)
                .into_iter()
                .map(|t| local_time(t, s.timezone))
                .collect()
        })
        .unwrap_or_default();
    if form.get("action") != "create" {
        let status = if errors.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        return Ok(render(
            &req, &user, status, &people, &draft, &errors, preview,
        ));
    }
    let caller = user.caller.clone();
    match state
        .db(move |conn| start_series(conn, &caller, &input, now))
        .await
    {
        Ok(series) => {
            let first = series.next_meeting.as_ref().map(|m| m.id);
            let to = first.map_or("/one-on-ones".to_string(), |id| format!("/meetings/{id}"));
            Ok(redirect_with(
                &req,
                &to,
                true,
                &format!("Your 1:1 with {} is set up.", series.report.name),
            ))
        }
        Err(e) => match field_errors(&e) {
            Some(errors) => refused(errors, preview),
            None => match e {
                AppError::Conflict { message, .. } | AppError::Forbidden(message) => {
                    refused(BTreeMap::from([("form".to_string(), message)]), preview)
                }
                e => Err(e).or_page(&req, &user),
            },
        },
    }
}
