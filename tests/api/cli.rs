//! The `pulse` binary: migrate, admin create and import from a shell, and clear start-up errors.

use crate::helpers::{test_database, Engine};
use std::process::Command;

fn pulse(database_url: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_pulse"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("PULSE_ADMIN_PASSWORD", "correct horse battery")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn commands_work_from_the_shell(engine: Engine) {
    let Some((url, _guard)) = test_database(engine) else {
        return eprintln!("skipped: TEST_DATABASE_URL not set");
    };
    let (ok, out, err) = pulse(&url, &["migrate"]);
    assert!(ok, "{err}");
    assert!(out.contains("up to date"));

    let (ok, out, err) = pulse(
        &url,
        &[
            "admin",
            "create",
            "--email",
            "Boss@Example.com",
            "--name",
            "Boss",
        ],
    );
    assert!(ok, "{err}");
    assert!(out.contains("boss@example.com"));

    let dir = std::env::temp_dir().join(format!("pulse-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join(format!("good-{engine:?}.csv"));
    std::fs::write(
        &good,
        "email;name;team\na@example.com;A;Ops\nb@example.com;B;Ops/Night\n",
    )
    .unwrap();
    let (ok, out, err) = pulse(&url, &["import", good.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "created 2, updated 0, unchanged 0");
    let (_, out, _) = pulse(&url, &["import", good.to_str().unwrap()]);
    assert_eq!(out.trim(), "created 0, updated 0, unchanged 2");

    // The import keeps an admin, as the API does.
    let demote = dir.join(format!("demote-{engine:?}.csv"));
    std::fs::write(&demote, "email,name,role\nboss@example.com,Boss,member\n").unwrap();
    let (ok, _, err) = pulse(&url, &["import", demote.to_str().unwrap()]);
    assert!(!ok);
    assert!(
        err.contains(":2 [role]")
            && err.contains("last admin")
            && err.contains("nothing was imported"),
        "{err}"
    );
    let mut conn = pulse::db::Manager::new(pulse::db::DatabaseUrl::parse(&url).unwrap())
        .establish()
        .unwrap();
    let boss = pulse::repo::employees::find_by_email(&mut conn, "boss@example.com")
        .unwrap()
        .unwrap();
    assert_eq!(boss.role, "admin");

    let bad = dir.join(format!("bad-{engine:?}.csv"));
    std::fs::write(&bad, "email,name\nnot-an-email,X\n").unwrap();
    let (ok, _, err) = pulse(&url, &["import", bad.to_str().unwrap()]);
    assert!(!ok);
    assert!(
        err.contains(":2 [email]") && err.contains("nothing was imported"),
        "{err}"
    );
}

fn demo_fills_an_empty_database(engine: Engine) {
    let Some((url, _guard)) = test_database(engine) else {
        return eprintln!("skipped: TEST_DATABASE_URL not set");
    };
    let (ok, out, err) = pulse(&url, &["demo", "--employees", "40", "--weeks", "6"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("6 rounds")
            && out.contains("1:1 series")
            && out.contains("hr@demo.pulse.example"),
        "{out}"
    );
    let (ok, out, err) = pulse(&url, &["bench", "--runs", "2"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("company eNPS trend") && out.contains("company turnover"),
        "{out}"
    );
    // A second run refuses rather than doubling the company.
    let (ok, _, err) = pulse(&url, &["demo"]);
    assert!(!ok && err.contains("empty database"), "{err}");
}

/// Several instances starting together on one PostgreSQL database: the
/// advisory lock makes them migrate one after the other.
#[test]
fn instances_can_migrate_at_once() {
    let Some((url, _guard)) = test_database(Engine::Postgres) else {
        return eprintln!("skipped: TEST_DATABASE_URL not set");
    };
    let children: Vec<_> = (0..4)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_pulse"))
                .arg("migrate")
                .env("DATABASE_URL", &url)
                .env("RUST_LOG", "warn")
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn demo_on_sqlite() {
    demo_fills_an_empty_database(Engine::Sqlite);
}

#[test]
fn demo_on_postgres() {
    demo_fills_an_empty_database(Engine::Postgres);
}

#[test]
fn commands_work_on_sqlite() {
    commands_work_from_the_shell(Engine::Sqlite);
}

#[test]
fn commands_work_on_postgres() {
    commands_work_from_the_shell(Engine::Postgres);
}

#[test]
fn unreachable_databases_give_one_clear_line() {
    for (url, expect) in [
        (
            "postgres://nobody@127.0.0.1:1/none",
            "cannot open the postgres database",
        ),
        ("mysql://localhost/x", "not supported"),
        ("/no/such/dir/pulse.db", "cannot open the sqlite database"),
    ] {
        let (ok, _, err) = pulse(url, &["migrate"]);
        assert!(!ok, "{url} should fail");
        assert!(
            err.starts_with("pulse: ") && err.contains(expect),
            "{url}: {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
}
