//! Email: an address parsed once at the edge and kept lower-cased.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Email(String);

impl Email {
    /// Accepts `local@domain.tld` with no spaces or angle brackets. Lower-cases
    /// the whole address: mail systems treat the local part case-insensitively
    /// in practice, and two spellings of one address must be one person.
    ///
    /// Characters that show nothing (a byte-order mark, zero-width spaces and
    /// joiners, direction marks) are dropped wherever they are, and spaces
    /// around the address trimmed: pasted from a spreadsheet or a chat, they
    /// would otherwise make a second account that looks like the first.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let visible: String = raw.chars().filter(|c| !is_invisible(*c)).collect();
        let s = visible.trim();
        if s.is_empty() {
            return Err("is required".into());
        }
        // The limits hold for what is stored: lower-casing can lengthen a
        // character (`İ` takes 2 bytes, `i̇` 3), and a stored address must
        // parse again.
        let lower = s.to_lowercase();
        if lower.len() > 254 {
            return Err("is longer than 254 characters".into());
        }
        let Some((local, domain)) = lower.rsplit_once('@') else {
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
        Ok(Self(lower))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Format characters with no glyph of their own (Unicode category Cf and the
/// fillers that render blank), as found in pasted text.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
        | '\u{FFA0}' | '\u{FFF0}'..='\u{FFFB}' | '\u{E0000}'..='\u{E007F}')
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
    fn drops_invisible_characters_and_surrounding_space() {
        for pasted in [
            "\u{FEFF}ana@example.com",
            "ana@example.com\u{200B}",
            " \u{00A0}ana@example.com\t",
            "an\u{200D}a@exam\u{2060}ple.com",
            "\u{202E}ana@example.com\u{202C}",
            "ana\u{00AD}@example.com",
        ] {
            assert_eq!(
                Email::parse(pasted).unwrap().as_str(),
                "ana@example.com",
                "{pasted:?}"
            );
        }
        assert!(Email::parse("\u{FEFF}\u{200B}").is_err());
    }

    #[test]
    fn what_is_stored_parses_again() {
        // Found by fuzzing: 32 × `İ` is a 64-byte local part, lower-cased to 96.
        let local = "İ".repeat(32);
        assert!(Email::parse(&format!("{local}@example.com")).is_err());
        let stored = Email::parse("İstanbul@Example.com").unwrap();
        assert_eq!(Email::parse(stored.as_str()), Ok(stored));
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
