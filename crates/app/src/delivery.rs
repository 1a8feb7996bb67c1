//! Sending what the outbox holds: e-mails over SMTP (lettre, rustls) and webhook calls (ureq,
//! rustls) signed with HMAC-SHA256, each attempt recorded, failures retried with a doubling wait.
//!
//! The work is split so a server can keep it off its request path: [`send`] makes one attempt
//! and touches no store (run it on any thread), [`App::record_attempt`] writes its outcome, and
//! [`App::send_due`] does both for every delivery due, for the CLI and the tests. "Now" is always
//! an argument.

use crate::{App, AppError, Result};
use hmac::{Hmac, Mac};
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{Message, SmtpTransport, Transport};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::time::Duration;
use trailmap_model::{BusinessId, Timestamp};
use trailmap_store::{DeliveryStore, NewDelivery, StoredDelivery};

/// Attempts before a delivery is given up (the first and five retries, over about 2.5 hours).
pub const MAX_ATTEMPTS: u32 = 6;

/// The wait after the first failed attempt; each later failure doubles it.
pub const FIRST_RETRY: Duration = Duration::from_secs(60);

/// How long one SMTP conversation or webhook call may take.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// The header carrying a webhook body's signature: `sha256=` and the hex HMAC-SHA256 of the body
/// under the rule's secret.
pub const SIGNATURE_HEADER: &str = "X-Trailmap-Signature";

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// Plain text (a relay on the same machine or network).
    None,
    /// STARTTLS required after connecting (port 587).
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
}

/// Where and how e-mail is sent: `smtp://[USER[:PASSWORD]@]HOST[:PORT][?tls=none|starttls|tls&from=ADDRESS]`
/// (`smtps://` for TLS from the first byte).
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    pub username: Option<String>,
    pub password: Option<String>,
    /// The sender of every e-mail.
    pub from: String,
}

impl std::fmt::Debug for SmtpSettings {
    // The password never reaches a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

/// The sender when the URL names none.
pub const DEFAULT_FROM: &str = "Trailmap <trailmap@localhost>";

impl SmtpSettings {
    /// Reads an SMTP URL; the error names what is wrong and shows the form.
    pub fn parse(text: &str) -> Result<SmtpSettings> {
        let wrong = |reason: String| AppError::InvalidField {
            field: "smtp_url".into(),
            value: None,
            reason: format!("{reason}; the form is smtp://[USER[:PASSWORD]@]HOST[:PORT][?tls=none|starttls|tls&from=ADDRESS]"),
        };
        let url = url::Url::parse(text.trim()).map_err(|e| wrong(format!("not a URL ({e})")))?;
        let mut tls = match url.scheme() {
            "smtp" => TlsMode::Starttls,
            "smtps" => TlsMode::Tls,
            other => return Err(wrong(format!("the scheme is {other:?}, not smtp or smtps"))),
        };
        let host = url.host_str().filter(|h| !h.is_empty()).ok_or_else(|| wrong("it names no host".into()))?.to_string();
        let mut from = DEFAULT_FROM.to_string();
        for (key, value) in url.query_pairs() {
            match key.as_ref() {
                "tls" => {
                    tls = match value.as_ref() {
                        "none" => TlsMode::None,
                        "starttls" => TlsMode::Starttls,
                        "tls" => TlsMode::Tls,
                        other => return Err(wrong(format!("tls={other:?} is not none, starttls or tls"))),
                    }
                }
                "from" => {
                    value.parse::<Mailbox>().map_err(|e| wrong(format!("from={value:?} is not an e-mail address ({e})")))?;
                    from = value.to_string();
                }
                other => return Err(wrong(format!("unknown setting {other:?}"))),
            }
        }
        let default_port = match tls {
            TlsMode::Tls => 465,
            TlsMode::Starttls => 587,
            TlsMode::None => 25,
        };
        let decode = |s: &str| url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes()).next().map(|(_, v)| v.to_string());
        let username = Some(url.username()).filter(|u| !u.is_empty()).and_then(decode);
        let password = url.password().and_then(decode);
        Ok(SmtpSettings { host, port: url.port().unwrap_or(default_port), tls, username, password, from })
    }

    /// The URL without its password, for messages and logs.
    pub fn shown(&self) -> String {
        let scheme = if self.tls == TlsMode::Tls { "smtps" } else { "smtp" };
        let user = self.username.as_ref().map(|u| format!("{u}@")).unwrap_or_default();
        format!("{scheme}://{user}{}:{}", self.host, self.port)
    }

