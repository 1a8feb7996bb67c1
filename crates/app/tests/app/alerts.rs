//! Digests and alerts through the app, with real receivers: the schedule as a pure function of
//! the clock, alert rules judged by the impact's tests and fired once per period, webhooks signed
//! and retried with backoff against a local receiver, digests e-mailed to a local SMTP sink
//! (aiosmtpd) with the numbers and the PDF attached, and bad input refused when saved.

use chrono::NaiveDate;
use std::time::Duration;
use trailmap_app::alerts::NewAlertRule;
use trailmap_app::delivery::{self, DeliverySettings, SmtpSettings};
use trailmap_app::digests::{Cadence, due_period};
use trailmap_app::{App, AppError, DayRange};
use trailmap_model::{Business, Timestamp};
use trailmap_testkit::sinks::{SmtpSink, WebhookReceiver};

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn at(text: &str) -> Timestamp {
    Timestamp(chrono::DateTime::parse_from_rfc3339(text).unwrap().timestamp_millis())
}

/// A shop whose new customers jump from 2 in the week of 2026-10-05 to 30 in the week of
/// 2026-10-12, each arriving with a page view (and half of the later ones buying).
fn shop() -> (App, Business) {
    let mut fixture = String::new();
    for (i, date) in ["2026-10-06", "2026-10-08"].iter().enumerate() {
        fixture.push_str(&format!("customer before{i}\n  {date} 10:00:00 page_view\n"));
    }
    for i in 0..30 {
        let date = day("2026-10-12") + chrono::Duration::days(i % 7);
        fixture.push_str(&format!("customer after{i}\n  {date} 10:00:00 page_view\n"));
        if i % 2 == 0 {
            fixture.push_str(&format!("  {date} 11:00:00 purchase\n"));
        }
    }
    let mut app = App::in_memory().unwrap();
    let business = app.create_business("Corner Shop", "USD", "UTC").unwrap();
    app.write_fixture(&trailmap_testkit::journeys(&fixture).unwrap(), &business).unwrap();
    (app, business)
}

fn rule(kpi: &str, when: &str, channel: &str, target: &str) -> NewAlertRule {
    NewAlertRule { kpi: kpi.into(), cadence: "weekly".into(), when: when.into(), channel: channel.into(), target: target.into() }
}

#[test]
fn the_period_due_is_a_pure_function_of_the_clock() {
    // Weeks run Monday to Sunday: on any day of the week of 10-19, the week of 10-12 is due.
    for today in ["2026-10-19", "2026-10-22", "2026-10-25"] {
        assert_eq!(Cadence::Weekly.last_whole_period(day(today)), DayRange { from: day("2026-10-12"), to: day("2026-10-18") }, "{today}");
    }
    assert_eq!(Cadence::Monthly.last_whole_period(day("2026-11-01")), DayRange { from: day("2026-10-01"), to: day("2026-10-31") });
    assert_eq!(Cadence::Monthly.last_whole_period(day("2026-03-15")), DayRange { from: day("2026-02-01"), to: day("2026-02-28") });
    assert_eq!(Cadence::Monthly.previous(DayRange { from: day("2026-10-01"), to: day("2026-10-31") }).from, day("2026-09-01"));
    // A digest made on 10-20 is first due for the week ending 10-25, on 10-26.
    assert_eq!(due_period(Cadence::Weekly, day("2026-10-20"), day("2026-10-25")), None);
    assert_eq!(due_period(Cadence::Weekly, day("2026-10-20"), day("2026-10-26")), Some(DayRange { from: day("2026-10-19"), to: day("2026-10-25") }));
    // Made on the last day of a month, that month is due the next day.
    assert_eq!(due_period(Cadence::Monthly, day("2026-10-31"), day("2026-11-01")).map(|p| p.from), Some(day("2026-10-01")));
}

