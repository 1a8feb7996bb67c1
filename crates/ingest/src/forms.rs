//! Reading survey responses exported by form tools, as the tools write them: Google Forms'
//! responses CSV and Typeform's CSV export. Each export becomes a list of questions (text and
//! kind) and one response per row, or a row error naming the file, the line, the column and the
//! reason.
//!
//! Google Forms: the first column is `Timestamp` (`2024/03/05 10:21:33 AM GMT+1` as the CSV
//! download writes it, or `3/5/2024 10:21:33` as Sheets shows it), an optional `Email Address`
//! column (when the form collects emails), an optional `Score` column (quizzes, ignored), then one
//! column per question headed by its text. Checkbox answers are joined by ", ". A date written
//! with the year last is read month first (`3/5/2024` is March 5th) unless some row of the file
//! has a first number above 12, which makes the whole file day first. A time without a zone is
//! read as UTC.
//!
//! Typeform: `#` (the response id), one column per question, the hidden fields, then
//! `Start Date (UTC)`, `Submit Date (UTC)` and `Network ID` (newer exports add `Response Type`,
//! `Tags` and `Ending`, which are ignored). A column headed by a lower-case identifier (`email`,
//! `customer_id`, `utm_source`) is a hidden field, because Typeform names hidden fields that way
//! and question texts never look like that. A multiple-selection question is one column per option,
//! headed by the option's text and holding that text or nothing, followed by an `Other` column
//! when the question allows one; such consecutive columns become one multiple-choice question.
//! The export does not carry that question's own text, so it is called `Choices: A / B / C`
//! unless an existing survey names it (a multiple-choice question whose options include them).
//!
//! Question kinds are taken from an existing survey with the same question texts when the caller
//! passes one; otherwise they are inferred from the answers: whole numbers 0-10 under a text that
//! mentions "recommend" are NPS; 1-7 under "easy" or "effort" are CES; 1-5 under "satisf" are CSAT;
//! other 1-5 or 0-10 numbers are a rating out of 5 or 10; a column with at least 4 answers drawn
//! from at most 12 distinct values, each used twice on average, is single choice (multiple choice
//! when some answer of a Google Forms column holds several of them joined by ", "); anything else
//! is free text.
//!
//! Hidden fields (and Google Forms' `Email Address`) join the response to the customer: `email`
//! and `customer_id` (or `user_id`) become identities; `order_id` is kept for the caller to join
//! through the order. Every hidden field is kept on the response.

use crate::error::{ImportError, RowError};
use crate::time::parse_timestamp;
use chrono::{NaiveDate, NaiveTime};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::Read;
use std::str::FromStr;
use trailmap_model::{AnswerValue, Identity, Question, QuestionKind, Timestamp};

/// The form tool that wrote an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FormLayout {
    GoogleForms,
    Typeform,
}

impl FormLayout {
    pub fn as_str(self) -> &'static str {
        match self {
            FormLayout::GoogleForms => "google-forms",
            FormLayout::Typeform => "typeform",
        }
    }
}

impl fmt::Display for FormLayout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FormLayout {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "google-forms" | "googleforms" | "google" => Ok(FormLayout::GoogleForms),
            "typeform" => Ok(FormLayout::Typeform),
            _ => Err(format!("unknown form layout {text:?}: expected google-forms or typeform")),
        }
    }
}

/// A question as the export shows it, with the columns that hold its answers.
#[derive(Debug, Clone, PartialEq)]
pub struct FormQuestion {
    pub text: String,
    pub kind: QuestionKind,
    /// Positions of the file's columns that hold the answers (several for Typeform's
    /// one-column-per-option multiple choice).
    pub columns: Vec<usize>,
}

/// One response read from a row.
#[derive(Debug, Clone, PartialEq)]
pub struct FormResponse {
    /// The line the row starts on (the header is line 1).
    pub line: u64,
    /// Typeform's `#`, also kept in `hidden` as `response_id`.
    pub response_id: Option<String>,
    pub submitted_at: Timestamp,
    /// Identities from the email column and the `email` / `customer_id` hidden fields.
    pub customer: Vec<Identity>,
    pub hidden: BTreeMap<String, String>,
    /// (index into [`FormExport::questions`], answer), for the questions answered.
    pub answers: Vec<(usize, AnswerValue)>,
}