    fn transport(&self) -> Result<SmtpTransport, String> {
        let parameters = || TlsParameters::new(self.host.clone()).map_err(|e| format!("TLS for {}: {e}", self.host));
        let tls = match self.tls {
            TlsMode::None => Tls::None,
            TlsMode::Starttls => Tls::Required(parameters()?),
            TlsMode::Tls => Tls::Wrapper(parameters()?),
        };
        let mut builder = SmtpTransport::builder_dangerous(&self.host).port(self.port).tls(tls).timeout(Some(SEND_TIMEOUT));
        if let (Some(user), Some(password)) = (&self.username, &self.password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(builder.build())
    }

    /// Connects and greets the server (and logs in, when credentials are given): what saving a
    /// digest checks, so an unreachable server is an error then and not a silent failure later.
    pub fn check(&self) -> Result<()> {
        let unreachable = |reason: String| AppError::InvalidField {
            field: "smtp_url".into(),
            value: Some(self.shown()),
            reason: format!("the SMTP server cannot be reached: {reason}"),
        };
        let transport = self.transport().map_err(unreachable)?;
        match transport.test_connection() {
            Ok(true) => Ok(()),
            Ok(false) => Err(unreachable("it did not answer as an SMTP server".into())),
            Err(e) => Err(unreachable(e.to_string())),
        }
    }
}

/// What sending needs besides the delivery itself.
#[derive(Debug, Clone, Default)]
pub struct DeliverySettings {
    /// None: e-mails wait (and fail with a clear reason) until a server is configured.
    pub smtp: Option<SmtpSettings>,
}

/// An e-mail's parts as the outbox keeps them (the PDF is kept apart, as the attachment).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailBody {
    pub html: String,
    pub text: String,
    /// The attachment's file name, when there is one.
    pub attachment_name: Option<String>,
}

/// Checks a list of e-mail addresses (commas, semicolons or spaces between them); the error names
/// `field` and the address that does not read.
pub fn parse_addresses(field: &str, text: &str) -> Result<Vec<String>> {
    let addresses: Vec<String> = text.split([',', ';', ' ', '\n']).map(str::trim).filter(|a| !a.is_empty()).map(str::to_string).collect();
    if addresses.is_empty() {
        return Err(AppError::InvalidField { field: field.into(), value: Some(text.to_string()), reason: "give at least one e-mail address".into() });
    }
    for address in &addresses {
        address.parse::<lettre::Address>().map_err(|e| AppError::InvalidField {
            field: field.into(),
            value: Some(address.clone()),
            reason: format!("not an e-mail address ({e})"),
        })?;
    }
    Ok(addresses)
}

