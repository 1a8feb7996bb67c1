//! The map editor: one map as an HTML grid, stages across and lanes down (cards as elements, each
//! marked "assumption" or with its evidence), the live numbers under every stage header for a
//! period and persona picked in a small GET form, each with its n and a link to the customers
//! behind it, touchpoint chips, and the emotion curve of every persona drawn by the renderer.
//!
//! Every edit control is a form posting to `/b/{id}/maps/{map}/edit`, so the editor works without
//! JavaScript; `maps.js` sends the same fields as a JSON `MapEdit` to the API instead and updates
//! the page in place. The same grid, without controls, is the read-only view of viewers, of the
//! "as is"/"to be" comparison and of share links.

use super::{NamesOf, NumbersQuery, author, kind_label, map_id};
use crate::auth::{self, PageForm, SignedIn, require_edit};
use crate::error::ApiError;
use crate::state::ServerState;
use crate::web::layout::{Nav, csrf_field, page};
use crate::web::{PageResult, html_response, see_other};
use axum::extract::{Path, Query, State};
use maud::{Markup, PreEscaped, html};
use serde::Deserialize;
use std::collections::HashMap;
use trailmap_app::{CustomerCount, MapEdit, MapNumbers, ScoreFigure};
use trailmap_analytics::voice::ScoreKind;
use trailmap_model::{BusinessId, Card, Evidence, JourneyMap, Lane, PersonaId, TouchpointId};
use trailmap_render::{JourneyMapChart, MapColumn};

/// Everything the grid shows besides the map itself.
pub(crate) struct GridContext<'a> {
    pub business: BusinessId,
    pub touchpoints: &'a HashMap<TouchpointId, String>,
    pub personas: &'a HashMap<PersonaId, String>,
    pub numbers: Option<&'a MapNumbers>,
    /// The session's CSRF token when the viewer may edit; None draws the map read-only.
    pub csrf: Option<&'a str>,
    /// Customer links point into the business; a share link's visitor gets none.
    pub link_customers: bool,
}

/// The emotion curves (one per persona, or the map's single one) as the renderer draws them:
/// the map chart with its stage headers and emotion lane only.
pub(crate) fn emotion_svg(map: &JourneyMap, personas: &HashMap<PersonaId, String>) -> String {
    let curves: Vec<Option<PersonaId>> = if map.personas.is_empty() { vec![None] } else { map.personas.iter().map(|p| Some(*p)).collect() };
    JourneyMapChart {
        title: "Emotions".into(),
        subtitle: None,
        lanes: Vec::new(),
        personas: curves.iter().map(|p| p.and_then(|p| personas.get(&p).cloned()).unwrap_or_default()).collect(),
        stages: map
            .stages
            .iter()
            .map(|s| MapColumn {
                name: s.name.clone(),
                figures: Vec::new(),
                cards: Vec::new(),
                emotions: curves.iter().map(|p| s.emotion(*p).map(f64::from)).collect(),
                touchpoints: Vec::new(),
            })
            .collect(),
    }
    .render()
    .into_string()
}

fn customers_link(business: BusinessId, count: &CustomerCount) -> String {
    let ids: Vec<String> = count.customers.iter().map(|c| c.to_string()).collect();
    format!("/b/{business}/customers?ids={}", ids.join(","))
}

fn evidence_label(e: &Evidence) -> String {
    match e {
        Evidence::Metric { name } => format!("metric: {name}"),
        Evidence::SurveyAnswer { response, question } => format!("survey answer {response}/{question}"),
        Evidence::Quote { feedback } => format!("quote {feedback}"),
        Evidence::Note { text } => format!("note: {text}"),
    }
}

/// A form of one edit: hidden fields, then the visible controls, posting to the no-script route.
fn edit_form(ctx: &GridContext, map: &JourneyMap, class: &str, fields: &[(&str, String)], controls: Markup) -> Markup {
    html! {
        form class=(class) method="post" action={ "/b/" (ctx.business) "/maps/" (map.id) "/edit" } data-edit {
            @if let Some(csrf) = ctx.csrf { (csrf_field(csrf)) }
            @for (name, value) in fields { input type="hidden" name=(name) value=(value); }
            (controls)
        }
    }
}

