//! Application::build: database, secrets, templates and the HTTP server, ready to run.

use crate::auth::jwt::JwtKeys;
use crate::config::Settings;
use crate::db::{self, Pool};
use crate::repo::settings::SETUP_TOKEN_KEY;
use crate::state::AppState;
use crate::tokens::{random_token, sha256_hex};
use crate::{repo, routes, templates};
use actix_web::dev::Server;
use actix_web::{web, App, HttpServer};
use std::net::TcpListener;

pub struct Application {
    port: u16,
    server: Server,
    /// The one-time link that creates the first admin, while there is none.
    pub setup_url: Option<String>,
    pub state: web::Data<AppState>,
}

/// Opens the pool and applies pending migrations.
pub fn prepare_database(settings: &Settings) -> Result<Pool, String> {
    migrated(db::connect(&settings.database_url, 10)?, settings)
}

/// As `prepare_database`, for the server: WAL checkpoints are left to its `Checkpointer`.
fn prepare_server_database(settings: &Settings) -> Result<Pool, String> {
    let manager = db::Manager::new(settings.database_url.clone()).without_autocheckpoint();
    migrated(db::connect_with(manager, 10)?, settings)
}

fn migrated(pool: Pool, settings: &Settings) -> Result<Pool, String> {
    let mut conn = pool
        .get()
        .map_err(|e| format!("cannot open the database: {e}"))?;
    let ran = db::migrate(&mut conn)?;
    crate::repo::library::seed(&mut conn, chrono::Utc::now().naive_utc())
        .map_err(|e| format!("cannot seed the question library: {e}"))?;
    if ran > 0 {
        tracing::info!(
            migrations = ran,
            engine = settings.database_url.engine(),
            "database migrated"
        );
    }
    Ok(pool)
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(&settings.bind)
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", settings.bind))?;
        Self::build_with_listener(settings, listener).await
    }

    /// For tests: they bind port 0 first so the base URL can name the port.
    pub async fn build_with_listener(
        settings: Settings,
        listener: TcpListener,
    ) -> anyhow::Result<Self> {
        let pool = {
            let settings = settings.clone();
            web::block(move || prepare_server_database(&settings))
                .await?
                .map_err(anyhow::Error::msg)?
        };
        let (secret, setup_url) = {
            let pool = pool.clone();
            let settings = settings.clone();
            web::block(move || -> anyhow::Result<_> {
                let mut conn = pool.get()?;
                let secret = match &settings.secret {
                    Some(s) => s.clone(),
                    None => repo::settings::get_or_insert(&mut conn, "jwt_secret", random_token)?,
                };
                let setup_url = if repo::employees::admin_exists(&mut conn)? {
                    None
                } else {
                    // A fresh token each start: only the link printed last works.
                    let token = random_token();
                    repo::settings::put(&mut conn, SETUP_TOKEN_KEY, &sha256_hex(&token))?;
                    Some(format!("{}/setup?token={token}", settings.base()))
                };
                Ok((secret, setup_url))
            })
            .await??
        };
        let metrics = std::sync::Arc::new(crate::metrics::Metrics::new());
        let answers = crate::answering::Writer::start(
            db::Manager::new(settings.database_url.clone()).without_autocheckpoint(),
            metrics.clone(),
        )?;
        let state = web::Data::new(AppState {
            pool,
            answers,
            metrics,
            checkpointer: db::Checkpointer::start(&settings.database_url),
            oidc: settings
                .oidc
                .clone()
                .map(|o| std::sync::Arc::new(crate::auth::oidc::Oidc::new(o))),
            jwt: JwtKeys::new(secret.as_bytes()),
            templates: templates::registry()?,
            engine: settings.database_url.engine(),
            mailing: std::sync::Arc::new(crate::jobs::Mailing::new(&settings)?),
            settings: settings.clone(),
        });
        let port = listener.local_addr()?.port();
        let shared = state.clone();
        let server = HttpServer::new(move || {
            App::new()
                .wrap(actix_web::middleware::from_fn(routes::nul::refuse_nul))
                .wrap(actix_web::middleware::from_fn(routes::explain_405))
                .wrap_fn(routes::catch_panics)
                .wrap(routes::access_log())
                .wrap(actix_web::middleware::from_fn(routes::metrics::track))
                .configure(|cfg| routes::configure(cfg, state.clone()))
                .default_service(web::to(routes::not_found))
        })
        .listen(listener)?
        .run();
        Ok(Self {
            port,
            server,
            setup_url,
            state: shared,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
