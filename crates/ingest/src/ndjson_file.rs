//! NDJSON files: one JSON object per line, read in bounded memory and strictly (a key given twice
//! is refused), each object's keys matched to our fields by the same aliases as CSV columns.
//! Segment-shaped exports (`context.page`, `context.campaign`, `traits`) are understood.

use crate::fields::{self, FieldSpec, ev, normalise};
use crate::row::{Row, Val};
use crate::text::MAX_RECORD_BYTES;
use crate::RecordKind;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use serde_json::Value;
use std::borrow::Cow;
use std::io::{self, BufRead};

/// What one read gives.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum LineRead {
    /// A line, now in the source's buffer.
    Line(u64),
    /// A line longer than [`MAX_RECORD_BYTES`], skipped without being kept.
    TooLong(u64),
    End,
}

/// The lines of an NDJSON file and how its keys map to fields.
pub(crate) struct NdjsonSource<R> {
    input: R,
    pub buf: Vec<u8>,
    line: u64,
    pub keys: KeyMap,
}

impl<R: BufRead> NdjsonSource<R> {
    pub fn new(input: R, kind: RecordKind, specs: &[FieldSpec], overrides: &[(usize, String)]) -> NdjsonSource<R> {
        NdjsonSource { input, buf: Vec::new(), line: 0, keys: KeyMap::new(kind, specs, overrides) }
    }

    /// Reads the next line into `buf` (without its line break), or skips it when it is too long.
    pub fn read(&mut self) -> io::Result<LineRead> {
        self.buf.clear();
        let mut too_long = false;
        let mut any = false;
        loop {
            let chunk = self.input.fill_buf()?;
            if chunk.is_empty() {
                if !any {
                    return Ok(LineRead::End);
                }
                break;
            }
            any = true;
            let (part, ends) = match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => (&chunk[..i], Some(i + 1)),
                None => (chunk, None),
            };
            if !too_long {
                if self.buf.len() + part.len() > MAX_RECORD_BYTES {
                    too_long = true;
                    self.buf.clear();
                } else {
                    self.buf.extend_from_slice(part);
                }
            }
            let used = ends.unwrap_or(chunk.len());
            self.input.consume(used);
            if ends.is_some() {
                break;
            }
        }
        self.line += 1;
        Ok(if too_long { LineRead::TooLong(self.line) } else { LineRead::Line(self.line) })
    }

    /// The line number of the last line read, or of the line where reading failed.
    pub fn line(&self) -> u64 {
        self.line
    }
}

/// Keys of the Segment envelope that are not the event's data; they are left out of properties.
const ENVELOPE: [&str; 6] = ["integrations", "sentAt", "receivedAt", "originalTimestamp", "writeKey", "_metadata"];
/// Segment's `channel` says which library sent the call, not the traffic channel.
const LIBRARY_CHANNELS: [&str; 4] = ["browser", "server", "client", "mobile"];
/// Keys of an NDJSON order that hold its line items.
const ITEM_KEYS: [&str; 5] = ["lines", "items", "lineitems", "products", "line_items"];

/// Matches NDJSON keys to fields. Keys repeat on every line, so each key's match is cached.
pub(crate) struct KeyMap {
    kind: RecordKind,
    /// Normalised alias to (field, rank); a lower rank is a better alias.
    aliases: HashMap<String, (usize, usize)>,
    overrides: HashMap<String, usize>,
    cache: HashMap<String, Option<(usize, usize)>>,
}

/// Values found under `context` rank after every top-level key.
const CONTEXT_RANK: usize = 1_000;

impl KeyMap {
    fn new(kind: RecordKind, specs: &[FieldSpec], overrides: &[(usize, String)]) -> KeyMap {
        let overridden: HashSet<usize> = overrides.iter().map(|(f, _)| *f).collect();
        let mut aliases = HashMap::default();
        for (field, spec) in specs.iter().enumerate() {
            if overridden.contains(&field) {
                continue;
            }
            for (rank, alias) in spec.aliases.iter().enumerate() {
                aliases.entry(normalise(alias)).or_insert((field, rank + 1));
            }
        }
        let overrides = overrides.iter().filter(|(_, key)| !key.is_empty()).map(|(f, key)| (key.clone(), *f)).collect();
        KeyMap { kind, aliases, overrides, cache: HashMap::default() }
    }

    fn lookup(&mut self, key: &str) -> Option<(usize, usize)> {
        if let Some(hit) = self.cache.get(key) {
            return *hit;
        }
        let found = match self.overrides.get(key) {
            Some(&field) => Some((field, 0)),
            None => self.aliases.get(&normalise(key)).copied(),
        };
        if self.cache.len() < 4_096 {
            self.cache.insert(key.to_string(), found);
        }
        found
    }

