//! Scheduled digests: per business, weekly or monthly, an e-mail to chosen recipients with the key
//! numbers against the previous period (each with its n), the changes and their verdicts, the top
//! insights, the maps past their review date, and the PDF report attached; and the agency's name
//! and logo on them when one is set (white label).
//!
//! The schedule is a pure function of the clock ([`due_period`]): a digest is due, once, for the
//! last whole week (Monday to Sunday) or month before today in the business's time zone, if that
//! period ends on or after the day the digest was made. Queuing it under the key
//! `digest:ID:FROM` makes planning it again a no-op, so the delivery task may run at any time.

use crate::delivery::{EmailBody, SmtpSettings, parse_addresses};
use crate::report::{Report, ReportRequest};
use crate::{App, AppError, DayRange, Result};
use chrono::{Datelike, Duration, NaiveDate};
use serde::Serialize;
use trailmap_model::{Business, BusinessId, Timestamp};
use trailmap_render::escape;
use trailmap_store::{DeliveryStore, NewDelivery, SettingsStore, StoredDigest};

/// How often a digest (or an alert rule) looks at a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Cadence {
    Weekly,
    Monthly,
}

impl Cadence {
    pub fn parse(field: &str, text: &str) -> Result<Cadence> {
        match text.trim().to_ascii_lowercase().as_str() {
            "weekly" | "week" => Ok(Cadence::Weekly),
            "monthly" | "month" => Ok(Cadence::Monthly),
            _ => Err(AppError::InvalidField { field: field.into(), value: Some(text.to_string()), reason: "is weekly or monthly".into() }),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Cadence::Weekly => "weekly",
            Cadence::Monthly => "monthly",
        }
    }

    /// The last whole period before `today`: the week (Monday to Sunday) or the calendar month.
    pub fn last_whole_period(self, today: NaiveDate) -> DayRange {
        match self {
            Cadence::Weekly => {
                let monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
                DayRange { from: monday - Duration::days(7), to: monday - Duration::days(1) }
            }
            Cadence::Monthly => {
                let first = today.with_day(1).unwrap_or(today);
                let last = first - Duration::days(1);
                DayRange { from: last.with_day(1).unwrap_or(last), to: last }
            }
        }
    }

    /// The period of the same cadence just before `period`.
    pub fn previous(self, period: DayRange) -> DayRange {
        self.last_whole_period(period.from)
    }
}

/// The period a digest (or alert rule) made on `created` is due for on `today`: the last whole
/// period, if it ends on or after `created`. Pure: the clock is the argument.
pub fn due_period(cadence: Cadence, created: NaiveDate, today: NaiveDate) -> Option<DayRange> {
    let period = cadence.last_whole_period(today);
    (period.to >= created).then_some(period)
}

/// A digest as the app shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Digest {
    pub id: i64,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub business: BusinessId,
    pub cadence: Cadence,
    pub recipients: Vec<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub created_at: Timestamp,
}

fn digest_of(stored: StoredDigest) -> Result<Digest> {
    Ok(Digest {
        id: stored.id,
        business: stored.business,
        cadence: Cadence::parse("cadence", &stored.cadence)?,
        recipients: stored.recipients.split(',').map(str::to_string).collect(),
        created_at: stored.created_at,
    })
}

/// The agency's name and logo on reports and digests, when set (store-wide settings).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Branding {
    pub name: Option<String>,
    /// The logo as a data URI (PNG, JPEG or WebP).
    pub logo: Option<String>,
}

const AGENCY_NAME: &str = "agency_name";
const AGENCY_LOGO: &str = "agency_logo";

/// The largest logo kept, as for persona photos.
pub const MAX_LOGO_BYTES: usize = 256 * 1024;

/// One digest e-mail, ready to queue.
#[derive(Debug, Clone, PartialEq)]
pub struct DigestEmail {
    pub subject: String,
    pub body: EmailBody,
    pub pdf: Vec<u8>,
}

impl App {
    /// The agency's name and logo, when set.
    pub fn branding(&self) -> Result<Branding> {
        Ok(Branding { name: self.store().setting(AGENCY_NAME)?.filter(|s| !s.is_empty()), logo: self.store().setting(AGENCY_LOGO)?.filter(|s| !s.is_empty()) })
    }

