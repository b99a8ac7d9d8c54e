//! The `pulse` command line: what each command does once the settings are read.

use crate::auth::password;
use crate::config::Settings;
use crate::domain::email::Email;
use crate::domain::people::{check_password, parse_name};
use crate::startup::{prepare_database, Application};
use crate::{domain, repo};
use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use std::io::Write;

#[derive(Parser)]
#[command(
    name = "pulse",
    version,
    about = "Employee pulse surveys, eNPS and 1:1s"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Runs the HTTP server (the default); migrates first.
    Serve,
    /// Applies pending database migrations and exits.
    Migrate,
    /// Manages administrator accounts.
    Admin {
        #[command(subcommand)]
        action: AdminAction,
    },
    /// Imports or updates employees from a CSV file (same rules as the API).
    Import { file: std::path::PathBuf },
    /// Fills an empty database with a demo company and its history.
    Demo {
        /// Current headcount (leavers come on top).
        #[arg(long, default_value_t = 300)]
        employees: usize,
        /// Weeks of weekly pulse history.
        #[arg(long, default_value_t = 52)]
        weeks: u32,
        /// Seed for the random answers, for reproducible data.
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
    /// Measures Pulse side by side with the engines and tools it runs on.
    Bench {
        #[command(subcommand)]
        part: Option<BenchPart>,
        /// Runs of each report when no part is named (the reports bench).
        #[arg(long, default_value_t = 20)]
        runs: usize,
    },
    /// Runs one scheduler and dispatch pass "now", or at the given instant, then exits.
    Tick {
        /// RFC 3339 instant, e.g. 2026-12-07T08:00:00Z.
        #[arg(long)]
        at: Option<String>,
    },
}

/// What `pulse bench` measures; with none named, the reports.
#[derive(Subcommand)]
pub enum BenchPart {
    /// Times the main reports against the current database.
    Reports {
        #[arg(long, default_value_t = 20)]
        runs: usize,
    },
    /// Answers over HTTP against the raw engine doing the same writes, one
    /// commit per answer. Adds a survey, a round and its invitees to the
    /// database: point DATABASE_URL at a scratch one.
    Answers {
        /// Concurrent connections, one run each: `--connections 16,64`.
        #[arg(long, value_delimiter = ',', default_values_t = [16, 64])]
        connections: Vec<usize>,
        /// Length of each run (HTTP, then raw), in seconds.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Invitees of the bench round: each answer takes a fresh link.
        #[arg(long, default_value_t = 200_000)]
        people: usize,
    },
    /// Imports N people, opens one round for all of them and hands every
    /// email to an SMTP sink it starts, beside sqlite3/psql and postfix's
    /// smtp-source doing the same. DATABASE_URL must be a scratch database.
    Delivery {
        #[arg(long, default_value_t = 100_000)]
        people: usize,
    },
}

#[derive(Subcommand)]
pub enum AdminAction {
    /// Creates an admin (or makes an existing employee one). Password from
    /// PULSE_ADMIN_PASSWORD or asked on the terminal.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
    },
}

