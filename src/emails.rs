//! What Pulse's emails say: handlebars templates per email, strings per language.

use anyhow::Context;
use handlebars::Handlebars;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// `(name, subject, text, html)` for each email.
const EMAILS: &[(&str, &str, &str, &str)] = &[
    (
        "invitation",
        include_str!("../templates/email/invitation/subject.hbs"),
        include_str!("../templates/email/invitation/text.hbs"),
        include_str!("../templates/email/invitation/html.hbs"),
    ),
    (
        "reminder",
        include_str!("../templates/email/reminder/subject.hbs"),
        include_str!("../templates/email/reminder/text.hbs"),
        include_str!("../templates/email/reminder/html.hbs"),
    ),
    (
        "meeting_reminder",
        include_str!("../templates/email/meeting_reminder/subject.hbs"),
        include_str!("../templates/email/meeting_reminder/text.hbs"),
        include_str!("../templates/email/meeting_reminder/html.hbs"),
    ),
    (
        "meeting_cancelled",
        include_str!("../templates/email/meeting_cancelled/subject.hbs"),
        include_str!("../templates/email/meeting_cancelled/text.hbs"),
        include_str!("../templates/email/meeting_cancelled/html.hbs"),
    ),
    (
        "password_changed",
        include_str!("../templates/email/password_changed/subject.hbs"),
        include_str!("../templates/email/password_changed/text.hbs"),
        include_str!("../templates/email/password_changed/html.hbs"),
    ),
    (
        "email_changed",
        include_str!("../templates/email/email_changed/subject.hbs"),
        include_str!("../templates/email/email_changed/text.hbs"),
        include_str!("../templates/email/email_changed/html.hbs"),
    ),
    (
        "account_invitation",
        include_str!("../templates/email/account_invitation/subject.hbs"),
        include_str!("../templates/email/account_invitation/text.hbs"),
        include_str!("../templates/email/account_invitation/html.hbs"),
    ),
    (
        "onboarding",
        include_str!("../templates/email/onboarding/subject.hbs"),
        include_str!("../templates/email/onboarding/text.hbs"),
        include_str!("../templates/email/onboarding/html.hbs"),
    ),
    (
        "exit",
        include_str!("../templates/email/exit/subject.hbs"),
        include_str!("../templates/email/exit/text.hbs"),
        include_str!("../templates/email/exit/html.hbs"),
    ),
    (
        "digest",
        include_str!("../templates/email/digest/subject.hbs"),
        include_str!("../templates/email/digest/text.hbs"),
        include_str!("../templates/email/digest/html.hbs"),
    ),
];

/// A new language is one more JSON file of strings, listed here.
const LOCALES: &[(&str, &str)] = &[
    ("en", include_str!("../templates/email/locales/en.json")),
    ("fr", include_str!("../templates/email/locales/fr.json")),
];

pub struct RenderedEmail {
    pub subject: String,
    pub text: String,
    pub html: String,
}

pub struct EmailTemplates {
    /// Subject and plain text: nothing is HTML-escaped there.
    plain: Handlebars<'static>,
    html: Handlebars<'static>,
    strings: HashMap<&'static str, Map<String, Value>>,
}

impl EmailTemplates {
    pub fn new() -> anyhow::Result<Self> {
        let mut plain = Handlebars::new();
        plain.register_escape_fn(handlebars::no_escape);
        plain.set_strict_mode(true);
        let mut html = Handlebars::new();
        html.set_strict_mode(true);
        for (name, subject, text, body) in EMAILS {
            plain.register_template_string(&format!("{name}/subject"), *subject)?;
            plain.register_template_string(&format!("{name}/text"), *text)?;
            html.register_template_string(&format!("{name}/html"), *body)?;
        }
        let mut strings = HashMap::new();
        for (lang, json) in LOCALES {
            let map: Map<String, Value> = serde_json::from_str(json)
                .with_context(|| format!("templates/email/locales/{lang}.json"))?;
            strings.insert(*lang, map);
        }
        Ok(Self {
            plain,
            html,
            strings,
        })
    }

