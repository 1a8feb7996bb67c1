//! Journey fixtures: a small text language for writing exact test cases, one customer block after
//! another, one event or order per line. Tests of funnels, paths, attribution and identity
//! resolution read far better as a few lines of journeys than as hand-built structs.
//!
//! ```text
//! # comments start with '#' at the start of a word; blank lines are ignored
//! customer alice email=alice@example.com id=C1 name="Alice Moreau" city=Lyon
//!   2024-01-01 10:00:00 page_view page=/ source=google medium=cpc
//!   +5m  product_view page=/p/scarf
//!   +30s add_to_cart
//!   +2h  order total=49.90 lines="Scarf:1:49.90"
//! customer anon:v-77
//!   2024-01-02T09:00:00Z store_visit medium=offline
//! ```
//!
//! A `customer` line starts a block. Its first word is a label, or an identity written
//! `kind:value` (`anon:`, `email:`, `id:`), which is then also the label. Then `email=`, `id=`
//! (or `external=`) and `anon=` (or `anonymous=`) add identities, `name=` names the customer, and
//! any other key becomes a customer property. A label with no identity at all stands for the
//! external id of that name.
//!
//! Every other line belongs to the current customer: a time (RFC 3339, `YYYY-MM-DD HH:MM:SS` in
//! UTC, or `+1h30m` after that customer's previous line, with units ms, s, m, h, d), then the event
//! name, then `key=value` pairs. `page`, `source`, `medium`, `campaign`, `referrer`, `channel`,
//! `revenue` and `currency` fill the event's fields. By default a row carries every identity of
//! the header (the first as its own, the rest in `also_known_as`); `as=kind:value` makes the row
//! carry only that identity, as a visitor's rows do before they identify, and `also=kind:value`
//! (repeatable) adds to `also_known_as`; any other key is a property. Unquoted numbers and
//! `true`/`false` become JSON numbers and booleans; quoted values (with `\"` and `\\` escapes) are always text.
//!
//! The event name `order` makes an order instead: `total=` is required; `subtotal`, `shipping`,
//! `tax`, `discount`, `status`, `channel`, `source`, `currency`, `id` (the order number, by default
//! `fixture-N`), `lines="Name:qty:price[:sku];..."` and `as`/`also` (the buyer's identities, as for
//! events) are understood, and any other key is an order property.

use crate::sink::Sink;
use chrono::NaiveDateTime;
use trailmap_model::{
    BusinessId, Currency, CustomerId, Event, Identity, IdentityKind, IncomingCustomer,
    IncomingEvent, IncomingOrder, Money, OrderLine, Properties, Timestamp,
};

/// Why a fixture could not be read, and on which line (1-based).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct FixtureError {
    pub line: usize,
    pub reason: String,
}

/// One customer block of a fixture.
#[derive(Debug, Clone, PartialEq)]
pub struct FixtureCustomer {
    /// The word after `customer`, used to refer to the customer in tests.
    pub label: String,
    /// The identities named in the header, most trusted first as written.
    pub identities: Vec<Identity>,
    pub name: Option<String>,
    pub properties: Properties,
    /// The line of the header, for messages.
    pub line: usize,
}

/// One event or order line, with the index of its customer in [`Fixture::customers`].
#[derive(Debug, Clone, PartialEq)]
pub enum FixtureRecord {
    Event { customer: usize, line: usize, event: IncomingEvent },
    Order { customer: usize, line: usize, order: IncomingOrder },
}

/// A parsed fixture: customers, and their events and orders in the order they were written.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Fixture {
    pub customers: Vec<FixtureCustomer>,
    pub records: Vec<FixtureRecord>,
}

impl Fixture {
    pub fn events(&self) -> impl Iterator<Item = &IncomingEvent> {
        self.records.iter().filter_map(|r| match r {
            FixtureRecord::Event { event, .. } => Some(event),
            FixtureRecord::Order { .. } => None,
        })
    }

