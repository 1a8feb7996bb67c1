//! The form to make or edit a touchpoint (editors): name, channel, the rule over events, stage
//! and description, with the live preview of the rule beside it: how many events and customers it
//! matches over the 30 days up to the business's last event, with a few examples, or that it
//! matches nothing. `touchpoints.js` refreshes the preview from the preview API as the rule is
//! typed; without JavaScript the form's "Preview" button posts the form and the page comes back
//! with the preview and nothing saved.
//!
//! A form the app refuses comes back with the values kept and the reason beside the field it
//! names; a rule that does not read shows where (the rule with the place marked) and why.

use crate::auth::{self, PageForm, SignedIn, author, require_edit};
use crate::error::ApiError;
use crate::state::ServerState;
use crate::web::analysis::{MAX_GROUP_LINKED_CUSTOMERS, customers_href_up_to};
use crate::web::layout::{Nav, csrf_field, page, when};
use crate::web::{PageError, PageResult, html_response, see_other};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use maud::{Markup, html};
use serde::Deserialize;
use trailmap_app::AppError;
use trailmap_app::touchpoint_edits::{TouchpointEdit, TouchpointRequest};
use trailmap_app::touchpoint_preview::RulePreview;
use trailmap_model::{BusinessId, RULE_FIELDS, TouchpointChannel, TouchpointId};

/// The form as posted (and as shown again when refused or previewed).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct TouchpointForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub channel: String,
    #[serde(default)]
    pub rule: String,
    /// A stage name; empty for none.
    #[serde(default)]
    pub stage: String,
    #[serde(default)]
    pub description: String,
    /// `preview` from the Preview button: show what the rule matches, save nothing.
    #[serde(default)]
    pub intent: String,
}

/// A refusal shown beside the field it names (or above the form when it names none).
#[derive(Debug, Clone, Default)]
struct Refusal {
    field: Option<String>,
    message: String,
    /// For a rule that does not read: the rule and the character offset where it stops.
    rule_at: Option<(String, usize)>,
}

impl Refusal {
    /// The refusal of a field error, a rule error or a name conflict; None for other errors.
    fn of(error: &AppError) -> Option<Refusal> {
        match error {
            AppError::InvalidRule { field, rule, error } => Some(Refusal {
                field: Some(field.clone()),
                message: format!("At offset {}: {}", error.offset, error.reason),
                rule_at: Some((rule.clone(), error.offset)),
            }),
            AppError::InvalidField { field, .. } => Some(Refusal { field: Some(field.clone()), message: error.to_string(), rule_at: None }),
            AppError::Conflict(message) => Some(Refusal {
                field: message.starts_with("name:").then(|| "name".to_string()),
                message: message.clone(),
                rule_at: None,
            }),
            _ => None,
        }
    }

    fn on(refusal: &Option<Refusal>, field: &str) -> Option<Refusal> {
        refusal.as_ref().filter(|r| r.field.as_deref() == Some(field)).cloned()
    }
}

/// The reason beside a field, with the rule's place marked for a rule error.
fn beside(refusal: Option<Refusal>, field: &str) -> Markup {
    html! {
        p class="error field-error" id={ (field) "-error" } data-testid={ (field) "-error" } aria-live="polite" {
            @if let Some(r) = refusal {
                (r.message)
                @if let Some((rule, offset)) = &r.rule_at {
                    @let chars: Vec<char> = rule.chars().collect();
                    @let before: String = chars[..(*offset).min(chars.len())].iter().collect();
                    @let at: String = chars.get(*offset).map_or("\u{2423}".to_string(), |c| c.to_string());
                    @let after: String = chars.get(offset + 1..).map_or(String::new(), |rest| rest.iter().collect());
                    br; code class="rule-at" { (before) mark { (at) } (after) }
                }
            }
        }
    }
}