fn card_markup(ctx: &GridContext, map: &JourneyMap, card: &Card) -> Markup {
    let evidence = serde_json::to_string(&card.evidence).unwrap_or_else(|_| "[]".into());
    html! {
        div class={ "map-card" @if card.is_assumption() { " assumption" } } data-card=(card.id) data-evidence=(evidence) {
            @if ctx.csrf.is_some() {
                p class="text editable" tabindex="0" role="button" title="Click to edit; Enter saves" data-testid="card-text" { (card.text) }
            } @else {
                p class="text" data-testid="card-text" { (card.text) }
            }
            @if card.is_assumption() {
                span class="badge assumption" { "assumption" }
            } @else {
                @for e in &card.evidence { span class="badge evidence" { "✓ " (evidence_label(e)) } }
            }
            @if let Some(action) = &card.action {
                span class="badge action" { "→ " (action.owner) @if let Some(due) = action.due { " by " (due) } }
            }
            @if ctx.csrf.is_some() {
                details class="card-edit" {
                    summary { "Edit" }
                    (edit_form(ctx, map, "card-text-form", &[("op", "edit_card".into()), ("card", card.id.to_string())], html! {
                        textarea name="text" aria-label="Card text" rows="3" { (card.text) }
                        button type="submit" { "Save" }
                    }))
                }
                (edit_form(ctx, map, "inline remove-card", &[("op", "remove_card".into()), ("card", card.id.to_string())], html! {
                    button type="submit" class="link danger" aria-label={ "Remove card " (card.text) } { "Remove" }
                }))
            }
        }
    }
}

