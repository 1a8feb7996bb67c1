//! `trailmap change impact`: a change's before/after on an imported store in the table, JSON and
//! CSV formats, and the errors that name the change id or the flag.

use super::{json, text, trailmap};

/// 40 checkouts in February (10 convert within the hour) and 40 in March (30 convert), an event on
/// 2026-04-10 so March's entrants have their 7 days inside the data: 28-day windows.
fn store(dir: &std::path::Path) -> std::path::PathBuf {
    let db = dir.join("t.sqlite");
    let mut csv = String::from("timestamp,event,anonymous_id\n");
    for (month, converting) in [(2, 10), (3, 30)] {
        for i in 0..40 {
            let visitor = format!("m{month}v{i}");
            csv.push_str(&format!("2026-{month:02}-{:02}T10:00:00Z,checkout_started,{visitor}\n", i % 28 + 1));
            if i < converting {
                csv.push_str(&format!("2026-{month:02}-{:02}T11:00:00Z,purchase,{visitor}\n", i % 28 + 1));
            }
        }
    }
    csv.push_str("2026-04-10T10:00:00Z,page_view,late\n");
    let file = dir.join("events.csv");
    std::fs::write(&file, csv).unwrap();
    let out = trailmap(&db, &["import", "events", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let added = json(
        &db,
        &["change", "add", "--title", "One-page checkout", "--date", "2026-03-01", "--metric", "conversion:checkout_started>purchase:7d"],
    );
    assert_eq!(added["id"], 1);
    db
}

#[test]
fn change_impact_prints_the_verdict_windows_and_test_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let db = store(dir.path());
    let answer = json(&db, &["change", "impact", "1"]);
    assert_eq!((answer["before"]["successes"].as_u64(), answer["before"]["n"].as_u64()), (Some(10), Some(40)));
    assert_eq!((answer["after"]["successes"].as_u64(), answer["after"]["n"].as_u64()), (Some(30), Some(40)));
    assert_eq!((answer["before"]["window"]["from"].as_str(), answer["after"]["window"]["to"].as_str()), (Some("2026-02-01"), Some("2026-03-28")));
    assert_eq!(answer["comparison"]["test"], "two_proportions");
    assert_eq!(answer["before"]["customers"].as_array().unwrap().len(), 40);
    let verdict = answer["verdict"].as_str().unwrap();
    assert!(verdict.starts_with("conversion from checkout_started to purchase within 7 days rose from 25% to 75%"), "{verdict}");
    assert!(verdict.contains("n = 80") && verdict.ends_with("seasonality not ruled out"), "{verdict}");

    let out = trailmap(&db, &["change", "impact", "1"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    assert!(table.starts_with(verdict), "{table}");
    for expected in ["25.0% (2026-02-01 to 2026-02-28, n = 40", "75.0% (2026-03-01 to 2026-03-28", "two-proportion z test", "p-value", "95% CI", "--control"] {
        assert!(table.contains(expected), "{expected}: {table}");
    }

    let out = trailmap(&db, &["change", "impact", "1", "--days", "14", "--format", "csv"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let csv = text(&out.stdout);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "part,from,to,value,n,successes,customers");
    assert!(lines[1].starts_with("before,2026-02-15,2026-02-28,") && lines[2].starts_with("after,2026-03-01,2026-03-14,"), "{csv}");
    assert_eq!(lines.len(), 3, "{csv}");
}

#[test]
fn change_impact_errors_name_the_change_or_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let db = store(dir.path());
    let out = trailmap(&db, &["change", "impact", "99"]);
    assert_eq!(out.status.code(), Some(1));
    let error = text(&out.stderr);
    assert!(error.contains("change 99") && error.contains("1 (One-page checkout)"), "{error}");
    let out = trailmap(&db, &["change", "impact", "1", "--days", "60"]);
    assert_eq!(out.status.code(), Some(1));
    let error = text(&out.stderr);
    assert!(error.starts_with("error: --days \"60\"") && error.contains("28 day(s)"), "{error}");
    let out = trailmap(&db, &["change", "impact", "1", "--ramp-up", "60"]);
    assert!(text(&out.stderr).starts_with("error: --ramp-up \"60\""), "{}", text(&out.stderr));
    let out = trailmap(&db, &["change", "impact", "1", "--control", "aov"]);
    assert!(text(&out.stderr).starts_with("error: --control"), "{}", text(&out.stderr));
    let out = trailmap(&db, &["change", "impact", "1", "--split", "variant"]);
    assert!(text(&out.stderr).starts_with("error: --split"), "{}", text(&out.stderr));
}
