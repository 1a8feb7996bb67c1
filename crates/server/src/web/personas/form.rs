//! Making and editing a persona card: `/b/{id}/personas/new` (empty, or started from a suggested
//! cluster with `?suggestion=N&k=K&seed=S`) and `/b/{id}/personas/{persona}/edit`, posted as
//! plain multipart forms (the photo is a file field; a urlencoded post without a photo is read
//! too) to `/b/{id}/personas` and `/b/{id}/personas/{persona}`; `/b/{id}/personas/{persona}/delete` deletes. Editors only.
//!
//! The segment rule is built from rows (field, key for a property, operator, value), which the
//! server turns into the rule's text form, or typed as that text; a radio says which one counts,
//! and the text is what the app parses. Without JavaScript the "Count customers" button posts the
//! form back with the rule's count and nothing is saved; with `app.js`, the rows write the text as
//! they change and the count follows from the API's preview endpoint as the rule changes. A form
//! the app refuses comes back with the reason (a rule's names the character) and every value
//! kept, except the photo file, which the browser cannot be given back.

use super::{avatar, customers_link};
use crate::auth::{self, PageForm, SignedIn, require_edit, same_secret};
use crate::error::ApiError;
use crate::personas::customer_facts;
use crate::state::ServerState;
use crate::web::layout::{Nav, csrf_field, page};
use crate::web::{PageResult, html_response, see_other};
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use maud::{Markup, html};
use serde::Deserialize;
use trailmap_app::AppError;
use trailmap_app::personas::{MAX_PHOTO_BYTES, PersonaCard, PersonaChanges, PersonaInput, SegmentPreview, parse_demographic};
use trailmap_model::{Business, BusinessId, CustomerField, CustomerRule, Op, Persona, PersonaId, value_text};

/// The largest form accepted, photo included: room to refuse a too-big photo with the form kept
/// (the app allows 256 KiB), where a bigger body is a 413.
pub const MAX_FORM_BYTES: usize = 8 * 1024 * 1024;

/// The fields a row can test, as (value, label).
const ROW_FIELDS: [(&str, &str); 6] = [
    ("orders", "Orders"),
    ("revenue", "Revenue"),
    ("first_channel", "First channel"),
    ("first_source", "First source"),
    ("days_since_last_order", "Days since last order"),
    ("property", "Property (trait)"),
];

/// The operators a row offers, as (value, label).
const ROW_OPERATORS: [(&str, &str); 12] = [
    ("=", "is"),
    ("!=", "is not"),
    (">=", "is at least"),
    (">", "is above"),
    ("<=", "is at most"),
    ("<", "is below"),
    ("contains", "contains"),
    ("!contains", "does not contain"),
    ("starts_with", "starts with"),
    ("!starts_with", "does not start with"),
    ("exists", "is present"),
    ("!exists", "is absent"),
];

/// At most this many rows are read from a form.
const MAX_ROWS: usize = 12;

/// One row of the rule builder.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleRow {
    pub field: String,
    pub key: String,
    pub op: String,
    pub value: String,
}

impl RuleRow {
    fn is_blank(&self) -> bool {
        self.field.trim().is_empty() && self.key.trim().is_empty() && self.value.trim().is_empty()
    }

    /// The row as the rule's text (`orders>=2`, `property:plan contains pro`), or why not.
    fn text(&self, number: usize) -> Result<String, String> {
        let field = self.field.trim();
        if !ROW_FIELDS.iter().any(|(f, _)| *f == field) {
            return Err(format!("condition {number}: choose a field"));
        }
        let field = if field == "property" {
            let key = self.key.trim();
            if key.is_empty() {
                return Err(format!("condition {number}: a property needs its key (such as plan)"));
            }
            CustomerField::Property(key.to_string()).to_text()
        } else {
            field.to_string()
        };
        let op = self.op.trim();
        if !ROW_OPERATORS.iter().any(|(o, _)| *o == op) {
            return Err(format!("condition {number}: choose an operator"));
        }
        if op.ends_with("exists") {
            return Ok(format!("{field} {op}"));
        }
        let value = self.value.trim();
        if value.is_empty() {
            return Err(format!("condition {number}: give a value"));
        }
        Ok(match op {
            "=" | "!=" => format!("{field}{op}{}", value.split('|').map(|v| value_text(v.trim())).collect::<Vec<_>>().join("|")),
            "contains" | "!contains" | "starts_with" | "!starts_with" => format!("{field} {op} {}", value_text(value)),
            _ => format!("{field}{op}{}", value_text(value)),
        })
    }
}

