//! Pure domain types and rules: no I/O, valid by construction.

pub mod email;
pub mod people;
pub mod people_csv;
pub mod schedule;
pub mod survey;
pub mod teams;
