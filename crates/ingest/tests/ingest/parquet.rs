//! Parquet files: as pandas and DuckDB write them (fixtures made by `data/parquet/make_fixtures.py`)
//! and as the tests write them with the parquet crate (`trailmap_testkit::write_parquet`): typed
//! values read by the CSV rules, bad rows named by their row number and column, files that are
//! not what they claim refused before any row.

use super::*;
use std::path::{Path, PathBuf};
use trailmap_testkit::{ParquetCodec, ParquetColumn, write_parquet};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/parquet").join(name)
}

fn open_file(kind: RecordKind, path: &Path) -> Result<RecordReader, ImportError> {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    RecordReader::open(std::fs::File::open(path).unwrap(), options(kind, &name))
}

fn read_all(reader: RecordReader) -> (Vec<Record>, Vec<RowError>) {
    let (mut records, mut errors) = (Vec::new(), Vec::new());
    for item in reader {
        match item {
            Ok(r) => records.push(r.record),
            Err(e) => errors.push(e),
        }
    }
    (records, errors)
}

fn at(text: &str) -> Timestamp {
    Timestamp::parse_rfc3339(text).unwrap()
}

#[test]
fn a_pandas_file_reads_its_nanosecond_times_floats_and_extra_columns() {
    let reader = open_file(RecordKind::Events, &fixture("events_pandas.parquet")).unwrap();
    assert_eq!(reader.format(), FileFormat::Parquet);
    assert_eq!(reader.columns(), ["email", "anonymous_id", "event", "timestamp", "page", "revenue", "plan"]);
    let mapping = reader.matched_columns();
    assert!(mapping.contains(&("name", "event".to_string())) && mapping.contains(&("time", "timestamp".to_string())), "{mapping:?}");
    let (records, errors) = read_all(reader);
    assert!(errors.is_empty(), "{errors:?}");
    let events = events(records);
    assert_eq!(events.len(), 4);
    let times: Vec<Timestamp> = events.iter().map(|e| e.event.time).collect();
    assert_eq!(
        times,
        [at("2026-03-01T09:00:00Z"), at("2026-03-01T09:30:15.250Z"), at("2026-03-02T12:00:00Z"), at("2026-03-03T18:45:00Z")]
    );
    assert_eq!(events[1].event.channel.as_deref(), Some("Paid Social"), "UTM tags in the page are enriched as in CSV");
    assert_eq!(events[2].event.identity, Identity::new(trailmap_model::IdentityKind::Anonymous, "anon-7").unwrap());
    assert_eq!(events[3].event.revenue, Some(Money::new(4250, Currency::USD)));
    assert_eq!(events[0].event.revenue, None, "a NaN written for a missing float is a null");
    assert_eq!(events[1].event.properties.get("plan"), Some(&json!("pro")), "unmatched columns are properties");
}

#[test]
fn a_duckdb_file_reads_zstd_decimals_exactly_and_groups_order_lines() {
    let (records, errors) = read_all(open_file(RecordKind::Orders, &fixture("orders_duckdb.parquet")).unwrap());
    assert!(errors.is_empty(), "{errors:?}");
    let orders = orders(records);
    assert_eq!(orders.len(), 2);
    let eur = Currency::parse("EUR").unwrap();
    assert_eq!((orders[0].external_id.as_str(), orders[0].total, orders[0].time), ("1001", Money::new(4250, eur), at("2026-03-03T18:45:00Z")));
    let lines: Vec<(&str, i64, i64)> = orders[0].lines.iter().map(|l| (l.name.as_str(), l.quantity, l.unit_price.minor)).collect();
    assert_eq!(lines, [("Mug", 2, 1225), ("Beans", 1, 1800)]);
    // 1234.00 is a Parquet decimal, not text: no decimal mark makes it ambiguous.
    assert_eq!(orders[1].total, Money::new(123_400, eur));
}

#[test]
fn a_codec_this_build_does_not_read_is_refused_by_name() {
    let error = open_file(RecordKind::Spend, &fixture("spend_brotli.parquet")).unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, ImportError::Parquet { .. }), "{error:?}");
    assert!(message.starts_with("spend_brotli.parquet: column `channel` is compressed with BROTLI"), "{message}");
    assert!(message.contains("snappy, zstd"), "{message}");
}

fn orders(records: Vec<Record>) -> Vec<IncomingOrder> {
    records
        .into_iter()
        .map(|r| match r {
            Record::Order(o) => o,
            other => panic!("not an order: {other:?}"),
        })
        .collect()
}

