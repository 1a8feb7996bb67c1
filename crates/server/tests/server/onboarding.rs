//! Issue 18, onboarding: a business made from zero ticks its checklist as a write key is made, an
//! event arrives through the tracking API, orders are imported, a map is started and a colleague
//! joins; write keys are listed with their last use and a revoked key is refused; the web pages
//! show the same, and `browser/onboarding.mjs` drives them (and a comment on a map card) in
//! headless Chromium.

use super::*;
use trailmap_app::{ImportRequest, RecordKind};

/// Makes a write key for Bean There by the API as `who` and answers its id.
pub(crate) async fn new_source(w: &World, who: &Actor, name: &str) -> i64 {
    let made = api(&w.router, Some(who), "POST", &format!("/api/businesses/{}/sources", w.bean.id), Some(json!({ "name": name }))).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    made.json()["source"]["id"].as_i64().unwrap()
}

/// Sends one page view with `key` through the tracking API.
async fn track(w: &World, key: &str, id: &str) -> Reply {
    let body = json!({"type": "page", "anonymousId": "visitor-1", "messageId": id, "properties": {"path": "/"}});
    let headers = [("content-type", "application/json".to_string()), ("authorization", basic(key))];
    call(&w.router, "POST", "/v1/page", &headers, serde_json::to_vec(&body).unwrap()).await
}

/// (key, done) of every step, as the API says.
fn steps(onboarding: &Value) -> Vec<(String, bool)> {
    onboarding["steps"].as_array().unwrap().iter().map(|s| (s["key"].as_str().unwrap().to_string(), s["done"].as_bool().unwrap())).collect()
}

fn done(onboarding: &Value) -> Vec<String> {
    steps(onboarding).into_iter().filter(|(_, d)| *d).map(|(k, _)| k).collect()
}

