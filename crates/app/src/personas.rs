//! Persona cards a business makes itself: create, edit and delete them, each with a segment rule
//! over its customers written in the rule's text form (`orders>=2 & first_channel=Referral`, read
//! by the model's one parser), a small photo or initials, demographics, goals, frustrations,
//! behaviours and a quote. The page's form, the API's body and the CLI's flags all translate to
//! [`PersonaInput`] or [`PersonaChanges`]; every field is checked here, once, and an error names
//! the field. Also: the board of every card with its real coverage, and the live count of a rule
//! being written ([`SegmentPreview`]).
//!
//! - Names are unique within a business, ignoring case (the store checks it in the write).
//! - Photos: PNG, JPEG or WebP, told by their first bytes (never by a name or a declared type),
//!   at most [`MAX_PHOTO_BYTES`] (256 KiB); kept inside the persona's stored card as a
//!   `data:` URI, so there is no file to lose and no address elsewhere to leak visits to. The
//!   server serves it back with its own Content-Type. Anything else is refused, nothing written.
//! - Initials: the ones given (up to three letters or digits), or the first letters of the
//!   name's first two words.
//! - Overlaps: see [`crate::customer_facts::PRECEDENCE`]; a card shows both the customers its rule
//!   matches and the ones it covers, and names the earlier personas that took the rest.
//! - A persona on a map (in the map's newest version) is not deleted: the error names the maps.

use crate::customer_facts::{CustomerFacts, PRECEDENCE};
use crate::maps::CustomerCount;
use crate::touchpoints::customer_rule_in_words;
use crate::{App, AppError, PersonaCoverage, PersonaSuggestion, Result};
use base64::Engine;
use serde::Serialize;
use trailmap_model::{Business, CustomerId, CustomerRule, Persona, PersonaId};
use trailmap_store::{Store, StoreError};

/// The largest photo accepted: 256 KiB, plenty for a card's small picture.
pub const MAX_PHOTO_BYTES: usize = 256 * 1024;
pub const MAX_NAME_CHARS: usize = 80;
const MAX_INITIALS_CHARS: usize = 3;
const MAX_ITEMS: usize = 20;
const MAX_ITEM_CHARS: usize = 300;
const MAX_DEMOGRAPHICS: usize = 12;
const MAX_LABEL_CHARS: usize = 40;
const MAX_QUOTE_CHARS: usize = 500;
const MAX_RULE_CHARS: usize = 2_000;

/// A new persona card as a person fills it in. `photo` holds the uploaded file's bytes; `rule`
/// the segment rule's text (None or blank: not tied to customers yet).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PersonaInput {
    pub name: String,
    pub initials: Option<String>,
    pub photo: Option<Vec<u8>>,
    pub demographics: Vec<(String, String)>,
    pub goals: Vec<String>,
    pub frustrations: Vec<String>,
    pub behaviours: Vec<String>,
    pub quote: Option<String>,
    pub rule: Option<String>,
}

/// Changes to a card: a field left None stays as it is; `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PersonaChanges {
    pub name: Option<String>,
    pub initials: Option<Option<String>>,
    pub photo: Option<Option<Vec<u8>>>,
    pub demographics: Option<Vec<(String, String)>>,
    pub goals: Option<Vec<String>>,
    pub frustrations: Option<Vec<String>>,
    pub behaviours: Option<Vec<String>>,
    pub quote: Option<Option<String>>,
    pub rule: Option<Option<String>>,
}

impl From<&PersonaSuggestion> for PersonaInput {
    /// A suggested cluster as a card to start from: its name, its description as a behaviour,
    /// and its approximating rule.
    fn from(s: &PersonaSuggestion) -> PersonaInput {
        PersonaInput {
            name: s.name.clone(),
            behaviours: vec![s.description.clone()],
            rule: Some(s.rule.to_text()),
            ..PersonaInput::default()
        }
    }
}

/// A photo as stored: its type and bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Photo {
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

