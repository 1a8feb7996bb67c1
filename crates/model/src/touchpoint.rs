//! Touchpoints and the rules that recognise them. A touchpoint ("Instagram ad", "Checkout page",
//! "Till") is defined by a rule over events, so the same definition counts it in history and in
//! tomorrow's events, online and offline alike.

use crate::{BusinessId, Event, StageId, TouchpointId};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// The family a touchpoint belongs to, as a small business thinks of it (not GA4's traffic
/// channels, which describe where a visit came from).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TouchpointChannel {
    Web,
    Ads,
    Social,
    Email,
    InStore,
    Phone,
    Referral,
    Other,
}

impl TouchpointChannel {
    /// Every family, in the order forms list them.
    pub const ALL: [TouchpointChannel; 8] = [
        TouchpointChannel::Web,
        TouchpointChannel::Ads,
        TouchpointChannel::Social,
        TouchpointChannel::Email,
        TouchpointChannel::InStore,
        TouchpointChannel::Phone,
        TouchpointChannel::Referral,
        TouchpointChannel::Other,
    ];

    /// Reads a family by its name in any case (`in-store`, `In store` and `instore` alike).
    pub fn parse(text: &str) -> Option<TouchpointChannel> {
        let wanted: String = text.trim().chars().filter(|c| !matches!(c, '-' | '_' | ' ')).flat_map(char::to_lowercase).collect();
        TouchpointChannel::ALL.into_iter().find(|c| c.as_str().replace('-', "") == wanted)
    }

    /// Whether its touchpoints happen online (web, ads, social, email, referral, other) rather
    /// than at the premises or on the phone.
    pub fn is_online(self) -> bool {
        !matches!(self, TouchpointChannel::InStore | TouchpointChannel::Phone)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TouchpointChannel::Web => "web",
            TouchpointChannel::Ads => "ads",
            TouchpointChannel::Social => "social",
            TouchpointChannel::Email => "email",
            TouchpointChannel::InStore => "in-store",
            TouchpointChannel::Phone => "phone",
            TouchpointChannel::Referral => "referral",
            TouchpointChannel::Other => "other",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Touchpoint {
    pub id: TouchpointId,
    pub business: BusinessId,
    pub name: String,
    pub channel: TouchpointChannel,
    pub stage: Option<StageId>,
    pub online: bool,
    pub rule: EventRule,
    pub description: String,
}

/// A field of an event a rule can look at.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EventField {
    Name,
    Channel,
    Source,
    Medium,
    Campaign,
    Referrer,
    Page,
    /// A top-level key of the event's properties.
    Property(String),
}

impl EventField {
    pub fn parse(text: &str) -> Option<EventField> {
        Some(match text {
            "name" | "event" => EventField::Name,
            "channel" => EventField::Channel,
            "source" => EventField::Source,
            "medium" => EventField::Medium,
            "campaign" => EventField::Campaign,
            "referrer" => EventField::Referrer,
            "page" => EventField::Page,
            other => EventField::Property(other.strip_prefix("property:")?.to_string()),
        })
    }

    pub fn to_text(&self) -> String {
        match self {
            EventField::Name => "name".into(),
            EventField::Channel => "channel".into(),
            EventField::Source => "source".into(),
            EventField::Medium => "medium".into(),
            EventField::Campaign => "campaign".into(),
            EventField::Referrer => "referrer".into(),
            EventField::Page => "page".into(),
            EventField::Property(key) => format!("property:{key}"),
        }
    }
}

impl Serialize for EventField {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_text())
    }
}

impl<'de> Deserialize<'de> for EventField {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        EventField::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unknown event field {text:?}: expected name, channel, source, medium, campaign, \
                 referrer, page or property:KEY"
            ))
        })
    }
}

/// A test on one field. Text comparisons ignore ASCII case, because "Instagram" and "instagram"
/// are the same source to a shop owner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", content = "value", rename_all = "snake_case")]
pub enum Op {
    Equals(String),
    /// Any of these values ("any of these pages").
    OneOf(Vec<String>),
    Contains(String),
    StartsWith(String),
    /// The field is present and not empty.
    Exists,
    GreaterThan(f64),
    LessThan(f64),
    /// The field reads as a number at least this one (`>=`).
    AtLeast(f64),
    /// The field reads as a number at most this one (`<=`).
    AtMost(f64),
}

