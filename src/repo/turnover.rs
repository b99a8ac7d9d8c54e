//! Turnover facts in storage: changed in the same transaction as every change to
//! people (a person's new contribution minus their old one), filled once for an
//! older database, and read by the turnover reports, eNPS beside turnover and the
//! HR dashboard instead of every person's dates.

use crate::db::schema::{team_memberships, turnover_balances as tb, turnover_facts as tf};
use crate::db::DbConnection;
use crate::domain::disclosure::Tree;
use crate::domain::report::{Membership, COMPANY};
use crate::domain::turnover_facts::{
    difference, people_facts, DayFacts, Facts, Ledger, COMPANY_GROUP,
};
use chrono::NaiveDate;
use diesel::dsl::sum;
use diesel::prelude::*;
use std::collections::BTreeMap;

/// Set once the facts hold everyone (absent in a database older than the facts).
pub const FILLED_KEY: &str = "turnover_facts_filled";

/// Every Pulse instance serializes changes to the facts on this PostgreSQL
/// advisory lock (held to the end of the transaction); SQLite has one writer.
const LOCK_KEY: i64 = 0x7475_726e_6f76; // "turnov"

/// A change this large recomputes every fact rather than adding differences.
const REFILL_ABOVE: usize = 500;

/// Waits for the right to change facts, to the end of the current transaction. On
/// SQLite a write statement takes the database's write lock (callers run in a write
/// transaction, which already holds it).
fn lock(conn: &mut DbConnection) -> QueryResult<()> {
    match conn {
        DbConnection::Postgresql(c) => {
            diesel::sql_query(format!("SELECT pg_advisory_xact_lock({LOCK_KEY})"))
                .execute(c)
                .map(drop)
        }
        DbConnection::Sqlite(c) => diesel::sql_query(
            "UPDATE settings SET value = value WHERE key = 'turnover_facts_filled'",
        )
        .execute(c)
        .map(drop),
    }
}

fn filled(conn: &mut DbConnection) -> QueryResult<bool> {
    Ok(super::settings::get(conn, FILLED_KEY)?.is_some())
}

/// The team groups a stay in `team` counts for: it and the teams above it.
fn groups_of(tree: &Tree, team: i32) -> Vec<i32> {
    tree.ancestry(team)
        .into_iter()
        .filter(|&g| g != COMPANY)
        .collect()
}

fn tree(conn: &mut DbConnection) -> QueryResult<Tree> {
    Ok(Tree::new(&super::teams::edges(conn)?))
}

/// Every membership of the given people.
fn memberships_of(conn: &mut DbConnection, ids: &[i32]) -> QueryResult<Vec<Membership>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(10_000) {
        out.extend(
            team_memberships::table
                .filter(team_memberships::employee_id.eq_any(chunk.to_vec()))
                .select((
                    team_memberships::employee_id,
                    team_memberships::team_id,
                    team_memberships::started_on,
                    team_memberships::ended_on,
                ))
                .order((team_memberships::employee_id, team_memberships::started_on))
                .load::<Membership>(conn)?,
        );
    }
    Ok(out)
}

/// What the given people add to the facts today.
fn facts_of(conn: &mut DbConnection, ids: &[i32]) -> QueryResult<Facts> {
    if ids.is_empty() {
        return Ok(Facts::new());
    }
    let tree = tree(conn)?;
    let people = super::reports::people_among(conn, ids)?;
    let memberships = memberships_of(conn, ids)?;
    Ok(people_facts(&people, &memberships, |t| groups_of(&tree, t)))
}

/// A change to people under way: what the people it touches added before it.
#[must_use = "finish the change so the facts follow it"]
pub struct Change {
    ids: Vec<i32>,
    /// None: no facts to keep (not filled yet), or too many people (refilled at the end).
    before: Option<Facts>,
    keep: bool,
}

/// Starts a change to the given people (their dates, teams, or the teams above theirs):
/// takes the lock and notes what they add now. Call inside the change's transaction.
pub fn begin(conn: &mut DbConnection, ids: &[i32]) -> QueryResult<Change> {
    lock(conn)?;
    let keep = filled(conn)?;
    let before = if keep && ids.len() <= REFILL_ABOVE {
        Some(facts_of(conn, ids)?)
    } else {
        None
    };
    Ok(Change {
        ids: ids.to_vec(),
        before,
        keep,
    })
}

impl Change {
    /// Adds what changed: the people begun with, and `created` (new people).
    pub fn finish(self, conn: &mut DbConnection, created: &[i32]) -> QueryResult<()> {
        if !self.keep {
            return Ok(());
        }
        let Some(before) = self.before else {
            return refill(conn);
        };
        if self.ids.len() + created.len() > REFILL_ABOVE {
            return refill(conn);
        }
        let ids: Vec<i32> = self.ids.iter().chain(created).copied().collect();
        let after = facts_of(conn, &ids)?;
        add(conn, &difference(&before, &after))
    }
}