pub async fn run(cli: Cli, settings: Settings) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings).await,
        Command::Migrate => {
            let pool = prepare_database(&settings).map_err(anyhow::Error::msg)?;
            drop(pool);
            println!(
                "database is up to date ({})",
                settings.database_url.engine()
            );
            Ok(())
        }
        Command::Admin {
            action: AdminAction::Create { email, name },
        } => admin_create(&settings, &email, &name),
        Command::Import { file } => import(&settings, &file),
        Command::Tick { at } => tick(&settings, at.as_deref()).await,
        Command::Demo {
            employees,
            weeks,
            seed,
        } => demo(&settings, employees, weeks, seed),
        Command::Bench { part, runs } => match part {
            None => bench(&settings, runs),
            Some(BenchPart::Reports { runs }) => bench(&settings, runs),
            Some(BenchPart::Answers {
                connections,
                seconds,
                people,
            }) => {
                let options = crate::bench::answers::Options {
                    connections,
                    seconds,
                    people,
                };
                crate::bench::answers::run(&settings, options).await
            }
            Some(BenchPart::Delivery { people }) => {
                let pool = prepare_database(&settings).map_err(anyhow::Error::msg)?;
                crate::bench::delivery::run(&settings, pool, people).await
            }
        },
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let transport = crate::mail::Transport::from_settings(&settings).map_err(anyhow::Error::msg)?;
    let app = Application::build(settings.clone()).await?;
    // Every instance runs the loops; each step is claimed in the database.
    tokio::spawn(crate::jobs::run_forever(
        app.state.pool.clone(),
        app.state.mailing.clone(),
        transport,
        std::time::Duration::from_secs(settings.tick_seconds),
        app.state.metrics.clone(),
    ));
    println!(
        "Pulse is listening on {} ({} database)",
        settings.bind,
        settings.database_url.engine()
    );
    if let Some(url) = &app.setup_url {
        println!("\nNo administrator yet. Open this one-time link to create the first one:\n\n    {url}\n");
    }
    app.run_until_stopped().await?;
    Ok(())
}

async fn tick(settings: &Settings, at: Option<&str>) -> anyhow::Result<()> {
    let now = match at {
        Some(raw) => chrono::DateTime::parse_from_rfc3339(raw)
            .map_err(|e| {
                anyhow::anyhow!(
                    "--at `{raw}` is not an RFC 3339 instant such as 2026-12-07T08:00:00Z: {e}"
                )
            })?
            .with_timezone(&chrono::Utc),
        None => chrono::Utc::now(),
    };
    let transport = crate::mail::Transport::from_settings(settings).map_err(anyhow::Error::msg)?;
    let pool = prepare_database(settings).map_err(anyhow::Error::msg)?;
    let mailing = std::sync::Arc::new(crate::jobs::Mailing::new(settings)?);
    let o = crate::jobs::tick(&pool, &mailing, &transport, now).await?;
    let s = &o.schedule;
    println!(
        "at {}: {} round(s) sent with {} invitation(s), {} skipped, {} reminder(s), {} closed; emails: {} sent, {} to retry, {} failed, {} waiting for the mail relay; webhooks: {} delivered, {} to retry, {} failed",
        now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        s.rounds_sent,
        s.invitations,
        s.rounds_skipped,
        s.reminders,
        s.rounds_closed,
        o.sent,
        o.retried,
        o.failed,
        o.deferred,
        o.webhooks.delivered,
        o.webhooks.retried,
        o.webhooks.failed
    );
    Ok(())
}

fn demo(settings: &Settings, employees: usize, weeks: u32, seed: u64) -> anyhow::Result<()> {
    if employees == 0 || employees > 200_000 || weeks > 520 {
        bail!("--employees must be 1 to 200000 and --weeks at most 520");
    }
    let password =
        std::env::var("PULSE_ADMIN_PASSWORD").unwrap_or_else(|_| "pulse-demo-password".into());
    check_password(&password).map_err(|e| anyhow::anyhow!("PULSE_ADMIN_PASSWORD {e}"))?;
    let pool = prepare_database(settings).map_err(anyhow::Error::msg)?;
    let mut conn = pool.get()?;
    let started = std::time::Instant::now();
    let r = crate::demo::run(
        &mut conn,
        employees,
        weeks,
        &password::hash(&password),
        seed,
    )?;
    println!(
        "demo company ready in {:.1}s: {} teams, {} employees (with leavers), {} rounds, {} responses, {} answers, {} 1:1 series",
        started.elapsed().as_secs_f64(),
        r.teams,
        r.employees,
        r.rounds,
        r.responses,
        r.answers,
        r.one_on_ones
    );
    println!(
        "sign in at {}/login as hr@demo.pulse.example with password {password}",
        settings.base()
    );
    Ok(())
}