/// The rows showing `rule`, or None when a condition has no row form (a negated comparison, a
/// value with `|` in it or spaces around it): such a rule is edited as text.
fn rows_of(rule: &CustomerRule) -> Option<Vec<RuleRow>> {
    rule.conditions
        .iter()
        .map(|c| {
            let (field, key) = match &c.field {
                CustomerField::Property(key) => ("property".to_string(), key.clone()),
                other => (other.to_text(), String::new()),
            };
            let plain = |v: &String| (!v.contains('|') && v.trim() == v && !v.is_empty()).then(|| v.clone());
            let not = if c.negate { "!" } else { "" };
            let (op, value) = match (&c.op, c.negate) {
                (Op::Equals(v), _) => (format!("{not}="), plain(v)?),
                (Op::OneOf(vs), _) => (format!("{not}="), vs.iter().map(plain).collect::<Option<Vec<_>>>()?.join("|")),
                (Op::Contains(v), _) => (format!("{not}contains"), plain(v)?),
                (Op::StartsWith(v), _) => (format!("{not}starts_with"), plain(v)?),
                (Op::Exists, _) => (format!("{not}exists"), String::new()),
                (Op::GreaterThan(x), false) => (">".into(), x.to_string()),
                (Op::LessThan(x), false) => ("<".into(), x.to_string()),
                (Op::AtLeast(x), false) => (">=".into(), x.to_string()),
                (Op::AtMost(x), false) => ("<=".into(), x.to_string()),
                (_, true) => return None,
            };
            Some(RuleRow { field, key, op, value })
        })
        .collect()
}

/// The form as posted (and as shown again).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PersonaForm {
    pub name: String,
    pub initials: String,
    /// One `Label: value` per line.
    pub demographics: String,
    /// One per line, as the next three.
    pub goals: String,
    pub frustrations: String,
    pub behaviours: String,
    pub quote: String,
    /// The rule's text.
    pub rule: String,
    /// "rows" or "text": which of the two the rule is taken from.
    pub rule_from: String,
    pub rows: Vec<RuleRow>,
    pub remove_photo: bool,
    /// "count" to count the rule's customers without saving; anything else saves.
    pub action: String,
}

fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect()
}

fn optional(text: &str) -> Option<String> {
    Some(text.trim()).filter(|t| !t.is_empty()).map(str::to_string)
}

impl PersonaForm {
    fn with_rule(mut self, rule: Option<&CustomerRule>) -> PersonaForm {
        self.rule = rule.map(CustomerRule::to_text).unwrap_or_default();
        match rule.map(rows_of) {
            Some(None) => self.rule_from = "text".into(),
            Some(Some(rows)) => {
                self.rows = rows;
                self.rule_from = "rows".into();
            }
            None => self.rule_from = "rows".into(),
        }
        self
    }

    pub fn of_persona(p: &Persona) -> PersonaForm {
        PersonaForm {
            name: p.name.clone(),
            initials: p.initials.clone().unwrap_or_default(),
            demographics: p.demographics.iter().map(|(l, v)| format!("{l}: {v}")).collect::<Vec<_>>().join("\n"),
            goals: p.goals.join("\n"),
            frustrations: p.frustrations.join("\n"),
            behaviours: p.behaviours.join("\n"),
            quote: p.quote.clone().unwrap_or_default(),
            ..PersonaForm::default()
        }
        .with_rule(p.segment.as_ref())
    }

    /// A card to start from (a suggestion); its rule, already checked, shown as rows.
    pub fn of_input(input: &PersonaInput) -> PersonaForm {
        let rule = input.rule.as_deref().and_then(|r| CustomerRule::parse(r).ok());
        PersonaForm {
            name: input.name.clone(),
            behaviours: input.behaviours.join("\n"),
            ..PersonaForm::default()
        }
        .with_rule(rule.as_ref())
    }

