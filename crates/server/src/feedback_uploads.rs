//! Importing survey responses and feedback from an uploaded file: the work shared by the page
//! `/b/{id}/feedback/import` (`web::surveys::import`) and the JSON API's
//! `POST /api/businesses/{id}/feedback/import`. Editors only (403 for viewers). The app's imports read a file by path, so the upload is
//! written to a fresh folder under the system's temporary directory, imported in one store write
//! (it lands whole or not at all), and the folder is removed again whatever happened. Errors name
//! the uploaded file's line and column, never the temporary path. Uploads above 20 MiB answer 413
//! `too_large`.

use crate::auth;
use crate::error::ApiError;
use crate::state::ServerState;
use axum::http::StatusCode;
use serde::Serialize;
use std::path::PathBuf;
use trailmap_app::AppError;
use trailmap_app::surveys::FormImportRequest;
use trailmap_ingest::forms::FormLayout;
use trailmap_model::Business;
use utoipa::ToSchema;

/// The largest file accepted, in bytes: 20 MiB.
pub const MAX_UPLOAD_BYTES: usize = 20 * 1024 * 1024;

/// Room for the multipart form's other fields and boundaries on top of the file.
pub const MULTIPART_SLACK_BYTES: usize = 64 * 1024;

/// Rejected rows listed on the page and in the API's answer; the count covers all of them.
const REJECTS_SHOWN: usize = 20;

/// What kind of file an upload is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadLayout {
    /// Survey responses exported by Google Forms or Typeform.
    Form(FormLayout),
    /// Interview or focus-group notes (Markdown).
    Notes,
    /// Reviews or mentions: a JSON array, NDJSON or CSV.
    Reviews,
}

/// The layouts as the form and the API name them, with what people see.
pub const LAYOUTS: [(&str, &str); 4] = [
    ("google-forms", "Google Forms responses (CSV)"),
    ("typeform", "Typeform responses (CSV)"),
    ("notes", "Interview or focus-group notes (Markdown)"),
    ("reviews", "Reviews or mentions (JSON array, NDJSON or CSV)"),
];

impl UploadLayout {
    /// Reads a layout name; the error names `field`.
    pub fn parse(text: &str, field: &str) -> Result<UploadLayout, ApiError> {
        match text.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "notes" => Ok(UploadLayout::Notes),
            "reviews" => Ok(UploadLayout::Reviews),
            other => other.parse::<FormLayout>().map(UploadLayout::Form).map_err(|_| {
                ApiError::invalid_input(format!("`{field}`: {text:?} is not google-forms, typeform, notes or reviews"))
            }),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            UploadLayout::Form(f) => f.as_str(),
            UploadLayout::Notes => "notes",
            UploadLayout::Reviews => "reviews",
        }
    }
}

/// What an import did. `records` are the rows (or notes, or reviews) read; `added` and
/// `duplicates` count responses for form exports and feedback texts otherwise.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct UploadReport {
    pub file: String,
    pub layout: String,
    /// The survey that received the responses (form exports only).
    pub survey: Option<String>,
    pub survey_id: Option<i64>,
    /// Whether the import created that survey.
    pub survey_created: bool,
    pub records: u64,
    pub added: u64,
    pub duplicates: u64,
    pub rejected: u64,
    /// Free-text answers also stored as feedback (form exports only).
    pub texts_added: u64,
    pub new_customers: u64,
    /// The first rejected rows as `line, column, reason` (with `skip_invalid` only).
    pub rejects: Vec<String>,
}

/// One upload to import.
#[derive(Debug, Clone)]
pub struct Upload {
    /// The file's name as the user had it: it names the file in errors, and a survey created
    /// from a form export is named after it.
    pub file_name: String,
    pub bytes: Vec<u8>,
    pub layout: UploadLayout,
    /// The survey to receive a form export's answers, by name.
    pub survey: Option<String>,
    /// Import the valid rows and report the invalid ones, instead of refusing the whole file.
    pub skip_invalid: bool,
}

/// A file name safe to use inside our temporary folder: no folders, nothing hidden, not empty.
fn safe_file_name(name: &str, layout: UploadLayout) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String =
        base.chars().map(|c| if c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | ' ') { c } else { '_' }).collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_string();
    if cleaned.is_empty() {
        let extension = match layout {
            UploadLayout::Form(_) => "csv",
            UploadLayout::Notes => "md",
            UploadLayout::Reviews => "json",
        };
        format!("upload.{extension}")
    } else {
        cleaned
    }
}

