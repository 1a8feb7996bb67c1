//! `trailmap feedback themes [--touchpoint X | --stage X] [--persona P] [--min-count N]
//! [--stop-word W]...`: the recurring themes of feedback texts, the most negative first;
//! `trailmap feedback sentiment [--limit N]`: the VADER sentiment of every feedback text, the
//! most negative first. Also [`with_flag_names`], which shows the app's field errors with the
//! command line's flag names.

use crate::output::{Format, Output};
use std::io::Write;
use trailmap_app::{App, AppError};
use trailmap_app::voice::{ThemeOptions, ThemeOrder, ThemesRequest};

#[derive(Debug, clap::Subcommand)]
pub enum FeedbackCommand {
    /// Recurring themes (grouped key phrases) with counts, average sentiment and example quotes.
    Themes {
        /// Only feedback given at this touchpoint (by name, e.g. Checkout).
        #[arg(long, conflicts_with = "stage")]
        touchpoint: Option<String>,
        /// Only feedback given at the touchpoints of this stage (by name).
        #[arg(long)]
        stage: Option<String>,
        /// Only feedback of the customers this persona's segment rule covers (by name).
        #[arg(long)]
        persona: Option<String>,
        /// A word that never makes a theme alone (say a product name: "dress"), on top of the
        /// built-in list ("order", "product", "item", "thing", "really", ...); repeat for more.
        #[arg(long = "stop-word", value_name = "WORD")]
        stop_words: Vec<String>,
        /// The fewest texts a phrase and a theme must be found in.
        #[arg(long, default_value_t = 3)]
        min_count: usize,
        /// Rank by the lowest average sentiment, or by the most negative texts.
        #[arg(long, value_enum, default_value = "average")]
        order: Order,
        /// Example quotes per theme.
        #[arg(long, default_value_t = 3)]
        examples: usize,
    },
    /// The sentiment (VADER neg, neu, pos, compound) of every feedback text, the most negative first.
    Sentiment {
        /// Show at most this many texts (the counts cover all).
        #[arg(long)]
        limit: Option<usize>,
    },
    /// Import survey exports (Google Forms, Typeform), interview notes or reviews.
    Import(crate::commands::voice_import::FeedbackImportArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Order {
    /// The lowest average compound score first.
    Average,
    /// The most texts with a negative score first.
    NegativeCount,
}

pub fn run(app: &mut App, business: Option<&str>, command: FeedbackCommand, format: Format, out: &mut dyn Write) -> anyhow::Result<()> {
    match command {
        FeedbackCommand::Import(args) => crate::commands::voice_import::feedback_import(app, business, args, format, out),
        FeedbackCommand::Themes { touchpoint, stage, persona, stop_words, min_count, order, examples } => {
            let business = app.business(business)?;
            let request = ThemesRequest {
                touchpoint,
                stage,
                persona,
                options: ThemeOptions {
                    min_count,
                    examples,
                    stop_words,
                    order: match order {
                        Order::Average => ThemeOrder::AverageSentiment,
                        Order::NegativeCount => ThemeOrder::NegativeCount,
                    },
                    ..ThemeOptions::default()
                },
            };
            let report = app.feedback_themes(&business, &request)?;
            let rows = report
                .themes
                .iter()
                .map(|t| {
                    vec![
                        t.label.clone(),
                        t.count.to_string(),
                        t.negative.to_string(),
                        format!("{:+.3}", t.average_compound),
                        t.phrases.iter().map(|p| format!("{} ({})", p.phrase, p.texts)).collect::<Vec<_>>().join(", "),
                        t.examples.first().map_or_else(String::new, |q| format!("\"{}\" ({:+.3})", q.text, q.compound)),
                    ]
                })
                .collect();
            let columns = ["theme", "texts", "negative", "avg sentiment", "phrases", "most negative quote"];
            let mut output = Output::new(&columns, rows, &report)?;
            if format == Format::Table {
                output = output.with_title(format!(
                    "Themes in {} of {} ({} texts; a theme held by fewer than {} texts is not shown; key phrases by RAKE, grouped by stem; most negative first)",
                    report.scope, report.business, report.texts, report.min_count
                ));
            }
            output.print(format, out)
        }
        FeedbackCommand::Sentiment { limit } => {
            let business = app.business(business)?;
            let report = app.feedback_sentiment(&business, limit)?;
            let rows = report
                .texts
                .iter()
                .map(|t| {
                    vec![
                        t.time.date().to_string(),
                        t.kind.to_string(),
                        t.source.clone(),
                        t.touchpoint.clone().unwrap_or_default(),
                        format!("{:+.4}", t.sentiment.compound),
                        t.tone.as_str().to_string(),
                        format!("{:.3}", t.sentiment.neg),
                        format!("{:.3}", t.sentiment.neu),
                        format!("{:.3}", t.sentiment.pos),
                        t.text.clone(),
                    ]
                })
                .collect();
            let columns = ["date", "kind", "source", "touchpoint", "compound", "tone", "neg", "neu", "pos", "text"];
            let mut output = Output::new(&columns, rows, &report)?;
            if format == Format::Table {
                output = output.with_title(format!(
                    "Sentiment of {} feedback texts of {} (VADER): {} negative, {} neutral, {} positive; average compound {}",
                    report.n,
                    report.business,
                    report.negative,
                    report.neutral,
                    report.positive,
                    report.average_compound.map_or_else(|| "-".to_string(), |a| format!("{a:+.3}"))
                ));
            }
            output.print(format, out)
        }
    }
}

/// The app names a bad field neutrally (`touchpoint "X": no such touchpoint`) for every front end;
/// the command line shows it as its flag (`--touchpoint "X": no such touchpoint`), keeping any
/// context around it. Other errors pass unchanged.
pub fn with_flag_names(error: anyhow::Error) -> anyhow::Error {
    // A field inside a file (`touchpoints[0].rule` of a map document) is no flag.
    let flag_like = |field: &str| field.chars().all(|c| c.is_ascii_lowercase() || c == '_');
    let flagged = match error.downcast_ref::<AppError>() {
        Some(AppError::InvalidField { field, .. } | AppError::InvalidRule { field, .. }) if !flag_like(field) => return error,
        Some(AppError::InvalidField { field, value, reason }) => {
            AppError::InvalidField { field: format!("--{}", field.replace('_', "-")), value: value.clone(), reason: reason.clone() }
        }
        Some(AppError::InvalidRule { field, rule, error }) => {
            AppError::InvalidRule { field: format!("--{}", field.replace('_', "-")), rule: rule.clone(), error: error.clone() }
        }
        _ => return error,
    }
    .to_string();
    let neutral = error.downcast_ref::<AppError>().map(ToString::to_string).unwrap_or_default();
    anyhow::anyhow!(format!("{error:#}").replacen(&neutral, &flagged, 1))
}
