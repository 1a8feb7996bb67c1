//! Import previews and settings: the preview of Shopify's and Stripe's exports, a generic NDJSON
//! file and a Parquet file (layout, mapping, the first records as they will land, bad rows with
//! their place), column overrides in the preview and the import, settings parsed from text with
//! errors naming the field, and imports of the previewed files landing whole or with rejects.

use super::write;
use trailmap_app::{App, AppError, ImportForm, ImportPreview, ImportRequest, RecordKind};
use trailmap_model::Business;
use trailmap_testkit::{ParquetCodec, ParquetColumn, write_parquet};

fn preview(app: &App, business: &Business, form: &ImportForm, path: &std::path::Path) -> ImportPreview {
    let settings = form.parse().unwrap();
    app.preview_import(&ImportRequest::with_settings(settings, path, business)).unwrap()
}

fn form(kind: &str) -> ImportForm {
    ImportForm { kind: kind.into(), ..ImportForm::default() }
}

/// A row's value of `field`, by the preview's columns.
fn value<'a>(p: &'a ImportPreview, row: usize, field: &str) -> Option<&'a str> {
    let i = p.row_fields.iter().position(|f| f == field)?;
    p.rows[row].values[i].as_deref()
}

fn column_of<'a>(p: &'a ImportPreview, field: &str) -> (Option<&'a str>, &'a str) {
    let m = p.mapping.iter().find(|m| m.field == field).unwrap();
    (m.column.as_deref(), m.source.as_str())
}

const SHOPIFY: &str = "Name,Email,Financial Status,Currency,Subtotal,Shipping,Taxes,Total,Discount Amount,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Source,Id\n\
#1001,ann@example.com,paid,USD,\"1,050.00\",5.00,4.50,\"1,059.50\",0.00,2024-01-15 10:23:45 -0500,2,Linen Shirt,500.00,SHIRT-M,web,5550001\n\
#1001,ann@example.com,,,,,,,,2024-01-15 10:23:45 -0500,1,Socks,50.00,SOCK-1,,\n\
#1002,bob@example.com,paid,USD,30.00,0.00,0.00,30.00,0.00,2024-01-16 14:00:00 +0000,3,Mug,10.00,MUG,pos,5550002\n";

#[test]
fn a_shopify_export_previews_its_layout_mapping_and_orders_as_they_will_land() {
    let dir = tempfile::tempdir().unwrap();
    let app = App::in_memory().unwrap();
    let business = app.business(None).unwrap();
    let path = write(dir.path(), "orders_export.csv", SHOPIFY.as_bytes());
    let p = preview(&app, &business, &form("orders"), &path);
    assert_eq!((p.format.as_str(), p.layout.as_str(), p.layout_detected), ("csv", "shopify-orders", true));
    assert_eq!((p.delimiter.as_deref(), p.encoding.as_str(), p.position.as_str()), (Some(","), "UTF-8", "line"));
    assert_eq!((p.decimal_mark.as_deref(), p.decimal_mark_from.as_str()), (Some("point"), "layout"), "Shopify writes 1,234.56");
    assert_eq!(column_of(&p, "order_id"), (Some("Name"), "detected"));
    assert_eq!(column_of(&p, "time"), (Some("Created at"), "detected"));
    assert_eq!(column_of(&p, "anonymous_id"), (None, "none"));
    assert!(p.missing.is_empty(), "{:?}", p.missing);
    assert_eq!(p.columns.len(), 16);
    assert_eq!((p.rows.len(), p.more), (2, false));
    assert_eq!((p.rows[0].line, p.rows[1].line), (2, 4), "an order starts on its first line");
    assert_eq!(value(&p, 0, "order_id"), Some("#1001"));
    assert_eq!(value(&p, 0, "total"), Some("1059.50 USD"));
    assert_eq!(value(&p, 0, "time"), Some("2024-01-15T15:23:45.000Z"));
    assert_eq!(value(&p, 0, "lines"), Some("2 × Linen Shirt (SHIRT-M) at 500.00 USD; 1 × Socks (SOCK-1) at 50.00 USD"));
    assert_eq!(value(&p, 1, "email"), Some("bob@example.com"));
    assert!(!p.row_fields.contains(&"anonymous_id".to_string()), "a field no row fills is left out: {:?}", p.row_fields);
    // The preview wrote nothing; the import of the same file lands both orders.
    assert_eq!(app.summary(&business).unwrap().orders, 0);
}

