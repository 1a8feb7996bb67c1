//! Surveys and the voice of the customer coming in: survey definitions, survey responses exported
//! by Google Forms or Typeform, interview and focus-group notes, and reviews or mentions as a JSON
//! array. Every import is one store write, so it lands whole or not at all; with `skip_invalid`
//! the valid rows land and the rejected ones go, with file, line, column and reason, to a rejects
//! CSV file.
//!
//! A survey definition is a TOML file (JSON when the file name ends in `.json` or the text starts
//! with `{`), with the same fields in both:
//!
//! ```toml
//! name = "Post-purchase survey"
//! touchpoint = "Order confirmation"   # a touchpoint or a stage (or both), by name; one is needed
//! stage = "Purchase"
//!
//! [[questions]]
//! text = "How likely are you to recommend us to a friend?"
//! kind = "nps"                        # nps (0-10), csat (1-5), ces (1-7), rating, single_choice,
//! required = true                     # multiple_choice, free_text; required defaults to false
//!
//! [[questions]]
//! text = "What stopped you from ordering more?"
//! kind = "single_choice"
//! options = ["Price", "Shipping cost", "Other"]   # choice questions only; "Other" takes any text
//! skip_if = { question = 1, values = [9, 10] }    # skip when question 1 (numbered from 1, an
//!                                                 # earlier one) was answered 9 or 10
//!
//! [[questions]]
//! text = "How would you rate the packaging?"
//! kind = "rating"
//! max = 10                            # rating only: 2 to 10, default 5 (0-10 when max is 10)
//! ```
//!
//! Errors name the file, the question by number and the field at fault. Question texts must be
//! unique within a survey, because exports are matched to questions by their text.
//!
//! Form imports: when no survey is named, the export's questions are compared with every survey
//! of the business, and a survey with exactly the same question texts receives the answers
//! (which makes importing a file twice add nothing); otherwise a survey is created, named after
//! the file, with the kinds inferred from the answers. Respondents are joined by the hidden
//! fields: `email`, `customer_id` (or Google Forms' `Email Address`), and `order_id` through the
//! stored order of that number. Free-text answers are also copied to feedback (kind
//! `survey_text`, source the survey's name) so themes see all text in one place.

use crate::{AppError, ImportReport, RecordKind, Result};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;
use trailmap_ingest::forms::{FormExport, FormLayout, read_form};
use trailmap_ingest::notes::{json_array_to_ndjson, read_notes};
use trailmap_ingest::{FileFormat, ImportOptions, Record, RecordAt, RecordReader, RowError};
use trailmap_model::{
    Answer, AnswerValue, Business, FeedbackKind, Identity, IncomingFeedback, IncomingResponse, Question,
    QuestionId, QuestionKind, SkipRule, Survey, SurveyId,
};
use trailmap_store::IncrementalReads;
use trailmap_store::{Store, StoreError, WriteSummary};

/// How many invalid rows are shown before an import without `skip_invalid` gives up.
const ERRORS_SHOWN: usize = 20;

/// A survey as written in a definition file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SurveyDefinition {
    pub name: String,
    #[serde(default)]
    pub touchpoint: Option<String>,
    #[serde(default)]
    pub stage: Option<String>,
    pub questions: Vec<QuestionDefinition>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuestionDefinition {
    pub text: String,
    /// nps, csat, ces, rating, single_choice, multiple_choice or free_text.
    pub kind: String,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub options: Option<Vec<String>>,
    /// The top of a rating's scale.
    #[serde(default)]
    pub max: Option<u8>,
    #[serde(default)]
    pub skip_if: Option<SkipDefinition>,
}

/// Skip the question when question number `question` (from 1) was answered with one of `values`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkipDefinition {
    pub question: usize,
    pub values: Vec<Scalar>,
}

/// A skip value as written: `"Price"`, `9` or `9.5`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Scalar {
    Int(i64),
    Float(f64),
    Text(String),
}

impl Scalar {
    fn as_text(&self) -> String {
        match self {
            Scalar::Int(n) => n.to_string(),
            Scalar::Float(x) => x.to_string(),
            Scalar::Text(t) => t.clone(),
        }
    }
}

