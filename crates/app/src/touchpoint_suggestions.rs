//! Touchpoints suggested from what a business has received, in one list to accept or dismiss,
//! each with its volume (events and customers since the first event):
//!
//! - one per traffic channel seen (GA4's channel groups, and In-store and Phone), as
//!   `*[channel=NAME]`;
//! - key pages found in page paths (checkout, cart, product, contact, sign-up), as
//!   `page_view[page^=PREFIX]` with the path prefix most of their views share;
//! - email events (`email_open`, `email_click`, ...), by name;
//! - offline kinds (what `POST /v1/offline` reported: till, phone, visit, ...), as
//!   `*[offline_kind=KIND]`;
//! - referral links (`?ref=` codes), as `*[referral_code]`;
//! - surveys with answers that are asked at no touchpoint: answers are not events, so such a
//!   touchpoint starts without a rule; accepting ties the survey to it, so its scores show there
//!   on the maps, and the volume counts its responses.
//!
//! A suggestion is left out when the business has a touchpoint of that name or with that rule, or
//! dismissed it (dismissals are kept by key). Accepting creates the touchpoints on their default
//! stage (when the business still has a stage of that name), placed on the maps showing it, in one
//! write.

use crate::maps::CustomerCount;
use crate::touchpoint_edits::{TouchpointView, and_list};
use crate::touchpoints::rule_in_words;
use crate::{App, AppError, Result};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use trailmap_model::{
    Business, Channel, CustomerId, EventColumns, EventField, EventRule, EventTable, StageId, SurveyId, Touchpoint, TouchpointChannel,
    TouchpointId, OFFLINE_KIND_PROPERTY,
};
use trailmap_store::Store;

/// Where a suggestion comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SuggestionKind {
    Channel,
    Page,
    Email,
    Offline,
    Referral,
    Survey,
}

/// One proposed touchpoint and its volume.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TouchpointSuggestion {
    /// Stable while the data says the same thing (`channel:Paid Social`, `page:checkout`,
    /// `email:email_open`, `offline:till`, `referral`, `survey:3`): accept and dismiss name it.
    pub key: String,
    pub kind: SuggestionKind,
    pub name: String,
    pub channel: String,
    /// The rule in the event rule language; empty for a survey's touchpoint.
    pub rule: String,
    pub rule_in_words: String,
    /// The default stage it would sit on, when the business has a stage of that name.
    pub stage: Option<String>,
    /// What `volume` counts: "events", or "survey responses".
    pub counts: String,
    pub volume: u64,
    /// The customers behind the volume.
    pub customers: CustomerCount,
    /// Why it is proposed, in words.
    pub why: String,
    #[serde(skip)]
    survey: Option<SurveyId>,
    #[serde(skip)]
    parsed: EventRule,
    #[serde(skip)]
    family: TouchpointChannel,
}

impl TouchpointSuggestion {
    /// The volume with what it counts: "1 event", "12 events", "3 survey responses".
    pub fn volume_in_words(&self) -> String {
        let one = self.counts.strip_suffix('s').unwrap_or(&self.counts);
        format!("{} {}", self.volume, if self.volume == 1 { one } else { &self.counts })
    }
}

/// The suggestions for a business, most useful kinds first and the biggest first within a kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TouchpointSuggestions {
    pub business: String,
    /// The events looked at (all of the business's).
    pub events: u64,
    pub suggestions: Vec<TouchpointSuggestion>,
    /// How many suggestions the business dismissed before (not shown again).
    pub dismissed: usize,
}

/// A candidate before it is counted.
struct Candidate {
    key: String,
    kind: SuggestionKind,
    name: String,
    family: TouchpointChannel,
    rule: EventRule,
    stage: &'static str,
    why: String,
}

