//! `trailmap import` of Parquet files and `--dry-run`: the file lands once, a bad row stops the
//! import with its row number and column, and the preview prints how the file would be read.

use super::{text, trailmap};
use trailmap_testkit::{ParquetCodec, ParquetColumn, write_parquet};

fn orders(path: &std::path::Path, totals: Vec<Option<f64>>) {
    write_parquet(
        path,
        &[
            ParquetColumn::text("order_id", &[Some("P-1"), Some("P-2"), Some("P-3")]),
            ParquetColumn::text("customer_email", &[Some("ann@example.com"), Some("bob@example.com"), Some("ann@example.com")]),
            ParquetColumn::TimestampMicros("created_at".into(), vec![Some(1_772_355_600_000_000), Some(1_772_442_000_000_000), Some(1_772_528_400_000_000)]),
            ParquetColumn::Double("total".into(), totals),
            ParquetColumn::text("currency", &[Some("EUR"), Some("EUR"), Some("EUR")]),
        ],
        ParquetCodec::Snappy,
    )
    .unwrap();
}

#[test]
fn a_parquet_file_imports_once_and_a_bad_row_names_its_row_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.sqlite");
    let file = dir.path().join("orders.parquet");
    orders(&file, vec![Some(12.5), Some(30.0), Some(7.25)]);
    let out = trailmap(&db, &["import", "orders", file.to_str().unwrap(), "--format", "json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((report["records"].as_u64(), report["added"].as_u64(), report["new_customers"].as_u64()), (Some(3), Some(3), Some(2)));
    let again: serde_json::Value = serde_json::from_slice(&trailmap(&db, &["import", "orders", file.to_str().unwrap(), "--format", "json"]).stdout).unwrap();
    assert_eq!((again["added"].as_u64(), again["duplicates"].as_u64()), (Some(0), Some(3)));
    let summary = text(&trailmap(&db, &["summary", "--format", "csv"]).stdout);
    assert!(summary.contains("orders,3"), "{summary}");

    let bad = dir.path().join("bad.parquet");
    orders(&bad, vec![Some(1.0), Some(f64::NAN), Some(-2.0)]);
    let out = trailmap(&db, &["import", "orders", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("bad.parquet:2: column `total`: not a number: NaN"), "{err}");
    assert!(err.contains("bad.parquet:3: column `total`"), "{err}");
    assert!(err.contains("nothing was imported"), "{err}");
}

#[test]
fn a_dry_run_shows_the_columns_and_first_records_and_imports_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.sqlite");
    let file = dir.path().join("till.csv");
    std::fs::write(&file, "Ref;Buyer;When;Total\nT-1;ann@example.com;2026-03-01;12,50\n").unwrap();
    let args = ["import", "orders", file.to_str().unwrap(), "--dry-run", "--delimiter", ";", "--decimal", "comma"];
    let out = trailmap(&db, &args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(shown.contains("Missing: time (tried time, created_at"), "{shown}");
    assert!(shown.contains("add --map time=COLUMN"), "{shown}");
    let mapped = [&args[..], &["--map", "time=When", "--map", "email=Buyer", "--map", "order_id=Ref", "--format", "json"]].concat();
    let out = trailmap(&db, &mapped);
    let preview: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(preview["delimiter"], ";");
    assert_eq!((preview["decimal_mark"].as_str(), preview["decimal_mark_from"].as_str()), (Some("comma"), Some("import")));
    assert_eq!(preview["rows"][0]["values"], serde_json::json!(["ann@example.com", "T-1", "2026-03-01T00:00:00.000Z", "12.50 USD"]));
    assert_eq!(preview["row_fields"], serde_json::json!(["email", "order_id", "time", "total"]));
    let summary = text(&trailmap(&db, &["summary", "--format", "csv"]).stdout);
    assert!(summary.contains("orders,0"), "a dry run imports nothing: {summary}");
}
