//! `trailmap persona ...` on a business made from zero with the CLI itself (business create and
//! three imports): cards added, listed, shown, counted, edited and removed in table, JSON and
//! CSV, and bad rules and photos refused naming the flag, with nothing written.

use super::{json, text, trailmap};
use std::path::Path;

const EVENTS: &str = "time,event,email,channel,source
2026-01-05T09:00:00Z,page_view,ann@example.com,Referral,friend
2026-01-05T09:30:00Z,page_view,bob@example.com,Referral,friend
2026-01-06T10:00:00Z,page_view,cat@example.com,Paid Social,instagram
2026-01-07T11:00:00Z,page_view,dan@example.com,Organic Search,google
2026-01-08T12:00:00Z,page_view,eve@example.com,Email,newsletter
";

const ORDERS: &str = "order_id,time,email,total
A-1,2026-01-10T10:00:00Z,ann@example.com,10
A-2,2026-01-20T10:00:00Z,ann@example.com,20
A-3,2026-02-01T10:00:00Z,ann@example.com,30
B-1,2026-01-12T10:00:00Z,bob@example.com,15
C-1,2026-01-15T10:00:00Z,cat@example.com,25
C-2,2026-01-25T10:00:00Z,cat@example.com,25
E-1,2026-01-09T10:00:00Z,eve@example.com,5
E-2,2026-01-19T10:00:00Z,eve@example.com,5
";

const CUSTOMERS: &str = "email,name,plan
ann@example.com,Ann,pro
bob@example.com,Bob,basic
cat@example.com,Cat,pro
";

/// A PNG's signature and first chunk header: enough for the type check.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

fn run_ok(db: &Path, args: &[&str]) -> String {
    let out = trailmap(db, args);
    assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    text(&out.stdout)
}

#[test]
fn personas_are_added_listed_counted_edited_and_removed_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cafe.sqlite");
    run_ok(&db, &["business", "create", "Corner Cafe", "--currency", "EUR"]);
    let cafe = ["--business", "Corner Cafe"];
    for (kind, body) in [("events", EVENTS), ("orders", ORDERS), ("customers", CUSTOMERS)] {
        let file = dir.path().join(format!("{kind}.csv"));
        std::fs::write(&file, body).unwrap();
        run_ok(&db, &[&cafe[..], &["import", kind, file.to_str().unwrap()]].concat());
    }
    let photo = dir.path().join("ann.png");
    std::fs::write(&photo, PNG).unwrap();

    let added = json(
        &db,
        &[&cafe[..], &["persona", "add", "Loyal referrals", "--rule", "orders>=2 & first_channel=Referral", "--photo", photo.to_str().unwrap(),
            "--demographic", "Age: 30-45", "--goal", "Bring friends along", "--goal", "A quiet corner", "--quote", "The barista knows my order."]]
        .concat(),
    );
    assert_eq!((added["name"].as_str(), added["rule"].as_str(), added["has_photo"].as_bool()), (Some("Loyal referrals"), Some("orders>=2 & first_channel=Referral"), Some(true)));
    assert_eq!((added["matches"]["n"].as_u64(), added["covers"]["n"].as_u64()), (Some(1), Some(1)));
    assert_eq!(added["demographics"], serde_json::json!([{"label": "Age", "value": "30-45"}]));
    let table = run_ok(&db, &[&cafe[..], &["persona", "add", "Repeat buyers", "--rule", "orders>=2", "--initials", "RB"]].concat());
    assert!(table.starts_with("Created persona Repeat buyers in Corner Cafe"), "{table}");
    assert!(table.contains("1 for Loyal referrals") && table.contains("3 of 5 customers"), "{table}");

    // list as CSV: each persona's rule, what it matches and what it covers.
    let listed = run_ok(&db, &[&cafe[..], &["persona", "list", "--format", "csv"]].concat());
    assert_eq!(
        listed,
        "id,name,rule,matches,covers,counted for earlier personas\n\
         1,Loyal referrals,orders>=2 & first_channel=Referral,1,1,\n\
         2,Repeat buyers,orders>=2,3,2,1 for Loyal referrals\n"
    );
    let preview = json(&db, &[&cafe[..], &["persona", "preview", "first_channel=Referral|Email & property:plan exists"]].concat());
    assert_eq!((preview["customers"].as_u64(), preview["matches"]["n"].as_u64(), preview["covers"]["n"].as_u64()), (Some(5), Some(2), Some(1)));
    let shown = run_ok(&db, &[&cafe[..], &["persona", "show", "repeat buyers"]].concat());
    assert!(shown.contains("RB") && shown.contains("orders is at least 2"), "{shown}");

    // Bad input names the flag and the reason; nothing is written.
    let out = trailmap(&db, &[&cafe[..], &["persona", "add", "Broken", "--rule", "orders>>2"]].concat());
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).starts_with("error: --rule \"orders>>2\": at character 8: expected a value after \">\""), "{}", text(&out.stderr));
    let events = dir.path().join("events.csv");
    let out = trailmap(&db, &[&cafe[..], &["persona", "edit", "1", "--photo", events.to_str().unwrap()]].concat());
    assert!(text(&out.stderr).contains("--photo: not a PNG, JPEG or WebP image"), "{}", text(&out.stderr));
    let out = trailmap(&db, &[&cafe[..], &["persona", "edit", "1", "--demographic", "Age 30"]].concat());
    assert!(text(&out.stderr).contains("--demographic: \"Age 30\" is not LABEL: VALUE"), "{}", text(&out.stderr));
    let out = trailmap(&db, &[&cafe[..], &["persona", "add", "LOYAL REFERRALS"]].concat());
    assert!(text(&out.stderr).contains("a persona named \"LOYAL REFERRALS\" already exists"), "{}", text(&out.stderr));
    assert_eq!(json(&db, &[&cafe[..], &["persona", "list"]].concat())["personas"].as_array().unwrap().len(), 2);

    // edit: given flags replace, --clear empties, the rest stays.
    let edited = json(&db, &[&cafe[..], &["persona", "edit", "Loyal referrals", "--name", "Referral regulars", "--goal", "Bring a friend", "--clear", "photo", "--clear", "quote"]].concat());
    assert_eq!((edited["name"].as_str(), edited["goals"].clone(), edited["has_photo"].as_bool(), edited["quote"].clone()), (Some("Referral regulars"), serde_json::json!(["Bring a friend"]), Some(false), serde_json::Value::Null));
    assert_eq!(edited["rule"].as_str(), Some("orders>=2 & first_channel=Referral"));
    let out = trailmap(&db, &[&cafe[..], &["persona", "edit", "1", "--clear", "mood"]].concat());
    assert!(text(&out.stderr).contains("--clear \"mood\": expected rule, photo"), "{}", text(&out.stderr));

    let removed = run_ok(&db, &[&cafe[..], &["persona", "remove", "Referral regulars"]].concat());
    assert!(removed.starts_with("Removed persona Referral regulars from Corner Cafe"), "{removed}");
    let after = json(&db, &[&cafe[..], &["persona", "list"]].concat());
    assert_eq!(after["personas"][0]["covers"]["n"].as_u64(), Some(3), "Ann now counts for the one left");
    let out = trailmap(&db, &[&cafe[..], &["persona", "show", "Referral regulars"]].concat());
    assert!(text(&out.stderr).contains("has no persona \"Referral regulars\"; its personas are: Repeat buyers"), "{}", text(&out.stderr));
}