/// A whole export: its questions and its rows.
#[derive(Debug, Clone, PartialEq)]
pub struct FormExport {
    pub layout: FormLayout,
    pub file: String,
    pub questions: Vec<FormQuestion>,
    pub hidden_fields: Vec<String>,
    /// One item per non-blank row, in file order.
    pub rows: Vec<Result<FormResponse, RowError>>,
}

/// What a column of an export is for.
#[derive(Debug, Clone, PartialEq)]
enum Role {
    Timestamp,
    SubmitDate,
    ResponseId,
    Email,
    Hidden(String),
    Ignored,
    /// A question's own column.
    Question,
    /// One option of a Typeform multiple choice (the header is the option's text).
    Option,
    /// The `Other` column after a Typeform option group.
    Other,
}

/// Typeform's own columns, which are neither questions nor hidden fields.
const TYPEFORM_META: &[&str] = &["network id", "start date (utc)", "response type", "tags", "ending", "stage"];

/// Reads a whole export. `known` are the questions of the survey the answers belong to, when the
/// caller knows it: their kinds are used instead of inferred ones, and a column that is none of
/// them is an error.
pub fn read_form<R: Read>(
    mut input: R,
    layout: FormLayout,
    file: &str,
    known: Option<&[Question]>,
) -> Result<FormExport, ImportError> {
    let mut bytes = Vec::new();
    input
        .read_to_end(&mut bytes)
        .map_err(|source| ImportError::Io { file: file.to_string(), source })?;
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let line = 1 + valid.iter().filter(|&&b| b == b'\n').count() as u64;
            return Err(ImportError::BadHeader {
                file: file.to_string(),
                line,
                reason: format!("not valid UTF-8 (at byte {})", valid.len() + 1),
            });
        }
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut records: Vec<(u64, Vec<String>)> = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| ImportError::BadHeader {
            file: file.to_string(),
            line: e.position().map_or(0, |p| p.line()),
            reason: e.to_string(),
        })?;
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let line = record.position().map_or(0, |p| p.line());
        records.push((line, record.iter().map(str::to_string).collect()));
    }
    let Some((header_line, header)) = records.first().cloned() else {
        return Err(ImportError::Empty { file: file.to_string() });
    };
    let header: Vec<String> = header.iter().map(|h| h.trim().to_string()).collect();
    let rows = &records[1..];
    let roles = column_roles(layout, &header, rows, file, header_line)?;
    let questions = match known {
        Some(known) => known_questions(&header, &roles, known, file, header_line)?,
        None => inferred_questions(layout, &header, &roles, rows),
    };
    let hidden_fields = roles
        .iter()
        .filter_map(|r| match r {
            Role::Hidden(name) => Some(name.clone()),
            _ => None,
        })
        .collect();
    let day_first = layout == FormLayout::GoogleForms && day_first(&roles, rows);
    let rows = rows
        .iter()
        .map(|(line, fields)| {
            read_row(layout, *line, fields, &header, &roles, &questions, day_first).map_err(|(column, reason)| {
                RowError { file: file.to_string(), line: *line, column, reason, raw: Some(join_csv(fields)) }
            })
        })
        .collect();
    Ok(FormExport { layout, file: file.to_string(), questions, hidden_fields, rows })
}