#[test]
fn a_stripe_export_previews_its_charges_without_the_uncaptured_ones() {
    let dir = tempfile::tempdir().unwrap();
    let app = App::in_memory().unwrap();
    let business = app.business(None).unwrap();
    let data = "id,Description,Created (UTC),Amount,Amount Refunded,Currency,Status,Customer ID,Customer Email,Captured\n\
ch_1,Order 1001,2024-01-15 10:23:45,\"1,061.86\",0.00,usd,Paid,cus_A,ann@example.com,true\n\
ch_2,Order 1002,2024-01-15 11:00,20.00,0.00,usd,Failed,cus_B,bob@example.com,false\n\
ch_3,,2024-01-16 09:30,40.00,10.00,eur,Paid,,carol@example.com,true\n";
    let path = write(dir.path(), "unified_payments.csv", data.as_bytes());
    let p = preview(&app, &business, &form("orders"), &path);
    assert_eq!(p.layout, "stripe-payments");
    assert_eq!(column_of(&p, "order_id"), (Some("id"), "detected"));
    assert_eq!(column_of(&p, "customer_id"), (Some("Customer ID"), "detected"));
    assert_eq!(p.rows.iter().map(|r| r.line).collect::<Vec<_>>(), [2, 4], "the failed charge is dropped, not an order");
    assert_eq!(value(&p, 0, "total"), Some("1061.86 USD"));
    assert_eq!(value(&p, 0, "customer_id"), Some("cus_A"));
    assert_eq!(value(&p, 1, "status"), Some("partially_refunded"));
    assert_eq!(value(&p, 1, "total"), Some("40.00 EUR"));
}

#[test]
fn a_generic_ndjson_file_previews_its_keys_and_enriched_events() {
    let dir = tempfile::tempdir().unwrap();
    let app = App::in_memory().unwrap();
    let business = app.business(None).unwrap();
    let data = "{\"event\":\"page_view\",\"ts\":\"2026-03-01T09:00:00Z\",\"anonymous_id\":\"v1\",\"url\":\"https://shop.example/?utm_source=newsletter&utm_medium=email\"}\n\
{\"event\":\"signup\",\"ts\":\"2026-03-01T09:05:00Z\",\"email\":\"ann@example.com\",\"anonymous_id\":\"v1\",\"plan\":\"pro\"}\n\
{\"event\":\"purchase\",\"ts\":\"yesterday\",\"email\":\"ann@example.com\"}\n";
    let path = write(dir.path(), "events.ndjson", data.as_bytes());
    let p = preview(&app, &business, &form("events"), &path);
    assert_eq!((p.format.as_str(), p.layout.as_str(), p.delimiter.as_deref()), ("ndjson", "generic", None));
    assert_eq!(p.columns, ["event", "ts", "anonymous_id", "url", "email", "plan"]);
    assert_eq!(column_of(&p, "name"), (Some("event"), "detected"));
    assert_eq!(column_of(&p, "page"), (Some("url"), "detected"));
    assert_eq!(value(&p, 0, "channel"), Some("Email"), "the channel the event will be stored with");
    assert_eq!(value(&p, 0, "page"), Some("/"));
    assert_eq!(value(&p, 1, "properties"), Some("{\"plan\":\"pro\"}"));
    let bad = &p.rows[2];
    assert_eq!(bad.line, 3);
    let error = bad.error.as_ref().unwrap();
    assert_eq!(error.column.as_deref(), Some("ts"));
    assert!(error.reason.starts_with("not a time: \"yesterday\""), "{}", error.reason);
}