    /// Sets the agency's name (empty: none) and, when given, its logo (PNG, JPEG or WebP bytes;
    /// an empty slice removes it).
    pub fn set_branding(&mut self, name: &str, logo: Option<&[u8]>) -> Result<Branding> {
        let name = name.trim();
        if name.chars().count() > 120 {
            return Err(AppError::InvalidField { field: "name".into(), value: None, reason: "at most 120 characters".into() });
        }
        let logo_uri = match logo {
            None => None,
            Some([]) => Some(String::new()),
            Some(bytes) => {
                let kind = crate::personas::photo_type(bytes).ok_or_else(|| AppError::InvalidField {
                    field: "logo".into(),
                    value: None,
                    reason: "not a PNG, JPEG or WebP image (told by its first bytes)".into(),
                })?;
                if bytes.len() > MAX_LOGO_BYTES {
                    return Err(AppError::InvalidField { field: "logo".into(), value: None, reason: format!("{} bytes; at most {MAX_LOGO_BYTES}", bytes.len()) });
                }
                use base64::Engine;
                Some(format!("data:{kind};base64,{}", base64::engine::general_purpose::STANDARD.encode(bytes)))
            }
        };
        self.store_mut().set_setting(AGENCY_NAME, name)?;
        if let Some(uri) = logo_uri {
            self.store_mut().set_setting(AGENCY_LOGO, &uri)?;
        }
        self.branding()
    }

    pub fn digests(&self, business: &Business) -> Result<Vec<Digest>> {
        self.store().digests(business.id)?.into_iter().map(digest_of).collect()
    }

    /// Adds a digest after checking it ([`check_digest`]: its SMTP server is asked, over the network).
    pub fn add_digest(&mut self, business: &Business, cadence: &str, recipients: &str, smtp: Option<&SmtpSettings>, now: Timestamp) -> Result<Digest> {
        let (cadence, recipients) = check_digest(cadence, recipients, smtp)?;
        self.save_digest(business, cadence, &recipients, now)
    }

    /// Stores a digest already checked with [`check_digest`] (a server checks off its writer).
    pub fn save_digest(&mut self, business: &Business, cadence: Cadence, recipients: &[String], now: Timestamp) -> Result<Digest> {
        digest_of(self.store_mut().insert_digest(business.id, cadence.as_str(), &recipients.join(","), now)?)
    }

    pub fn remove_digest(&mut self, business: &Business, id: i64) -> Result<()> {
        self.store_mut().delete_digest(business.id, id).map_err(|e| match e {
            trailmap_store::StoreError::NotFound { .. } => AppError::NotFound(format!("{} has no digest {id}", business.name)),
            other => other.into(),
        })
    }

    /// The digest e-mail of `business` for `period` (against the period before it): the report's
    /// key numbers, changes, insights and stale maps in HTML and plain text, the PDF attached.
    pub fn digest_email(&self, business: &Business, cadence: Option<Cadence>, period: DayRange, today: NaiveDate) -> Result<DigestEmail> {
        let branding = self.branding()?;
        let mut report = self.report(business, &ReportRequest { period, today })?;
        report.prepared_by = branding.name.clone();
        let stale: Vec<String> = self
            .journey_maps(business, today)?
            .into_iter()
            .filter(|m| m.stale)
            .map(|m| format!("{} (review date {})", m.name, m.review_date.map_or_else(|| "–".to_string(), |d| d.to_string())))
            .collect();
        let what = match cadence {
            Some(c) => format!("{} digest", c.as_str()),
            None => "report".to_string(),
        };
        let brand = branding.name.as_ref().map(|n| format!("{n} · ")).unwrap_or_default();
        let subject = format!("{brand}{}: {what}, {} to {}", business.name, period.from, period.to);
        let (html, text) = digest_parts(&report, &stale, &branding, &subject);
        let pdf = report.pdf()?;
        let attachment_name = format!("{}-report-{}-{}.pdf", slug(&business.name), period.from, period.to);
        Ok(DigestEmail { subject, body: EmailBody { html, text, attachment_name: Some(attachment_name) }, pdf })
    }

    /// Queues the report of `period` to `recipients` at once (not deduplicated: "send now").
    pub fn queue_report_email(&mut self, business: &Business, cadence: Option<Cadence>, period: DayRange, recipients: &str, now: Timestamp) -> Result<trailmap_store::StoredDelivery> {
        let delivery = self.report_email(business, cadence, period, recipients, now)?;
        self.queue_delivery(&delivery, now)?.ok_or_else(|| AppError::Invalid("the e-mail was not queued".into()))
    }

