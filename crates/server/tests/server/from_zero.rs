//! Issue 18, item 9: a business made from zero, with nothing but the product's own front doors.
//! Through the JSON API: create the business, import an orders CSV and an events CSV, read the
//! suggested touchpoints and accept them, make a persona, start a map from a template, read its
//! live numbers (each stage with data measured, the counts and revenue the fixture gives) and
//! comment on a card. `browser/from_zero.mjs` walks the same path in headless Chromium, from the
//! setup page to the comment, and sees the same numbers on the map page.
//!
//! The fixture, five customers in March 2026:
//! - ann lands from an Instagram ad (utm paid_social), views a product, the cart and the
//!   checkout, and orders A-1 (24.50);
//! - bob comes from Google (the referrer), views a product and the checkout, orders B-1 (40.00);
//! - cat lands from the same ad and views a product, no order;
//! - dan lands from the newsletter (utm email), opens an email, goes to the checkout and orders
//!   D-1 (12.00), opens another email nine days later and orders D-2 (15.00) on the 20th;
//! - eve lands on a referral link (`?ref=ANN10`), nothing else.
//!
//! What follows, by hand: the channels Paid Social (2 events, ann and cat), Organic Search (1,
//! bob), Email (1, dan), Referral (1, eve: a `ref` code with no medium is medium referral) and
//! Direct (the 7 page views with neither a source nor a referrer: ann's, bob's and cat's views
//! after landing and dan's checkout; ingest gives each event its own channel, so these count as
//! Direct although their sessions began elsewhere); the key pages Checkout (3 views: ann, bob,
//! dan), Product (3: ann, bob, cat) and Cart (1: ann); email opens (2, dan); referral links (1,
//! eve): ten suggestions. Accepted, they sit on Awareness (the paid, organic and referral
//! channels), Consideration (Direct, product, cart), Purchase (checkout), Retention (the Email
//! channel, email opens) and Advocacy (referral links). An event at several touchpoints counts at
//! the most specific one's stage (the one matching the fewest events): a checkout view is also
//! Direct, and it is Purchase's; eve's referral visit is both the Referral channel's and the
//! referral links' (one event each), so the earliest stage, Awareness, takes it. The map's stages
//! then reach 4 (ann, bob, cat, eve), 3 (ann, bob, cat: product views), 3 (ann, bob, dan: the
//! checkout), 1 (dan, who landed from the newsletter, the Email channel, so reached Retention
//! first and came back to Purchase at his checkout: not in Purchase's n) and 0 (no referral code
//! names a known customer, so nobody is credited with Advocacy); going on within 30 days: 3 of 4,
//! 2 of 3 (ann and bob reach the checkout), 0 of 2 and 0 of 1. Revenue, each order at the stage
//! of its customer's latest event before it: Purchase 76.50 (A-1, B-1, D-1 after the checkout
//! views), Retention 15.00 (D-2 after dan's second email open), 0 elsewhere. The persona Buyers
//! (`orders>=1`) is ann, bob and dan.

use super::*;

/// The orders file, as a shop would export it.
pub(crate) const ORDERS_CSV: &str = "\
order_id,email,created_at,total,currency
A-1,ann@example.com,2026-03-02T09:08:00Z,24.50,USD
B-1,bob@example.com,2026-03-03T10:07:00Z,40.00,USD
D-1,dan@example.com,2026-03-06T08:06:00Z,12.00,USD
D-2,dan@example.com,2026-03-20T08:00:00Z,15.00,USD
";

/// The events file, as a web analytics export: page views with their UTM tags and referrer.
pub(crate) const EVENTS_CSV: &str = "\
email,event,timestamp,utm_source,utm_medium,referrer,page
ann@example.com,page_view,2026-03-02T09:00:00Z,instagram,paid_social,,/
ann@example.com,page_view,2026-03-02T09:02:00Z,,,,/products/oat-latte
ann@example.com,page_view,2026-03-02T09:05:00Z,,,,/cart
ann@example.com,page_view,2026-03-02T09:07:00Z,,,,/checkout
bob@example.com,page_view,2026-03-03T10:00:00Z,,,https://www.google.com/,/
bob@example.com,page_view,2026-03-03T10:03:00Z,,,,/products/mug
bob@example.com,page_view,2026-03-03T10:06:00Z,,,,/checkout
cat@example.com,page_view,2026-03-04T11:00:00Z,instagram,paid_social,,/
cat@example.com,page_view,2026-03-04T11:02:00Z,,,,/products/oat-latte
dan@example.com,page_view,2026-03-05T12:00:00Z,newsletter,email,,/
dan@example.com,email_open,2026-03-06T08:00:00Z,,,,
dan@example.com,page_view,2026-03-06T08:05:00Z,,,,/checkout
dan@example.com,email_open,2026-03-15T08:00:00Z,,,,
eve@example.com,page_view,2026-03-07T13:00:00Z,,,,/?ref=ANN10
";

