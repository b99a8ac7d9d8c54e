//! Pulse: self-hosted employee pulse surveys, eNPS and 1:1s.

pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod mail;
pub mod repo;
pub mod routes;
pub mod startup;
pub mod templates;