/// The touchpoint family and default stage of a traffic channel.
fn channel_home(channel: &str) -> (TouchpointChannel, &'static str) {
    use TouchpointChannel as T;
    match Channel::parse(channel) {
        Some(Channel::PaidSearch | Channel::PaidSocial | Channel::PaidShopping | Channel::PaidVideo | Channel::PaidOther) => (T::Ads, "Awareness"),
        Some(Channel::Display | Channel::CrossNetwork | Channel::Audio) => (T::Ads, "Awareness"),
        Some(Channel::OrganicSocial | Channel::OrganicVideo) => (T::Social, "Awareness"),
        Some(Channel::OrganicSearch | Channel::OrganicShopping) => (T::Web, "Awareness"),
        Some(Channel::Referral | Channel::Affiliates) => (T::Referral, "Awareness"),
        Some(Channel::Email | Channel::Sms | Channel::MobilePushNotifications) => (T::Email, "Retention"),
        Some(Channel::InStore) => (T::InStore, "Purchase"),
        Some(Channel::Phone) => (T::Phone, "Consideration"),
        Some(Channel::Direct | Channel::Unassigned) => (T::Web, "Consideration"),
        None => (T::Other, "Awareness"),
    }
}

/// The key pages looked for: key, name, the path segments that mark them, default stage.
const KEY_PAGES: [(&str, &str, &[&str], &str); 5] = [
    ("checkout", "Checkout page", &["checkout"], "Purchase"),
    ("cart", "Cart page", &["cart", "basket", "bag"], "Consideration"),
    ("product", "Product pages", &["product", "products", "p", "item", "items"], "Consideration"),
    ("contact", "Contact page", &["contact", "contact-us", "contactus"], "Consideration"),
    ("sign-up", "Sign-up page", &["signup", "sign-up", "register", "join", "create-account"], "Consideration"),
];

/// The prefix of `path` up to and including its first segment that marks one of `words`
/// (`/shop/checkout/pay` -> `/shop/checkout`); a segment such as `checkout.html` or
/// `contact-form` counts, a one-letter word only exactly.
fn key_prefix(path: &str, words: &[&str]) -> Option<String> {
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let mut end = 0;
    for segment in path.split('/') {
        let at = end;
        end = at + segment.len() + 1;
        if segment.is_empty() {
            continue;
        }
        let lower = segment.to_ascii_lowercase();
        let marks = words.iter().any(|w| {
            lower == *w || (w.len() > 1 && lower.strip_prefix(w).is_some_and(|rest| rest.starts_with(['-', '_', '.'])))
        });
        if marks {
            return Some(path[..(at + segment.len()).min(path.len())].to_string());
        }
    }
    None
}

/// A name in title case for an offline kind (`pop-up stall` -> `Pop-up stall`).
fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// "1 event", "3 events".
fn count(n: u64, one: &str) -> String {
    format!("{n} {one}{}", if n == 1 { "" } else { "s" })
}

/// Counts rows per string id of a column.
fn counts(column: &[u32], strings: usize) -> Vec<u64> {
    let mut counts = vec![0u64; strings];
    for &id in column {
        counts[id as usize] += 1;
    }
    counts
}