/// The header cell made comparable: lower case, single spaces.
fn comparable(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// `email`, `customer_id`: what Typeform hidden field names look like.
fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn column_roles(
    layout: FormLayout,
    header: &[String],
    rows: &[(u64, Vec<String>)],
    file: &str,
    header_line: u64,
) -> Result<Vec<Role>, ImportError> {
    let missing = |field: &str, tried: &[&str]| ImportError::MissingColumn {
        file: file.to_string(),
        field: field.to_string(),
        tried: tried.iter().map(|t| t.to_string()).collect(),
        hint: None,
    };
    let mut roles: Vec<Role> = Vec::with_capacity(header.len());
    match layout {
        FormLayout::GoogleForms => {
            if header.first().map(|h| comparable(h)) != Some("timestamp".into()) {
                return Err(missing("Timestamp", &["Timestamp (the first column of a Google Forms export)"]));
            }
            for (i, h) in header.iter().enumerate() {
                let c = comparable(h);
                roles.push(match c.as_str() {
                    _ if i == 0 => Role::Timestamp,
                    "email address" | "email" => Role::Email,
                    "score" => Role::Ignored,
                    "customer_id" | "user_id" | "order_id" => Role::Hidden(c.clone()),
                    _ => Role::Question,
                });
            }
        }
        FormLayout::Typeform => {
            if !header.iter().any(|h| comparable(h) == "submit date (utc)") {
                return Err(missing("Submit Date (UTC)", &["Submit Date (UTC)"]));
            }
            for (i, h) in header.iter().enumerate() {
                let c = comparable(h);
                let role = if c == "#" {
                    Role::ResponseId
                } else if c == "submit date (utc)" {
                    Role::SubmitDate
                } else if TYPEFORM_META.contains(&c.as_str()) {
                    Role::Ignored
                } else if is_identifier(h) {
                    Role::Hidden(h.clone())
                } else if c == "other" && matches!(roles.last(), Some(Role::Option | Role::Other)) {
                    Role::Other
                } else if !h.is_empty() && is_option_column(i, h, rows) {
                    Role::Option
                } else {
                    Role::Question
                };
                roles.push(role);
            }
        }
    }
    let mut seen = BTreeSet::new();
    for (h, role) in header.iter().zip(&roles) {
        if matches!(role, Role::Question) {
            if h.is_empty() {
                return Err(ImportError::BadHeader {
                    file: file.to_string(),
                    line: header_line,
                    reason: "a question column has no text in the header".into(),
                });
            }
            if !seen.insert(comparable(h)) {
                return Err(ImportError::BadHeader {
                    file: file.to_string(),
                    line: header_line,
                    reason: format!("two columns are headed {h:?}; each question needs its own text"),
                });
            }
        }
    }
    Ok(roles)
}

/// A Typeform option column: answered at least once, and every answer is the header's text.
fn is_option_column(i: usize, header: &str, rows: &[(u64, Vec<String>)]) -> bool {
    let mut answered = false;
    for (_, fields) in rows {
        let value = fields.get(i).map(|v| v.trim()).unwrap_or("");
        if value.is_empty() {
            continue;
        }
        if value != header.trim() {
            return false;
        }
        answered = true;
    }
    answered
}

/// Groups of consecutive option columns (with their `Other` column): (first, last) positions.
fn option_groups(roles: &[Role]) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut current: Vec<usize> = Vec::new();
    for (i, role) in roles.iter().enumerate() {
        match role {
            Role::Option => current.push(i),
            Role::Other if !current.is_empty() => current.push(i),
            _ => {
                if !current.is_empty() {
                    groups.push(std::mem::take(&mut current));
                }
            }
        }
    }
    if !current.is_empty() {
        groups.push(current);
    }
    groups
}

/// The columns of each question, in file order: (question text, its columns, option texts).
fn question_columns(header: &[String], roles: &[Role]) -> Vec<(String, Vec<usize>, Vec<String>)> {
    let groups = option_groups(roles);
    let mut out = Vec::new();
    for (i, role) in roles.iter().enumerate() {
        match role {
            Role::Question => out.push((header[i].clone(), vec![i], Vec::new())),
            Role::Option | Role::Other => {
                if let Some(group) = groups.iter().find(|g| g.first() == Some(&i)) {
                    let options: Vec<String> = group
                        .iter()
                        .filter(|&&c| roles[c] == Role::Option)
                        .map(|&c| header[c].clone())
                        .collect();
                    let text = format!("Choices: {}", options.join(" / "));
                    let mut options = options;
                    if group.iter().any(|&c| roles[c] == Role::Other) {
                        options.push("Other".to_string());
                    }
                    out.push((text, group.clone(), options));
                }
            }
            _ => {}
        }
    }
    out
}

