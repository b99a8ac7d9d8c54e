//! Pure domain types and rules: no I/O, valid by construction.

pub mod action_plan;
pub mod anonymity;
pub mod calendar;
pub mod client_address;
pub mod conversation;
pub mod disclosure;
pub mod driver;
pub mod email;
pub mod enps;
#[cfg(test)]
pub mod exact;
pub mod key_drivers;
pub mod library;
pub mod lifecycle;
pub mod one_on_one;
pub mod one_on_one_overview;
pub mod people;
pub mod people_csv;
pub mod report;
pub mod retention;
pub mod rotation;
pub mod schedule;
pub mod survey;
pub mod teams;
pub mod templates;
pub mod turnover;
pub mod turnover_facts;