/// The map as a grid: a label column, then one column per stage; each cell says its stage and row
/// so the script can find it, and sits in its grid column by the stage's place.
pub(crate) fn grid(map: &JourneyMap, ctx: &GridContext) -> Markup {
    let curves: Vec<Option<PersonaId>> = if map.personas.is_empty() { vec![None] } else { map.personas.iter().map(|p| Some(*p)).collect() };
    let k = map.stages.len();
    let style = format!("--stages: {0}; grid-template-columns: 8.5rem repeat({0}, minmax(14rem, 1fr));", k.max(1));
    html! {
        div class="map-scroll" {
            div class="map-grid" style=(style) data-testid="map-grid" {
                div class="lane-label corner" style="grid-column:1;grid-row:1" { "Stages" }
                @for (i, stage) in map.stages.iter().enumerate() {
                    @let col = format!("grid-column:{};grid-row:1", i + 2);
                    div class="stage-head" style=(col) data-stage=(stage.id) data-index=(i) draggable=[ctx.csrf.map(|_| "true")] {
                        h3 data-testid="stage-name" { (stage.name) }
                        @if ctx.csrf.is_some() {
                            div class="stage-tools" {
                                @if i > 0 {
                                    (edit_form(ctx, map, "inline", &[("op", "move_stage".into()), ("stage", stage.id.to_string()), ("position", (i - 1).to_string())], html! {
                                        button type="submit" class="secondary move" data-move="left" aria-label={ "Move " (stage.name) " left" } { "←" }
                                    }))
                                }
                                @if i + 1 < k {
                                    (edit_form(ctx, map, "inline", &[("op", "move_stage".into()), ("stage", stage.id.to_string()), ("position", (i + 1).to_string())], html! {
                                        button type="submit" class="secondary move" data-move="right" aria-label={ "Move " (stage.name) " right" } { "→" }
                                    }))
                                }
                            }
                        }
                        @if let Some(numbers) = ctx.numbers.and_then(|n| n.stages.iter().find(|s| s.stage == stage.id)) {
                            dl class="stage-numbers" data-testid="stage-numbers" {
                                @if !numbers.measured {
                                    dd class="muted" { "Not measured: no touchpoint with a rule." }
                                } @else {
                                    dt { "Reach" }
                                    dd { (figure(ctx, &numbers.reach, format!("{} customers", numbers.reach.n))) }
                                    @if let Some(next) = &numbers.to_next {
                                        dt { "To next stage" }
                                        dd { (figure(ctx, &next.converted, format!("{:.0}% (n={})", next.rate * 100.0, next.n))) }
                                        dt { "Drop-off" }
                                        dd { (figure(ctx, &next.dropped, format!("{} customers (n={})", next.dropped.n, next.n))) }
                                    }
                                    dt { "Revenue" }
                                    dd { (figure(ctx, &numbers.revenue.buyers, format!("{:.0} {} (n={} orders)", numbers.revenue.amount, numbers.revenue.currency, numbers.revenue.orders))) }
                                }
                                // Satisfaction and sentiment come from surveys and feedback, so they show even on an unmeasured stage.
                                @if let Some(score) = numbers.satisfaction.as_ref().filter(|s| s.n > 0) {
                                    dt { "Satisfaction" }
                                    dd data-testid="stage-satisfaction" { (figure(ctx, &score.respondents, satisfaction_text(score))) }
                                }
                                @if let Some(sentiment) = numbers.sentiment.as_ref().filter(|s| s.n > 0) {
                                    dt { "Sentiment" }
                                    dd data-testid="stage-sentiment" { (figure(ctx, &sentiment.authors, format!("{:+.2} average of {} texts (n={})", sentiment.average, sentiment.n, sentiment.n))) }
                                }
                            }
                        }
                    }
                }
                @for (row, lane) in Lane::ALL.iter().enumerate() {
                    div class="lane-label" style={ "grid-column:1;grid-row:" (row + 2) } { (lane.title()) }
                    @for (i, stage) in map.stages.iter().enumerate() {
                        div class="lane-cell" style={ "grid-column:" (i + 2) ";grid-row:" (row + 2) } data-stage=(stage.id) data-lane=(lane.as_str()) {
                            @for card in stage.lane(*lane) { (card_markup(ctx, map, card)) }
                            @if ctx.csrf.is_some() {
                                (edit_form(ctx, map, "add-card", &[("op", "add_card".into()), ("stage", stage.id.to_string()), ("lane", lane.as_str().into())], html! {
                                    input type="text" name="text" required maxlength="2000" placeholder="Add a card" aria-label={ "New card in " (stage.name) " / " (lane.title()) };
                                    button type="submit" class="secondary" { "Add" }
                                }))
                            }
                        }
                    }
                }
                @let emotion_row = Lane::ALL.len() + 2;
                div class="lane-label" style={ "grid-column:1;grid-row:" (emotion_row) } { "Emotions" }
                @for (i, stage) in map.stages.iter().enumerate() {
                    div class="lane-cell emotions" style={ "grid-column:" (i + 2) ";grid-row:" (emotion_row) } data-stage=(stage.id) {
                        @for persona in &curves {
                            @let score = stage.emotion(*persona);
                            @let who = persona.and_then(|p| ctx.personas.get(&p).cloned()).unwrap_or_else(|| "Emotion".into());
                            @if ctx.csrf.is_some() {
                                @let fields = emotion_fields(stage.id, *persona);
                                (edit_form(ctx, map, "inline emotion", &fields, html! {
                                    label {
                                        (who) " "
                                        select name="score" aria-label={ (who) " at " (stage.name) } data-autosubmit {
                                            @for s in -2i32..=2 {
                                                option value=(s) selected[score.is_some_and(|v| v.round() as i32 == s)] { (format!("{s:+}")) }
                                            }
                                        }
                                    }
                                    button type="submit" class="secondary noscript-only" { "Set" }
                                }))
                            } @else {
                                div { (who) ": " (score.map_or_else(|| "–".to_string(), |s| format!("{s:+.1}"))) }
                            }
                        }
                    }
                }
                div class="lane-label" style={ "grid-column:1;grid-row:" (emotion_row + 1) } { "Touchpoints" }
                @for (i, stage) in map.stages.iter().enumerate() {
                    div class="lane-cell touchpoints" style={ "grid-column:" (i + 2) ";grid-row:" (emotion_row + 1) } data-stage=(stage.id) {
                        @for t in &stage.touchpoints {
                            span class="chip" { (ctx.touchpoints.get(t).cloned().unwrap_or_else(|| format!("touchpoint {t}"))) }
                        }
                    }
                }
            }
        }
    }
}

