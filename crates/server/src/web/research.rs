//! The research library page, `/b/{id}/research`: every quote of the business (interview and
//! focus-group notes, survey free-text answers, reviews, social mentions) with filters by tag,
//! kind, persona, touchpoint, stage, sentiment, dates and words; the count of each tag and kind;
//! each item with its source (a link to its session or survey), its customer when known, its tags
//! (added and removed here) and the cards that cite it. Editors tick quotes and attach them to a
//! card of a map in one step.
//!
//! The forms work without JavaScript: the tick boxes belong to the attach form by their `form`
//! attribute (forms cannot nest), and the tag forms post and come back to the same filters.

use crate::auth::{self, PageForm, SignedIn, require_edit};
use crate::error::ApiError;
use crate::state::ServerState;
use crate::web::analysis::count;
use crate::web::layout::{Nav, csrf_field, page};
use crate::web::{PageResult, html_response, see_other};
use axum::extract::{Path, RawQuery, State};
use maud::{Markup, html};
use trailmap_app::research::{CardChoice, ResearchItem, ResearchKind, ResearchLibrary, ResearchQuery, SentimentBand};
use trailmap_app::{FromParams, Params};
use trailmap_model::{BusinessId, FeedbackId, MapId};

/// The filters' choices: personas, touchpoints and stages by name.
struct Choices {
    personas: Vec<String>,
    touchpoints: Vec<String>,
    stages: Vec<String>,
    cards: Vec<CardChoice>,
}

/// The page's address with `params` but `skip`, and `extra` set.
fn href(business: BusinessId, params: &Params, skip: &[&str], extra: &[(&str, &str)]) -> String {
    let mut encoder = form_urlencoded::Serializer::new(String::new());
    for (k, v) in params.0.iter().filter(|(k, v)| !skip.contains(&k.as_str()) && !extra.iter().any(|(e, _)| e == k) && !v.trim().is_empty()) {
        encoder.append_pair(k, v);
    }
    for (k, v) in extra {
        encoder.append_pair(k, v);
    }
    let query = encoder.finish();
    if query.is_empty() { format!("/b/{business}/research") } else { format!("/b/{business}/research?{query}") }
}

fn select(name: &str, label: &str, all: &str, options: &[String], current: Option<&str>) -> Markup {
    html! {
        label { (label) " "
            select name=(name) {
                option value="" { (all) }
                @for o in options { option value=(o) selected[current.is_some_and(|c| c.eq_ignore_ascii_case(o))] { (o) } }
            }
        }
    }
}

