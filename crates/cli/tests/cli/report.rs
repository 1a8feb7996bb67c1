//! `trailmap report`: the PDF and the HTML page of the demo, the data as JSON, and the errors that
//! name what is wrong (the file's extension, the period).

use super::{text, trailmap};

#[test]
fn report_writes_pdf_and_html_and_prints_json() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.sqlite");
    let out = trailmap(&db, &["demo", "--customers", "300", "--no-serve"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let business = ["--business", "Thread & Needle", "--today", "2026-11-15"];
    let pdf = dir.path().join("October.PDF");
    let html = dir.path().join("october.html");
    for file in [&pdf, &html] {
        let mut args = vec!["report", "--period", "2026-10-01..2026-10-31", "-o", file.to_str().unwrap()];
        args.extend(business);
        let out = trailmap(&db, &args);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(text(&out.stdout).starts_with("Wrote "), "{}", text(&out.stdout));
    }
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF"));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("Thread &amp; Needle: report for 2026-10-01 to 2026-10-31"));

    // The data: a month as the period, the same key numbers' n as the dashboard's sample.
    let mut args = vec!["report", "--period", "2026-10", "--format", "json"];
    args.extend(business);
    let out = trailmap(&db, &args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["business"], "Thread & Needle");
    assert_eq!(json["period"]["from"], "2026-10-01");
    assert_eq!(json["period"]["to"], "2026-10-31");
    assert_eq!(json["previous"]["from"], "2026-08-31");
    assert!(json["key_numbers"].as_array().unwrap().iter().all(|k| k["current"]["n"].is_u64()));
    assert!(!json["changes"].as_array().unwrap().is_empty());

    // Errors name what is wrong.
    let out = trailmap(&db, &["report", "-o", dir.path().join("x.docx").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("x.docx: the file's extension says what to write: .pdf or .html"), "{}", text(&out.stderr));
    for (period, reason) in [("2026-10-31..2026-10-01", "is before"), ("2026-13", "not a month"), ("last week", "not a date")] {
        let out = trailmap(&db, &["report", "--period", period, "--format", "json"]);
        assert_eq!(out.status.code(), Some(1));
        let err = text(&out.stderr);
        assert!(err.contains("--period") && err.contains(reason), "{period}: {err}");
    }
    let out = trailmap(&db, &["report"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("-o FILE"), "{}", text(&out.stderr));
}
