//! iCalendar (.ics) invites for 1:1 meetings: one stable UID per meeting, SEQUENCE for updates.

use chrono::{DateTime, Utc};
use icalendar::{
    Attendee, Calendar, CalendarDateTime, Component, Event, EventLike, EventStatus, PartStat,
    Property, Role,
};

/// REQUEST adds or updates the event in the recipient's calendar; CANCEL removes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Request,
    Cancel,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Request => "REQUEST",
            Self::Cancel => "CANCEL",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Person<'a> {
    pub name: &'a str,
    pub email: &'a str,
}

#[derive(Debug, Clone)]
pub struct MeetingInvite<'a> {
    pub method: Method,
    pub meeting_id: i32,
    /// Where UIDs are unique: the host of PULSE_BASE_URL.
    pub uid_domain: &'a str,
    /// Raised each time the meeting moves, is skipped or comes back.
    pub sequence: i32,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// The series' IANA zone, announced as X-WR-TIMEZONE.
    pub timezone: &'a str,
    pub summary: &'a str,
    pub description: &'a str,
    pub url: &'a str,
    pub organizer: Person<'a>,
    pub attendee: Person<'a>,
    /// DTSTAMP: when this version of the invite was written.
    pub stamp: DateTime<Utc>,
}

/// The same meeting always has the same UID, so calendars update it in place.
pub fn meeting_uid(meeting_id: i32, domain: &str) -> String {
    format!("meeting-{meeting_id}@{domain}")
}

/// A CN parameter value cannot hold a double quote, even quoted.
fn common_name(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '"' && !c.is_control())
        .collect()
}

/// The whole VCALENDAR text, CRLF-terminated lines folded at 75 octets.
///
/// Instants are written in UTC (`DTSTART:20261207T090000Z`): that form needs no
/// VTIMEZONE block, which the icalendar crate cannot produce, and every
/// calendar shows it at the right local time. The series' zone goes along as
/// X-WR-TIMEZONE for clients that display it.
pub fn meeting_invite(invite: &MeetingInvite) -> String {
    let mut organizer = Property::new("ORGANIZER", format!("mailto:{}", invite.organizer.email));
    organizer.add_parameter("CN", &common_name(invite.organizer.name));
    let attendee = Attendee::new(format!("mailto:{}", invite.attendee.email))
        .cn(common_name(invite.attendee.name))
        .role(Role::ReqParticipant)
        .partstat(PartStat::NeedsAction)
        .rsvp(true);
    let mut event = Event::new();
    event
        .uid(&meeting_uid(invite.meeting_id, invite.uid_domain))
        .sequence(u32::try_from(invite.sequence).unwrap_or_default())
        .timestamp(invite.stamp)
        .starts(CalendarDateTime::Utc(invite.starts_at))
        .ends(CalendarDateTime::Utc(invite.ends_at))
        .summary(invite.summary)
        .description(invite.description)
        .url(invite.url)
        .append_property(organizer.done())
        .attendee(attendee)
        .status(match invite.method {
            Method::Request => EventStatus::Confirmed,
            Method::Cancel => EventStatus::Cancelled,
        });
    let mut calendar = Calendar::empty();
    calendar
        .append_property(Property::new("VERSION", "2.0"))
        .append_property(Property::new("PRODID", "-//Pulse//1:1 meetings//EN"))
        .append_property(Property::new("CALSCALE", "GREGORIAN"))
        .append_property(Property::new("METHOD", invite.method.as_str()))
        .timezone(invite.timezone)
        .push(event.done());
    calendar.done().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn invite(method: Method, sequence: i32) -> MeetingInvite<'static> {
        MeetingInvite {
            method,
            meeting_id: 42,
            uid_domain: "pulse.example.com",
            sequence,
            starts_at: Utc.with_ymd_and_hms(2035, 12, 4, 9, 0, 0).unwrap(),
            ends_at: Utc.with_ymd_and_hms(2035, 12, 4, 9, 30, 0).unwrap(),
            timezone: "Europe/Paris",
            summary: "1:1 Mia Manager / Rémi Report",
            description: "Agenda, notes; actions: https://pulse.example.com/meetings/42",
            url: "https://pulse.example.com/meetings/42",
            organizer: Person {
                name: "Mia \"the boss\" Manager",
                email: "mia@example.com",
            },
            attendee: Person {
                name: "Rémi, Report",
                email: "remi@example.com",
            },
            stamp: Utc.with_ymd_and_hms(2035, 12, 3, 9, 0, 0).unwrap(),
        }
    }

    #[test]
    fn a_request_parses_back_with_its_uid_sequence_and_times() {
        let ics = meeting_invite(&invite(Method::Request, 2));
        assert!(ics.lines().all(|l| l.len() <= 75 + 1), "folded lines");
        assert!(ics.contains("\r\n"));
        let cal: Calendar = ics.parse().unwrap();
        assert_eq!(cal.property_value("METHOD"), Some("REQUEST"));
        assert_eq!(cal.get_timezone(), Some("Europe/Paris"));
        let event = cal.events().next().unwrap();
        assert_eq!(event.get_uid(), Some("meeting-42@pulse.example.com"));
        assert_eq!(event.get_sequence(), Some(2));
        assert_eq!(event.get_status(), Some(EventStatus::Confirmed));
        assert_eq!(
            event.get_start(),
            Some(CalendarDateTime::Utc(invite(Method::Request, 2).starts_at).into())
        );
        assert_eq!(
            event.get_end(),
            Some(CalendarDateTime::Utc(invite(Method::Request, 2).ends_at).into())
        );
        assert_eq!(
            event.get_description(),
            Some("Agenda, notes; actions: https://pulse.example.com/meetings/42")
        );
        let organizer = event.properties().get("ORGANIZER").unwrap();
        assert_eq!(organizer.value(), "mailto:mia@example.com");
        assert_eq!(
            organizer.params().get("CN").unwrap().value(),
            "Mia the boss Manager"
        );
        let attendees = event.get_attendees();
        assert_eq!(attendees.len(), 1);
        assert_eq!(attendees[0].cal_address, "mailto:remi@example.com");
        assert_eq!(attendees[0].cn.as_deref(), Some("Rémi, Report"));
    }

    #[test]
    fn a_cancel_keeps_the_uid() {
        let cal: Calendar = meeting_invite(&invite(Method::Cancel, 3)).parse().unwrap();
        assert_eq!(cal.property_value("METHOD"), Some("CANCEL"));
        let event = cal.events().next().unwrap();
        assert_eq!(event.get_uid(), Some("meeting-42@pulse.example.com"));
        assert_eq!(event.get_status(), Some(EventStatus::Cancelled));
        assert_eq!(event.get_sequence(), Some(3));
    }
}
