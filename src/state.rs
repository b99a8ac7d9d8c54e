//! What every request handler shares: the pool, settings, keys, templates and mailing.

use crate::auth::jwt::JwtKeys;
use crate::config::Settings;
use crate::db::{DbConnection, Pool};
use crate::error::{AppError, AppResult};
use actix_web::web;
use handlebars::Handlebars;

/// Shared by every request handler.
pub struct AppState {
    pub pool: Pool,
    pub settings: Settings,
    pub jwt: JwtKeys,
    pub templates: Handlebars<'static>,
    pub engine: &'static str,
    pub mailing: std::sync::Arc<crate::jobs::Mailing>,
    /// Where answers go: one writer that commits them in batches.
    pub answers: crate::answering::Writer,
    /// What `GET /metrics` reports of this process.
    pub metrics: std::sync::Arc<crate::metrics::Metrics>,
    /// SQLite: copies the WAL back into the database outside requests.
    pub checkpointer: crate::db::Checkpointer,
    /// The OpenID provider, when single sign-on is configured.
    pub oidc: Option<std::sync::Arc<crate::auth::oidc::Oidc>>,
}

impl AppState {
    /// Runs blocking database work on the blocking pool, checking a connection
    /// out inside it so async workers never wait on the pool.
    pub async fn db<T, F>(&self, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> AppResult<T> + Send + 'static,
        AppError: From<diesel::result::Error>,
    {
        let pool = self.pool.clone();
        web::block(move || {
            let mut conn = pool.get()?;
            f(&mut conn)
        })
        .await?
    }
}