/// Adds each day's difference to its stored row (made when missing; dropped when it
/// comes to nothing). Under the lock, so an update and an insert cannot race.
fn add(conn: &mut DbConnection, diff: &Facts) -> QueryResult<()> {
    let mut totals: BTreeMap<i32, (i32, i32)> = BTreeMap::new();
    for (&(group, _), f) in diff {
        let t = totals.entry(group).or_default();
        t.0 += f.arrivals;
        t.1 += f.departures;
    }
    for (group, (a, d)) in totals.into_iter().filter(|(_, t)| *t != (0, 0)) {
        let updated = diesel::update(tb::table.find(group))
            .set((
                tb::arrivals.eq(tb::arrivals + a),
                tb::departures.eq(tb::departures + d),
            ))
            .execute(conn)?;
        if updated == 0 {
            diesel::insert_into(tb::table)
                .values((
                    tb::team_id.eq(group),
                    tb::arrivals.eq(a),
                    tb::departures.eq(d),
                ))
                .execute(conn)?;
        }
    }
    for (&(group, day), f) in diff {
        let row = tf::table
            .filter(tf::team_id.eq(group))
            .filter(tf::day.eq(day));
        let updated = diesel::update(row)
            .set((
                tf::arrivals.eq(tf::arrivals + f.arrivals),
                tf::departures.eq(tf::departures + f.departures),
                tf::separations.eq(tf::separations + f.separations),
                tf::voluntary.eq(tf::voluntary + f.voluntary),
                tf::involuntary.eq(tf::involuntary + f.involuntary),
                tf::other_reason.eq(tf::other_reason + f.other),
                tf::regretted.eq(tf::regretted + f.regretted),
                tf::first_year.eq(tf::first_year + f.first_year),
                tf::brief_month.eq(tf::brief_month + f.brief_month),
                tf::brief_quarter.eq(tf::brief_quarter + f.brief_quarter),
                tf::brief_year.eq(tf::brief_year + f.brief_year),
            ))
            .execute(conn)?;
        if updated == 0 {
            diesel::insert_into(tf::table)
                .values(values(group, day, f))
                .execute(conn)?;
        } else {
            diesel::delete(
                row.filter(tf::arrivals.eq(0))
                    .filter(tf::departures.eq(0))
                    .filter(tf::separations.eq(0))
                    .filter(tf::brief_month.eq(0))
                    .filter(tf::brief_quarter.eq(0))
                    .filter(tf::brief_year.eq(0)),
            )
            .execute(conn)?;
        }
    }
    Ok(())
}

/// A day's facts as stored, in the order `day_facts` reads them.
const FACT_COLUMNS: (
    tf::arrivals,
    tf::departures,
    tf::separations,
    tf::voluntary,
    tf::involuntary,
    tf::other_reason,
    tf::regretted,
    tf::first_year,
    tf::brief_month,
    tf::brief_quarter,
    tf::brief_year,
) = (
    tf::arrivals,
    tf::departures,
    tf::separations,
    tf::voluntary,
    tf::involuntary,
    tf::other_reason,
    tf::regretted,
    tf::first_year,
    tf::brief_month,
    tf::brief_quarter,
    tf::brief_year,
);

type Values = (
    diesel::dsl::Eq<tf::team_id, i32>,
    diesel::dsl::Eq<tf::day, NaiveDate>,
    diesel::dsl::Eq<tf::arrivals, i32>,
    diesel::dsl::Eq<tf::departures, i32>,
    diesel::dsl::Eq<tf::separations, i32>,
    diesel::dsl::Eq<tf::voluntary, i32>,
    diesel::dsl::Eq<tf::involuntary, i32>,
    diesel::dsl::Eq<tf::other_reason, i32>,
    diesel::dsl::Eq<tf::regretted, i32>,
    diesel::dsl::Eq<tf::first_year, i32>,
    diesel::dsl::Eq<tf::brief_month, i32>,
    diesel::dsl::Eq<tf::brief_quarter, i32>,
    diesel::dsl::Eq<tf::brief_year, i32>,
);

fn values(group: i32, day: NaiveDate, f: &DayFacts) -> Values {
    (
        tf::team_id.eq(group),
        tf::day.eq(day),
        tf::arrivals.eq(f.arrivals),
        tf::departures.eq(f.departures),
        tf::separations.eq(f.separations),
        tf::voluntary.eq(f.voluntary),
        tf::involuntary.eq(f.involuntary),
        tf::other_reason.eq(f.other),
        tf::regretted.eq(f.regretted),
        tf::first_year.eq(f.first_year),
        tf::brief_month.eq(f.brief_month),
        tf::brief_quarter.eq(f.brief_quarter),
        tf::brief_year.eq(f.brief_year),
    )
}

