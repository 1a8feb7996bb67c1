//! The report, digests, alerts and the portfolio through HTTP: the report page and its PDF, the
//! API's report in JSON and PDF, alert rules and digests made through the API with their bad
//! input refused (400 naming the field), the delivery task's pass at a given instant posting a
//! signed webhook to a local receiver and a digest to the local SMTP sink, the send log, and the
//! pages in headless Chromium (report and portfolio screenshots).

use super::*;
use std::time::Duration;
use trailmap_testkit::sinks::{SmtpSink, WebhookReceiver};

/// New customers: 2 in the week of 2026-10-05, 12 in the week of 2026-10-12 (half of them buying).
fn shop_fixture() -> String {
    let mut fixture = String::new();
    for (i, date) in ["2026-10-06", "2026-10-08"].iter().enumerate() {
        fixture.push_str(&format!("customer before{i}\n  {date} 10:00:00 page_view\n"));
    }
    for i in 0..12 {
        let date = chrono::NaiveDate::from_ymd_opt(2026, 10, 12).unwrap() + chrono::Duration::days(i % 7);
        fixture.push_str(&format!("customer after{i}\n  {date} 10:00:00 page_view\n"));
        if i % 2 == 0 {
            fixture.push_str(&format!("  {date} 11:00:00 purchase\n"));
        }
    }
    fixture
}

/// A server state of its own (so the test can run the delivery task's pass), with the owner's
/// session and the shop's data.
fn reports_world(smtp: Option<&SmtpSink>) -> (ServerState, Router, Actor, trailmap_model::Business) {
    let mut app = App::in_memory().unwrap();
    let now = Timestamp::from_millis(wall_clock());
    let owner = actor(&mut app, "olive@example.com", "Olive Owner", now);
    let shop = app.create_business_owned(owner.user.id, "Corner Shop", "USD", "UTC").unwrap();
    app.create_business_owned(owner.user.id, "Quiet Cafe", "EUR", "Europe/Paris").unwrap();
    app.write_fixture(&trailmap_testkit::journeys(&shop_fixture()).unwrap(), &shop).unwrap();
    let (tracker, _writer) = Writer::start(app);
    let smtp = smtp.map(|s| trailmap_app::delivery::SmtpSettings::parse(&s.url()).unwrap());
    let state = ServerState::new(tracker, ":memory:".into()).with_smtp(smtp);
    (state.clone(), router(state), owner, shop)
}

/// The report routes whose access the access world cannot check (they need an SMTP server, or a
/// digest or rule to name), checked by `the_rest_of_the_routes_hide_the_business_and_refuse_viewers`.
pub fn api_routes() -> Vec<(String, String)> {
    [
        ("POST", "/api/businesses/{business_id}/digests"),
        ("DELETE", "/api/businesses/{business_id}/digests/{digest_id}"),
        ("POST", "/api/businesses/{business_id}/digests/{digest_id}/send"),
        ("DELETE", "/api/businesses/{business_id}/alerts/{alert_id}"),
        ("POST", "/api/businesses/{business_id}/alerts/{alert_id}/test"),
        ("GET", "/api/portfolio"),
    ]
    .iter()
    .map(|(m, p)| (m.to_string(), p.to_string()))
    .collect()
}

#[tokio::test]
async fn the_rest_of_the_routes_hide_the_business_and_refuse_viewers() {
    let folder = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start(folder.path()).unwrap_or_else(|e| panic!("{e}"));
    let (state, router, owner, shop) = reports_world(Some(&sink));
    let b = shop.id;
    let (viewer, outsider) = state
        .write(move |app| {
            let now = Timestamp::from_millis(wall_clock());
            let viewer = actor(app, "vic@example.com", "Vic Viewer", now);
            app.set_member(b, viewer.user.id, Role::Viewer).unwrap();
            (viewer, actor(app, "otto@example.com", "Otto Outsider", now))
        })
        .await
        .unwrap();
    let digest = api(&router, Some(&owner), "POST", &format!("/api/businesses/{b}/digests"), Some(json!({"cadence": "monthly", "recipients": "o@corner.test"}))).await.json()["id"].clone();
    let rule = api(&router, Some(&owner), "POST", &format!("/api/businesses/{b}/alerts"), Some(json!({"kpi": "nps", "target": "o@corner.test"}))).await.json()["id"].clone();
    let writes = [
        ("POST", format!("/api/businesses/{b}/digests"), Some(json!({"cadence": "weekly", "recipients": "v@corner.test"}))),
        ("POST", format!("/api/businesses/{b}/digests/{digest}/send"), None),
        ("POST", format!("/api/businesses/{b}/alerts/{rule}/test"), None),
        ("DELETE", format!("/api/businesses/{b}/digests/{digest}"), None),
        ("DELETE", format!("/api/businesses/{b}/alerts/{rule}"), None),
    ];
    for (method, path, body) in &writes {
        let hidden = api(&router, Some(&outsider), method, path, body.clone()).await;
        assert_eq!((hidden.status, hidden.code().as_str()), (StatusCode::NOT_FOUND, "not_found"), "{method} {path}");
        let refused = api(&router, Some(&viewer), method, path, body.clone()).await;
        assert_eq!((refused.status, refused.code().as_str()), (StatusCode::FORBIDDEN, "forbidden"), "{method} {path}");
    }
    for (method, path, body) in &writes {
        let done = api(&router, Some(&owner), method, path, body.clone()).await;
        assert!(done.status.is_success(), "{method} {path}: {} {}", done.status, done.text);
    }
    // The outsider's portfolio has only their own business.
    let theirs = api(&router, Some(&outsider), "GET", "/api/portfolio", None).await.json();
    assert_eq!(theirs, json!([]));
}