fn candidates(table: &EventTable) -> Vec<Candidate> {
    let mut out = Vec::new();
    let strings = table.strings.len();
    // Channels.
    let by_channel = counts(&table.channel, strings);
    for (id, &n) in by_channel.iter().enumerate().skip(1).filter(|(_, n)| **n > 0) {
        let channel = table.string(id as u32).to_string();
        let (family, stage) = channel_home(&channel);
        out.push(Candidate {
            key: format!("channel:{channel}"),
            kind: SuggestionKind::Channel,
            name: channel.clone(),
            family,
            rule: EventRule::default().and(EventField::Channel, trailmap_model::Op::Equals(channel.clone())),
            stage,
            why: format!("{} arrived from the {channel} channel", count(n, "event")),
        });
    }
    // Key pages: the prefix with the most events, and the event name that carries the views.
    let by_page = counts(&table.page, strings);
    for (key, name, words, stage) in KEY_PAGES {
        let mut prefixes: BTreeMap<String, u64> = BTreeMap::new();
        for (id, &n) in by_page.iter().enumerate().skip(1).filter(|(_, n)| **n > 0) {
            if let Some(prefix) = key_prefix(table.string(id as u32), words) {
                *prefixes.entry(prefix).or_default() += n;
            }
        }
        let Some((prefix, _)) = prefixes.iter().max_by_key(|(p, n)| (**n, std::cmp::Reverse((*p).clone()))) else { continue };
        let prefix_rule = EventRule::default().and(EventField::Page, trailmap_model::Op::StartsWith(prefix.clone()));
        let compiled = trailmap_analytics::CompiledRule::new(&prefix_rule, table);
        let names: Vec<u32> = (0..table.len()).filter(|&row| compiled.matches(table, row)).map(|row| table.name[row]).collect();
        let page_view = table.find_string("page_view").filter(|id| names.contains(id));
        let distinct: Vec<u32> = crate::touchpoint_edits::distinct(names.iter().copied());
        let rule = match (page_view, distinct.as_slice()) {
            (Some(_), _) => EventRule::named("page_view"),
            (None, [only]) => EventRule::named(table.string(*only)),
            _ => EventRule::default(),
        }
        .and(EventField::Page, trailmap_model::Op::StartsWith(prefix.clone()));
        out.push(Candidate {
            key: format!("page:{key}"),
            kind: SuggestionKind::Page,
            name: name.to_string(),
            family: TouchpointChannel::Web,
            rule,
            stage,
            why: format!("pages under {prefix} were viewed"),
        });
    }
    // Email events, by name.
    for (id, &n) in counts(&table.name, strings).iter().enumerate().skip(1).filter(|(_, n)| **n > 0) {
        let event = table.string(id as u32);
        let Some(what) = event.strip_prefix("email_") else { continue };
        let name = match what {
            "open" => "Email opens".to_string(),
            "click" => "Email clicks".to_string(),
            other => format!("Email {}", other.replace('_', " ")),
        };
        out.push(Candidate {
            key: format!("email:{event}"),
            kind: SuggestionKind::Email,
            name,
            family: TouchpointChannel::Email,
            rule: EventRule::named(event),
            stage: "Retention",
            why: format!("{} arrived", count(n, &format!("{event} event"))),
        });
    }
    // Offline kinds and referral codes, from the properties.
    let kind_field = EventField::Property(OFFLINE_KIND_PROPERTY.into());
    let code_field = EventField::Property("referral_code".into());
    let mut kinds: BTreeMap<String, u64> = BTreeMap::new();
    let mut codes = 0u64;
    for row in 0..table.len() {
        if let Some(kind) = table.field(row, &kind_field).filter(|k| !k.trim().is_empty()) {
            *kinds.entry(kind.trim().to_ascii_lowercase()).or_default() += 1;
        }
        if table.field(row, &code_field).is_some_and(|c| !c.is_empty()) {
            codes += 1;
        }
    }
    for (kind, n) in kinds {
        let (name, family, stage) = match kind.as_str() {
            "till" | "purchase" => ("Till".to_string(), TouchpointChannel::InStore, "Purchase"),
            "visit" | "store_visit" => ("Store visits".to_string(), TouchpointChannel::InStore, "Consideration"),
            "phone" | "call" => ("Phone calls".to_string(), TouchpointChannel::Phone, "Consideration"),
            other => (capitalised(other), TouchpointChannel::InStore, "Consideration"),
        };
        out.push(Candidate {
            key: format!("offline:{kind}"),
            kind: SuggestionKind::Offline,
            name,
            family,
            rule: EventRule::default().and(kind_field.clone(), trailmap_model::Op::Equals(kind.clone())),
            stage,
            why: format!("{} of kind {kind} reported", count(n, "offline touchpoint")),
        });
    }
    if codes > 0 {
        out.push(Candidate {
            key: "referral".into(),
            kind: SuggestionKind::Referral,
            name: "Referral links".into(),
            family: TouchpointChannel::Referral,
            rule: EventRule::default().and(code_field, trailmap_model::Op::Exists),
            stage: "Advocacy",
            why: format!("{} with a referral code", count(codes, "event")),
        });
    }
    out
}