fn emotion_fields(stage: u32, persona: Option<PersonaId>) -> Vec<(&'static str, String)> {
    let mut fields = vec![("op", "set_emotion".to_string()), ("stage", stage.to_string())];
    if let Some(p) = persona {
        fields.push(("persona", p.to_string()));
    }
    fields
}

/// A live number: a link to the customers behind it inside the business, plain text elsewhere.
/// A satisfaction score in words: CSAT as the share satisfied, NPS on its -100..100 scale.
fn satisfaction_text(score: &ScoreFigure) -> String {
    match score.kind {
        ScoreKind::Nps => format!("NPS {:+.0} (n={})", score.value, score.n),
        _ => format!("CSAT {:.0}% satisfied (n={})", score.value * 100.0, score.n),
    }
}

fn figure(ctx: &GridContext, count: &CustomerCount, text: String) -> Markup {
    html! {
        @if ctx.link_customers {
            a href=(customers_link(ctx.business, count)) { (text) }
        } @else {
            (text)
        }
    }
}

pub async fn show(State(state): State<ServerState>, signed: SignedIn, Path((id, map)): Path<(i64, i64)>, Query(query): Query<NumbersQuery>) -> PageResult {
    let membership = auth::membership(&state, signed.user.id, BusinessId(id)).await?;
    let nav = Nav::load(&state, &signed, Some(membership.business.id)).await?;
    let business = membership.business.clone();
    let asked = query.clone();
    let (version, touchpoints, personas, numbers) = state
        .try_read(move |app| {
            let version = app.journey_map(&business, map_id(map))?;
            let touchpoints: HashMap<_, _> = app.store_touchpoints(business.id)?.into_iter().collect();
            let personas = app.store_personas(&business)?;
            let request = asked.request(app, &business)?;
            let numbers = app.map_numbers(&business, map_id(map), &request)?;
            Ok((version, touchpoints, personas, numbers))
        })
        .await?;
    let persona_names: HashMap<_, _> = personas.iter().cloned().collect();
    let m = &version.map;
    let can_edit = membership.role.can_edit();
    let ctx = GridContext {
        business: BusinessId(id),
        touchpoints: &touchpoints,
        personas: &persona_names,
        numbers: Some(&numbers),
        csrf: can_edit.then_some(signed.csrf.as_str()),
        link_customers: true,
    };
    let base = format!("/b/{id}/maps/{map}");
    let chosen = query.persona.clone().unwrap_or_default();
    let content = html! {
        div class="page-head" {
            h1 data-testid="map-name" { (m.name) }
            span class={ "badge kind " (kind_label(m.kind).replace(' ', "-")) } { (kind_label(m.kind)) }
        }
        p class="muted" data-testid="map-details" {
            "Version " span data-testid="map-version" { (version.version) } " by " (version.author) ", " (crate::web::layout::when(version.created_at)) "."
            @if let Some(owner) = &m.owner { " Owner: " (owner) "." }
            @if let Some(date) = m.review_date {
                " Review by " (date) "."
                @if date < auth::now().date() { " " span class="badge stale" { "STALE" } }
            }
        }
        nav class="map-links" {
            a href={ "/b/" (id) "/maps" } { "All maps" }
            a href={ (base) "/versions" } { "Versions" }
            a href={ (base) "/compare" } { "As is / to be" }
            a href={ (base) "/share" } { "Share links" }
            span class="exports" {
                "Download: "
                @for (format, label) in [("svg", "SVG"), ("png", "PNG"), ("pdf", "PDF"), ("json", "JSON"), ("mermaid", "Mermaid")] {
                    a href={ (base) "/export?format=" (format) } download data-testid={ "export-" (format) } { (label) }
                    " "
                }
            }
        }
        form class="inline numbers-form" method="get" action=(base) data-testid="numbers-form" {
            label { "From " input type="date" name="from" value=(query.from.clone().unwrap_or_default()); }
            label { "to " input type="date" name="to" value=(query.to.clone().unwrap_or_default()); }
            label {
                "Persona "
                select name="persona" {
                    option value="" { "Everyone" }
                    @for (p, name) in &personas {
                        option value=(p) selected[chosen == p.to_string() || chosen.eq_ignore_ascii_case(name)] { (name) }
                    }
                }
            }
            button type="submit" class="secondary" { "Show numbers" }
        }
        p class="muted numbers-note" data-testid="numbers-period" {
            "Live numbers for "
            @match numbers.period {
                Some((from, to)) => { (from.date()) " to " (to.add_millis(-trailmap_model::Timestamp::MS_PER_DAY).date()) }
                None => { "all time" }
            }
            @if let Some(p) = &numbers.persona { ", persona " (p) }
            ": reach is the customers with a stage's touchpoint event; conversion counts the next stage within "
            (numbers.window_ms / trailmap_model::Timestamp::MS_PER_DAY) " days."
        }
        div id="map-root" data-map-root data-business=(id) data-map=(map) data-csrf=[can_edit.then_some(signed.csrf.as_str())] {
            (grid(m, &ctx))
            div class="emotion-curve chart" data-testid="emotion-curve" { (PreEscaped(emotion_svg(m, &persona_names))) }
        }
        @if can_edit {
            h2 { "Add a stage" }
            (edit_form(&ctx, m, "inline card", &[("op", "add_stage".into())], html! {
                input type="text" name="name" required maxlength="200" placeholder="Stage name" aria-label="New stage name";
                button type="submit" { "Add stage" }
            }))
        }
        script src="/static/maps.js" defer {}
    };
    Ok(html_response(page(&nav, &m.name, content)))
}

