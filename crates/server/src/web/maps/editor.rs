//! The map editor: one map as an HTML grid, stages across and lanes down (cards as elements, each
//! marked "assumption" or with its evidence), the live numbers under every stage header for a
//! period and persona picked in a small GET form, each with its n and a link to the customers
//! behind it, touchpoint chips, and the emotion curve of every persona drawn by the renderer.
//!
//! Every edit control is a form posting to `/b/{id}/maps/{map}/edit`, so the editor works without
//! JavaScript: card text, evidence (metric, note, or a quote chosen in the quote picker from the
//! feedback tied to the stage's touchpoints, searched by the page's "quotes containing" field),
//! pain point → opportunity → action, stage add, move, rename and remove (with a confirm box),
//! touchpoints added from the catalogue and removed, emotions. `maps.js` sends the same fields as a JSON `MapEdit` to the API instead and updates
//! the page in place. The same grid, without controls, is the read-only view of viewers, of the
//! "as is"/"to be" comparison and of share links.

use super::comments::CardComments;
use super::{NumbersQuery, author, kind_label, map_id};
use crate::auth::{self, PageForm, SignedIn, require_edit};
use crate::error::ApiError;
use crate::state::ServerState;
use crate::web::layout::{Nav, csrf_field, wide_page};
use crate::web::{PageResult, html_response, parse_day, see_other};
use axum::extract::{Path, Query, State};
use maud::{Markup, PreEscaped, html};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use trailmap_app::card_evidence::{CardEvidence, EvidenceView, MapEvidence};
use trailmap_app::map_evidence::StageQuotes;
use trailmap_app::{CustomerCount, MapEdit, MapNumbers, ScoreFigure};
use trailmap_analytics::voice::ScoreKind;
use trailmap_model::{BusinessId, Card, CardAction, ChangeId, Evidence, FeedbackId, JourneyMap, Lane, PersonaId, SurveyScore, TouchpointId};
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
    /// The cards' comments for a member in the editor; None leaves them out (share links, the
    /// comparison).
    pub comments: Option<&'a CardComments>,
    /// Every card's evidence computed live for the numbers' period and persona; None shows the
    /// evidence by its kind only (share links, the comparison).
    pub evidence: Option<&'a MapEvidence>,
}

/// What only the editor shows: the quote picker of every stage, the words of the quotes cards
/// cite, and the touchpoint catalogue to add from. Empty for read-only views.
#[derive(Debug, Default)]
pub(crate) struct EditorData {
    pub quotes: BTreeMap<u32, StageQuotes>,
    pub quote_texts: HashMap<FeedbackId, String>,
    /// The business's touchpoints (id, name) in catalogue order.
    pub catalogue: Vec<(TouchpointId, String)>,
}

use trailmap_app::map_evidence::PICKER_QUOTES;

/// A quote cut to a length that fits a select option.
fn short(text: &str, chars: usize) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() <= chars { text } else { format!("{}…", text.chars().take(chars).collect::<String>()) }
}

/// The emotion curves in their box, which scrolls sideways when the map is wider than the window:
/// the box can take the keyboard's focus (so arrow keys scroll it) and is a region named for a
/// screen reader, as a scrollable area must be.
pub(crate) fn emotion_curve(map: &JourneyMap, personas: &HashMap<PersonaId, String>) -> Markup {
    html! {
        div class="emotion-curve chart" tabindex="0" role="region" aria-label="Emotion curve (scrolls sideways)" data-testid="emotion-curve" {
            (PreEscaped(emotion_svg(map, personas)))
        }
    }
}

