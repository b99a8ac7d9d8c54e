//! Rendering templated emails: meeting emails as they are written to the
//! outbox, round emails (invitations, reminders) as they are sent.

use crate::db::DbConnection;
use crate::domain::survey::QuestionKind;
use crate::emails::RenderedEmail;
use crate::jobs::Mailing;
use crate::mail::dispatcher::Render;
use crate::mail::prepared::PreparedBody;
use crate::repo::outbox::OutboxMessage;
use crate::repo::{self, employees::Employee};
use chrono::{DateTime, Utc};
use diesel::QueryResult;
use serde_json::{json, Value};
use std::collections::HashMap;

impl Mailing {
    /// Renders `template` in the employee's language with `data`, composes the
    /// message (with `calendar` as an .ics invite when given) and enqueues it
    /// under `dedupe_key`, in the caller's transaction. False when a message
    /// with that key was written before.
    #[allow(clippy::too_many_arguments)]
    pub fn enqueue(
        &self,
        conn: &mut DbConnection,
        template: &str,
        dedupe_key: &str,
        to: &Employee,
        data: &Value,
        calendar: Option<String>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<bool> {
        let rendered = self.templates.render(template, &to.locale, data)?;
        let email = crate::mail::Email {
            to: to.email.clone(),
            to_name: Some(to.name.clone()),
            subject: rendered.subject.clone(),
            text: rendered.text,
            html: rendered.html,
            calendar,
        };
        let message_id = crate::mail::new_message_id(dedupe_key, &self.from);
        let raw =
            crate::mail::compose(&self.from, &email, &message_id).map_err(anyhow::Error::msg)?;
        Ok(repo::outbox::enqueue(
            conn,
            dedupe_key,
            &to.email,
            &rendered.subject,
            &raw,
            &message_id,
            now.naive_utc(),
        )?)
    }

    /// The host of PULSE_BASE_URL, which makes calendar UIDs unique to this Pulse.
    pub fn uid_domain(&self) -> String {
        url::Url::parse(&self.base_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_else(|| "pulse".into())
    }
}

/// Renders round emails (invitations, reminders) as the dispatcher sends
/// them, reading each round's survey and questions once per pass.
///
/// All emails of one round, template and language differ only by the
/// person's name and link: the templates are rendered once with markers in
/// their place and the parts encoded once (`MarkedEmail`), and each email
/// fills the markers in (HTML-escaped in the HTML part, as the template
/// would), which costs a few lines' encoding instead of a template run and
/// a whole message's encoding per email.
pub struct RoundEmails {
    mailing: std::sync::Arc<Mailing>,
    rounds: std::sync::Mutex<HashMap<i32, Option<std::sync::Arc<RoundFacts>>>>,
    marked: std::sync::Mutex<HashMap<(i32, String, String), std::sync::Arc<MarkedEmail>>>,
}

/// Stand-ins for the name and the token while rendering: letters and digits
/// only, so no escaping changes them.
const NAME_MARK: &str = "PulseNameMark7f3a9c";
const TOKEN_MARK: &str = "PulseTokenMark7f3a9c";

/// A round email rendered with the markers, its parts encoded but for the
/// lines that hold a marker.
struct MarkedEmail {
    subject: String,
    text: PreparedBody,
    html: PreparedBody,
}

impl MarkedEmail {
    fn new(marked: RenderedEmail) -> Self {
        let marks = [NAME_MARK, TOKEN_MARK];
        Self {
            text: PreparedBody::new(&marked.text, &marks),
            html: PreparedBody::new(&marked.html, &marks),
            subject: marked.subject,
        }
    }

    /// The subject and the encoded text and HTML parts of one person's email.
    fn fill(&self, name: &str, token: &str) -> (String, Vec<u8>, Vec<u8>) {
        let subject = self
            .subject
            .replace(NAME_MARK, &name.replace(['\r', '\n'], " "))
            .replace(TOKEN_MARK, token);
        let text = self.text.fill(&[(NAME_MARK, name), (TOKEN_MARK, token)]);
        let escaped = handlebars::html_escape(name);
        let html = self
            .html
            .fill(&[(NAME_MARK, &escaped), (TOKEN_MARK, token)]);
        (subject, text, html)
    }
}

/// What every email of one round shares.
struct RoundFacts {
    survey: repo::surveys::Survey,
    questions: Vec<repo::surveys::QuestionRow>,
    /// The round's own close: a lifecycle cohort's is not the survey's
    /// schedule's, and a late round keeps its planned one.
    closes_at: DateTime<Utc>,
}

impl RoundEmails {
    pub fn new(mailing: std::sync::Arc<Mailing>) -> Self {
        Self {
            mailing,
            rounds: Default::default(),
            marked: Default::default(),
        }
    }

    fn facts(
        &self,
        conn: &mut DbConnection,
        round_id: i32,
    ) -> QueryResult<Option<std::sync::Arc<RoundFacts>>> {
        if let Some(known) = self.rounds.lock().expect("not poisoned").get(&round_id) {
            return Ok(known.clone());
        }
        let facts = match repo::rounds::find(conn, round_id)? {
            None => None,
            Some(round) => repo::surveys::find(conn, round.survey_id)?
                .map(|survey| -> QueryResult<_> {
                    let questions =
                        repo::surveys::questions(conn, survey.id, round.question_version)?;
                    Ok(std::sync::Arc::new(RoundFacts {
                        survey,
                        questions,
                        closes_at: round.closes_at.and_utc(),
                    }))
                })
                .transpose()?,
        };
        self.rounds
            .lock()
            .expect("not poisoned")
            .insert(round_id, facts.clone());
        Ok(facts)
    }
}

impl Render for RoundEmails {
    fn render(
        &self,
        conn: &mut DbConnection,
        message: &OutboxMessage,
    ) -> QueryResult<Result<String, String>> {
        let (Some(template), Some(round_id), Some(token)) =
            (&message.template, message.round_id, &message.token)
        else {
            return Ok(Err("the email lacks its round or link".into()));
        };
        let Some(facts) = self.facts(conn, round_id)? else {
            return Ok(Err(format!("round {round_id} or its survey is gone")));
        };
        let name = message.to_name.clone().unwrap_or_default();
        let locale = message.locale.clone().unwrap_or_else(|| "en".into());
        let key = (round_id, template.clone(), locale);
        let known = self.marked.lock().expect("not poisoned").get(&key).cloned();
        let marked = match known {
            Some(m) => m,
            None => {
                let data = round_email_data(
                    &self.mailing,
                    &facts.survey,
                    &facts.questions,
                    NAME_MARK,
                    TOKEN_MARK,
                    facts.closes_at,
                );
                let marked = match self.mailing.templates.render(template, &key.2, &data) {
                    Ok(r) => std::sync::Arc::new(MarkedEmail::new(r)),
                    Err(e) => return Ok(Err(format!("cannot render `{template}`: {e:#}"))),
                };
                self.marked
                    .lock()
                    .expect("not poisoned")
                    .insert(key, marked.clone());
                marked
            }
        };
        let (subject, text, html) = marked.fill(&name, token);
        let to = crate::mail::Recipient {
            address: &message.recipient,
            name: Some(&name),
            subject: &subject,
        };
        Ok(crate::mail::compose_encoded(
            &self.mailing.from,
            &to,
            &message.message_id,
            text,
            html,
        ))
    }
}

/// What the invitation and reminder templates show: the survey, when it
/// closes, the person's link, and the eNPS scores as links when the survey
/// opens with that question.
fn round_email_data(
    mailing: &Mailing,
    survey: &repo::surveys::Survey,
    questions: &[repo::surveys::QuestionRow],
    name: &str,
    token: &str,
    closes_at: DateTime<Utc>,
) -> Value {
    let tz = survey.tz();
    let closes = closes_at.with_timezone(&tz);
    let link = format!("{}/s/{token}", mailing.base_url);
    // A survey that opens with the eNPS question lets people answer it from
    // the email: each score opens the form with that score chosen.
    let enps = questions
        .first()
        .filter(|q| q.kind == QuestionKind::Enps.as_str())
        .map(|q| {
            let scores: Vec<_> = survey
                .scale()
                .range()
                .map(|n| json!({"n": n, "link": format!("{link}?score={n}")}))
                .collect();
            json!({"prompt": q.prompt, "scores": scores})
        });
    json!({
        "name": name,
        "survey": {"title": survey.title, "intro": survey.intro},
        "closes": format!("{} ({})", closes.format("%Y-%m-%d %H:%M"), survey.timezone),
        "min_group": survey.min_group_size,
        "link": link,
        "enps": enps,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The message composed from the encoded marked email, once decoded,
    /// says exactly what rendering with the real name and token says,
    /// whatever characters the name holds.
    #[test]
    fn filled_emails_equal_emails_rendered_for_the_person() {
        let templates = crate::emails::EmailTemplates::new().unwrap();
        let data = |name: &str, token: &str| {
            let link = format!("https://pulse.example.com/s/{token}");
            json!({
                "name": name,
                "survey": {"title": "Weekly <pulse> & co", "intro": "Two \"minutes\""},
                "closes": "2026-12-12 09:00 (Europe/Paris)",
                "min_group": 5,
                "link": link,
                "enps": {"prompt": "How likely…", "scores": [
                    {"n": 1, "link": format!("{link}?score=1")},
                    {"n": 10, "link": format!("{link}?score=10")}
                ]},
            })
        };
        let token = "0123abcd".repeat(8);
        let decoded = |part: &mailparse::ParsedMail| part.get_body().unwrap().replace("\r\n", "\n");
        for template in ["invitation", "reminder"] {
            for locale in ["en", "fr", "xx"] {
                let marked = MarkedEmail::new(
                    templates
                        .render(template, locale, &data(NAME_MARK, TOKEN_MARK))
                        .unwrap(),
                );
                for name in [
                    "Zoë Ångström",
                    "O'Brien & <Sons> \"=`",
                    "",
                    &"名前".repeat(50),
                ] {
                    let direct = templates
                        .render(template, locale, &data(name, &token))
                        .unwrap();
                    let (subject, text, html) = marked.fill(name, &token);
                    let to = crate::mail::Recipient {
                        address: "zoe@example.com",
                        name: Some(name),
                        subject: &subject,
                    };
                    let raw = crate::mail::compose_encoded(
                        "Pulse <pulse@example.com>",
                        &to,
                        "<m@example.com>",
                        text,
                        html,
                    )
                    .unwrap();
                    assert!(raw.is_ascii(), "7-bit clean");
                    assert!(raw.split("\r\n").all(|l| l.len() <= 998), "{raw}");
                    let mail = mailparse::parse_mail(raw.as_bytes()).unwrap();
                    let header = |k: &str| {
                        mail.headers
                            .iter()
                            .find(|h| h.get_key() == k)
                            .unwrap()
                            .get_value()
                    };
                    assert_eq!(
                        header("Subject"),
                        direct.subject,
                        "{template} {locale} {name}"
                    );
                    let parts: Vec<_> = mail
                        .subparts
                        .iter()
                        .map(|p| p.ctype.mimetype.as_str())
                        .collect();
                    assert_eq!(parts, ["text/plain", "text/html"]);
                    assert_eq!(
                        decoded(&mail.subparts[0]),
                        direct.text,
                        "{template} {locale} {name}"
                    );
                    assert_eq!(
                        decoded(&mail.subparts[1]),
                        direct.html,
                        "{template} {locale} {name}"
                    );
                }
            }
        }
    }
}
