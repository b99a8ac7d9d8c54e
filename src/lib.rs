//! Pulse: self-hosted employee pulse surveys, eNPS and 1:1s.

pub mod answering;
pub mod audit;
pub mod auth;
pub mod bench;
pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod domain;
pub mod emails;
pub mod error;
pub mod jobs;
pub mod mail;
pub mod meeting_items;
pub mod memory;
pub mod metrics;
pub mod repo;
pub mod reports;
pub mod retention;
pub mod routes;
pub mod scim;
pub mod startup;
pub mod state;
pub mod templates;
pub mod tokens;
pub mod webhooks;
