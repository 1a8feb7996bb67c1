//! Segment's message format (the HTTP Tracking API's JSON) turned into the model's incoming records.
//! One message becomes one event, and an identify also becomes a customer update carrying its
//! traits. The enrichment steps run on every event exactly as on imported rows, and a message that
//! cannot or should not be stored comes back as a [`SegmentDrop`] whose name can be counted and
//! listed. This module does no HTTP and reads no clock: the time the message was received is an
//! argument.
//!
//! The mapping, message type by message type:
//! - `track`: an event named by `event`;
//! - `page`: `page_view`, with the page URL and referrer from `context.page` (or `properties`), and
//!   source, medium and campaign from `context.campaign` or else the URL's UTM tags;
//! - `screen`: `screen_view`;
//! - `identify`: an `identify` event carrying `userId` and `anonymousId` (so the anonymous
//!   visitor's history joins the known customer), and the traits as customer properties;
//! - `alias`: an `alias` event linking `previousId` to `userId`;
//! - `group`: a `group` event with the `groupId` property.
//!
//! Times follow Segment's clock-skew rule: when the sender gives `sentAt`, the event's time is
//! `timestamp + (receivedAt - sentAt)`, so a device whose clock is off by an hour still lands its
//! events at the right moment.

use crate::enrich::{DropReason, Enricher};
use crate::time::parse_timestamp;
use serde_json::{Map, Value};
use std::fmt;
use trailmap_model::{
    Currency, Event, EventKey, Identity, IncomingCustomer, IncomingEvent, Properties,
    Timestamp,
};

/// The namespace of Segment message ids in event keys: the same `messageId` sent twice lands once.
pub const KEY_NAMESPACE: &str = "segment";

/// Why a message was not stored. Names are stable: they are counted in the store and listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SegmentDrop {
    /// The message is not a JSON object.
    NotAnObject,
    /// No `type`, or one that is not a string.
    MissingType,
    /// A `type` Segment does not have.
    UnknownType,
    /// Neither `userId` nor `anonymousId`.
    MissingIdentity,
    /// A `track` without an `event` name.
    MissingEventName,
    /// A `group` without a `groupId`.
    MissingGroupId,
    /// An `alias` without a `previousId`, or without a `userId`.
    MissingPreviousId,
    /// A `timestamp` or `sentAt` that is not a time.
    BadTimestamp,
    /// One message larger than Segment's 32 KB.
    TooLarge,
    /// A key or string with a NUL or another control character, or past its length limit.
    InvalidText,
    /// A `revenue` that is not a number in the dot-decimal form JSON uses (`"12,50"`, `true`).
    BadRevenue,
    /// An enrichment step dropped it (a bot).
    Enrichment(DropReason),
}

impl SegmentDrop {
    pub fn as_str(self) -> &'static str {
        match self {
            SegmentDrop::NotAnObject => "not an object",
            SegmentDrop::MissingType => "missing type",
            SegmentDrop::UnknownType => "unknown type",
            SegmentDrop::MissingIdentity => "missing userId and anonymousId",
            SegmentDrop::MissingEventName => "missing event name",
            SegmentDrop::MissingGroupId => "missing groupId",
            SegmentDrop::MissingPreviousId => "missing previousId or userId",
            SegmentDrop::BadTimestamp => "bad timestamp",
            SegmentDrop::TooLarge => "message too large",
            SegmentDrop::InvalidText => "invalid text",
            SegmentDrop::BadRevenue => "bad revenue",
            SegmentDrop::Enrichment(reason) => reason.as_str(),
        }
    }

    /// Whether the message was malformed (the sender's mistake, a 400 for a single call) rather
    /// than left out on purpose (a bot, which Segment's API accepts).
    pub fn is_malformed(self) -> bool {
        !matches!(self, SegmentDrop::Enrichment(_))
    }
}

impl fmt::Display for SegmentDrop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Segment's limit on one message, in bytes of JSON.
pub const MAX_MESSAGE_BYTES: usize = 32 * 1024;

/// What one message becomes.
#[derive(Debug, Clone, PartialEq)]
pub struct Converted {
    pub event: IncomingEvent,
    /// An identify's traits, to merge into the customer's properties.
    pub customer: Option<IncomingCustomer>,
}

/// What the conversion needs besides the message.
#[derive(Debug, Clone, Copy)]
pub struct MessageContext {
    /// When the server received the request.
    pub received_at: Timestamp,
    /// The batch's `sentAt`, used when the message has none of its own.
    pub batch_sent_at: Option<Timestamp>,
    /// The currency of a `revenue` property without a `currency` one.
    pub currency: Currency,
}