/// What the preview box shows: the answer, or nothing asked yet.
pub(crate) fn preview_box(id: i64, preview: Option<&RulePreview>) -> Markup {
    html! {
        div class="card preview" id="rule-preview" data-testid="preview" aria-live="polite" {
            h2 { "Preview" }
            @match preview {
                None => p class="muted" data-testid="preview-summary" { "Type a rule to see what it matches over the last 30 days that have data." },
                Some(p) => {
                    p data-testid="preview-summary" class=[p.matches_nothing.then_some("nothing")] { (p.summary) }
                    @if !p.rule_in_words.is_empty() { p class="muted" { "The rule reads: " (p.rule_in_words) } }
                    @if p.events > 0 {
                        p {
                            span data-testid="preview-events" { (p.events) } " events, "
                            @match customers_href_up_to(BusinessId(id), &p.customers.customers, MAX_GROUP_LINKED_CUSTOMERS) {
                                Some(href) => a href=(href) data-testid="preview-customers" { (p.customers.n) },
                                None => span data-testid="preview-customers" { (p.customers.n) },
                            }
                            " customers (n)"
                        }
                    }
                    @for note in &p.notes { p class="muted" data-testid="preview-note" { (note) } }
                    @if !p.examples.is_empty() {
                        table class="examples" data-testid="preview-examples" {
                            thead { tr { th { "When" } th { "Customer" } th { "Event" } th { "Fields" } } }
                            tbody {
                                @for e in &p.examples {
                                    tr {
                                        td { (when(e.time)) }
                                        td { a href={ "/b/" (id) "/customers/" (e.customer.0) } { (e.customer.0) } }
                                        td { (e.event) }
                                        td { (e.fields.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Whether the form makes a touchpoint or edits one.
#[derive(Debug, Clone, Copy)]
enum Mode {
    New,
    Edit(TouchpointId),
}

async fn render(
    state: &ServerState,
    signed: &SignedIn,
    id: i64,
    mode: Mode,
    form: &TouchpointForm,
    refusal: Option<Refusal>,
    preview: Option<RulePreview>,
) -> PageResult {
    let membership = auth::membership(state, signed.user.id, BusinessId(id)).await?;
    require_edit(membership.role)?;
    let nav = Nav::load(state, signed, Some(membership.business.id)).await?;
    let b = membership.business.clone();
    let stages: Vec<String> = state.try_read(move |app| Ok(app.names(b.id)?.stages)).await?;
    let (title, action) = match mode {
        Mode::New => ("New touchpoint".to_string(), format!("/b/{id}/touchpoints")),
        Mode::Edit(t) => (format!("Edit {}", form.name), format!("/b/{id}/touchpoints/{}/edit", t.0)),
    };
    let general = refusal.as_ref().filter(|r| !matches!(r.field.as_deref(), Some("name" | "channel" | "rule" | "stage" | "description")));
    let status = match &refusal {
        Some(r) if r.message.contains("already has a touchpoint named") => StatusCode::CONFLICT,
        Some(_) => StatusCode::BAD_REQUEST,
        None => StatusCode::OK,
    };
    let content = html! {
        div class="page-head" { h1 { (title) } }
        (super::subnav(id, true))
        @if let Some(r) = general { p class="error" data-testid="refused" { (r.message) } }
        div class="touchpoint-editor" {
            form class="stack card" method="post" action=(action) data-testid="touchpoint-form"
                data-preview-url={ "/api/businesses/" (id) "/touchpoints/preview" } data-business=(id) {
                (csrf_field(&signed.csrf))
                label { "Name" input name="name" required maxlength="100" value=(form.name) aria-describedby="name-error"; }
                (beside(Refusal::on(&refusal, "name"), "name"))
                label { "Channel"
                    select name="channel" aria-describedby="channel-error" {
                        @for c in TouchpointChannel::ALL {
                            option value=(c.as_str()) selected[TouchpointChannel::parse(&form.channel) == Some(c)] { (c.as_str()) }
                        }
                    }
                }
                (beside(Refusal::on(&refusal, "channel"), "channel"))
                label { "Rule over events"
                    input name="rule" value=(form.rule) autocomplete="off" spellcheck="false" class="mono"
                        placeholder="page_view[page^=/checkout]" aria-describedby="rule-error rule-help";
                }
                (beside(Refusal::on(&refusal, "rule"), "rule"))
                p class="muted help" id="rule-help" {
                    "An event name (" code { "purchase" } "), any of several (" code { "email_open|email_click" } "), with conditions ("
                    code { "page_view[page^=/checkout]" } ", " code { "*[channel=Paid Social]" } ", " code { "[utm_source=instagram][utm_medium=cpc]" } ", "
                    code { "*[referral_code]" } ", " code { "*[offline_kind=till]" } "). Operators: = != ^= (starts with) *= (contains) > <. Fields: " (RULE_FIELDS) "."
                }
                label { "Stage"
                    select name="stage" aria-describedby="stage-error" {
                        option value="" { "—" }
                        @for s in &stages { option value=(s) selected[form.stage.eq_ignore_ascii_case(s)] { (s) } }
                    }
                }
                (beside(Refusal::on(&refusal, "stage"), "stage"))
                label { "Description (optional)" input name="description" maxlength="1000" value=(form.description); }
                (beside(Refusal::on(&refusal, "description"), "description"))
                div class="buttons" {
                    button type="submit" name="intent" value="preview" class="secondary" data-testid="preview-button" { "Preview" }
                    button type="submit" name="intent" value="save" data-testid="save" { "Save" }
                }
            }
            (preview_box(id, preview.as_ref()))
        }
        script src="/static/touchpoints.js" defer {}
    };
    Ok((status, html_response(page(&nav, &title, content))).into_response())
}

/// The empty form.
pub async fn new(State(state): State<ServerState>, signed: SignedIn, Path(id): Path<i64>) -> PageResult {
    let form = TouchpointForm { channel: "web".into(), ..TouchpointForm::default() };
    render(&state, &signed, id, Mode::New, &form, None, None).await
}

/// The form filled with the touchpoint, and what its rule matches now.
pub async fn edit(State(state): State<ServerState>, signed: SignedIn, Path((id, touchpoint)): Path<(i64, i64)>) -> PageResult {
    let membership = auth::membership(&state, signed.user.id, BusinessId(id)).await?;
    let b = membership.business;
    let (view, preview) = state
        .try_read(move |app| {
            let view = app.touchpoint(&b, TouchpointId(touchpoint))?;
            let preview = if view.rule.is_empty() { None } else { app.preview_touchpoint_rule(&b, &view.rule).ok() };
            Ok((view, preview))
        })
        .await?;
    let form = TouchpointForm {
        name: view.name,
        channel: view.channel,
        rule: view.rule,
        stage: view.stage.unwrap_or_default(),
        description: view.description,
        intent: String::new(),
    };
    render(&state, &signed, id, Mode::Edit(TouchpointId(touchpoint)), &form, None, preview).await
}

/// The preview of the posted rule, or its refusal (a rule that does not read).
async fn preview_of(state: &ServerState, id: i64, signed: &SignedIn, rule: &str) -> Result<Result<RulePreview, AppError>, PageError> {
    let membership = auth::membership(state, signed.user.id, BusinessId(id)).await?;
    let b = membership.business;
    let rule = rule.to_string();
    Ok(state.read(move |app| app.preview_touchpoint_rule(&b, &rule)).await?)
}

/// Posts of either form: the Preview button shows the preview, Save saves through `save`; a
/// refusal the person can fix comes back beside its field.
async fn submit(state: ServerState, id: i64, mode: Mode, posted: PageForm<TouchpointForm>) -> PageResult {
    let signed = posted.user;
    let form = posted.form;
    if form.intent == "preview" {
        return match preview_of(&state, id, &signed, &form.rule).await? {
            Ok(preview) => render(&state, &signed, id, mode, &form, None, Some(preview)).await,
            Err(error) => match Refusal::of(&error) {
                Some(refusal) => render(&state, &signed, id, mode, &form, Some(refusal), None).await,
                None => Err(error.into()),
            },
        };
    }
    let membership = auth::membership(&state, signed.user.id, BusinessId(id)).await?;
    require_edit(membership.role)?;
    let business = membership.business;
    let by = author(&signed.user);
    let posted = form.clone();
    let saved = state
        .write(move |app| match mode {
            Mode::New => {
                let request = TouchpointRequest {
                    name: posted.name,
                    channel: posted.channel,
                    rule: posted.rule,
                    stage: Some(posted.stage),
                    description: posted.description,
                };
                app.create_touchpoint(&business, &request, &by)
            }
            Mode::Edit(t) => {
                let edit = TouchpointEdit {
                    name: Some(posted.name),
                    channel: Some(posted.channel),
                    rule: Some(posted.rule),
                    stage: Some(posted.stage),
                    description: Some(posted.description),
                    position: None,
                };
                app.edit_touchpoint(&business, t, &edit, &by)
            }
        })
        .await?;
    match saved {
        Ok(_) => Ok(see_other(&format!("/b/{id}/touchpoints"))),
        Err(error) => match Refusal::of(&error) {
            Some(refusal) => {
                // The preview shows beside the refusal when the rule itself reads.
                let preview = match refusal.field.as_deref() {
                    Some("rule") => None,
                    _ => preview_of(&state, id, &signed, &form.rule).await?.ok(),
                };
                render(&state, &signed, id, mode, &form, Some(refusal), preview).await
            }
            None => Err(ApiError::from(error).into()),
        },
    }
}

pub async fn create(State(state): State<ServerState>, Path(id): Path<i64>, posted: PageForm<TouchpointForm>) -> PageResult {
    submit(state, id, Mode::New, posted).await
}

pub async fn save(State(state): State<ServerState>, Path((id, touchpoint)): Path<(i64, i64)>, posted: PageForm<TouchpointForm>) -> PageResult {
    submit(state, id, Mode::Edit(TouchpointId(touchpoint)), posted).await
}
