//! People words: roles, leave reasons, locales, names and dates as employees carry them.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// What a signed-in person may do: `admin` is HR, `lead` reads reports for the
/// teams they lead, `member` sees their own things.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Lead,
    Member,
}

impl Role {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "admin" => Ok(Self::Admin),
            "lead" => Ok(Self::Lead),
            "member" => Ok(Self::Member),
            other => Err(format!(
                "`{other}` is not a role: use admin, lead or member"
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Lead => "lead",
            Self::Member => "member",
        }
    }
}

/// Why someone left, as turnover reports split it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum LeaveReason {
    Voluntary,
    Involuntary,
    Other,
}

impl LeaveReason {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "voluntary" => Ok(Self::Voluntary),
            "involuntary" => Ok(Self::Involuntary),
            "other" => Ok(Self::Other),
            other => Err(format!(
                "`{other}` is not a leave reason: use voluntary, involuntary or other"
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Voluntary => "voluntary",
            Self::Involuntary => "involuntary",
            Self::Other => "other",
        }
    }
}

/// Languages Pulse writes emails and pages in.
pub const LOCALES: &[&str] = &["en", "fr"];

pub fn parse_locale(s: &str) -> Result<String, String> {
    let l = s.trim().to_ascii_lowercase();
    // Accept regional forms such as fr-CA or fr_FR and keep the language.
    let lang = l.split(['-', '_']).next().unwrap_or_default();
    if LOCALES.contains(&lang) {
        Ok(lang.to_string())
    } else {
        Err(format!(
            "`{}` is not a supported language: use one of {}",
            s.trim(),
            LOCALES.join(", ")
        ))
    }
}

/// A person's or team's display name: trimmed, 1–200 characters, no control characters.
pub fn parse_name(s: &str) -> Result<String, String> {
    let n = s.trim();
    if n.is_empty() {
        return Err("is required".into());
    }
    if n.chars().count() > 200 {
        return Err("is longer than 200 characters".into());
    }
    if n.chars().any(char::is_control) {
        return Err("contains control characters".into());
    }
    Ok(n.to_string())
}

/// The years a date of Pulse may fall in: anything outside is a typing
/// mistake (0000-01-01, 20266-01-01), not a hiring or a survey date.
pub const YEARS: std::ops::RangeInclusive<i32> = 1900..=2200;

/// Dates are exchanged as `YYYY-MM-DD` only: spreadsheets in other locales
/// write 03/04/2026, which is ambiguous, so it is refused with a hint.
pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    use chrono::Datelike;
    let t = s.trim();
    let date = NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .ok()
        .filter(|_| t.len() == 10)
        .ok_or_else(|| format!("`{t}` is not a date: write it as YYYY-MM-DD, e.g. 2026-03-01"))?;
    if !YEARS.contains(&date.year()) {
        return Err(format!(
            "`{t}` is out of range: dates must fall between {}-01-01 and {}-12-31",
            YEARS.start(),
            YEARS.end()
        ));
    }
    Ok(date)
}

/// Accepts the ways spreadsheets write a yes/no cell.
pub fn parse_bool(s: &str) -> Result<bool, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "y" | "1" | "oui" => Ok(true),
        "false" | "no" | "n" | "0" | "non" | "" => Ok(false),
        other => Err(format!("`{other}` is not yes/no: use true or false")),
    }
}

/// A password someone chooses: long enough to resist guessing, short enough
/// that hashing it cannot be used to exhaust the server.
pub fn check_password(p: &str) -> Result<(), String> {
    let n = p.chars().count();
    if n < 10 {
        return Err("must be at least 10 characters".into());
    }
    if n > 256 {
        return Err("must be at most 256 characters".into());
    }
    Ok(())
}

/// Whether walking up the manager chain from `from` reaches `target`: a
/// person would then be their own (indirect) manager. A chain longer than the
/// company counts as a loop too, so stored bad data cannot hang the walk.
pub fn chain_reaches(
    managers: &std::collections::HashMap<i32, Option<i32>>,
    from: Option<i32>,
    target: i32,
) -> bool {
    let mut current = from;
    let mut steps = 0;
    while let Some(id) = current {
        if id == target || steps > managers.len() {
            return true;
        }
        current = managers.get(&id).copied().flatten();
        steps += 1;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_and_reasons_round_trip() {
        for r in [Role::Admin, Role::Lead, Role::Member] {
            assert_eq!(Role::parse(r.as_str()), Ok(r));
        }
        assert_eq!(Role::parse(" Admin "), Ok(Role::Admin));
        assert!(Role::parse("boss")
            .unwrap_err()
            .contains("admin, lead or member"));
        assert_eq!(LeaveReason::parse("Voluntary"), Ok(LeaveReason::Voluntary));
        assert!(LeaveReason::parse("fired").is_err());
    }

    #[test]
    fn manager_chains_find_loops() {
        let managers = std::collections::HashMap::from([(1, None), (2, Some(1)), (3, Some(2))]);
        assert!(chain_reaches(&managers, Some(2), 2));
        // Making 3 the manager of 1 would close 1 → 3 → 2 → 1.
        assert!(chain_reaches(&managers, Some(3), 1));
        assert!(!chain_reaches(&managers, Some(1), 3));
        assert!(!chain_reaches(&managers, None, 1));
    }

    #[test]
    fn dates_are_iso_only() {
        assert_eq!(
            parse_date("2026-03-01").unwrap(),
            NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()
        );
        assert!(parse_date("03/01/2026").unwrap_err().contains("YYYY-MM-DD"));
        assert!(parse_date("2026-02-30").is_err());
        assert!(parse_date("2026-3-1").is_err());
        for far in ["0000-01-01", "1899-12-31", "2201-01-01", "9999-12-31"] {
            assert!(parse_date(far).unwrap_err().contains("1900-01-01"), "{far}");
        }
        assert!(parse_date("1900-01-01").is_ok() && parse_date("2200-12-31").is_ok());
    }

    #[test]
    fn names_locales_and_booleans() {
        assert_eq!(parse_name("  Ana  ").unwrap(), "Ana");
        assert!(parse_name(" ").is_err());
        assert!(parse_name(&"x".repeat(201)).is_err());
        assert_eq!(parse_locale("fr-CA").unwrap(), "fr");
        assert!(parse_locale("de").is_err());
        assert_eq!(parse_bool("Yes"), Ok(true));
        assert_eq!(parse_bool(""), Ok(false));
        assert!(parse_bool("maybe").is_err());
        assert!(check_password("short").is_err());
        assert!(check_password("long enough pass").is_ok());
    }
}