/// Converts one message. `forced_type` is the type the path implies (`/v1/track` is a track
/// whatever the body says); a batch passes None and each message's own `type` counts.
pub fn convert(
    message: &Value,
    forced_type: Option<&str>,
    context: &MessageContext,
    enricher: &mut Enricher,
) -> Result<Converted, SegmentDrop> {
    let m = message.as_object().ok_or(SegmentDrop::NotAnObject)?;
    // Control characters and over-long strings are refused anywhere in the message, keys too,
    // so a `"sign\u0000up"` never becomes an event name or a property.
    crate::text::check_object(m).map_err(|_| SegmentDrop::InvalidText)?;
    let kind = match forced_type {
        Some(t) => t,
        None => m.get("type").and_then(Value::as_str).ok_or(SegmentDrop::MissingType)?,
    };
    let user = id_field(m, "userId").and_then(|v| Identity::external(&v));
    let anonymous = id_field(m, "anonymousId").and_then(|v| Identity::anonymous(&v));
    let time = message_time(m, context)?;
    let properties = object(m, "properties");
    let traits = object(m, "traits");
    let ctx = object(m, "context");
    let user_agent = ctx.get("userAgent").and_then(Value::as_str);

    let (name, mut props) = match kind {
        "track" => {
            let name = m.get("event").and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty());
            (name.ok_or(SegmentDrop::MissingEventName)?.to_string(), properties.clone())
        }
        "page" | "screen" => {
            let mut props = properties.clone();
            if let Some(n) = m.get("name").and_then(Value::as_str) {
                props.entry("name").or_insert_with(|| n.into());
            }
            if let Some(c) = m.get("category").and_then(Value::as_str) {
                props.entry("category").or_insert_with(|| c.into());
            }
            (if kind == "page" { "page_view" } else { "screen_view" }.to_string(), props)
        }
        "identify" => ("identify".to_string(), Properties::new()),
        "group" => {
            let group = id_field(m, "groupId").filter(|g| !g.trim().is_empty()).ok_or(SegmentDrop::MissingGroupId)?;
            let mut props = Properties::new();
            props.insert("groupId".into(), group.into());
            if !traits.is_empty() {
                props.insert("traits".into(), Value::Object(traits.clone()));
            }
            ("group".to_string(), props)
        }
        "alias" => ("alias".to_string(), Properties::new()),
        _ => return Err(SegmentDrop::UnknownType),
    };

    // Who: the user id is the most trusted identity, then an email from the traits, then the
    // anonymous id; all of them are linked to one customer by the store.
    let mut identities: Vec<Identity> = Vec::new();
    if kind == "alias" {
        let previous = id_field(m, "previousId").filter(|p| !p.trim().is_empty()).ok_or(SegmentDrop::MissingPreviousId)?;
        let user = user.clone().ok_or(SegmentDrop::MissingPreviousId)?;
        identities.push(user);
        // Segment does not say whether the previous id was a user id or an anonymous id; linking
        // both kinds makes either later message join this customer.
        identities.extend(Identity::external(&previous));
        identities.extend(Identity::anonymous(&previous));
    } else {
        identities.extend(user.clone());
        let context_traits = object(ctx, "traits");
        let email = traits
            .get("email")
            .or_else(|| context_traits.get("email"))
            .and_then(Value::as_str)
            .and_then(Identity::email);
        identities.extend(email);
        identities.extend(anonymous.clone());
    }
    identities.dedup();
    if identities.is_empty() {
        return Err(SegmentDrop::MissingIdentity);
    }
    let primary = identities.remove(0);

    let mut event = Event::new(&name, time, primary.clone());
    let page = object(ctx, "page");
    let text = |map: &Map<String, Value>, key: &str| {
        map.get(key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
    };
    event.page = text(page, "url")
        .or_else(|| text(properties, "url"))
        .or_else(|| text(page, "path"))
        .or_else(|| text(properties, "path"));
    event.referrer = text(page, "referrer").or_else(|| text(properties, "referrer"));
    // Segment's own campaign object (from the page's UTM tags, or set by the sender) comes first;
    // the utm step fills what it lacks from the URL.
    let campaign = object(ctx, "campaign");
    event.source = text(campaign, "source");
    event.medium = text(campaign, "medium");
    event.campaign = text(campaign, "name");
    for (from, to) in [("term", "utm_term"), ("content", "utm_content")] {
        if let Some(v) = text(campaign, from) {
            props.entry(to).or_insert_with(|| v.into());
        }
    }
    if kind == "track"
        && let Some(revenue) = properties.get("revenue")
    {
        let currency = text(properties, "currency").and_then(|c| Currency::parse(&c)).unwrap_or(context.currency);
        // JSON writes numbers with a dot; a string is read by the same rule, never guessed, so
        // "12,50" is refused rather than stored as 1,250.
        let amount = match revenue {
            Value::Null => None,
            Value::Number(n) => Some(crate::number::parse_json_amount(&n.to_string(), currency).map_err(|_| SegmentDrop::BadRevenue)?),
            Value::String(s) => {
                Some(crate::number::parse_amount(s, None, currency).map_err(|_| SegmentDrop::BadRevenue)?)
            }
            _ => return Err(SegmentDrop::BadRevenue),
        };
        event.revenue = amount;
    }
    event.properties = props;
    event.key = match id_field(m, "messageId").filter(|id| !id.trim().is_empty()) {
        Some(id) => EventKey::from_id(KEY_NAMESPACE, &id),
        None => event.content_key(),
    };
    enricher.enrich(&mut event, user_agent).map_err(SegmentDrop::Enrichment)?;

    let customer = (kind == "identify").then(|| {
        let mut all = vec![primary.clone()];
        all.extend(identities.iter().cloned());
        let name = text(traits, "name").or_else(|| {
            let first = text(traits, "firstName").or_else(|| text(traits, "first_name"));
            let last = text(traits, "lastName").or_else(|| text(traits, "last_name"));
            match (first, last) {
                (Some(f), Some(l)) => Some(format!("{f} {l}")),
                (f, l) => f.or(l),
            }
        });
        IncomingCustomer { identities: all, name, first_seen: Some(time), properties: traits.clone() }
    });
    Ok(Converted { event: IncomingEvent { event, also_known_as: identities }, customer })
}