#[test]
fn a_significant_rise_fires_once_per_period_and_is_signed_to_the_webhook() {
    let (mut app, business) = shop();
    let hook = WebhookReceiver::start(&[]).unwrap();
    let made = app.add_alert_rule(&business, &rule("new-customers", "rise", "webhook", &hook.url()), at("2026-10-14T09:00:00Z")).unwrap();
    let secret = made.secret.clone().expect("a webhook rule gets its secret once");
    assert!(app.alert_rules(&business).unwrap()[0].secret.is_none(), "never shown again");
    let settings = DeliverySettings::default();

    // Judged directly: 2 new customers over 7 days, then 30: exact Poisson rates, significant.
    let check = app.check_alert(&business, made.id, None, at("2026-10-19T08:00:00Z")).unwrap();
    assert_eq!((check.period.from, check.previous.from), (day("2026-10-12"), day("2026-10-05")));
    assert_eq!((check.comparison.previous.n, check.comparison.current.n), (2, 30));
    assert!(check.comparison.significant && check.fires, "{}", check.reason);
    assert!(check.reason.contains("n ="), "the verdict gives n: {}", check.reason);

    // The delivery task's pass on Monday morning fires it and posts it, signed.
    let run = app.run_deliveries(at("2026-10-19T08:00:00Z"), &settings).unwrap();
    assert_eq!((run.fired.len(), run.attempted.len()), (1, 1));
    let request = hook.next(Duration::from_secs(10)).expect("the webhook was called");
    assert_eq!((request.method.as_str(), request.path.as_str()), ("POST", "/hook"));
    let expected = format!("sha256={}", delivery::signature(&secret, &request.body));
    assert_eq!(request.header("x-trailmap-signature"), Some(expected.as_str()));
    assert_ne!(delivery::signature("another secret", &request.body), delivery::signature(&secret, &request.body));
    let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(body["event"], "alert.fired");
    assert_eq!((body["n"].as_u64(), body["previous_n"].as_u64()), (Some(30), Some(2)));
    assert_eq!(body["period"]["from"], "2026-10-12");
    assert!(body["p_value"].as_f64().unwrap() < 0.05);

    // Later the same week, and again with the data unchanged: it does not fire again.
    for later in ["2026-10-19T18:00:00Z", "2026-10-23T08:00:00Z"] {
        let again = app.run_deliveries(at(later), &settings).unwrap();
        assert!(again.fired.is_empty() && again.attempted.is_empty(), "{later}: {again:?}");
    }
    assert!(hook.drain().is_empty());
    let fired = app.alert_firings(&business, 10).unwrap();
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].period, "2026-10-12..2026-10-18");
    let log = app.delivery_log(business.id, 10).unwrap();
    assert_eq!((log.len(), log[0].status.as_str(), log[0].attempts), (1, "sent", 1));

    // The next week has no new customer: a drop, which a "rise" rule does not fire on.
    let next = app.check_alert(&business, made.id, None, at("2026-10-26T08:00:00Z")).unwrap();
    assert!(next.comparison.significant && !next.fires, "{}", next.reason);
}

#[test]
fn a_threshold_fires_when_it_is_crossed_not_while_the_value_stays_beyond_it() {
    let (mut app, business) = shop();
    let hook = WebhookReceiver::start(&[]).unwrap();
    // New customers per day: 2/7 before, 30/7 after: above 1 a day is crossed in the week of 10-12.
    let made = app.add_alert_rule(&business, &rule("new-customers", "above:1", "webhook", &hook.url()), at("2026-10-01T09:00:00Z")).unwrap();
    let crossed = app.check_alert(&business, made.id, Some(DayRange { from: day("2026-10-12"), to: day("2026-10-18") }), at("2026-10-19T08:00:00Z")).unwrap();
    assert!(crossed.fires, "{}", crossed.reason);
    assert!(crossed.reason.contains("4.29 a day") && crossed.reason.contains("n = 30 now, 2 before"), "{}", crossed.reason);
    let below = app.check_alert(&business, made.id, Some(DayRange { from: day("2026-10-05"), to: day("2026-10-11") }), at("2026-10-19T08:00:00Z")).unwrap();
    assert!(!below.fires, "{}", below.reason);
    // Once as a whole: the rule made on 10-01 is judged each week; only the crossing fires.
    let mut fired = 0;
    for monday in ["2026-10-12", "2026-10-19", "2026-10-26"] {
        fired += app.run_deliveries(at(&format!("{monday}T07:00:00Z")), &DeliverySettings::default()).unwrap().fired.len();
    }
    assert_eq!(fired, 1);
    assert_eq!(hook.drain().len(), 1);
}

