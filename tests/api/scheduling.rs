//! The scheduler under concurrency and from the command line.

use crate::helpers::TestApp;
use crate::surveys::{people, read_email, weekly};
use diesel::prelude::*;
use serde_json::{json, Value};

async fn two_schedulers_create_each_round_and_email_once(app: TestApp) {
    let admin = app.admin_token().await;
    let (team, _) = people(&app, &admin).await;
    let mut body = weekly(team);
    body["schedule"]["cadence"] = json!("monthly");
    body["schedule"]["open_days"] = json!(20);
    app.post("/api/v1/surveys", Some(&admin), body).await;
    let at = chrono::DateTime::parse_from_rfc3339("2035-12-07T08:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let url = pulse::db::DatabaseUrl::parse(&app.database_url).unwrap();
    // Two instances, each with its own pool, tick at the same instant.
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let url = url.clone();
                let mailing = app.state.mailing.clone();
                s.spawn(move || {
                    let pool = pulse::db::connect(&url, 2).unwrap();
                    let mut conn = pool.get().unwrap();
                    pulse::jobs::scheduler::run(&mut conn, &mailing, at).unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let sent: usize = results.iter().map(|r| r.rounds_sent).sum();
    assert_eq!(sent, 1, "{results:?}");
    let mut conn = app.conn();
    let rounds: i64 = pulse::db::schema::rounds::table
        .count()
        .get_result(&mut conn)
        .unwrap();
    let invitations: i64 = pulse::db::schema::invitations::table
        .count()
        .get_result(&mut conn)
        .unwrap();
    let emails: i64 = pulse::db::schema::outbox::table
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!((rounds, invitations, emails), (1, 3, 3));
}

async fn pulse_tick_at_writes_eml_files_by_default(app: TestApp) {
    let admin = app.admin_token().await;
    let (team, _) = people(&app, &admin).await;
    app.post("/api/v1/surveys", Some(&admin), weekly(team))
        .await;
    let dir = app.mail_dir.join("cli");
    let run = |at: &str| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_pulse"))
            .args(["tick", "--at", at])
            .env("DATABASE_URL", &app.database_url)
            .env("PULSE_MAIL_DIR", &dir)
            .env("PULSE_BASE_URL", &app.address)
            .env_remove("SMTP_URL")
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let out = run("2035-12-07T08:00:00Z");
    assert!(
        out.contains("1 round(s) sent with 3 invitation(s)") && out.contains("3 sent"),
        "{out}"
    );
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 3);
    assert!(files.iter().all(|p| p.extension().unwrap() == "eml"));
    let (_, _, text) = read_email(&std::fs::read_to_string(&files[0]).unwrap());
    let link = crate::surveys::link_path(&text);
    assert!(
        text.contains(&format!("{}{link}", app.address)),
        "links use PULSE_BASE_URL"
    );
    assert_eq!(app.get(&link, None).await.status(), 200);
    let again = run("2035-12-07T08:00:00Z");
    assert!(
        again.contains("0 round(s) sent") && again.contains("0 sent"),
        "{again}"
    );
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 3);
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_pulse"))
        .args(["tick", "--at", "next monday"])
        .env("DATABASE_URL", &app.database_url)
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("RFC 3339"));
    let rounds: Value = app
        .get("/api/v1/surveys", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rounds[0]["next_round_at"], "2035-12-14T08:00:00Z");
}

crate::on_both_engines!(
    two_schedulers_create_each_round_and_email_once,
    pulse_tick_at_writes_eml_files_by_default
);
