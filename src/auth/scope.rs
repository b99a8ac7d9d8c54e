//! Who may see which people and teams: the one place role visibility is decided.

use crate::auth::Caller;
use crate::db::DbConnection;
use crate::domain::people::Role;
use crate::domain::teams::with_descendants;
use crate::repo;
use diesel::QueryResult;
use std::collections::BTreeSet;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Admins (HR): everyone.
    Everything,
    /// Leads: the teams they lead and every sub-team.
    Teams(BTreeSet<i32>),
    /// Members: themselves.
    Own(i32),
}

impl Scope {
    pub fn of(conn: &mut DbConnection, caller: &Caller) -> QueryResult<Self> {
        Ok(match caller.role {
            Role::Admin => Self::Everything,
            Role::Lead => {
                let led = repo::teams::led_by(conn, caller.id)?;
                Self::Teams(with_descendants(&repo::teams::edges(conn)?, led))
            }
            Role::Member => Self::Own(caller.id),
        })
    }

    pub fn may_see_employee(&self, caller_id: i32, employee_id: i32, team_id: Option<i32>) -> bool {
        employee_id == caller_id
            || match self {
                Self::Everything => true,
                Self::Teams(ids) => team_id.is_some_and(|t| ids.contains(&t)),
                Self::Own(_) => false,
            }
    }

    /// A member sees the team they are in; a lead their subtree.
    pub fn may_see_team(&self, team_id: i32, own_team: Option<i32>) -> bool {
        own_team == Some(team_id)
            || match self {
                Self::Everything => true,
                Self::Teams(ids) => ids.contains(&team_id),
                Self::Own(_) => false,
            }
    }
}

impl Scope {
    /// Who may read reports: admins anything; leads the teams they lead and
    /// their sub-teams, never the whole company; members nothing.
    pub fn check_report(&self, team_id: Option<i32>) -> Result<(), crate::error::AppError> {
        use crate::error::AppError;
        match (self, team_id) {
            (Self::Everything, _) => Ok(()),
            (Self::Teams(ids), Some(t)) if ids.contains(&t) => Ok(()),
            (Self::Teams(_), Some(_)) => Err(AppError::Forbidden(
                "you may only read reports for the teams you lead".into(),
            )),
            (Self::Teams(_), None) => Err(AppError::Forbidden(
                "company-wide reports are for HR: pass the team_id of a team you lead".into(),
            )),
            (Self::Own(_), _) => Err(AppError::Forbidden(
                "reports are for HR and team leads".into(),
            )),
        }
    }

    /// The teams a report may list for this caller.
    pub fn report_teams(&self, all: impl IntoIterator<Item = i32>) -> Vec<i32> {
        let within = self.report_team_set();
        all.into_iter()
            .filter(|t| within.is_none_or(|ids| ids.contains(t)))
            .collect()
    }

    /// The same teams as a set for a query to filter on; `None`: every team.
    pub fn report_team_set(&self) -> Option<&BTreeSet<i32>> {
        static NONE: BTreeSet<i32> = BTreeSet::new();
        match self {
            Self::Everything => None,
            Self::Teams(ids) => Some(ids),
            Self::Own(_) => Some(&NONE),
        }
    }
}