    pub fn orders(&self) -> impl Iterator<Item = &IncomingOrder> {
        self.records.iter().filter_map(|r| match r {
            FixtureRecord::Order { order, .. } => Some(order),
            FixtureRecord::Event { .. } => None,
        })
    }

    pub fn customer(&self, label: &str) -> Option<&FixtureCustomer> {
        self.customers.iter().find(|c| c.label == label)
    }

    /// Writes the fixture into a sink: first every customer with the identities of its header
    /// (so they are one customer from the start), then the events and orders in written order.
    /// Identities used only through `as=`/`also=` are not registered, so the sink has to merge
    /// them itself. Returns the sink's customer ids, in customer order.
    pub fn write_to<S: Sink>(
        &self,
        sink: &mut S,
        business: BusinessId,
    ) -> Result<Vec<CustomerId>, S::Error> {
        let mut ids = Vec::with_capacity(self.customers.len());
        for (index, customer) in self.customers.iter().enumerate() {
            let first_seen = self.records.iter().find_map(|record| match record {
                FixtureRecord::Event { customer, event, .. } if *customer == index => Some(event.event.time),
                FixtureRecord::Order { customer, order, .. } if *customer == index => Some(order.time),
                _ => None,
            });
            ids.push(sink.customer(
                business,
                IncomingCustomer {
                    identities: customer.identities.clone(),
                    name: customer.name.clone(),
                    first_seen,
                    properties: customer.properties.clone(),
                },
            )?);
        }
        for record in &self.records {
            match record {
                FixtureRecord::Event { event, .. } => sink.event(business, event.clone())?,
                FixtureRecord::Order { order, .. } => sink.order(business, order.clone())?,
            }
        }
        Ok(ids)
    }
}

/// Parses the journey fixture language described in this module's documentation.
pub fn journeys(text: &str) -> Result<Fixture, FixtureError> {
    let mut fixture = Fixture::default();
    // The time of each customer's previous line, for relative times.
    let mut last_time: Vec<Option<Timestamp>> = Vec::new();
    let mut orders = 0usize;
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let fail = |reason: String| FixtureError { line, reason };
        let content = strip_comment(raw);
        let words = split_words(content).map_err(fail)?;
        let Some(first) = words.first() else { continue };
        if first.text == "customer" && !first.quoted {
            let customer = parse_customer(&words[1..], line).map_err(fail)?;
            if fixture.customers.iter().any(|c| c.label == customer.label) {
                return Err(fail(format!("customer {:?} is already defined", customer.label)));
            }
            fixture.customers.push(customer);
            last_time.push(None);
            continue;
        }
        let Some(customer) = fixture.customers.len().checked_sub(1) else {
            return Err(fail("an event line before any `customer` line".into()));
        };
        let (time, rest) = parse_time(&words, last_time[customer]).map_err(fail)?;
        last_time[customer] = Some(time);
        let Some((name, pairs)) = rest.split_first() else {
            return Err(fail("expected an event name after the time".into()));
        };
        if name.quoted || name.text.contains('=') {
            return Err(fail(format!("expected an event name after the time, found {:?}", name.text)));
        }
        let pairs = parse_pairs(pairs).map_err(fail)?;
        let owner = &fixture.customers[customer];
        let record = if name.text == "order" {
            orders += 1;
            let order = parse_order(owner, time, pairs, orders).map_err(fail)?;
            FixtureRecord::Order { customer, line, order }
        } else {
            let event = parse_event(owner, &name.text, time, pairs).map_err(fail)?;
            FixtureRecord::Event { customer, line, event }
        };
        fixture.records.push(record);
    }
    Ok(fixture)
}

/// A word of a line, remembering whether it was quoted so `"customer"` is not a keyword.
#[derive(Debug)]
struct Word {
    text: String,
    quoted: bool,
}

