//! The API test suite: every test runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL.

mod auth;
mod cli;
mod concurrency;
mod errors;
mod helpers;
mod import;
mod one_on_ones;
mod openings;
mod outbox;
mod pages;
mod people;
mod privacy;
mod rate_limits;
mod reports;
mod scheduling;
mod schema;
mod setup;
mod smtp_sink;
mod surveys;