/// Checks a webhook's URL: http or https with a host.
pub fn check_webhook_url(field: &str, text: &str) -> Result<String> {
    let wrong = |reason: String| AppError::InvalidField { field: field.into(), value: Some(text.to_string()), reason };
    let url = url::Url::parse(text.trim()).map_err(|e| wrong(format!("not a URL ({e}); a webhook is an http:// or https:// address")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(wrong(format!("the scheme is {:?}; a webhook is an http:// or https:// address", url.scheme())));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(wrong("it names no host".into()));
    }
    Ok(url.to_string())
}

/// The hex HMAC-SHA256 of `body` under `secret`, as the signature header carries it after `sha256=`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else { return String::new() };
    mac.update(body);
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// The wait before attempt `attempts + 1` after `attempts` failed ones; None once they are used up.
pub fn retry_after(attempts: u32) -> Option<Duration> {
    (attempts < MAX_ATTEMPTS).then(|| FIRST_RETRY * 2u32.saturating_pow(attempts.saturating_sub(1)))
}

/// Makes one attempt at `delivery`; Err holds the reason in words. Touches no store.
pub fn send(delivery: &StoredDelivery, settings: &DeliverySettings) -> std::result::Result<(), String> {
    match delivery.channel.as_str() {
        "email" => send_email(delivery, settings),
        "webhook" => send_webhook(delivery),
        other => Err(format!("unknown channel {other:?}")),
    }
}

fn send_email(delivery: &StoredDelivery, settings: &DeliverySettings) -> std::result::Result<(), String> {
    let smtp = settings.smtp.as_ref().ok_or("no SMTP server is configured (TRAILMAP_SMTP_URL, --smtp-url or smtp-url in the config file)")?;
    let body: EmailBody = serde_json::from_str(&delivery.body).map_err(|e| format!("the stored e-mail does not read: {e}"))?;
    let from: Mailbox = smtp.from.parse().map_err(|e| format!("the sender {:?}: {e}", smtp.from))?;
    let mut builder = Message::builder().from(from).subject(delivery.subject.clone());
    for address in parse_addresses("to", &delivery.target).map_err(|e| e.to_string())? {
        builder = builder.to(address.parse().map_err(|e| format!("{address}: {e}"))?);
    }
    let alternative = MultiPart::alternative_plain_html(body.text, body.html);
    let message = match (&delivery.attachment, &body.attachment_name) {
        (Some(bytes), Some(name)) => builder.multipart(
            MultiPart::mixed()
                .multipart(alternative)
                .singlepart(Attachment::new(name.clone()).body(bytes.clone(), ContentType::parse("application/pdf").map_err(|e| e.to_string())?)),
        ),
        _ => builder.multipart(alternative),
    }
    .map_err(|e| format!("the e-mail cannot be built: {e}"))?;
    smtp.transport()?.send(&message).map(|_| ()).map_err(|e| format!("{}: {e}", smtp.shown()))
}

fn send_webhook(delivery: &StoredDelivery) -> std::result::Result<(), String> {
    let agent: ureq::Agent = ureq::Agent::config_builder().timeout_global(Some(SEND_TIMEOUT)).http_status_as_error(false).build().into();
    let mut request = agent
        .post(&delivery.target)
        .header("Content-Type", "application/json")
        .header("User-Agent", "Trailmap-Webhook/1")
        .header("X-Trailmap-Delivery", &delivery.id.to_string());
    if let Some(secret) = &delivery.secret {
        request = request.header(SIGNATURE_HEADER, &format!("sha256={}", signature(secret, delivery.body.as_bytes())));
    }
    let response = request.send(delivery.body.as_bytes()).map_err(|e| format!("{}: {e}", delivery.target))?;
    let status = response.status();
    if status.is_success() { Ok(()) } else { Err(format!("{} answered {status}", delivery.target)) }
}

impl App {
    /// Queues a delivery due at once; None when one with the same key was queued before.
    pub fn queue_delivery(&mut self, delivery: &NewDelivery, now: Timestamp) -> Result<Option<StoredDelivery>> {
        Ok(self.store_mut().queue_delivery(delivery, now)?)
    }

    /// The pending deliveries due at `now`, oldest first.
    pub fn due_deliveries(&self, now: Timestamp) -> Result<Vec<StoredDelivery>> {
        Ok(self.store().due_deliveries(now, 100)?)
    }

    /// The business's send log, newest first (attachments left out).
    pub fn delivery_log(&self, business: BusinessId, limit: u32) -> Result<Vec<StoredDelivery>> {
        Ok(self.store().deliveries(business, limit)?)
    }

    /// Records the outcome of an attempt made at `now`: sent, or failed and due again after the
    /// backoff (given up after [`MAX_ATTEMPTS`]).
    pub fn record_attempt(&mut self, delivery: &StoredDelivery, outcome: std::result::Result<(), String>, now: Timestamp) -> Result<StoredDelivery> {
        let stored = match outcome {
            Ok(()) => self.store_mut().record_attempt(delivery.id, Ok(()), now)?,
            Err(error) => {
                let retry = retry_after(delivery.attempts + 1).map(|wait| Timestamp(now.0 + wait.as_millis() as i64));
                self.store_mut().record_attempt(delivery.id, Err((&error, retry)), now)?
            }
        };
        Ok(stored)
    }

    /// Makes one attempt at each delivery due at `now` and records it: what the server's
    /// delivery task does off the request path, in one call for the CLI and the tests.
    pub fn send_due(&mut self, now: Timestamp, settings: &DeliverySettings) -> Result<Vec<StoredDelivery>> {
        let due = self.due_deliveries(now)?;
        due.iter().map(|d| self.record_attempt(d, send(d, settings), now)).collect()
    }

    /// Makes one attempt at delivery `id` now, whatever its schedule, and records it.
    pub fn send_delivery_now(&mut self, id: i64, now: Timestamp, settings: &DeliverySettings) -> Result<StoredDelivery> {
        let delivery = self.store().delivery(id)?.ok_or_else(|| AppError::NotFound(format!("delivery {id} does not exist")))?;
        self.record_attempt(&delivery, send(&delivery, settings), now)
    }
}
