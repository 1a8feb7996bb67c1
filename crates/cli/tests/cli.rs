//! The `trailmap` binary as a user runs it: exit codes, messages on stderr, and the three output
//! formats.

// Helpers outside #[test] functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

fn trailmap(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trailmap"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("TRAILMAP_DB")
        .env_remove("TRAILMAP_BUSINESS")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn the_demo_fills_the_store_and_reports_in_json() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.sqlite");
    let out = trailmap(&db, &["demo", "--customers", "200", "--no-serve", "--format", "json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = json.as_array().unwrap().iter().map(|b| b["business"].as_str().unwrap()).collect();
    assert_eq!(names, ["Bean There Coffee", "Thread & Needle"]);
    assert!(json[1]["events"].as_u64().unwrap() > 200);
    let out = trailmap(&db, &["business", "list", "--format", "csv"]);
    let listing = text(&out.stdout);
    assert!(listing.starts_with("id,name,currency,timezone\n"), "{listing}");
    assert!(listing.contains("My Business") && listing.contains("Thread & Needle"), "{listing}");
    let out = trailmap(&db, &["summary", "--business", "thread & needle"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("orders"));
}

#[test]
fn a_bad_file_fails_with_its_place_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.sqlite");
    let file = dir.path().join("orders.csv");
    std::fs::write(&file, "order_id,time,email,total\nA-1,2025-01-01T00:00:00Z,a@x.com,10\nA-2,2025-01-02T00:00:00Z,b@x.com,-5\n").unwrap();
    let out = trailmap(&db, &["import", "orders", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("orders.csv:3") && err.contains("negative"), "{err}");
    let out = trailmap(&db, &["summary", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json[0]["orders"], 0);
}

#[test]
fn an_unknown_business_lists_the_known_ones() {
    let dir = tempfile::tempdir().unwrap();
    let out = trailmap(&dir.path().join("t.sqlite"), &["summary", "--business", "Nope"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("\"Nope\"") && err.contains("My Business"), "{err}");
}

#[test]
fn a_bad_mapping_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = trailmap(&dir.path().join("t.sqlite"), &["import", "events", "x.csv", "--map", "email"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("FIELD=COLUMN"));
}
