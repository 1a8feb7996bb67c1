//! Timestamps: milliseconds since the Unix epoch, UTC. One integer keeps the columnar event store and
//! the engine simple and fast; conversion to calendar time happens only at the edges.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A point in time, in milliseconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Timestamp(pub i64);

/// Why a timestamp could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimestampError(pub String);

impl fmt::Display for TimestampError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TimestampError {}

impl Timestamp {
    pub const MS_PER_SECOND: i64 = 1_000;
    pub const MS_PER_MINUTE: i64 = 60_000;
    pub const MS_PER_HOUR: i64 = 3_600_000;
    pub const MS_PER_DAY: i64 = 86_400_000;

    pub fn from_millis(ms: i64) -> Self {
        Timestamp(ms)
    }

    pub fn from_secs(s: i64) -> Self {
        Timestamp(s * 1000)
    }

    pub fn millis(self) -> i64 {
        self.0
    }

    pub fn from_datetime(dt: DateTime<Utc>) -> Self {
        Timestamp(dt.timestamp_millis())
    }

    /// Midnight UTC at the start of `date`.
    pub fn from_date(date: NaiveDate) -> Self {
        Timestamp(date.and_hms_opt(0, 0, 0).map(|d| d.and_utc().timestamp_millis()).unwrap_or(0))
    }

    pub fn to_datetime(self) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(self.0).unwrap_or_default()
    }

    pub fn date(self) -> NaiveDate {
        self.to_datetime().date_naive()
    }

    /// RFC 3339 with millisecond precision and a `Z` suffix.
    pub fn to_rfc3339(self) -> String {
        self.to_datetime().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    }

    pub fn parse_rfc3339(text: &str) -> Result<Self, TimestampError> {
        DateTime::parse_from_rfc3339(text)
            .map(|d| Timestamp(d.timestamp_millis()))
            .map_err(|e| TimestampError(format!("not an RFC 3339 time ({e}): {text:?}")))
    }

    pub fn add_millis(self, ms: i64) -> Self {
        Timestamp(self.0 + ms)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_rfc3339() {
        let t = Timestamp::parse_rfc3339("2024-03-01T10:15:30.250+01:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2024-03-01T09:15:30.250Z");
        assert_eq!(Timestamp::parse_rfc3339(&t.to_rfc3339()).unwrap(), t);
    }

    #[test]
    fn rejects_garbage_with_the_text() {
        let e = Timestamp::parse_rfc3339("yesterday").unwrap_err();
        assert!(e.0.contains("yesterday"), "{e}");
    }
}