fn known_questions(
    header: &[String],
    roles: &[Role],
    known: &[Question],
    file: &str,
    header_line: u64,
) -> Result<Vec<FormQuestion>, ImportError> {
    let mut out = Vec::new();
    for (text, columns, options) in question_columns(header, roles) {
        let found = if options.is_empty() {
            known.iter().find(|q| comparable(&q.text) == comparable(&text))
        } else {
            known.iter().find(|q| match &q.kind {
                QuestionKind::MultipleChoice { options: theirs } => {
                    options.iter().all(|o| theirs.iter().any(|t| comparable(t) == comparable(o)))
                }
                _ => false,
            })
        };
        let Some(question) = found else {
            let known_texts: Vec<&str> = known.iter().map(|q| q.text.as_str()).collect();
            return Err(ImportError::BadHeader {
                file: file.to_string(),
                line: header_line,
                reason: format!(
                    "column {text:?} is not a question of the survey (its questions: {})",
                    known_texts.join(" | ")
                ),
            });
        };
        out.push(FormQuestion { text: question.text.clone(), kind: question.kind.clone(), columns });
    }
    Ok(out)
}

fn inferred_questions(
    layout: FormLayout,
    header: &[String],
    roles: &[Role],
    rows: &[(u64, Vec<String>)],
) -> Vec<FormQuestion> {
    question_columns(header, roles)
        .into_iter()
        .map(|(text, columns, options)| {
            let kind = if options.is_empty() {
                let answers: Vec<&str> = rows
                    .iter()
                    .filter_map(|(_, f)| f.get(columns[0]).map(|v| v.trim()))
                    .filter(|v| !v.is_empty())
                    .collect();
                infer_kind(layout, &text, &answers)
            } else {
                QuestionKind::MultipleChoice { options }
            };
            FormQuestion { text, kind, columns }
        })
        .collect()
}

/// The kind of a question from its text and its answers (see the module's documentation).
pub fn infer_kind(layout: FormLayout, text: &str, answers: &[&str]) -> QuestionKind {
    let lower = text.to_lowercase();
    let numbers: Option<Vec<i64>> = answers
        .iter()
        .map(|a| a.parse::<i64>().ok())
        .collect();
    if let Some(numbers) = numbers.filter(|n| !n.is_empty()) {
        let (min, max) = numbers.iter().fold((i64::MAX, i64::MIN), |(lo, hi), &n| (lo.min(n), hi.max(n)));
        if min >= 0 && max <= 10 && lower.contains("recommend") {
            return QuestionKind::Nps;
        }
        if min >= 1 && max <= 7 && (lower.contains("easy") || lower.contains("effort")) {
            return QuestionKind::Ces;
        }
        if min >= 1 && max <= 5 {
            return if lower.contains("satisf") { QuestionKind::Csat } else { QuestionKind::Rating { max: 5 } };
        }
        if min >= 0 && max <= 10 {
            return QuestionKind::Rating { max: 10 };
        }
        return QuestionKind::FreeText;
    }
    let split = |a: &str| -> Vec<String> {
        match layout {
            FormLayout::GoogleForms => a.split(", ").map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect(),
            FormLayout::Typeform => vec![a.trim().to_string()],
        }
    };
    let mut options: Vec<String> = Vec::new();
    let mut several = false;
    let mut pieces_total = 0usize;
    for answer in answers {
        let pieces = split(answer);
        several |= pieces.len() > 1;
        pieces_total += pieces.len();
        for piece in pieces {
            if !options.contains(&piece) {
                options.push(piece);
            }
        }
    }
    let is_choice = answers.len() >= 4 && options.len() <= 12 && options.len() * 2 <= pieces_total;
    match (is_choice, several) {
        (true, true) => QuestionKind::MultipleChoice { options },
        (true, false) => QuestionKind::SingleChoice { options },
        _ => QuestionKind::FreeText,
    }
}

