//! Import integrity through the app (issue 17): an order number seen again with other content is
//! a conflict reported with its line, never a silent drop, and leaves no customer behind; numbers
//! are read by the decimal mark the business or the import declares.

use super::{counts, import, write};
use trailmap_app::{App, AppError, ImportRequest, RecordKind};
use trailmap_model::{DecimalMark, Money};
use trailmap_store::Store;

const HEADER: &str = "Name,Email,Financial Status,Created at,Total,Currency,Lineitem quantity,Lineitem name,Lineitem price\n";

fn shopify(rows: &[(&str, &str, &str)]) -> String {
    let mut text = HEADER.to_string();
    for (number, email, total) in rows {
        text.push_str(&format!("{number},{email},paid,2025-03-01 10:00:00 +0000,{total},USD,1,Mug,{total}\n"));
    }
    text
}

#[test]
fn shopify_numbers_are_kept_apart_from_the_tills_and_a_clash_is_a_conflict_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = App::open(&dir.path().join("t.sqlite")).unwrap();
    // The till numbers its orders 1001, 1002 too, for other customers.
    let till = "order_id,email,time,total\n#1001,ann@example.com,2025-02-01T10:00:00Z,5.00\n#1002,bob@example.com,2025-02-02T10:00:00Z,6.00\n";
    import(&mut app, RecordKind::Orders, &write(dir.path(), "till.csv", till.as_bytes()), None).unwrap();
    assert_eq!(counts(&app), (2, 2, 2));
    // Shopify's #1001 and #1002 are other orders of other customers: both land, with their customers.
    let first = write(dir.path(), "orders_export_1.csv", shopify(&[("#1001", "cat@example.com", "10.00"), ("#1002", "dan@example.com", "12.00")]).as_bytes());
    let report = import(&mut app, RecordKind::Orders, &first, None).unwrap();
    assert_eq!((report.layout.as_str(), report.added, report.duplicates, report.new_customers), ("shopify-orders", 2, 0, 2));
    assert_eq!(counts(&app), (4, 4, 4));
    // The same export again adds nothing.
    let again = import(&mut app, RecordKind::Orders, &first, None).unwrap();
    assert_eq!((again.added, again.duplicates), (0, 2));

    // Another export whose #1002 names another customer and amount: a conflict at its line, the
    // import lands nothing, and the new customers of its rows are not created.
    let second = write(
        dir.path(),
        "orders_export_2.csv",
        shopify(&[("#1003", "eve@example.com", "8.00"), ("#1002", "fay@example.com", "99.00")]).as_bytes(),
    );
    let err = import(&mut app, RecordKind::Orders, &second, None).unwrap_err();
    let AppError::InvalidRows { shown, .. } = &err else { panic!("{err}") };
    assert_eq!(shown.len(), 1);
    assert_eq!((shown[0].line, shown[0].column.as_deref()), (3, Some("order_id")));
    assert!(shown[0].reason.contains("\"#1002\" (shopify) is stored already with other content"), "{}", shown[0].reason);
    assert!(shown[0].reason.contains("customer") && shown[0].reason.contains("total"), "it names what differs: {}", shown[0].reason);
    assert_eq!(counts(&app), (4, 4, 4), "nothing landed, no customer was created");

    // Skipping bad rows: #1003 lands, #1002 goes to the rejects file whole, and Fay is not created.
    let rejects = dir.path().join("rejects.csv");
    let report = import(&mut app, RecordKind::Orders, &second, Some(rejects.clone())).unwrap();
    assert_eq!((report.added, report.rejected, report.new_customers), (1, 1, 1));
    assert_eq!(counts(&app), (5, 5, 5));
    let text = std::fs::read_to_string(&rejects).unwrap();
    assert!(text.lines().nth(1).unwrap().starts_with("3,order_id,"), "{text}");
    assert!(text.contains("#1002,fay@example.com,paid"), "the rejected row's text is kept: {text}");
    let business = app.business(None).unwrap();
    let customers = app.store().customers(business.id, 100, 0).unwrap();
    assert!(!customers.iter().any(|c| c.email.as_deref() == Some("fay@example.com")), "no customer for a refused order");

    // The same numbers in another business are that business's own.
    let other = app.create_business("Other Shop", "USD", "UTC").unwrap();
    let report = app.import(ImportRequest::new(RecordKind::Orders, &first, &other)).unwrap();
    assert_eq!(report.added, 2);
}

#[test]
fn a_decimal_comma_is_refused_until_the_business_or_the_import_declares_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = App::open(&dir.path().join("t.sqlite")).unwrap();
    let file = write(dir.path(), "orders.csv", b"order_id,email,time,total,currency\nA1,ann@example.com,2025-02-01T10:00:00Z,\"12,50\",EUR\n");
    let err = import(&mut app, RecordKind::Orders, &file, None).unwrap_err();
    assert!(err.to_string().contains("invalid"), "{err}");
    let AppError::InvalidRows { shown, .. } = &err else { panic!("{err}") };
    assert_eq!(shown[0].to_string().split(" is ambiguous").next(), Some(format!("{}:2: column `total`: \"12,50\"", file.display()).as_str()));
    assert_eq!(counts(&app).2, 0);

    // Declared on the import...
    let business = app.business(None).unwrap();
    let report = app.import(ImportRequest { decimal_mark: Some(DecimalMark::Comma), ..ImportRequest::new(RecordKind::Orders, &file, &business) }).unwrap();
    assert_eq!(report.added, 1);
    let orders = app.store().orders(business.id).unwrap();
    assert_eq!(orders[0].total, Money::new(1250, trailmap_model::Currency::EUR), "12,50 is 12.50, never 1,250");

    // ...or on the business, which later imports read by.
    let business = app.set_decimal_mark(business.id, Some(DecimalMark::Comma)).unwrap();
    assert_eq!(business.decimal_mark, Some(DecimalMark::Comma));
    let second = write(dir.path(), "more.csv", b"order_id,email,time,total,currency\nA2,bob@example.com,2025-02-02T10:00:00Z,\"1.234,56\",EUR\n");
    let report = app.import(ImportRequest::new(RecordKind::Orders, &second, &business)).unwrap();
    assert_eq!(report.added, 1);
    let total: i64 = app.store().orders(business.id).unwrap().iter().map(|o| o.total.minor).sum();
    assert_eq!(total, 1250 + 123_456);
}