/// An import error as the user should read it: about their file (not our temporary copy), and a
/// 400 for anything wrong with the file's content.
fn upload_error(error: AppError, temp_file: &str, file_name: &str, temp_dir: &str) -> ApiError {
    let clean = |message: String| {
        message
            .replace(temp_file, file_name)
            .replace(temp_dir, "")
            .lines()
            .filter(|line| !line.starts_with("Use --skip-invalid"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    match error {
        e @ (AppError::InvalidRows { .. } | AppError::Import(_) | AppError::File { .. }) => {
            let mut message = clean(e.to_string());
            if message.contains("invalid row(s)") {
                message.push_str("\nTick \"Skip invalid rows\" (or add skip_invalid=true) to import the valid rows.");
            }
            ApiError::invalid_input(message)
        }
        other => {
            let mut e = ApiError::from(other);
            e.message = clean(e.message);
            e
        }
    }
}

/// Imports `upload` into `business` in one store write; the temporary copy is removed after.
pub async fn import_upload(state: &ServerState, business: Business, upload: Upload) -> Result<UploadReport, ApiError> {
    if upload.bytes.len() > MAX_UPLOAD_BYTES {
        return Err(too_large());
    }
    let token = auth::random_token();
    let dir = state.upload_dir.join(format!("trailmap-upload-{}", token.get(..20).unwrap_or(&token)));
    std::fs::create_dir(&dir).map_err(|e| ApiError::internal(format!("cannot make a temporary folder for the upload: {e}")))?;
    let name = safe_file_name(&upload.file_name, upload.layout);
    let path = dir.join(&name);
    let rejects_path = dir.join("rejects.csv");
    let outcome = match std::fs::write(&path, &upload.bytes) {
        Ok(()) => run(state, business, &upload, path.clone(), rejects_path.clone()).await,
        Err(e) => Err(ApiError::internal(format!("cannot write the upload to a temporary file: {e}"))),
    };
    let outcome = outcome.and_then(|r| r.map_err(|e| upload_error(e, &path.display().to_string(), &name, &format!("{}/", dir.display()))));
    let temp_file = path.display().to_string();
    let rejects = if upload.skip_invalid { read_rejects(&rejects_path).into_iter().map(|line| line.replace(&temp_file, &name)).collect() } else { Vec::new() };
    // A failed removal leaves a file in the temporary folder, which the system cleans anyway.
    let _ = std::fs::remove_dir_all(&dir);
    let mut report = outcome?;
    report.file = name;
    report.rejects = rejects;
    Ok(report)
}

/// Runs the app's import on the writer; the app's error comes back as is so it can be told apart
/// from a failure of the writer.
async fn run(
    state: &ServerState,
    business: Business,
    upload: &Upload,
    path: PathBuf,
    rejects: PathBuf,
) -> Result<Result<UploadReport, AppError>, ApiError> {
    let layout = upload.layout;
    let survey = upload.survey.clone().filter(|s| !s.trim().is_empty());
    let skip_invalid = upload.skip_invalid.then_some(rejects);
    state
        .try_write(move |app| {
            let report = match layout {
                UploadLayout::Form(form) => app
                    .import_form_responses(FormImportRequest { layout: form, path: &path, business: &business, survey: survey.as_deref(), skip_invalid })
                    .map(|r| UploadReport {
                        file: String::new(),
                        layout: layout.as_str().into(),
                        survey: Some(r.survey),
                        survey_id: Some(r.survey_id),
                        survey_created: r.survey_created,
                        records: r.import.records,
                        added: r.import.added,
                        duplicates: r.import.duplicates,
                        rejected: r.import.rejected,
                        texts_added: r.texts_added,
                        new_customers: r.import.new_customers,
                        rejects: Vec::new(),
                    }),
                UploadLayout::Notes | UploadLayout::Reviews => {
                    let imported = if layout == UploadLayout::Notes {
                        app.import_notes(&business, &path, skip_invalid)
                    } else {
                        app.import_reviews(&business, &path, skip_invalid)
                    };
                    imported.map(|r| UploadReport {
                        file: String::new(),
                        layout: layout.as_str().into(),
                        survey: None,
                        survey_id: None,
                        survey_created: false,
                        records: r.records,
                        added: r.added,
                        duplicates: r.duplicates,
                        rejected: r.rejected,
                        texts_added: 0,
                        new_customers: r.new_customers,
                        rejects: Vec::new(),
                    })
                }
            };
            Ok(report)
        })
        .await
}

/// The first rejected rows of the rejects file, without its header.
fn read_rejects(path: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(path).map(|text| text.lines().skip(1).take(REJECTS_SHOWN).map(String::from).collect()).unwrap_or_default()
}

pub fn too_large() -> ApiError {
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", format!("the file is larger than {} MiB", MAX_UPLOAD_BYTES / (1024 * 1024)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_and_file_names() {
        assert_eq!(UploadLayout::parse("Google_Forms", "layout").unwrap(), UploadLayout::Form(FormLayout::GoogleForms));
        assert_eq!(UploadLayout::parse("reviews", "layout").unwrap(), UploadLayout::Reviews);
        let bad = UploadLayout::parse("excel", "layout").unwrap_err();
        assert!(bad.message.starts_with("`layout`: \"excel\""), "{}", bad.message);
        assert_eq!(safe_file_name("C:\\Users\\me\\answers.csv", UploadLayout::Notes), "answers.csv");
        assert_eq!(safe_file_name("../../.secret", UploadLayout::Notes), "secret");
        assert_eq!(safe_file_name("", UploadLayout::Reviews), "upload.json");
        assert_eq!(safe_file_name("a/b<c>.csv", UploadLayout::Form(FormLayout::Typeform)), "b_c_.csv");
    }
}