/// The image type of a file by its first bytes: PNG, JPEG or WebP; None for anything else.
pub fn photo_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// A stored persona's photo, when it has one in the form this module stores (a `data:` URI of an
/// image that still checks); anything else (an address from an older store) is not served.
pub fn stored_photo(persona: &Persona) -> Option<Photo> {
    let uri = persona.photo.as_deref()?;
    let (head, data) = uri.strip_prefix("data:")?.split_once(";base64,")?;
    let bytes = base64::engine::general_purpose::STANDARD.decode(data).ok()?;
    let content_type = photo_type(&bytes)?;
    (content_type == head).then_some(Photo { content_type, bytes })
}

/// A photo sent as text (the API's JSON): a `data:image/...;base64,` URI or bare base64. The
/// declared type is not trusted; [`App::create_persona`] checks the bytes.
pub fn photo_from_text(text: &str) -> Result<Vec<u8>> {
    let text = text.trim();
    let data = match text.strip_prefix("data:") {
        Some(rest) => rest.split_once(";base64,").map(|(_, data)| data).ok_or_else(|| {
            invalid("photo", None, "a data URI must be base64, as in data:image/png;base64,...")
        })?,
        None => text,
    };
    let data: String = data.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(|e| invalid("photo", None, format!("not base64: {e}")))
}

/// One demographics line as people write it, `Label: value` ("Age: 25-34").
pub fn parse_demographic(line: &str) -> std::result::Result<(String, String), String> {
    match line.split_once(':') {
        Some((label, value)) if !label.trim().is_empty() && !value.trim().is_empty() => {
            Ok((label.trim().to_string(), value.trim().to_string()))
        }
        _ => Err(format!("{:?} is not LABEL: VALUE, as in \"Age: 25-34\"", line.trim())),
    }
}

fn invalid(field: &str, value: Option<String>, reason: impl Into<String>) -> AppError {
    AppError::InvalidField { field: field.into(), value, reason: reason.into() }
}

fn no_control(field: &str, text: &str) -> Result<()> {
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(invalid(field, None, "must not hold control characters"));
    }
    Ok(())
}

fn checked_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(invalid("name", None, "a persona needs a name"));
    }
    if name.chars().count() > MAX_NAME_CHARS || name.contains('\n') {
        return Err(invalid("name", Some(name.into()), format!("at most {MAX_NAME_CHARS} characters on one line")));
    }
    no_control("name", name)?;
    Ok(name.to_string())
}

fn checked_initials(initials: Option<String>) -> Result<Option<String>> {
    let Some(text) = initials.map(|i| i.trim().to_string()).filter(|i| !i.is_empty()) else {
        return Ok(None);
    };
    if text.chars().count() > MAX_INITIALS_CHARS || !text.chars().all(char::is_alphanumeric) {
        return Err(invalid("initials", Some(text), format!("1 to {MAX_INITIALS_CHARS} letters or digits")));
    }
    Ok(Some(text))
}

/// The photo's bytes checked and turned into what the card stores.
fn checked_photo(photo: Option<Vec<u8>>) -> Result<Option<String>> {
    let Some(bytes) = photo else { return Ok(None) };
    if bytes.is_empty() {
        return Err(invalid("photo", None, "the file is empty"));
    }
    if bytes.len() > MAX_PHOTO_BYTES {
        return Err(invalid(
            "photo",
            None,
            format!("{:.1} KiB is over the limit of {} KiB; use a smaller picture", bytes.len() as f64 / 1024.0, MAX_PHOTO_BYTES / 1024),
        ));
    }
    let content_type = photo_type(&bytes)
        .ok_or_else(|| invalid("photo", None, "not a PNG, JPEG or WebP image (by its first bytes)"))?;
    Ok(Some(format!("data:{content_type};base64,{}", base64::engine::general_purpose::STANDARD.encode(&bytes))))
}