#[test]
fn a_failing_webhook_is_retried_with_a_doubling_wait_then_given_up() {
    let (mut app, business) = shop();
    // Five failures, then success: the sixth attempt (the last allowed) goes through.
    let hook = WebhookReceiver::start(&[500, 500, 503, 500, 500]).unwrap();
    let made = app.add_alert_rule(&business, &rule("new-customers", "significant", "webhook", &hook.url()), at("2026-10-14T09:00:00Z")).unwrap();
    let settings = DeliverySettings::default();
    let start = at("2026-10-19T08:00:00Z");
    app.run_deliveries(start, &settings).unwrap();
    let log = app.delivery_log(business.id, 1).unwrap();
    assert_eq!((log[0].status.as_str(), log[0].attempts), ("pending", 1));
    assert!(log[0].last_error.as_deref().unwrap().contains("500"), "{:?}", log[0].last_error);
    // Waits of 1, 2, 4, 8 and 16 minutes: nothing is tried before each is over.
    let mut now = start.0;
    for wait_minutes in [1, 2, 4, 8, 16] {
        let early = app.send_due(Timestamp(now + (wait_minutes * 60 - 1) * 1000), &settings).unwrap();
        assert!(early.is_empty(), "tried before its wait of {wait_minutes} min was over");
        now += wait_minutes * 60 * 1000;
        let tried = app.send_due(Timestamp(now), &settings).unwrap();
        assert_eq!(tried.len(), 1, "after {wait_minutes} min");
    }
    let last = &app.delivery_log(business.id, 1).unwrap()[0];
    assert_eq!((last.status.as_str(), last.attempts, last.last_error.as_deref()), ("sent", 6, None));
    assert_eq!(hook.drain().len(), 6, "every attempt reached the receiver");
    assert_eq!(app.alert_firings(&business, 10).unwrap().len(), 1, "one firing however many attempts");
    let _ = made;

    // A receiver that never takes it: given up after the sixth attempt, with its reason kept.
    let refusing = WebhookReceiver::start(&[500; 10]).unwrap();
    let test = app.add_alert_rule(&business, &rule("new-customers", "significant", "webhook", &refusing.url()), at("2026-10-14T09:00:00Z")).unwrap();
    let (_, queued) = app.test_alert(&business, test.id, start).unwrap();
    let mut when = start.0;
    for _ in 0..delivery::MAX_ATTEMPTS {
        when += 3_600_000 * 24;
        app.send_due(Timestamp(when), &settings).unwrap();
    }
    let given_up = app.delivery_log(business.id, 10).unwrap().into_iter().find(|d| d.id == queued.id).unwrap();
    assert_eq!((given_up.status.as_str(), given_up.attempts, given_up.next_attempt_at), ("failed", delivery::MAX_ATTEMPTS, None));
    assert!(given_up.last_error.unwrap().contains("500"));
}

