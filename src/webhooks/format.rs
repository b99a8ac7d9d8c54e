//! A delivery's body in the webhook's format: Pulse's JSON, a Slack message, or a
//! Microsoft Teams message card. Pure: the stored event in, the bytes to send out.

use super::events::{ACTION_DUE, EMPLOYEE_LEFT, ROUND_CLOSED, ROUND_OPENED};
use super::Format;
use serde_json::{json, Value};

/// Teams listed in a chat message at most; the JSON format always has them all.
const MAX_TEAMS: usize = 40;

/// The body sent for `event` (the stored envelope), as `format` wants it.
pub fn body(format: Format, event: &str, delivery_id: &str, base_url: &str) -> String {
    let mut envelope: Value = serde_json::from_str(event).unwrap_or_else(|_| json!({}));
    match format {
        Format::Json => {
            envelope["id"] = json!(delivery_id);
            envelope.to_string()
        }
        Format::Slack => slack(&message(&envelope, base_url)).to_string(),
        Format::Teams => teams(&message(&envelope, base_url)).to_string(),
    }
}

/// What a chat message says, whatever the chat.
#[derive(Debug, Default, PartialEq)]
pub struct Message {
    pub title: String,
    pub text: String,
    /// Label and value: one line each.
    pub facts: Vec<(String, String)>,
    pub link: Option<String>,
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_default()
}

fn day(instant: &str) -> &str {
    instant.get(..10).unwrap_or(instant)
}

/// One group's figures in words: `eNPS +12 · 18 of 25 answered (72%)`.
pub fn figures_line(g: &Value, min_group_size: i64) -> String {
    if g["suppressed"] == json!(true) {
        return match s(g, "reason") {
            "derivable" => {
                "hidden: shown beside the others it would give a smaller group away".into()
            }
            _ => format!("hidden: fewer than {min_group_size} answered"),
        };
    }
    let enps = match g["enps"].as_i64() {
        Some(e) if e > 0 => format!("eNPS +{e}"),
        Some(e) => format!("eNPS {e}"),
        None => "no eNPS".into(),
    };
    let participation = g["participation"]
        .as_f64()
        .map(|p| format!(" ({}%)", p.round()))
        .unwrap_or_default();
    format!(
        "{enps} · {} of {} answered{participation} · {} promoters, {} passives, {} detractors",
        g["responses"], g["invited"], g["promoters"], g["passives"], g["detractors"]
    )
}

/// The message of an event, from its stored envelope.
pub fn message(envelope: &Value, base_url: &str) -> Message {
    let data = &envelope["data"];
    let base = base_url.trim_end_matches('/');
    match s(envelope, "event") {
        ROUND_OPENED => Message {
            title: format!("Survey “{}” is open", s(data, "survey_title")),
            text: format!(
                "{} people are invited; answers are taken until {}.",
                data["invited"],
                day(s(data, "closes_at"))
            ),
            facts: vec![],
            link: Some(format!("{base}/rounds/{}", data["round_id"])),
        },
        ROUND_CLOSED => {
            let min = data["min_group_size"].as_i64().unwrap_or(5);
            let mut facts = vec![("Company".to_string(), figures_line(&data["company"], min))];
            let teams = data["teams"].as_array().cloned().unwrap_or_default();
            for t in teams.iter().take(MAX_TEAMS) {
                facts.push((s(t, "name").to_string(), figures_line(t, min)));
            }
            if teams.len() > MAX_TEAMS {
                facts.push((
                    "…".into(),
                    format!("{} more teams in Pulse", teams.len() - MAX_TEAMS),
                ));
            }
            Message {
                title: format!("Results of “{}”", s(data, "survey_title")),
                text: format!(
                    "The round of {} to {} has closed. Groups under {min} answers, or that would give one away, are hidden.",
                    day(s(data, "opens_at")),
                    day(s(data, "closes_at"))
                ),
                facts,
                link: Some(format!("{base}/rounds/{}", data["round_id"])),
            }
        }
        ACTION_DUE if data.get("action_plan_id").is_some() => Message {
            title: "An action plan is due".into(),
            text: format!(
                "Action #{} is due on {} and not done yet.",
                data["action_plan_id"],
                s(data, "due_on")
            ),
            facts: vec![],
            link: Some(format!("{base}/action-plans")),
        },
        ACTION_DUE => Message {
            title: "A 1:1 action item is due".into(),
            text: format!(
                "Action item #{} of 1:1 series #{} is due on {} and not done yet.",
                data["action_id"],
                data["one_on_one_id"],
                s(data, "due_on")
            ),
            facts: vec![],
            link: None,
        },
        EMPLOYEE_LEFT => Message {
            title: "Someone has left".into(),
            text: format!(
                "Employee #{} left on {}.",
                data["employee_id"],
                s(data, "left_on")
            ),
            facts: vec![],
            link: Some(format!("{base}/people/{}", data["employee_id"])),
        },
        other => Message {
            title: format!("Pulse: {other}"),
            ..Default::default()
        },
    }
}