    /// Renders email `name` in `locale` (English when the language is unknown).
    /// The language's strings may use the same data as the templates.
    pub fn render(&self, name: &str, locale: &str, data: &Value) -> anyhow::Result<RenderedEmail> {
        let strings = self
            .strings
            .get(locale)
            .or_else(|| self.strings.get("en"))
            .context("no English strings")?;
        let mut t = Map::new();
        for (key, value) in strings {
            let s = value.as_str().unwrap_or_default();
            // The file holds every email's strings; one that needs data this
            // email lacks is left out, and a template using it still fails.
            if let Ok(rendered) = self.plain.render_template(s, data) {
                t.insert(key.clone(), Value::String(rendered));
            }
        }
        let mut data = data.clone();
        if let Value::Object(m) = &mut data {
            m.insert("t".into(), Value::Object(t));
        }
        Ok(RenderedEmail {
            subject: self
                .plain
                .render(&format!("{name}/subject"), &data)?
                .trim()
                .replace(['\r', '\n'], " "),
            text: self.plain.render(&format!("{name}/text"), &data)?,
            html: self.html.render(&format!("{name}/html"), &data)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn data() -> Value {
        json!({
            "name": "Zoé & Co",
            "survey": {"title": "Weekly <pulse>", "intro": null},
            "closes": "2026-12-12 09:00 Europe/Paris",
            "min_group": 5,
            "link": "https://pulse.example.com/s/abc",
            "enps": {"prompt": "How likely…", "low": "0", "high": "10",
                     "scores": [{"n": 1, "link": "https://pulse.example.com/s/abc?score=1"}]},
        })
    }

    #[test]
    fn renders_every_email_in_every_language() {
        let t = EmailTemplates::new().unwrap();
        for (name, ..) in EMAILS
            .iter()
            .filter(|(n, ..)| matches!(*n, "invitation" | "reminder"))
        {
            for (lang, _) in LOCALES {
                let e = t.render(name, lang, &data()).unwrap();
                assert!(e.subject.contains("Weekly <pulse>"), "{}", e.subject);
                assert!(
                    e.text.contains("Zoé & Co")
                        && e.text.contains("https://pulse.example.com/s/abc?score=1")
                );
                assert!(e.html.contains("Zoé &amp; Co") && e.html.contains("Weekly &lt;pulse&gt;"));
            }
        }
        let fr = t.render("invitation", "fr", &data()).unwrap();
        assert!(fr.subject.starts_with("Votre avis compte"));
        let unknown = t.render("invitation", "de", &data()).unwrap();
        assert!(unknown.subject.starts_with("Your voice counts"));
    }

    #[test]
    fn change_notices_render_in_every_language() {
        let t = EmailTemplates::new().unwrap();
        let data = json!({"name": "Zoé & Co", "admin": "Hana <HR>", "at": "2026-12-06 10:00 UTC",
                          "old_email": "zoe@old.example", "new_email": "zoe@new.example"});
        for (lang, _) in LOCALES {
            let p = t.render("password_changed", lang, &data).unwrap();
            assert!(
                p.text.contains("Zoé & Co") && p.text.contains("Hana <HR>"),
                "{}",
                p.text
            );
            assert!(p.html.contains("Hana &lt;HR&gt;"), "{}", p.html);
            let e = t.render("email_changed", lang, &data).unwrap();
            assert!(e.text.contains("zoe@old.example") && e.text.contains("zoe@new.example"));
            assert!(!e.subject.is_empty() && !p.subject.is_empty());
        }
    }

    fn meeting(update: bool) -> Value {
        json!({
            "name": "Rémi <Report>",
            "other": "Mia & Manager",
            "when": "2035-12-04 10:00 (Europe/Paris)",
            "duration": 30,
            "link": "https://pulse.example.com/meetings/7",
            "update": update,
            "agenda": [{"text": "Career <plans>", "author": "Mia & Manager", "done": false}],
            "actions": [{"text": "Book the course", "owner": "Rémi <Report>", "due_on": "2035-12-10"},
                        {"text": "Read the RFC", "owner": "Mia & Manager", "due_on": null}],
        })
    }

    #[test]
    fn renders_meeting_emails_in_both_languages() {
        let t = EmailTemplates::new().unwrap();
        for lang in ["en", "fr"] {
            let e = t.render("meeting_reminder", lang, &meeting(false)).unwrap();
            assert!(e.subject.contains("Mia & Manager"), "{}", e.subject);
            assert!(e.text.contains("Career <plans>") && e.text.contains("Book the course"));
            assert!(e.text.contains("2035-12-10") && e.text.contains("/meetings/7"));
            assert!(e.html.contains("Career &lt;plans&gt;"), "{}", e.html);
            let c = t.render("meeting_cancelled", lang, &meeting(true)).unwrap();
            assert!(c.text.contains("2035-12-04 10:00"), "{}", c.text);
        }
        let en = t.render("meeting_reminder", "en", &meeting(false)).unwrap();
        assert!(
            en.subject.starts_with("1:1 with Mia & Manager"),
            "{}",
            en.subject
        );
        let moved = t.render("meeting_reminder", "en", &meeting(true)).unwrap();
        assert!(moved.subject.starts_with("Updated:"), "{}", moved.subject);
        let fr = t.render("meeting_reminder", "fr", &meeting(false)).unwrap();
        assert!(fr.subject.starts_with("Tête-à-tête avec"), "{}", fr.subject);
        let invite = json!({"name": "Rémi", "link": "https://pulse.example.com/account/setup?token=ab", "expires": "2035-12-11"});
        let fr = t.render("account_invitation", "fr", &invite).unwrap();
        assert!(
            fr.text.contains("token=ab") && fr.text.contains("2035-12-11"),
            "{}",
            fr.text
        );
        assert!(t
            .render("account_invitation", "en", &invite)
            .unwrap()
            .subject
            .contains("Pulse"));
    }
}
