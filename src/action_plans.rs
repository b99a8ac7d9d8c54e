//! Action plans: leads (for their teams and sub-teams) and HR (for everyone) record
//! what will change after a round, the dashboard shows what is open, and people
//! answering their next pulse see what was done since the last one.

use crate::auth::{Caller, Scope};
use crate::db::DbConnection;
use crate::domain::action_plan::{self, changed_since, Done, Status};
use crate::domain::disclosure::Tree;
use crate::domain::people::Role;
use crate::domain::report::COMPANY;
use crate::error::{AppError, AppResult};
use crate::repo::{self, action_plans::ActionPlan, action_plans::NewActionPlan};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};

#[derive(Debug, Default, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionPlanInput {
    /// The team the action is for; omitted or null: the whole company (HR only).
    pub team_id: Option<i32>,
    /// What will change, at most 500 characters.
    pub text: Option<String>,
    /// Who sees it through: an employee.
    pub owner_id: Option<i32>,
    /// `YYYY-MM-DD`.
    pub due_on: Option<String>,
    /// The engagement driver it addresses, a driver key (`recognition`, `growth`, …).
    pub driver: Option<String>,
    /// The round whose results it comes from.
    pub round_id: Option<i32>,
}

#[derive(Debug, Default, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionPlanPatch {
    /// `open` or `done`.
    pub status: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ActionPlanOut {
    pub id: i32,
    /// Null: company-wide.
    pub team_id: Option<i32>,
    /// The team's name, or "Whole company".
    pub team_name: String,
    pub round_id: Option<i32>,
    pub driver: Option<String>,
    pub text: String,
    pub owner_id: i32,
    pub owner_name: String,
    #[schema(format = Date)]
    pub due_on: String,
    /// `open` or `done`.
    pub status: String,
    /// The day it was marked done.
    #[schema(format = Date)]
    pub done_on: Option<String>,
    /// The due day has passed and it is still open.
    pub overdue: bool,
}

/// Names of teams and people, to show actions without a query each.
struct Names {
    teams: HashMap<i32, String>,
    people: HashMap<i32, String>,
}

impl Names {
    fn load(conn: &mut DbConnection, plans: &[ActionPlan]) -> AppResult<Names> {
        let teams = repo::teams::all(conn)?
            .into_iter()
            .map(|t| (t.id, t.name))
            .collect();
        let mut people = HashMap::new();
        for id in plans.iter().map(|p| p.owner_id).collect::<BTreeSet<_>>() {
            if let Some(e) = repo::employees::find(conn, id)? {
                people.insert(id, e.name);
            }
        }
        Ok(Names { teams, people })
    }

    fn team(&self, team_id: Option<i32>) -> String {
        match team_id {
            None => "Whole company".into(),
            Some(t) => self.teams.get(&t).cloned().unwrap_or_default(),
        }
    }

    fn out(&self, p: ActionPlan, today: chrono::NaiveDate) -> ActionPlanOut {
        ActionPlanOut {
            id: p.id,
            team_id: p.team_id,
            team_name: self.team(p.team_id),
            round_id: p.round_id,
            driver: p.driver,
            owner_name: self.people.get(&p.owner_id).cloned().unwrap_or_default(),
            owner_id: p.owner_id,
            due_on: p.due_on.to_string(),
            overdue: p.status == "open" && p.due_on < today,
            status: p.status,
            done_on: p.done_at.map(|d| d.date().to_string()),
            text: p.text,
        }
    }
}

fn outs(
    conn: &mut DbConnection,
    plans: Vec<ActionPlan>,
    now: NaiveDateTime,
) -> AppResult<Vec<ActionPlanOut>> {
    let names = Names::load(conn, &plans)?;
    Ok(plans
        .into_iter()
        .map(|p| names.out(p, now.date()))
        .collect())
}

fn staff_scope(conn: &mut DbConnection, caller: &Caller) -> AppResult<Scope> {
    if caller.role == Role::Member {
        return Err(AppError::Forbidden(
            "action plans are recorded by HR and team leads".into(),
        ));
    }
    Ok(Scope::of(conn, caller)?)
}

/// Whether this caller may change an action on `team_id`: HR any, leads their
/// teams and sub-teams (company-wide actions are HR's).
fn may_edit(scope: &Scope, team_id: Option<i32>) -> bool {
    match (scope, team_id) {
        (Scope::Everything, _) => true,
        (Scope::Teams(ids), Some(t)) => ids.contains(&t),
        _ => false,
    }
}

