//! The live numbers under a stage's header on the map page: reach, the customers new at the stage,
//! conversion to the next stage with how it splits, drop-off and revenue (in the business's
//! currency, written as the dashboard writes money), each with its n and a link to the customers
//! behind it, and beside each a small "?" that opens what the number means: a `<details>` element,
//! so the definition is one click (or one key press) away without any script.

use super::editor::{GridContext, figure, satisfaction_text};
use maud::{Markup, html};
use trailmap_app::{MapNumbers, Revenue, StageNumbers};
use trailmap_render::ValueFormat;

fn count(n: usize) -> String {
    ValueFormat::Count.format(n as f64)
}

/// "1 customer", "1,525 customers".
fn customers(n: usize) -> String {
    if n == 1 { "1 customer".to_string() } else { format!("{} customers", count(n)) }
}

/// Money with what it counts: "$42,169 (n=5,528 orders by 930 customers)".
pub(crate) fn revenue_text(revenue: &Revenue) -> String {
    let buyers = customers(revenue.buyers.n);
    match revenue.orders {
        0 => format!("{} (n=0 orders)", revenue.shown),
        1 => format!("{} (n=1 order by {buyers})", revenue.shown),
        orders => format!("{} (n={} orders by {buyers})", revenue.shown, count(orders)),
    }
}

/// The "?" beside a number's label: its definition from the app, opened on a click.
pub(crate) fn definition(numbers: &MapNumbers, key: &str) -> Markup {
    html! {
        @if let Some(d) = numbers.definitions.iter().find(|d| d.key == key) {
            details class="define" data-testid={ "define-" (key) } {
                summary aria-label={ "What " (d.label) " means" } title={ "What " (d.label) " means" } { "?" }
                p { (d.text) }
            }
        }
    }
}

/// The `dl` of one stage's numbers.
pub(crate) fn stage_numbers(ctx: &GridContext, all: &MapNumbers, numbers: &StageNumbers, next_name: Option<&str>) -> Markup {
    html! {
        dl class="stage-numbers" data-testid="stage-numbers" {
            @if !numbers.measured {
                // A term for the sentence, since a `dd` needs its `dt` (screen readers read them as pairs).
                dt { "Not measured" }
                dd class="muted" { "No touchpoint of this stage has a rule." }
            } @else {
                dt { "Reach" (definition(all, "reach")) }
                dd data-testid="stage-reach" data-n=(numbers.reach.n) { (figure(ctx, &numbers.reach, customers(numbers.reach.n))) }
                dt { "New here" (definition(all, "entered_here")) }
                dd data-testid="stage-new" { (figure(ctx, &numbers.entered_here, format!("{} of {}", count(numbers.entered_here.n), count(numbers.reach.n)))) }
                @if let Some(next) = &numbers.to_next {
                    dt { "Went on" (definition(all, "to_next")) }
                    dd data-testid="stage-to-next" data-converted=(next.converted.n) data-n=(next.n) {
                        (figure(ctx, &next.converted, format!("{:.0}% (n={})", next.rate * 100.0, count(next.n))))
                        br;
                        span class="split" {
                            (figure(ctx, &next.to_next_stage, format!("{} to {}", count(next.to_next_stage.n), next_name.unwrap_or("the next stage"))))
                            @if next.skipped.n > 0 {
                                ", " (figure(ctx, &next.skipped, format!("{} skipped it", count(next.skipped.n))))
                            }
                            @if next.already_past.n > 0 {
                                "; " (figure(ctx, &next.already_past, format!("{} came back from a later stage (not in n)", count(next.already_past.n))))
                            }
                        }
                    }
                    dt { "Drop-off" (definition(all, "drop_off")) }
                    dd data-testid="stage-drop-off" { (figure(ctx, &next.dropped, format!("{} (n={})", customers(next.dropped.n), count(next.n)))) }
                }
                dt { "Revenue" (definition(all, "revenue")) }
                dd data-testid="stage-revenue" {
                    (figure(ctx, &numbers.revenue.buyers, revenue_text(&numbers.revenue)))
                }
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