impl Op {
    /// Tests one field value (None when the field is absent).
    pub fn test(&self, value: Option<&str>) -> bool {
        let Some(value) = value.filter(|v| !v.is_empty()) else {
            return false;
        };
        match self {
            Op::Equals(want) => value.eq_ignore_ascii_case(want),
            Op::OneOf(wants) => wants.iter().any(|w| value.eq_ignore_ascii_case(w)),
            Op::Contains(part) => value.to_ascii_lowercase().contains(&part.to_ascii_lowercase()),
            Op::StartsWith(prefix) => value
                .get(..prefix.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(prefix)),
            Op::Exists => true,
            Op::GreaterThan(limit) => value.parse::<f64>().is_ok_and(|v| v > *limit),
            Op::LessThan(limit) => value.parse::<f64>().is_ok_and(|v| v < *limit),
            Op::AtLeast(limit) => value.parse::<f64>().is_ok_and(|v| v >= *limit),
            Op::AtMost(limit) => value.parse::<f64>().is_ok_and(|v| v <= *limit),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Condition {
    pub field: EventField,
    #[serde(flatten)]
    pub op: Op,
    /// Inverts the test ("medium is not cpc").
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub negate: bool,
}

/// A rule over events: every condition must hold. An empty rule matches nothing, so a touchpoint
/// nobody has defined yet counts zero rather than everything.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct EventRule {
    pub conditions: Vec<Condition>,
}

impl EventRule {
    /// A rule matching events with this name.
    pub fn named(name: &str) -> EventRule {
        EventRule::default().and(EventField::Name, Op::Equals(name.to_string()))
    }

    pub fn and(mut self, field: EventField, op: Op) -> EventRule {
        self.conditions.push(Condition { field, op, negate: false });
        self
    }

    pub fn and_not(mut self, field: EventField, op: Op) -> EventRule {
        self.conditions.push(Condition { field, op, negate: true });
        self
    }

    /// Tests the rule with a field accessor, so the engine can apply it to its columnar rows as
    /// well as to an [`Event`].
    pub fn matches_with<'a>(&self, get: impl Fn(&EventField) -> Option<Cow<'a, str>>) -> bool {
        !self.conditions.is_empty()
            && self.conditions.iter().all(|c| c.op.test(get(&c.field).as_deref()) != c.negate)
    }

    pub fn matches(&self, event: &Event) -> bool {
        self.matches_with(|field| event_field(event, field))
    }
}

/// Reads one field of an event as text.
pub fn event_field<'a>(event: &'a Event, field: &EventField) -> Option<Cow<'a, str>> {
    match field {
        EventField::Name => Some(Cow::Borrowed(event.name.as_str())),
        EventField::Channel => event.channel.as_deref().map(Cow::Borrowed),
        EventField::Source => event.source.as_deref().map(Cow::Borrowed),
        EventField::Medium => event.medium.as_deref().map(Cow::Borrowed),
        EventField::Campaign => event.campaign.as_deref().map(Cow::Borrowed),
        EventField::Referrer => event.referrer.as_deref().map(Cow::Borrowed),
        EventField::Page => event.page.as_deref().map(Cow::Borrowed),
        EventField::Property(key) => event.properties.get(key).map(|v| match v {
            serde_json::Value::String(s) => Cow::Borrowed(s.as_str()),
            other => Cow::Owned(other.to_string()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Identity, Timestamp};

    fn event(name: &str, page: &str, medium: &str) -> Event {
        let mut properties = crate::Properties::new();
        properties.insert("items".into(), serde_json::json!(3));
        Event {
            source: Some("Instagram".into()),
            medium: Some(medium.into()),
            page: Some(page.into()),
            properties,
            ..Event::new(name, Timestamp(0), Identity::anonymous("v1").unwrap())
        }
    }

    #[test]
    fn all_conditions_must_hold() {
        let rule = EventRule::named("page_view")
            .and(EventField::Page, Op::StartsWith("/checkout".into()))
            .and_not(EventField::Medium, Op::Equals("cpc".into()));
        assert!(rule.matches(&event("page_view", "/Checkout/shipping", "social")));
        assert!(!rule.matches(&event("page_view", "/checkout", "CPC")));
        assert!(!rule.matches(&event("page_view", "/cart", "social")));
        assert!(!rule.matches(&event("purchase", "/checkout", "social")));
    }

    #[test]
    fn properties_compare_as_numbers_and_missing_fields_fail() {
        let e = event("page_view", "/", "social");
        assert!(EventRule::default().and(EventField::Property("items".into()), Op::GreaterThan(2.0)).matches(&e));
        assert!(!EventRule::default().and(EventField::Campaign, Op::Exists).matches(&e));
        assert!(EventRule::default().and_not(EventField::Campaign, Op::Exists).matches(&e));
        assert!(!EventRule::default().matches(&e), "an empty rule matches nothing");
    }

    #[test]
    fn channels_read_in_any_spelling() {
        for c in TouchpointChannel::ALL {
            assert_eq!(TouchpointChannel::parse(c.as_str()), Some(c));
        }
        assert_eq!(TouchpointChannel::parse(" In Store "), Some(TouchpointChannel::InStore));
        assert_eq!(TouchpointChannel::parse("EMAIL"), Some(TouchpointChannel::Email));
        assert_eq!(TouchpointChannel::parse("fax"), None);
        assert!(!TouchpointChannel::Phone.is_online() && TouchpointChannel::Ads.is_online());
    }

    #[test]
    fn rules_serialise_readably() {
        let rule = EventRule::named("page_view").and(
            EventField::Property("plan".into()),
            Op::OneOf(vec!["pro".into(), "team".into()]),
        );
        let json = serde_json::to_string(&rule).unwrap();
        assert_eq!(
            json,
            r#"{"conditions":[{"field":"name","op":"equals","value":"page_view"},{"field":"property:plan","op":"one_of","value":["pro","team"]}]}"#
        );
        assert_eq!(serde_json::from_str::<EventRule>(&json).unwrap(), rule);
        assert!(serde_json::from_str::<EventRule>(r#"{"conditions":[{"field":"colour","op":"exists"}]}"#).is_err());
    }
}