/// Recomputes every fact from everyone's dates and stays (the caller holds the lock,
/// inside a transaction), and marks the facts filled.
fn refill(conn: &mut DbConnection) -> QueryResult<()> {
    let tree = tree(conn)?;
    let people = super::reports::people(conn)?;
    let memberships = super::reports::memberships(conn)?;
    let facts = people_facts(&people, &memberships, |t| groups_of(&tree, t));
    diesel::delete(tf::table).execute(conn)?;
    diesel::delete(tb::table).execute(conn)?;
    let mut totals: BTreeMap<i32, (i32, i32)> = BTreeMap::new();
    for (&(group, _), f) in &facts {
        let t = totals.entry(group).or_default();
        t.0 += f.arrivals;
        t.1 += f.departures;
    }
    let balances: Vec<_> = totals
        .into_iter()
        .map(|(g, (a, d))| (tb::team_id.eq(g), tb::arrivals.eq(a), tb::departures.eq(d)))
        .collect();
    for chunk in balances.chunks(5000) {
        let insert = diesel::insert_into(tb::table).values(chunk);
        match conn {
            DbConnection::Postgresql(c) => insert.execute(c)?,
            DbConnection::Sqlite(c) => insert.execute(c)?,
        };
    }
    let rows: Vec<Values> = facts
        .iter()
        .filter(|(_, f)| !f.is_zero())
        .map(|(&(g, d), f)| values(g, d, f))
        .collect();
    // 13 values a row: 500 rows stay under SQLite's and PostgreSQL's bind limits.
    for chunk in rows.chunks(500) {
        let insert = diesel::insert_into(tf::table).values(chunk);
        match conn {
            DbConnection::Postgresql(c) => insert.execute(c)?,
            DbConnection::Sqlite(c) => insert.execute(c)?,
        };
    }
    if !filled(conn)? {
        diesel::insert_into(crate::db::schema::settings::table)
            .values((
                crate::db::schema::settings::key.eq(FILLED_KEY),
                crate::db::schema::settings::value.eq("1"),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Fills the facts of a database older than them, once: the first report that reads
/// them does it in a write transaction; one waiting behind it finds them filled.
pub fn ensure_filled(conn: &mut DbConnection) -> QueryResult<()> {
    if filled(conn)? {
        return Ok(());
    }
    crate::db::write_transaction(conn, |conn| {
        lock(conn)?;
        if filled(conn)? {
            return Ok(());
        }
        refill(conn)
    })
}

/// Recomputes every fact now, whatever is stored (after a bulk load that did not keep them).
pub fn rebuild(conn: &mut DbConnection) -> QueryResult<()> {
    crate::db::write_transaction(conn, |conn| {
        lock(conn)?;
        refill(conn)
    })
}

type Row = (
    i32,
    NaiveDate,
    (i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32),
);

fn day_facts(r: (i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32)) -> DayFacts {
    let (
        arrivals,
        departures,
        separations,
        voluntary,
        involuntary,
        other,
        regretted,
        first_year,
        brief_month,
        brief_quarter,
        brief_year,
    ) = r;
    DayFacts {
        arrivals,
        departures,
        separations,
        voluntary,
        involuntary,
        other,
        regretted,
        first_year,
        brief_month,
        brief_quarter,
        brief_year,
    }
}

/// The ledgers of the given groups (None: every group; 0 is the company) able to
/// answer any figure in [from, to]. Each group's headcount before `from` is its
/// stored totals less the days from `from` on (the window, and any dated later), so
/// nothing before the window is read.
pub fn ledgers(
    conn: &mut DbConnection,
    groups: Option<&[i32]>,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<BTreeMap<i32, Ledger>> {
    ensure_filled(conn)?;
    let mut openings: BTreeMap<i32, i64> = BTreeMap::new();
    let mut days: BTreeMap<i32, Vec<(NaiveDate, DayFacts)>> = BTreeMap::new();
    let chunks: Vec<Option<&[i32]>> = match groups {
        Some(g) => g.chunks(10_000).map(Some).collect(),
        None => vec![None],
    };
    for chunk in chunks {
        let mut q = tb::table
            .select((tb::team_id, tb::arrivals, tb::departures))
            .into_boxed();
        if let Some(c) = chunk {
            q = q.filter(tb::team_id.eq_any(c.to_vec()));
        }
        for (g, a, d) in q.load::<(i32, i32, i32)>(conn)? {
            openings.insert(g, i64::from(a) - i64::from(d));
        }
        let mut q = tf::table
            .filter(tf::day.ge(from))
            .select((tf::team_id, tf::day, FACT_COLUMNS))
            .into_boxed();
        if let Some(c) = chunk {
            q = q.filter(tf::team_id.eq_any(c.to_vec()));
        }
        for (g, day, f) in q.load::<Row>(conn)? {
            let f = day_facts(f);
            // Every day from `from` on is taken off the totals; those in the
            // window are kept.
            *openings.entry(g).or_default() -= i64::from(f.arrivals) - i64::from(f.departures);
            if day <= to {
                days.entry(g).or_default().push((day, f));
            }
        }
    }
    let ids: Vec<i32> = match groups {
        Some(g) => g.to_vec(),
        None => openings.keys().chain(days.keys()).copied().collect(),
    };
    Ok(ids
        .into_iter()
        .map(|g| {
            let opening = openings.get(&g).copied().unwrap_or(0);
            let d = days.remove(&g).unwrap_or_default();
            (g, Ledger::new(Some(from), opening, d))
        })
        .collect())
}

/// One group's ledger (`team` None: the company) for figures in [from, to].
pub fn ledger(
    conn: &mut DbConnection,
    team: Option<i32>,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Ledger> {
    let g = team.unwrap_or(COMPANY_GROUP);
    Ok(ledgers(conn, Some(&[g]), from, to)?
        .remove(&g)
        .unwrap_or_default())
}

/// How many people are employed on `day`, from the company's facts: its totals less
/// the arrivals after `day` and the departures from `day` on (rows dated after today
/// are few: hires and last days entered ahead).
pub fn headcount_on(conn: &mut DbConnection, day: NaiveDate) -> QueryResult<i64> {
    ensure_filled(conn)?;
    let totals: Option<(i32, i32)> = tb::table
        .find(COMPANY_GROUP)
        .select((tb::arrivals, tb::departures))
        .first(conn)
        .optional()?;
    let (arrived, departed) = totals.unwrap_or_default();
    let company = tf::table.filter(tf::team_id.eq(COMPANY_GROUP));
    let later_arrivals: Option<i64> = company
        .filter(tf::day.gt(day))
        .select(sum(tf::arrivals))
        .first(conn)?;
    let later_departures: Option<i64> = company
        .filter(tf::day.ge(day))
        .select(sum(tf::departures))
        .first(conn)?;
    Ok(i64::from(arrived)
        - later_arrivals.unwrap_or(0)
        - (i64::from(departed) - later_departures.unwrap_or(0)))
}

/// Arrivals and departures per group.
pub type Totals = BTreeMap<i32, (i64, i64)>;

/// Each group's stored totals, and those the stored days add up to (tests).
pub fn balances(conn: &mut DbConnection) -> QueryResult<(Totals, Totals)> {
    ensure_filled(conn)?;
    let stored = tb::table
        .select((tb::team_id, tb::arrivals, tb::departures))
        .load::<(i32, i32, i32)>(conn)?
        .into_iter()
        .filter(|r| (r.1, r.2) != (0, 0))
        .map(|(g, a, d)| (g, (i64::from(a), i64::from(d))))
        .collect();
    let mut summed = Totals::new();
    for ((g, _), f) in stored_facts(conn)? {
        let t = summed.entry(g).or_default();
        t.0 += i64::from(f.arrivals);
        t.1 += i64::from(f.departures);
    }
    summed.retain(|_, t| *t != (0, 0));
    Ok((stored, summed))
}

/// Every stored fact, for comparing with the facts computed from people (tests).
pub fn stored(conn: &mut DbConnection) -> QueryResult<Facts> {
    ensure_filled(conn)?;
    stored_facts(conn)
}

fn stored_facts(conn: &mut DbConnection) -> QueryResult<Facts> {
    Ok(tf::table
        .select((tf::team_id, tf::day, FACT_COLUMNS))
        .load::<Row>(conn)?
        .into_iter()
        .map(|(g, d, f)| ((g, d), day_facts(f)))
        .filter(|(_, f)| !f.is_zero())
        .collect())
}

/// Every fact as computed from people directly, for comparing with what is stored.
pub fn from_people(conn: &mut DbConnection) -> QueryResult<Facts> {
    let tree = tree(conn)?;
    let people = super::reports::people(conn)?;
    let memberships = super::reports::memberships(conn)?;
    let mut facts = people_facts(&people, &memberships, |t| groups_of(&tree, t));
    facts.retain(|_, f| !f.is_zero());
    Ok(facts)
}