/// Whether the file's slash dates with the year last are day first: some row's first number is
/// above 12.
fn day_first(roles: &[Role], rows: &[(u64, Vec<String>)]) -> bool {
    let Some(column) = roles.iter().position(|r| *r == Role::Timestamp) else {
        return false;
    };
    rows.iter().any(|(_, fields)| {
        let date = fields.get(column).and_then(|v| v.split_whitespace().next()).unwrap_or("");
        let parts: Vec<&str> = date.split(['/', '.', '-']).collect();
        parts.len() == 3
            && parts[2].len() == 4
            && parts[0].parse::<u32>().is_ok_and(|n| n > 12)
    })
}

/// Reads Google Forms' timestamps: `2024/03/05 10:21:33 AM GMT+1`, `3/5/2024 10:21:33`,
/// `05/03/2024 22:21:33` (day first when `day_first`), with or without seconds, AM/PM and zone;
/// also anything [`parse_timestamp`] reads.
pub fn parse_forms_timestamp(text: &str, day_first: bool) -> Result<Timestamp, String> {
    let trimmed = text.trim();
    if let Ok(ts) = parse_timestamp(trimmed) {
        return Ok(ts);
    }
    let fail = || {
        format!(
            "not a Google Forms timestamp: {trimmed:?} (expected like 2024/03/05 10:21:33 AM GMT+1 or 3/5/2024 10:21:33)"
        )
    };
    let mut parts = trimmed.split_whitespace();
    let date = parts.next().ok_or_else(fail)?;
    let fields: Vec<&str> = date.split(['/', '.', '-']).collect();
    let [a, b, c] = fields.as_slice() else {
        return Err(fail());
    };
    let n = |s: &str| s.parse::<u32>().map_err(|_| fail());
    let (year, month, day) = if a.len() == 4 {
        (n(a)?, n(b)?, n(c)?)
    } else if c.len() == 4 {
        if day_first { (n(c)?, n(b)?, n(a)?) } else { (n(c)?, n(a)?, n(b)?) }
    } else {
        return Err(fail());
    };
    let date = NaiveDate::from_ymd_opt(year as i32, month, day).ok_or_else(fail)?;
    let mut time = NaiveTime::MIN;
    let mut offset_minutes = 0i64;
    for part in parts {
        let upper = part.to_ascii_uppercase();
        if part.contains(':') && time == NaiveTime::MIN {
            time = NaiveTime::parse_from_str(part, "%H:%M:%S")
                .or_else(|_| NaiveTime::parse_from_str(part, "%H:%M"))
                .map_err(|_| fail())?;
        } else if upper == "AM" || upper == "PM" {
            let hour = chrono::Timelike::hour(&time);
            if !(1..=12).contains(&hour) {
                return Err(fail());
            }
            let shift: i64 = match (upper.as_str(), hour) {
                ("AM", 12) => -12,
                ("PM", h) if h < 12 => 12,
                _ => 0,
            };
            time = time.overflowing_add_signed(chrono::TimeDelta::hours(shift)).0;
        } else if let Some(zone) = upper.strip_prefix("GMT").or_else(|| upper.strip_prefix("UTC")) {
            offset_minutes = parse_offset(zone).ok_or_else(fail)?;
        } else {
            return Err(fail());
        }
    }
    let utc = date.and_time(time).and_utc().timestamp_millis() - offset_minutes * 60_000;
    Ok(Timestamp(utc))
}

/// `""`, `+1`, `-5`, `+05:30`, `+0530` as minutes east of UTC.
fn parse_offset(zone: &str) -> Option<i64> {
    if zone.is_empty() {
        return Some(0);
    }
    let (sign, rest) = match zone.as_bytes()[0] {
        b'+' => (1, &zone[1..]),
        b'-' => (-1, &zone[1..]),
        _ => return None,
    };
    if !rest.bytes().all(|b| b.is_ascii_digit() || b == b':') {
        return None;
    }
    let (hours, minutes) = match rest.split_once(':') {
        Some((h, m)) => (h, m),
        None if rest.len() == 4 => rest.split_at(2),
        None => (rest, "0"),
    };
    let hours: i64 = hours.parse().ok().filter(|h| *h <= 14)?;
    let minutes: i64 = minutes.parse().ok().filter(|m| *m < 60)?;
    Some(sign * (hours * 60 + minutes))
}