    /// The e-mail of the report of `period` to `recipients`, ready to queue (a read: a server
    /// builds it on a reader and queues it on its writer).
    pub fn report_email(&self, business: &Business, cadence: Option<Cadence>, period: DayRange, recipients: &str, now: Timestamp) -> Result<NewDelivery> {
        let recipients = parse_addresses("to", recipients)?;
        let email = self.digest_email(business, cadence, period, crate::dashboard::today_in(business, now))?;
        email_delivery(business.id, None, if cadence.is_some() { "digest" } else { "report" }, &recipients.join(","), email)
    }

    /// Queues digest `id` for its last whole period at once ("send now").
    pub fn send_digest_now(&mut self, business: &Business, id: i64, now: Timestamp) -> Result<trailmap_store::StoredDelivery> {
        let delivery = self.digest_now(business, id, now)?;
        self.queue_delivery(&delivery, now)?.ok_or_else(|| AppError::Invalid("the e-mail was not queued".into()))
    }

    /// Digest `id`'s e-mail for its last whole period, ready to queue (a read).
    pub fn digest_now(&self, business: &Business, id: i64, now: Timestamp) -> Result<NewDelivery> {
        let digest = self.digests(business)?.into_iter().find(|d| d.id == id).ok_or_else(|| AppError::NotFound(format!("{} has no digest {id}", business.name)))?;
        let period = digest.cadence.last_whole_period(crate::dashboard::today_in(business, now));
        self.report_email(business, Some(digest.cadence), period, &digest.recipients.join(","), now)
    }

    /// The digests due at `now` that were not queued yet, as deliveries ready to queue (a read:
    /// the server plans on a reader and queues on the writer). Their keys make queuing them twice
    /// a no-op.
    pub fn plan_digests(&self, now: Timestamp) -> Result<Vec<NewDelivery>> {
        let businesses = self.businesses()?;
        let mut planned = Vec::new();
        for stored in self.store().all_digests()? {
            let Some(business) = businesses.iter().find(|b| b.id == stored.business) else { continue };
            let digest = digest_of(stored)?;
            let today = crate::dashboard::today_in(business, now);
            let created = crate::dashboard::today_in(business, digest.created_at);
            let Some(period) = due_period(digest.cadence, created, today) else { continue };
            let key = format!("digest:{}:{}", digest.id, period.from);
            if self.store().delivery_key_used(&key)? {
                continue;
            }
            let email = self.digest_email(business, Some(digest.cadence), period, today)?;
            planned.push(email_delivery(business.id, Some(key), "digest", &digest.recipients.join(","), email)?);
        }
        Ok(planned)
    }
}

/// Checks a digest before it is saved: the cadence, each recipient's address, and that an SMTP
/// server is configured and answers (so a typo in an address or the server is an error now, not
/// a silent failure later).
pub fn check_digest(cadence: &str, recipients: &str, smtp: Option<&SmtpSettings>) -> Result<(Cadence, Vec<String>)> {
    let cadence = Cadence::parse("cadence", cadence)?;
    let recipients = parse_addresses("recipients", recipients)?;
    match smtp {
        Some(smtp) => smtp.check()?,
        None => {
            return Err(AppError::InvalidField {
                field: "smtp_url".into(),
                value: None,
                reason: "no SMTP server is configured to send digests: set TRAILMAP_SMTP_URL (or --smtp-url, or smtp-url in the config file)".into(),
            });
        }
    }
    Ok((cadence, recipients))
}

/// A queued e-mail of `email` to `recipients`.
pub fn email_delivery(business: BusinessId, key: Option<String>, kind: &str, recipients: &str, email: DigestEmail) -> Result<NewDelivery> {
    Ok(NewDelivery {
        business,
        key,
        kind: kind.to_string(),
        channel: "email".into(),
        target: recipients.to_string(),
        subject: email.subject,
        body: serde_json::to_string(&email.body).map_err(|e| AppError::Invalid(format!("the e-mail cannot be kept: {e}")))?,
        attachment: Some(email.pdf),
        secret: None,
    })
}

fn slug(name: &str) -> String {
    let slug: String = name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    slug.split('-').filter(|s| !s.is_empty()).collect::<Vec<_>>().join("-")
}