fn checked_list(field: &str, items: Vec<String>) -> Result<Vec<String>> {
    let items: Vec<String> = items.into_iter().map(|i| i.trim().to_string()).filter(|i| !i.is_empty()).collect();
    if items.len() > MAX_ITEMS {
        return Err(invalid(field, None, format!("at most {MAX_ITEMS} items, {} given", items.len())));
    }
    for (k, item) in items.iter().enumerate() {
        if item.chars().count() > MAX_ITEM_CHARS {
            return Err(invalid(field, None, format!("item {} is longer than {MAX_ITEM_CHARS} characters", k + 1)));
        }
        no_control(field, item)?;
    }
    Ok(items)
}

fn checked_demographics(rows: Vec<(String, String)>) -> Result<Vec<(String, String)>> {
    let rows: Vec<(String, String)> = rows
        .into_iter()
        .map(|(l, v)| (l.trim().to_string(), v.trim().to_string()))
        .filter(|(l, v)| !l.is_empty() || !v.is_empty())
        .collect();
    if rows.len() > MAX_DEMOGRAPHICS {
        return Err(invalid("demographics", None, format!("at most {MAX_DEMOGRAPHICS} rows, {} given", rows.len())));
    }
    for (k, (label, value)) in rows.iter().enumerate() {
        let row = k + 1;
        if label.is_empty() || value.is_empty() {
            return Err(invalid("demographics", None, format!("row {row} needs both a label and a value")));
        }
        if label.chars().count() > MAX_LABEL_CHARS || value.chars().count() > MAX_ITEM_CHARS {
            return Err(invalid(
                "demographics",
                None,
                format!("row {row}: labels take at most {MAX_LABEL_CHARS} characters, values {MAX_ITEM_CHARS}"),
            ));
        }
        no_control("demographics", label)?;
        no_control("demographics", value)?;
    }
    Ok(rows)
}

fn checked_quote(quote: Option<String>) -> Result<Option<String>> {
    let Some(quote) = quote.map(|q| q.trim().to_string()).filter(|q| !q.is_empty()) else { return Ok(None) };
    if quote.chars().count() > MAX_QUOTE_CHARS {
        return Err(invalid("quote", None, format!("at most {MAX_QUOTE_CHARS} characters")));
    }
    no_control("quote", &quote)?;
    Ok(Some(quote))
}

/// The segment rule's text read into a rule; blank is no rule. The error names the field, the
/// text, the character where reading stopped and why.
pub fn parse_rule(text: Option<&str>) -> Result<Option<CustomerRule>> {
    let Some(text) = text.filter(|t| !t.trim().is_empty()) else { return Ok(None) };
    if text.chars().count() > MAX_RULE_CHARS {
        return Err(invalid("rule", None, format!("at most {MAX_RULE_CHARS} characters")));
    }
    CustomerRule::parse(text).map(Some).map_err(|e| invalid("rule", Some(text.to_string()), e.to_string()))
}

/// Store errors of a persona write as the person should read them.
fn write_error(error: StoreError) -> AppError {
    match error {
        StoreError::Conflict(message) if message.starts_with("a persona named") => AppError::Conflict(format!("name: {message}")),
        StoreError::Conflict(message) => AppError::Conflict(message),
        StoreError::NotFound { what, id } => AppError::NotFound(format!("{what} {id} does not exist")),
        other => AppError::Store(other),
    }
}

/// A card label and value, as the API gives demographics.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Demographic {
    pub label: String,
    pub value: String,
}

/// Customers a persona's rule matches that count for an earlier persona.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Overlap {
    pub persona: PersonaId,
    pub name: String,
    pub n: usize,
    pub customers: Vec<CustomerId>,
}

