//! spawn_app(): the real application on port 0 with its own database, and request helpers.

use diesel::prelude::*;
use pulse::config::Settings;
use pulse::db::{DatabaseUrl, DbConnection, Manager};
use pulse::startup::Application;
use reqwest::{Client, Response};
use serde_json::{json, Value};
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// A database of its own for one test, removed when the test ends.
pub enum TestDb {
    Sqlite { dir: PathBuf },
    Postgres { admin_url: String, name: String },
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match self {
            TestDb::Sqlite { dir } => {
                let _ = std::fs::remove_dir_all(dir);
            }
            TestDb::Postgres { admin_url, name } => {
                if let Ok(mut conn) = PgConnection::establish(admin_url) {
                    let _ =
                        diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                            .execute(&mut conn);
                }
            }
        }
    }
}

fn unique_suffix() -> String {
    use rand::Rng;
    format!("{:016x}", rand::thread_rng().gen::<u64>())
}

/// The database URL and its guard, or None when PostgreSQL is not configured
/// (`TEST_DATABASE_URL` unset), in which case the test says so and passes.
pub fn test_database(engine: Engine) -> Option<(String, TestDb)> {
    match engine {
        Engine::Sqlite => {
            let dir = std::env::temp_dir().join(format!("pulse-test-{}", unique_suffix()));
            std::fs::create_dir_all(&dir).unwrap();
            let path = dir.join("pulse.db");
            Some((path.display().to_string(), TestDb::Sqlite { dir }))
        }
        Engine::Postgres => {
            let admin_url = std::env::var("TEST_DATABASE_URL").ok()?;
            let name = format!("pulse_test_{}", unique_suffix());
            let mut conn =
                PgConnection::establish(&admin_url).expect("TEST_DATABASE_URL does not answer");
            diesel::sql_query(format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .unwrap();
            let mut url = url::Url::parse(&admin_url).unwrap();
            url.set_path(&name);
            Some((url.to_string(), TestDb::Postgres { admin_url, name }))
        }
    }
}

pub struct TestApp {
    pub address: String,
    pub engine: Engine,
    pub database_url: String,
    pub setup_url: Option<String>,
    /// No cookies: API calls carry Bearer tokens.
    pub api: Client,
    pub state: actix_web::web::Data<pulse::state::AppState>,
    /// Where the `.eml` default transport writes.
    pub mail_dir: PathBuf,
    _db: TestDb,
}

pub const ADMIN_EMAIL: &str = "hr@example.com";
pub const PASSWORD: &str = "correct horse battery";

pub async fn spawn_app(engine: Engine) -> Option<TestApp> {
    spawn_app_with(engine, &[]).await
}

/// As `spawn_app`, with more settings (`("PULSE_TRUSTED_PROXIES", "127.0.0.1")`).
pub async fn spawn_app_with(engine: Engine, extra: &[(&str, &str)]) -> Option<TestApp> {
    let (database_url, db) = match test_database(engine) {
        Some(d) => d,
        None => {
            eprintln!("skipped: set TEST_DATABASE_URL=postgres://… to run this test on PostgreSQL");
            return None;
        }
    };
    let mail_dir = std::env::temp_dir().join(format!("pulse-mail-{}", unique_suffix()));
    let mut vars = vec![
        ("DATABASE_URL", database_url.clone()),
        ("PULSE_BIND", "127.0.0.1:0".to_string()),
        ("PULSE_MAIL_DIR", mail_dir.display().to_string()),
    ];
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    vars.push(("PULSE_BASE_URL", address.clone()));
    vars.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    let settings =
        Settings::from_lookup(|k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()))
            .unwrap();
    let app = Application::build_with_listener(settings, listener)
        .await
        .expect("app builds");
    let setup_url = app.setup_url.clone();
    let state = app.state.clone();
    tokio::spawn(app.run_until_stopped());
    Some(TestApp {
        address,
        engine,
        database_url,
        setup_url,
        api: Client::new(),
        state,
        mail_dir,
        _db: db,
    })
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// A direct connection to the app's database, for setting up and inspecting rows.
    pub fn conn(&self) -> DbConnection {
        Manager::new(DatabaseUrl::parse(&self.database_url).unwrap())
            .establish()
            .unwrap()
    }

    /// Creates an admin directly in the database (as `pulse admin create` does) and signs in.
    pub async fn admin_token(&self) -> String {
        let mut conn = self.conn();
        let email = pulse::domain::email::Email::parse(ADMIN_EMAIL).unwrap();
        pulse::repo::employees::make_admin(
            &mut conn,
            &email,
            "Hana HR",
            &pulse::auth::password::hash(PASSWORD),
        )
        .unwrap();
        self.login(ADMIN_EMAIL, PASSWORD).await
    }

    pub async fn login(&self, email: &str, password: &str) -> String {
        let res = self
            .post(
                "/api/v1/auth/login",
                None,
                json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(res.status(), 200, "login as {email} failed");
        res.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        let mut req = self.api.post(self.url(path)).json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Response {
        self.api
            .patch(self.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        let mut req = self.api.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }

    /// One scheduler + dispatch pass at `at`, writing emails as `.eml` files.
    pub async fn tick(&self, at: &str) -> pulse::jobs::TickOutcome {
        let at = chrono::DateTime::parse_from_rfc3339(at)
            .unwrap()
            .with_timezone(&chrono::Utc);
        std::fs::create_dir_all(&self.mail_dir).unwrap();
        let transport = pulse::mail::Transport::Files(self.mail_dir.clone());
        pulse::jobs::tick(&self.state.pool, &self.state.mailing, &transport, at)
            .await
            .unwrap()
    }

    /// The `.eml` files written so far, as text, sorted by file name.
    pub fn emails(&self) -> Vec<String> {
        let Ok(dir) = std::fs::read_dir(&self.mail_dir) else {
            return vec![];
        };
        let mut paths: Vec<_> = dir
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        paths.sort();
        paths
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect()
    }

    pub async fn post_csv(&self, token: &str, body: &str) -> Response {
        self.api
            .post(self.url("/api/v1/employees/import"))
            .bearer_auth(token)
            .header("content-type", "text/csv")
            .body(body.to_string())
            .send()
            .await
            .unwrap()
    }

    /// Creates an employee and returns its id, asserting success.
    pub async fn employee(&self, token: &str, body: Value) -> i64 {
        let res = self.post("/api/v1/employees", Some(token), body).await;
        let status = res.status();
        let body: Value = res.json().await.unwrap();
        assert_eq!(status, 201, "{body}");
        body["id"].as_i64().unwrap()
    }

    /// Stores a team directly, as an import of many would: faster than the API.
    pub fn insert_team(&self, name: &str, parent_id: Option<i32>) -> i32 {
        pulse::repo::teams::insert(
            &mut self.conn(),
            &pulse::repo::teams::NewTeam {
                name,
                parent_id,
                lead_id: None,
                created_at: pulse::repo::now(),
            },
        )
        .unwrap()
    }

    pub async fn team(&self, token: &str, body: Value) -> i64 {
        let res = self.post("/api/v1/teams", Some(token), body).await;
        let status = res.status();
        let body: Value = res.json().await.unwrap();
        assert_eq!(status, 201, "{body}");
        body["id"].as_i64().unwrap()
    }
}

/// As `on_both_engines!`, for apps started with more settings:
/// `on_both_engines_with!([("PULSE_TRUSTED_PROXIES", "127.0.0.1")], name, …)`.
#[macro_export]
macro_rules! on_both_engines_with {
    ($vars:expr, $($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let app = $crate::helpers::spawn_app_with($crate::helpers::Engine::Sqlite, &$vars).await.unwrap();
                super::$name(app).await
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if let Some(app) = $crate::helpers::spawn_app_with($crate::helpers::Engine::Postgres, &$vars).await {
                    super::$name(app).await
                }
            })*
        }
    };
}

/// Generates one test per engine from `async fn name(app: TestApp)`.
#[macro_export]
macro_rules! on_both_engines {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let app = $crate::helpers::spawn_app($crate::helpers::Engine::Sqlite).await.unwrap();
                super::$name(app).await
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if let Some(app) = $crate::helpers::spawn_app($crate::helpers::Engine::Postgres).await {
                    super::$name(app).await
                }
            })*
        }
    };
}