/// One survey as listed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SurveyListing {
    pub id: i64,
    pub name: String,
    pub touchpoint: Option<String>,
    pub stage: Option<String>,
    pub questions: usize,
    pub responses: u64,
    /// The newest response's submission time (RFC 3339).
    pub last_response: Option<String>,
}

/// A question of an imported survey, as the report shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportedQuestion {
    pub number: usize,
    pub text: String,
    pub kind: String,
}

pub struct FormImportRequest<'a> {
    pub layout: FormLayout,
    pub path: &'a Path,
    pub business: &'a Business,
    /// The survey the answers belong to, by name; None: matched by question texts or created.
    pub survey: Option<&'a str>,
    /// Import the valid rows and write the rejected ones here.
    pub skip_invalid: Option<PathBuf>,
}

impl std::fmt::Debug for FormImportRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FormImportRequest")
            .field("layout", &self.layout)
            .field("path", &self.path)
            .field("survey", &self.survey)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct FormImportReport {
    pub survey: String,
    pub survey_id: i64,
    /// Whether this import created the survey.
    pub survey_created: bool,
    pub questions: Vec<ImportedQuestion>,
    /// Free-text answers also stored as feedback.
    pub texts_added: u64,
    /// `records` are rows, `added` and `duplicates` responses.
    #[serde(flatten)]
    pub import: ImportReport,
}

/// How a question kind reads in a listing: `nps`, `rating 1-5`, `single choice: A | B`.
pub fn kind_label(kind: &QuestionKind) -> String {
    match kind {
        QuestionKind::Nps => "nps".into(),
        QuestionKind::Csat => "csat".into(),
        QuestionKind::Ces => "ces".into(),
        QuestionKind::Rating { max } => format!("rating {}-{max}", rating_min(*max)),
        QuestionKind::SingleChoice { options } => format!("single choice: {}", options.join(" | ")),
        QuestionKind::MultipleChoice { options } => format!("multiple choice: {}", options.join(" | ")),
        QuestionKind::FreeText => "free text".into(),
    }
}

/// A rating out of 10 runs from 0, as form tools' opinion scales do; smaller ones from 1.
fn rating_min(max: u8) -> u8 {
    if max >= 10 { 0 } else { 1 }
}

/// Reads a survey definition (TOML or JSON) from text; `file` names it in errors.
pub fn parse_definition(text: &str, file: &str) -> Result<SurveyDefinition> {
    let json = file.to_ascii_lowercase().ends_with(".json") || text.trim_start().starts_with('{');
    if json {
        serde_json::from_str(text).map_err(|e| AppError::Invalid(format!("{file}: line {}, column {}: {e}", e.line(), e.column())))
    } else {
        toml::from_str(text).map_err(|e| {
            let place = e
                .span()
                .map(|span| {
                    let line = 1 + text.get(..span.start).unwrap_or(text).matches('\n').count();
                    format!("line {line}: ")
                })
                .unwrap_or_default();
            AppError::Invalid(format!("{file}: {place}{}", e.message()))
        })
    }
}

