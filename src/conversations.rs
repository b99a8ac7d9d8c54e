//! Anonymous conversations on comments: which comments a reader may see and answer
//! (the round report's own rule, reused), and the respondent's side through their
//! private link. Nothing here knows, stores or logs who wrote a comment or a reply.

pub mod demo;

use crate::auth::{Caller, Scope};
use crate::db::DbConnection;
use crate::domain::conversation::{day_of, respondent_may_write, MessageBody, Side};
use crate::domain::disclosure::{Tree, NO_TEAM};
use crate::domain::people::Role;
use crate::domain::report::COMPANY;
use crate::error::{AppError, AppResult};
use crate::repo::{self, conversations::CommentRow, conversations::Message};
use crate::reports::round::{self as round_report, Stage};
use crate::tokens::sha256_hex;
use chrono::NaiveDateTime;
use serde::Serialize;
use std::collections::BTreeMap;

/// One message as a reader sees it: a side and a day, never a person or an instant.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MessageOut {
    /// `lead`, `hr` or `respondent`.
    pub side: String,
    /// How the side is named to this reader: "A team lead", "HR", "The respondent" (or "You").
    pub author: String,
    pub text: String,
    /// The day it was written (UTC): no finer time is kept.
    #[schema(format = Date)]
    pub sent_on: String,
}

/// A comment with its thread.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CommentOut {
    pub id: i32,
    pub round_id: i32,
    pub question_id: i32,
    pub prompt: String,
    pub text: String,
    pub messages: Vec<MessageOut>,
}

fn message_out(m: &Message, respondent_view: bool) -> MessageOut {
    let side = Side::parse(&m.side).unwrap_or(Side::Hr);
    MessageOut {
        side: side.as_str().into(),
        author: if respondent_view {
            side.to_respondent()
        } else {
            side.to_staff()
        }
        .into(),
        text: m.body.clone(),
        sent_on: m.sent_on.to_string(),
    }
}

/// Comments with their threads and question prompts, in the order given.
fn with_threads(
    conn: &mut DbConnection,
    comments: Vec<CommentRow>,
    respondent_view: bool,
) -> AppResult<Vec<CommentOut>> {
    let ids: Vec<i32> = comments.iter().map(|c| c.id).collect();
    let mut threads: BTreeMap<i32, Vec<MessageOut>> = BTreeMap::new();
    for m in repo::conversations::messages(conn, &ids)? {
        threads
            .entry(m.answer_id)
            .or_default()
            .push(message_out(&m, respondent_view));
    }
    let mut prompts: BTreeMap<i32, String> = BTreeMap::new();
    for round_id in comments
        .iter()
        .map(|c| c.round_id)
        .collect::<std::collections::BTreeSet<_>>()
    {
        if let Some(r) = repo::rounds::find(conn, round_id)? {
            for q in repo::surveys::questions(conn, r.survey_id, r.question_version)? {
                prompts.insert(q.id, q.prompt);
            }
        }
    }
    Ok(comments
        .into_iter()
        .map(|c| CommentOut {
            id: c.id,
            round_id: c.round_id,
            question_id: c.question_id,
            prompt: prompts.get(&c.question_id).cloned().unwrap_or_default(),
            messages: threads.remove(&c.id).unwrap_or_default(),
            text: c.text,
        })
        .collect())
}

/// Whether the round report shows this group's comments to this reader: the round
/// has closed, its answers are kept, and the comment rule (`max(min_group_size, 5)`
/// respondents, with its own complementary suppression) lets them through.
fn comments_shown(
    conn: &mut DbConnection,
    scope: &Scope,
    round_id: i32,
    team_id: Option<i32>,
) -> AppResult<bool> {
    Ok(
        match round_report::load(conn, scope, round_id, team_id)?.stage {
            Stage::Closed(c) => c.export.is_ok() && c.answers_removed_at.is_none(),
            Stage::Open { .. } => false,
        },
    )
}

fn group_team(group: i32) -> Option<i32> {
    (group != COMPANY).then_some(group)
}

/// A comment this reader may see: in a group they may read whose comments the
/// report shows. Anything else is "not found", so an id reveals nothing, not even
/// whether a hidden comment exists.
pub fn visible_comment(
    conn: &mut DbConnection,
    scope: &Scope,
    answer_id: i32,
) -> AppResult<CommentRow> {
    let hidden = || AppError::not_found("comment");
    let c = repo::conversations::comment(conn, answer_id)?.ok_or_else(hidden)?;
    let round = repo::rounds::find(conn, c.round_id)?.ok_or_else(hidden)?;
    if round.status != "closed" {
        return Err(hidden());
    }
    let tree = Tree::new(&repo::teams::edges(conn)?);
    for group in tree.ancestry(c.team.unwrap_or(NO_TEAM)) {
        let team = group_team(group);
        if scope.check_report(team).is_ok() && comments_shown(conn, scope, round.id, team)? {
            return Ok(c);
        }
    }
    Err(hidden())
}

/// The comments of a round a group's report shows, with their threads; empty when
/// the report hides them (the round report says why).
pub fn group_comments(
    conn: &mut DbConnection,
    scope: &Scope,
    round_id: i32,
    team_id: Option<i32>,
) -> AppResult<Vec<CommentOut>> {
    scope.check_report(team_id)?;
    repo::rounds::find(conn, round_id)?.ok_or_else(|| AppError::not_found("round"))?;
    if !comments_shown(conn, scope, round_id, team_id)? {
        return Ok(vec![]);
    }
    let tree = Tree::new(&repo::teams::edges(conn)?);
    let group = team_id.unwrap_or(COMPANY);
    let mine: Vec<CommentRow> = repo::conversations::round_comments(conn, round_id)?
        .into_iter()
        .filter(|c| tree.ancestry(c.team.unwrap_or(NO_TEAM)).contains(&group))
        .collect();
    with_threads(conn, mine, false)
}