impl App {
    /// The touchpoints the business's data suggests, with their volumes; see the module's
    /// documentation for what is suggested and what is left out.
    pub fn touchpoint_suggestions(&self, business: &Business) -> Result<TouchpointSuggestions> {
        let table = self.store().load_events(business.id, EventColumns { properties: true })?;
        let existing = self.store().touchpoints(business.id)?;
        let stages = self.store().stages(business.id)?;
        let dismissed = self.store().dismissed_touchpoint_suggestions(business.id)?;
        let stage_name = |name: &str| stages.iter().find(|s| s.name.eq_ignore_ascii_case(name)).map(|s| s.name.clone());
        let mut suggestions = Vec::new();
        for c in candidates(&table) {
            let compiled = trailmap_analytics::CompiledRule::new(&c.rule, &table);
            let rows: Vec<usize> = (0..table.len()).filter(|&row| compiled.matches(&table, row)).collect();
            let customers = CustomerCount::of(rows.iter().filter_map(|&row| table.customer.get(row)).collect());
            suggestions.push(TouchpointSuggestion {
                key: c.key,
                kind: c.kind,
                rule: c.rule.to_text(),
                rule_in_words: rule_in_words(&c.rule),
                stage: stage_name(c.stage),
                counts: "events".into(),
                volume: rows.len() as u64,
                customers,
                why: c.why,
                survey: None,
                parsed: c.rule,
                channel: c.family.as_str().to_string(),
                family: c.family,
                name: c.name,
            });
        }
        for survey in self.store().surveys(business.id)?.into_iter().filter(|s| s.touchpoint.is_none()) {
            let responses = self.store().responses(survey.id)?;
            if responses.is_empty() {
                continue;
            }
            let customers = CustomerCount::of(responses.iter().filter_map(|r| r.customer).collect::<Vec<CustomerId>>());
            let stage = survey.stage.and_then(|id| stages.iter().find(|s| s.id == id)).map(|s| s.name.clone());
            suggestions.push(TouchpointSuggestion {
                key: format!("survey:{}", survey.id.0),
                kind: SuggestionKind::Survey,
                rule: String::new(),
                rule_in_words: rule_in_words(&EventRule::default()),
                stage,
                counts: "survey responses".into(),
                volume: responses.len() as u64,
                customers,
                why: format!(
                    "survey {:?} has {} and is asked at no touchpoint; its answers are not events, so the touchpoint starts without a rule and shows the survey's scores",
                    survey.name,
                    if responses.len() == 1 { "1 response".to_string() } else { format!("{} responses", responses.len()) }
                ),
                survey: Some(survey.id),
                parsed: EventRule::default(),
                channel: TouchpointChannel::Other.as_str().to_string(),
                family: TouchpointChannel::Other,
                name: survey.name.clone(),
            });
        }
        suggestions.retain(|s| {
            !dismissed.contains(&s.key)
                && s.volume > 0
                && !existing.iter().any(|t| t.name.eq_ignore_ascii_case(&s.name) || (!s.parsed.conditions.is_empty() && t.rule == s.parsed))
        });
        // Two suggestions may not share a name: the first (by kind) keeps it.
        let mut names: Vec<String> = Vec::new();
        suggestions.sort_by(|a, b| a.kind.cmp(&b.kind).then(b.volume.cmp(&a.volume)).then(a.key.cmp(&b.key)));
        suggestions.retain(|s| {
            let free = !names.iter().any(|n| n.eq_ignore_ascii_case(&s.name));
            names.push(s.name.clone());
            free
        });
        Ok(TouchpointSuggestions {
            business: business.name.clone(),
            events: table.len() as u64,
            suggestions,
            dismissed: dismissed.len(),
        })
    }

    /// Creates the suggested touchpoints with these keys (all of them when `keys` is empty); see
    /// [`App::choose_touchpoint_suggestions`].
    pub fn accept_touchpoint_suggestions(&mut self, business: &Business, keys: &[String], author: &str) -> Result<Vec<TouchpointView>> {
        let keys = if keys.is_empty() { self.touchpoint_suggestions(business)?.suggestions.into_iter().map(|s| s.key).collect() } else { keys.to_vec() };
        self.choose_touchpoint_suggestions(business, &keys, &[], author)
    }