/// The kind a definition's question asks for, checked against its other fields.
fn definition_kind(q: &QuestionDefinition, at: &dyn Fn(&str) -> String) -> Result<QuestionKind> {
    let kind = q.kind.trim().to_ascii_lowercase().replace(['-', ' '], "_");
    let options = || -> Result<Vec<String>> {
        let Some(options) = &q.options else {
            return Err(AppError::Invalid(format!("{}: a {kind} question needs a list of options", at("options"))));
        };
        let options: Vec<String> = options.iter().map(|o| o.trim().to_string()).collect();
        if options.is_empty() {
            return Err(AppError::Invalid(format!("{}: the list of options is empty", at("options"))));
        }
        if let Some(blank) = options.iter().position(String::is_empty) {
            return Err(AppError::Invalid(format!("{}: option {} is empty", at("options"), blank + 1)));
        }
        for (i, o) in options.iter().enumerate() {
            if options[..i].iter().any(|p| p.eq_ignore_ascii_case(o)) {
                return Err(AppError::Invalid(format!("{}: option {o:?} is listed twice", at("options"))));
            }
        }
        Ok(options)
    };
    let parsed = match kind.as_str() {
        "nps" => QuestionKind::Nps,
        "csat" => QuestionKind::Csat,
        "ces" => QuestionKind::Ces,
        "rating" => {
            let max = q.max.unwrap_or(5);
            if !(2..=10).contains(&max) {
                return Err(AppError::Invalid(format!("{}: a rating's max must be 2 to 10, not {max}", at("max"))));
            }
            QuestionKind::Rating { max }
        }
        "single_choice" | "choice" | "radio" => QuestionKind::SingleChoice { options: options()? },
        "multiple_choice" | "checkboxes" => QuestionKind::MultipleChoice { options: options()? },
        "free_text" | "text" => QuestionKind::FreeText,
        other => {
            return Err(AppError::Invalid(format!(
                "{}: unknown kind {other:?} (expected nps, csat, ces, rating, single_choice, multiple_choice or free_text)",
                at("kind")
            )));
        }
    };
    let choice = matches!(parsed, QuestionKind::SingleChoice { .. } | QuestionKind::MultipleChoice { .. });
    if q.options.is_some() && !choice {
        return Err(AppError::Invalid(format!("{}: only choice questions have options, this one is {kind}", at("options"))));
    }
    if q.max.is_some() && !matches!(parsed, QuestionKind::Rating { .. }) {
        return Err(AppError::Invalid(format!("{}: only rating questions have a max, this one is {kind}", at("max"))));
    }
    Ok(parsed)
}

/// Whether `value` is a possible answer to a question of `kind` (a skip rule's value).
fn possible_answer(kind: &QuestionKind, value: &str) -> std::result::Result<(), String> {
    let range = |lo: f64, hi: f64| match value.trim().parse::<f64>() {
        Ok(v) if (lo..=hi).contains(&v) => Ok(()),
        _ => Err(format!("{value:?} is not an answer from {lo} to {hi}")),
    };
    match kind {
        QuestionKind::Nps => range(0.0, 10.0),
        QuestionKind::Csat => range(1.0, 5.0),
        QuestionKind::Ces => range(1.0, 7.0),
        QuestionKind::Rating { max } => range(f64::from(rating_min(*max)), f64::from(*max)),
        QuestionKind::SingleChoice { options } | QuestionKind::MultipleChoice { options } => {
            if options.iter().any(|o| o.eq_ignore_ascii_case(value.trim())) {
                Ok(())
            } else {
                Err(format!("{value:?} is not one of its options ({})", options.join(" | ")))
            }
        }
        QuestionKind::FreeText => Ok(()),
    }
}

/// A name unused among `taken`: `name`, else `name (2)`, `name (3)`...
fn unused_name(name: &str, taken: &[String]) -> String {
    let free = |candidate: &str| !taken.iter().any(|t| t.eq_ignore_ascii_case(candidate));
    if free(name) {
        return name.to_string();
    }
    (2..).map(|n| format!("{name} ({n})")).find(|c| free(c)).unwrap_or_else(|| name.to_string())
}