/// The fields of an edit form; which ones count depends on `op` (the `MapEdit`'s tag).
#[derive(Debug, Deserialize)]
pub struct EditForm {
    pub op: String,
    #[serde(default)]
    pub stage: String,
    #[serde(default)]
    pub card: String,
    #[serde(default)]
    pub lane: String,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub position: String,
    #[serde(default)]
    pub score: String,
    #[serde(default)]
    pub persona: String,
}

fn number<T: std::str::FromStr>(field: &str, text: &str) -> Result<T, ApiError> {
    text.trim().parse().map_err(|_| ApiError::invalid_input(format!("{field}: {text:?} is not a number")))
}

impl EditForm {
    /// The edit the form asks for; an edited card keeps the evidence it had (`current`).
    fn edit(&self, current: &JourneyMap) -> Result<MapEdit, ApiError> {
        Ok(match self.op.as_str() {
            "add_card" => MapEdit::AddCard {
                stage: number("stage", &self.stage)?,
                lane: Lane::parse(&self.lane).ok_or_else(|| ApiError::invalid_input(format!("lane: {:?} is not a lane", self.lane)))?,
                text: self.text.clone(),
                position: None,
            },
            "edit_card" => {
                let card: u32 = number("card", &self.card)?;
                let evidence = current.card(card).map(|(_, _, c)| c.evidence.clone()).unwrap_or_default();
                MapEdit::EditCard { card, text: self.text.clone(), evidence }
            }
            "remove_card" => MapEdit::RemoveCard { card: number("card", &self.card)? },
            "move_stage" => MapEdit::MoveStage { stage: number("stage", &self.stage)?, position: number("position", &self.position)? },
            "add_stage" => MapEdit::AddStage { name: self.name.clone(), position: None },
            "set_emotion" => MapEdit::SetEmotion {
                stage: number("stage", &self.stage)?,
                persona: if self.persona.trim().is_empty() { None } else { Some(PersonaId(number("persona", &self.persona)?)) },
                score: number("score", &self.score)?,
            },
            other => return Err(ApiError::invalid_input(format!("op: {other:?} is not an edit this form makes"))),
        })
    }
}

/// A form edit without JavaScript: applied, then back to the map.
pub async fn edit(State(state): State<ServerState>, Path((id, map)): Path<(i64, i64)>, posted: PageForm<EditForm>) -> PageResult {
    let membership = auth::membership(&state, posted.user.user.id, BusinessId(id)).await?;
    require_edit(membership.role)?;
    let (business, by, form) = (membership.business, author(&posted.user.user), posted.form);
    state
        .try_write(move |app| {
            let current = app.journey_map(&business, map_id(map))?.map;
            let edit = form.edit(&current).map_err(|e| trailmap_app::AppError::Invalid(e.message))?;
            app.edit_map(&business, map_id(map), &edit, &by)
        })
        .await?;
    Ok(see_other(&format!("/b/{id}/maps/{map}")))
}
