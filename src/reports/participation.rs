//! Participation of rounds as lists show it: the company's figure only where the rule shows it.

use super::round::Live;
use crate::db::DbConnection;
use crate::domain::disclosure::{RoundCells, Tree};
use crate::domain::report::{Counter, COMPANY};
use crate::repo::{self, rounds::Round};
use diesel::QueryResult;
use std::collections::BTreeMap;

/// Each round's company-wide participation, live for open rounds, or why it is hidden.
pub fn of_rounds(conn: &mut DbConnection, rounds: &[Round]) -> QueryResult<BTreeMap<i32, Live>> {
    // A closed round's company cell was decided when it closed; only the others
    // (open, closing) are worked out now, over the whole tree.
    let mut out = BTreeMap::new();
    let mut live = vec![];
    for r in rounds {
        let stored = match r.status.as_str() {
            "closed" => repo::reports::company_cell(conn, r.id)?,
            _ => None,
        };
        match stored {
            Some(cell) => {
                let cells = RoundCells::from_stored(r.id, r.scheduled_for.date(), 0, [cell]);
                out.insert(r.id, Live::of(cells.cell(COMPANY)));
            }
            None => live.push(r),
        }
    }
    if live.is_empty() {
        return Ok(out);
    }
    let tree = Tree::new(&repo::teams::edges(conn)?);
    let ids: Vec<i32> = live.iter().map(|r| r.id).collect();
    let counters = repo::reports::counters_of_rounds(conn, &ids)?;
    let mut by_round: BTreeMap<i32, Vec<&Counter>> = BTreeMap::new();
    for c in &counters {
        by_round.entry(c.round_id).or_default().push(c);
    }
    out.extend(live.into_iter().map(|r| {
        let cs = by_round.remove(&r.id).unwrap_or_default();
        let min = r.min_group_size.max(3) as u32;
        let cells = RoundCells::disclose(r.id, r.scheduled_for.date(), &cs, &tree, min);
        (r.id, Live::of(cells.cell(COMPANY)))
    }));
    Ok(out)
}