/// Comparable question text: lower case, single spaces.
fn comparable(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// Writes rejected rows to a rejects CSV beside the final path, renamed into place only when the
/// import lands.
struct Rejects {
    path: PathBuf,
    temp: PathBuf,
}

impl Rejects {
    fn write(path: &Path, errors: &[RowError]) -> Result<Rejects> {
        let fail = |e: &dyn std::fmt::Display| AppError::File { path: path.display().to_string(), reason: e.to_string() };
        let temp = path.with_extension("partial");
        let mut writer = csv::Writer::from_path(&temp).map_err(|e| fail(&e))?;
        writer.write_record(["line", "column", "reason", "raw"]).map_err(|e| fail(&e))?;
        for e in errors {
            writer
                .write_record([e.line.to_string().as_str(), e.column.as_deref().unwrap_or(""), &e.reason, e.raw.as_deref().unwrap_or("")])
                .map_err(|e| fail(&e))?;
        }
        writer.flush().map_err(|e| fail(&e))?;
        Ok(Rejects { path: path.to_path_buf(), temp })
    }

    fn finish(self) -> Result<String> {
        std::fs::rename(&self.temp, &self.path)
            .map_err(|e| AppError::File { path: self.path.display().to_string(), reason: e.to_string() })?;
        Ok(self.path.display().to_string())
    }
}

impl Drop for Rejects {
    fn drop(&mut self) {
        // After finish() the temp file is gone and this does nothing; after a failed import it
        // removes the rejects that never applied.
        let _ = std::fs::remove_file(&self.temp);
    }
}

/// Splits read items into the good ones and the errors; without `skip_invalid`, any error fails
/// the import before anything is written.
fn sort_out<T>(file: &str, items: Vec<Result<T, RowError>>, skip_invalid: Option<&Path>) -> Result<(Vec<T>, Vec<RowError>, Option<Rejects>)> {
    let mut good = Vec::with_capacity(items.len());
    let mut bad = Vec::new();
    for item in items {
        match item {
            Ok(t) => good.push(t),
            Err(e) => bad.push(e),
        }
    }
    match skip_invalid {
        None if !bad.is_empty() => {
            let count = bad.len() as u64;
            bad.truncate(ERRORS_SHOWN);
            Err(AppError::InvalidRows { file: file.to_string(), count, shown: bad })
        }
        None => Ok((good, bad, None)),
        Some(path) => {
            let rejects = Rejects::write(path, &bad)?;
            Ok((good, bad, Some(rejects)))
        }
    }
}

fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| AppError::File { path: path.display().to_string(), reason: e.to_string() })
}

fn file_stem(path: &Path) -> String {
    path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "Imported survey".into())
}

impl crate::App {
    /// Creates a survey from a definition file (TOML or JSON; the format is in this module's
    /// documentation).
    pub fn create_survey_from_file(&mut self, business: &Business, path: &Path) -> Result<Survey> {
        let bytes = read_file(path)?;
        let file = path.display().to_string();
        let text = String::from_utf8(bytes).map_err(|_| AppError::File { path: file.clone(), reason: "not valid UTF-8".into() })?;
        let definition = parse_definition(&text, &file)?;
        self.create_survey_from_definition(business, &definition, &file)
    }

