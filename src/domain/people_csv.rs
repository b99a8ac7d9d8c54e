//! Reading an employee spreadsheet (CSV) into checked rows, or every bad line at once.

use crate::domain::email::Email;
use crate::domain::people::{parse_bool, parse_date, parse_name, LeaveReason, Role};
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::HashMap;

pub const COLUMNS: &[&str] = &[
    "email",
    "name",
    "team",
    "manager_email",
    "role",
    "hired_on",
    "left_on",
    "leave_reason",
    "regretted",
];

/// One bad cell or line of the file, as a person would find it in a spreadsheet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LineError {
    /// 1-based line in the file; the header is line 1.
    pub line: u64,
    /// Column name, or empty when the whole line is wrong.
    pub column: String,
    pub message: String,
}

impl LineError {
    pub fn new(line: u64, column: &str, message: impl Into<String>) -> Self {
        Self {
            line,
            column: column.into(),
            message: message.into(),
        }
    }
}

/// A checked row. An empty or absent optional cell is `None` and leaves what
/// is stored unchanged, so a partial spreadsheet never wipes data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    pub line: u64,
    pub email: Email,
    pub name: String,
    /// `Engineering/Platform` → ["Engineering", "Platform"].
    pub team_path: Option<Vec<String>>,
    pub manager_email: Option<Email>,
    pub role: Option<Role>,
    pub hired_on: Option<NaiveDate>,
    pub left_on: Option<NaiveDate>,
    pub leave_reason: Option<LeaveReason>,
    pub regretted: Option<bool>,
}

/// Spreadsheets in comma-decimal locales export with `;`: pick whichever the
/// header line uses more.
fn separator(text: &str) -> u8 {
    let header = text.lines().next().unwrap_or_default();
    if header.matches(';').count() > header.matches(',').count() {
        b';'
    } else {
        b','
    }
}

/// How deep a team path may go: deeper is a broken file, not an org chart.
pub const MAX_TEAM_DEPTH: usize = 16;

/// The longest cell of each column, in characters: longer is not a value a
/// person typed, and refusing it first keeps the work on a line small.
pub fn max_cell_chars(column: &str) -> usize {
    match column {
        "email" | "manager_email" => 320,
        "team" => 1000,
        _ => 200,
    }
}

/// `Engineering/Platform` → ["Engineering", "Platform"]: at most
/// `MAX_TEAM_DEPTH` levels, each a valid name.
pub fn team_path(raw: &str) -> Result<Vec<String>, String> {
    let depth = raw.split('/').count();
    if depth > MAX_TEAM_DEPTH {
        return Err(format!(
            "has {depth} levels: a team path may have at most {MAX_TEAM_DEPTH}"
        ));
    }
    raw.split('/')
        .map(|part| {
            parse_name(part).map_err(|e| match e.as_str() {
                "is required" => format!("`{raw}` has an empty part: write teams as Parent/Child"),
                _ => format!("`{}` {e}", part.trim()),
            })
        })
        .collect()
}

/// The value of a cell that parsed, or its error noted for the report.
fn keep<T>(
    errors: &mut Vec<LineError>,
    line: u64,
    column: &str,
    parsed: Result<T, String>,
) -> Option<T> {
    parsed
        .map_err(|m| errors.push(LineError::new(line, column, m)))
        .ok()
}

/// The file with every line ending as LF. Excel on Windows ends lines with
/// CRLF and old Mac exports with a lone CR, but the CSV reader counts lines by
/// LF: it put each error of a CRLF file one line early, and all of a CR file
/// on line 1. A CR inside a quoted cell becomes LF too; no column takes either.
fn lf_line_endings(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut rest = bytes.iter().peekable();
    while let Some(&b) = rest.next() {
        if b == b'\r' {
            rest.next_if_eq(&&b'\n');
            out.push(b'\n');
        } else {
            out.push(b);
        }
    }
    out
}

