//! /api/v1/questions: the question library HR builds surveys from (adds, versioned edits, retirement).

use crate::auth::Admin;
use crate::db::DbConnection;
use crate::domain::library::{self, Bilingual, LibraryInput};
use crate::error::{AppError, AppResult};
use crate::repo::audit::{self, Actor};
use crate::repo::{self, library::LibraryRow};
use crate::routes::api::{double_option, paged_vec, Paging};
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Audit action for adding, editing, retiring or restoring a library question.
pub const QUESTION_CHANGE: &str = "question.change";

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LibraryQuestionOut {
    pub id: i32,
    /// Pulse's own questions have a stable key; HR's have none.
    pub key: Option<String>,
    pub driver: Option<String>,
    pub kind: String,
    pub prompt: Bilingual<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub options: Option<Bilingual<Vec<String>>>,
    pub retired: bool,
    /// 1, then one more for each edit of its wording, driver or options.
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LibraryVersionOut {
    pub version: i32,
    pub driver: Option<String>,
    pub prompt: Bilingual<String>,
    pub replaced_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LibraryQuestionDetail {
    #[serde(flatten)]
    pub question: LibraryQuestionOut,
    /// Earlier versions, newest first.
    pub history: Vec<LibraryVersionOut>,
}

pub fn question_out(r: &LibraryRow) -> LibraryQuestionOut {
    let q = r.question();
    LibraryQuestionOut {
        id: r.id,
        key: r.key.clone(),
        driver: r.driver.clone(),
        kind: r.kind.clone(),
        options: (q.kind == crate::domain::survey::QuestionKind::Choice).then(|| q.options.clone()),
        prompt: q.prompt,
        retired: r.retired,
        version: r.version,
        updated_at: r.updated_at.and_utc(),
    }
}

/// Any of these; `prompt` may give one language only. A new wording, driver or
/// options makes a new version (surveys already built keep theirs); `retired`
/// takes a question out of the builder and templates, or back in.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LibraryPatch {
    pub prompt: Option<PromptPatch>,
    /// A driver key, or null for none (scale questions only).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub driver: Option<Option<String>>,
    pub options: Option<Bilingual<Vec<String>>>,
    pub retired: Option<bool>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PromptPatch {
    pub en: Option<String>,
    pub fr: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct LibraryFilter {
    /// Only this driver's questions.
    pub driver: Option<String>,
    /// `false`: leave retired questions out.
    pub retired: Option<bool>,
}

#[utoipa::path(get, path = "/api/v1/questions", tag = "questions", params(Paging, LibraryFilter),
    responses((status = 200, body = [LibraryQuestionOut]), (status = 403, body = crate::error::ErrorBody)))]
pub async fn list(
    state: web::Data<AppState>,
    _admin: Admin,
    req: HttpRequest,
    paging: web::Query<Paging>,
    filter: web::Query<LibraryFilter>,
) -> AppResult<HttpResponse> {
    if let Some(d) = &filter.driver {
        crate::domain::driver::Driver::parse(d).map_err(|e| AppError::field("driver", e))?;
    }
    let rows = state.db(|conn| Ok(repo::library::all(conn)?)).await?;
    let items: Vec<LibraryQuestionOut> = rows
        .iter()
        .filter(|r| filter.driver.is_none() || r.driver == filter.driver)
        .filter(|r| filter.retired.is_none_or(|want| r.retired == want))
        .map(question_out)
        .collect();
    paged_vec(&req, *paging, items)
}

#[utoipa::path(get, path = "/api/v1/questions/{id}", tag = "questions",
    responses((status = 200, body = LibraryQuestionDetail), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get(
    state: web::Data<AppState>,
    _admin: Admin,
    id: web::Path<i32>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let out = state.db(move |conn| detail(conn, id)).await?;
    Ok(HttpResponse::Ok().json(out))
}

pub(crate) fn detail(conn: &mut DbConnection, id: i32) -> AppResult<LibraryQuestionDetail> {
    let row = repo::library::find(conn, id)?.ok_or_else(|| AppError::not_found("question"))?;
    let history = repo::library::history(conn, id)?
        .into_iter()
        .map(|h| LibraryVersionOut {
            version: h.version,
            driver: h.driver,
            prompt: Bilingual {
                en: h.prompt_en,
                fr: h.prompt_fr,
            },
            replaced_at: h.replaced_at.and_utc(),
        })
        .collect();
    Ok(LibraryQuestionDetail {
        question: question_out(&row),
        history,
    })
}

#[utoipa::path(post, path = "/api/v1/questions", tag = "questions", request_body = LibraryInput,
    responses((status = 201, body = LibraryQuestionOut), (status = 403, body = crate::error::ErrorBody),
              (status = 422, description = "e.g. `prompt.fr`, `options.en`, `driver`", body = crate::error::ErrorBody)))]