    /// Accepts and dismisses suggestions by key, in one write: the accepted ones become
    /// touchpoints on their default stage, placed on the maps showing it (a survey's is tied to
    /// its survey); the dismissed ones are not proposed again. A key that is not a current
    /// suggestion, or one both accepted and dismissed, is an error naming field `accept` or
    /// `dismiss` and listing the keys there are. Returns the touchpoints made.
    pub fn choose_touchpoint_suggestions(&mut self, business: &Business, accept: &[String], dismiss: &[String], author: &str) -> Result<Vec<TouchpointView>> {
        if accept.is_empty() && dismiss.is_empty() {
            return Err(AppError::InvalidField { field: "accept".into(), value: None, reason: "name the suggestions to accept or dismiss by their key".into() });
        }
        if let Some(both) = accept.iter().find(|k| dismiss.iter().any(|d| d.trim() == k.trim())) {
            return Err(AppError::InvalidField { field: "dismiss".into(), value: Some(both.clone()), reason: "is also accepted; choose one".into() });
        }
        let suggestions = self.touchpoint_suggestions(business)?.suggestions;
        let chosen = if accept.is_empty() { Vec::new() } else { chosen(&suggestions, accept, "accept")? };
        let dismissed: Vec<String> = chosen_keys(&suggestions, dismiss, "dismiss")?;
        let stages = self.store().stages(business.id)?;
        let stage_id = |name: &Option<String>| -> Option<StageId> { name.as_ref().and_then(|n| stages.iter().find(|s| &s.name == n)).map(|s| s.id) };
        let touchpoints: Vec<Touchpoint> = chosen
            .iter()
            .map(|s| Touchpoint {
                id: TouchpointId(0),
                business: business.id,
                name: s.name.clone(),
                channel: s.family,
                stage: stage_id(&s.stage),
                online: s.family.is_online(),
                rule: s.parsed.clone(),
                description: String::new(),
            })
            .collect();
        let surveys: Vec<(usize, SurveyId)> = chosen.iter().enumerate().filter_map(|(k, s)| s.survey.map(|survey| (k, survey))).collect();
        let (ids, _) = self.write_new_touchpoints(business, &touchpoints, &surveys, &dismissed, author)?;
        Ok(self.touchpoints(business)?.into_iter().filter(|t| ids.contains(&t.id)).collect())
    }
}

/// The keys of the suggestions named by `keys`; an unknown key names the field.
fn chosen_keys(suggestions: &[TouchpointSuggestion], keys: &[String], field: &str) -> Result<Vec<String>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    Ok(chosen(suggestions, keys, field)?.iter().map(|s| s.key.clone()).collect())
}

/// The suggestions named by `keys` (all when empty); an unknown key names the field and lists
/// the keys there are.
fn chosen<'a>(suggestions: &'a [TouchpointSuggestion], keys: &[String], field: &str) -> Result<Vec<&'a TouchpointSuggestion>> {
    if keys.is_empty() {
        return Ok(suggestions.iter().collect());
    }
    let by_key: HashMap<&str, &TouchpointSuggestion> = suggestions.iter().map(|s| (s.key.as_str(), s)).collect();
    let mut out: Vec<&TouchpointSuggestion> = Vec::new();
    for key in keys {
        let found = by_key.get(key.trim()).ok_or_else(|| AppError::InvalidField {
            field: field.into(),
            value: Some(key.clone()),
            reason: format!("is not a current suggestion; the suggestions are: {}", {
                let keys: Vec<String> = suggestions.iter().map(|s| s.key.clone()).collect();
                if keys.is_empty() { "none".to_string() } else { and_list(&keys) }
            }),
        })?;
        if !out.iter().any(|s| s.key == found.key) {
            out.push(found);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_pages_are_found_by_their_path_segments() {
        let checkout = KEY_PAGES[0].2;
        assert_eq!(key_prefix("/checkout", checkout).as_deref(), Some("/checkout"));
        assert_eq!(key_prefix("/shop/Checkout/pay?x=1", checkout).as_deref(), Some("/shop/Checkout"));
        assert_eq!(key_prefix("/checkout.html", checkout).as_deref(), Some("/checkout.html"));
        assert_eq!(key_prefix("/checkouts-guide", checkout), None);
        assert_eq!(key_prefix("/blog/how-to-checkout", checkout), None);
        let product = KEY_PAGES[2].2;
        assert_eq!(key_prefix("/p/scarf", product).as_deref(), Some("/p"));
        assert_eq!(key_prefix("/p-scarf", product), None);
        assert_eq!(capitalised("pop-up stall"), "Pop-up stall");
        assert_eq!(channel_home("Paid Social"), (TouchpointChannel::Ads, "Awareness"));
        assert_eq!(channel_home("Email"), (TouchpointChannel::Email, "Retention"));
        assert_eq!(channel_home("In-store"), (TouchpointChannel::InStore, "Purchase"));
    }
}
