//! Email: an address parsed once at the edge and kept lower-cased.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Email(String);

impl Email {
    /// Accepts `local@domain.tld` with no spaces or angle brackets. Lower-cases
    /// the whole address: mail systems treat the local part case-insensitively
    /// in practice, and two spellings of one address must be one person.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let s = raw.trim();
        if s.is_empty() {
            return Err("is required".into());
        }
        if s.len() > 254 {
            return Err("is longer than 254 characters".into());
        }
        let Some((local, domain)) = s.rsplit_once('@') else {
            return Err(format!("`{s}` is not an email address (no @)"));
        };
        let bad = |c: char| c.is_whitespace() || c.is_control() || "<>()[],;:\\\"@".contains(c);
        if local.is_empty() || local.len() > 64 || local.chars().any(bad) {
            return Err(format!("`{s}` is not a valid email address"));
        }
        if domain.is_empty()
            || !domain.contains('.')
            || domain.starts_with(['.', '-'])
            || domain.ends_with(['.', '-'])
            || domain.contains("..")
            || domain.chars().any(|c| bad(c) || c == '_')
        {
            return Err(format!("`{s}` has no valid domain after the @"));
        }
        Ok(Self(s.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::Email;

    #[test]
    fn accepts_and_lowercases_ordinary_addresses() {
        assert_eq!(
            Email::parse(" Ana.Lima@Example.COM ").unwrap().as_str(),
            "ana.lima@example.com"
        );
        assert!(Email::parse("a+tag@sub.example.co.uk").is_ok());
    }

    #[test]
    fn rejects_what_is_not_an_address() {
        for bad in [
            "",
            "ana",
            "ana@",
            "@example.com",
            "ana@example",
            "a b@example.com",
            "ana@exa mple.com",
            "<ana@example.com>",
            "ana@.example.com",
            "ana@example..com",
            "ana@example.com.",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad} accepted");
        }
    }
}
