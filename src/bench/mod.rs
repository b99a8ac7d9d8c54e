//! `pulse bench`: measurements of Pulse against the engines and tools it runs on, side by side.

pub mod answers;
pub mod delivery;
pub mod reports;