fn bench(settings: &Settings, runs: usize) -> anyhow::Result<()> {
    let pool = prepare_database(settings).map_err(anyhow::Error::msg)?;
    let mut conn = pool.get()?;
    use diesel::prelude::*;
    let answers: i64 = crate::db::schema::answers::table
        .count()
        .get_result(&mut conn)?;
    let rounds: i64 = crate::db::schema::rounds::table
        .count()
        .get_result(&mut conn)?;
    println!(
        "{} database: {answers} answers in {rounds} rounds; {runs} runs each",
        settings.database_url.engine()
    );
    println!(
        "{:<42} {:>10} {:>10} {:>10}",
        "report", "median ms", "p95 ms", "max ms"
    );
    for t in crate::bench::reports::run(&mut conn, runs)? {
        println!(
            "{:<42} {:>10.2} {:>10.2} {:>10.2}",
            t.name, t.median_ms, t.p95_ms, t.max_ms
        );
    }
    Ok(())
}

fn admin_create(settings: &Settings, email: &str, name: &str) -> anyhow::Result<()> {
    let email = Email::parse(email).map_err(|e| anyhow::anyhow!("--email {e}"))?;
    let name = parse_name(name).map_err(|e| anyhow::anyhow!("--name {e}"))?;
    let pw = match std::env::var("PULSE_ADMIN_PASSWORD") {
        Ok(p) if !p.is_empty() => p,
        _ => {
            let p = rpassword::prompt_password(format!("Password for {email}: "))
                .context("no PULSE_ADMIN_PASSWORD and no terminal to ask on")?;
            let again = rpassword::prompt_password("Again: ")?;
            if p != again {
                bail!("the two passwords differ");
            }
            p
        }
    };
    check_password(&pw).map_err(|e| anyhow::anyhow!("the password {e}"))?;
    let hash = password::hash(&pw);
    let pool = prepare_database(settings).map_err(anyhow::Error::msg)?;
    let mut conn = pool.get()?;
    let id = crate::db::write_transaction(&mut conn, |c| -> diesel::QueryResult<i32> {
        let id = repo::employees::make_admin(c, &email, &name, &hash)?;
        repo::audit::record(
            c,
            &repo::audit::Actor::command_line(),
            repo::audit::action::EMPLOYEE_ROLE,
            &crate::audit::employee_target(id),
            "made an admin, with a new password, by `pulse admin create`",
        )?;
        Ok(id)
    })?;
    repo::settings::delete(&mut conn, crate::repo::settings::SETUP_TOKEN_KEY)?;
    println!(
        "admin {email} is ready (employee {id}); sign in at {}/login",
        settings.base()
    );
    Ok(())
}

fn import(settings: &Settings, file: &std::path::Path) -> anyhow::Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let rows = match domain::people_csv::parse(&bytes) {
        Ok(rows) => rows,
        Err(errors) => return report_lines(file, &errors),
    };
    let pool = prepare_database(settings).map_err(anyhow::Error::msg)?;
    let mut conn = pool.get()?;
    let today = chrono::Utc::now().date_naive();
    let big = rows.len() >= 1000;
    let mut progress = |done: usize, total: usize| {
        if big {
            eprint!("\rimporting: {done}/{total} rows");
            let _ = std::io::stderr().flush();
        }
    };
    let actor = repo::audit::Actor::command_line();
    match repo::import::apply_audited(&mut conn, &rows, today, &actor, &mut progress) {
        Ok(s) => {
            if big {
                eprintln!();
            }
            println!(
                "created {}, updated {}, unchanged {}",
                s.created, s.updated, s.unchanged
            );
            Ok(())
        }
        Err(repo::import::ImportError::Lines(errors)) => report_lines(file, &errors),
        Err(repo::import::ImportError::Db(e)) => Err(e.into()),
    }
}

fn report_lines(
    file: &std::path::Path,
    errors: &[domain::people_csv::LineError],
) -> anyhow::Result<()> {
    for e in errors {
        let col = if e.column.is_empty() {
            String::new()
        } else {
            format!(" [{}]", e.column)
        };
        eprintln!("{}:{}{}: {}", file.display(), e.line, col, e.message);
    }
    bail!("{} bad line(s); nothing was imported", errors.len())
}