#[test]
fn bad_rows_name_their_row_number_and_column_and_the_rest_are_read() {
    let dir = tempfile::tempdir().unwrap();
    for codec in [ParquetCodec::Snappy, ParquetCodec::Zstd, ParquetCodec::Uncompressed] {
        let path = dir.path().join("orders.parquet");
        let long = "x".repeat(2000);
        write_parquet(
            &path,
            &[
                ParquetColumn::text("order_number", &[Some("A1"), Some("A2"), Some("A3"), Some("A4"), Some("A5")]),
                ParquetColumn::text("email", &[Some("a@example.com"), Some("b@example.com"), Some("c@example.com"), Some("d\0@example.com"), Some("e@example.com")]),
                ParquetColumn::TimestampMicros("placed_at".into(), vec![Some(1_772_000_000_000_000), None, Some(1_772_000_000_000_000), Some(1_772_000_000_000_000), Some(1_772_000_000_000_000)]),
                ParquetColumn::Double("total".into(), vec![Some(12.5), Some(3.0), Some(f64::NAN), Some(1.0), Some(7.25)]),
                ParquetColumn::text("product", &[Some("Mug"), Some("Cup"), Some("Pot"), Some("Tea"), Some(&long)]),
                ParquetColumn::Double("price".into(), vec![Some(12.5), Some(3.0), Some(1.0), Some(1.0), Some(7.25)]),
            ],
            codec,
        )
        .unwrap();
        let (records, errors) = read_all(open_file(RecordKind::Orders, &path).unwrap());
        let places: Vec<(u64, Option<&str>)> = errors.iter().map(|e| (e.line, e.column.as_deref())).collect();
        assert_eq!(
            places,
            [(2, Some("placed_at")), (3, Some("total")), (4, Some("email")), (5, Some("product"))],
            "{codec:?}: {errors:?}"
        );
        assert!(errors[0].reason.contains("`time` is required"), "{}", errors[0].reason);
        assert!(errors[1].reason.contains("NaN"), "{}", errors[1].reason);
        assert!(errors[2].reason.contains("control character") || errors[2].reason.contains("NUL"), "{}", errors[2].reason);
        assert_eq!(errors[0].to_string().split(':').take(2).collect::<Vec<_>>(), ["orders.parquet", "2"]);
        assert!(errors[1].raw.as_deref().is_some_and(|raw| raw.contains("\"order_number\":\"A3\"")), "{:?}", errors[1].raw);
        let orders = orders(records);
        assert_eq!(orders.len(), 1, "{codec:?}");
        assert_eq!((orders[0].external_id.as_str(), orders[0].total.minor), ("A1", 1250));
    }
}

#[test]
fn decimals_nanosecond_times_and_numbers_as_text_follow_the_csv_rules() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spend.parquet");
    write_parquet(
        &path,
        &[
            ParquetColumn::text("channel", &[Some("Paid Social"), Some("Email")]),
            ParquetColumn::TimestampNanos("date".into(), vec![Some(1_772_323_200_000_000_000), Some(1_772_323_200_000_000_000)]),
            // A number written as text reads as text does: "12,50" needs a declared decimal mark.
            ParquetColumn::text("cost", &[Some("12,50"), Some("40")]),
            ParquetColumn::Decimal("ignored".into(), 2, vec![Some(1), Some(2)]),
        ],
        ParquetCodec::Snappy,
    )
    .unwrap();
    let (records, errors) = read_all(open_file(RecordKind::Spend, &path).unwrap());
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!((errors[0].line, errors[0].column.as_deref()), (1, Some("cost")));
    let spend: Vec<IncomingSpend> = records.into_iter().map(|r| if let Record::Spend(s) = r { s } else { panic!() }).collect();
    assert_eq!(spend.len(), 1);
    assert_eq!((spend[0].channel.as_str(), spend[0].amount.minor), ("Email", 4000));
    assert_eq!(spend[0].start, NaiveDate::from_ymd_opt(2026, 3, 1).unwrap());
}