    /// Checks a definition against itself and the business (touchpoint and stage names, a free
    /// survey name) and stores it. `origin` names the definition in errors.
    pub fn create_survey_from_definition(&mut self, business: &Business, d: &SurveyDefinition, origin: &str) -> Result<Survey> {
        let name = d.name.trim();
        if name.is_empty() {
            return Err(AppError::Invalid(format!("{origin}: `name`: the survey needs a name")));
        }
        let existing = self.store.surveys(business.id)?;
        if existing.iter().any(|s| s.name.eq_ignore_ascii_case(name)) {
            return Err(AppError::Conflict(format!("{origin}: `name`: {business} already has a survey named {name:?}", business = business.name)));
        }
        let touchpoints = self.store.touchpoints(business.id)?;
        let touchpoint = named(d.touchpoint.as_deref(), &touchpoints, |t| (t.name.as_str(), t.id), origin, "touchpoint")?;
        let stages = self.store.stages(business.id)?;
        let stage = named(d.stage.as_deref(), &stages, |s| (s.name.as_str(), s.id), origin, "stage")?;
        if touchpoint.is_none() && stage.is_none() {
            return Err(AppError::Invalid(format!(
                "{origin}: a survey is asked at a touchpoint or a stage: give `touchpoint` or `stage` (or both)"
            )));
        }
        if d.questions.is_empty() {
            return Err(AppError::Invalid(format!("{origin}: `questions`: the survey has no questions")));
        }
        let mut questions: Vec<Question> = Vec::with_capacity(d.questions.len());
        for (i, q) in d.questions.iter().enumerate() {
            let number = i + 1;
            let at = |field: &str| format!("{origin}: question {number}: `{field}`");
            let text = q.text.trim();
            if text.is_empty() {
                return Err(AppError::Invalid(format!("{}: the question has no text", at("text"))));
            }
            if let Some(same) = questions.iter().position(|p| comparable(&p.text) == comparable(text)) {
                return Err(AppError::Invalid(format!("{}: the same text as question {}", at("text"), same + 1)));
            }
            let kind = definition_kind(q, &at)?;
            let skip = match &q.skip_if {
                None => None,
                Some(rule) => {
                    if rule.question == 0 || rule.question >= number {
                        return Err(AppError::Invalid(format!(
                            "{}: a question can only be skipped by an earlier one (1 to {}), not by question {}",
                            at("skip_if"),
                            number - 1,
                            rule.question
                        )));
                    }
                    if rule.values.is_empty() {
                        return Err(AppError::Invalid(format!("{}: `values` is empty", at("skip_if"))));
                    }
                    let earlier = &questions[rule.question - 1];
                    let values: Vec<String> = rule.values.iter().map(Scalar::as_text).collect();
                    for v in &values {
                        possible_answer(&earlier.kind, v).map_err(|reason| {
                            AppError::Invalid(format!("{}: question {}: {reason}", at("skip_if"), rule.question))
                        })?;
                    }
                    Some(SkipRule { question: earlier.id, values })
                }
            };
            // Placeholder ids by position; the store gives the real ones and renumbers skip rules.
            questions.push(Question { id: QuestionId(number as i64), text: text.to_string(), kind, required: q.required, skip });
        }
        let survey = Survey { id: SurveyId(0), business: business.id, name: name.to_string(), touchpoint, stage, questions };
        let mut stored = None;
        self.store.write::<StoreError>(&mut |w| {
            stored = Some(w.create_survey(&survey)?);
            Ok(())
        })?;
        stored.ok_or_else(|| AppError::Invalid("the survey was not created".into()))
    }

    /// The business's surveys with their response counts, in creation order.
    pub fn list_surveys(&self, business: &Business) -> Result<Vec<SurveyListing>> {
        let touchpoints = self.store.touchpoints(business.id)?;
        let stages = self.store.stages(business.id)?;
        let mut out = Vec::new();
        for survey in self.store.surveys(business.id)? {
            let responses = self.store.responses(survey.id)?;
            out.push(SurveyListing {
                id: survey.id.0,
                name: survey.name.clone(),
                touchpoint: survey.touchpoint.and_then(|id| touchpoints.iter().find(|t| t.id == id)).map(|t| t.name.clone()),
                stage: survey.stage.and_then(|id| stages.iter().find(|s| s.id == id)).map(|s| s.name.clone()),
                questions: survey.questions.len(),
                responses: responses.len() as u64,
                last_response: responses.iter().map(|r| r.submitted_at).max().map(|t| t.to_rfc3339()),
            });
        }
        Ok(out)
    }