#[test]
fn a_parquet_file_previews_by_row_number_and_imports_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = App::in_memory().unwrap();
    let business = app.business(None).unwrap();
    let path = dir.path().join("events.parquet");
    write_parquet(
        &path,
        &[
            ParquetColumn::text("user_id", &[Some("C1"), Some("C2"), Some("C1")]),
            ParquetColumn::text("event_name", &[Some("store_visit"), Some("purchase"), Some("purchase")]),
            ParquetColumn::TimestampMicros("occurred_at".into(), vec![Some(1_772_355_600_000_000), Some(1_772_359_200_000_000), Some(1_772_362_800_000_000)]),
            ParquetColumn::Decimal("value".into(), 2, vec![None, Some(1250), Some(899)]),
        ],
        ParquetCodec::Zstd,
    )
    .unwrap();
    let p = preview(&app, &business, &form("events"), &path);
    assert_eq!((p.format.as_str(), p.position.as_str(), p.encoding.as_str()), ("parquet", "row", "UTF-8"));
    assert_eq!(p.columns, ["user_id", "event_name", "occurred_at", "value"]);
    assert_eq!(column_of(&p, "revenue"), (Some("value"), "detected"));
    assert_eq!(p.rows.iter().map(|r| r.line).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(value(&p, 1, "time"), Some("2026-03-01T10:00:00.000Z"));
    assert_eq!(value(&p, 1, "revenue"), Some("12.50 USD"));
    let report = app.import(ImportRequest::new(RecordKind::Events, &path, &business)).unwrap();
    assert_eq!((report.records, report.added, report.rejected, report.new_customers), (3, 3, 0, 2));
    let again = app.import(ImportRequest::new(RecordKind::Events, &path, &business)).unwrap();
    assert_eq!((again.added, again.duplicates), (0, 3));
}

#[test]
fn overrides_fill_a_missing_column_in_the_preview_and_the_import() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = App::in_memory().unwrap();
    let business = app.business(None).unwrap();
    let data = "Ref,Buyer,When,Total,Id\nA-1,ann@example.com,2026-03-01,12.50,x1\nA-2,bob@example.com,2026-03-02,8.00,x2\n";
    let path = write(dir.path(), "till.csv", data.as_bytes());
    let p = preview(&app, &business, &form("orders"), &path);
    let missing: Vec<&str> = p.missing.iter().map(|m| m.field.as_str()).collect();
    assert_eq!(missing, ["time", "customer_id, email or anonymous_id"]);
    assert!(p.missing[0].tried.contains(&"order_date".to_string()));
    assert_eq!(column_of(&p, "order_id"), (Some("Id"), "detected"), "`id` is an alias of order_id");
    assert!(p.rows.iter().all(|r| r.error.is_some()), "every row lacks what the file lacks");
    // The import refuses the file as it is, naming what is missing.
    let refused = app.import(ImportRequest::new(RecordKind::Orders, &path, &business)).unwrap_err();
    assert!(refused.to_string().contains("no column for the required field `time`"), "{refused}");

    let mapped = ImportForm {
        map: vec![
            ("time".into(), "When".into()),
            ("EMAIL".into(), "Buyer".into()),
            ("order_id".into(), "Ref".into()),
            ("".into(), "ignored".into()),
        ],
        ..form("orders")
    };
    let p = preview(&app, &business, &mapped, &path);
    assert!(p.missing.is_empty(), "{:?}", p.missing);
    assert_eq!(column_of(&p, "time"), (Some("When"), "override"));
    assert_eq!(column_of(&p, "email"), (Some("Buyer"), "override"));
    assert_eq!(value(&p, 0, "order_id"), Some("A-1"));
    assert!(p.rows.iter().all(|r| r.error.is_none()), "{:?}", p.rows);
    let request = ImportRequest::with_settings(mapped.parse().unwrap(), &path, &business);
    let report = app.import(request).unwrap();
    assert_eq!((report.added, report.rejected), (2, 0));
    // An empty column leaves a field unfilled, even one the file has a column for.
    let mut unmapped = mapped.clone();
    unmapped.map.push(("total".into(), "".into()));
    let p = preview(&app, &business, &unmapped, &path);
    assert_eq!(column_of(&p, "total"), (None, "override"));
    assert_eq!(p.missing.iter().map(|m| m.field.as_str()).collect::<Vec<_>>(), ["total"]);
}