#[test]
fn a_file_that_is_not_what_it_claims_is_refused_before_any_row() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("orders.csv");
    std::fs::write(&csv, "order_id,email,time,total\n1,a@example.com,2026-03-01,5\n").unwrap();
    let claimed = |path: &Path, format: FileFormat| {
        let mut opts = options(RecordKind::Orders, &path.file_name().unwrap().to_string_lossy());
        opts.format = Some(format);
        RecordReader::open(std::fs::File::open(path).unwrap(), opts).unwrap_err().to_string()
    };
    assert_eq!(
        claimed(&csv, FileFormat::Parquet),
        "orders.csv: Parquet was expected, but the file is not a Parquet file (no Parquet magic bytes `PAR1` at its start; CSV or NDJSON?)"
    );
    let named = dir.path().join("orders.parquet");
    std::fs::copy(&csv, &named).unwrap();
    assert!(open_file(RecordKind::Orders, &named).unwrap_err().to_string().contains("Parquet was expected"));
    assert_eq!(claimed(&fixture("orders_duckdb.parquet"), FileFormat::Csv), "orders_duckdb.parquet: CSV was expected, but the file is a Parquet file");
    let workbook = dir.path().join("orders.xlsx");
    std::fs::write(&workbook, b"PK\x03\x04\x14\x00\x06\x00rest of a workbook").unwrap();
    assert!(claimed(&workbook, FileFormat::Csv).contains("a ZIP archive (an Excel workbook? save it as CSV)"));
    // A Parquet file whose name says CSV is read as Parquet: its magic bytes are unambiguous.
    let renamed = dir.path().join("export.csv");
    std::fs::copy(fixture("orders_duckdb.parquet"), &renamed).unwrap();
    assert_eq!(open_file(RecordKind::Orders, &renamed).unwrap().format(), FileFormat::Parquet);
    // A stream cannot be Parquet.
    let bytes = std::fs::read(fixture("orders_duckdb.parquet")).unwrap();
    assert!(open(RecordKind::Orders, "x", &bytes).unwrap_err().to_string().contains("read from a file"));
}

#[test]
fn inspecting_opens_a_file_that_lacks_a_column_and_lists_what_it_lacks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("orders.csv");
    std::fs::write(&path, "Order,Mail,When,Total\n7,a@example.com,2026-03-01,5\n").unwrap();
    let strict = open_file(RecordKind::Orders, &path).unwrap_err();
    assert!(strict.to_string().contains("no column for the required field `time`"), "{strict}");
    let opts = options(RecordKind::Orders, "orders.csv");
    let reader = RecordReader::inspect(std::fs::File::open(&path).unwrap(), opts).unwrap();
    let missing: Vec<&str> = reader.missing_columns().iter().map(|m| m.field.as_str()).collect();
    assert_eq!(missing, ["time", "customer_id, email or anonymous_id"]);
    assert_eq!(reader.columns(), ["Order", "Mail", "When", "Total"]);
    assert_eq!(reader.delimiter(), Some(b','));
    let (_, errors) = read_all(reader);
    assert_eq!(errors.len(), 1);
    assert!(errors[0].reason.contains("no identity"), "{}", errors[0].reason);
    // With the columns mapped by hand it reads.
    let mut opts = options(RecordKind::Orders, "orders.csv");
    opts.column_map = vec![("time".into(), "When".into()), ("email".into(), "Mail".into())];
    let (records, errors) = read_all(RecordReader::open(std::fs::File::open(&path).unwrap(), opts).unwrap());
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(records.len(), 1);
    // An NDJSON file's keys are noted as rows are read.
    let nd = dir.path().join("events.ndjson");
    std::fs::write(&nd, "{\"user\":\"u1\",\"event\":\"visit\",\"ts\":1772323200}\n").unwrap();
    let mut reader = RecordReader::inspect(std::fs::File::open(&nd).unwrap(), options(RecordKind::Events, "events.ndjson")).unwrap();
    let first = reader.next().unwrap();
    assert!(first.is_err(), "no identity key is recognised: {first:?}");
    assert_eq!(reader.columns(), ["user", "event", "ts"]);
    let mapping = reader.matched_columns();
    assert_eq!(mapping, [("name", "event".to_string()), ("time", "ts".to_string())]);
}

#[test]
fn a_corrupt_parquet_file_is_an_error_never_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read(fixture("orders_duckdb.parquet")).unwrap();
    // Each cut or scribble over the data pages or the footer: whatever the crate finds, the
    // reader answers with an error (whole-file or a row's), and the process goes on.
    for (i, at) in [8usize, 40, 200, good.len() / 2, good.len() - 60, good.len() - 12].into_iter().enumerate() {
        let mut bad = good.clone();
        for b in &mut bad[at..(at + 24).min(good.len() - 4)] {
            *b = b.wrapping_mul(31).wrapping_add(7);
        }
        let path = dir.path().join(format!("bad{i}.parquet"));
        std::fs::write(&path, &bad).unwrap();
        if let Ok(reader) = open_file(RecordKind::Orders, &path) {
            let _ = read_all(reader);
        }
    }
    let path = dir.path().join("short.parquet");
    std::fs::write(&path, b"PAR1\x00\x01PAR1").unwrap();
    let error = open_file(RecordKind::Orders, &path).unwrap_err();
    assert!(matches!(error, ImportError::Parquet { .. }), "{error:?}");
}