/// Slack's mrkdwn gives `&`, `<` and `>` a meaning: written as entities, a team
/// named `<!channel>` notifies nobody.
fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A Slack incoming-webhook message: `text` (notifications, old clients) and blocks.
pub fn slack(m: &Message) -> Value {
    let mut lines = vec![slack_escape(&m.text)];
    for (name, value) in &m.facts {
        lines.push(format!(
            "• *{}*: {}",
            slack_escape(name),
            slack_escape(value)
        ));
    }
    // A section holds at most 3,000 characters.
    let mut section = String::new();
    for line in &lines {
        if section.chars().count() + line.chars().count() > 2900 {
            section.push_str("\n…");
            break;
        }
        if !section.is_empty() {
            section.push('\n');
        }
        section.push_str(line);
    }
    let title: String = m.title.chars().take(150).collect();
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": title}}),
        json!({"type": "section", "text": {"type": "mrkdwn", "text": section}}),
    ];
    if let Some(link) = &m.link {
        blocks.push(json!({"type": "context", "elements": [
            {"type": "mrkdwn", "text": format!("<{link}|Open in Pulse>")}]}));
    }
    json!({
        "text": format!("{}: {}", slack_escape(&m.title), slack_escape(&m.text)),
        "blocks": blocks,
    })
}

/// A Microsoft Teams incoming-webhook message card.
pub fn teams(m: &Message) -> Value {
    let mut card = json!({
        "@type": "MessageCard",
        "@context": "https://schema.org/extensions",
        "summary": m.title,
        "themeColor": "0F766E",
        "title": m.title,
        "text": m.text,
    });
    if !m.facts.is_empty() {
        let facts: Vec<Value> = m
            .facts
            .iter()
            .map(|(name, value)| json!({"name": name, "value": value}))
            .collect();
        card["sections"] = json!([{"facts": facts}]);
    }
    if let Some(link) = &m.link {
        card["potentialAction"] = json!([{"@type": "OpenUri", "name": "Open in Pulse",
            "targets": [{"os": "default", "uri": link}]}]);
    }
    card
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_action_plan_falling_due_is_told_apart_from_a_one_on_one_item() {
        let plan = json!({"event": "action.due", "data": {"action_plan_id": 4, "team_id": 2, "owner_id": 9, "due_on": "2026-12-07"}});
        let m = message(&plan, "https://pulse.example.com/");
        assert_eq!(m.title, "An action plan is due");
        assert!(m.text.contains("#4") && m.text.contains("2026-12-07"));
        assert_eq!(
            m.link.as_deref(),
            Some("https://pulse.example.com/action-plans")
        );
        let item = json!({"event": "action.due", "data": {"action_id": 5, "one_on_one_id": 1, "owner_id": 9, "due_on": "2026-12-07"}});
        assert_eq!(
            message(&item, "https://x").title,
            "A 1:1 action item is due"
        );
    }

    fn closed() -> Value {
        json!({"event": "round.closed", "created_at": "2026-12-06T10:00:00Z", "data": {
            "round_id": 7, "survey_id": 2, "survey_title": "Weekly <pulse>",
            "opens_at": "2026-11-30T09:00:00Z", "closes_at": "2026-12-05T09:00:00Z",
            "min_group_size": 5,
            "company": {"invited": 25, "responses": 18, "participation": 72.0, "promoters": 9,
                        "passives": 5, "detractors": 4, "enps": 28, "margin_of_error": 20.1},
            "teams": [{"team_id": 3, "name": "Sales", "suppressed": true, "reason": "too_few"}]}})
    }

    #[test]
    fn a_closed_round_reads_as_figures_and_hidden_groups() {
        let m = message(&closed(), "https://pulse.example.com/");
        assert_eq!(m.title, "Results of “Weekly <pulse>”");
        assert_eq!(
            m.facts,
            vec![
                (
                    "Company".into(),
                    "eNPS +28 · 18 of 25 answered (72%) · 9 promoters, 5 passives, 4 detractors"
                        .into()
                ),
                ("Sales".into(), "hidden: fewer than 5 answered".into()),
            ]
        );
        assert_eq!(
            m.link.as_deref(),
            Some("https://pulse.example.com/rounds/7")
        );
    }

    #[test]
    fn slack_escapes_and_teams_makes_a_card() {
        let m = message(&closed(), "https://pulse.example.com");
        let s = slack(&m);
        assert!(s["text"].as_str().unwrap().contains("Weekly &lt;pulse&gt;"));
        assert_eq!(s["blocks"][0]["type"], "header");
        assert!(s["blocks"][1]["text"]["text"]
            .as_str()
            .unwrap()
            .contains("*Sales*: hidden"));
        let t = teams(&m);
        assert_eq!(t["@type"], "MessageCard");
        assert_eq!(t["sections"][0]["facts"][1]["name"], "Sales");
        assert_eq!(
            t["potentialAction"][0]["targets"][0]["uri"],
            "https://pulse.example.com/rounds/7"
        );
    }

    #[test]
    fn json_keeps_the_event_and_adds_the_delivery_id() {
        let b: Value =
            serde_json::from_str(&body(Format::Json, &closed().to_string(), "d1", "")).unwrap();
        assert_eq!(b["id"], "d1");
        assert_eq!(
            b["data"]["teams"][0],
            json!({"team_id": 3, "name": "Sales", "suppressed": true, "reason": "too_few"})
        );
    }
}