#[test]
fn settings_in_text_are_refused_naming_the_field() {
    let error = |f: ImportForm| match f.parse().unwrap_err() {
        AppError::InvalidField { field, reason, .. } => format!("{field}: {reason}"),
        other => panic!("{other}"),
    };
    assert!(error(form("")).starts_with("kind: say what the file holds"));
    assert!(error(form("invoices")).starts_with("kind: unknown record kind"));
    assert_eq!(error(ImportForm { layout: "shopify".into(), ..form("events") }), "layout: is a layout of orders, not of events");
    assert_eq!(error(ImportForm { decimal: "euro".into(), ..form("orders") }), "decimal: is not point or comma");
    assert!(error(ImportForm { delimiter: ";;".into(), ..form("orders") }).starts_with("delimiter: the delimiter \";;\""));
    assert!(error(ImportForm { encoding: "klingon".into(), ..form("orders") }).starts_with("encoding: unknown encoding"));
    assert!(error(ImportForm { format: "xlsx".into(), ..form("orders") }).starts_with("format: unknown file format"));
    assert!(error(ImportForm { map: vec![("colour".into(), "C".into())], ..form("orders") }).starts_with("map.colour: orders have no field `colour`"));
    let ok = ImportForm { kind: "Orders".into(), layout: "stripe".into(), decimal: "comma".into(), delimiter: "tab".into(), encoding: "latin1".into(), ..ImportForm::default() };
    let settings = ok.parse().unwrap();
    assert_eq!((settings.kind, settings.delimiter, settings.encoding.unwrap().name()), (RecordKind::Orders, Some(b'\t'), "windows-1252"));
}

#[test]
fn a_bad_row_lands_nothing_and_skipping_lands_the_good_rows_with_rejects() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = App::in_memory().unwrap();
    let business = app.business(None).unwrap();
    let data = "order_id,email,time,total\n1,ann@example.com,2026-03-01,12.50\n2,bob@example.com,2026-03-02,12,50\n3,carol@example.com,2026-03-03,7.00\n";
    let path = write(dir.path(), "orders.csv", data.as_bytes());
    let request = || ImportRequest { display_name: Some("my orders.csv".into()), ..ImportRequest::new(RecordKind::Orders, &path, &business) };
    match app.import(request()).unwrap_err() {
        AppError::InvalidRows { file, count, shown } => {
            assert_eq!((file.as_str(), count), ("my orders.csv", 1));
            assert_eq!((shown[0].line, shown[0].column.as_deref()), (3, None), "{:?}", shown[0]);
            assert!(shown[0].reason.contains("expected 4 fields"), "{}", shown[0].reason);
        }
        other => panic!("{other}"),
    }
    assert_eq!(app.summary(&business).unwrap().orders, 0, "nothing landed");
    assert_eq!(app.summary(&business).unwrap().customers, 0);
    let rejects = dir.path().join("rejects.csv");
    let report = app.import(ImportRequest { skip_invalid: Some(rejects.clone()), ..request() }).unwrap();
    assert_eq!((report.records, report.added, report.rejected), (3, 2, 1));
    let text = std::fs::read_to_string(&rejects).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("line,column,reason,raw"));
    let row = lines.next().unwrap();
    assert_eq!(row, "3,,\"expected 4 fields as in the header, found 5\",\"2,bob@example.com,2026-03-02,12,50\"");
    assert_eq!(app.summary(&business).unwrap().orders, 2);
    // A file that claims to be what it is not is refused before any row.
    let wrong = ImportRequest { format: Some(trailmap_ingest::FileFormat::Parquet), ..request() };
    let error = app.preview_import(&wrong).unwrap_err();
    assert!(error.to_string().starts_with("my orders.csv: Parquet was expected"), "{error}");
}