#[tokio::test]
async fn a_business_from_zero_ticks_its_checklist_as_data_arrives() {
    let w = world();
    let made = api(&w.router, Some(&w.owner), "POST", "/api/businesses", Some(json!({"name": "Corner Bakery", "currency": "EUR"}))).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    let id = made.json()["id"].as_i64().unwrap();
    let checklist = format!("/api/businesses/{id}/onboarding");
    let read = || async { api(&w.router, Some(&w.owner), "GET", &checklist, None).await.json() };

    let fresh = read().await;
    assert_eq!(steps(&fresh).iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["website", "import", "touchpoints", "map", "invite"]);
    assert_eq!(done(&fresh), Vec::<String>::new());
    assert_eq!((fresh["empty"].as_bool(), fresh["shown"].as_bool(), fresh["done"].as_u64(), fresh["total"].as_u64()), (Some(true), Some(true), Some(0), Some(5)));
    assert_eq!(fresh["steps"][0]["status"], "No write key yet");
    // The empty dashboard is the checklist alone, with the form that makes a key.
    let dashboard = page(&w.router, Some(&w.owner), "GET", &format!("/b/{id}/"), &[]).await;
    assert_eq!(dashboard.status, StatusCode::OK);
    assert!(dashboard.text.contains("data-testid=\"checklist\"") && dashboard.text.contains("data-testid=\"create-key\""), "{}", dashboard.text);
    assert!(!dashboard.text.contains("data-testid=\"metrics\""), "no empty numbers on an empty business");
    assert!(dashboard.text.contains(&format!("href=\"/b/{id}/touchpoints\"")), "the touchpoints step links the touchpoints page");
    assert!(dashboard.text.contains("In Shopify admin, open") && dashboard.text.contains(&format!("href=\"/b/{id}/import?kind=orders\"")), "the Shopify steps are written out, ending on the Import page");
    assert!(!dashboard.text.contains("trailmap import"), "no CLI command in the web app");

    // A key: the website step waits for its first event.
    let key = api(&w.router, Some(&w.owner), "POST", &format!("/api/businesses/{id}/sources"), Some(json!({"name": "website"}))).await;
    assert_eq!(key.status, StatusCode::CREATED, "{}", key.text);
    let (key, snippet) = (key.json()["write_key"].as_str().unwrap().to_string(), key.json()["snippet"].as_str().unwrap().to_string());
    assert!(snippet.contains("/t.js\"></script>") && snippet.contains(&format!("trailmap.init(\"{key}\"")), "{snippet}");
    let waiting = read().await;
    assert_eq!((waiting["steps"][0]["status"].as_str(), waiting["live_write_keys"].as_u64()), (Some("Waiting for the first event"), Some(1)));
    assert!(waiting["last_event_at"].is_null() && waiting["seconds_since_last_event"].is_null());

    // An event through the tracking API: the website is connected, and says when.
    let sent = track(&w, &key, "m-1").await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.text);
    let connected = read().await;
    assert_eq!(done(&connected), ["website"]);
    assert_eq!(connected["events"].as_u64(), Some(1));
    assert_eq!(connected["steps"][0]["status"], "1 event in all; the website is sending");
    let since = connected["seconds_since_last_event"].as_i64().unwrap();
    assert!((0..60).contains(&since), "{since}");
    let listed = api(&w.router, Some(&w.owner), "GET", &format!("/api/businesses/{id}/sources"), None).await.json();
    assert_eq!(listed[0]["last_used"], connected["last_event_at"], "the key's last use is the checklist's last event");

    // Orders imported: the import step.
    let dir = tempfile::tempdir().unwrap();
    let orders = dir.path().join("orders.csv");
    std::fs::write(&orders, "order_id,time,email,total\nB-1,2026-03-30T10:00:00Z,ann@example.com,12.50\nB-2,2026-03-31T09:00:00Z,bo@example.com,4.20\n").unwrap();
    w.tracker
        .run(move |app| {
            let business = app.businesses().unwrap().into_iter().find(|b| b.id.0 == id).unwrap();
            let request =
                ImportRequest::new(RecordKind::Orders, &orders, &business);
            app.import(request).unwrap();
        })
        .await
        .unwrap();
    let imported = read().await;
    assert_eq!(done(&imported), ["website", "import"]);
    assert_eq!((imported["steps"][1]["status"].as_str(), imported["empty"].as_bool()), (Some("2 orders"), Some(false)));
    // With data the dashboard has its numbers, and the checklist above them while steps are left.
    let dashboard = page(&w.router, Some(&w.owner), "GET", &format!("/b/{id}/"), &[]).await;
    assert!(dashboard.text.contains("data-testid=\"metrics\"") && dashboard.text.contains("data-testid=\"checklist\""));
    assert!(dashboard.text.contains("data-step=\"import\" data-done=\"true\""), "{}", dashboard.text);

    // A map from a template, and a colleague.
    let map = api(&w.router, Some(&w.owner), "POST", &format!("/api/businesses/{id}/maps"), Some(json!({"name": "First journey", "template": "coffee-shop"}))).await;
    assert_eq!(map.status, StatusCode::CREATED, "{}", map.text);
    let viewer = w.viewer.user.id;
    w.tracker.run(move |app| app.set_member(trailmap_model::BusinessId(id), viewer, Role::Viewer).unwrap()).await.unwrap();
    let later = read().await;
    assert_eq!(done(&later), ["website", "import", "map", "invite"]);
    assert_eq!(later["steps"][4]["status"], "2 members");
    assert_eq!(later["shown"], true, "suggested touchpoints are still to accept");

    // The viewer sees the checklist but none of its forms; hiding it is for editors and owners.
    let seen = page(&w.router, Some(&w.viewer), "GET", &format!("/b/{id}/"), &[]).await;
    assert!(seen.text.contains("data-testid=\"checklist\"") && !seen.text.contains("Hide this checklist"));
    let refused = api(&w.router, Some(&w.viewer), "PUT", &checklist, Some(json!({"hidden": true}))).await;
    assert_eq!((refused.status, refused.code().as_str()), (StatusCode::FORBIDDEN, "forbidden"));
    let hidden = page(&w.router, Some(&w.owner), "POST", &format!("/b/{id}/onboarding"), &[("hidden", "yes")]).await;
    assert_eq!((hidden.status, hidden.location()), (StatusCode::SEE_OTHER, format!("/b/{id}/").as_str()));
    let after = read().await;
    assert_eq!((after["shown"].as_bool(), after["hidden"].is_string()), (Some(false), true));
    let dashboard = page(&w.router, Some(&w.owner), "GET", &format!("/b/{id}/"), &[]).await;
    assert!(!dashboard.text.contains("data-testid=\"checklist\"") && dashboard.text.contains("Show the checklist"));
    let bad = page(&w.router, Some(&w.owner), "POST", &format!("/b/{id}/onboarding"), &[("hidden", "maybe")]).await;
    assert_eq!((bad.status, bad.code().as_str()), (StatusCode::BAD_REQUEST, "invalid_input"));
    assert!(bad.text.contains("hidden: &quot;maybe&quot; is neither yes nor no"), "{}", bad.text);
}