type RowFail = (Option<String>, String);

fn read_row(
    layout: FormLayout,
    line: u64,
    fields: &[String],
    header: &[String],
    roles: &[Role],
    questions: &[FormQuestion],
    day_first: bool,
) -> Result<FormResponse, RowFail> {
    if fields.len() != header.len() {
        return Err((None, format!("expected {} fields as in the header, found {}", header.len(), fields.len())));
    }
    // Every cell is text first: a control character or an over-long cell refuses the row.
    for (i, field) in fields.iter().enumerate() {
        crate::text::check(field, crate::text::TextRule::TEXT).map_err(|problem| (Some(header[i].clone()), problem.to_string()))?;
    }
    let cell = |i: usize| fields[i].trim();
    let mut submitted_at = None;
    let mut response_id = None;
    let mut customer: Vec<Identity> = Vec::new();
    let mut hidden = BTreeMap::new();
    for (i, role) in roles.iter().enumerate() {
        let value = cell(i);
        let at = || Some(header[i].clone());
        match role {
            Role::Timestamp => {
                submitted_at = Some(parse_forms_timestamp(value, day_first).map_err(|e| (at(), e))?);
            }
            Role::SubmitDate => {
                if value.is_empty() {
                    return Err((at(), "no submit date: the response was not submitted".into()));
                }
                submitted_at = Some(parse_timestamp(value).map_err(|e| (at(), e))?);
            }
            Role::ResponseId if !value.is_empty() => {
                response_id = Some(value.to_string());
                hidden.insert("response_id".to_string(), value.to_string());
            }
            Role::Email if !value.is_empty() => {
                if !value.contains('@') {
                    return Err((at(), format!("not an email address: {value:?}")));
                }
                customer.extend(Identity::email(value));
                hidden.insert("email".to_string(), value.to_string());
            }
            Role::Hidden(name) if !value.is_empty() => {
                match name.as_str() {
                    "email" => {
                        if !value.contains('@') {
                            return Err((at(), format!("not an email address: {value:?}")));
                        }
                        customer.extend(Identity::email(value));
                    }
                    "customer_id" | "user_id" => customer.extend(Identity::external(value)),
                    _ => {}
                }
                hidden.insert(name.clone(), value.to_string());
            }
            _ => {}
        }
    }
    customer.sort();
    customer.dedup();
    let submitted_at = submitted_at.ok_or((None, "no submission time".to_string()))?;
    let mut answers = Vec::new();
    for (index, question) in questions.iter().enumerate() {
        let column = question.columns[0];
        let value = if question.columns.len() > 1 || roles[column] == Role::Option {
            let chosen: Vec<String> =
                question.columns.iter().map(|&c| cell(c).to_string()).filter(|v| !v.is_empty()).collect();
            if chosen.is_empty() {
                continue;
            }
            check_choices(&question.kind, chosen).map_err(|e| (Some(header[column].clone()), e))?
        } else {
            let text = cell(column);
            if text.is_empty() {
                continue;
            }
            answer_value(layout, &question.kind, text).map_err(|e| (Some(header[column].clone()), e))?
        };
        answers.push((index, value));
    }
    Ok(FormResponse { line, response_id, submitted_at, customer, hidden, answers })
}

/// Checks chosen options against a choice question's options (case and spacing aside), returning
/// them spelled as the question spells them. A value not in the list is kept as given (an "Other"
/// answer) when the question has an "Other" option, and is an error otherwise.
fn check_choices(kind: &QuestionKind, chosen: Vec<String>) -> Result<AnswerValue, String> {
    let options = match kind {
        QuestionKind::MultipleChoice { options } | QuestionKind::SingleChoice { options } => options,
        _ => return Ok(AnswerValue::Choices(chosen)),
    };
    let mut out = Vec::with_capacity(chosen.len());
    for c in chosen {
        match options.iter().find(|o| comparable(o) == comparable(&c)) {
            Some(o) => out.push(o.clone()),
            None if allows_other(options) => out.push(c),
            None => return Err(not_an_option(&c, options)),
        }
    }
    Ok(AnswerValue::Choices(out))
}