    /// Imports a Google Forms or Typeform export into a survey (named, matched by its question
    /// texts, or created from the export), in one write.
    pub fn import_form_responses(&mut self, request: FormImportRequest<'_>) -> Result<FormImportReport> {
        let started = Instant::now();
        let business = request.business;
        let file = request.path.display().to_string();
        let bytes = read_file(request.path)?;
        let surveys = self.store.surveys(business.id)?;
        let (existing, export): (Option<Survey>, FormExport) = match request.survey {
            Some(name) => {
                let survey = surveys.iter().find(|s| s.name.eq_ignore_ascii_case(name.trim())).cloned().ok_or_else(|| {
                    let known: Vec<&str> = surveys.iter().map(|s| s.name.as_str()).collect();
                    AppError::NotFound(format!("no survey named {name:?} in {} (surveys: {})", business.name, known.join(", ")))
                })?;
                let export = read_form(bytes.as_slice(), request.layout, &file, Some(&survey.questions))?;
                (Some(survey), export)
            }
            None => {
                let inferred = read_form(bytes.as_slice(), request.layout, &file, None)?;
                let texts: Vec<String> = inferred.questions.iter().map(|q| comparable(&q.text)).collect();
                let same = surveys.iter().find(|s| {
                    let mut theirs: Vec<String> = s.questions.iter().map(|q| comparable(&q.text)).collect();
                    let mut ours = texts.clone();
                    theirs.sort();
                    ours.sort();
                    theirs == ours
                });
                match same {
                    Some(survey) => {
                        let export = read_form(bytes.as_slice(), request.layout, &file, Some(&survey.questions))?;
                        (Some(survey.clone()), export)
                    }
                    None => (None, inferred),
                }
            }
        };
        if export.questions.is_empty() {
            return Err(AppError::Invalid(format!("{file}: header: the export has no question columns")));
        }
        let survey_created = existing.is_none();
        let new_survey = Survey {
            id: SurveyId(0),
            business: business.id,
            name: unused_name(&file_stem(request.path), &surveys.iter().map(|s| s.name.clone()).collect::<Vec<_>>()),
            touchpoint: None,
            stage: None,
            questions: export
                .questions
                .iter()
                .enumerate()
                .map(|(i, q)| Question { id: QuestionId(i as i64 + 1), text: q.text.clone(), kind: q.kind.clone(), required: false, skip: None })
                .collect(),
        };
        let records = export.rows.len() as u64;
        let (responses, rejected_rows, rejects) = sort_out(&file, export.rows, request.skip_invalid.as_deref())?;

        // Respondents named only by an order number are found through the stored order.
        let by_order = if responses.iter().any(|r| r.customer.is_empty() && r.hidden.contains_key("order_id")) {
            // Each order's customer, then those customers, each in one statement.
            let orders = self.store.order_customers(business.id)?;
            let mut ids: Vec<trailmap_model::CustomerId> = orders.iter().map(|(_, c)| *c).collect();
            ids.sort();
            ids.dedup();
            let customers: HashMap<trailmap_model::CustomerId, trailmap_model::Customer> =
                self.store.customers_by_ids(business.id, &ids)?.into_iter().map(|c| (c.id, c)).collect();
            let mut map: HashMap<String, Identity> = HashMap::new();
            for (number, customer) in orders {
                let Some(customer) = customers.get(&customer) else { continue };
                let identity = customer
                    .external_id
                    .as_deref()
                    .and_then(Identity::external)
                    .or_else(|| customer.email.as_deref().and_then(Identity::email));
                if let Some(identity) = identity {
                    // Of a number in several origins, the last order in time is the one kept.
                    map.insert(number, identity);
                }
            }
            map
        } else {
            HashMap::new()
        };
        let touchpoint_name = self.touchpoint_name(business, existing.as_ref().and_then(|s| s.touchpoint))?;

        let mut stored: Option<Survey> = existing.clone();
        let kind = "survey_responses";
        let summary: WriteSummary = self.store.write::<AppError>(&mut |w| {
            w.bulk();
            let survey = match &existing {
                Some(s) => s.clone(),
                None => w.create_survey(&new_survey)?,
            };
            let ids: Vec<QuestionId> = export
                .questions
                .iter()
                .map(|q| survey.questions.iter().find(|s| s.text == q.text).map(|s| s.id))
                .collect::<Option<_>>()
                .ok_or_else(|| AppError::Invalid(format!("{file}: a question of the export is not in the survey")))?;
            for response in &responses {
                let mut customer = response.customer.clone();
                if customer.is_empty()
                    && let Some(identity) = response.hidden.get("order_id").and_then(|o| by_order.get(o.trim()))
                {
                    customer.push(identity.clone());
                }
                let answers: Vec<Answer> =
                    response.answers.iter().map(|(i, value)| Answer { question: ids[*i], value: value.clone() }).collect();
                let incoming = IncomingResponse {
                    survey: survey.id,
                    customer: customer.clone(),
                    submitted_at: response.submitted_at,
                    hidden: response.hidden.clone(),
                    answers,
                };
                w.add_response(business.id, &incoming)
                    .map_err(|e| AppError::Invalid(format!("{file}:{}: {e}", response.line)))?;
                for feedback in survey_text_feedback(&survey.name, &incoming, &touchpoint_name) {
                    w.add_feedback(business.id, &feedback)?;
                }
            }
            w.record_import(business.id, kind, &file)?;
            stored = Some(survey);
            Ok(())
        })?;
        let survey = stored.ok_or_else(|| AppError::Invalid("the survey was not stored".into()))?;
        let rejects_file = rejects.map(Rejects::finish).transpose()?;
        Ok(FormImportReport {
            survey: survey.name.clone(),
            survey_id: survey.id.0,
            survey_created,
            questions: export
                .questions
                .iter()
                .enumerate()
                .map(|(i, q)| ImportedQuestion { number: i + 1, text: q.text.clone(), kind: kind_label(&q.kind) })
                .collect(),
            texts_added: summary.feedback_added,
            import: ImportReport {
                file,
                kind: kind.to_string(),
                layout: request.layout.to_string(),
                business: business.name.clone(),
                records,
                added: summary.responses_added,
                duplicates: summary.responses_duplicate,
                rejected: rejected_rows.len() as u64,
                dropped: Vec::new(),
                new_customers: summary.customers_added,
                merged_customers: summary.customers_merged,
                rejects_file,
                seconds: started.elapsed().as_secs_f64(),
                details: summary,
            },
        })
    }

