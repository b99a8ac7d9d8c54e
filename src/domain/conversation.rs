//! Anonymous conversations on comments: who speaks (a side, never a person), what
//! a message may hold, and when the respondent may write.

/// Who wrote a message, as far as anyone is told: a role, never a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// A team lead answering a comment in the teams they lead.
    Lead,
    /// HR (an admin).
    Hr,
    /// The person who wrote the comment, through their private link.
    Respondent,
}

/// Plain text, as for survey comments.
pub const MAX_MESSAGE_CHARS: usize = 2000;

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Lead => "lead",
            Side::Hr => "hr",
            Side::Respondent => "respondent",
        }
    }

    pub fn parse(s: &str) -> Option<Side> {
        match s {
            "lead" => Some(Side::Lead),
            "hr" => Some(Side::Hr),
            "respondent" => Some(Side::Respondent),
            _ => None,
        }
    }

    /// How the respondent sees this side.
    pub fn to_respondent(self) -> &'static str {
        match self {
            Side::Lead => "Your team lead",
            Side::Hr => "HR",
            Side::Respondent => "You",
        }
    }

    /// How leads and HR see this side: a role, never which lead or which HR person.
    pub fn to_staff(self) -> &'static str {
        match self {
            Side::Lead => "A team lead",
            Side::Hr => "HR",
            Side::Respondent => "The respondent",
        }
    }
}

/// A message body: trimmed, not empty, at most `MAX_MESSAGE_CHARS` characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageBody(String);

impl MessageBody {
    pub fn parse(raw: &str) -> Result<MessageBody, String> {
        let text = raw.trim();
        let chars = text.chars().count();
        if chars == 0 {
            return Err("write a message".into());
        }
        if chars > MAX_MESSAGE_CHARS {
            return Err(format!(
                "at most {MAX_MESSAGE_CHARS} characters (this one has {chars})"
            ));
        }
        // Control characters other than line breaks and tabs have no place in
        // plain text and could hide content from a reader.
        if text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
        {
            return Err("plain text only: remove the control characters".into());
        }
        Ok(MessageBody(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The respondent answers a thread that leads or HR opened: they cannot start one,
/// so a conversation never exists unless someone reading results asked.
pub fn respondent_may_write(sides: &[Side]) -> bool {
    sides.iter().any(|s| *s != Side::Respondent)
}

/// Days only: a respondent's message carries no finer time, so its instant cannot
/// be matched with anything else.
pub fn day_of(now: chrono::NaiveDateTime) -> chrono::NaiveDate {
    now.date()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_trimmed_and_bounded() {
        assert_eq!(MessageBody::parse("  hi \n").unwrap().as_str(), "hi");
        assert!(MessageBody::parse("   ").is_err());
        assert!(MessageBody::parse(&"é".repeat(2000)).is_ok());
        let e = MessageBody::parse(&"é".repeat(2001)).unwrap_err();
        assert!(e.contains("2001"), "{e}");
        assert!(MessageBody::parse("a\u{0}b").is_err());
        assert!(MessageBody::parse("line\nline\ttab").is_ok());
    }

    #[test]
    fn the_respondent_only_answers() {
        assert!(!respondent_may_write(&[]));
        assert!(!respondent_may_write(&[Side::Respondent]));
        assert!(respondent_may_write(&[Side::Lead]));
        assert!(respondent_may_write(&[Side::Hr, Side::Respondent]));
    }

    #[test]
    fn sides_round_trip_and_never_name_anyone() {
        for s in [Side::Lead, Side::Hr, Side::Respondent] {
            assert_eq!(Side::parse(s.as_str()), Some(s));
        }
        assert_eq!(Side::parse("admin"), None);
        assert_eq!(Side::Lead.to_respondent(), "Your team lead");
        assert_eq!(Side::Respondent.to_staff(), "The respondent");
    }
}