    fn of_fields(fields: &[(String, String)]) -> PersonaForm {
        let get = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
        let rows = (1..=MAX_ROWS)
            .map(|k| RuleRow { field: get(&format!("field_{k}")), key: get(&format!("key_{k}")), op: get(&format!("op_{k}")), value: get(&format!("value_{k}")) })
            .collect::<Vec<_>>();
        let last = rows.iter().rposition(|r| !r.is_blank()).map_or(0, |k| k + 1);
        PersonaForm {
            name: get("name"),
            initials: get("initials"),
            demographics: get("demographics"),
            goals: get("goals"),
            frustrations: get("frustrations"),
            behaviours: get("behaviours"),
            quote: get("quote"),
            rule: get("rule"),
            rule_from: if get("rule_from") == "text" { "text".into() } else { "rows".into() },
            rows: rows.into_iter().take(last).collect(),
            remove_photo: !get("remove_photo").is_empty(),
            action: get("action"),
        }
    }

    /// The rule's text: the rows', or the text field's, as the radio says; None when blank.
    fn rule_text(&self) -> Result<Option<String>, AppError> {
        if self.rule_from == "text" {
            return Ok(optional(&self.rule));
        }
        let mut parts = Vec::new();
        for (k, row) in self.rows.iter().enumerate() {
            if !row.is_blank() {
                parts.push(row.text(k + 1).map_err(|reason| AppError::InvalidField { field: "rule".into(), value: None, reason })?);
            }
        }
        Ok((!parts.is_empty()).then(|| parts.join(" & ")))
    }

    fn demographics(&self) -> Result<Vec<(String, String)>, AppError> {
        lines(&self.demographics)
            .iter()
            .enumerate()
            .map(|(k, line)| {
                parse_demographic(line)
                    .map_err(|e| AppError::InvalidField { field: "demographics".into(), value: None, reason: format!("line {}: {e}", k + 1) })
            })
            .collect()
    }

    fn input(&self, photo: Option<Vec<u8>>) -> Result<PersonaInput, AppError> {
        Ok(PersonaInput {
            name: self.name.clone(),
            initials: optional(&self.initials),
            photo,
            demographics: self.demographics()?,
            goals: lines(&self.goals),
            frustrations: lines(&self.frustrations),
            behaviours: lines(&self.behaviours),
            quote: optional(&self.quote),
            rule: self.rule_text()?,
        })
    }

    fn changes(&self, photo: Option<Vec<u8>>) -> Result<PersonaChanges, AppError> {
        let input = self.input(None)?;
        Ok(PersonaChanges {
            name: Some(input.name),
            initials: Some(input.initials),
            photo: match photo {
                Some(bytes) => Some(Some(bytes)),
                None if self.remove_photo => Some(None),
                None => None,
            },
            demographics: Some(input.demographics),
            goals: Some(input.goals),
            frustrations: Some(input.frustrations),
            behaviours: Some(input.behaviours),
            quote: Some(input.quote),
            rule: Some(input.rule),
        })
    }
}

/// The rule's count as the form shows it: out of every customer, and what earlier personas take.
fn live_count(business: BusinessId, preview: Option<&Result<SegmentPreview, String>>) -> Markup {
    html! {
        div class="live-count" data-testid="live-count" aria-live="polite" {
            @match preview {
                None => span class="muted" { "Count the rule to see how many customers it matches." },
                Some(Err(reason)) => span class="error" data-testid="rule-error" { (reason) },
                Some(Ok(p)) => {
                    "Matches " strong { (customers_link(business, &p.matches, "live-matches")) } " of " (p.customers)
                    "; would cover " strong { (customers_link(business, &p.covers, "live-covers")) } "."
                    @for o in &p.counted_earlier {
                        " " (o.n) " count for " (o.name) ", which comes first."
                    }
                    br;
                    span class="muted" data-testid="live-rule" { (p.rule_in_words) }
                }
            }
        }
    }
}

