//! Events: everything a customer did or that happened to them, online or offline. An event names the
//! identity it came from; the customer is found through the identity graph at analysis time.

use crate::{Identity, Money, Timestamp};
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::Xxh3;

/// Free-form properties of an event or a customer, as JSON.
pub type Properties = serde_json::Map<String, serde_json::Value>;

/// The deduplication key of an event: a 128-bit hash of its message id when the source gives one,
/// or of its content when not. Importing or sending the same event twice yields the same key, so it
/// lands once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EventKey(pub u128);

impl EventKey {
    /// The key of an event whose source gave it an id (Segment's `messageId`, an order number).
    /// `namespace` keeps ids of different sources apart ("order", "segment", "import").
    pub fn from_id(namespace: &str, id: &str) -> EventKey {
        let mut h = Xxh3::new();
        h.update(namespace.as_bytes());
        h.update(&[0]);
        h.update(id.as_bytes());
        EventKey(h.digest128())
    }
}

/// One event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub key: EventKey,
    /// What happened: `page_view`, `purchase`, `store_visit`, `call`, `email_open`...
    pub name: String,
    pub time: Timestamp,
    /// Who did it.
    pub identity: Identity,
    /// The traffic channel (GA4 default channel grouping, see [`crate::Channel`]).
    pub channel: Option<String>,
    pub source: Option<String>,
    pub medium: Option<String>,
    pub campaign: Option<String>,
    pub referrer: Option<String>,
    /// The page path or URL for web events; the place ("till 1", "phone") for offline ones.
    pub page: Option<String>,
    pub revenue: Option<Money>,
    pub properties: Properties,
}

impl Event {
    /// An event with a name, a time and who did it; every other field absent and the key unset
    /// (zero) until the caller derives one.
    pub fn new(name: &str, time: Timestamp, identity: Identity) -> Event {
        Event {
            key: EventKey(0),
            name: name.to_string(),
            time,
            identity,
            channel: None,
            source: None,
            medium: None,
            campaign: None,
            referrer: None,
            page: None,
            revenue: None,
            properties: Properties::new(),
        }
    }

    /// The key of an event that came without an id: a hash of everything that makes it this event.
    /// Two rows that agree on all of these are the same event.
    pub fn content_key(&self) -> EventKey {
        let mut h = Xxh3::new();
        let mut field = |s: &str| {
            h.update(s.as_bytes());
            h.update(&[0xff]);
        };
        field(&self.name);
        field(&self.time.0.to_string());
        field(self.identity.kind.as_str());
        field(&self.identity.value);
        for part in [&self.source, &self.medium, &self.campaign, &self.referrer, &self.page] {
            field(part.as_deref().unwrap_or(""));
        }
        if let Some(m) = self.revenue {
            field(&m.minor.to_string());
            field(m.currency.as_str());
        }
        field(&serde_json::Value::Object(self.properties.clone()).to_string());
        EventKey(h.digest128())
    }
}
