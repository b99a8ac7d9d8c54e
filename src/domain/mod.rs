//! Pure domain types and rules: no I/O, valid by construction.

pub mod calendar;
pub mod email;
pub mod one_on_one;
pub mod people;
pub mod people_csv;
pub mod schedule;
pub mod survey;
pub mod teams;