/// One persona card with its real coverage.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PersonaCard {
    pub id: PersonaId,
    pub name: String,
    /// What the card shows without a photo: the given initials or the name's.
    pub initials: String,
    /// Whether the initials were given (or taken from the name).
    pub initials_given: bool,
    pub has_photo: bool,
    pub demographics: Vec<Demographic>,
    pub goals: Vec<String>,
    pub frustrations: Vec<String>,
    pub behaviours: Vec<String>,
    pub quote: Option<String>,
    /// The segment rule's text; None when the persona is not tied to customers yet.
    pub rule: Option<String>,
    pub rule_in_words: String,
    /// Its place in the order overlaps are resolved by (1: first).
    pub rank: usize,
    /// The customers its rule matches, on its own.
    pub matches: CustomerCount,
    /// The customers it covers: those it matches that no earlier persona's rule matches.
    pub covers: CustomerCount,
    /// The matched customers that count for earlier personas, by persona.
    pub counted_earlier: Vec<Overlap>,
}

/// Every persona card of a business with its coverage, out of `customers`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PersonaBoard {
    pub business: String,
    /// Every customer of the business: the n each count is out of.
    pub customers: usize,
    /// How overlapping rules are resolved, in words.
    pub precedence: &'static str,
    pub personas: Vec<PersonaCard>,
    /// Customers no persona covers.
    pub unassigned: CustomerCount,
}

/// The live count of a rule being written, for a new persona (which would come last) or for the
/// persona being edited (which keeps its place).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SegmentPreview {
    /// The rule's canonical text.
    pub rule: String,
    pub rule_in_words: String,
    /// Every customer of the business: the n of `matches` and `covers`.
    pub customers: usize,
    pub matches: CustomerCount,
    pub covers: CustomerCount,
    pub counted_earlier: Vec<Overlap>,
    pub precedence: &'static str,
}

fn overlaps(personas: &[&Persona], groups: Vec<Vec<CustomerId>>) -> Vec<Overlap> {
    personas
        .iter()
        .zip(groups)
        .filter(|(_, customers)| !customers.is_empty())
        .map(|(p, customers)| Overlap { persona: p.id, name: p.name.clone(), n: customers.len(), customers })
        .collect()
}

fn card(persona: &Persona, rank: usize, matches: Vec<CustomerId>, covers: Vec<CustomerId>, counted_earlier: Vec<Overlap>) -> PersonaCard {
    PersonaCard {
        id: persona.id,
        name: persona.name.clone(),
        initials: persona.shown_initials(),
        initials_given: persona.initials.as_deref().is_some_and(|i| !i.trim().is_empty()),
        has_photo: stored_photo(persona).is_some(),
        demographics: persona.demographics.iter().map(|(label, value)| Demographic { label: label.clone(), value: value.clone() }).collect(),
        goals: persona.goals.clone(),
        frustrations: persona.frustrations.clone(),
        behaviours: persona.behaviours.clone(),
        quote: persona.quote.clone(),
        rule: persona.segment.as_ref().map(CustomerRule::to_text),
        rule_in_words: persona.segment.as_ref().map_or_else(|| "no rule yet (covers nobody)".to_string(), customer_rule_in_words),
        rank,
        matches: CustomerCount::of(matches),
        covers: CustomerCount::of(covers),
        counted_earlier,
    }
}

/// The board of `personas` (in creation order) over `facts`.
fn board(business: &Business, personas: &[Persona], facts: &CustomerFacts) -> PersonaBoard {
    let n = personas.len();
    let mut matches: Vec<Vec<CustomerId>> = vec![Vec::new(); n];
    let mut covers: Vec<Vec<CustomerId>> = vec![Vec::new(); n];
    // earlier[k][j]: customers persona k matches that count for persona j < k.
    let mut earlier: Vec<Vec<Vec<CustomerId>>> = (0..n).map(|k| vec![Vec::new(); k]).collect();
    let mut unassigned = Vec::new();
    for fact in &facts.facts {
        let matched: Vec<usize> = (0..n).filter(|&k| personas[k].segment.as_ref().is_some_and(|r| fact.matches(r))).collect();
        let Some(&first) = matched.first() else {
            unassigned.push(fact.customer);
            continue;
        };
        covers[first].push(fact.customer);
        for &k in &matched {
            matches[k].push(fact.customer);
            if k != first {
                earlier[k][first].push(fact.customer);
            }
        }
    }
    let all: Vec<&Persona> = personas.iter().collect();
    let cards = personas
        .iter()
        .zip(matches.into_iter().zip(covers).zip(earlier))
        .enumerate()
        .map(|(k, (p, ((m, c), e)))| card(p, k + 1, m, c, overlaps(&all[..k], e)))
        .collect();
    PersonaBoard {
        business: business.name.clone(),
        customers: facts.len(),
        precedence: PRECEDENCE,
        personas: cards,
        unassigned: CustomerCount::of(unassigned),
    }
}

