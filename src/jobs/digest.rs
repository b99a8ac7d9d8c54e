//! The weekly manager digest: one email per lead and week, through the outbox.
//!
//! The first pass of each digest week (from Monday 06:00 UTC) writes every
//! lead's digest; `digest_sends` (lead, week) is written with ON CONFLICT DO
//! NOTHING in the same transaction as the outbox row, so later passes,
//! restarts and other instances write nothing more that week.

use crate::db::DbConnection;
use crate::jobs::Mailing;
use crate::repo;
use crate::reports::digest;
use crate::tokens::{random_token, sha256_hex};
use chrono::{DateTime, Utc};

/// Writes the digests of the week `now` falls in that are not written yet; returns how many.
pub fn run(
    conn: &mut DbConnection,
    mailing: &Mailing,
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    let week = digest::week_start(now);
    let mut written = 0;
    for lead_id in repo::digests::recipients(conn, now.date_naive())? {
        if repo::digests::already_sent(conn, lead_id, week)? {
            continue;
        }
        let Some(lead) = repo::employees::find(conn, lead_id)? else {
            continue;
        };
        let content = digest::load(conn, lead_id, now)?;
        let wrote = crate::db::write_transaction::<_, anyhow::Error, _>(conn, |conn| {
            let token = random_token();
            if !repo::digests::record_send(conn, lead_id, week, &sha256_hex(&token))? {
                return Ok(false);
            }
            let mut data = digest::view(&content);
            data["name"] = lead.name.clone().into();
            data["dashboard_link"] = format!("{}/", mailing.base_url).into();
            data["unsubscribe_link"] =
                format!("{}/digest/unsubscribe/{token}", mailing.base_url).into();
            let key = format!("digest:{lead_id}:{week}");
            mailing.enqueue(conn, "digest", &key, &lead, &data, None, now)
        })?;
        if wrote {
            written += 1;
        }
    }
    if written > 0 {
        tracing::info!(written, %week, "manager digests written");
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use crate::emails::EmailTemplates;
    use serde_json::json;

    fn digest_data() -> serde_json::Value {
        json!({
            "name": "Léa <Lead>",
            "week": "2035-12-17",
            "teams": [{"id": 3, "name": "Support & Co", "results": [
                {"round_id": 1, "title": "Weekly <pulse>", "closed_on": "2035-12-12",
                 "figures": {"enps": "67 ± 30", "participation": "100%", "responses": 3, "invited": 3}},
                {"round_id": 2, "title": "Quarterly", "closed_on": "2035-12-13", "figures": null}],
                "open": [{"title": "Weekly <pulse>", "closes": "2035-12-19", "participation": null}]}],
            "one_on_ones": [{"id": 9, "with": "Rémi", "when": "2035-12-18 10:00 (Europe/Paris)"}],
            "actions": null,
            "drivers": null,
            "dashboard_link": "https://pulse.example.com/",
            "unsubscribe_link": "https://pulse.example.com/digest/unsubscribe/abc",
        })
    }

    /// Every email this branch adds exists in English and French, escapes
    /// what it shows in HTML, and falls back to English.
    #[test]
    fn digest_and_lifecycle_emails_render_in_english_and_french() {
        let t = EmailTemplates::new().unwrap();
        let subjects = [
            ("en", "Your teams this week"),
            ("fr", "Vos équipes cette semaine"),
        ];
        for (lang, start) in subjects {
            let d = t.render("digest", lang, &digest_data()).unwrap();
            assert!(
                d.subject.starts_with(start) && d.subject.contains("2035-12-17"),
                "{}",
                d.subject
            );
            assert!(
                d.text.contains("Léa <Lead>") && d.text.contains("eNPS 67 ± 30"),
                "{}",
                d.text
            );
            assert!(d.text.contains("/digest/unsubscribe/abc") && d.text.contains("Rémi"));
            assert!(d.html.contains("Weekly &lt;pulse&gt;") && d.html.contains("Support &amp; Co"));
        }
        let fr = t.render("digest", "fr", &digest_data()).unwrap();
        assert!(
            fr.text.contains("résultats masqués") && fr.text.contains("Vagues encore ouvertes")
        );
        let round = json!({
            "name": "Zoé", "survey": {"title": "Settling <in>", "intro": null},
            "closes": "2036-04-15 00:00 (UTC)", "min_group": 3,
            "link": "https://pulse.example.com/s/abc", "enps": null,
        });
        for (name, en, fr) in [
            (
                "onboarding",
                "How are your first weeks going?",
                "Comment se passent",
            ),
            ("exit", "Before you go:", "Avant votre départ"),
        ] {
            let e = t.render(name, "en", &round).unwrap();
            assert!(
                e.subject.starts_with(en) && e.subject.contains("Settling <in>"),
                "{}",
                e.subject
            );
            assert!(
                e.text.contains("/s/abc") && e.text.contains("2036-04-15"),
                "{}",
                e.text
            );
            assert!(e.html.contains("Settling &lt;in&gt;"));
            let f = t.render(name, "fr", &round).unwrap();
            assert!(f.subject.starts_with(fr), "{}", f.subject);
            assert!(f.text.contains("trimestre"), "{}", f.text);
            assert_eq!(t.render(name, "de", &round).unwrap().subject, e.subject);
        }
    }
}
