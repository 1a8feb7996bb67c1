//! Issue 25, item 1 on the command line: `map show` on the demo coffee shop prints stage numbers
//! that cannot contradict each other (going on never above the stage's reach, reach = came back +
//! went on + dropped), each order counted once at one stage (they add up to the store's orders and
//! revenue), a friend's referral counted for the customer who referred, money written as the
//! dashboard writes it, and each number's definition under the table.

use super::{json, text, trailmap};

#[test]
fn map_show_prints_stage_numbers_that_add_up_and_credit_the_referrer() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("map.sqlite");
    assert!(trailmap(&db, &["demo", "--customers", "400", "--no-serve"]).status.success());
    let summary = &json(&db, &["summary"])[0];
    let shown = json(&db, &["map", "show", "1"]);
    let numbers = &shown["numbers"];
    let stages = numbers["stages"].as_array().unwrap();
    assert_eq!(stages.len(), 5);
    let n = |v: &serde_json::Value| v["n"].as_u64().unwrap();
    for stage in stages.iter().filter(|s| !s["to_next"].is_null()) {
        let next = &stage["to_next"];
        assert!(n(&next["converted"]) <= next["n"].as_u64().unwrap(), "{stage}");
        assert_eq!(n(&next["converted"]) + n(&next["dropped"]), next["n"].as_u64().unwrap(), "{stage}");
        assert_eq!(next["n"].as_u64().unwrap() + n(&next["already_past"]), n(&stage["reach"]), "{stage}");
        assert_eq!(n(&next["to_next_stage"]) + n(&next["skipped"]), n(&next["converted"]), "{stage}");
        assert_eq!(n(&stage["entered_here"]) + n(&stage["from_earlier"]), n(&stage["reach"]), "{stage}");
    }
    // Each order once: the stages' orders and those before any stage are the store's.
    let orders: u64 = stages.iter().map(|s| s["revenue"]["orders"].as_u64().unwrap()).sum::<u64>() + numbers["unplaced_revenue"]["orders"].as_u64().unwrap();
    assert_eq!(orders, summary["orders"].as_u64().unwrap());
    let revenue: f64 = stages.iter().map(|s| s["revenue"]["amount"].as_f64().unwrap()).sum::<f64>() + numbers["unplaced_revenue"]["amount"].as_f64().unwrap();
    assert!((revenue - summary["revenue"].as_f64().unwrap()).abs() < 0.01, "{revenue} against {}", summary["revenue"]);
    // First purchases at Purchase, repeats at Retention: not the same revenue on every stage.
    let purchase = &stages[2]["revenue"];
    let retention = &stages[3]["revenue"];
    assert_eq!(purchase["orders"].as_u64().unwrap(), n(&stages[2]["reach"]), "one first purchase per customer reaching Purchase");
    assert!(retention["amount"].as_f64().unwrap() > purchase["amount"].as_f64().unwrap());
    assert!(purchase["shown"].as_str().unwrap().starts_with('$'), "{purchase}");
    // The friend referral counts the friend on Awareness and the referrer on Advocacy.
    let referral = |stage: &serde_json::Value| {
        numbers["touchpoints"].as_array().unwrap().iter().find(|t| t["name"] == "Friend referral" && t["stage"] == stage["stage"]).cloned().unwrap()
    };
    let (friends, referrers) = (referral(&stages[0]), referral(&stages[4]));
    assert_eq!((friends["credits"].as_str(), referrers["credits"].as_str()), (Some("own"), Some("referrer")));
    assert!(n(&referrers["reach"]) > 0 && n(&referrers["reach"]) < n(&friends["reach"]), "{referrers} {friends}");
    assert_ne!(referrers["reach"]["customers"], friends["reach"]["customers"]);
    assert!(n(&stages[4]["reach"]) >= n(&referrers["reach"]));

    let table = text(&trailmap(&db, &["map", "show", "1"]).stdout);
    assert!(table.contains("went on (to a later stage)") && table.contains(&format!("{} (", purchase["shown"].as_str().unwrap())), "{table}");
    for label in ["Reach:", "New here:", "Went on:", "Drop-off:", "Revenue:"] {
        assert!(table.lines().any(|l| l.starts_with(label)), "{label} in {table}");
    }
    let bad = trailmap(&db, &["map", "show", "1", "--window-days", "0"]);
    assert!(!bad.status.success());
    assert!(text(&bad.stderr).contains("window"), "{}", text(&bad.stderr));
}
