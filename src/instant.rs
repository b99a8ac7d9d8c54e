//! Instants are stored as naive UTC and shown as RFC 3339 with a Z, the
//! `date-time` format the OpenAPI document promises.

use chrono::NaiveDateTime;

/// `2026-12-06T20:38:26Z`: whole seconds, UTC.
pub fn rfc3339(at: NaiveDateTime) -> String {
    at.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// For `#[serde(serialize_with = "crate::instant::serialize")]`.
pub fn serialize<S: serde::Serializer>(at: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&rfc3339(*at))
}

/// For optional instants; pair with `skip_serializing_if` or let `None` be null.
pub fn serialize_opt<S: serde::Serializer>(
    at: &Option<NaiveDateTime>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => serialize(at, s),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_whole_seconds_in_utc_with_a_z() {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 12, 6)
            .unwrap()
            .and_hms_micro_opt(20, 38, 26, 797_680)
            .unwrap();
        assert_eq!(rfc3339(at), "2026-12-06T20:38:26Z");
        let json = serde_json::to_value(Wrapper(Some(at))).unwrap();
        assert_eq!(json, serde_json::json!("2026-12-06T20:38:26Z"));
        assert_eq!(
            serde_json::to_value(Wrapper(None)).unwrap(),
            serde_json::Value::Null
        );
    }

    #[derive(serde::Serialize)]
    struct Wrapper(#[serde(serialize_with = "serialize_opt")] Option<NaiveDateTime>);
}
