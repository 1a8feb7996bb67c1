//! `trailmap survey results [ID] [--from --to] [--by touchpoint|stage|persona|period]`: NPS, CSAT
//! and CES of each survey question by their standard definitions, with 95% confidence intervals
//! and n, optionally per touchpoint, stage, persona or month (the worst group first).

use crate::commands::clv::parse_date;
use crate::output::{Format, Output};
use std::io::Write;
use trailmap_app::App;
use trailmap_app::voice::{ScoreGrouping, ScoreKind, ScoreResult, SurveyResultsRequest};

#[derive(Debug, clap::Subcommand)]
pub enum SurveyCommand {
    /// NPS, CSAT and CES per question, with 95% confidence intervals and n.
    Results {
        /// One survey, by id or name. Default: every survey of the business.
        id: Option<String>,
        /// Responses submitted on or after this day (YYYY-MM-DD, UTC).
        #[arg(long, value_name = "DATE")]
        from: Option<String>,
        /// Responses submitted on or before this day (YYYY-MM-DD, UTC).
        #[arg(long, value_name = "DATE")]
        to: Option<String>,
        /// Also show each score per touchpoint, stage, persona or month (period).
        #[arg(long, value_enum)]
        by: Option<By>,
    },
    /// Create a survey from a definition file (TOML or JSON).
    Create(crate::commands::voice_import::SurveyCreateArgs),
    /// The surveys with their response counts.
    List(crate::commands::voice_import::SurveyListArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum By {
    Touchpoint,
    Stage,
    Persona,
    /// Calendar months.
    Period,
}

/// A score as a person reads it: NPS signed, CSAT in percent, CES with two decimals.
pub fn shown(kind: ScoreKind, value: f64) -> String {
    match kind {
        ScoreKind::Nps => format!("{value:+.0}"),
        ScoreKind::Csat => format!("{:.1}%", value * 100.0),
        ScoreKind::Ces => format!("{value:.2}"),
    }
}

fn row(survey: &str, question: &str, group: &str, result: &ScoreResult) -> Vec<String> {
    let value = result.value.map_or_else(|| "-".to_string(), |v| shown(result.kind, v));
    let interval = result
        .interval
        .map_or_else(|| "-".to_string(), |i| format!("{} to {}", shown(result.kind, i.low), shown(result.kind, i.high)));
    let counts = result.counts.iter().filter(|c| c.1 > 0).map(|(k, n)| format!("{k}: {n}")).collect::<Vec<_>>().join(", ");
    vec![
        survey.to_string(),
        question.to_string(),
        group.to_string(),
        result.kind.as_str().to_uppercase(),
        value,
        interval,
        result.n.to_string(),
        counts,
        if result.excluded.is_empty() { String::new() } else { result.excluded.len().to_string() },
    ]
}

pub fn run(app: &mut App, business: Option<&str>, command: SurveyCommand, format: Format, out: &mut dyn Write) -> anyhow::Result<()> {
    let (id, from, to, by) = match command {
        SurveyCommand::Results { id, from, to, by } => (id, from, to, by),
        SurveyCommand::Create(args) => return crate::commands::voice_import::survey_create(app, business, args, format, out),
        SurveyCommand::List(args) => return crate::commands::voice_import::survey_list(app, business, args, format, out),
    };
    let business = app.business(business)?;
    let request = SurveyResultsRequest {
        survey: id,
        from: from.as_deref().map(|d| parse_date("--from", d)).transpose()?.map(|t| t.date()),
        to: to.as_deref().map(|d| parse_date("--to", d)).transpose()?.map(|t| t.date()),
        by: by.map(|b| match b {
            By::Touchpoint => ScoreGrouping::Touchpoint,
            By::Stage => ScoreGrouping::Stage,
            By::Persona => ScoreGrouping::Persona,
            By::Period => ScoreGrouping::Month,
        }),
    };
    let results = app.survey_results(&business, &request)?;
    let mut rows = Vec::new();
    for q in &results.questions {
        rows.push(row(&q.survey, &q.question, "(all)", &q.overall));
        for g in &q.groups {
            rows.push(row(&q.survey, &q.question, &g.group, &g.result));
        }
    }
    let columns = ["survey", "question", "group", "score", "value", "95% interval", "n", "answers", "off scale"];
    let mut output = Output::new(&columns, rows, &results)?;
    if format == Format::Table {
        let period = match (results.from, results.to) {
            (None, None) => "all responses".to_string(),
            (from, to) => format!(
                "responses {} to {}",
                from.map_or_else(|| "the first".to_string(), |d| d.to_string()),
                to.map_or_else(|| "the last".to_string(), |d| d.to_string())
            ),
        };
        output = output.with_title(format!(
            "Survey scores for {} ({period}). NPS = % promoters (9-10) - % detractors (0-6); CSAT = share of 4-5; CES = mean of 1-7",
            results.business
        ));
    }
    output.print(format, out)
}