fn select(name: &str, label: &str, options: &[(&str, &str)], chosen: &str, blank: &str) -> Markup {
    html! {
        select name=(name) aria-label=(label) {
            option value="" { (blank) }
            @for (value, label) in options { option value=(value) selected[*value == chosen] { (label) } }
        }
    }
}

/// Who the form is for: a new persona, or the persona being edited (with whether it has a photo).
enum Editing<'a> {
    New,
    Existing(&'a PersonaCard),
}

struct FormView<'a> {
    business: BusinessId,
    csrf: &'a str,
    editing: Editing<'a>,
    form: &'a PersonaForm,
    refused: Option<String>,
    preview: Option<Result<SegmentPreview, String>>,
    status: StatusCode,
}

fn render(nav: &Nav, view: FormView<'_>) -> PageResult {
    let FormView { business, csrf, editing, form, refused, preview, status } = view;
    let (title, action, persona) = match &editing {
        Editing::New => ("New persona".to_string(), format!("/b/{business}/personas"), None),
        Editing::Existing(card) => (format!("Edit {}", card.name), format!("/b/{business}/personas/{}", card.id), Some(*card)),
    };
    let rows = (form.rows.len() + 1).clamp(3, MAX_ROWS);
    let blank = RuleRow::default();
    let content = html! {
        p { a href={ "/b/" (business) "/personas" } { "← Personas" } }
        h1 { (title) }
        @if let Some(reason) = &refused { p class="error" data-testid="refused" { (reason) } }
        form class="stack card persona-form" method="post" action=(action) enctype="multipart/form-data" data-testid="persona-form"
            data-preview={ "/api/businesses/" (business) "/personas/preview" } data-persona=[persona.map(|p| p.id.0)]
            data-customers={ "/b/" (business) "/customers?ids=" } {
            (csrf_field(csrf))
            // Enter in a field saves: the form's first submit button is its default.
            button type="submit" name="action" value="save" class="default-submit" tabindex="-1" aria-hidden="true" { "Save" }
            label { "Name" input name="name" required maxlength="80" value=(form.name); }
            div class="two" {
                label { "Initials (optional, up to 3)"
                    input name="initials" maxlength="3" value=(form.initials) placeholder=(trailmap_model::initials_of(&form.name));
                }
                div class="photo-field" {
                    @if let Some(card) = persona.filter(|c| c.has_photo) {
                        (avatar(business, card))
                        label class="check" { input type="checkbox" name="remove_photo" value="on" checked[form.remove_photo]; "Remove the photo" }
                    }
                    label { "Photo (PNG, JPEG or WebP, up to " (MAX_PHOTO_BYTES / 1024) " KiB)"
                        input type="file" name="photo" accept="image/png,image/jpeg,image/webp";
                    }
                }
            }
            label { "Demographics (one “Label: value” per line)" textarea name="demographics" rows="3" placeholder="Age: 25-34\nLives: in town" { (form.demographics) } }
            label { "Goals (one per line)" textarea name="goals" rows="3" { (form.goals) } }
            label { "Frustrations (one per line)" textarea name="frustrations" rows="3" { (form.frustrations) } }
            label { "Behaviours (one per line)" textarea name="behaviours" rows="3" { (form.behaviours) } }
            label { "Quote" input name="quote" value=(form.quote); }
            fieldset class="rule-builder" data-testid="rule-builder" {
                legend { "Segment: the customers this persona stands for" }
                p class="muted" {
                    "Every condition must hold. Several values for “is” or “is not”: separate them with | (Referral|Email). "
                    "Each customer counts for one persona, the first in order whose rule they match; a new persona comes last."
                }
                div class="rule-from" {
                    label class="check" { input type="radio" name="rule_from" value="rows" checked[form.rule_from != "text"]; "Build it from conditions" }
                    label class="check" { input type="radio" name="rule_from" value="text" checked[form.rule_from == "text"]; "Type it as text" }
                }
                div class="rule-rows" {
                    @for k in 0..rows {
                        @let row = form.rows.get(k).unwrap_or(&blank);
                        @let n = k + 1;
                        div class="rule-row" data-testid="rule-row" {
                            (select(&format!("field_{n}"), &format!("Condition {n}: field"), &ROW_FIELDS, &row.field, "— field —"))
                            input name={ "key_" (n) } value=(row.key) placeholder="property key" aria-label="Property key";
                            (select(&format!("op_{n}"), &format!("Condition {n}: operator"), &ROW_OPERATORS, &row.op, "— is —"))
                            input name={ "value_" (n) } value=(row.value) placeholder="value" aria-label="Value";
                        }
                    }
                }
                label { "Rule as text"
                    input name="rule" value=(form.rule) placeholder="orders>=2 & first_channel=Referral" data-testid="rule-text" spellcheck="false";
                    span class="muted" {
                        "Fields: orders, revenue, first_channel, first_source, days_since_last_order, property:KEY. "
                        "Operators: = != > >= < <= contains starts_with exists (! before a word operator or a condition negates it). "
                        "Join conditions with &; quote values with spaces: first_channel=\"Paid Social\"."
                    }
                }
                (live_count(business, preview.as_ref()))
                div { button type="submit" name="action" value="count" class="secondary" data-testid="count" { "Count customers" } }
            }
            div class="actions" {
                button type="submit" name="action" value="save" data-testid="save" { "Save persona" }
                a href={ "/b/" (business) "/personas" } { "Cancel" }
            }
        }
        @if let Some(card) = persona {
            form class="inline delete" method="post" action={ "/b/" (business) "/personas/" (card.id) "/delete" }
                data-confirm={ "Delete the persona " (card.name) "?" } {
                (csrf_field(csrf))
                button type="submit" class="danger" data-testid="delete" { "Delete this persona" }
                span class="muted" { "A persona on a map stays until it is taken off the map." }
            }
        }
    };
    Ok((status, html_response(page(nav, &title, content))).into_response())
}