#[test]
fn a_digest_reaches_the_smtp_sink_with_its_numbers_and_the_pdf_once_per_period() {
    let folder = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start(folder.path()).unwrap_or_else(|e| panic!("{e}"));
    let (mut app, business) = shop();
    app.set_branding("North Star Agency", None).unwrap();
    let smtp = SmtpSettings::parse(&sink.url()).unwrap();
    let digest = app.add_digest(&business, "weekly", "owner@corner.test, partner@corner.test", Some(&smtp), at("2026-10-12T09:00:00Z")).unwrap();
    assert_eq!(digest.recipients, ["owner@corner.test", "partner@corner.test"]);
    let settings = DeliverySettings { smtp: Some(smtp) };

    // Before the week is over nothing is due; on Monday it is queued and sent, once.
    assert!(app.run_deliveries(at("2026-10-18T20:00:00Z"), &settings).unwrap().queued.is_empty());
    let run = app.run_deliveries(at("2026-10-19T06:00:00Z"), &settings).unwrap();
    assert_eq!((run.queued.len(), run.attempted.len()), (1, 1));
    assert!(app.run_deliveries(at("2026-10-19T07:00:00Z"), &settings).unwrap().queued.is_empty());

    let messages = sink.messages();
    assert_eq!(messages.len(), 1);
    let m = &messages[0];
    assert_eq!(m["subject"], "North Star Agency · Corner Shop: weekly digest, 2026-10-12 to 2026-10-18");
    assert_eq!(m["from"], "reports@trailmap.test");
    assert_eq!(m["to"], "owner@corner.test, partner@corner.test");
    let text = m["text"].as_str().unwrap();
    let html = m["html"].as_str().unwrap();
    // The key numbers against the week before, each with its n: 30 new customers against 2.
    assert!(text.contains("- New customers: 30 (previous 2;"), "{text}");
    assert!(text.contains("n = 30 / 2 customers"), "{text}");
    for section in ["KEY NUMBERS", "CHANGES AND THEIR VERDICTS", "TOP INSIGHTS", "MAPS PAST THEIR REVIEW DATE", "Prepared by North Star Agency"] {
        assert!(text.contains(section), "{section} in {text}");
    }
    assert!(html.contains("<h2>Key numbers</h2>") && html.contains("30 / 2 customers"), "{html}");
    let attachments = m["attachments"].as_array().unwrap();
    assert_eq!(attachments.len(), 1);
    assert_eq!(attachments[0]["name"], "corner-shop-report-2026-10-12-2026-10-18.pdf");
    assert_eq!(attachments[0]["content_type"], "application/pdf");
    let pdf = std::fs::read(attachments[0]["path"].as_str().unwrap()).unwrap();
    assert!(pdf.starts_with(b"%PDF-") && pdf.windows(5).any(|w| w == b"%%EOF"), "a whole PDF file");
    let pages = pdf.windows(10).filter(|w| *w == b"/Type /Pag" || *w == b"/Type/Page").count();
    assert!(pages >= 1, "the PDF has pages");

    // "Send now" queues it again for the same period, whatever the schedule.
    let queued = app.send_digest_now(&business, digest.id, at("2026-10-20T10:00:00Z")).unwrap();
    let sent = app.send_delivery_now(queued.id, at("2026-10-20T10:00:00Z"), &settings).unwrap();
    assert_eq!(sent.status, "sent");
    assert_eq!(sink.messages().len(), 2);
}

#[test]
fn an_email_with_no_reachable_server_waits_and_says_why() {
    let (mut app, business) = shop();
    let period = DayRange { from: day("2026-10-12"), to: day("2026-10-18") };
    let queued = app.queue_report_email(&business, None, period, "owner@corner.test", at("2026-10-19T06:00:00Z")).unwrap();
    // No server configured: the e-mail stays queued with the reason.
    let none = app.send_delivery_now(queued.id, at("2026-10-19T06:00:00Z"), &DeliverySettings::default()).unwrap();
    assert_eq!(none.status, "pending");
    assert!(none.last_error.unwrap().contains("no SMTP server is configured"));
    // A server nobody listens on: refused, retried later.
    let port = trailmap_testkit::sinks::free_port().unwrap();
    let dead = DeliverySettings { smtp: Some(SmtpSettings::parse(&format!("smtp://127.0.0.1:{port}?tls=none")).unwrap()) };
    let failed = app.send_delivery_now(queued.id, at("2026-10-19T06:01:00Z"), &dead).unwrap();
    assert_eq!((failed.status.as_str(), failed.attempts), ("pending", 2));
    assert!(failed.last_error.unwrap().contains(&format!("127.0.0.1:{port}")));
}

fn field_of(error: AppError) -> (String, String) {
    match error {
        AppError::InvalidField { field, reason, .. } => (field, reason),
        other => panic!("expected a field error, got {other:?}"),
    }
}