impl App {
    /// The business's personas as stored, in creation order.
    pub fn personas(&self, business: &Business) -> Result<Vec<Persona>> {
        Ok(self.store().personas(business.id)?)
    }

    /// One persona of the business; NotFound when it has none with this id.
    pub fn persona(&self, business: &Business, id: PersonaId) -> Result<Persona> {
        self.personas(business)?
            .into_iter()
            .find(|p| p.id == id)
            .ok_or_else(|| AppError::NotFound(format!("{} has no persona {id}", business.name)))
    }

    /// The persona a person named: by id, or by name ignoring case.
    pub fn find_persona(&self, business: &Business, id_or_name: &str) -> Result<Persona> {
        let personas = self.personas(business)?;
        let wanted = id_or_name.trim();
        personas
            .iter()
            .find(|p| wanted.parse::<i64>().is_ok_and(|id| p.id.0 == id))
            .or_else(|| personas.iter().find(|p| p.name.to_lowercase() == wanted.to_lowercase()))
            .cloned()
            .ok_or_else(|| {
                let names: Vec<&str> = personas.iter().map(|p| p.name.as_str()).collect();
                AppError::NotFound(format!(
                    "{} has no persona {wanted:?}; its personas are: {}",
                    business.name,
                    if names.is_empty() { "none yet".to_string() } else { names.join(", ") }
                ))
            })
    }

    /// Creates a persona card from what a person filled in, after checking every field; one
    /// store write. Returns it as stored.
    pub fn create_persona(&mut self, business: &Business, input: PersonaInput) -> Result<Persona> {
        let persona = Persona {
            id: PersonaId(0),
            business: business.id,
            name: checked_name(&input.name)?,
            initials: checked_initials(input.initials)?,
            photo: checked_photo(input.photo)?,
            demographics: checked_demographics(input.demographics)?,
            goals: checked_list("goals", input.goals)?,
            frustrations: checked_list("frustrations", input.frustrations)?,
            behaviours: checked_list("behaviours", input.behaviours)?,
            quote: checked_quote(input.quote)?,
            segment: parse_rule(input.rule.as_deref())?,
        };
        let mut id = PersonaId(0);
        self.store_mut()
            .write::<StoreError>(&mut |w| {
                id = w.create_persona(&persona)?;
                Ok(())
            })
            .map_err(write_error)?;
        Ok(Persona { id, ..persona })
    }

    /// Applies `changes` to a persona card after checking them; one store write. Returns the card
    /// as stored.
    pub fn update_persona(&mut self, business: &Business, id: PersonaId, changes: PersonaChanges) -> Result<Persona> {
        let mut persona = self.persona(business, id)?;
        if let Some(name) = changes.name {
            persona.name = checked_name(&name)?;
        }
        if let Some(initials) = changes.initials {
            persona.initials = checked_initials(initials)?;
        }
        if let Some(photo) = changes.photo {
            persona.photo = checked_photo(photo)?;
        }
        if let Some(rows) = changes.demographics {
            persona.demographics = checked_demographics(rows)?;
        }
        if let Some(goals) = changes.goals {
            persona.goals = checked_list("goals", goals)?;
        }
        if let Some(frustrations) = changes.frustrations {
            persona.frustrations = checked_list("frustrations", frustrations)?;
        }
        if let Some(behaviours) = changes.behaviours {
            persona.behaviours = checked_list("behaviours", behaviours)?;
        }
        if let Some(quote) = changes.quote {
            persona.quote = checked_quote(quote)?;
        }
        if let Some(rule) = changes.rule {
            persona.segment = parse_rule(rule.as_deref())?;
        }
        self.store_mut().write::<StoreError>(&mut |w| w.update_persona(&persona)).map_err(write_error)?;
        Ok(persona)
    }