/// Drops a `#` comment: a `#` at the start of a word and outside quotes, so URLs with fragments
/// (`referrer=https://a.example/#top`) keep theirs.
fn strip_comment(line: &str) -> &str {
    let mut quoted = false;
    let mut escaped = false;
    let mut word_start = true;
    for (at, c) in line.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '#' if !quoted && word_start => return &line[..at],
            _ => {}
        }
        word_start = !quoted && c.is_whitespace();
    }
    line
}

/// Splits on whitespace; a double-quoted stretch (anywhere in a word, as in `lines="a b"`) keeps
/// its spaces and loses its quotes.
fn split_words(line: &str) -> Result<Vec<Word>, String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut in_word = false;
    let mut quoted = false;
    let mut was_quoted = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' => quoted = false,
                '\\' => match chars.next() {
                    Some(next) => current.push(next),
                    None => return Err("a backslash at the end of the line".into()),
                },
                _ => current.push(c),
            }
        } else if c == '"' {
            quoted = true;
            was_quoted = true;
            in_word = true;
        } else if c.is_whitespace() {
            if in_word {
                words.push(Word { text: std::mem::take(&mut current), quoted: was_quoted });
                in_word = false;
                was_quoted = false;
            }
        } else {
            current.push(c);
            in_word = true;
        }
    }
    if quoted {
        return Err("a quote is not closed".into());
    }
    if in_word {
        words.push(Word { text: current, quoted: was_quoted });
    }
    Ok(words)
}

/// A `key=value` pair; `quoted` says whether the value was written in quotes.
struct Pair {
    key: String,
    value: String,
    quoted: bool,
}

fn parse_pairs(words: &[Word]) -> Result<Vec<Pair>, String> {
    words
        .iter()
        .map(|word| {
            let Some((key, value)) = word.text.split_once('=') else {
                return Err(format!("expected key=value, found {:?}", word.text));
            };
            if key.is_empty() {
                return Err(format!("a value without a key: {:?}", word.text));
            }
            // A quoted key is odd but harmless; what matters is whether the value was quoted.
            Ok(Pair { key: key.to_string(), value: value.to_string(), quoted: word.quoted })
        })
        .collect()
}

/// Reads `kind:value`, as in the header's first word and in `as=`/`also=`.
fn parse_identity(text: &str) -> Result<Identity, String> {
    let Some((kind, value)) = text.split_once(':') else {
        return Err(format!("expected an identity kind:value (anon:, email:, id:), found {text:?}"));
    };
    let kind = identity_kind(kind)
        .ok_or_else(|| format!("unknown identity kind {kind:?}: expected anon, email or id"))?;
    identity_of(kind, value)
}

fn identity_kind(word: &str) -> Option<IdentityKind> {
    match word {
        "anon" | "anonymous" => Some(IdentityKind::Anonymous),
        "email" => Some(IdentityKind::Email),
        "id" | "external" => Some(IdentityKind::External),
        _ => None,
    }
}

fn identity_of(kind: IdentityKind, value: &str) -> Result<Identity, String> {
    Identity::new(kind, value).ok_or_else(|| format!("an empty {} identity", kind.as_str()))
}

fn parse_customer(words: &[Word], line: usize) -> Result<FixtureCustomer, String> {
    let Some((label_word, rest)) = words.split_first() else {
        return Err("`customer` needs a label or an identity".into());
    };
    if label_word.text.contains('=') {
        return Err(format!("`customer` needs a label before {:?}", label_word.text));
    }
    let mut customer = FixtureCustomer {
        label: label_word.text.clone(),
        identities: Vec::new(),
        name: None,
        properties: Properties::new(),
        line,
    };
    if label_word.text.contains(':') {
        customer.identities.push(parse_identity(&label_word.text)?);
    }
    for pair in parse_pairs(rest)? {
        match identity_kind(&pair.key) {
            Some(kind) => customer.identities.push(identity_of(kind, &pair.value)?),
            None if pair.key == "name" => customer.name = Some(pair.value),
            None => {
                customer.properties.insert(pair.key, json_value(&pair.value, pair.quoted));
            }
        }
    }
    if customer.identities.is_empty() {
        customer.identities.push(identity_of(IdentityKind::External, &customer.label)?);
    }
    Ok(customer)
}