#[test]
fn bad_input_is_refused_when_saved_with_the_field_and_the_reason() {
    let (mut app, business) = shop();
    let now = at("2026-10-14T09:00:00Z");
    let port = trailmap_testkit::sinks::free_port().unwrap();
    let dead = SmtpSettings::parse(&format!("smtp://127.0.0.1:{port}?tls=none")).unwrap();
    let (field, reason) = field_of(app.add_digest(&business, "weekly", "owner@corner.test", Some(&dead), now).unwrap_err());
    assert_eq!(field, "smtp_url");
    assert!(reason.contains("cannot be reached"), "{reason}");
    let (field, reason) = field_of(app.add_digest(&business, "weekly", "owner@corner.test, not-an-address", Some(&dead), now).unwrap_err());
    assert_eq!(field, "recipients");
    assert!(reason.contains("not an e-mail address"), "{reason}");
    assert_eq!(field_of(app.add_digest(&business, "daily", "owner@corner.test", Some(&dead), now).unwrap_err()).0, "cadence");
    assert_eq!(field_of(app.add_digest(&business, "weekly", "owner@corner.test", None, now).unwrap_err()).0, "smtp_url");
    assert!(app.digests(&business).unwrap().is_empty(), "nothing saved");

    let (field, reason) = field_of(app.add_alert_rule(&business, &rule("new-customers", "significant", "webhook", "ftp://hooks.example/x"), now).unwrap_err());
    assert_eq!(field, "target");
    assert!(reason.contains("http:// or https://"), "{reason}");
    assert_eq!(field_of(app.add_alert_rule(&business, &rule("new-customers", "significant", "email", "nobody"), now).unwrap_err()).0, "target");
    let (field, reason) = field_of(app.add_alert_rule(&business, &rule("revenue-ish", "significant", "email", "a@b.test"), now).unwrap_err());
    assert_eq!(field, "kpi");
    assert!(reason.contains("volume:TOUCHPOINT"), "the forms are listed: {reason}");
    let (field, reason) = field_of(app.add_alert_rule(&business, &rule("volume:Nowhere", "significant", "email", "a@b.test"), now).unwrap_err());
    assert_eq!(field, "kpi", "{reason}");
    assert_eq!(field_of(app.add_alert_rule(&business, &rule("nps", "sideways", "email", "a@b.test"), now).unwrap_err()).0, "when");
    assert_eq!(field_of(app.add_alert_rule(&business, &rule("nps", "below:lots", "email", "a@b.test"), now).unwrap_err()).0, "when");
    assert_eq!(field_of(app.add_alert_rule(&business, &rule("nps", "significant", "pigeon", "a@b.test"), now).unwrap_err()).0, "channel");
    assert!(app.alert_rules(&business).unwrap().is_empty(), "nothing saved");
    let (field, reason) = field_of(SmtpSettings::parse("imap://mail.example").unwrap_err());
    assert_eq!(field, "smtp_url");
    assert!(reason.contains("not smtp or smtps"), "{reason}");
}

#[test]
fn the_portfolio_lists_each_business_with_its_numbers_and_sorts() {
    let (mut app, corner) = shop();
    let quiet = app.create_business("Quiet Cafe", "EUR", "Europe/Paris").unwrap();
    let businesses = vec![corner.clone(), quiet.clone()];
    let now = at("2026-10-20T12:00:00Z");
    let by_name = app.portfolio(&businesses, trailmap_app::portfolio::PortfolioSort::Name, now).unwrap();
    assert_eq!(by_name.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["Corner Shop", "Quiet Cafe"]);
    let corner_row = &by_name[0];
    let new = corner_row.metric("new_customers").unwrap();
    assert_eq!(new.current.n, 32, "every customer of the shop is new in its default period");
    let by_new = app.portfolio(&businesses, trailmap_app::portfolio::PortfolioSort::NewCustomers, now).unwrap();
    assert_eq!(by_new[0].name, "Corner Shop");
    assert!(trailmap_app::portfolio::PortfolioSort::parse("height").is_err());
}
