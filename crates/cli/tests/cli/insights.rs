//! `trailmap insights` as a user runs it: the demo's findings as a table and as JSON, `--limit`,
//! and a bad `--period` refused with its flag named.

use super::{text, trailmap};

#[test]
fn insights_on_the_demo_as_a_table_and_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.sqlite");
    let out = trailmap(&db, &["demo", "--no-serve", "--format", "json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let args = ["insights", "--business", "Thread & Needle", "--today", "2026-11-23"];
    let out = trailmap(&db, &args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    assert!(table.contains("Insights for Thread & Needle (2026-10-02 to 2026-10-31)"), "{table}");
    assert!(table.contains("1. checkout_shipping → purchase loses"), "{table}");
    assert!(table.contains("drop_off") && table.contains("trailmap funnel --steps checkout_shipping,purchase"), "{table}");
    let out = trailmap(&db, &[&args[..], &["--format", "json", "--limit", "1"]].concat());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0]["kind"], "drop_off");
    assert!(findings[0]["value_at_stake_minor"].as_i64().unwrap() > 0);
    assert!(findings[0]["n"].as_u64().unwrap() >= 30);
    assert!(!findings[0]["customers"].as_array().unwrap().is_empty());
    assert_eq!(json["period"]["from"], "2026-10-02");
    let out = trailmap(&db, &["insights", "--business", "Bean There Coffee", "--today", "2026-11-23", "--format", "csv"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let csv = text(&out.stdout);
    assert!(csv.starts_with("rank,kind,value at stake (USD),finding,n,customers,evidence\n"), "{csv}");
    assert!(csv.contains("Paid Social spend") && csv.contains("stale_map"), "{csv}");
}

#[test]
fn insights_refuse_a_bad_period_and_answer_an_empty_business() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.sqlite");
    let out = trailmap(&db, &["insights", "--period", "2026-05-01..2026-04-01"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("--period"), "{err}");
    let out = trailmap(&db, &["insights", "--period", "2026-13..2026-14"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("--period"), "{}", text(&out.stderr));
    let out = trailmap(&db, &["insights", "--format", "json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["findings"].as_array().unwrap().len(), 0);
}