/// Whether this caller may read an action on `team_id`: what they may change, and
/// company-wide actions, which are everyone's business.
fn may_read(scope: &Scope, team_id: Option<i32>) -> bool {
    team_id.is_none() || may_edit(scope, team_id)
}

pub fn create(
    conn: &mut DbConnection,
    caller: &Caller,
    input: &ActionPlanInput,
    now: NaiveDateTime,
) -> AppResult<ActionPlanOut> {
    let scope = staff_scope(conn, caller)?;
    let mut fields: BTreeMap<String, String> = BTreeMap::new();
    let checked = action_plan::check(
        input.text.as_deref(),
        input.due_on.as_deref(),
        input.driver.as_deref(),
    )
    .map_err(|f| fields.extend(f))
    .ok();
    match input.team_id {
        Some(t) if repo::teams::find(conn, t)?.is_none() => {
            fields.insert("team_id".into(), format!("there is no team {t}"));
        }
        Some(t) if !may_edit(&scope, Some(t)) => {
            return Err(AppError::Forbidden(
                "you may record actions only for the teams you lead and their sub-teams".into(),
            ))
        }
        None if !may_edit(&scope, None) => {
            fields.insert(
                "team_id".into(),
                "is required: choose a team you lead (company-wide actions are HR's)".into(),
            );
        }
        _ => {}
    }
    match input.owner_id {
        None => {
            fields.insert(
                "owner_id".into(),
                "is required: who sees this through".into(),
            );
        }
        Some(o) => match repo::employees::find(conn, o)? {
            Some(e) if scope.may_see_employee(caller.id, e.id, e.team_id) => {
                if e.left_on.is_some_and(|d| d < now.date()) {
                    fields.insert("owner_id".into(), format!("{} has left", e.name));
                }
            }
            // Someone the caller may not see is reported like no one, so ids
            // tell a lead nothing about people outside their teams.
            _ => {
                fields.insert(
                    "owner_id".into(),
                    format!("there is no employee {o} in the teams you may assign"),
                );
            }
        },
    }
    if let Some(r) = input.round_id {
        if repo::rounds::find(conn, r)?.is_none() {
            fields.insert("round_id".into(), format!("there is no round {r}"));
        }
    }
    let (Some(c), true) = (checked, fields.is_empty()) else {
        return Err(AppError::fields(fields));
    };
    let id = repo::action_plans::insert(
        conn,
        &NewActionPlan {
            team_id: input.team_id,
            round_id: input.round_id,
            driver: c.driver.map(|d| d.key()),
            text: &c.text,
            owner_id: input.owner_id.unwrap_or_default(),
            due_on: c.due_on,
            status: Status::Open.as_str(),
            created_by: Some(caller.id),
            created_at: now,
            updated_at: now,
        },
    )?;
    let plan =
        repo::action_plans::find(conn, id)?.ok_or_else(|| AppError::not_found("action plan"))?;
    let mut out = outs(conn, vec![plan], now)?;
    out.pop().ok_or_else(|| AppError::not_found("action plan"))
}

/// The actions a lead or HR may read; with `team_id`, that team's and its sub-teams'.
pub fn list(
    conn: &mut DbConnection,
    caller: &Caller,
    team_id: Option<i32>,
    status: Option<Status>,
    now: NaiveDateTime,
) -> AppResult<Vec<ActionPlanOut>> {
    let scope = staff_scope(conn, caller)?;
    let within: Option<BTreeSet<i32>> = match team_id {
        None => None,
        Some(t) => {
            repo::teams::find(conn, t)?.ok_or_else(|| AppError::not_found("team"))?;
            if !may_edit(&scope, Some(t)) {
                return Err(AppError::Forbidden(
                    "you may read actions only for the teams you lead and their sub-teams".into(),
                ));
            }
            Some(crate::domain::teams::with_descendants(
                &repo::teams::edges(conn)?,
                [t],
            ))
        }
    };
    let plans: Vec<ActionPlan> = repo::action_plans::all(conn)?
        .into_iter()
        .filter(|p| may_read(&scope, p.team_id))
        .filter(|p| match &within {
            None => true,
            Some(ids) => p.team_id.is_some_and(|t| ids.contains(&t)),
        })
        .filter(|p| status.is_none_or(|s| p.status == s.as_str()))
        .collect();
    outs(conn, plans, now)
}

