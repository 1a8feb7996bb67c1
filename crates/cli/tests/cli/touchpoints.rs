//! `trailmap touchpoint ...` as a user runs it: events imported from a file, a rule that does not
//! read refused with the flag, the place under a caret and the reason, a touchpoint made, previewed,
//! moved, edited and removed, and suggestions listed, dismissed and accepted, in the three formats.

use super::{text, trailmap};

const EVENTS: &str = "timestamp,email,event,page,utm_source,utm_medium\n\
2026-03-01T10:00:00Z,ann@example.com,page_view,/products/scarf,instagram,cpc\n\
2026-03-01T10:05:00Z,ann@example.com,page_view,/checkout,,\n\
2026-03-01T10:06:00Z,ann@example.com,purchase,,,\n\
2026-03-02T11:00:00Z,bob@example.com,page_view,/checkout/pay,google,organic\n\
2026-03-03T09:00:00Z,cy@example.com,email_open,,,\n";

fn json(out: &std::process::Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn touchpoints_are_made_previewed_arranged_and_suggested_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.sqlite");
    let file = dir.path().join("events.csv");
    std::fs::write(&file, EVENTS).unwrap();
    assert!(trailmap(&db, &["import", "events", file.to_str().unwrap()]).status.success());

    // A rule that does not read: the flag, the rule with a caret under the place, the reason.
    let out = trailmap(&db, &["touchpoint", "add", "Checkout page", "--channel", "web", "--rule", "page_view[page^=/checkout"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("--rule \"page_view[page^=/checkout\": at offset 25: the condition opened at offset 9 lacks its closing ']'"), "{err}");
    assert!(err.contains("\n  page_view[page^=/checkout\n                           ^"), "{err}");
    let out = trailmap(&db, &["touchpoint", "add", "Checkout page", "--channel", "fax", "--rule", "purchase"]);
    assert!(text(&out.stderr).contains("--channel \"fax\": expected one of web, ads"), "{}", text(&out.stderr));

    let made = json(&trailmap(&db, &["touchpoint", "add", "Checkout page", "--channel", "web", "--rule", "page_view[page^=/checkout]", "--stage", "purchase", "--format", "json"]));
    assert_eq!((made["touchpoint"]["stage"].as_str(), made["touchpoint"]["position"].as_u64()), (Some("Purchase"), Some(1)));
    trailmap(&db, &["touchpoint", "add", "Email opens", "--channel", "email", "--rule", "email_open"]);

    // The preview: two checkout views by two customers, newest first.
    let preview = json(&trailmap(&db, &["touchpoint", "preview", "page_view[page^=/checkout]", "--format", "json"]));
    assert_eq!((preview["events"].as_u64(), preview["customers"]["n"].as_u64()), (Some(2), Some(2)));
    assert_eq!(preview["examples"].as_array().unwrap().iter().map(|e| e["fields"]["page"].as_str().unwrap()).collect::<Vec<_>>(), ["/checkout/pay", "/checkout"]);
    let out = trailmap(&db, &["touchpoint", "preview", "pageview"]);
    let said = text(&out.stdout);
    assert!(said.starts_with("Matches nothing from 2026-02-01 to 2026-03-03") && said.contains("No event is named \"pageview\""), "{said}");

    // Arranged: moved, edited (renamed), listed with counts as CSV.
    trailmap(&db, &["touchpoint", "move", "email opens", "--position", "1"]);
    let out = trailmap(&db, &["touchpoint", "edit", "Checkout page", "--name", "Checkout", "--no-stage"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let listed = text(&trailmap(&db, &["touchpoint", "list", "--format", "csv"]).stdout);
    assert_eq!(
        listed,
        "position,id,name,channel,stage,rule,events,customers (n)\n1,2,Email opens,email,,email_open,1,1\n2,1,Checkout,web,,page_view[page^=/checkout],2,2\n"
    );
    let out = trailmap(&db, &["touchpoint", "move", "Checkout", "--position", "9"]);
    assert!(text(&out.stderr).contains("--position \"9\": expected a position from 1 to 2"), "{}", text(&out.stderr));

    // Suggestions: listed with volumes, one dismissed, one accepted onto its stage.
    let found = json(&trailmap(&db, &["touchpoint", "suggest", "--format", "json"]));
    let keys: Vec<&str> = found["suggestions"].as_array().unwrap().iter().map(|s| s["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["channel:Direct", "channel:Organic Search", "channel:Paid Social", "page:product"], "{found}");
    trailmap(&db, &["touchpoint", "suggest", "--dismiss", "channel:Direct"]);
    let accepted = json(&trailmap(&db, &["touchpoint", "suggest", "--accept", "channel:Paid Social", "--format", "json"]));
    assert_eq!((accepted[0]["name"].as_str(), accepted[0]["stage"].as_str()), (Some("Paid Social"), Some("Awareness")));
    let table = text(&trailmap(&db, &["touchpoint", "suggest"]).stdout);
    assert!(table.contains("(1 dismissed before)") && table.contains("channel:Organic Search") && !table.contains("channel:Direct"), "{table}");
    let all = json(&trailmap(&db, &["touchpoint", "suggest", "--accept", "--format", "json"]));
    assert_eq!(all.as_array().unwrap().len(), 2);

    let out = trailmap(&db, &["touchpoint", "remove", "checkout", "--format", "json"]);
    assert_eq!(json(&out)["name"], "Checkout");
    let names: Vec<String> = json(&trailmap(&db, &["touchpoint", "list", "--format", "json"]))["touchpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["Email opens", "Paid Social", "Organic Search", "Product pages"]);
}
