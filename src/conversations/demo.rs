//! The demo company's conversation on a comment and its action plans, so a new
//! user sees replies on the round page, open actions on the dashboard and
//! "what we changed since last time" above the current pulse.

use crate::auth::Scope;
use crate::db::DbConnection;
use crate::domain::conversation::Side;
use crate::repo::{self, action_plans::NewActionPlan};
use chrono::{Duration, NaiveDateTime};

/// Seeds after the demo's rounds: one thread on a shown comment of the latest
/// closed round, and a few actions (open, overdue, done this week).
pub fn seed(conn: &mut DbConnection, now: NaiveDateTime) -> anyhow::Result<()> {
    let Some(round) = repo::rounds::recent(conn, 20)?
        .into_iter()
        .filter(|r| r.status == "closed")
        .max_by_key(|r| r.scheduled_for)
    else {
        return Ok(());
    };
    let teams: Vec<_> = repo::teams::all(conn)?
        .into_iter()
        .filter(|t| t.parent_id.is_some() && t.lead_id.is_some())
        .collect();
    // A comment HR can read, answered by the lead of its team when they can read it too.
    let comments = repo::conversations::round_comments(conn, round.id)?;
    if let Some(c) = comments
        .iter()
        .find(|c| super::visible_comment(conn, &Scope::Everything, c.id).is_ok())
    {
        let lead_sees = match c.team.and_then(|t| teams.iter().find(|x| x.id == t)) {
            Some(t) => {
                let scope = Scope::Teams([t.id].into_iter().collect());
                super::visible_comment(conn, &scope, c.id).is_ok()
            }
            None => false,
        };
        let first = if lead_sees { Side::Lead } else { Side::Hr };
        // The link's token is not kept: only its author would hold it.
        let token = crate::tokens::random_token();
        repo::conversations::open(
            conn,
            &crate::tokens::sha256_hex(&token),
            round.id,
            &c.response_id,
        )?;
        let thread = [
            (first, "Thank you for saying this. What would help most: fewer meetings, or clearer priorities for each week?", 2),
            (Side::Respondent, "Clearer priorities. We start many things on Monday and finish few by Friday.", 1),
            (Side::Hr, "Noted. We are adding a short priorities check to Monday stand-ups and will ask again in a month.", 0),
        ];
        for (side, text, days_ago) in thread {
            repo::conversations::add_message(
                conn,
                round.id,
                c.id,
                side.as_str(),
                text,
                (now - Duration::days(days_ago)).date(),
            )?;
        }
    }
    let actions = [
        (
            "Publish each sprint's priorities on Monday morning",
            Some("alignment"),
            0,
            None,
        ),
        (
            "No-meeting Wednesday afternoons for a trial month",
            Some("wellbeing"),
            1,
            Some(1),
        ),
        (
            "Pair every new joiner with a buddy for their first month",
            Some("peers"),
            2,
            None,
        ),
        (
            "Replace the oldest laptops before the end of the quarter",
            Some("environment"),
            3,
            Some(2),
        ),
    ];
    for (i, (text, driver, team_index, done_days_ago)) in actions.into_iter().enumerate() {
        let Some(team) = teams.get(team_index) else {
            continue;
        };
        // Due dates around today: some ahead, one overdue.
        let due_on = (now + Duration::days([21, 7, -3, 30][i])).date();
        let id = repo::action_plans::insert(
            conn,
            &NewActionPlan {
                team_id: Some(team.id),
                round_id: Some(round.id),
                driver,
                text,
                owner_id: team.lead_id.unwrap_or_default(),
                due_on,
                status: "open",
                created_by: team.lead_id,
                created_at: now - Duration::days(10),
                updated_at: now - Duration::days(10),
            },
        )?;
        if let Some(d) = done_days_ago {
            let at = now - Duration::days(d);
            repo::action_plans::set_status(conn, id, "done", Some(at), at)?;
        }
    }
    Ok(())
}