fn at(text: &str) -> Timestamp {
    Timestamp(chrono::DateTime::parse_from_rfc3339(text).unwrap().timestamp_millis())
}

#[tokio::test]
async fn the_report_reads_in_the_page_and_downloads_as_pdf() {
    let (_, router, owner, shop) = reports_world(None);
    let b = shop.id;
    let shown = page(&router, Some(&owner), "GET", &format!("/b/{b}/report?period=2026-10"), &[]).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.text);
    assert!(shown.text.contains("Corner Shop: report for 2026-10-01 to 2026-10-31"), "{}", shown.text);
    assert!(shown.text.contains("Key numbers") && shown.text.contains("Changes and their impact"));
    assert!(shown.text.contains("14 / 0 customers"), "new customers with their n against September: {}", shown.text);
    let pdf = page(&router, Some(&owner), "GET", &format!("/b/{b}/report.pdf?period=2026-10"), &[]).await;
    assert_eq!(pdf.status, StatusCode::OK);
    assert_eq!(pdf.headers["content-type"], "application/pdf");
    assert!(pdf.headers["content-disposition"].to_str().unwrap().contains("corner-shop-report-2026-10-01-2026-10-31.pdf"));
    let data = api(&router, Some(&owner), "GET", &format!("/api/businesses/{b}/report?period=2026-10"), None).await.json();
    let new = data["key_numbers"].as_array().unwrap().iter().find(|k| k["key"] == "new_customers").unwrap().clone();
    assert_eq!((new["current"]["n"].as_u64(), new["previous"]["n"].as_u64()), (Some(14), Some(0)), "{new}");
    let bad = api(&router, Some(&owner), "GET", &format!("/api/businesses/{b}/report?period=October"), None).await;
    assert_eq!((bad.status, bad.code().as_str()), (StatusCode::BAD_REQUEST, "invalid_input"));
    assert!(bad.text.contains("period"), "{}", bad.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_and_digests_made_through_the_api_are_delivered_by_the_task() {
    let folder = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start(folder.path()).unwrap_or_else(|e| panic!("{e}"));
    let hook = WebhookReceiver::start(&[]).unwrap();
    let (state, router, owner, shop) = reports_world(Some(&sink));
    let b = shop.id;

    // Bad input: refused when saved, naming the field.
    let ftp = api(&router, Some(&owner), "POST", &format!("/api/businesses/{b}/alerts"), Some(json!({"kpi": "new-customers", "channel": "webhook", "target": "ftp://hooks.example/x"}))).await;
    assert_eq!((ftp.status, ftp.code().as_str()), (StatusCode::BAD_REQUEST, "invalid_input"));
    assert!(ftp.text.contains("target") && ftp.text.contains("http:// or https://"), "{}", ftp.text);
    let address = api(&router, Some(&owner), "POST", &format!("/api/businesses/{b}/digests"), Some(json!({"cadence": "weekly", "recipients": "owner@corner.test, nobody"}))).await;
    assert_eq!(address.status, StatusCode::BAD_REQUEST);
    assert!(address.text.contains("recipients") && address.text.contains("not an e-mail address"), "{}", address.text);

    let rule = api(&router, Some(&owner), "POST", &format!("/api/businesses/{b}/alerts"), Some(json!({"kpi": "new-customers", "when": "significant", "channel": "webhook", "target": hook.url()}))).await;
    assert_eq!(rule.status, StatusCode::CREATED, "{}", rule.text);
    let secret = rule.json()["secret"].as_str().unwrap().to_string();
    let digest = api(&router, Some(&owner), "POST", &format!("/api/businesses/{b}/digests"), Some(json!({"cadence": "weekly", "recipients": "owner@corner.test"}))).await;
    assert_eq!(digest.status, StatusCode::CREATED, "{}", digest.text);
    let listed = api(&router, Some(&owner), "GET", &format!("/api/businesses/{b}/alerts"), None).await.json();
    assert!(listed[0].get("secret").is_none(), "the secret is shown once: {listed}");

    // The rules and digests were made now; the task's pass a week on finds the next week due.
    // Driven with the clock as an argument: the fixture's weeks are judged as they would be then.
    let made = auth_now();
    let monday = next_monday(made);
    let run = trailmap_server::delivery::deliver_once(&state, monday, true).await.unwrap();
    assert_eq!(run.queued.len(), 1, "the digest: {run:?}");
    let request = hook.drain();
    let messages = sink.messages();
    assert_eq!(messages.len(), 1);
    assert!(messages[0]["subject"].as_str().unwrap().starts_with("Corner Shop: weekly digest"), "{}", messages[0]["subject"]);
    assert_eq!(messages[0]["attachments"][0]["content_type"], "application/pdf");
    // The rule's week holds no data (the fixture is in October 2026), so it does not fire then.
    assert!(request.is_empty() && run.fired.is_empty(), "{run:?}");

    // "Test" judges the rule over the fixture's weeks and posts the result, signed.
    let id = rule.json()["id"].as_i64().unwrap();
    let tested = api(&router, Some(&owner), "POST", &format!("/api/businesses/{b}/alerts/{id}/test"), None).await;
    assert_eq!(tested.status, StatusCode::ACCEPTED, "{}", tested.text);
    trailmap_server::delivery::deliver_once(&state, auth_now(), false).await.unwrap();
    let posted = hook.next(Duration::from_secs(10)).expect("the test reached the webhook");
    let signature = format!("sha256={}", trailmap_app::delivery::signature(&secret, &posted.body));
    assert_eq!(posted.header("x-trailmap-signature"), Some(signature.as_str()));
    assert_eq!(serde_json::from_slice::<Value>(&posted.body).unwrap()["event"], "alert.test");

    let log = api(&router, Some(&owner), "GET", &format!("/api/businesses/{b}/deliveries"), None).await.json();
    let statuses: Vec<&str> = log.as_array().unwrap().iter().map(|d| d["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["sent", "sent"], "{log}");
    let settings = page(&router, Some(&owner), "GET", &format!("/b/{b}/settings/delivery"), &[]).await;
    assert!(settings.text.contains("data-testid=\"send-log\"") && settings.text.contains("weekly digest"), "{}", settings.text);

    // Judged directly over the fixture's week: 2 new customers, then 12.
    let check = state.try_read(move |app| {
        let business = app.businesses()?.into_iter().find(|x| x.id == b).unwrap();
        app.check_alert(&business, id, None, at("2026-10-19T08:00:00Z"))
    }).await.unwrap();
    assert_eq!((check.comparison.previous.n, check.comparison.current.n), (2, 12));
    assert!(check.fires, "{}", check.reason);
}

fn auth_now() -> Timestamp {
    Timestamp::from_millis(wall_clock())
}

/// The Monday after `t`, at 06:00 UTC.
fn next_monday(t: Timestamp) -> Timestamp {
    use chrono::Datelike;
    let day = t.date();
    let days = 7 - i64::from(day.weekday().num_days_from_monday());
    let monday = day + chrono::Duration::days(days);
    Timestamp(Timestamp::from_date(monday).0 + 6 * 3_600_000)
}

#[tokio::test]
async fn the_portfolio_lists_the_users_businesses_and_sorts() {
    let (_, router, owner, _) = reports_world(None);
    let by_name = api(&router, Some(&owner), "GET", "/api/portfolio", None).await.json();
    let names: Vec<&str> = by_name.as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Corner Shop", "Quiet Cafe"]);
    let bad = api(&router, Some(&owner), "GET", "/api/portfolio?sort=height", None).await;
    assert_eq!((bad.status, bad.code().as_str()), (StatusCode::BAD_REQUEST, "invalid_input"));
    let shown = page(&router, Some(&owner), "GET", "/portfolio?sort=new_customers", &[]).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert!(shown.text.find("Corner Shop").unwrap() < shown.text.find("Quiet Cafe").unwrap());
    let nobody = api(&router, None, "GET", "/api/portfolio", None).await;
    assert_eq!(nobody.status, StatusCode::UNAUTHORIZED);
}

/// The report page, the digests and alerts page and the portfolio in headless Chromium, driven by
/// `browser/reports.mjs`; screenshots go to SCREENSHOT_DIR as reports-*.png.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_and_the_portfolio_work_in_headless_chromium() {
    if playwright_chromium().is_none() {
        return;
    }
    let (_, router, _, shop) = reports_world(None);
    let env = vec![
        ("TRAILMAP_EMAIL", "olive@example.com".to_string()),
        ("TRAILMAP_PASSWORD", PASSWORD.to_string()),
        ("BUSINESS_ID", shop.id.to_string()),
    ];
    let (stdout, shots) = run_browser_script(router, "reports.mjs", env).await;
    assert!(stdout.contains("\nok"), "{stdout}");
    for name in ["reports-1-report.png", "reports-2-delivery.png", "reports-3-portfolio.png"] {
        assert!(shots.join(name).exists(), "{name}");
    }
}
