//! `trailmap customer export|erase|erasures` on a business made from zero: the export file holds
//! the person's events and orders; erasing needs `--yes` and then says what it removed; the old
//! orders file imported again is refused at the person's lines, naming the erasure.

use super::{json, text, trailmap};

#[test]
fn a_customer_is_exported_erased_and_refused_when_their_old_file_comes_back() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.sqlite");
    let orders = dir.path().join("orders.csv");
    std::fs::write(&orders, "order_id,email,time,total\nA1,ann@example.com,2025-03-04T10:00:00Z,12.50\nB1,bob@example.com,2025-03-05T10:00:00Z,8.00\n").unwrap();
    let imported = trailmap(&db, &["import", "orders", orders.to_str().unwrap()]);
    assert!(imported.status.success(), "{}", text(&imported.stderr));

    let file = dir.path().join("ann.json");
    let exported = trailmap(&db, &["customer", "export", "Ann@Example.com", "-o", file.to_str().unwrap()]);
    assert!(exported.status.success(), "{}", text(&exported.stderr));
    assert!(text(&exported.stdout).contains("1 identities, 1 events, 1 orders"), "{}", text(&exported.stdout));
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!((doc["orders"][0]["external_id"].as_str(), doc["identities"][0]["value"].as_str()), (Some("A1"), Some("ann@example.com")));

    let unconfirmed = trailmap(&db, &["customer", "erase", "ann@example.com"]);
    assert!(!unconfirmed.status.success());
    assert!(text(&unconfirmed.stderr).contains("run again with --yes"), "{}", text(&unconfirmed.stderr));
    let erased = json(&db, &["customer", "erase", "ann@example.com", "--yes"]);
    assert_eq!((erased[0]["orders"].as_u64(), erased[0]["events"].as_u64()), (Some(1), Some(1)));
    assert_eq!(json(&db, &["summary"])[0]["customers"], 1);
    let gone = trailmap(&db, &["customer", "export", "ann@example.com"]);
    assert!(text(&gone.stderr).contains("no customer of My Business has the email or id \"ann@example.com\""), "{}", text(&gone.stderr));

    let again = trailmap(&db, &["import", "orders", orders.to_str().unwrap()]);
    assert!(!again.status.success());
    let said = text(&again.stderr);
    assert!(said.contains(":2") && said.contains("erased on"), "the line and the reason: {said}");
    assert_eq!(json(&db, &["summary"])[0]["customers"], 1, "nothing landed");
    assert_eq!(json(&db, &["customer", "erasures"]).as_array().unwrap().len(), 1);
}

#[test]
fn a_retention_is_set_in_days_or_weeks_and_expire_removes_the_older_events() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.sqlite");
    let events = dir.path().join("events.csv");
    std::fs::write(&events, "timestamp,event,anonymous_id\n2020-01-01T10:00:00Z,page_view,v1\n2099-01-01T10:00:00Z,page_view,v2\n").unwrap();
    assert!(trailmap(&db, &["import", "events", events.to_str().unwrap()]).status.success());
    let set = json(&db, &["business", "set", "--retention", "57w"]);
    assert_eq!(set["event_retention_days"], 399);
    let refused = trailmap(&db, &["business", "set", "--retention", "36h"]);
    assert!(text(&refused.stderr).contains("--retention: \"36h\": a retention is whole days"), "{}", text(&refused.stderr));
    let expired = json(&db, &["business", "expire"]);
    assert_eq!(expired[0]["expiry"]["events"], 1, "the 2020 event; the one dated 2099 stays");
    assert_eq!(json(&db, &["summary"])[0]["events"], 1);
    assert_eq!(json(&db, &["business", "set", "--retention", "off"])["event_retention_days"], serde_json::Value::Null);
}
