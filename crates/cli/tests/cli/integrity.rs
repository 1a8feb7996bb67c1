//! Import integrity from the command line: the flags that declare a file's decimal mark,
//! delimiter and encoding, the errors that name them, and `fields` stating each field's limit.

use super::{text, trailmap};

#[test]
fn import_flags_read_what_the_errors_name() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.sqlite");
    // A European export: semicolons, a decimal comma, Windows-1252 text.
    let file = dir.path().join("bestellungen.csv");
    std::fs::write(&file, b"order_id;email;time;total;currency;city\nB-1;ann@example.com;2025-01-01T00:00:00Z;12,50;EUR;K\xf6ln\n").unwrap();
    let path = file.to_str().unwrap();

    let out = trailmap(&db, &["import", "orders", path]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("--delimiter ';'"), "the delimiter is named: {err}");

    let out = trailmap(&db, &["import", "orders", path, "--delimiter", ";"]);
    let err = text(&out.stderr);
    assert!(err.contains("bestellungen.csv:2: column `total`: \"12,50\" is ambiguous"), "{err}");

    let out = trailmap(&db, &["import", "orders", path, "--delimiter", ";", "--decimal", "comma", "--encoding", "windows-1252", "--format", "json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["added"], 1);
    let out = trailmap(&db, &["summary", "--format", "json"]);
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary[0]["orders"], 1);

    // The business can declare its mark once; an unknown mark is refused by name.
    let out = trailmap(&db, &["business", "set", "--decimal", "comma", "--format", "json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let business: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(business["decimal_mark"], "comma");
    let out = trailmap(&db, &["business", "set", "--decimal", "semicolon"]);
    assert!(text(&out.stderr).contains("unknown decimal mark \"semicolon\""), "{}", text(&out.stderr));
}

#[test]
fn fields_states_each_fields_length_limit() {
    let dir = tempfile::tempdir().unwrap();
    let out = trailmap(&dir.path().join("t.sqlite"), &["fields", "events", "--format", "csv"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let listing = text(&out.stdout);
    assert!(listing.starts_with("field,required,longest,columns recognised\n"), "{listing}");
    assert!(listing.lines().any(|l| l.starts_with("name,yes,1 KiB,")), "{listing}");
    assert!(listing.lines().any(|l| l.starts_with("page,,8 KiB,")), "{listing}");
}