/// The suggestions the fixture gives: key, name, stage, volume (events) and customers.
pub(crate) const SUGGESTIONS: [(&str, &str, &str, u64, usize); 10] = [
    ("channel:Direct", "Direct", "Consideration", 7, 4),
    ("channel:Paid Social", "Paid Social", "Awareness", 2, 2),
    ("channel:Organic Search", "Organic Search", "Awareness", 1, 1),
    ("channel:Email", "Email", "Retention", 1, 1),
    ("channel:Referral", "Referral", "Awareness", 1, 1),
    ("page:checkout", "Checkout page", "Purchase", 3, 3),
    ("page:cart", "Cart page", "Consideration", 1, 1),
    ("page:product", "Product pages", "Consideration", 3, 3),
    ("email:email_open", "Email opens", "Retention", 2, 1),
    ("referral", "Referral links", "Advocacy", 1, 1),
];

/// Per stage of the map: name, reach and its customers, (converted, of) to the next stage, and
/// revenue with its number of orders.
pub(crate) const STAGES: [(&str, usize, &[&str], Option<(usize, usize)>, f64, usize); 5] = [
    ("Awareness", 4, &["ann", "bob", "cat", "eve"], Some((3, 4)), 0.0, 0),
    ("Consideration", 3, &["ann", "bob", "cat"], Some((2, 3)), 0.0, 0),
    ("Purchase", 3, &["ann", "bob", "dan"], Some((0, 2)), 76.5, 3),
    ("Retention", 1, &["dan"], Some((0, 1)), 15.0, 1),
    ("Advocacy", 0, &[], None, 0.0, 0),
];

/// A raw-body request to the imports API by `who`.
async fn import(router: &Router, who: &Actor, business: i64, query: &str, body: &str) -> Value {
    let headers = [("content-type", "text/csv".to_string()), session_cookie(&who.token), ("x-csrf-token", who.csrf.clone())];
    let done = call(router, "POST", &format!("/api/businesses/{business}/imports?{query}"), &headers, body.as_bytes().to_vec()).await;
    assert_eq!(done.status, StatusCode::OK, "{query}: {}", done.text);
    done.json()
}