/// The member's business, for an editor; 403 for a viewer.
async fn editor(state: &ServerState, signed: &SignedIn, id: i64) -> Result<(Business, Nav), ApiError> {
    let membership = auth::membership(state, signed.user.id, BusinessId(id)).await?;
    require_edit(membership.role)?;
    let nav = Nav::load(state, signed, Some(membership.business.id)).await?;
    Ok((membership.business, nav))
}

/// The card of persona `id` with its coverage; 404 when the business has none.
async fn card_of(state: &ServerState, business: &Business, id: PersonaId) -> Result<PersonaCard, ApiError> {
    let facts = customer_facts(state, business).await?;
    let b = business.clone();
    let board = state.try_read(move |app| app.persona_board_with(&b, &facts)).await?;
    board.personas.into_iter().find(|c| c.id == id).ok_or_else(|| ApiError::not_found(format!("{} has no persona {id}", business.name)))
}

/// `?suggestion=N&k=K&seed=S`: start from suggested cluster N of that clustering.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct NewQuery {
    pub suggestion: Option<usize>,
    pub k: Option<String>,
    pub seed: Option<String>,
}

/// GET `/b/{id}/personas/new`: an empty card, or one started from a suggestion.
pub async fn new(State(state): State<ServerState>, signed: SignedIn, Path(id): Path<i64>, Query(query): Query<NewQuery>) -> PageResult {
    let (business, nav) = editor(&state, &signed, id).await?;
    let form = match query.suggestion {
        Some(n) => {
            let asked = crate::personas::SuggestionsQuery { k: query.k.clone(), seed: query.seed.clone() };
            let b = business.clone();
            let input = state
                .try_read(move |app| {
                    let report = app.suggest_personas(&b, &asked.request(app)?)?;
                    let cluster = report.clusters.iter().find(|c| c.cluster == n).ok_or_else(|| AppError::InvalidField {
                        field: "suggestion".into(),
                        value: Some(n.to_string()),
                        reason: format!("there is no such cluster (they are 1 to {})", report.clusters.len()),
                    })?;
                    Ok(PersonaInput::from(cluster))
                })
                .await?;
            PersonaForm::of_input(&input)
        }
        None => PersonaForm { rule_from: "rows".into(), ..PersonaForm::default() },
    };
    let view = FormView { business: business.id, csrf: &signed.csrf, editing: Editing::New, form: &form, refused: None, preview: None, status: StatusCode::OK };
    render(&nav, view)
}