    /// Deletes a persona, unless a map shows it (the error names the maps); one store write.
    pub fn delete_persona(&mut self, business: &Business, id: PersonaId) -> Result<()> {
        let business_id = business.id;
        self.store_mut().write::<StoreError>(&mut |w| w.delete_persona(business_id, id)).map_err(write_error)?;
        Ok(())
    }

    /// Stores a suggested cluster as a persona (see [`PersonaInput`]'s `From`), under its name or,
    /// when that is taken, the name with the first free number after it ("Email returners 2").
    pub fn create_persona_from_suggestion(&mut self, business: &Business, suggestion: &PersonaSuggestion) -> Result<PersonaId> {
        let taken: Vec<String> = self.personas(business)?.into_iter().map(|p| p.name.to_lowercase()).collect();
        let mut input = PersonaInput::from(suggestion);
        let mut n = 1;
        while taken.contains(&input.name.to_lowercase()) {
            n += 1;
            input.name = format!("{} {n}", suggestion.name);
        }
        Ok(self.create_persona(business, input)?.id)
    }

    /// Every persona card with its coverage (see the module on overlaps).
    pub fn persona_board(&self, business: &Business) -> Result<PersonaBoard> {
        let facts = self.customer_facts(business)?;
        self.persona_board_with(business, &facts)
    }

    /// [`App::persona_board`] over facts already measured (the server keeps them while the data
    /// is unchanged).
    pub fn persona_board_with(&self, business: &Business, facts: &CustomerFacts) -> Result<PersonaBoard> {
        Ok(board(business, &self.personas(business)?, facts))
    }

    /// How many customers each persona covers.
    pub fn persona_coverage(&self, business: &Business) -> Result<Vec<PersonaCoverage>> {
        let personas = self.personas(business)?;
        let board = self.persona_board(business)?;
        Ok(board
            .personas
            .into_iter()
            .zip(&personas)
            .map(|(card, p)| PersonaCoverage {
                persona: card.id,
                name: card.name,
                has_rule: p.segment.is_some(),
                n: card.covers.n,
                customers: card.covers.customers,
            })
            .collect())
    }

    /// The live count of `rule` (text) for a new persona, or for persona `editing` in its place.
    pub fn preview_segment(&self, business: &Business, rule: &str, editing: Option<PersonaId>) -> Result<SegmentPreview> {
        let facts = self.customer_facts(business)?;
        self.preview_segment_with(business, &facts, rule, editing)
    }

    /// [`App::preview_segment`] over facts already measured.
    pub fn preview_segment_with(&self, business: &Business, facts: &CustomerFacts, rule: &str, editing: Option<PersonaId>) -> Result<SegmentPreview> {
        let rule = parse_rule(Some(rule))?.ok_or_else(|| invalid("rule", None, "the rule is empty; write a condition such as orders>=2"))?;
        let personas = self.personas(business)?;
        let before: Vec<&Persona> = match editing {
            Some(id) => {
                let at = personas.iter().position(|p| p.id == id).ok_or_else(|| AppError::NotFound(format!("{} has no persona {id}", business.name)))?;
                personas[..at].iter().collect()
            }
            None => personas.iter().collect(),
        };
        let mut matches = Vec::new();
        let mut covers = Vec::new();
        let mut earlier: Vec<Vec<CustomerId>> = vec![Vec::new(); before.len()];
        for fact in facts.facts.iter().filter(|f| f.matches(&rule)) {
            matches.push(fact.customer);
            match before.iter().position(|p| p.segment.as_ref().is_some_and(|r| fact.matches(r))) {
                Some(k) => earlier[k].push(fact.customer),
                None => covers.push(fact.customer),
            }
        }
        Ok(SegmentPreview {
            rule: rule.to_text(),
            rule_in_words: customer_rule_in_words(&rule),
            customers: facts.len(),
            matches: CustomerCount::of(matches),
            covers: CustomerCount::of(covers),
            counted_earlier: overlaps(&before, earlier),
            precedence: PRECEDENCE,
        })
    }