pub async fn show(State(state): State<ServerState>, signed: SignedIn, Path(id): Path<i64>, RawQuery(raw): RawQuery) -> PageResult {
    let business = BusinessId(id);
    let membership = auth::membership(&state, signed.user.id, business).await?;
    let nav = Nav::load(&state, &signed, Some(business)).await?;
    let params = Params::parse(raw.as_deref());
    let b = membership.business.clone();
    let asked = ResearchQuery::from_params(&params);
    let (library, choices) = state
        .try_read(move |app| {
            let names = app.names(b.id)?;
            let choices = Choices {
                personas: names.persona_names(),
                touchpoints: names.touchpoint_names(),
                stages: names.stages.clone(),
                cards: app.citable_cards(&b)?,
            };
            // A filter that does not read is shown beside the form, not as an error page.
            let library = match asked {
                Ok(query) => app.research(&b, &query).map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            Ok((library, choices))
        })
        .await?;
    let can_edit = membership.role.can_edit();
    let back = href(business, &params, &[], &[]);
    let content = html! {
        h1 { "Research library" }
        p class="muted" { "Every quote from interviews and focus groups, survey answers written in words, reviews and social mentions. Tick quotes to attach them to a card of a map; the card then shows them as its evidence." }
        (filters(business, &params, &choices))
        @match library {
            Ok(library) => (listing(business, &params, &library, &choices, can_edit, &signed.csrf, &back)),
            Err(reason) => p class="error" role="alert" data-testid="research-error" { (reason) },
        }
    };
    Ok(html_response(page(&nav, "Research library", content)))
}

fn filters(business: BusinessId, params: &Params, choices: &Choices) -> Markup {
    let kinds: Vec<String> = ResearchKind::ALL.iter().map(|k| k.as_str().to_string()).collect();
    let bands: Vec<String> = SentimentBand::ALL.iter().map(|b| b.as_str().to_string()).collect();
    html! {
        form method="get" action={ "/b/" (business) "/research" } class="inline filters" data-testid="research-filters" {
            @if let Some(tag) = params.get("tag") { input type="hidden" name="tag" value=(tag); }
            (select("kind", "Kind", "(every kind)", &kinds, params.get("kind")))
            (select("persona", "Persona", "(every customer)", &choices.personas, params.get("persona")))
            (select("touchpoint", "Touchpoint", "(all)", &choices.touchpoints, params.get("touchpoint")))
            (select("stage", "Stage", "(all)", &choices.stages, params.get("stage")))
            (select("sentiment", "Sentiment", "(any)", &bands, params.get("sentiment")))
            label { "From " input type="date" name="from" value=(params.get("from").unwrap_or("")); }
            label { "To " input type="date" name="to" value=(params.get("to").unwrap_or("")); }
            label { "Words " input type="search" name="search" value=(params.get("search").unwrap_or("")); }
            button type="submit" class="secondary" { "Show" }
            " " a href={ "/b/" (business) "/research" } { "Clear" }
        }
    }
}

fn listing(business: BusinessId, params: &Params, library: &ResearchLibrary, choices: &Choices, can_edit: bool, csrf: &str, back: &str) -> Markup {
    let current_tag = params.get("tag");
    html! {
        section class="tags" data-testid="tag-counts" {
            h2 { "Tags" }
            @if library.tags.is_empty() { p class="muted" { "No item here carries a tag yet." } }
            p {
                @if let Some(tag) = current_tag {
                    "Showing #" (tag) " · " a href=(href(business, params, &["tag", "offset"], &[])) { "every tag" } " · "
                }
                @for t in &library.tags {
                    a class={ "tag" @if current_tag == Some(t.tag.as_str()) { " current" } } href=(href(business, params, &["offset"], &[("tag", &t.tag)])) data-tag=(t.tag) {
                        "#" (t.tag) " " span class="muted" { "(" (count(t.count as u64)) ")" }
                    }
                    " "
                }
            }
            p class="muted small" {
                @for k in &library.kinds { (k.kind.label()) ": " (count(k.count as u64)) " · " }
                "counts over the items matching the other filters."
            }
        }
        h2 data-testid="research-n" { (count(library.n as u64)) " of " (count(library.total as u64)) " items" }
        @if can_edit && !library.items.is_empty() {
            form id="cite-form" method="post" action={ "/b/" (business) "/research/cite" } class="inline cite" data-testid="cite-form" {
                (csrf_field(csrf))
                label { "Attach the ticked quotes to "
                    select name="card" required data-testid="cite-card" {
                        option value="" { "(choose a card)" }
                        @for (map, cards) in group_by_map(&choices.cards) {
                            optgroup label=(map) {
                                @for c in cards {
                                    option value={ (c.map) ":" (c.card) } { (c.stage) " · " (c.lane.title()) ": " (short(&c.text, 70)) @if c.quotes > 0 { " (" (c.quotes) " quotes)" } }
                                }
                            }
                        }
                    }
                }
                button type="submit" { "Attach" }
            }
        }
        ol class="research" data-testid="research-items" {
            @for item in &library.items { (item_markup(business, item, params, can_edit, csrf, back)) }
        }
        @if library.offset > 0 || library.offset + library.items.len() < library.n {
            p class="pages" {
                @if library.offset > 0 {
                    a href=(href(business, params, &[], &[("offset", &library.offset.saturating_sub(library.limit).to_string())])) { "← Newer" } " "
                }
                @if library.offset + library.items.len() < library.n {
                    a href=(href(business, params, &[], &[("offset", &(library.offset + library.limit).to_string())])) { "Older →" }
                }
            }
        }
    }
}

fn group_by_map(cards: &[CardChoice]) -> Vec<(String, Vec<&CardChoice>)> {
    let mut groups: Vec<(MapId, String, Vec<&CardChoice>)> = Vec::new();
    for c in cards {
        match groups.iter_mut().find(|g| g.0 == c.map) {
            Some(g) => g.2.push(c),
            None => groups.push((c.map, c.map_name.clone(), vec![c])),
        }
    }
    groups.into_iter().map(|(_, name, cards)| (name, cards)).collect()
}

fn short(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars { text.to_string() } else { format!("{}…", text.chars().take(chars).collect::<String>()) }
}

fn item_markup(business: BusinessId, item: &ResearchItem, params: &Params, can_edit: bool, csrf: &str, back: &str) -> Markup {
    let source_href = match item.survey {
        Some(survey) => format!("/b/{business}/surveys/{survey}"),
        None => href(business, &Params::default(), &[], &[("source", &item.source)]),
    };
    html! {
        li class={ "research-item " (item.band.as_str()) } data-feedback=(item.feedback) data-kind=(item.kind.as_str()) {
            @if can_edit {
                input type="checkbox" name="quote" value=(item.feedback) form="cite-form" aria-label={ "Attach “" (short(&item.text, 40)) "”" };
            }
            blockquote { "“" (item.text) "”" }
            p class="muted small" {
                (item.kind.label()) " · "
                @if let Some(author) = &item.author { (author) " · " }
                a href=(source_href) data-testid="item-source" { (item.source) } " · " (item.date)
                @if let Some(t) = &item.touchpoint_name { " · at " (t) }
                @if let Some(s) = &item.stage { " (" (s) ")" }
                @if let Some(p) = &item.persona { " · persona " (p) }
                @if let Some(c) = item.customer { " · " a href={ "/b/" (business) "/customers/" (c) } { "customer " (c) } }
                @if let Some(r) = item.rating { " · rated " (format!("{r:.1}")) "/5" }
                " · sentiment " (item.band.as_str()) " (" (format!("{:+.2}", item.sentiment)) ")"
            }
            p class="item-tags" {
                @for tag in &item.tags {
                    span class="tag" data-tag=(tag) {
                        a href=(href(business, params, &["offset"], &[("tag", tag)])) { "#" (tag) }
                        @if can_edit {
                            form method="post" action={ "/b/" (business) "/research/" (item.feedback) "/tags" } class="inline" {
                                (csrf_field(csrf))
                                input type="hidden" name="remove" value=(tag);
                                input type="hidden" name="back" value=(back);
                                button type="submit" class="link danger" aria-label={ "Remove tag " (tag) } { "×" }
                            }
                        }
                    }
                    " "
                }
                @if can_edit {
                    form method="post" action={ "/b/" (business) "/research/" (item.feedback) "/tags" } class="inline add-tag" {
                        (csrf_field(csrf))
                        input type="hidden" name="back" value=(back);
                        input type="text" name="add" required maxlength="40" placeholder="new tag" aria-label="New tag";
                        button type="submit" class="secondary" { "Tag" }
                    }
                }
            }
            @if !item.cited_by.is_empty() {
                p class="small cited" data-testid="cited-by" {
                    "Cited on: "
                    @for (i, c) in item.cited_by.iter().enumerate() {
                        @if i > 0 { ", " }
                        a href={ "/b/" (business) "/maps/" (c.map) } { (c.map_name) " · " (c.stage) " · " (short(&c.card_text, 50)) }
                    }
                }
            }
        }
    }
}

/// Where a form posted from the library goes back to: the library with its filters, never
/// another site or page.
fn back_to(business: BusinessId, back: Option<&str>) -> String {
    let home = format!("/b/{business}/research");
    match back {
        Some(b) if b == home || b.starts_with(&format!("{home}?")) => b.to_string(),
        _ => home,
    }
}

fn field<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.trim().is_empty())
}