#[tokio::test]
async fn a_revoked_key_is_refused_at_once_and_listed_with_when() {
    let w = world();
    let b = w.bean.id;
    let made = api(&w.router, Some(&w.owner), "POST", &format!("/api/businesses/{b}/sources"), Some(json!({"name": "website"}))).await.json();
    let (id, key) = (made["source"]["id"].as_i64().unwrap(), made["write_key"].as_str().unwrap().to_string());
    assert_eq!(track(&w, &key, "m-1").await.status, StatusCode::OK);
    let revoked = api(&w.router, Some(&w.owner), "DELETE", &format!("/api/businesses/{b}/sources/{id}"), None).await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.text);
    assert!(revoked.json()["revoked"].is_string() && revoked.json()["last_used"].is_string(), "{}", revoked.text);
    // The server had the key in its cache; it is refused on its very next request all the same.
    let refused = track(&w, &key, "m-2").await;
    assert_eq!((refused.status, refused.code().as_str()), (StatusCode::UNAUTHORIZED, "invalid_write_key"), "{}", refused.text);
    let again = api(&w.router, Some(&w.owner), "DELETE", &format!("/api/businesses/{b}/sources/{id}"), None).await;
    assert_eq!((again.status, again.code().as_str()), (StatusCode::CONFLICT, "conflict"), "{}", again.text);
    // A key of another business is not found there.
    let elsewhere = api(&w.router, Some(&w.owner), "DELETE", &format!("/api/businesses/{}/sources/{id}", w.thread.id), None).await;
    assert_eq!((elsewhere.status, elsewhere.code().as_str()), (StatusCode::NOT_FOUND, "not_found"), "{}", elsewhere.text);
    let nameless = api(&w.router, Some(&w.owner), "POST", &format!("/api/businesses/{b}/sources"), Some(json!({"name": "  "}))).await;
    assert_eq!((nameless.status, nameless.code().as_str()), (StatusCode::BAD_REQUEST, "invalid_input"));
    assert!(nameless.text.contains("name"), "{}", nameless.text);

    // The page: a new key is shown once with its snippet; the list gives last use and revocation.
    let created = page(&w.router, Some(&w.owner), "POST", &format!("/b/{b}/settings/sources"), &[("name", "shop")]).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text);
    let shown = created.text.split("data-testid=\"secret\">").nth(1).unwrap().split('<').next().unwrap().to_string();
    assert_eq!(shown.len(), 64, "{shown}");
    assert!(created.text.contains(&format!("trailmap.init(&quot;{shown}&quot;")), "the snippet carries the key");
    let listed = page(&w.router, Some(&w.owner), "GET", &format!("/b/{b}/settings/sources"), &[]).await;
    assert!(!listed.text.contains(&shown), "the key is never shown again");
    assert!(listed.text.contains("revoked <time"), "{}", listed.text);
    assert!(listed.text.contains(" s ago</span> (<time"), "the revoked key's last use: {}", listed.text);
    let viewer_sees = page(&w.router, Some(&w.viewer), "GET", &format!("/b/{b}/settings/sources"), &[]).await;
    assert!(viewer_sees.status == StatusCode::OK && !viewer_sees.text.contains(">Revoke<") && !viewer_sees.text.contains("Create key"));
}

/// The checklist and comments in headless Chromium: an empty business's dashboard, a key made
/// from it, an event sent with that key seen arriving on the page without a reload, the map
/// started from the checklist, and a comment on one of its cards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn onboarding_and_comments_work_in_headless_chromium() {
    if playwright_chromium().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("onboarding.sqlite");
    let mut app = App::open(&db).unwrap();
    let now = Timestamp::from_millis(wall_clock());
    let user = app.create_user("bea@example.com", "Bea Baker", PASSWORD, now).unwrap();
    let bakery = app.create_business_owned(user.id, "Corner Bakery", "EUR", "Europe/Paris").unwrap();
    let (tracker, writer) = Writer::start(app);
    let state = ServerState::new(tracker, db.clone());
    let env = vec![
        ("TRAILMAP_EMAIL", "bea@example.com".to_string()),
        ("TRAILMAP_PASSWORD", PASSWORD.to_string()),
        ("BUSINESS_ID", bakery.id.to_string()),
    ];
    let (stdout, shots) = run_browser_script(router(state), "onboarding.mjs", env).await;
    for step in [
        "step: empty dashboard is the checklist, 0 of 5 done",
        "step: made a write key with its snippet",
        "step: the page saw the event arrive",
        "step: the dashboard ticked the website step",
        "step: started a map from the checklist",
        "step: commented on a card, count 1",
    ] {
        assert!(stdout.contains(step), "{step}: {stdout}");
    }
    assert_eq!(stdout.lines().last(), Some("ok"), "{stdout}");
    for name in ["onboarding-1-empty", "onboarding-2-key", "onboarding-3-received", "onboarding-4-ticked", "onboarding-5-comment"] {
        assert!(shots.join(format!("{name}.png")).metadata().unwrap().len() > 1000, "{name}.png is missing or empty");
    }
    drop(writer);
    // What the browser did is in the store: one event, one map, one comment by Bea.
    let app = App::open(&db).unwrap();
    let map = app.journey_maps(&bakery, now.date()).unwrap()[0].id;
    let comments = app.map_comments(&bakery, map).unwrap();
    assert_eq!(comments.iter().map(|c| (c.author_name.as_str(), c.text.as_str())).collect::<Vec<_>>(), [("Bea Baker", "Do we have numbers for this?")]);
    assert_eq!(app.store().summary(bakery.id).unwrap().events, 1);
}