    /// Imports interview or focus-group notes (one note per quote, with its tags), in one write.
    pub fn import_notes(&mut self, business: &Business, path: &Path, skip_invalid: Option<PathBuf>) -> Result<ImportReport> {
        let started = Instant::now();
        let file = path.display().to_string();
        let text = String::from_utf8(read_file(path)?)
            .map_err(|e| AppError::File { path: file.clone(), reason: format!("not valid UTF-8 (at byte {})", e.utf8_error().valid_up_to() + 1) })?;
        let items = read_notes(&text, &file);
        self.land_feedback(business, &file, "notes", items, skip_invalid.as_deref(), started)
    }

    /// Imports reviews or mentions: a JSON array is read here, element by element with the line
    /// it starts on; CSV and NDJSON go through the generic feedback import.
    pub fn import_reviews(&mut self, business: &Business, path: &Path, skip_invalid: Option<PathBuf>) -> Result<ImportReport> {
        let started = Instant::now();
        let file = path.display().to_string();
        let bytes = read_file(path)?;
        let Some((ndjson, lines)) = json_array_to_ndjson(&bytes, &file)? else {
            return self.import(crate::ImportRequest { skip_invalid, ..crate::ImportRequest::new(RecordKind::Feedback, path, business) });
        };
        let mut options = ImportOptions::new(RecordKind::Feedback, file.clone());
        options.format = Some(FileFormat::Ndjson);
        options.default_currency = business.currency;
        options.default_decimal_mark = business.decimal_mark;
        let reader = RecordReader::new(std::io::Cursor::new(ndjson), options)?;
        let line_of = |n: u64| lines.get(n.saturating_sub(1) as usize).copied().unwrap_or(n);
        // The n-th NDJSON line is the n-th element of the array, which starts on line_of(n).
        let items = reader
            .map(|item| match item {
                Ok(RecordAt { record: Record::Feedback(f), line, .. }) => Ok((line_of(line), f)),
                Ok(other) => Err(RowError {
                    file: file.clone(),
                    line: line_of(other.line),
                    column: None,
                    reason: format!("not feedback: {:?}", other.record.kind()),
                    raw: None,
                }),
                Err(mut e) => {
                    e.line = line_of(e.line);
                    Err(e)
                }
            })
            .collect();
        self.land_feedback(business, &file, "reviews-json", items, skip_invalid.as_deref(), started)
    }

