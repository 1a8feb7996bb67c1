//! `trailmap report send`, `trailmap digest` and `trailmap alert` against real receivers: the
//! report e-mailed to a local SMTP sink (aiosmtpd) with its PDF, digests and alert rules added,
//! listed in every format and removed, a rule's test posted signed to a local webhook receiver,
//! and bad input refused with its flag.

use super::{text, trailmap};
use std::time::Duration;
use trailmap_testkit::sinks::{SmtpSink, WebhookReceiver};

fn json_of(out: &std::process::Output) -> serde_json::Value {
    assert!(out.status.success(), "{}\n{}", text(&out.stdout), text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out.stdout)))
}

#[test]
fn report_send_digest_and_alert_commands_deliver_to_real_receivers() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.sqlite");
    let out = trailmap(&db, &["demo", "--customers", "200", "--no-serve"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let sink_dir = dir.path().join("mail");
    std::fs::create_dir(&sink_dir).unwrap();
    let sink = SmtpSink::start(&sink_dir).unwrap_or_else(|e| panic!("{e}"));
    let smtp = sink.url();
    let business = ["--business", "Thread & Needle"];

    // The report, e-mailed now.
    let mut args = vec!["report", "send", "--period", "2026-10", "--to", "owner@needle.test", "--smtp-url", &smtp, "--format", "json"];
    args.extend(business);
    let sent = json_of(&trailmap(&db, &args));
    assert_eq!((sent["status"].as_str(), sent["attempts"].as_u64()), (Some("sent"), Some(1)), "{sent}");
    let messages = sink.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["subject"], "Thread & Needle: report, 2026-10-01 to 2026-10-31");
    assert!(messages[0]["text"].as_str().unwrap().contains("KEY NUMBERS"));
    let pdf = std::fs::read(messages[0]["attachments"][0]["path"].as_str().unwrap()).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));

    // Digests: a bad address names its flag; a good one is listed, then removed.
    let mut args = vec!["digest", "add", "--cadence", "monthly", "--to", "owner@needle.test,nobody", "--smtp-url", &smtp];
    args.extend(business);
    let bad = trailmap(&db, &args);
    assert_eq!(bad.status.code(), Some(1));
    assert!(text(&bad.stderr).contains("--to \"nobody\": not an e-mail address"), "{}", text(&bad.stderr));
    let mut args = vec!["digest", "add", "--cadence", "monthly", "--to", "owner@needle.test", "--smtp-url", &smtp, "--format", "json"];
    args.extend(business);
    let digest = json_of(&trailmap(&db, &args));
    let id = digest["id"].as_i64().unwrap().to_string();
    let mut args = vec!["digest", "list", "--format", "csv"];
    args.extend(business);
    let listed = trailmap(&db, &args);
    assert!(text(&listed.stdout).starts_with("id,cadence,recipients,created\n"), "{}", text(&listed.stdout));
    assert!(text(&listed.stdout).contains(",monthly,owner@needle.test,"));
    let mut args = vec!["digest", "send", &id, "--smtp-url", &smtp];
    args.extend(business);
    let out = trailmap(&db, &args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(sink.messages()[1]["subject"].as_str().unwrap().contains("monthly digest"));
    let mut args = vec!["digest", "remove", &id];
    args.extend(business);
    assert!(trailmap(&db, &args).status.success());
    let mut args = vec!["digest", "list", "--format", "json"];
    args.extend(business);
    assert_eq!(json_of(&trailmap(&db, &args)), serde_json::json!([]));

    // Alerts: a webhook outside http(s) is refused with its flag; a good one tests, signed.
    let mut args = vec!["alert", "add", "--kpi", "new-customers", "--channel", "webhook", "--to", "ftp://hooks.example/x"];
    args.extend(business);
    let bad = trailmap(&db, &args);
    assert_eq!(bad.status.code(), Some(1));
    assert!(text(&bad.stderr).contains("--to") && text(&bad.stderr).contains("http:// or https://"), "{}", text(&bad.stderr));
    let hook = WebhookReceiver::start(&[]).unwrap();
    let url = hook.url();
    let mut args = vec!["alert", "add", "--kpi", "csat", "--when", "below:80%", "--channel", "webhook", "--to", &url, "--format", "json"];
    args.extend(business);
    let rule = json_of(&trailmap(&db, &args));
    assert_eq!(rule["when"], "below:0.8");
    let secret = rule["secret"].as_str().unwrap().to_string();
    let id = rule["id"].as_i64().unwrap().to_string();
    let mut args = vec!["alert", "test", &id, "--format", "json"];
    args.extend(business);
    let tested = json_of(&trailmap(&db, &args));
    assert_eq!(tested["delivery"]["status"], "sent");
    assert!(tested["check"]["comparison"]["current"]["n"].is_u64(), "{tested}");
    let posted = hook.next(Duration::from_secs(10)).expect("the test was posted");
    let signature = format!("sha256={}", trailmap_app::delivery::signature(&secret, &posted.body));
    assert_eq!(posted.header("x-trailmap-signature"), Some(signature.as_str()));
    let mut args = vec!["alert", "list"];
    args.extend(business);
    let table = text(&trailmap(&db, &args).stdout);
    assert!(table.contains("csat") && table.contains("below:0.8"), "{table}");
    let mut args = vec!["alert", "remove", &id];
    args.extend(business);
    assert!(trailmap(&db, &args).status.success());
}