pub fn set_status(
    conn: &mut DbConnection,
    caller: &Caller,
    id: i32,
    patch: &ActionPlanPatch,
    now: NaiveDateTime,
) -> AppResult<ActionPlanOut> {
    let scope = staff_scope(conn, caller)?;
    let plan = repo::action_plans::find(conn, id)?
        .filter(|p| may_read(&scope, p.team_id))
        .ok_or_else(|| AppError::not_found("action plan"))?;
    if !may_edit(&scope, plan.team_id) {
        return Err(AppError::Forbidden(
            "company-wide actions are changed by HR".into(),
        ));
    }
    let status = match patch.status.as_deref() {
        None => return Err(AppError::field("status", "is required: open or done")),
        Some(s) => Status::parse(s).map_err(|e| AppError::field("status", e))?,
    };
    // Marking done again keeps the first day it was done.
    let done_at = match status {
        Status::Done => Some(plan.done_at.unwrap_or(now)),
        Status::Open => None,
    };
    repo::action_plans::set_status(conn, id, status.as_str(), done_at, now)?;
    let plan =
        repo::action_plans::find(conn, id)?.ok_or_else(|| AppError::not_found("action plan"))?;
    let mut out = outs(conn, vec![plan], now)?;
    out.pop().ok_or_else(|| AppError::not_found("action plan"))
}

/// The teams a person belongs to: their own and every team above it.
fn own_groups(conn: &mut DbConnection, team_id: Option<i32>) -> AppResult<Vec<i32>> {
    let Some(team) = team_id else {
        return Ok(vec![]);
    };
    let tree = Tree::new(&repo::teams::edges(conn)?);
    Ok(tree
        .ancestry(team)
        .into_iter()
        .filter(|g| *g != COMPANY)
        .collect())
}

/// Open actions for the dashboard: HR the company's, a lead their teams' and the
/// company-wide ones, a member their own teams' and the company-wide ones.
pub fn open_for_dashboard(
    conn: &mut DbConnection,
    caller: &Caller,
    now: NaiveDateTime,
) -> AppResult<Vec<ActionPlanOut>> {
    let scope = Scope::of(conn, caller)?;
    let mine = match scope {
        Scope::Own(_) => Some(own_groups(conn, caller.team_id)?),
        _ => None,
    };
    let plans: Vec<ActionPlan> = repo::action_plans::all(conn)?
        .into_iter()
        .filter(|p| p.status == "open")
        .filter(|p| match &mine {
            Some(groups) => p.team_id.is_none_or(|t| groups.contains(&t)),
            None => may_read(&scope, p.team_id),
        })
        .collect();
    outs(conn, plans, now)
}

/// One line of "what we changed since last time": what, and for which group.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub text: String,
    pub group: String,
}

/// What someone opening their survey link is told was done since the previous
/// round of the same survey: actions on their own teams or the whole company,
/// by text and group only (no owner, no author).
pub fn changed_since_last_time(
    conn: &mut DbConnection,
    employee_id: i32,
    survey_id: i32,
    round_scheduled_for: NaiveDateTime,
    now: NaiveDateTime,
) -> AppResult<Vec<Change>> {
    let Some(previous) =
        repo::action_plans::previous_round_at(conn, survey_id, round_scheduled_for)?
    else {
        return Ok(vec![]);
    };
    let team = repo::employees::find(conn, employee_id)?.and_then(|e| e.team_id);
    let groups = own_groups(conn, team)?;
    let plans = repo::action_plans::done_since(conn, previous)?;
    let done: Vec<Done> = plans
        .iter()
        .filter_map(|p| {
            Some(Done {
                id: p.id,
                team_id: p.team_id,
                done_at: p.done_at?,
            })
        })
        .collect();
    let shown: Vec<i32> = changed_since(&done, Some(previous), now, &groups)
        .iter()
        .map(|d| d.id)
        .collect();
    let names = Names::load(conn, &[])?;
    let by_id: HashMap<i32, &ActionPlan> = plans.iter().map(|p| (p.id, p)).collect();
    Ok(shown
        .into_iter()
        .filter_map(|id| by_id.get(&id))
        .map(|p| Change {
            text: p.text.clone(),
            group: names.team(p.team_id),
        })
        .collect())
}