/// Reads one answer cell as the question's kind says.
pub fn answer_value(layout: FormLayout, kind: &QuestionKind, text: &str) -> Result<AnswerValue, String> {
    crate::text::check(text, crate::text::TextRule::TEXT).map_err(|problem| problem.to_string())?;
    let scale = |lo: f64, hi: f64, what: &str| -> Result<AnswerValue, String> {
        match text.parse::<f64>() {
            Ok(v) if v.is_finite() && (lo..=hi).contains(&v) => Ok(AnswerValue::Number(v)),
            _ => Err(format!("{what} answer must be a number from {lo} to {hi}, found {text:?}")),
        }
    };
    match kind {
        QuestionKind::Nps => scale(0.0, 10.0, "an NPS"),
        QuestionKind::Csat => scale(1.0, 5.0, "a CSAT"),
        QuestionKind::Ces => scale(1.0, 7.0, "a CES"),
        QuestionKind::Rating { max } => scale(if *max >= 10 { 0.0 } else { 1.0 }, f64::from(*max), "a rating"),
        QuestionKind::FreeText => Ok(AnswerValue::Text(text.to_string())),
        QuestionKind::SingleChoice { options } => {
            match options.iter().find(|o| comparable(o) == comparable(text)) {
                Some(o) => Ok(AnswerValue::Choices(vec![o.clone()])),
                None if allows_other(options) => Ok(AnswerValue::Choices(vec![text.to_string()])),
                None => Err(not_an_option(text, options)),
            }
        }
        QuestionKind::MultipleChoice { options } => match layout {
            FormLayout::GoogleForms => split_known_options(text, options).map(AnswerValue::Choices),
            FormLayout::Typeform => split_known_options(text, options)
                .or_else(|_| split_known_options(&text.replace(" / ", ", "), options))
                .map(AnswerValue::Choices),
        },
    }
}

/// Splits a Google Forms checkbox answer ("Price, Delivery, speed") into options, trying the longest
/// option first at each position so options that contain ", " survive. When the question has an
/// "Other" option, the first piece that is no option starts the "Other" text, kept whole.
fn split_known_options(text: &str, options: &[String]) -> Result<Vec<String>, String> {
    let mut sorted: Vec<&String> = options.iter().collect();
    sorted.sort_by_key(|o| std::cmp::Reverse(o.len()));
    let mut out = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let found = sorted.iter().find(|o| {
            rest.len() >= o.len()
                && rest.is_char_boundary(o.len())
                && comparable(&rest[..o.len()]) == comparable(o)
                && (rest.len() == o.len() || rest[o.len()..].starts_with(", "))
        });
        match found {
            Some(o) => {
                out.push((*o).clone());
                rest = rest[o.len()..].strip_prefix(", ").unwrap_or("");
            }
            // Google Forms puts the "Other" text last, and it may hold anything, commas included.
            None if allows_other(options) => {
                out.push(rest.to_string());
                break;
            }
            None => {
                return Err(format!(
                    "{rest:?} is not one of the options ({}), and the question has no \"Other\" option",
                    options.join(" | ")
                ));
            }
        }
    }
    Ok(out)
}

/// Whether a choice question takes answers of the respondent's own ("Other: ...").
fn allows_other(options: &[String]) -> bool {
    options.iter().any(|o| comparable(o) == "other")
}

fn not_an_option(value: &str, options: &[String]) -> String {
    format!("{value:?} is not one of the options ({}), and the question has no \"Other\" option", options.join(" | "))
}

/// A row's fields re-joined as a CSV line, for a rejects file.
fn join_csv(fields: &[String]) -> String {
    fields
        .iter()
        .map(|f| {
            if f.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", f.replace('"', "\"\""))
            } else {
                f.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}
