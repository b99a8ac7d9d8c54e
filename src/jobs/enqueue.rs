//! Rendering a templated email for one employee and writing it to the outbox.

use crate::db::DbConnection;
use crate::jobs::Mailing;
use crate::repo::{self, employees::Employee};
use chrono::{DateTime, Utc};
use serde_json::Value;

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
