//! `trailmap survey create FILE`, `trailmap survey list` and
//! `trailmap feedback import --layout google-forms|typeform|notes|reviews FILE [--survey NAME]
//! [--skip-invalid REJECTS]`: the argument structs and the functions behind them, so that the
//! `survey` and `feedback` subcommand enums wire each one with a variant and a dispatch line.
//! The definition file's format is documented in `trailmap_app::surveys`.

use crate::output::{Format, Output};
use std::io::Write;
use std::path::PathBuf;
use trailmap_app::App;
use trailmap_app::surveys::{FormImportRequest, kind_label};
use trailmap_ingest::forms::FormLayout;

#[derive(Debug, clap::Args)]
pub struct SurveyCreateArgs {
    /// The survey definition, TOML or JSON: name, touchpoint or stage, and [[questions]] with
    /// text, kind (nps, csat, ces, rating, single_choice, multiple_choice, free_text), required,
    /// options, max and skip_if = { question = N, values = [...] }.
    pub file: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct SurveyListArgs {}

/// What kind of file `feedback import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum VoiceLayout {
    /// A Google Forms responses CSV, as downloaded.
    GoogleForms,
    /// A Typeform responses CSV export.
    Typeform,
    /// Interview or focus-group notes (text or Markdown): `> quote #tag` lines under a dated heading.
    Notes,
    /// Reviews or mentions: a JSON array, NDJSON or CSV with source, date, rating, text, link, author, id.
    Reviews,
}

#[derive(Debug, clap::Args)]
pub struct FeedbackImportArgs {
    /// The layout of the file.
    #[arg(long, value_enum)]
    pub layout: VoiceLayout,
    pub file: PathBuf,
    /// The survey a form export answers, by name. Default: the survey with the same question
    /// texts, else a new one named after the file.
    #[arg(long, value_name = "NAME")]
    pub survey: Option<String>,
    /// Import the valid rows and write the rejected ones, with reasons, to this CSV file.
    #[arg(long, value_name = "REJECTS")]
    pub skip_invalid: Option<PathBuf>,
}

pub fn survey_create(app: &mut App, business: Option<&str>, args: SurveyCreateArgs, format: Format, out: &mut dyn Write) -> anyhow::Result<()> {
    let business = app.business(business)?;
    let survey = app.create_survey_from_file(&business, &args.file)?;
    let rows = survey
        .questions
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let skip = q.skip.as_ref().map_or_else(String::new, |rule| {
                let number = survey.questions.iter().position(|p| p.id == rule.question).map_or(0, |p| p + 1);
                format!("when question {number} is {}", rule.values.join(" or "))
            });
            vec![(i + 1).to_string(), q.text.clone(), kind_label(&q.kind), if q.required { "yes" } else { "" }.to_string(), skip]
        })
        .collect();
    let mut output = Output::new(&["question", "text", "kind", "required", "skipped"], rows, &survey)?;
    if format == Format::Table {
        output = output.with_title(format!("Created survey {:?} (id {}) in {}", survey.name, survey.id, business.name));
    }
    output.print(format, out)
}

pub fn survey_list(app: &App, business: Option<&str>, _args: SurveyListArgs, format: Format, out: &mut dyn Write) -> anyhow::Result<()> {
    let business = app.business(business)?;
    let surveys = app.list_surveys(&business)?;
    let rows = surveys
        .iter()
        .map(|s| {
            vec![
                s.id.to_string(),
                s.name.clone(),
                s.touchpoint.clone().unwrap_or_default(),
                s.stage.clone().unwrap_or_default(),
                s.questions.to_string(),
                s.responses.to_string(),
                s.last_response.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let columns = ["id", "name", "touchpoint", "stage", "questions", "responses", "last response"];
    let mut output = Output::new(&columns, rows, &surveys)?;
    if format == Format::Table {
        output = output.with_title(format!("Surveys of {}", business.name));
    }
    output.print(format, out)
}

pub fn feedback_import(app: &mut App, business: Option<&str>, args: FeedbackImportArgs, format: Format, out: &mut dyn Write) -> anyhow::Result<()> {
    let business = app.business(business)?;
    let form = match args.layout {
        VoiceLayout::GoogleForms => Some(FormLayout::GoogleForms),
        VoiceLayout::Typeform => Some(FormLayout::Typeform),
        VoiceLayout::Notes | VoiceLayout::Reviews => None,
    };
    if form.is_none() && args.survey.is_some() {
        let layout = if args.layout == VoiceLayout::Notes { "notes" } else { "reviews" };
        anyhow::bail!("--survey applies to form exports (--layout google-forms or typeform), not to --layout {layout}");
    }
    let report = match form {
        Some(layout) => app.import_form_responses(FormImportRequest {
            layout,
            path: &args.file,
            business: &business,
            survey: args.survey.as_deref(),
            skip_invalid: args.skip_invalid,
        })?,
        None => {
            let report = match args.layout {
                VoiceLayout::Notes => app.import_notes(&business, &args.file, args.skip_invalid)?,
                _ => app.import_reviews(&business, &args.file, args.skip_invalid)?,
            };
            return Output::key_values(&report)?
                .with_title(format!("Imported {} into {}", report.file, report.business))
                .print(format, out);
        }
    };
    let mut output = Output::key_values(&report)?;
    if format == Format::Table {
        let verb = if report.survey_created { "created" } else { "into" };
        output = output.with_title(format!("Imported {} ({verb} survey {:?}) into {}", report.import.file, report.survey, report.import.business));
        // The questions as rows of their own read better than one long cell.
        output.rows.retain(|row| row.first().map(String::as_str) != Some("questions"));
        for q in &report.questions {
            output.rows.push(vec![format!("question {}", q.number), format!("{} ({})", q.text, q.kind)]);
        }
    }
    output.print(format, out)
}