/// The emails' local parts (ann, bob, ...) of customers given by id, sorted, through the API.
async fn who_are(router: &Router, who: &Actor, business: i64, ids: &Value) -> Vec<String> {
    let ids: Vec<String> = ids.as_array().unwrap().iter().map(|id| id.as_i64().unwrap().to_string()).collect();
    if ids.is_empty() {
        return Vec::new();
    }
    let listed = api(router, Some(who), "GET", &format!("/api/businesses/{business}/customers?ids={}", ids.join(",")), None).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    let mut names: Vec<String> = listed.json()["customers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["email"].as_str().unwrap_or_else(|| panic!("a customer without email: {c}")).trim_end_matches("@example.com").to_string())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn a_business_from_zero_through_the_api_gets_live_numbers_on_every_stage_with_data() {
    let mut app = App::in_memory().unwrap();
    let olive = actor(&mut app, "olive@example.com", "Olive Owner", Timestamp::from_millis(wall_clock()));
    let (tracker, writer) = Writer::start(app);
    let router = router(ServerState::new(tracker.clone(), ":memory:".into()));

    let made = api(&router, Some(&olive), "POST", "/api/businesses", Some(json!({"name": "Corner Coffee", "currency": "USD"}))).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    let b = made.json()["id"].as_i64().unwrap();
    let path = |rest: &str| format!("/api/businesses/{b}{rest}");
    let empty = api(&router, Some(&olive), "GET", &path("/touchpoints/suggestions"), None).await.json();
    assert_eq!((empty["events"].as_u64(), empty["suggestions"].as_array().map(Vec::len)), (Some(0), Some(0)), "{empty}");

    // The two files: a dry run first, as the Import page shows it, then the imports.
    let preview = import(&router, &olive, b, "kind=events&dry_run=true", EVENTS_CSV).await;
    let preview = &preview["preview"];
    assert_eq!((preview["format"].as_str(), preview["layout"].as_str()), (Some("csv"), Some("generic")), "{preview}");
    assert_eq!(preview["rows"].as_array().unwrap().len(), 10, "the first 10 of 14 rows: {preview}");
    assert_eq!((preview["more"].as_bool(), preview["missing"].as_array().map(Vec::len)), (Some(true), Some(0)), "{preview}");
    let orders = import(&router, &olive, b, "kind=orders", ORDERS_CSV).await;
    let report = &orders["report"];
    assert_eq!((report["rows_read"].as_u64(), report["landed"].as_u64(), report["new_customers"].as_u64()), (Some(4), Some(4), Some(3)), "{report}");
    let events = import(&router, &olive, b, "kind=events", EVENTS_CSV).await;
    let report = &events["report"];
    assert_eq!((report["rows_read"].as_u64(), report["landed"].as_u64(), report["new_customers"].as_u64()), (Some(14), Some(14), Some(2)), "{report}");
    let summary = &api(&router, Some(&olive), "GET", &path("/summary"), None).await.json()["summary"];
    // 14 imported events and one purchase event per order.
    assert_eq!((summary["customers"].as_u64(), summary["orders"].as_u64(), summary["events"].as_u64()), (Some(5), Some(4), Some(18)), "{summary}");

    // The suggestions, each with its volume and stage, then all accepted.
    let found = api(&router, Some(&olive), "GET", &path("/touchpoints/suggestions"), None).await.json();
    let mut got: Vec<(String, String, String, u64, usize)> = found["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let text = |k: &str| s[k].as_str().unwrap_or("").to_string();
            (text("key"), text("name"), text("stage"), s["volume"].as_u64().unwrap(), s["n"].as_u64().unwrap() as usize)
        })
        .collect();
    got.sort();
    let mut expected: Vec<(String, String, String, u64, usize)> =
        SUGGESTIONS.iter().map(|(k, n, s, v, c)| (k.to_string(), n.to_string(), s.to_string(), *v, *c)).collect();
    expected.sort();
    assert_eq!(got, expected, "{found}");
    let keys: Vec<&str> = SUGGESTIONS.iter().map(|s| s.0).collect();
    let chosen = api(&router, Some(&olive), "POST", &path("/touchpoints/suggestions"), Some(json!({ "accept": keys }))).await;
    assert_eq!(chosen.status, StatusCode::OK, "{}", chosen.text);
    let accepted = chosen.json()["accepted"].as_array().unwrap().iter().map(|t| (t["name"].as_str().unwrap().to_string(), t["stage"].as_str().unwrap().to_string())).collect::<Vec<_>>();
    assert_eq!(accepted.len(), 10, "{accepted:?}");
    for (_, name, stage, _, _) in SUGGESTIONS {
        assert!(accepted.contains(&(name.to_string(), stage.to_string())), "{name} on {stage}: {accepted:?}");
    }
    let left = api(&router, Some(&olive), "GET", &path("/touchpoints/suggestions"), None).await.json();
    assert_eq!(left["suggestions"].as_array().map(Vec::len), Some(0), "{left}");

    // A persona: the customers who ordered, with its live count.
    let persona = api(&router, Some(&olive), "POST", &path("/personas"), Some(json!({"name": "Buyers", "initials": "BU", "rule": "orders>=1", "goals": ["Good coffee on the way to work"]}))).await;
    assert_eq!(persona.status, StatusCode::CREATED, "{}", persona.text);
    let persona = persona.json();
    assert_eq!(persona["n"].as_u64(), Some(3), "{persona}");
    assert_eq!(who_are(&router, &olive, b, &persona["customers"]).await, ["ann", "bob", "dan"]);

    // A map from the coffee-shop template: its stages are the business's, so the touchpoints
    // accepted on them measure it at once.
    let map = api(&router, Some(&olive), "POST", &path("/maps"), Some(json!({"name": "Our customers", "template": "coffee-shop"}))).await;
    assert_eq!(map.status, StatusCode::CREATED, "{}", map.text);
    let map = map.json()["id"].as_i64().unwrap();
    let numbers = api(&router, Some(&olive), "GET", &path(&format!("/maps/{map}/numbers")), None).await;
    assert_eq!(numbers.status, StatusCode::OK, "{}", numbers.text);
    let numbers = numbers.json();
    let stages = numbers["stages"].as_array().unwrap();
    assert_eq!(stages.len(), STAGES.len(), "{numbers}");
    for (stage, (name, reach, customers, next, revenue, orders)) in stages.iter().zip(STAGES) {
        assert_eq!(stage["name"].as_str(), Some(name));
        assert_eq!(stage["measured"].as_bool(), Some(true), "{name} is measured");
        assert_eq!(stage["reach"]["n"].as_u64(), Some(reach as u64), "{name}'s reach: {stage}");
        assert_eq!(who_are(&router, &olive, b, &stage["reach"]["customers"]).await, customers, "{name}'s customers");
        let to_next = next.map(|(converted, of)| (converted as u64, of as u64));
        let got = stage["to_next"].as_object().map(|t| (t["converted"]["n"].as_u64().unwrap(), t["n"].as_u64().unwrap()));
        assert_eq!(got, to_next, "{name} to the next stage: {stage}");
        assert_eq!((stage["revenue"]["amount"].as_f64(), stage["revenue"]["orders"].as_u64()), (Some(revenue), Some(orders as u64)), "{name}'s revenue: {stage}");
        assert_eq!(stage["revenue"]["currency"].as_str(), Some("USD"));
    }
    // Each accepted touchpoint is on the map with its own reach: the customers with an event
    // assigned to its stage that is at it. Direct's checkout views are Purchase's, so Direct
    // reaches 3 there (ann, bob, cat) where its suggestion counted 4; eve's referral visit is
    // Awareness's, so the referral links reach nobody at Advocacy.
    let mut reach: Vec<(String, u64)> =
        numbers["touchpoints"].as_array().unwrap().iter().map(|t| (t["name"].as_str().unwrap().to_string(), t["reach"]["n"].as_u64().unwrap())).collect();
    reach.sort();
    let expected = [
        ("Cart page", 1),
        ("Checkout page", 3),
        ("Direct", 3),
        ("Email", 1),
        ("Email opens", 1),
        ("Organic Search", 1),
        ("Paid Social", 2),
        ("Product pages", 3),
        ("Referral", 1),
        ("Referral links", 0),
    ];
    assert_eq!(reach, expected.map(|(n, c)| (n.to_string(), c)), "{numbers}");
    // The persona's view of the same map: only its three customers.
    let theirs = api(&router, Some(&olive), "GET", &path(&format!("/maps/{map}/numbers?persona=Buyers")), None).await.json();
    let purchase = theirs["stages"].as_array().unwrap().iter().find(|s| s["name"] == "Purchase").unwrap();
    assert_eq!(who_are(&router, &olive, b, &purchase["reach"]["customers"]).await, ["ann", "bob", "dan"], "{theirs}");
    let awareness = theirs["stages"].as_array().unwrap().iter().find(|s| s["name"] == "Awareness").unwrap();
    assert_eq!(who_are(&router, &olive, b, &awareness["reach"]["customers"]).await, ["ann", "bob"], "{theirs}");

    // A comment on the first card, listed with its author.
    let card = super::comments::first_card(&router, &olive, trailmap_model::BusinessId(b), map).await;
    let comments = path(&format!("/maps/{map}/cards/{card}/comments"));
    let said = api(&router, Some(&olive), "POST", &comments, Some(json!({"text": "Instagram brings half of our first visits."}))).await;
    assert_eq!(said.status, StatusCode::CREATED, "{}", said.text);
    let listed = api(&router, Some(&olive), "GET", &comments, None).await.json();
    let listed: Vec<(String, String)> = listed
        .as_array()
        .or_else(|| listed["comments"].as_array())
        .unwrap_or_else(|| panic!("comments: {listed}"))
        .iter()
        .map(|c| (c["author_name"].as_str().unwrap().to_string(), c["text"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(listed, [("Olive Owner".to_string(), "Instagram brings half of our first visits.".to_string())]);

    drop(router);
    drop(tracker);
    let app = writer.join().unwrap();
    let business = app.businesses().unwrap().into_iter().find(|x| x.id.0 == b).unwrap();
    assert_eq!(app.touchpoints(&business).unwrap().len(), 10);
}

/// The same path in headless Chromium, from the setup page of a fresh store: the figures the
/// pages show are the fixture's (see the module's documentation).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_business_from_zero_in_headless_chromium_gets_live_numbers_on_every_stage_with_data() {
    if playwright_chromium().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("from-zero.sqlite");
    let (orders, events) = (dir.path().join("orders.csv"), dir.path().join("events.csv"));
    std::fs::write(&orders, ORDERS_CSV).unwrap();
    std::fs::write(&events, EVENTS_CSV).unwrap();
    let (tracker, writer) = Writer::start(App::open(&db).unwrap());
    let state = ServerState::new(tracker, db.clone());
    let env = vec![("ORDERS_CSV", orders.display().to_string()), ("EVENTS_CSV", events.display().to_string())];
    let (stdout, shots) = run_browser_script(router(state), "from_zero.mjs", env).await;
    let mut suggested: Vec<String> = SUGGESTIONS.iter().map(|(key, _, _, volume, _)| format!("{key} {volume}")).collect();
    suggested.sort();
    let listed = stdout.lines().find_map(|l| l.strip_prefix("step: 10 suggestions: ")).unwrap_or_else(|| panic!("no suggestions line: {stdout}"));
    let mut listed: Vec<String> = listed.split(", ").map(str::to_string).collect();
    listed.sort();
    assert_eq!(listed, suggested, "{stdout}");
    for step in [
        "step: orders: preview of 4 rows (0 bad, layout generic), imported 4 read, 4 landed",
        "step: events: preview of 10 rows (0 bad, layout generic), imported 14 read, 14 landed",
        "step: the dashboard ticked the import",
        "step: Added ",
        "step: persona Buyers: the live count said 3, the card covers 3",
        "step: stage Awareness: reach 4, to next 3 of 4, revenue $0 (n=0 orders)",
        "step: stage Consideration: reach 3, to next 2 of 3, revenue $0 (n=0 orders)",
        "step: stage Purchase: reach 3, to next 0 of 2, revenue $76.50 (n=3 orders by 3 customers)",
        "step: stage Retention: reach 1, to next 0 of 1, revenue $15 (n=1 order by 1 customer)",
        "step: stage Advocacy: reach 0, to next none, revenue $0 (n=0 orders)",
        "step: the map for Buyers reaches 2, 2, 3, 1, 0",
        "step: Cora Cole commented \"Instagram brings half of our first visits.\", count 1",
    ] {
        assert!(stdout.contains(step), "{step}: {stdout}");
    }
    assert_eq!(stdout.lines().last(), Some("ok"), "{stdout}");
    for name in ["1-checklist", "2-orders-preview", "3-orders-imported", "4-events-preview", "5-events-imported", "6-dashboard", "7-suggestions", "8-accepted", "9-persona-form", "10-personas", "11-map", "11b-map-last-stages", "12-map-persona", "13-comment"] {
        assert!(shots.join(format!("from-zero-{name}.png")).metadata().unwrap().len() > 1000, "{name}.png is missing or empty");
    }
    drop(writer);
    // What the browser did is in the store.
    let app = App::open(&db).unwrap();
    let business = app.businesses().unwrap().into_iter().find(|b| b.name == "Corner Coffee").expect("the business named at setup");
    let summary = app.summary(&business).unwrap();
    assert_eq!((summary.customers, summary.orders, summary.events), (5, 4, 18));
    assert_eq!(app.touchpoints(&business).unwrap().len(), 10);
    let map = app.journey_maps(&business, Timestamp::from_millis(wall_clock()).date()).unwrap()[0].id;
    assert_eq!(app.map_comments(&business, map).unwrap().len(), 1);
}
