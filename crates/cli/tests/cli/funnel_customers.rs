//! `trailmap funnel --customers-at STEP`: a page of the customers behind a step, as the app pages
//! them; read page after page with `--limit` and `--offset` they are every customer of the step
//! once, as many as the funnel's count; the funnel itself prints no id; a step the funnel lacks
//! is refused naming the flag.

use super::{json, text, trailmap};

#[test]
fn the_customers_behind_a_step_are_printed_a_page_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("funnel.sqlite");
    assert!(trailmap(&db, &["demo", "--customers", "200", "--no-serve"]).status.success());
    let funnel = json(&db, &["funnel", "--steps", "page_view,purchase"]);
    let steps = funnel["report"]["overall"]["steps"].as_array().unwrap();
    assert!(steps.iter().all(|s| s.get("customers").is_none() && s.get("dropped_customers").is_none()), "no ids by default");
    let reached = steps[1]["reached"].as_u64().unwrap();
    assert!(reached > 4, "the demo's coffee shop has buyers: {reached}");
    let mut listed: Vec<i64> = Vec::new();
    loop {
        let offset = listed.len().to_string();
        let page = json(&db, &["funnel", "--steps", "page_view,purchase", "--customers-at", "2", "--limit", "4", "--offset", &offset]);
        assert_eq!(page["total"].as_u64(), Some(reached));
        let ids: Vec<i64> = page["customers"].as_array().unwrap().iter().map(|c| c.as_i64().unwrap()).collect();
        if ids.is_empty() {
            break;
        }
        listed.extend(ids);
    }
    assert_eq!(listed.len() as u64, reached);
    assert!(listed.windows(2).all(|w| w[0] < w[1]), "ascending, each once");
    let bad = trailmap(&db, &["funnel", "--steps", "page_view,purchase", "--customers-at", "3"]);
    assert!(!bad.status.success());
    assert!(text(&bad.stderr).contains("--customers-at: 3 is not a step of this funnel"), "{}", text(&bad.stderr));
}