    /// A persona's photo, to serve with its type; None when it has none.
    pub fn persona_photo(&self, business: &Business, id: PersonaId) -> Result<Option<Photo>> {
        Ok(stored_photo(&self.persona(business, id)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn photos_are_told_by_their_first_bytes() {
        assert_eq!(photo_type(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(photo_type(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]), Some("image/jpeg"));
        assert_eq!(photo_type(b"RIFF\x10\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(photo_type(b"RIFF\x10\0\0\0WAVEfmt "), None);
        assert_eq!(photo_type(b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>"), None);
        assert_eq!(photo_type(b"GIF89a"), None);
        let png = b"\x89PNG\r\n\x1a\nrest".to_vec();
        let stored = checked_photo(Some(png.clone())).unwrap().unwrap();
        assert!(stored.starts_with("data:image/png;base64,"));
        let persona = Persona {
            id: PersonaId(1),
            business: trailmap_model::BusinessId(1),
            name: "x".into(),
            initials: None,
            photo: Some(stored.clone()),
            demographics: vec![],
            goals: vec![],
            frustrations: vec![],
            behaviours: vec![],
            quote: None,
            segment: None,
        };
        assert_eq!(stored_photo(&persona), Some(Photo { content_type: "image/png", bytes: png.clone() }));
        assert_eq!(photo_from_text(&stored).unwrap(), png);
        // An address, or a data URI whose declared type lies, is never served.
        for photo in ["https://tracker.example/p.png", &stored.replace("image/png", "image/svg+xml")] {
            assert_eq!(stored_photo(&Persona { photo: Some(photo.to_string()), ..persona.clone() }), None, "{photo}");
        }
        let big = [b"\x89PNG\r\n\x1a\n".to_vec(), vec![0; MAX_PHOTO_BYTES]].concat();
        let error = checked_photo(Some(big)).unwrap_err().to_string();
        assert!(error.starts_with("photo: 256.0 KiB is over the limit of 256 KiB"), "{error}");
        assert!(checked_photo(Some(b"GIF89a".to_vec())).unwrap_err().to_string().contains("not a PNG, JPEG or WebP"));
    }

    #[test]
    fn fields_are_checked_and_errors_name_them() {
        assert_eq!(parse_demographic(" Age : 25-34 "), Ok(("Age".into(), "25-34".into())));
        assert!(parse_demographic("Age 25").is_err());
        assert_eq!(checked_initials(Some(" mo ".into())).unwrap(), Some("mo".into()));
        assert_eq!(checked_initials(Some("  ".into())).unwrap(), None);
        assert!(checked_initials(Some("A.B".into())).unwrap_err().to_string().starts_with("initials \"A.B\""));
        assert!(checked_name("  ").unwrap_err().to_string().starts_with("name"));
        let list = checked_list("goals", vec!["  a ".into(), "".into(), "b".into()]).unwrap();
        assert_eq!(list, ["a", "b"]);
        assert!(checked_list("goals", vec!["x".into(); 21]).unwrap_err().to_string().starts_with("goals: at most 20"));
        assert!(checked_demographics(vec![("Age".into(), "".into())]).unwrap_err().to_string().contains("row 1"));
        let error = parse_rule(Some("orders>>2")).unwrap_err().to_string();
        assert_eq!(error, "rule \"orders>>2\": at character 8: expected a value after \">\" (quote a value holding spaces or & | \" ! = < > ( )), found \">2\"");
        assert_eq!(parse_rule(Some("  ")).unwrap(), None);
    }
}
