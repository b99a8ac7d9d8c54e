//! The API test suite: every test runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL.

mod action_plans;
mod answering;
mod audit;
mod auth;
mod cells;
mod cli;
mod concurrency;
mod conversations;
mod drivers;
mod drivers_seed;
mod erasure;
mod errors;
mod helpers;
mod import;
mod library;
mod lifecycle;
mod meeting_edits;
mod metrics;
mod notes_page;
// Shared with tests/browser, which alone reads the provider's last callback.
#[allow(dead_code)]
mod oidc_provider;
mod one_on_one_overview;
mod one_on_ones;
mod openings;
mod outbox;
mod pages;
mod people;
mod privacy;
mod private_notes;
mod rate_limits;
mod reports;
mod retention;
mod scheduling;
mod schema;
mod scim;
mod setup;
mod smtp_sink;
mod sso;
mod surveys;
mod team_filter;
mod turnover_facts;
mod turnover_page;
mod webhooks;
