//! Database access: one connection type over SQLite and PostgreSQL, the pool, and migrations.

pub mod schema;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use std::time::Duration;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Arbitrary but fixed: every Pulse instance takes the same advisory lock
/// before migrating, so several can start against one database at once.
const MIGRATION_LOCK_KEY: i64 = 0x7075_6c73_6500;

/// Runs the same diesel code on whichever engine `conn` holds, for what
/// MultiConnection cannot express (multi-row inserts, `IN` over a list, RETURNING).
macro_rules! on_engine {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::db::DbConnection::Postgresql($c) => $body,
            $crate::db::DbConnection::Sqlite($c) => $body,
        }
    };
}
pub(crate) use on_engine;

/// Inserts `rows` (a slice of `Insertable`s) with multi-row statements of at most
/// 1,000 rows, within the engines' bind limits; evaluates to how many went in.
macro_rules! insert_all {
    ($conn:expr, $table:expr, $rows:expr) => {{
        let mut n = 0;
        for chunk in $rows.chunks(1000) {
            n += $crate::db::on_engine!(&mut *$conn, c => diesel::insert_into($table).values(chunk).execute(c)?);
        }
        n
    }};
}
pub(crate) use insert_all;

#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

pub type Pool = r2d2::Pool<Manager>;
pub type PooledConnection = r2d2::PooledConnection<Manager>;

/// Which engine a `DATABASE_URL` names, with the location that engine wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Postgres(String),
    Sqlite(String),
}

impl DatabaseUrl {
    /// `postgres://…` or `postgresql://…` is PostgreSQL; anything else is a SQLite
    /// file path, with or without a `sqlite://` prefix.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(
                "DATABASE_URL is empty: give a SQLite file path or a postgres:// URL".into(),
            );
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(Self::Postgres(raw.to_string()));
        }
        if let Some((scheme, _)) = raw.split_once("://") {
            if scheme != "sqlite" {
                return Err(format!(
                    "DATABASE_URL scheme `{scheme}://` is not supported: use postgres://… or a SQLite file path"
                ));
            }
        }
        let path = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
            .unwrap_or(raw);
        if path.is_empty() {
            return Err("DATABASE_URL names no SQLite file".into());
        }
        Ok(Self::Sqlite(path.to_string()))
    }

    pub fn engine(&self) -> &'static str {
        match self {
            Self::Postgres(_) => "postgres",
            Self::Sqlite(_) => "sqlite",
        }
    }
}

