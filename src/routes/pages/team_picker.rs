//! A page's team field: a select while the reader may choose among few teams, a
//! search by name past that, so a company of thousands of teams gets small pages.

use crate::auth::{Caller, Scope};
use crate::error::AppError;
use crate::repo;
use crate::routes::pages::ui::TeamTree;
use crate::state::AppState;
use serde_json::{json, Value};

/// Up to this many teams a page offers every one of them in a select: about
/// 10 KB of options, a list one can still scroll through. Past it a select is
/// unreadable and heavy (8,400 teams, the 10x demo company: 440 KB of options
/// on every load), so the page offers a search instead.
pub const SELECT_MAX: usize = 200;

/// Matches a search lists at most: enough to tell the team from its namesakes,
/// few enough to read; more of the name narrows them.
const MATCHES_MAX: usize = 25;

/// Longest search kept, in characters: no team name needs more.
const SEARCH_MAX: usize = 100;

/// What a page's team field needs to know.
pub struct TeamField {
    /// The query parameter carrying the team: `team_id`, `team` on /people.
    pub param: &'static str,
    /// What the field is called on the page: "Group", "Team".
    pub label: &'static str,
    /// The choice of no team ("Whole company", "All teams"), when the reader has it.
    pub everyone: Option<&'static str>,
    /// The team the page shows.
    pub chosen: Option<i32>,
    /// What was typed in "Find a team" (`team_q`).
    pub search: Option<String>,
    /// The page with every other filter, which a choice keeps: "/reports/enps?from=…".
    pub link: String,
}

/// The field as the templates draw it: `options` for a select, or else `picker`.
pub struct TeamChoice {
    pub options: Vec<Value>,
    pub picker: Value,
}

/// Whether a reader with these teams gets the search rather than a select.
pub fn searches(teams: &TeamTree) -> bool {
    teams.rows.len() > SELECT_MAX
}

/// The select's options (the everyone choice first), as pages always drew them.
pub fn options(teams: &TeamTree, everyone: Option<&str>, chosen: Option<i32>) -> Vec<Value> {
    let mut out = vec![];
    if let Some(label) = everyone {
        out.push(json!({"value": "", "label": label, "selected": chosen.is_none()}));
    }
    out.extend(teams.options(&chosen.into_iter().collect::<Vec<_>>()));
    out
}

/// The team a choice stands for, as the select would show it: the chosen team if
/// the reader may see it, else the select's first choice (everyone, or the first team).
pub fn shown(
    teams: &TeamTree,
    everyone: Option<&str>,
    chosen: Option<i32>,
) -> (Option<i32>, String) {
    let first = || match everyone {
        Some(label) => (None, label.to_string()),
        None => teams
            .rows
            .first()
            .map(|(t, _, path)| (Some(t.id), path.clone()))
            .unwrap_or((None, String::new())),
    };
    match chosen {
        Some(t) => teams
            .name(t)
            .map(|path| (Some(t), path.to_string()))
            .unwrap_or_else(first),
        None => first(),
    }
}

/// `link` with the team set (or left out for everyone).
fn with_team(link: &str, param: &str, team: Option<i32>) -> String {
    let link = link.trim_end_matches('?');
    let Some(team) = team else {
        return link.to_string();
    };
    let sep = if link.contains('?') { '&' } else { '?' };
    format!("{link}{sep}{param}={team}")
}

/// The team field of a page: the select up to `SELECT_MAX` teams, else the search,
/// with the matches of `field.search` among the teams the caller may report on.
pub async fn choice(
    state: &AppState,
    caller: &Caller,
    teams: &TeamTree,
    field: TeamField,
) -> Result<TeamChoice, AppError> {
    if !searches(teams) {
        return Ok(TeamChoice {
            options: options(teams, field.everyone, field.chosen),
            picker: Value::Null,
        });
    }
    let search: String = field
        .search
        .as_deref()
        .map(str::trim)
        .unwrap_or_default()
        .chars()
        .take(SEARCH_MAX)
        .collect();
    let found = if search.is_empty() {
        vec![]
    } else {
        let (caller, needle) = (caller.clone(), search.clone());
        state
            .db(move |conn| {
                let scope = Scope::of(conn, &caller)?;
                Ok(repo::teams::search(
                    conn,
                    &needle,
                    scope.report_team_set(),
                    MATCHES_MAX + 1,
                )?)
            })
            .await?
    };
    let (chosen, chosen_label) = shown(teams, field.everyone, field.chosen);
    let matches: Vec<Value> = found
        .iter()
        .take(MATCHES_MAX)
        .map(|t| {
            json!({
                "label": teams.name(t.id).unwrap_or(&t.name),
                "href": with_team(&field.link, field.param, Some(t.id)),
                "current": chosen == Some(t.id),
            })
        })
        .collect();
    Ok(TeamChoice {
        options: vec![],
        picker: json!({
            "param": field.param,
            "label": field.label,
            "chosen": chosen,
            "chosen_label": chosen_label,
            "everyone": field.everyone.map(|label| json!({
                "label": label,
                "href": with_team(&field.link, field.param, None),
                "current": chosen.is_none(),
            })),
            "q": search,
            "searched": !search.is_empty(),
            "matches": matches,
            "more": found.len() > MATCHES_MAX,
            "max": MATCHES_MAX,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo::teams::Team;

    fn tree(n: i32) -> TeamTree {
        TeamTree::new(
            (1..=n)
                .map(|id| Team {
                    id,
                    name: format!("Team {id:03}"),
                    parent_id: (id > 1).then_some(1),
                    lead_id: None,
                    created_at: chrono::NaiveDateTime::default(),
                })
                .collect(),
        )
    }

    #[test]
    fn a_select_up_to_the_limit_then_a_search() {
        assert!(!searches(&tree(SELECT_MAX as i32)));
        assert!(searches(&tree(SELECT_MAX as i32 + 1)));
    }

    #[test]
    fn an_unknown_team_shows_as_the_select_would() {
        let t = tree(3);
        assert_eq!(
            shown(&t, Some("Whole company"), Some(2)),
            (Some(2), "Team 001 / Team 002".into())
        );
        assert_eq!(
            shown(&t, Some("Whole company"), Some(99)),
            (None, "Whole company".into())
        );
        assert_eq!(shown(&t, None, Some(99)), (Some(1), "Team 001".into()));
    }

    #[test]
    fn a_choice_keeps_the_other_filters() {
        assert_eq!(
            with_team("/reports/enps?from=2026-01-01", "team_id", Some(4)),
            "/reports/enps?from=2026-01-01&team_id=4"
        );
        assert_eq!(with_team("/people", "team", Some(4)), "/people?team=4");
        assert_eq!(with_team("/people?q=a", "team", None), "/people?q=a");
        assert_eq!(
            with_team("/rounds/3?", "team_id", Some(4)),
            "/rounds/3?team_id=4"
        );
    }
}