/// GET `/b/{id}/personas/{persona}/edit`.
pub async fn edit(State(state): State<ServerState>, signed: SignedIn, Path((id, persona)): Path<(i64, i64)>) -> PageResult {
    let (business, nav) = editor(&state, &signed, id).await?;
    let card = card_of(&state, &business, PersonaId(persona)).await?;
    let b = business.clone();
    let stored = state.try_read(move |app| app.persona(&b, PersonaId(persona))).await?;
    let form = PersonaForm::of_persona(&stored);
    let view = FormView { business: business.id, csrf: &signed.csrf, editing: Editing::Existing(&card), form: &form, refused: None, preview: None, status: StatusCode::OK };
    render(&nav, view)
}

/// Reads the posted form, multipart (as the page sends it, with the photo file) or urlencoded
/// (a script's post without a photo): its fields and the photo's bytes (None when no file was
/// chosen). A body over [`MAX_FORM_BYTES`] is a 413.
async fn read_form(state: &ServerState, request: Request) -> Result<(Vec<(String, String)>, Option<Vec<u8>>), ApiError> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the form is larger than {} MiB; a photo may be up to {} KiB", MAX_FORM_BYTES / (1024 * 1024), MAX_PHOTO_BYTES / 1024),
        )
    };
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !multipart {
        let bytes = axum::body::to_bytes(request.into_body(), MAX_FORM_BYTES).await.map_err(|_| too_large())?;
        return Ok((form_urlencoded::parse(&bytes).into_owned().collect(), None));
    }
    let failed = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE { too_large() } else { ApiError::invalid_input(format!("the form could not be read: {}", e.body_text())) }
    };
    let mut multipart = Multipart::from_request(request, state)
        .await
        .map_err(|e| ApiError::invalid_input(format!("the form could not be read: {}", e.body_text())))?;
    let mut fields = Vec::new();
    let mut photo = None;
    while let Some(field) = multipart.next_field().await.map_err(failed)? {
        let name = field.name().unwrap_or_default().to_string();
        if name == "photo" {
            let chosen = field.file_name().is_some_and(|f| !f.is_empty());
            let bytes = field.bytes().await.map_err(failed)?;
            if chosen || !bytes.is_empty() {
                photo = Some(bytes.to_vec());
            }
        } else {
            fields.push((name, field.text().await.map_err(failed)?));
        }
    }
    Ok((fields, photo))
}

/// What a post does after reading the form: counts the rule, or saves and goes to the board.
async fn submit(state: ServerState, signed: SignedIn, id: i64, persona: Option<PersonaId>, request: Request) -> PageResult {
    let (business, nav) = editor(&state, &signed, id).await?;
    let (fields, photo) = read_form(&state, request).await?;
    let csrf = fields.iter().find(|(k, _)| k == "csrf").map_or("", |(_, v)| v.as_str());
    if !same_secret(csrf, &signed.csrf) {
        return Err(ApiError::csrf_failed().into());
    }
    let form = PersonaForm::of_fields(&fields);
    let card = match persona {
        Some(p) => Some(card_of(&state, &business, p).await?),
        None => None,
    };
    let editing = card.as_ref().map_or(Editing::New, Editing::Existing);
    let mut view = FormView { business: business.id, csrf: &signed.csrf, editing, form: &form, refused: None, preview: None, status: StatusCode::OK };
    if form.action == "count" {
        view.preview = Some(match form.rule_text() {
            Ok(Some(rule)) => {
                let facts = customer_facts(&state, &business).await?;
                let b = business.clone();
                match state.try_read(move |app| app.preview_segment_with(&b, &facts, &rule, persona)).await {
                    Ok(preview) => Ok(preview),
                    Err(e) if e.status.is_client_error() => Err(e.message),
                    Err(e) => return Err(e.into()),
                }
            }
            Ok(None) => Err("The rule is empty: add a condition to count its customers.".to_string()),
            Err(e) => Err(e.to_string()),
        });
        return render(&nav, view);
    }
    let had_photo = photo.is_some();
    let b = business.clone();
    let saving = form.clone();
    let saved = state
        .try_write(move |app| match persona {
            Some(p) => app.update_persona(&b, p, saving.changes(photo)?).map(|p| p.id),
            None => app.create_persona(&b, saving.input(photo)?).map(|p| p.id),
        })
        .await;
    match saved {
        Ok(saved) => Ok(see_other(&format!("/b/{}/personas#persona-{saved}", business.id))),
        Err(e) if e.status.is_client_error() => {
            let again = if had_photo { " Nothing was saved; choose the photo again." } else { " Nothing was saved." };
            view.refused = Some(format!("{}{again}", e.message));
            view.status = e.status;
            render(&nav, view)
        }
        Err(e) => Err(e.into()),
    }
}