    pub fn row<'a>(&mut self, map: &'a serde_json::Map<String, Value>, fields: usize) -> Row<'a> {
        let events = self.kind == RecordKind::Events;
        let keeps_extras = matches!(self.kind, RecordKind::Events | RecordKind::Customers);
        let mut row = Row::with_fields(fields);
        let mut ranks = vec![usize::MAX; fields];
        for (key, value) in map {
            if events && key == "context" {
                if let Value::Object(context) = value {
                    take_context(context, &mut row, &mut ranks);
                }
                continue;
            }
            if events && ENVELOPE.contains(&key.as_str()) {
                continue;
            }
            match self.lookup(key) {
                Some((field, rank)) => {
                    let properties_field = match self.kind {
                        RecordKind::Events => Some(ev::PROPERTIES),
                        RecordKind::Customers => Some(fields::cu::PROPERTIES),
                        _ => None,
                    };
                    if Some(field) == properties_field
                        && let Value::Object(nested) = value
                    {
                        row.nested.push(nested);
                        continue;
                    }
                    let Some(val) = scalar(value, key) else { continue };
                    if events && field == ev::CHANNEL && LIBRARY_CHANNELS.contains(&val.text.as_ref()) {
                        continue;
                    }
                    if rank < ranks[field] {
                        ranks[field] = rank;
                        row.values[field] = Some(val);
                    }
                }
                None => {
                    if self.kind == RecordKind::Orders
                        && ITEM_KEYS.contains(&normalise(key).as_str())
                        && let Value::Array(items) = value
                    {
                        row.items = Some(items);
                    } else if keeps_extras
                        && key == "traits"
                        && let Value::Object(nested) = value
                    {
                        row.nested.push(nested);
                    } else if keeps_extras && !value.is_null() {
                        row.extras.push((Cow::Borrowed(key.as_str()), value.clone()));
                    }
                }
            }
        }
        row
    }
}

/// Takes what Segment puts under `context`: the page's URL and referrer, the campaign, and the
/// user agent.
fn take_context<'a>(context: &'a serde_json::Map<String, Value>, row: &mut Row<'a>, ranks: &mut [usize]) {
    let mut put = |field: usize, value: Option<&'a Value>, column: &'static str| {
        if let Some(val) = value.and_then(|v| scalar(v, column))
            && CONTEXT_RANK < ranks[field]
        {
            ranks[field] = CONTEXT_RANK;
            row.values[field] = Some(val);
        }
    };
    let page = context.get("page");
    put(ev::PAGE, page.and_then(|p| p.get("url")), "context.page.url");
    put(ev::REFERRER, page.and_then(|p| p.get("referrer")), "context.page.referrer");
    let campaign = context.get("campaign");
    put(ev::SOURCE, campaign.and_then(|c| c.get("source")), "context.campaign.source");
    put(ev::MEDIUM, campaign.and_then(|c| c.get("medium")), "context.campaign.medium");
    put(ev::CAMPAIGN, campaign.and_then(|c| c.get("name")), "context.campaign.name");
    put(ev::USER_AGENT, context.get("userAgent"), "context.userAgent");
}

/// A JSON value as a field's value: strings trimmed (blank is absent), numbers as written (and
/// marked as JSON numbers, which are never ambiguous), booleans as `true`/`false`, objects and
/// arrays as JSON text, null absent.
fn scalar<'a>(value: &'a Value, column: &'a str) -> Option<Val<'a>> {
    let (text, json_number) = match value {
        Value::Null => return None,
        Value::String(s) => {
            let t = s.trim();
            if t.is_empty() {
                return None;
            }
            (Cow::Borrowed(t), false)
        }
        Value::Bool(b) => (Cow::Borrowed(if *b { "true" } else { "false" }), false),
        Value::Number(n) => (Cow::Owned(n.to_string()), true),
        other => (Cow::Owned(other.to_string()), false),
    };
    Some(Val { text, column, json_number })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_past_the_limit_are_skipped_and_counted() {
        let mut data = b"{\"a\":1}\n".to_vec();
        data.extend(std::iter::repeat_n(b'x', MAX_RECORD_BYTES + 1));
        data.extend(b"\n{\"b\":2}");
        let mut source = NdjsonSource::new(io::BufReader::with_capacity(1000, &data[..]), RecordKind::Events, &[], &[]);
        assert_eq!(source.read().unwrap(), LineRead::Line(1));
        assert_eq!(source.buf, b"{\"a\":1}");
        assert_eq!(source.read().unwrap(), LineRead::TooLong(2));
        assert!(source.buf.is_empty(), "nothing of the long line is kept");
        assert_eq!(source.read().unwrap(), LineRead::Line(3));
        assert_eq!(source.buf, b"{\"b\":2}");
        assert_eq!(source.read().unwrap(), LineRead::End);
    }
}