/// An offline touchpoint (a till purchase, a phone call, a store visit) reported for a customer
/// known by email or customer id: what `POST /v1/offline` and `trailmap track offline` take.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OfflineTouchpoint {
    pub email: Option<String>,
    /// The customer's id in the business's own systems (Segment's `userId`).
    pub user_id: Option<String>,
    /// What happened: `till`, `phone` (or `call`), `visit`, or any other name.
    pub touchpoint: String,
    /// When it happened; the time it was received when absent.
    pub timestamp: Option<Timestamp>,
    pub properties: Properties,
    /// Makes a resent report land once, as Segment's `messageId` does.
    pub message_id: Option<String>,
}

/// Converts an offline touchpoint into an event through the same path as a Segment `track`, so it
/// joins the customer by email or id and is enriched like any other event. The event's name
/// follows the demo's and the touchpoint rules' vocabulary: `visit` is a `store_visit`, `phone`
/// and `call` a `call` (medium `phone`, channel Phone), `till` a `purchase` (with `revenue` when
/// the properties give it); any other touchpoint keeps its name. Everything but a call has medium
/// `offline` (channel In-store). The original name stays in the `touchpoint` property.
pub fn convert_offline(
    offline: &OfflineTouchpoint,
    context: &MessageContext,
    enricher: &mut Enricher,
) -> Result<Converted, SegmentDrop> {
    let touchpoint = offline.touchpoint.trim().to_ascii_lowercase();
    if touchpoint.is_empty() {
        return Err(SegmentDrop::MissingEventName);
    }
    let (name, medium) = match touchpoint.as_str() {
        "visit" | "store_visit" => ("store_visit", "offline"),
        "phone" | "call" => ("call", "phone"),
        "till" | "purchase" => ("purchase", "offline"),
        other => (other, "offline"),
    };
    let mut properties = offline.properties.clone();
    properties.insert("touchpoint".into(), touchpoint.clone().into());
    let mut campaign = Map::new();
    campaign.insert("medium".into(), medium.into());
    if let Some(source) = offline.properties.get("source").and_then(Value::as_str) {
        campaign.insert("source".into(), source.into());
    } else if medium == "phone" {
        campaign.insert("source".into(), "phone".into());
    }
    let mut message = Map::new();
    message.insert("type".into(), "track".into());
    message.insert("event".into(), name.into());
    if let Some(user) = offline.user_id.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
        message.insert("userId".into(), user.into());
    }
    let mut ctx = Map::new();
    if let Some(email) = offline.email.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
        let mut traits = Map::new();
        traits.insert("email".into(), email.into());
        ctx.insert("traits".into(), Value::Object(traits));
    }
    ctx.insert("campaign".into(), Value::Object(campaign));
    message.insert("context".into(), Value::Object(ctx));
    message.insert("properties".into(), Value::Object(properties));
    if let Some(time) = offline.timestamp {
        message.insert("timestamp".into(), time.to_rfc3339().into());
    }
    if let Some(id) = &offline.message_id {
        message.insert("messageId".into(), format!("offline:{id}").into());
    }
    // The sender's clock is the business's own: no skew correction.
    let context = MessageContext { batch_sent_at: None, ..*context };
    convert(&Value::Object(message), Some("track"), &context, enricher)
}