pub async fn create(
    state: web::Data<AppState>,
    Admin(admin): Admin,
    body: web::Json<LibraryInput>,
) -> AppResult<HttpResponse> {
    let input = body.into_inner();
    let now = Utc::now();
    let out = state
        .db(move |conn| create_question(conn, &admin.actor(), &input, now))
        .await?;
    Ok(HttpResponse::Created().json(out))
}

/// Adds HR's own question: the API and the library page.
pub(crate) fn create_question(
    conn: &mut DbConnection,
    actor: &Actor,
    input: &LibraryInput,
    now: DateTime<Utc>,
) -> AppResult<LibraryQuestionOut> {
    let q = library::parse(input).map_err(AppError::fields)?;
    crate::db::write_transaction(conn, |conn| {
        let id = repo::library::insert(conn, None, &q, now.naive_utc())?;
        audit::record(conn, actor, QUESTION_CHANGE, &target(id), "added")?;
        let row = repo::library::find(conn, id)?.ok_or_else(|| AppError::not_found("question"))?;
        Ok(question_out(&row))
    })
}

#[utoipa::path(patch, path = "/api/v1/questions/{id}", tag = "questions", request_body = LibraryPatch,
    responses((status = 200, body = LibraryQuestionOut), (status = 404, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn update(
    state: web::Data<AppState>,
    Admin(admin): Admin,
    id: web::Path<i32>,
    body: web::Json<LibraryPatch>,
) -> AppResult<HttpResponse> {
    let (id, patch) = (id.into_inner(), body.into_inner());
    let now = Utc::now();
    let out = state
        .db(move |conn| update_question(conn, &admin.actor(), id, patch, now))
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// Edits, retires or restores a question: the API and the library page.
pub(crate) fn update_question(
    conn: &mut DbConnection,
    actor: &Actor,
    id: i32,
    patch: LibraryPatch,
    now: DateTime<Utc>,
) -> AppResult<LibraryQuestionOut> {
    crate::db::write_transaction(conn, |conn| {
        let row = repo::library::find(conn, id)?.ok_or_else(|| AppError::not_found("question"))?;
        let current = row.question();
        let mut changed = vec![];
        let rewords = patch.prompt.is_some() || patch.driver.is_some() || patch.options.is_some();
        if rewords {
            let prompt = patch.prompt.unwrap_or_default();
            let input = LibraryInput {
                kind: row.kind.clone(),
                driver: match patch.driver {
                    Some(d) => d,
                    None => row.driver.clone(),
                },
                prompt: Bilingual {
                    en: prompt.en.unwrap_or(current.prompt.en.clone()),
                    fr: prompt.fr.unwrap_or(current.prompt.fr.clone()),
                },
                options: patch
                    .options
                    .or_else(|| (!current.options.en.is_empty()).then(|| current.options.clone())),
            };
            let mut fields = BTreeMap::new();
            let checked = library::parse(&input).map_err(|e| fields.extend(e)).ok();
            if let Some(q) = checked.filter(|_| fields.is_empty()) {
                // Sending the same wording back is not an edit.
                if q != current {
                    let v = repo::library::revise(conn, &row, &q, now.naive_utc())?;
                    changed.push(format!("version {v}"));
                }
            } else {
                return Err(AppError::fields(fields));
            }
        }
        if let Some(retired) = patch.retired.filter(|r| *r != row.retired) {
            repo::library::set_retired(conn, id, retired, now.naive_utc())?;
            changed.push(if retired { "retired" } else { "restored" }.into());
        }
        if !changed.is_empty() {
            audit::record(
                conn,
                actor,
                QUESTION_CHANGE,
                &target(id),
                &changed.join(", "),
            )?;
        }
        let row = repo::library::find(conn, id)?.ok_or_else(|| AppError::not_found("question"))?;
        Ok(question_out(&row))
    })
}

fn target(id: i32) -> String {
    format!("question:{id}")
}