    fn land_feedback(
        &mut self,
        business: &Business,
        file: &str,
        layout: &str,
        items: Vec<Result<(u64, IncomingFeedback), RowError>>,
        skip_invalid: Option<&Path>,
        started: Instant,
    ) -> Result<ImportReport> {
        let records = items.len() as u64;
        // A touchpoint the business does not have is the row's error, found before the write.
        let touchpoints = self.store.touchpoints(business.id)?;
        let items: Vec<Result<(u64, IncomingFeedback), RowError>> = items
            .into_iter()
            .map(|item| {
                let (line, mut feedback) = item?;
                if let Some(wanted) = feedback.touchpoint.as_deref() {
                    match touchpoints.iter().find(|t| t.name.eq_ignore_ascii_case(wanted.trim())) {
                        Some(t) => feedback.touchpoint = Some(t.name.clone()),
                        None => {
                            let known: Vec<&str> = touchpoints.iter().map(|t| t.name.as_str()).collect();
                            return Err(RowError {
                                file: file.to_string(),
                                line,
                                column: Some("touchpoint".into()),
                                reason: format!("no touchpoint named {wanted:?} (touchpoints: {})", known.join(", ")),
                                raw: None,
                            });
                        }
                    }
                }
                Ok((line, feedback))
            })
            .collect();
        let (good, bad, rejects) = sort_out(file, items, skip_invalid)?;
        let summary = self.store.write::<AppError>(&mut |w| {
            w.bulk();
            for (line, feedback) in &good {
                w.add_feedback(business.id, feedback).map_err(|e| match e {
                    StoreError::Invalid(reason) => AppError::Invalid(format!("{file}:{line}: {reason}")),
                    other => other.into(),
                })?;
            }
            w.record_import(business.id, "feedback", file)?;
            Ok(())
        })?;
        let rejects_file = rejects.map(Rejects::finish).transpose()?;
        Ok(ImportReport {
            file: file.to_string(),
            kind: "feedback".into(),
            layout: layout.into(),
            business: business.name.clone(),
            records,
            added: summary.feedback_added,
            duplicates: summary.feedback_duplicate,
            rejected: bad.len() as u64,
            dropped: Vec::new(),
            new_customers: summary.customers_added,
            merged_customers: summary.customers_merged,
            rejects_file,
            seconds: started.elapsed().as_secs_f64(),
            details: summary,
        })
    }
}

/// The id of the item a definition names in `field` (a touchpoint, a stage), matched by name
/// without regard to case; None when the field is empty; an error naming the field and listing
/// the names there are when nothing matches.
impl crate::App {
    /// The name of a survey's touchpoint, which the feedback from its text answers carries.
    pub(crate) fn touchpoint_name(&self, business: &Business, touchpoint: Option<trailmap_model::TouchpointId>) -> Result<Option<String>> {
        Ok(match touchpoint {
            Some(id) => self.store.touchpoints(business.id)?.into_iter().find(|t| t.id == id).map(|t| t.name),
            None => None,
        })
    }
}

/// A survey response's free-text answers as feedback from the survey, so that sentiment and
/// themes read them with the other feedback: one item per text answer, at the response's time.
pub(crate) fn survey_text_feedback<'a>(
    survey: &'a str,
    response: &'a IncomingResponse,
    touchpoint: &'a Option<String>,
) -> impl Iterator<Item = IncomingFeedback> + 'a {
    response.answers.iter().filter_map(move |answer| match &answer.value {
        AnswerValue::Text(text) => Some(IncomingFeedback {
            kind: FeedbackKind::SurveyText,
            source: survey.to_string(),
            external_id: None,
            customer: response.customer.clone(),
            author: None,
            time: response.submitted_at,
            rating: None,
            text: text.clone(),
            link: None,
            touchpoint: touchpoint.clone(),
            tags: Vec::new(),
        }),
        _ => None,
    })
}

fn named<T, Id>(wanted: Option<&str>, items: &[T], name_and_id: impl Fn(&T) -> (&str, Id), origin: &str, field: &str) -> Result<Option<Id>> {
    let Some(wanted) = wanted.map(str::trim).filter(|w| !w.is_empty()) else {
        return Ok(None);
    };
    match items.iter().map(&name_and_id).find(|(name, _)| name.eq_ignore_ascii_case(wanted)) {
        Some((_, id)) => Ok(Some(id)),
        None => {
            let known: Vec<&str> = items.iter().map(|item| name_and_id(item).0).collect();
            Err(AppError::Invalid(format!("{origin}: `{field}`: no {field} named {wanted:?} ({field}s: {})", known.join(", "))))
        }
    }
}