/// The event's time by Segment's rule: `timestamp` (or `originalTimestamp`) shifted by the
/// sender's clock error, `receivedAt - sentAt`, when `sentAt` is known; `receivedAt` when the
/// message has no time at all.
fn message_time(m: &Map<String, Value>, context: &MessageContext) -> Result<Timestamp, SegmentDrop> {
    let read = |key: &str| -> Result<Option<Timestamp>, SegmentDrop> {
        match m.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => parse_timestamp(s).map(Some).map_err(|_| SegmentDrop::BadTimestamp),
            Some(_) => Err(SegmentDrop::BadTimestamp),
        }
    };
    let timestamp = match read("timestamp")? {
        Some(t) => Some(t),
        None => read("originalTimestamp")?,
    };
    let sent_at = read("sentAt")?.or(context.batch_sent_at);
    Ok(match (timestamp, sent_at) {
        (Some(t), Some(sent)) => t.add_millis(context.received_at.0 - sent.0),
        (Some(t), None) => t,
        (None, _) => context.received_at,
    })
}

/// An id Segment allows as a string or a number.
fn id_field(m: &Map<String, Value>, key: &str) -> Option<String> {
    match m.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The object under `key`, borrowed (an empty one when absent), so reading a message's context
/// copies nothing.
fn object<'m>(m: &'m Map<String, Value>, key: &str) -> &'m Map<String, Value> {
    static EMPTY: std::sync::LazyLock<Map<String, Value>> = std::sync::LazyLock::new(Map::new);
    match m.get(key) {
        Some(Value::Object(o)) => o,
        _ => &EMPTY,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use trailmap_model::{IdentityKind, Money};

    fn ctx() -> MessageContext {
        MessageContext {
            received_at: parse_timestamp("2026-01-01T12:00:00Z").unwrap(),
            batch_sent_at: None,
            currency: Currency::USD,
        }
    }

    fn run(m: Value) -> Result<Converted, SegmentDrop> {
        convert(&m, None, &ctx(), &mut Enricher::new())
    }

    #[test]
    fn a_page_takes_utm_tags_from_the_url_and_becomes_a_page_view() {
        let c = run(json!({"type": "page", "anonymousId": "a1", "messageId": "m1",
            "timestamp": "2026-01-01T11:00:00Z",
            "context": {"page": {"url": "https://shop.example/spring?utm_source=news&utm_medium=email&utm_campaign=s1",
                                 "referrer": "https://mail.example/"}}}))
        .unwrap();
        let e = &c.event.event;
        assert_eq!(e.name, "page_view");
        assert_eq!(e.page.as_deref(), Some("/spring"));
        assert_eq!((e.source.as_deref(), e.medium.as_deref(), e.campaign.as_deref()), (Some("news"), Some("email"), Some("s1")));
        assert_eq!(e.channel.as_deref(), Some("Email"));
        assert_eq!(e.identity, Identity::anonymous("a1").unwrap());
        assert_eq!(e.key, EventKey::from_id("segment", "m1"));
        assert_eq!(e.time, parse_timestamp("2026-01-01T11:00:00Z").unwrap());
    }

    #[test]
    fn the_campaign_object_wins_over_the_url() {
        let c = run(json!({"type": "page", "anonymousId": "a1",
            "context": {"campaign": {"source": "facebook", "medium": "paid_social", "name": "winter"},
                        "page": {"url": "https://shop.example/?utm_source=other"}}}))
        .unwrap();
        assert_eq!(c.event.event.source.as_deref(), Some("facebook"));
        assert_eq!(c.event.event.channel.as_deref(), Some("Paid Social"));
    }

    #[test]
    fn clock_skew_is_corrected_from_sent_at() {
        // The device's clock is two hours fast: it says it sent at 14:00 what arrived at 12:00.
        let c = run(json!({"type": "track", "event": "x", "userId": "u",
            "timestamp": "2026-01-01T13:59:00Z", "sentAt": "2026-01-01T14:00:00Z"}))
        .unwrap();
        assert_eq!(c.event.event.time, parse_timestamp("2026-01-01T11:59:00Z").unwrap());
        let mut with_batch = ctx();
        with_batch.batch_sent_at = Some(parse_timestamp("2026-01-01T11:00:00Z").unwrap());
        let m = json!({"type": "track", "event": "x", "userId": "u", "timestamp": "2026-01-01T10:30:00Z"});
        let c = convert(&m, None, &with_batch, &mut Enricher::new()).unwrap();
        assert_eq!(c.event.event.time, parse_timestamp("2026-01-01T11:30:00Z").unwrap());
        let c = run(json!({"type": "track", "event": "x", "userId": "u"})).unwrap();
        assert_eq!(c.event.event.time, ctx().received_at);
    }

    #[test]
    fn identify_links_both_ids_and_the_email_and_carries_traits() {
        let c = run(json!({"type": "identify", "userId": 42, "anonymousId": "anon",
            "traits": {"email": "Ann@Example.com", "firstName": "Ann", "lastName": "Lee", "plan": "pro"}}))
        .unwrap();
        assert_eq!(c.event.event.identity, Identity::external("42").unwrap());
        let kinds: Vec<IdentityKind> = c.event.also_known_as.iter().map(|i| i.kind).collect();
        assert_eq!(kinds, [IdentityKind::Email, IdentityKind::Anonymous]);
        let customer = c.customer.unwrap();
        assert_eq!(customer.name.as_deref(), Some("Ann Lee"));
        assert_eq!(customer.identities.len(), 3);
        assert_eq!(customer.properties["plan"], json!("pro"));
    }

    #[test]
    fn invalid_messages_are_dropped_with_their_reason() {
        assert_eq!(run(json!([1])), Err(SegmentDrop::NotAnObject));
        assert_eq!(run(json!({"userId": "u"})), Err(SegmentDrop::MissingType));
        assert_eq!(run(json!({"type": "nope", "userId": "u"})), Err(SegmentDrop::UnknownType));
        assert_eq!(run(json!({"type": "track", "event": "x"})), Err(SegmentDrop::MissingIdentity));
        assert_eq!(run(json!({"type": "track", "userId": "u", "event": " "})), Err(SegmentDrop::MissingEventName));
        assert_eq!(run(json!({"type": "group", "userId": "u"})), Err(SegmentDrop::MissingGroupId));
        assert_eq!(run(json!({"type": "alias", "userId": "u"})), Err(SegmentDrop::MissingPreviousId));
        assert_eq!(run(json!({"type": "track", "event": "x", "userId": "u", "timestamp": "soon"})), Err(SegmentDrop::BadTimestamp));
        let bot = run(json!({"type": "page", "userId": "u", "context": {"userAgent": "Googlebot/2.1"}}));
        assert_eq!(bot, Err(SegmentDrop::Enrichment(DropReason::Bot)));
        assert!(!SegmentDrop::Enrichment(DropReason::Bot).is_malformed());
    }

    #[test]
    fn control_characters_and_ambiguous_revenue_are_refused_not_stored() {
        let track = |extra: Value| {
            let mut m = json!({"type": "track", "userId": "u", "event": "sign_up"});
            m.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            run(m)
        };
        assert_eq!(run(json!({"type": "track", "userId": "u", "event": "sign\u{0}up"})), Err(SegmentDrop::InvalidText));
        assert_eq!(track(json!({"properties": {"pl\u{1}an": "pro"}})), Err(SegmentDrop::InvalidText));
        assert_eq!(track(json!({"properties": {"revenue": "12,50"}})), Err(SegmentDrop::BadRevenue));
        assert_eq!(track(json!({"properties": {"revenue": true}})), Err(SegmentDrop::BadRevenue));
        let read = |revenue: Value| track(json!({"properties": {"revenue": revenue}})).unwrap().event.event.revenue;
        assert_eq!(read(json!("12.50")), Some(Money::new(1250, Currency::USD)));
        assert_eq!(read(json!(12.5)), Some(Money::new(1250, Currency::USD)));
        assert_eq!(read(json!(1234)), Some(Money::new(123400, Currency::USD)));
        assert_eq!(read(Value::Null), None);
    }

    #[test]
    fn offline_touchpoints_get_the_demos_names_and_channels() {
        let offline = |touchpoint: &str, email: Option<&str>, user: Option<&str>| OfflineTouchpoint {
            email: email.map(str::to_string),
            user_id: user.map(str::to_string),
            touchpoint: touchpoint.to_string(),
            timestamp: Some(parse_timestamp("2026-01-01T09:00:00Z").unwrap()),
            ..OfflineTouchpoint::default()
        };
        let run = |o: &OfflineTouchpoint| convert_offline(o, &ctx(), &mut Enricher::new());
        for (touchpoint, name, medium, channel) in [
            ("phone", "call", "phone", "Phone"),
            ("Call", "call", "phone", "Phone"),
            ("visit", "store_visit", "offline", "In-store"),
            ("till", "purchase", "offline", "In-store"),
            ("pop-up stall", "pop-up stall", "offline", "In-store"),
        ] {
            let e = run(&offline(touchpoint, Some("Ann@Example.com"), None)).unwrap().event.event;
            assert_eq!((e.name.as_str(), e.medium.as_deref(), e.channel.as_deref()), (name, Some(medium), Some(channel)), "{touchpoint}");
            assert_eq!(e.identity, Identity::email("ann@example.com").unwrap());
            assert_eq!(e.time, parse_timestamp("2026-01-01T09:00:00Z").unwrap(), "no skew correction");
            assert_eq!(e.properties["touchpoint"], serde_json::json!(touchpoint.to_ascii_lowercase()));
        }
        // By customer id, with revenue on a till purchase and a message id that makes it land once.
        let mut till = offline("till", None, Some("c-9"));
        till.properties.insert("revenue".into(), "4.50".into());
        till.message_id = Some("r1".into());
        let e = run(&till).unwrap().event.event;
        assert_eq!((e.identity.clone(), e.revenue), (Identity::external("c-9").unwrap(), Some(Money::new(450, Currency::USD))));
        assert_eq!(e.key, run(&till).unwrap().event.event.key);
        assert_eq!(e.key, EventKey::from_id(KEY_NAMESPACE, "offline:r1"));
        // Both identities name one customer; none is an error; so is an empty touchpoint.
        let both = run(&offline("visit", Some("a@b.co"), Some("c-1"))).unwrap();
        assert_eq!(both.event.also_known_as, [Identity::email("a@b.co").unwrap()]);
        assert_eq!(run(&offline("visit", None, Some(" "))), Err(SegmentDrop::MissingIdentity));
        assert_eq!(run(&offline(" ", Some("a@b.co"), None)), Err(SegmentDrop::MissingEventName));
        // Without a time, the time it was received.
        let mut now = offline("visit", Some("a@b.co"), None);
        now.timestamp = None;
        assert_eq!(run(&now).unwrap().event.event.time, ctx().received_at);
    }

    #[test]
    fn alias_group_screen_and_revenue() {
        let c = run(json!({"type": "alias", "userId": "new", "previousId": "old"})).unwrap();
        assert_eq!(c.event.event.identity, Identity::external("new").unwrap());
        assert_eq!(c.event.also_known_as, [Identity::external("old").unwrap(), Identity::anonymous("old").unwrap()]);
        let c = run(json!({"type": "group", "userId": "u", "groupId": "g1", "traits": {"size": 3}})).unwrap();
        assert_eq!(c.event.event.properties["groupId"], json!("g1"));
        let c = run(json!({"type": "screen", "userId": "u", "name": "Home"})).unwrap();
        assert_eq!((c.event.event.name.as_str(), &c.event.event.properties["name"]), ("screen_view", &json!("Home")));
        let c = run(json!({"type": "track", "userId": "u", "event": "Order Completed",
            "properties": {"revenue": 12.5, "currency": "EUR"}}))
        .unwrap();
        assert_eq!(c.event.event.revenue, Some(Money::new(1250, Currency::EUR)));
        // Without a message id the key comes from the content, so a resent message still lands once.
        let a = run(json!({"type": "track", "userId": "u", "event": "x", "timestamp": "2026-01-01T00:00:00Z"})).unwrap();
        let b = run(json!({"type": "track", "userId": "u", "event": "x", "timestamp": "2026-01-01T00:00:00Z"})).unwrap();
        assert_eq!(a.event.event.key, b.event.event.key);
    }
}