/// Adds or removes a tag (`add` or `remove`), then back to the library.
pub async fn tags(State(state): State<ServerState>, Path((id, feedback)): Path<(i64, i64)>, posted: PageForm<Vec<(String, String)>>) -> PageResult {
    let membership = auth::membership(&state, posted.user.user.id, BusinessId(id)).await?;
    require_edit(membership.role)?;
    let business = membership.business;
    let add: Vec<String> = field(&posted.form, "add").map(str::to_string).into_iter().collect();
    let remove: Vec<String> = field(&posted.form, "remove").map(str::to_string).into_iter().collect();
    state.try_write(move |app| app.tag_research(&business, FeedbackId(feedback), &add, &remove)).await?;
    Ok(see_other(&back_to(BusinessId(id), field(&posted.form, "back"))))
}

/// Attaches the ticked quotes (`quote`, repeated) to the chosen card (`card` as MAP:CARD).
pub async fn cite(State(state): State<ServerState>, Path(id): Path<i64>, posted: PageForm<Vec<(String, String)>>) -> PageResult {
    let membership = auth::membership(&state, posted.user.user.id, BusinessId(id)).await?;
    require_edit(membership.role)?;
    let business = membership.business;
    let by = auth::author(&posted.user.user);
    let card = field(&posted.form, "card").ok_or_else(|| ApiError::invalid_input("card: choose the card to attach the quotes to"))?;
    let (map, card) = card
        .split_once(':')
        .and_then(|(m, c)| Some((m.trim().parse::<i64>().ok()?, c.trim().parse::<u32>().ok()?)))
        .ok_or_else(|| ApiError::invalid_input(format!("card: {card:?} is not MAP:CARD")))?;
    let quotes: Vec<FeedbackId> = posted
        .form
        .iter()
        .filter(|(k, _)| k == "quote")
        .map(|(_, v)| v.trim().parse::<i64>().map(FeedbackId).map_err(|_| ApiError::invalid_input(format!("quote: {v:?} is not a number"))))
        .collect::<Result<_, _>>()?;
    state.try_write(move |app| app.cite_quotes(&business, MapId(map), card, &quotes, &by)).await?;
    Ok(see_other(&format!("/b/{id}/maps/{map}#card-{card}")))
}