/// Parses the whole file; returns every row, or every problem found.
pub fn parse(bytes: &[u8]) -> Result<Vec<ImportRow>, Vec<LineError>> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let bytes = &lf_line_endings(bytes)[..];
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64
            + 1;
        vec![LineError::new(
            line,
            "",
            "the file is not UTF-8 text: save it as \"CSV UTF-8\" and upload again",
        )]
    })?;
    if text.trim().is_empty() {
        return Err(vec![LineError::new(
            1,
            "",
            "the file is empty: the first line must name the columns, e.g. email,name,team",
        )]);
    }
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(separator(text))
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());

    let headers = reader
        .headers()
        .map_err(|e| {
            vec![LineError::new(
                1,
                "",
                format!("cannot read the header line: {e}"),
            )]
        })?
        .clone();
    let mut errors = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (i, h) in headers.iter().enumerate() {
        let name = h.trim().to_ascii_lowercase();
        match COLUMNS.iter().find(|c| **c == name) {
            Some(c) if index.contains_key(c) => {
                errors.push(LineError::new(1, c, "this column appears twice"))
            }
            Some(c) => {
                index.insert(c, i);
            }
            None => errors.push(LineError::new(
                1,
                h,
                format!(
                    "unknown column `{h}`: the columns are {}",
                    COLUMNS.join(", ")
                ),
            )),
        }
    }
    for required in ["email", "name"] {
        if !index.contains_key(required) {
            errors.push(LineError::new(
                1,
                required,
                format!("the header has no `{required}` column"),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }

    let mut rows = Vec::new();
    let mut seen: HashMap<Email, u64> = HashMap::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                errors.push(LineError::new(
                    line,
                    "",
                    format!("cannot read this line: {e}"),
                ));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        if record.iter().all(str::is_empty) {
            continue; // spreadsheets often end with blank lines
        }
        if record.len() > headers.len() {
            errors.push(LineError::new(
                line,
                "",
                format!(
                    "this line has {} cells but the header has {} columns",
                    record.len(),
                    headers.len()
                ),
            ));
            continue;
        }
        let mut row_errors = Vec::new();
        let mut too_long = Vec::new();
        for col in COLUMNS {
            let Some(&i) = index.get(col) else {
                continue;
            };
            let limit = max_cell_chars(col);
            if record
                .get(i)
                .is_some_and(|v| v.chars().nth(limit).is_some())
            {
                too_long.push(*col);
                row_errors.push(LineError::new(
                    line,
                    col,
                    format!("is longer than {limit} characters"),
                ));
            }
        }
        // A cell already refused for its length is not parsed as well.
        let cell = |col: &str| {
            index
                .get(col)
                .and_then(|&i| record.get(i))
                .filter(|v| !v.is_empty() && !too_long.contains(&col))
        };
        let email = match cell("email") {
            None if too_long.contains(&"email") => None,
            v => keep(
                &mut row_errors,
                line,
                "email",
                Email::parse(v.unwrap_or_default()),
            ),
        };
        let name = match cell("name") {
            None if too_long.contains(&"name") => None,
            v => keep(
                &mut row_errors,
                line,
                "name",
                parse_name(v.unwrap_or_default()),
            ),
        };
        let team_path =
            cell("team").and_then(|v| keep(&mut row_errors, line, "team", team_path(v)));
        let manager_email = cell("manager_email")
            .and_then(|v| keep(&mut row_errors, line, "manager_email", Email::parse(v)));
        let role = cell("role").and_then(|v| keep(&mut row_errors, line, "role", Role::parse(v)));
        let hired_on =
            cell("hired_on").and_then(|v| keep(&mut row_errors, line, "hired_on", parse_date(v)));
        let left_on =
            cell("left_on").and_then(|v| keep(&mut row_errors, line, "left_on", parse_date(v)));
        let leave_reason = cell("leave_reason")
            .and_then(|v| keep(&mut row_errors, line, "leave_reason", LeaveReason::parse(v)));
        let regretted =
            cell("regretted").and_then(|v| keep(&mut row_errors, line, "regretted", parse_bool(v)));

        if let (Some(h), Some(l)) = (hired_on, left_on) {
            if l < h {
                row_errors.push(LineError::new(
                    line,
                    "left_on",
                    format!("{l} is before hired_on {h}"),
                ));
            }
        }
        if leave_reason.is_some() && left_on.is_none() && cell("left_on").is_none() {
            row_errors.push(LineError::new(
                line,
                "leave_reason",
                "a leave reason needs a left_on date",
            ));
        }
        if let (Some(e), Some(m)) = (&email, &manager_email) {
            if e == m {
                row_errors.push(LineError::new(
                    line,
                    "manager_email",
                    "a person cannot be their own manager",
                ));
            }
        }
        if let Some(e) = &email {
            if let Some(first) = seen.insert(e.clone(), line) {
                row_errors.push(LineError::new(
                    line,
                    "email",
                    format!("{e} is already on line {first}"),
                ));
            }
        }
        if !row_errors.is_empty() {
            errors.append(&mut row_errors);
            continue;
        }
        if let (Some(email), Some(name)) = (email, name) {
            rows.push(ImportRow {
                line,
                email,
                name,
                team_path,
                manager_email,
                role,
                hired_on,
                left_on,
                leave_reason,
                regretted,
            });
        }
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_semicolons_bom_quotes_and_any_column_order() {
        let file = "\u{FEFF}name;email;team;hired_on\n\"Lima; Ana\";ANA@example.com;Engineering/Platform;2024-01-15\n\n";
        let rows = parse(file.as_bytes()).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].name, "Lima; Ana");
        assert_eq!(rows[0].email.as_str(), "ana@example.com");
        assert_eq!(
            rows[0].team_path,
            Some(vec!["Engineering".into(), "Platform".into()])
        );
        assert_eq!(rows[0].line, 2);
    }

    #[test]
    fn reports_every_bad_line_with_its_column() {
        let file = "email,name,role,hired_on,left_on\n\
                    ana@example.com,Ana,boss,2024-01-01,\n\
                    not-an-email,,member,01/02/2024,\n\
                    bo@example.com,Bo,member,2024-05-01,2024-04-01\n\
                    ANA@example.com,Ana again,,,\n";
        let errors = parse(file.as_bytes()).unwrap_err();
        let found: Vec<(u64, &str)> = errors.iter().map(|e| (e.line, e.column.as_str())).collect();
        assert_eq!(
            found,
            vec![
                (2, "role"),
                (3, "email"),
                (3, "name"),
                (3, "hired_on"),
                (4, "left_on"),
                (5, "email")
            ]
        );
        assert!(errors[5].message.contains("line 2"));
    }

    #[test]
    fn header_problems_stop_before_rows() {
        let errors = parse(b"mail,name,colour\nx,y,z\n").unwrap_err();
        assert!(errors
            .iter()
            .any(|e| e.column == "mail" && e.message.contains("unknown column")));
        assert!(errors
            .iter()
            .any(|e| e.column == "email" && e.message.contains("no `email`")));
        assert!(parse(b"").unwrap_err()[0].message.contains("empty"));
        assert!(parse(b"email,name\n\xff\xfe,x\n").unwrap_err()[0]
            .message
            .contains("UTF-8"));
    }

    #[test]
    fn refuses_deep_team_paths_and_long_cells_on_their_line() {
        let deep = vec!["T"; 262_144].join("/");
        let file = format!(
            "email,name,team\na@example.com,A,{}\nb@example.com,B,{deep}\nc@example.com,{},X\n{}@example.com,D,X\n",
            vec!["T"; 16].join("/"),
            "n".repeat(201),
            "e".repeat(320),
        );
        let errors = parse(file.as_bytes()).unwrap_err();
        let found: Vec<(u64, &str)> = errors.iter().map(|e| (e.line, e.column.as_str())).collect();
        assert_eq!(found, vec![(3, "team"), (4, "name"), (5, "email")]);
        assert!(errors.iter().all(|e| e.message.contains("longer than")));
        let seventeen = format!(
            "email,name,team\na@example.com,A,{}\n",
            vec!["T"; 17].join("/")
        );
        let errors = parse(seventeen.as_bytes()).unwrap_err();
        assert_eq!((errors[0].line, errors[0].column.as_str()), (2, "team"));
        assert!(
            errors[0].message.contains("at most 16"),
            "{}",
            errors[0].message
        );
        assert_eq!(team_path(&vec!["T"; 16].join("/")).unwrap().len(), 16);
    }

    #[test]
    fn counts_lines_the_same_with_crlf_lf_or_cr_endings() {
        // Found by fuzzing: with CRLF every row was reported one line early.
        for end in ["\r\n", "\n", "\r"] {
            let file = ["email,name", "ana@example.com,Ana", "bo@example.com,", ""].join(end);
            let errors = parse(file.as_bytes()).unwrap_err();
            assert_eq!(
                (errors[0].line, errors[0].column.as_str()),
                (3, "name"),
                "{end:?}"
            );
            let file = ["name;email", "Ana;ana@example.com", "Bo;bo@example.com"].join(end);
            let lines: Vec<u64> = parse(file.as_bytes())
                .unwrap()
                .iter()
                .map(|r| r.line)
                .collect();
            assert_eq!(lines, vec![2, 3], "{end:?}");
        }
    }

    #[test]
    fn rejects_too_many_cells_and_bad_team_paths() {
        let errors =
            parse(b"email,name,team\na@example.com,A,Eng,extra\nb@example.com,B,Eng//Web\n")
                .unwrap_err();
        assert_eq!(errors[0].line, 2);
        assert!(errors[0].message.contains("3 columns"));
        assert_eq!((errors[1].line, errors[1].column.as_str()), (3, "team"));
    }
}