/// Reads the time at the start of an event line and returns the remaining words.
fn parse_time(words: &[Word], previous: Option<Timestamp>) -> Result<(Timestamp, &[Word]), String> {
    let Some(first) = words.first() else {
        return Err("an empty line".into());
    };
    if let Some(offset) = first.text.strip_prefix('+') {
        let Some(previous) = previous else {
            return Err(format!(
                "relative time {:?} on the customer's first line: the first line needs an absolute time",
                first.text
            ));
        };
        return Ok((previous.add_millis(parse_duration(offset)?), &words[1..]));
    }
    if let Some(second) = words.get(1) {
        let joined = format!("{} {}", first.text, second.text);
        if let Ok(at) = NaiveDateTime::parse_from_str(&joined, "%Y-%m-%d %H:%M:%S%.f") {
            return Ok((Timestamp(at.and_utc().timestamp_millis()), &words[2..]));
        }
    }
    if let Ok(at) = Timestamp::parse_rfc3339(&first.text) {
        return Ok((at, &words[1..]));
    }
    Err(format!(
        "expected a time (RFC 3339, YYYY-MM-DD HH:MM:SS or +N[ms|s|m|h|d]), found {:?}",
        first.text
    ))
}

/// Reads `1h30m`, `45s`, `250ms`, `2d` by the model's one duration reader.
/// A fixture may also write a zero offset (`+0s`: at the same moment as the line before), which
/// a window or a lookback may not be.
fn parse_duration(text: &str) -> Result<i64, String> {
    match trailmap_model::parse_duration(text) {
        Ok(ms) => Ok(ms),
        Err(_) if text.chars().any(|c| c.is_ascii_digit()) && text.chars().filter(|c| c.is_ascii_digit()).all(|c| c == '0') && trailmap_model::parse_duration(&text.replacen('0', "1", 1)).is_ok() => Ok(0),
        Err(reason) => Err(format!("bad relative time \"+{text}\": {reason}")),
    }
}

/// Unquoted numbers and booleans become JSON numbers and booleans; everything else is text.
fn json_value(text: &str, quoted: bool) -> serde_json::Value {
    if !quoted {
        if let Ok(n) = text.parse::<i64>() {
            return serde_json::Value::from(n);
        }
        if let Ok(x) = text.parse::<f64>()
            && x.is_finite()
        {
            return serde_json::Value::from(x);
        }
        match text {
            "true" => return serde_json::Value::Bool(true),
            "false" => return serde_json::Value::Bool(false),
            _ => {}
        }
    }
    serde_json::Value::String(text.to_string())
}

/// The currency named by a `currency=` pair, or USD.
fn currency_of(pairs: &[Pair]) -> Result<Currency, String> {
    match pairs.iter().find(|p| p.key == "currency") {
        Some(pair) => Currency::parse(&pair.value)
            .ok_or_else(|| format!("not a currency code: {:?}", pair.value)),
        None => Ok(Currency::USD),
    }
}

fn money(key: &str, text: &str, currency: Currency) -> Result<Money, String> {
    Money::parse_decimal(text, currency)
        .ok_or_else(|| format!("{key}={text:?} is not an amount in {currency}"))
}

