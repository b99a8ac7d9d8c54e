//! Conversations on comments as stored: a private link's hash and the anonymous
//! response it opens, and the threads of messages on comments.

use crate::db::schema::{answers, comment_messages, conversations, responses};
use crate::db::DbConnection;
use chrono::NaiveDate;
use diesel::prelude::*;

/// Random ids: a row's id says nothing about when it was written.
fn random_id() -> String {
    crate::tokens::random_token()[..32].to_string()
}

/// Opens a conversation for a response just stored, in the answer's transaction.
pub fn open(
    conn: &mut DbConnection,
    token_hash: &str,
    round_id: i32,
    response_id: &str,
) -> QueryResult<()> {
    diesel::insert_into(conversations::table)
        .values((
            conversations::id.eq(random_id()),
            conversations::token_hash.eq(token_hash),
            conversations::round_id.eq(round_id),
            conversations::response_id.eq(response_id),
        ))
        .execute(conn)
        .map(drop)
}

/// Closing rewrote the round's responses under new ids (`renamed`: old id → new id,
/// in the new random order): the conversations follow them, rewritten in that
/// order under new ids of their own, so neither their ids nor their physical
/// order keep the order in which people answered.
pub fn follow_responses(
    conn: &mut DbConnection,
    round_id: i32,
    renamed: &[(String, String)],
) -> QueryResult<()> {
    let stored: Vec<(String, String)> = conversations::table
        .filter(conversations::round_id.eq(round_id))
        .select((conversations::response_id, conversations::token_hash))
        .load(conn)?;
    if stored.is_empty() {
        return Ok(());
    }
    let by_response: std::collections::HashMap<String, String> = stored.into_iter().collect();
    diesel::delete(conversations::table.filter(conversations::round_id.eq(round_id)))
        .execute(conn)?;
    for (old, new) in renamed {
        if let Some(hash) = by_response.get(old) {
            open(conn, hash, round_id, new)?;
        }
    }
    Ok(())
}

/// The conversation a private link opens: (round, response).
pub fn by_token_hash(
    conn: &mut DbConnection,
    token_hash: &str,
) -> QueryResult<Option<(i32, String)>> {
    conversations::table
        .filter(conversations::token_hash.eq(token_hash))
        .select((conversations::round_id, conversations::response_id))
        .first(conn)
        .optional()
}

/// A comment: an answer with text, with its round and the team its response is filed under.
#[derive(Debug, Clone)]
pub struct CommentRow {
    pub id: i32,
    pub round_id: i32,
    pub team: Option<i32>,
    pub response_id: String,
    pub question_id: i32,
    pub text: String,
}

type CommentTuple = (i32, i32, Option<i32>, String, i32, Option<String>);

fn comment_of(
    (id, round_id, team, response_id, question_id, text): CommentTuple,
) -> Option<CommentRow> {
    Some(CommentRow {
        id,
        round_id,
        team,
        response_id,
        question_id,
        text: text.filter(|t| !t.trim().is_empty())?,
    })
}

/// One comment by its answer id; None when there is no such answer or it holds no text.
pub fn comment(conn: &mut DbConnection, answer_id: i32) -> QueryResult<Option<CommentRow>> {
    let row: Option<CommentTuple> = answers::table
        .inner_join(responses::table)
        .filter(answers::id.eq(answer_id))
        .select((
            answers::id,
            responses::round_id,
            responses::team_id,
            answers::response_id,
            answers::question_id,
            answers::text,
        ))
        .first(conn)
        .optional()?;
    Ok(row.and_then(comment_of))
}

/// Every comment of a round, in the random order of response ids.
pub fn round_comments(conn: &mut DbConnection, round_id: i32) -> QueryResult<Vec<CommentRow>> {
    let rows: Vec<CommentTuple> = answers::table
        .inner_join(responses::table)
        .filter(responses::round_id.eq(round_id))
        .filter(answers::text.is_not_null())
        .select((
            answers::id,
            responses::round_id,
            responses::team_id,
            answers::response_id,
            answers::question_id,
            answers::text,
        ))
        .order((answers::response_id, answers::question_id))
        .load(conn)?;
    Ok(rows.into_iter().filter_map(comment_of).collect())
}

/// The comments of one response: what its author sees through their link.
pub fn response_comments(
    conn: &mut DbConnection,
    response_id: &str,
) -> QueryResult<Vec<CommentRow>> {
    let rows: Vec<CommentTuple> = answers::table
        .inner_join(responses::table)
        .filter(answers::response_id.eq(response_id))
        .filter(answers::text.is_not_null())
        .select((
            answers::id,
            responses::round_id,
            responses::team_id,
            answers::response_id,
            answers::question_id,
            answers::text,
        ))
        .order(answers::question_id)
        .load(conn)?;
    Ok(rows.into_iter().filter_map(comment_of).collect())
}

/// One message of a thread.
#[derive(Debug, Clone, Queryable)]
pub struct Message {
    pub answer_id: i32,
    pub position: i32,
    pub side: String,
    pub body: String,
    pub sent_on: NaiveDate,
}

/// The messages on these comments, in thread order.
pub fn messages(conn: &mut DbConnection, answer_ids: &[i32]) -> QueryResult<Vec<Message>> {
    if answer_ids.is_empty() {
        return Ok(vec![]);
    }
    let mut out = vec![];
    for chunk in answer_ids.chunks(1000) {
        out.extend(
            comment_messages::table
                .filter(comment_messages::answer_id.eq_any(chunk))
                .select((
                    comment_messages::answer_id,
                    comment_messages::position,
                    comment_messages::side,
                    comment_messages::body,
                    comment_messages::sent_on,
                ))
                .order((comment_messages::answer_id, comment_messages::position))
                .load::<Message>(conn)?,
        );
    }
    Ok(out)
}

/// Adds a message at the end of a comment's thread; a unique violation means
/// another message took the same place at the same moment.
pub fn add_message(
    conn: &mut DbConnection,
    round_id: i32,
    answer_id: i32,
    side: &str,
    body: &str,
    sent_on: NaiveDate,
) -> QueryResult<i32> {
    let last: Option<i32> = comment_messages::table
        .filter(comment_messages::answer_id.eq(answer_id))
        .select(diesel::dsl::max(comment_messages::position))
        .first(conn)?;
    let position = last.unwrap_or(0) + 1;
    diesel::insert_into(comment_messages::table)
        .values((
            comment_messages::id.eq(random_id()),
            comment_messages::round_id.eq(round_id),
            comment_messages::answer_id.eq(answer_id),
            comment_messages::position.eq(position),
            comment_messages::side.eq(side),
            comment_messages::body.eq(body),
            comment_messages::sent_on.eq(sent_on),
        ))
        .execute(conn)?;
    Ok(position)
}

/// The round's answers are going: its conversations and threads go with them.
pub fn clear_round(conn: &mut DbConnection, round_id: i32) -> QueryResult<usize> {
    let messages =
        diesel::delete(comment_messages::table.filter(comment_messages::round_id.eq(round_id)))
            .execute(conn)?;
    let links = diesel::delete(conversations::table.filter(conversations::round_id.eq(round_id)))
        .execute(conn)?;
    Ok(messages + links)
}