/// One comment and its thread, for a reader who may see it.
pub fn thread(conn: &mut DbConnection, caller: &Caller, answer_id: i32) -> AppResult<CommentOut> {
    let scope = Scope::of(conn, caller)?;
    let c = visible_comment(conn, &scope, answer_id)?;
    let mut out = with_threads(conn, vec![c], false)?;
    out.pop().ok_or_else(|| AppError::not_found("comment"))
}

fn busy() -> AppError {
    AppError::Conflict {
        code: "busy",
        message: "another message was added to this thread at the same moment: send yours again"
            .into(),
    }
}

/// A lead or HR replies to a comment they may see. No one is named: the thread
/// keeps only the side (lead or HR) and the day.
pub fn reply(
    conn: &mut DbConnection,
    caller: &Caller,
    answer_id: i32,
    text: &str,
    now: NaiveDateTime,
) -> AppResult<CommentOut> {
    let side = match caller.role {
        Role::Admin => Side::Hr,
        Role::Lead => Side::Lead,
        Role::Member => {
            return Err(AppError::Forbidden(
                "replies to comments are for HR and team leads".into(),
            ))
        }
    };
    let body = MessageBody::parse(text).map_err(|e| AppError::field("text", e))?;
    let scope = Scope::of(conn, caller)?;
    let c = visible_comment(conn, &scope, answer_id)?;
    crate::db::write_transaction(conn, |conn| {
        repo::conversations::add_message(
            conn,
            c.round_id,
            c.id,
            side.as_str(),
            body.as_str(),
            day_of(now),
        )
    })
    .map_err(|e| {
        if repo::is_unique_violation(&e) {
            busy()
        } else {
            e.into()
        }
    })?;
    let mut out = with_threads(conn, vec![c], false)?;
    out.pop().ok_or_else(|| AppError::not_found("comment"))
}

/// What a private conversation link shows its holder.
pub struct RespondentView {
    pub survey_title: String,
    /// The round is still open: replies can only come once it closes.
    pub open: bool,
    /// Whether leads or HR can read these comments at all (the comment rule).
    pub readable: bool,
    pub comments: Vec<CommentOut>,
    /// Per comment id: whether the respondent may write now (someone has asked).
    pub may_write: BTreeMap<i32, bool>,
}

/// Opens a private conversation link; None when it is unknown or its round's
/// answers are gone. Reads only: mail scanners and link previews change nothing.
pub fn respondent_view(conn: &mut DbConnection, token: &str) -> AppResult<Option<RespondentView>> {
    let Some((round_id, response_id)) =
        repo::conversations::by_token_hash(conn, &sha256_hex(token))?
    else {
        return Ok(None);
    };
    let Some(round) = repo::rounds::find(conn, round_id)? else {
        return Ok(None);
    };
    let survey_title = repo::surveys::find(conn, round.survey_id)?
        .map(|s| s.title)
        .unwrap_or_default();
    let comments = repo::conversations::response_comments(conn, &response_id)?;
    let readable = round.status == "closed"
        && match comments.first() {
            Some(c) => visible_comment(conn, &Scope::Everything, c.id).is_ok(),
            None => false,
        };
    let comments = with_threads(conn, comments, true)?;
    let may_write = comments
        .iter()
        .map(|c| {
            let sides: Vec<Side> = c
                .messages
                .iter()
                .filter_map(|m| Side::parse(&m.side))
                .collect();
            (c.id, readable && respondent_may_write(&sides))
        })
        .collect();
    Ok(Some(RespondentView {
        survey_title,
        open: round.status != "closed",
        readable,
        comments,
        may_write,
    }))
}

/// The respondent answers a thread on one of their own comments.
pub fn respond(
    conn: &mut DbConnection,
    token: &str,
    answer_id: i32,
    text: &str,
    now: NaiveDateTime,
) -> AppResult<()> {
    let gone = || AppError::Gone {
        code: "invalid_token",
        message: "this conversation link is not valid".into(),
    };
    let view = respondent_view(conn, token)?.ok_or_else(gone)?;
    let Some(comment) = view.comments.iter().find(|c| c.id == answer_id) else {
        return Err(AppError::not_found("comment"));
    };
    if !view.may_write.get(&answer_id).copied().unwrap_or(false) {
        return Err(AppError::Conflict {
            code: "not_asked",
            message: "you can answer once a team lead or HR has replied to this comment".into(),
        });
    }
    let body = MessageBody::parse(text).map_err(|e| AppError::field("text", e))?;
    let round_id = comment.round_id;
    crate::db::write_transaction(conn, |conn| {
        repo::conversations::add_message(
            conn,
            round_id,
            answer_id,
            Side::Respondent.as_str(),
            body.as_str(),
            day_of(now),
        )
    })
    .map_err(|e| {
        if repo::is_unique_violation(&e) {
            busy()
        } else {
            e.into()
        }
    })?;
    Ok(())
}

/// A submission that, when it holds a comment, opens a private conversation, and
/// the link to it (`<base>/c/<token>`): shown to the respondent this once, stored
/// only as a hash, never written to a log.
pub fn with_link(
    base: &str,
    survey_token: &str,
    answers: Vec<crate::domain::survey::RawAnswer>,
    now: chrono::DateTime<chrono::Utc>,
) -> (crate::answering::Submission, Option<String>) {
    let submission = crate::answering::Submission::new(survey_token, answers, now);
    if !submission.has_comment() {
        return (submission, None);
    }
    let token = crate::tokens::random_token();
    let link = format!("{base}/c/{token}");
    (submission.with_conversation(&token), Some(link))
}