fn parse_event(
    owner: &FixtureCustomer,
    name: &str,
    time: Timestamp,
    pairs: Vec<Pair>,
) -> Result<IncomingEvent, String> {
    let currency = currency_of(&pairs)?;
    let mut event = Event::new(name, time, owner.identities[0].clone());
    let mut own_identity: Option<Identity> = None;
    let mut also: Vec<Identity> = Vec::new();
    for pair in pairs {
        match pair.key.as_str() {
            "page" => event.page = Some(pair.value),
            "source" => event.source = Some(pair.value),
            "medium" => event.medium = Some(pair.value),
            "campaign" => event.campaign = Some(pair.value),
            "referrer" => event.referrer = Some(pair.value),
            "channel" => event.channel = Some(pair.value),
            "revenue" => event.revenue = Some(money("revenue", &pair.value, currency)?),
            "currency" => {}
            "as" => own_identity = Some(parse_identity(&pair.value)?),
            "also" => also.push(parse_identity(&pair.value)?),
            _ => {
                event.properties.insert(pair.key, json_value(&pair.value, pair.quoted));
            }
        }
    }
    // With `as=` the row carries only that identity (and `also=`), as a visitor's rows do before
    // they identify; without it, every header identity rides on the row.
    let mut also_known_as = match own_identity {
        Some(identity) => {
            event.identity = identity;
            also
        }
        None => owner.identities[1..].iter().cloned().chain(also).collect(),
    };
    also_known_as.retain(|identity| *identity != event.identity);
    also_known_as.dedup();
    event.key = event.content_key();
    Ok(IncomingEvent { event, also_known_as })
}

fn parse_order(
    owner: &FixtureCustomer,
    time: Timestamp,
    pairs: Vec<Pair>,
    number: usize,
) -> Result<IncomingOrder, String> {
    let currency = currency_of(&pairs)?;
    let mut order = IncomingOrder {
        external_id: format!("fixture-{number}"),
        origin: String::new(),
        customer: owner.identities.clone(),
        time,
        total: Money::new(0, currency),
        subtotal: None,
        shipping: None,
        tax: None,
        discount: None,
        status: None,
        channel: None,
        source: None,
        lines: Vec::new(),
        properties: Properties::new(),
    };
    let mut total = None;
    let mut own_identity: Option<Identity> = None;
    let mut also: Vec<Identity> = Vec::new();
    for pair in pairs {
        let value = pair.value;
        match pair.key.as_str() {
            "total" => total = Some(money("total", &value, currency)?),
            "subtotal" => order.subtotal = Some(money("subtotal", &value, currency)?),
            "shipping" => order.shipping = Some(money("shipping", &value, currency)?),
            "tax" => order.tax = Some(money("tax", &value, currency)?),
            "discount" => order.discount = Some(money("discount", &value, currency)?),
            "status" => order.status = Some(value),
            "channel" => order.channel = Some(value),
            "source" => order.source = Some(value),
            "id" => order.external_id = value,
            "currency" => {}
            "lines" => order.lines = parse_lines(&value, currency)?,
            "as" => own_identity = Some(parse_identity(&value)?),
            "also" => also.push(parse_identity(&value)?),
            _ => {
                order.properties.insert(pair.key, json_value(&value, pair.quoted));
            }
        }
    }
    order.total = total.ok_or("an order needs total=")?;
    // `as=` names the buyer by that identity alone, as an order from a guest checkout would.
    if let Some(identity) = own_identity {
        order.customer = vec![identity];
    }
    for identity in also {
        if !order.customer.contains(&identity) {
            order.customer.push(identity);
        }
    }
    Ok(order)
}

/// Reads `Name:qty:price[:sku]` items separated by `;`.
fn parse_lines(text: &str, currency: Currency) -> Result<Vec<OrderLine>, String> {
    text.split(';')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            let parts: Vec<&str> = item.split(':').collect();
            let (name, quantity, price, sku) = match parts.as_slice() {
                [name, quantity, price] => (*name, *quantity, *price, None),
                [name, quantity, price, sku] => (*name, *quantity, *price, Some(*sku)),
                _ => return Err(format!("order line {item:?} is not Name:qty:price[:sku]")),
            };
            let quantity: i64 = quantity
                .trim()
                .parse()
                .map_err(|_| format!("order line {item:?}: quantity {quantity:?} is not a whole number"))?;
            Ok(OrderLine {
                sku: sku.map(|s| s.trim().to_string()),
                name: name.trim().to_string(),
                quantity,
                unit_price: money("line price", price.trim(), currency)?,
            })
        })
        .collect()
}
