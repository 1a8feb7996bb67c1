//! The action board (issue 24, item 6) on the page and the API: the demo boutique's action with
//! the pain point it answers and its change's verdict with n, the same on both; the filters read
//! by the app's one request, a bad one a 400 naming the field; the page linked from the business's
//! navigation.

use super::*;

#[tokio::test]
async fn the_action_board_lists_the_demo_action_with_its_change_verdict_on_the_page_and_the_api() {
    let a = analysed();
    let shop = a.shop.id;
    let answer = api(&a.router, Some(&a.viewer), "GET", &format!("/api/businesses/{shop}/actions"), None).await;
    assert_eq!(answer.status, StatusCode::OK);
    let board = answer.json();
    assert_eq!((board["total"].as_u64(), board["done"].as_u64()), (Some(1), Some(1)), "{board}");
    let item = &board["items"][0];
    assert_eq!((item["owner"].as_str(), item["status"].as_str(), item["overdue"].as_bool()), (Some("Priya Patel"), Some("done"), Some(false)));
    let pain = item["from"]["text"].as_str().expect("the action answers a pain point");
    let verdict = item["change"]["verdict"].as_str().expect("the change has a verdict");
    assert!(item["change"]["n_before"].as_u64().unwrap() > 0 && item["change"]["n_after"].as_u64().unwrap() > 0, "{item}");

    let html = page(&a.router, Some(&a.viewer), "GET", &format!("/b/{shop}/actions"), &[]).await;
    assert_eq!(html.status, StatusCode::OK, "{}", html.text);
    assert!(html.text.contains(&format!("href=\"/b/{shop}/actions\"")), "the navigation links the board");
    let escape = |t: &str| t.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;");
    for shown in [pain, verdict, "Priya Patel", "1 action card across the maps (n): 0 open, 0 overdue, 1 done"] {
        assert!(html.text.contains(&escape(shown)), "{shown} is not on the page");
    }

    // Filters: nothing is overdue; an unknown owner keeps nothing; a bad status is a 400.
    let overdue = api(&a.router, Some(&a.viewer), "GET", &format!("/api/businesses/{shop}/actions?status=overdue&sort=owner"), None).await.json();
    assert_eq!((overdue["items"].as_array().unwrap().len(), overdue["total"].as_u64()), (0, Some(1)));
    let filtered = page(&a.router, Some(&a.viewer), "GET", &format!("/b/{shop}/actions?owner=Nobody"), &[]).await;
    assert!(filtered.text.contains("No action matches these filters."));
    let bad = api(&a.router, Some(&a.viewer), "GET", &format!("/api/businesses/{shop}/actions?status=late"), None).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.json()["error"]["message"].as_str().unwrap().starts_with("status: "), "{}", bad.text);
}
