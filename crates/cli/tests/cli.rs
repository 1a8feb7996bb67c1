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

fn json(db: &Path, args: &[&str]) -> serde_json::Value {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let out = trailmap(db, &all);
    assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_engine_commands_answer_on_the_demo() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.sqlite");
    assert!(trailmap(&db, &["demo", "--customers", "400"]).status.success());
    let boutique = ["--business", "Thread & Needle"];
    let funnel = json(&db, &[&boutique[..], &["funnel", "--steps", "page_view,checkout_started,purchase"]].concat());
    let steps = funnel["report"]["overall"]["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 3);
    let reached: Vec<u64> = steps.iter().map(|s| s["reached"].as_u64().unwrap()).collect();
    assert!(reached[0] >= reached[1] && reached[1] >= reached[2] && reached[2] > 0, "{reached:?}");
    assert_eq!(funnel["report"]["overall"]["entered"].as_u64(), Some(reached[0]));

    let coffee = ["--business", "Bean There Coffee"];
    let by_persona = json(&db, &[&coffee[..], &["funnel", "--steps", "store_visit|page_view,purchase", "--breakdown", "persona"]].concat());
    let personas: Vec<&str> = by_persona["report"]["breakdown"].as_array().unwrap().iter().map(|g| g["value"].as_str().unwrap()).collect();
    assert!(personas.contains(&"Morning Regular"), "{personas:?}");
    let attribution = json(&db, &[&coffee[..], &["attribution", "--model", "linear"]].concat());
    assert!(attribution["attribution"]["conversions"].as_u64().unwrap() > 0);
    let retention = json(&db, &[&coffee[..], &["retention"]].concat());
    assert!(retention["purchasers"].as_u64().unwrap() > 0);
    let paths = json(&db, &[&boutique[..], &["paths", "--from", "checkout_started"]].concat());
    assert!(!paths["edges"].as_array().unwrap().is_empty());

    let out = trailmap(&db, &[&boutique[..], &["funnel", "--steps", "page_view,chekout"]].concat());
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("chekout"), "{}", text(&out.stderr));
    let out = trailmap(&db, &[&coffee[..], &["attribution", "--lookback", "soon"]].concat());
    assert_ne!(out.status.code(), Some(0));
    assert!(text(&out.stderr).contains("--lookback"), "{}", text(&out.stderr));
}

#[test]
fn the_value_commands_answer_on_the_demo() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.sqlite");
    assert!(trailmap(&db, &["demo", "--customers", "600"]).status.success());
    let coffee = ["--business", "Bean There Coffee"];
    let clv = json(&db, &[&coffee[..], &["clv", "--by", "channel"]].concat());
    assert_eq!(clv["unit"], "week", "every output states its time unit");
    let groups = clv["groups"].as_array().unwrap();
    let mean = |name: &str| groups.iter().find(|g| g["group"] == name).map(|g| g["historical"]["mean"].as_f64().unwrap());
    assert!(mean("Referral").unwrap() > mean("Paid Social").unwrap(), "referral customers are worth more");
    for (model, names) in [("bgnbd", ["r", "alpha", "a", "b"]), ("pareto-nbd", ["r", "alpha", "s", "beta"])] {
        let fit = json(&db, &[&coffee[..], &["clv", "--model", model, "--unit", "weeks", "--until", "2026-08-01"]].concat());
        assert_eq!(fit["model"], model);
        for name in names {
            assert!(fit["parameters"][name].as_f64().unwrap() > 0.0, "{model} {name}: {}", fit["parameters"]);
        }
        assert!(fit["holdout"]["actual_total"].as_f64().unwrap() > 0.0);
    }
    let spend = json(&db, &[&coffee[..], &["clv", "--model", "gamma-gamma"]].concat());
    for name in ["p", "q", "gamma"] {
        assert!(spend["parameters"][name].as_f64().unwrap() > 0.0, "{}", spend["parameters"]);
    }
    let segments = json(&db, &[&coffee[..], &["segments"]].concat());
    assert!(!segments.as_object().unwrap().is_empty());
    let suggested = json(&db, &[&coffee[..], &["personas", "suggest", "--k", "3"]].concat());
    assert!(suggested.to_string().contains("customers"), "{suggested}");
    let out = trailmap(&db, &[&coffee[..], &["clv", "--by", "star-sign"]].concat());
    assert_ne!(out.status.code(), Some(0));
    assert!(text(&out.stderr).contains("--by"), "{}", text(&out.stderr));
}