/// The digest's HTML and plain-text parts.
fn digest_parts(report: &Report, stale: &[String], branding: &Branding, subject: &str) -> (String, String) {
    let mut html = String::new();
    let mut text = String::new();
    html.push_str("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>");
    html.push_str(&escape(subject));
    html.push_str("</title></head><body style=\"font-family:sans-serif;max-width:40em\">");
    if let Some(logo) = &branding.logo {
        html.push_str(&format!("<p><img src=\"{}\" alt=\"{}\" height=\"48\"></p>", escape(logo), escape(branding.name.as_deref().unwrap_or("logo"))));
    }
    html.push_str(&format!("<h1>{}</h1>", escape(subject)));
    text.push_str(&format!("{subject}\n{}\n\n", "=".repeat(subject.chars().count().min(72))));
    let intro = format!(
        "{} to {} against {} to {}. n is the number of customers, orders or answers behind each figure.",
        report.period.from, report.period.to, report.previous.from, report.previous.to
    );
    html.push_str(&format!("<p>{}</p>", escape(&intro)));
    text.push_str(&format!("{intro}\n\nKEY NUMBERS\n"));

    html.push_str("<h2>Key numbers</h2><table><thead><tr><th align=\"left\">Metric</th><th align=\"right\">This period</th><th align=\"right\">Previous</th><th align=\"right\">Change</th><th align=\"right\">n (this / previous)</th></tr></thead><tbody>");
    for k in &report.key_numbers {
        let change = k.change_text.clone().unwrap_or_else(|| "–".into());
        let n = format!("{} / {} {}", k.metric.current.n, k.metric.previous.n, k.n_means);
        html.push_str(&format!(
            "<tr><td>{}</td><td align=\"right\">{}</td><td align=\"right\">{}</td><td align=\"right\">{}</td><td align=\"right\">{}</td></tr>",
            escape(k.metric.label),
            escape(&k.current_text),
            escape(&k.previous_text),
            escape(&change),
            escape(&n)
        ));
        text.push_str(&format!("- {}: {} (previous {}; {change}; n = {n})\n", k.metric.label, k.current_text, k.previous_text));
    }
    html.push_str("</tbody></table>");

    html.push_str("<h2>Changes and their verdicts</h2>");
    text.push_str("\nCHANGES AND THEIR VERDICTS\n");
    if report.changes.is_empty() {
        html.push_str(&format!("<p>No change is recorded on or before {}.</p>", report.period.to));
        text.push_str(&format!("No change is recorded on or before {}.\n", report.period.to));
    } else {
        html.push_str("<ul>");
        for c in report.changes.iter().take(5) {
            let verdict = c.impact.as_ref().map(|i| i.verdict.clone()).or_else(|| c.impact_note.clone()).unwrap_or_default();
            html.push_str(&format!("<li><strong>{} {}</strong>: {}</li>", c.change.date, escape(&c.change.title), escape(&verdict)));
            text.push_str(&format!("- {} {}: {verdict}\n", c.change.date, c.change.title));
        }
        html.push_str("</ul>");
    }

    html.push_str("<h2>Top insights</h2>");
    text.push_str("\nTOP INSIGHTS\n");
    match (&report.insights_note, report.insights.is_empty()) {
        (Some(note), _) => {
            html.push_str(&format!("<p>{}</p>", escape(note)));
            text.push_str(&format!("{note}\n"));
        }
        (None, true) => {
            html.push_str("<p>No findings for this period.</p>");
            text.push_str("No findings for this period.\n");
        }
        (None, false) => {
            html.push_str("<ol>");
            for f in report.insights.iter().take(3) {
                html.push_str(&format!("<li><strong>{}</strong> {} (n = {})</li>", escape(&f.title), escape(&f.detail), f.n));
                text.push_str(&format!("- {}: {} (n = {})\n", f.title, f.detail, f.n));
            }
            html.push_str("</ol>");
        }
    }

    html.push_str("<h2>Maps past their review date</h2>");
    text.push_str("\nMAPS PAST THEIR REVIEW DATE\n");
    if stale.is_empty() {
        html.push_str("<p>None: every map is within its review date.</p>");
        text.push_str("None: every map is within its review date.\n");
    } else {
        html.push_str("<ul>");
        for m in stale {
            html.push_str(&format!("<li>{}</li>", escape(m)));
            text.push_str(&format!("- {m}\n"));
        }
        html.push_str("</ul>");
    }
    let footer = match &branding.name {
        Some(name) => format!("Prepared by {name}. The full report is attached as a PDF."),
        None => "The full report is attached as a PDF.".to_string(),
    };
    html.push_str(&format!("<p>{}</p></body></html>", escape(&footer)));
    text.push_str(&format!("\n{footer}\n"));
    (html, text)
}