/// POST `/b/{id}/personas`: creates the card (or counts its rule).
pub async fn create(State(state): State<ServerState>, signed: SignedIn, Path(id): Path<i64>, request: Request) -> PageResult {
    submit(state, signed, id, None, request).await
}

/// POST `/b/{id}/personas/{persona}`: saves the card's changes (or counts its rule).
pub async fn update(State(state): State<ServerState>, signed: SignedIn, Path((id, persona)): Path<(i64, i64)>, request: Request) -> PageResult {
    submit(state, signed, id, Some(PersonaId(persona)), request).await
}

/// The delete form's fields (only its CSRF token).
#[derive(Debug, Default, Deserialize)]
pub struct DeleteForm {}

/// POST `/b/{id}/personas/{persona}/delete`: deletes it and goes to the board; a persona a map
/// shows is refused (409) with the maps named.
pub async fn delete(State(state): State<ServerState>, Path((id, persona)): Path<(i64, i64)>, posted: PageForm<DeleteForm>) -> PageResult {
    let membership = auth::membership(&state, posted.user.user.id, BusinessId(id)).await?;
    require_edit(membership.role)?;
    let business = membership.business;
    state.try_write(move |app| app.delete_persona(&business, PersonaId(persona))).await?;
    Ok(see_other(&format!("/b/{id}/personas")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(field: &str, key: &str, op: &str, value: &str) -> RuleRow {
        RuleRow { field: field.into(), key: key.into(), op: op.into(), value: value.into() }
    }

    #[test]
    fn rows_write_the_rules_text_and_a_rule_reads_back_into_rows() {
        let form = PersonaForm {
            rule_from: "rows".into(),
            rows: vec![
                row("orders", "", ">=", "2"),
                RuleRow::default(),
                row("first_channel", "", "=", "Paid Social | Email"),
                row("property", "fav drink", "!contains", "oat"),
                row("days_since_last_order", "", "exists", "ignored"),
            ],
            ..PersonaForm::default()
        };
        let text = form.rule_text().unwrap().unwrap();
        assert_eq!(text, r#"orders>=2 & first_channel="Paid Social"|Email & property:"fav drink" !contains oat & days_since_last_order exists"#);
        let rule = CustomerRule::parse(&text).unwrap();
        let rows = rows_of(&rule).unwrap();
        assert_eq!(rows[1], row("first_channel", "", "=", "Paid Social|Email"));
        assert_eq!(rows[2], row("property", "fav drink", "!contains", "oat"));
        let again = PersonaForm { rule_from: "rows".into(), rows, ..PersonaForm::default() };
        assert_eq!(again.rule_text().unwrap().unwrap(), text);
        // A negated comparison has no row: the form edits such a rule as text.
        let form = PersonaForm::default().with_rule(Some(&CustomerRule::parse("!orders>2").unwrap()));
        assert_eq!((form.rule_from.as_str(), form.rule.as_str(), form.rows.len()), ("text", "!orders>2", 0));
        let half = PersonaForm { rule_from: "rows".into(), rows: vec![row("orders", "", ">=", " ")], ..PersonaForm::default() };
        assert_eq!(half.rule_text().unwrap_err().to_string(), "rule: condition 1: give a value");
        let text_wins = PersonaForm { rule_from: "text".into(), rule: " revenue>10 ".into(), rows: vec![row("orders", "", ">=", "2")], ..PersonaForm::default() };
        assert_eq!(text_wins.rule_text().unwrap().as_deref(), Some("revenue>10"));
    }
}