/// The emotion curves (one per persona, or the map's single one) as the renderer draws them:
/// the map chart with its stage headers and emotion lane only.
fn emotion_svg(map: &JourneyMap, personas: &HashMap<PersonaId, String>) -> String {
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

fn evidence_label(e: &Evidence, data: &EditorData) -> String {
    match e {
        Evidence::Metric { name } => format!("metric: {name}"),
        Evidence::SurveyAnswer { response, question } => format!("survey answer {response}/{question}"),
        Evidence::Quote { feedback } => match data.quote_texts.get(feedback) {
            Some(text) => format!("quote: “{}”", short(text, 160)),
            None => format!("quote {feedback}"),
        },
        Evidence::Note { text } => format!("note: {text}"),
        Evidence::Score { .. } => e.to_string(),
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

fn card_markup(ctx: &GridContext, data: &EditorData, map: &JourneyMap, stage: u32, lane: Lane, card: &Card) -> Markup {
    let evidence = serde_json::to_string(&card.evidence).unwrap_or_else(|_| "[]".into());
    let pain_point = card.from.and_then(|from| map.card(from)).map(|(_, _, c)| c.text.clone());
    let card_field = ("card", card.id.to_string());
    html! {
        div class={ "map-card" @if card.is_assumption() { " assumption" } } id={ "card-" (card.id) } data-card=(card.id) data-evidence=(evidence) {
            @if ctx.csrf.is_some() {
                p class="text editable" tabindex="0" role="button" title="Click to edit; Enter saves" data-testid="card-text" { (card.text) }
            } @else {
                p class="text" data-testid="card-text" { (card.text) }
            }
            @if let Some(text) = &pain_point {
                p class="muted from-pain" data-testid="from-pain-point" { "Answers the pain point: " (text) }
            }
            @if card.is_assumption() {
                span class="badge assumption" { "assumption" }
            } @else if let Some(found) = ctx.evidence.and_then(|e| e.cards.get(&card.id)) {
                (live_evidence(ctx, map, card, found))
            } @else {
                ul class="evidence-list" data-testid="evidence" {
                    @for (i, e) in card.evidence.iter().enumerate() {
                        li data-kind=(e.kind()) {
                            span class="badge evidence" { "✓ " (evidence_label(e, data)) }
                            @if ctx.csrf.is_some() { (remove_evidence(ctx, map, card, i)) }
                        }
                    }
                }
            }
            @if let Some(found) = ctx.evidence.and_then(|e| e.cards.get(&card.id)) {
                @for change in &found.changes {
                    p class="small change-verdict" data-testid="card-change" {
                        "Change " a href={ "/b/" (ctx.business) "/changes/" (change.change) } { "“" (change.title) "”" } " (" (change.date) "): " (change.verdict)
                    }
                }
            }
            @if let Some(action) = &card.action {
                div class="badge action" data-testid="action" {
                    "Action: " (action.owner)
                    @if let Some(due) = action.due { " by " (due) }
                    @if let Some(change) = action.change { " · change " a href={ "/b/" (ctx.business) "/changes" } { (change) } }
                    @if let Some(kpi) = &action.kpi { " · KPI: " (kpi) }
                    @if action.done { " · done" }
                }
            }
            @if ctx.csrf.is_some() {
                details class="card-edit" {
                    summary { "Edit" }
                    (edit_form(ctx, map, "card-text-form", &[("op", "edit_card".into()), card_field.clone()], html! {
                        textarea name="text" aria-label="Card text" rows="3" { (card.text) }
                        button type="submit" { "Save" }
                    }))
                }
                (edit_form(ctx, map, "inline remove-card", &[("op", "remove_card".into()), card_field.clone()], html! {
                    button type="submit" class="link danger" aria-label={ "Remove card " (card.text) } { "Remove" }
                }))
                (card_tools(ctx, data, map, stage, lane, card))
            }
            @if let Some(comments) = ctx.comments { (comments.thread(card.id)) }
        }
    }
}

/// The button that takes the `index`-th piece of evidence off a card.
fn remove_evidence(ctx: &GridContext, map: &JourneyMap, card: &Card, index: usize) -> Markup {
    edit_form(ctx, map, "inline remove-card remove-evidence", &[("op", "remove_evidence".into()), ("card", card.id.to_string()), ("index", index.to_string())], html! {
        button type="submit" class="link danger" aria-label={ "Remove evidence " (index + 1) " of " (card.text) } { "×" }
    })
}

/// How many of a card's quotes it shows before "more".
const SHOWN_QUOTES: usize = 2;

/// A card's evidence as computed live: its two strongest quotes with their source and date (the
/// rest folded under their count), answers, scores and metrics with their n, notes.
fn live_evidence(ctx: &GridContext, map: &JourneyMap, card: &Card, found: &CardEvidence) -> Markup {
    let remove = |index: usize| if ctx.csrf.is_some() { Some(remove_evidence(ctx, map, card, index)) } else { None };
    let item = |cited: &trailmap_app::card_evidence::CitedEvidence| -> Markup {
        html! {
            li data-kind=(cited.view.kind()) {
                (evidence_view(&cited.view))
                @if let Some(button) = remove(cited.index) { (button) }
            }
        }
    };
    let (quotes, others) = found.items.split_at(found.quotes);
    html! {
        ul class="evidence-list live" data-testid="evidence" {
            @for cited in quotes.iter().take(SHOWN_QUOTES) { (item(cited)) }
            @if quotes.len() > SHOWN_QUOTES {
                li {
                    details class="more-quotes" {
                        summary data-testid="more-quotes" { (quotes.len() - SHOWN_QUOTES) " more " @if quotes.len() - SHOWN_QUOTES == 1 { "quote" } @else { "quotes" } " (" (quotes.len()) " in all)" }
                        ul class="evidence-list" { @for cited in &quotes[SHOWN_QUOTES..] { (item(cited)) } }
                    }
                }
            }
            @for cited in others { (item(cited)) }
        }
    }
}

/// What a metric's trend compares: the period itself against the days before it, or, over every
/// recorded day, its last days.
fn trend_label(figure: &trailmap_app::impact::MetricOver) -> String {
    let days = figure.trend.recent.window.days();
    if figure.trend.recent.window == figure.value.window {
        "Trend".to_string()
    } else if days == 1 {
        "Last day".to_string()
    } else {
        format!("Last {days} days")
    }
}

/// Who said a quote and where: "Eli, Focus group with regulars, 2026-12-03", the kind and the date
/// left out when the source already says them.
fn quote_origin(author: Option<&str>, kind: &str, source: &str, date: &str) -> String {
    let mut parts: Vec<&str> = author.into_iter().collect();
    if !source.to_lowercase().contains(&kind.to_lowercase()) {
        parts.push(kind);
    }
    parts.push(source);
    if !source.contains(date) {
        parts.push(date);
    }
    parts.join(", ")
}

fn evidence_view(view: &EvidenceView) -> Markup {
    match view {
        EvidenceView::Quote { text, source_kind, source, author, date, .. } => html! {
            q class="quote" data-testid="card-quote" { (short(text, 220)) }
            span class="muted small" { " — " (quote_origin(author.as_deref(), source_kind.label(), source, &date.to_string())) }
        },
        EvidenceView::SurveyAnswer { survey, question_text, answer, date, .. } => html! {
            span { "“" (short(answer, 200)) "”" }
            span class="muted small" { " — " (survey) ": " (question_text) ", " (date) }
        },
        EvidenceView::Score { shown, scope, n, interval, .. } => html! {
            // A score without answers is cited but backs nothing yet: no tick.
            span class={ "badge " @if *n == 0 { "warning" } @else { "evidence" } } data-testid="card-score" {
                @if *n > 0 { "✓ " } (shown) " at " (scope) " (n = " (crate::web::analysis::count(*n)) ")"
            }
            @if let Some((low, high)) = interval { span class="muted small" { " 95% interval " (format!("{low:.2}")) " to " (format!("{high:.2}")) } }
        },
        EvidenceView::Metric { form, figure: Some(figure), .. } => html! {
            span class="badge evidence" data-testid="card-metric" {
                "✓ " (figure.label) ": " (figure.shown.clone().unwrap_or_else(|| "no data".into()))
                " (n = " (crate::web::analysis::count(figure.value.n)) " " (figure.n_means) ")"
            }
            span class="muted small" data-testid="card-metric-trend" title=(form) { " " (trend_label(figure)) ": " (figure.trend.verdict) "." }
        },
        EvidenceView::Metric { form, reason, .. } => html! {
            span class="badge warning" data-testid="card-metric" { "metric " (form) } " "
            span class="muted small" { "cannot be computed: " (reason.clone().unwrap_or_default()) }
        },
        EvidenceView::Note { text } => html! { span class="badge evidence" { "✓ note: " (text) } },
        EvidenceView::Missing { evidence, reason } => html! { span class="badge warning" { (evidence) } " " span class="muted small" { (reason) } },
    }
}

/// The evidence, quote picker, opportunity and action controls of an editable card.
fn card_tools(ctx: &GridContext, data: &EditorData, map: &JourneyMap, stage: u32, lane: Lane, card: &Card) -> Markup {
    let card_field = ("card", card.id.to_string());
    let quotes = data.quotes.get(&stage);
    html! {
        details class="card-tools" data-testid="card-tools" {
            summary { "Evidence & actions" }
            (edit_form(ctx, map, "add-evidence", &[("op", "add_evidence".into()), card_field.clone()], html! {
                select name="kind" aria-label="Kind of evidence" {
                    option value="metric" { "Metric (computed live)" }
                    option value="score" { "Survey score: nps, csat or ces" }
                    option value="note" { "Note" }
                }
                input type="text" name="text" maxlength="2000" placeholder="conversion:checkout_started>purchase:7d, repeat-rate, nps…" aria-label={ "Evidence for " (card.text) };
                button type="submit" class="secondary" { "Add evidence" }
            }))
            (edit_form(ctx, map, "quote-picker", &[("op", "add_evidence".into()), card_field.clone(), ("kind", "quote".into())], html! {
                label class="small" {
                    "Quote from feedback on this stage"
                    @if let Some(q) = quotes { " (" span data-testid="quote-count" { (q.n) } " texts, most negative first)" }
                }
                input type="search" hidden data-quote-search data-stage=(stage) placeholder="Search quotes" aria-label="Search quotes";
                select name="feedback" data-testid="quote-select" aria-label={ "Quote for " (card.text) } {
                    @for q in quotes.map(|q| q.quotes.as_slice()).unwrap_or_default() {
                        option value=(q.feedback) { (format!("{:+.2} ", q.compound)) (short(&q.text, 110)) }
                    }
                }
                button type="submit" class="secondary" disabled[quotes.is_none_or(|q| q.quotes.is_empty())] { "Add quote" }
            }))
            @if lane == Lane::PainPoints {
                (edit_form(ctx, map, "to-opportunity", &[("op", "pain_point_to_opportunity".into()), card_field.clone()], html! {
                    input type="text" name="text" required maxlength="2000" placeholder="The opportunity it opens" aria-label={ "Opportunity from " (card.text) };
                    button type="submit" class="secondary" { "Make an opportunity" }
                }))
            }
            @if lane == Lane::Opportunities {
                @let action = card.action.clone();
                (edit_form(ctx, map, "set-action", &[("op", "set_action".into()), card_field.clone()], html! {
                    label class="small" { "Owner " input type="text" name="owner" required maxlength="200" value=(action.as_ref().map(|a| a.owner.clone()).unwrap_or_default()); }
                    label class="small" { "Due " input type="date" name="due" value=(action.as_ref().and_then(|a| a.due).map(|d| d.to_string()).unwrap_or_default()); }
                    label class="small" { "Change id " input type="number" name="change" min="1" value=(action.as_ref().and_then(|a| a.change).map(|c| c.to_string()).unwrap_or_default()); }
                    label class="small" { "KPI " input type="text" name="kpi" maxlength="200" value=(action.as_ref().and_then(|a| a.kpi.clone()).unwrap_or_default()); }
                    label class="small" { input type="checkbox" name="done" value="on" checked[action.as_ref().is_some_and(|a| a.done)]; " Done" }
                    button type="submit" class="secondary" { @if action.is_some() { "Save action" } @else { "Make an action" } }
                }))
                @if action.is_some() {
                    (edit_form(ctx, map, "inline clear-action", &[("op", "clear_action".into()), card_field.clone()], html! {
                        button type="submit" class="link danger" { "Clear the action" }
                    }))
                }
            }
        }
    }
}

/// The map as a grid: a label column, then one column per stage; each cell says its stage and row
/// so the script can find it, and sits in its grid column by the stage's place.
pub(crate) fn grid(map: &JourneyMap, ctx: &GridContext) -> Markup {
    grid_with(map, ctx, &EditorData::default())
}

/// The grid with the editor's own data: quote pickers, quote texts, the touchpoint catalogue.
pub(crate) fn grid_with(map: &JourneyMap, ctx: &GridContext, data: &EditorData) -> Markup {
    let curves: Vec<Option<PersonaId>> = if map.personas.is_empty() { vec![None] } else { map.personas.iter().map(|p| Some(*p)).collect() };
    let k = map.stages.len();
    // The number of stage columns is a class (the Content-Security-Policy allows no style
    // attribute); cells are written row by row, so the grid places each in its stage's column.
    let columns = format!("map-grid stages-{}", k.clamp(1, trailmap_app::MAX_STAGES));
    html! {
        div class="map-scroll" tabindex="0" role="region" aria-label="Journey map (scrolls sideways)" {
            div class=(columns) data-testid="map-grid" {
                div class="lane-label corner" { "Stages" }
                @for (i, stage) in map.stages.iter().enumerate() {
                    div class="stage-head" data-stage=(stage.id) data-index=(i) draggable=[ctx.csrf.map(|_| "true")] {
                        h3 data-testid="stage-name" { (stage.name) }
                        @if ctx.csrf.is_some() {
                            details class="stage-edit" data-testid="stage-edit" {
                                summary { "Rename or remove" }
                                (edit_form(ctx, map, "rename-stage", &[("op", "rename_stage".into()), ("stage", stage.id.to_string())], html! {
                                    input type="text" name="name" required maxlength="200" value=(stage.name) aria-label={ "New name of " (stage.name) };
                                    button type="submit" class="secondary" { "Rename" }
                                }))
                                (edit_form(ctx, map, "remove-stage", &[("op", "remove_stage".into()), ("stage", stage.id.to_string())], html! {
                                    label class="noscript-only" { input type="checkbox" name="confirm" value="yes"; " Yes, remove this stage and its cards" }
                                    button type="submit" class="link danger" data-confirm={ "Remove the stage " (stage.name) " and all its cards?" } { "Remove stage" }
                                }))
                            }
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
                        @if let Some(all) = ctx.numbers && let Some(numbers) = all.stages.iter().find(|s| s.stage == stage.id) {
                            @let next_name = numbers.to_next.as_ref().and_then(|n| map.stages.iter().find(|s| s.id == n.next_stage)).map(|s| s.name.as_str());
                            (super::numbers::stage_numbers(ctx, all, numbers, next_name))
                        }
                    }
                }
                @for lane in &Lane::ALL {
                    div class="lane-label" { (lane.title()) }
                    @for stage in &map.stages {
                        div class="lane-cell" data-stage=(stage.id) data-lane=(lane.as_str()) {
                            @for card in stage.lane(*lane) { (card_markup(ctx, data, map, stage.id, *lane, card)) }
                            @if ctx.csrf.is_some() {
                                (edit_form(ctx, map, "add-card", &[("op", "add_card".into()), ("stage", stage.id.to_string()), ("lane", lane.as_str().into())], html! {
                                    input type="text" name="text" required maxlength="2000" placeholder="Add a card" aria-label={ "New card in " (stage.name) " / " (lane.title()) };
                                    button type="submit" class="secondary" { "Add" }
                                }))
                            }
                        }
                    }
                }
                div class="lane-label" { "Emotions" }
                @for stage in &map.stages {
                    div class="lane-cell emotions" data-stage=(stage.id) {
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
                div class="lane-label" { "Touchpoints" }
                @for stage in &map.stages {
                    div class="lane-cell touchpoints" data-stage=(stage.id) {
                        @for t in &stage.touchpoints {
                            @let name = ctx.touchpoints.get(t).cloned().unwrap_or_else(|| format!("touchpoint {t}"));
                            span class="chip" data-touchpoint=(t) {
                                (name)
                                @if ctx.csrf.is_some() {
                                    (edit_form(ctx, map, "inline remove-card remove-touchpoint", &[("op", "remove_touchpoint".into()), ("stage", stage.id.to_string()), ("touchpoint", t.to_string())], html! {
                                        button type="submit" class="link danger" aria-label={ "Remove " (name) " from " (stage.name) } { " ×" }
                                    }))
                                }
                            }
                        }
                        @if ctx.csrf.is_some() {
                            @let addable: Vec<&(TouchpointId, String)> = data.catalogue.iter().filter(|(t, _)| !stage.touchpoints.contains(t)).collect();
                            @if !addable.is_empty() {
                                (edit_form(ctx, map, "add-touchpoint", &[("op", "add_touchpoint".into()), ("stage", stage.id.to_string())], html! {
                                    select name="touchpoint" aria-label={ "Touchpoint to add to " (stage.name) } {
                                        @for (t, name) in addable { option value=(t) { (name) } }
                                    }
                                    button type="submit" class="secondary" { "Add" }
                                }))
                            }
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
pub(crate) fn satisfaction_text(score: &ScoreFigure) -> String {
    match score.kind {
        ScoreKind::Nps => format!("NPS {:+.0} (n={})", score.value, score.n),
        _ => format!("CSAT {:.0}% satisfied (n={})", score.value * 100.0, score.n),
    }
}

pub(crate) fn figure(ctx: &GridContext, count: &CustomerCount, text: String) -> Markup {
    html! {
        @if ctx.link_customers {
            a href=(customers_link(ctx.business, count)) { (text) }
        } @else {
            (text)
        }
    }
}

/// `?quotes=...`: the quote pickers keep only texts containing these words (no script needed).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct QuoteSearch {
    pub quotes: Option<String>,
    /// `?comments=CARD`: that card's comment thread opens (where a comment form sends back to).
    pub comments: Option<u32>,
}

pub async fn show(
    State(state): State<ServerState>,
    signed: SignedIn,
    Path((id, map)): Path<(i64, i64)>,
    Query(query): Query<NumbersQuery>,
    Query(search): Query<QuoteSearch>,
) -> PageResult {
    let membership = auth::membership(&state, signed.user.id, BusinessId(id)).await?;
    let nav = Nav::load(&state, &signed, Some(membership.business.id)).await?;
    let business = membership.business.clone();
    let can_edit = membership.role.can_edit();
    let searched = search.quotes.clone().unwrap_or_default();
    // The live numbers and the cards' evidence are the page's costly answers: kept while the
    // business's data version is the one they were computed at (any write, a map edit or a
    // tracking event, moves it), so looking at the map again, or another member opening it,
    // computes nothing.
    let numbers = crate::map_answers::map_numbers(&state, &business, map, &query).await?;
    let evidence = crate::map_answers::map_evidence(&state, &business, map, &query).await?;
    let (version, touchpoints, personas, data, comments) = state
        .try_read(move |app| {
            let version = app.journey_map(&business, map_id(map))?;
            let names = app.names(business.id)?;
            let catalogue = names.touchpoints;
            let touchpoints: HashMap<_, _> = catalogue.iter().cloned().collect();
            let personas = names.personas;
            // The editor shows every card's evidence live (below), so it needs no quote texts of
            // its own; those serve the views without live evidence (share links, the comparison).
            let mut data = EditorData::default();
            // Only editors get the pickers, so viewers do not pay for scoring every text.
            if can_edit {
                data.quotes = app.map_quotes(&business, &version.map, &searched, PICKER_QUOTES)?;
                data.catalogue = catalogue;
            }
            let comments = app.map_comments(&business, map_id(map))?;
            Ok((version, touchpoints, personas, data, comments))
        })
        .await?;
    let comments = CardComments::new(BusinessId(id), map_id(map), comments, signed.user.id, membership.role, signed.csrf.clone(), search.comments);
    let persona_names: HashMap<_, _> = personas.iter().cloned().collect();
    let m = &version.map;
    let ctx = GridContext {
        business: BusinessId(id),
        touchpoints: &touchpoints,
        personas: &persona_names,
        numbers: Some(&*numbers),
        csrf: can_edit.then_some(signed.csrf.as_str()),
        link_customers: true,
        comments: Some(&comments),
        evidence: Some(&*evidence),
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
        p data-testid="evidence-summary" {
            strong { (evidence.summary()) }
            "; the others are assumptions. Evidence is computed for " (evidence.period.from) " to " (evidence.period.to)
            @if let Some(p) = &evidence.persona { " and the persona " (p) }
            ". " a href={ "/b/" (id) "/research" } { "Find quotes in the research library" }
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
            label { "Within " input type="number" name="window" min="1" max="3650" value=(query.window.clone().unwrap_or_default()) placeholder="30" aria-label="Days within which going on to a later stage counts" data-testid="numbers-window"; " days" }
            @if can_edit {
                label { "Quotes containing " input type="search" name="quotes" value=(search.quotes.clone().unwrap_or_default()) data-testid="quote-search-page"; }
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
            ", going on within " (numbers.window_ms / trailmap_model::Timestamp::MS_PER_DAY) " days; the ? beside a number says what it counts."
            @if numbers.unplaced_revenue.orders > 0 {
                " Orders placed before their customer reached any stage: "
                (figure(&ctx, &numbers.unplaced_revenue.buyers, super::numbers::revenue_text(&numbers.unplaced_revenue)))
                "."
            }
        }
        div id="map-root" data-map-root data-business=(id) data-map=(map) data-csrf=[can_edit.then_some(signed.csrf.as_str())] {
            (grid_with(m, &ctx, &data))
            (emotion_curve(m, &persona_names))
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
    Ok(html_response(wide_page(&nav, &m.name, content)))
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
    /// Evidence: metric, note or quote (add_evidence).
    #[serde(default)]
    pub kind: String,
    /// The feedback a quote cites (add_evidence with kind quote).
    #[serde(default)]
    pub feedback: String,
    /// The place of the evidence to remove, 0-based (remove_evidence).
    #[serde(default)]
    pub index: String,
    #[serde(default)]
    pub owner: String,
    #[serde(default)]
    pub due: String,
    #[serde(default)]
    pub change: String,
    #[serde(default)]
    pub kpi: String,
    #[serde(default)]
    pub done: String,
    /// A removed stage needs this box ticked ("yes") when there is no script to ask.
    #[serde(default)]
    pub confirm: String,
    #[serde(default)]
    pub touchpoint: String,
}

/// Text that may be left empty: None when it is.
fn optional(text: &str) -> Option<String> {
    Some(text.trim().to_string()).filter(|t| !t.is_empty())
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
            // Evidence is changed through EditCard, which keeps the card's text.
            "add_evidence" | "remove_evidence" => {
                let card: u32 = number("card", &self.card)?;
                let (_, _, found) = current.card(card).ok_or_else(|| ApiError::invalid_input(format!("card: the map has no card {card}")))?;
                let mut evidence = found.evidence.clone();
                if self.op == "add_evidence" {
                    evidence.push(match self.kind.trim() {
                        "metric" => Evidence::Metric { name: self.text.trim().to_string() },
                        // A score on a card is the score of its column's business stage, or of
                        // the whole business when the column shows none.
                        "score" => Evidence::Score {
                            score: SurveyScore::parse(&self.text)
                                .ok_or_else(|| ApiError::invalid_input(format!("text: {:?} is not nps, csat or ces", self.text.trim())))?,
                            touchpoint: None,
                            stage: current.card(card).and_then(|(stage, _, _)| stage.stage),
                        },
                        "note" => Evidence::Note { text: self.text.trim().to_string() },
                        "quote" => Evidence::Quote { feedback: FeedbackId(number("feedback", &self.feedback)?) },
                        other => return Err(ApiError::invalid_input(format!("kind: {other:?} is not metric, score, note or quote"))),
                    });
                } else {
                    let index: usize = number("index", &self.index)?;
                    if index >= evidence.len() {
                        return Err(ApiError::invalid_input(format!("index: card {card} cites {} pieces of evidence, not {}", evidence.len(), index + 1)));
                    }
                    evidence.remove(index);
                }
                MapEdit::EditCard { card, text: found.text.clone(), evidence }
            }
            "pain_point_to_opportunity" => MapEdit::PainPointToOpportunity { card: number("card", &self.card)?, text: self.text.clone() },
            "set_action" => MapEdit::SetAction {
                card: number("card", &self.card)?,
                action: Some(CardAction {
                    owner: self.owner.clone(),
                    due: optional(&self.due).map(|d| parse_day("due", &d)).transpose().map_err(|e| ApiError::invalid_input(e.to_string()))?,
                    change: optional(&self.change).map(|c| number("change", &c).map(ChangeId)).transpose()?,
                    kpi: optional(&self.kpi),
                    done: !self.done.trim().is_empty(),
                }),
            },
            "clear_action" => MapEdit::SetAction { card: number("card", &self.card)?, action: None },
            "rename_stage" => MapEdit::RenameStage { stage: number("stage", &self.stage)?, name: self.name.clone() },
            "remove_stage" => {
                if !matches!(self.confirm.trim(), "yes" | "on" | "true") {
                    return Err(ApiError::invalid_input("confirm: tick the box to remove the stage and its cards"));
                }
                MapEdit::RemoveStage { stage: number("stage", &self.stage)? }
            }
            "add_touchpoint" => MapEdit::AddTouchpoint { stage: number("stage", &self.stage)?, touchpoint: TouchpointId(number("touchpoint", &self.touchpoint)?) },
            "remove_touchpoint" => {
                MapEdit::RemoveTouchpoint { stage: number("stage", &self.stage)?, touchpoint: TouchpointId(number("touchpoint", &self.touchpoint)?) }
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