/// Opens connections with the concrete engine type, so a bad URL or a server
/// that is down reports its own error instead of MultiConnection's generic one.
#[derive(Debug, Clone)]
pub struct Manager {
    url: DatabaseUrl,
    /// SQLite: whether a committing connection copies the WAL back into the
    /// database itself once it passes 1,000 pages. The server turns this off and
    /// runs `Checkpointer` instead, so no request waits on that copy and its fsync.
    autocheckpoint: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("{0}")]
    Connection(#[from] ConnectionError),
    #[error("{0}")]
    Query(#[from] diesel::result::Error),
}

impl Manager {
    pub fn new(url: DatabaseUrl) -> Self {
        Self {
            url,
            autocheckpoint: true,
        }
    }

    /// For a process that runs a `Checkpointer`: its connections leave the WAL alone.
    pub fn without_autocheckpoint(mut self) -> Self {
        self.autocheckpoint = false;
        self
    }

    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    pub fn establish(&self) -> Result<DbConnection, ConnectError> {
        match &self.url {
            DatabaseUrl::Postgres(url) => {
                Ok(DbConnection::Postgresql(PgConnection::establish(url)?))
            }
            DatabaseUrl::Sqlite(path) => {
                let mut conn = SqliteConnection::establish(path)?;
                // WAL lets readers and the writer work at once; the busy timeout
                // makes concurrent writers wait instead of failing with SQLITE_BUSY.
                // The busy timeout comes first: switching to WAL takes a lock
                // that a connection opened at the same moment may hold.
                // secure_delete zeroes what a delete frees, so a closed round's
                // rewritten responses leave no copy in free pages.
                conn.batch_execute(
                    "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
                     PRAGMA secure_delete = ON;",
                )?;
                if !self.autocheckpoint {
                    conn.batch_execute("PRAGMA wal_autocheckpoint = 0;")?;
                }
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }
}

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = ConnectError;

    fn connect(&self) -> Result<DbConnection, ConnectError> {
        self.establish()
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), ConnectError> {
        conn.batch_execute("SELECT 1").map_err(Into::into)
    }

    fn has_broken(&self, _conn: &mut DbConnection) -> bool {
        false
    }
}

/// Builds the pool after one direct connection attempt, so start-up fails fast
/// with the engine's own message rather than r2d2's timeout.
pub fn connect(url: &DatabaseUrl, max_size: u32) -> Result<Pool, String> {
    connect_with(Manager::new(url.clone()), max_size)
}

/// As `connect`, with the manager given.
pub fn connect_with(manager: Manager, max_size: u32) -> Result<Pool, String> {
    let url = manager.url.clone();
    manager.establish().map_err(|e| {
        format!(
            "cannot open the {} database: {}",
            url.engine(),
            e.to_string().trim()
        )
    })?;
    // SQLite allows one writer at a time; a small pool avoids lock convoys.
    let size = match &url {
        DatabaseUrl::Sqlite(_) => max_size.min(8),
        DatabaseUrl::Postgres(_) => max_size,
    };
    r2d2::Pool::builder()
        .max_size(size)
        .connection_timeout(Duration::from_secs(10))
        .build(manager)
        .map_err(|e| format!("cannot open the {} database: {e}", url.engine()))
}

/// Copies SQLite's WAL back into the database from a thread of its own, so
/// commits never do it inside a request (connections made with
/// `Manager::without_autocheckpoint`). Stops when dropped. Nothing to do on PostgreSQL.
pub struct Checkpointer {
    _stop: Option<std::sync::mpsc::Sender<()>>,
}

impl Checkpointer {
    /// How often the WAL is copied back: often enough that it stays a few
    /// megabytes under a steady stream of answers.
    const EVERY: Duration = Duration::from_millis(200);

    pub fn start(url: &DatabaseUrl) -> Self {
        let DatabaseUrl::Sqlite(_) = url else {
            return Self { _stop: None };
        };
        let manager = Manager::new(url.clone()).without_autocheckpoint();
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let spawned = std::thread::Builder::new()
            .name("wal-checkpoint".into())
            .spawn(move || {
                let mut conn = None;
                while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                    stopped.recv_timeout(Self::EVERY)
                {
                    if conn.is_none() {
                        conn = manager.establish().ok();
                    }
                    if let Some(c) = conn.as_mut() {
                        // PASSIVE never waits for readers or the writer; whatever it
                        // cannot copy now is copied on a later turn.
                        if let Err(e) = c.batch_execute("PRAGMA wal_checkpoint(PASSIVE);") {
                            tracing::warn!(error = %e, "WAL checkpoint failed");
                            conn = None;
                        }
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "cannot start the WAL checkpoint thread");
        }
        Self { _stop: Some(stop) }
    }
}

/// Applies pending migrations; returns how many ran.
pub fn migrate(conn: &mut DbConnection) -> Result<usize, String> {
    let err = |e: Box<dyn std::error::Error + Send + Sync>| format!("migration failed: {e}");
    match conn {
        DbConnection::Sqlite(c) => c
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map(|v| v.len())
            .map_err(err),
        DbConnection::Postgresql(c) => {
            diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
                .execute(c)
                .map_err(|e| format!("cannot take the migration lock: {e}"))?;
            let result = c
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|v| v.len())
                .map_err(err);
            let _ = diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))
                .execute(c);
            result
        }
    }
}

/// After rows were rewritten or deleted (a round's responses when it closes,
/// a person's data when they are erased): asks the engine to let go of the
/// old row versions now rather than whenever it gets round to it. SQLite
/// (with `secure_delete`) copies the WAL back and truncates it; PostgreSQL
/// vacuums `tables`, so the dead versions' space is marked free (the bytes
/// stay on disk until reused). Best effort, outside any transaction: a
/// failure here loses nothing and is logged.
pub fn forget_deleted(conn: &mut DbConnection, tables: &[&str]) {
    let result = match conn {
        DbConnection::Sqlite(c) => truncate_wal(c),
        DbConnection::Postgresql(c) => c.batch_execute(&format!("VACUUM {};", tables.join(", "))),
    };
    if let Err(e) = result {
        tracing::warn!(error = %e, "could not compact deleted rows");
    }
}

/// What `PRAGMA wal_checkpoint` answers: `busy` is 1 when it could not finish.
#[derive(QueryableByName)]
struct Checkpoint {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    busy: i32,
}

/// Copies the WAL back and truncates it, trying again while another
/// connection's read or checkpoint is in the way: the old frames, which
/// still hold what was deleted, are gone only once a checkpoint finishes.
/// A checkpoint that stopped short says so in its answer, not as an error,
/// so the answer is read; under a loaded test run one in a few hundred
/// stopped short and left an erased name in the WAL.
fn truncate_wal(c: &mut SqliteConnection) -> QueryResult<()> {
    const TRIES: u32 = 50;
    for tried in 1..=TRIES {
        match diesel::sql_query("PRAGMA wal_checkpoint(TRUNCATE)").get_result::<Checkpoint>(c) {
            Ok(done) if done.busy == 0 => return Ok(()),
            Ok(_) | Err(diesel::result::Error::DatabaseError(..)) if tried < TRIES => {
                std::thread::sleep(Duration::from_millis(20))
            }
            Ok(_) => tracing::warn!(
                "the WAL could not be truncated after {TRIES} tries: it is at the next checkpoint"
            ),
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Runs a transaction that writes. On SQLite it starts with `BEGIN
/// IMMEDIATE`, taking the write lock up front and waiting for it under the
/// busy timeout: a deferred transaction that reads first and writes later
/// cannot wait when another writer got in between (SQLite answers "database
/// is locked" at once rather than risk a deadlock, and WAL refuses to upgrade
/// a stale snapshot). On PostgreSQL it is an ordinary transaction. Inside a
/// transaction already open it is a savepoint, under the outer one's lock.
///
/// Hooks registered with `after_commit` inside it run once the outermost
/// one has committed.
pub fn write_transaction<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    if in_transaction(conn) {
        return write_transaction_inner(conn, f);
    }
    let result = {
        let _turn = matches!(conn, DbConnection::Sqlite(_)).then(WriterTurn::take);
        write_transaction_inner(conn, f)
    };
    let hooks = AFTER_COMMIT.with(|h| std::mem::take(&mut *h.borrow_mut()));
    if result.is_ok() {
        for hook in hooks {
            hook();
        }
    }
    result
}

/// SQLite lets one writer in at a time, and a writer that finds the lock
/// taken polls for it with growing sleeps (1, 2, 5, 10, 15 … ms). Under steady
/// writing, such as the dispatcher's claims beside its records of sent
/// messages, a claim spent about 19 ms mostly asleep (`pulse bench delivery`).
/// The write transactions of this process queue here instead, and the next
/// starts the moment the last one ends; the busy timeout still covers other
/// processes. One queue for every SQLite database the process opens: in
/// production there is one, and in the tests the transactions are short.
///
/// The queue is first come, first served (a ticket each): with a plain
/// mutex, a thread writing transaction after transaction (a round's opening
/// chunks, the dispatcher's records) could take it again before a waiting
/// answer or admin edit woke, and under the load script the slowest of
/// those waited about a second.
static SQLITE_WRITERS: crate::turns::Turns = crate::turns::Turns::new();

/// This thread's turn in `SQLITE_WRITERS`, held until dropped. A thread that
/// already holds it (a write transaction on another connection, inside its
/// own) goes on without queueing behind itself.
struct WriterTurn(Option<crate::turns::Turn<'static>>);

impl WriterTurn {
    fn take() -> Self {
        if HOLDS_WRITER_TURN.with(|h| h.replace(true)) {
            return Self(None);
        }
        Self(Some(SQLITE_WRITERS.take(1)))
    }
}

impl Drop for WriterTurn {
    fn drop(&mut self) {
        if self.0.take().is_some() {
            HOLDS_WRITER_TURN.with(|h| h.set(false));
        }
    }
}

thread_local! {
    static HOLDS_WRITER_TURN: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };

    /// What to run once the outermost `write_transaction` on this thread
    /// commits: a connection stays on one thread for a whole transaction.
    static AFTER_COMMIT: std::cell::RefCell<Vec<fn()>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `hook` once what was just written on `conn` is visible to other
/// connections: at once outside a transaction, else after the outermost
/// `write_transaction` commits (never when it rolls back). For signals such
/// as "emails were queued", which a reader woken before the commit would
/// miss.
pub fn after_commit(conn: &mut DbConnection, hook: fn()) {
    if !in_transaction(conn) {
        hook();
        return;
    }
    AFTER_COMMIT.with(|h| {
        let mut hooks = h.borrow_mut();
        if !hooks.iter().any(|&h| std::ptr::fn_addr_eq(h, hook)) {
            hooks.push(hook);
        }
    });
}

/// Whether a transaction is open on `conn` (a broken one counts as open).
fn in_transaction(conn: &mut DbConnection) -> bool {
    use diesel::connection::TransactionManager;
    !matches!(
        <DbConnection as TransactionManager<DbConnection>>::transaction_manager_status_mut(conn)
            .transaction_depth(),
        Ok(None)
    )
}

fn write_transaction_inner<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    let began = match conn {
        DbConnection::Sqlite(c) => Some(AnsiTransactionManager::begin_transaction_sql(
            c,
            "BEGIN IMMEDIATE",
        )),
        DbConnection::Postgresql(_) => None,
    };
    match began {
        None | Some(Err(diesel::result::Error::AlreadyInTransaction)) => {
            return conn.transaction(f)
        }
        Some(Err(e)) => return Err(e.into()),
        Some(Ok(())) => {}
    }
    // From here as diesel's own `transaction`, whose state the begin above joined.
    match f(&mut *conn) {
        Ok(value) => {
            <DbConnection as TransactionManager<DbConnection>>::commit_transaction(conn)?;
            Ok(value)
        }
        Err(e) => {
            match <DbConnection as TransactionManager<DbConnection>>::rollback_transaction(conn) {
                Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(e),
                Err(rollback) => Err(rollback.into()),
            }
        }
    }
}

impl DbConnection {
    pub fn engine(&self) -> &'static str {
        match self {
            Self::Postgresql(_) => "postgres",
            Self::Sqlite(_) => "sqlite",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_database_urls() {
        assert_eq!(
            DatabaseUrl::parse("pulse.db"),
            Ok(DatabaseUrl::Sqlite("pulse.db".into()))
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///tmp/p.db"),
            Ok(DatabaseUrl::Sqlite("/tmp/p.db".into()))
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite://p.db"),
            Ok(DatabaseUrl::Sqlite("p.db".into()))
        );
        assert!(matches!(
            DatabaseUrl::parse("postgres://u@h/db"),
            Ok(DatabaseUrl::Postgres(_))
        ));
        assert!(matches!(
            DatabaseUrl::parse("postgresql://u@h/db"),
            Ok(DatabaseUrl::Postgres(_))
        ));
        assert!(DatabaseUrl::parse("mysql://h/db")
            .unwrap_err()
            .contains("mysql://"));
        assert!(DatabaseUrl::parse("  ").is_err());
        assert!(DatabaseUrl::parse("sqlite://").is_err());
    }
}
