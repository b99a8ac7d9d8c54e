//! The people CSV import: any bytes give checked rows or line errors, never a panic.
#![no_main]

use chrono::Datelike;
use libfuzzer_sys::fuzz_target;
use pulse::domain::email::Email;
use pulse::domain::people::{parse_name, YEARS};
use pulse::domain::people_csv::{parse, COLUMNS, MAX_TEAM_DEPTH};
use std::collections::HashSet;

fuzz_target!(|data: &[u8]| {
    // Line numbers are what a person looks up in a spreadsheet: 1-based, and
    // never past the last line of the file, whichever line endings it has.
    let breaks = data
        .iter()
        .enumerate()
        .filter(|&(i, &b)| b == b'\n' || (b == b'\r' && data.get(i + 1) != Some(&b'\n')))
        .count();
    let last_line = breaks as u64 + 1;
    match parse(data) {
        Ok(rows) => {
            let mut emails = HashSet::new();
            let mut previous = 1; // the header
            for row in &rows {
                assert!(row.line > previous, "rows out of order: {rows:?}");
                assert!(row.line <= last_line, "line {} of {last_line}", row.line);
                previous = row.line;
                assert_eq!(Email::parse(row.email.as_str()).as_ref(), Ok(&row.email));
                assert!(emails.insert(row.email.clone()), "{} twice", row.email);
                assert_eq!(parse_name(&row.name).as_deref(), Ok(row.name.as_str()));
                if let Some(path) = &row.team_path {
                    assert!((1..=MAX_TEAM_DEPTH).contains(&path.len()), "{path:?}");
                    for part in path {
                        assert_eq!(parse_name(part).as_deref(), Ok(part.as_str()));
                    }
                }
                if let Some(manager) = &row.manager_email {
                    assert_ne!(manager, &row.email, "own manager");
                    assert_eq!(Email::parse(manager.as_str()).as_ref(), Ok(manager));
                }
                for day in [row.hired_on, row.left_on].into_iter().flatten() {
                    assert!(YEARS.contains(&day.year()), "{day}");
                }
                if let (Some(hired), Some(left)) = (row.hired_on, row.left_on) {
                    assert!(left >= hired, "left {left} before hired {hired}");
                }
                if row.leave_reason.is_some() {
                    assert!(row.left_on.is_some(), "a leave reason without left_on");
                }
            }
        }
        Err(errors) => {
            assert!(!errors.is_empty(), "refused without a reason");
            let mut previous = 1;
            for e in &errors {
                // Reported in file order, so the list reads top to bottom.
                assert!(e.line >= previous, "errors out of order: {errors:?}");
                assert!(e.line <= last_line, "line {} of {last_line}", e.line);
                previous = e.line;
                assert!(!e.message.is_empty());
                // A row's error names one of the columns, or none for the whole line.
                if e.line > 1 {
                    assert!(
                        e.column.is_empty() || COLUMNS.contains(&e.column.as_str()),
                        "{e:?}"
                    );
                }
            }
        }
    }
});
