//! The email-address and team-path parsers: total, and what they accept parses back to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pulse::domain::email::Email;
use pulse::domain::people::parse_name;
use pulse::domain::people_csv::{team_path, MAX_TEAM_DEPTH};

fuzz_target!(|data: &[u8]| {
    let Some((&at, rest)) = data.split_first() else {
        return;
    };
    let raw = String::from_utf8_lossy(rest);
    check_email(&raw, usize::from(at));
    check_team_path(&raw);
});

fn check_email(raw: &str, at: usize) {
    let parsed = Email::parse(raw);
    if let Ok(email) = &parsed {
        let s = email.as_str();
        // Stored as parsed: reading it back (from the database, a CSV export,
        // its Display) must give the same person.
        assert_eq!(Email::parse(s).as_ref(), Ok(email), "{raw:?} → {s:?}");
        assert_eq!(email.to_string(), s);
        assert_eq!(s.to_lowercase(), s, "not lower-cased");
        assert_eq!(s.trim(), s);
        assert!(s.len() <= 254, "{} bytes", s.len());
        let (local, domain) = s.rsplit_once('@').expect("an @");
        assert!(!local.is_empty() && local.len() <= 64, "local part {local:?}");
        assert!(domain.contains('.') && !domain.contains(".."), "{domain:?}");
        assert!(!s.chars().any(|c| c.is_whitespace() || c.is_control()));
    }
    // Spaces around it and invisible characters anywhere change nothing.
    assert_eq!(Email::parse(&format!(" {raw}\t")), parsed);
    let mut cut = at % (raw.len() + 1);
    while !raw.is_char_boundary(cut) {
        cut -= 1;
    }
    let pasted = format!("{}\u{200B}{}", &raw[..cut], &raw[cut..]);
    assert_eq!(Email::parse(&pasted), parsed, "{pasted:?}");
}

fn check_team_path(raw: &str) {
    let levels = raw.split('/').count();
    match team_path(raw) {
        Ok(path) => {
            assert!((1..=MAX_TEAM_DEPTH).contains(&path.len()), "{path:?}");
            assert_eq!(path.len(), levels);
            for (part, typed) in path.iter().zip(raw.split('/')) {
                assert_eq!(parse_name(typed).as_ref(), Ok(part));
                assert!(!part.contains('/'));
            }
            // The canonical spelling is a fixed point.
            assert_eq!(team_path(&path.join("/")).as_ref(), Ok(&path));
        }
        Err(message) => {
            assert!(!message.is_empty());
            if levels > MAX_TEAM_DEPTH {
                assert!(message.contains("at most"), "{message}");
            }
        }
    }
}
