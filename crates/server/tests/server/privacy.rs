//! One customer's data on request through the API and the customer page, on a café made from zero
//! (visits through the tracking API, orders imported): only owners export and erase (a viewer
//! gets 403, another business's user 404); the export holds the customer's events and orders; the
//! erasure answers its counts, the customer is gone from the API and the dashboard's counts, and a
//! client retrying one of their messages is answered 200 while the message is dropped as `erased`.

use super::personas::cafe;
use super::{api, basic, call, page, session_cookie};
use axum::http::StatusCode;
use serde_json::json;

#[tokio::test]
async fn owners_export_and_erase_a_customer_and_a_retry_does_not_bring_them_back() {
    let c = cafe(false).await;
    let b = c.business.id;
    let export_path = format!("/api/businesses/{b}/customers/ann/export");
    // Access: the viewer may not; an unknown person is a 404 that names what was looked for.
    let viewer = api(&c.router, Some(&c.viewer), "GET", &export_path, None).await;
    assert_eq!((viewer.status, viewer.code().as_str()), (StatusCode::FORBIDDEN, "forbidden"));
    let viewer_erase = api(&c.router, Some(&c.viewer), "DELETE", &format!("/api/businesses/{b}/customers/ann"), None).await;
    assert_eq!(viewer_erase.status, StatusCode::FORBIDDEN);
    let nobody = api(&c.router, Some(&c.owner), "GET", &format!("/api/businesses/{b}/customers/zed/export"), None).await;
    assert_eq!((nobody.status, nobody.code().as_str()), (StatusCode::NOT_FOUND, "not_found"));
    assert!(nobody.text.contains("zed"), "{}", nobody.text);
    let other = api(&c.router, Some(&c.owner), "GET", "/api/businesses/999999/customers/ann/export", None).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);

    // Ann (by her own id "ann"): her visit and three orders (each with its purchase event).
    let export = api(&c.router, Some(&c.owner), "GET", &export_path, None).await;
    assert_eq!(export.status, StatusCode::OK, "{}", export.text);
    let doc = export.json();
    assert_eq!(doc["format"], "trailmap.customer-export");
    let orders: Vec<&str> = doc["orders"].as_array().unwrap().iter().map(|o| o["external_id"].as_str().unwrap()).collect();
    assert_eq!(orders, ["A-1", "A-2", "A-3"]);
    let events = doc["events"].as_array().unwrap();
    assert_eq!(events.iter().filter(|e| e["name"] == "purchase").count(), 3);
    assert!(events.iter().any(|e| e["name"] == "page_view" && e["source"] == "friend"), "{events:?}");
    let ann_id = doc["customer"]["id"].as_i64().unwrap();

    // The page offers both to the owner, not to the viewer.
    let shown = page(&c.router, Some(&c.owner), "GET", &format!("/b/{b}/customers/{ann_id}"), &[]).await;
    assert!(shown.text.contains("data-testid=\"erase-customer\"") && shown.text.contains("data-testid=\"export-customer\""));
    let for_viewer = page(&c.router, Some(&c.viewer), "GET", &format!("/b/{b}/customers/{ann_id}"), &[]).await;
    assert!(!for_viewer.text.contains("erase-customer"));
    let download = call(&c.router, "GET", &format!("/b/{b}/customers/{ann_id}/export"), &[session_cookie(&c.owner.token)], vec![]).await;
    assert_eq!(download.status, StatusCode::OK);
    assert!(download.headers["content-disposition"].to_str().unwrap().contains(&format!("customer-{ann_id}.json")));
    // The page's erase needs the box ticked.
    let unticked = page(&c.router, Some(&c.owner), "POST", &format!("/b/{b}/customers/{ann_id}/erase"), &[]).await;
    assert_eq!(unticked.status, StatusCode::BAD_REQUEST);

    let summary_path = format!("/api/businesses/{b}/summary");
    let before = api(&c.router, Some(&c.owner), "GET", &summary_path, None).await.json()["summary"].clone();
    let erased = api(&c.router, Some(&c.owner), "DELETE", &format!("/api/businesses/{b}/customers/ann"), None).await;
    assert_eq!(erased.status, StatusCode::OK, "{}", erased.text);
    let e = erased.json();
    assert_eq!((e["customers"].as_u64(), e["orders"].as_u64(), e["events"].as_u64()), (Some(1), Some(3), Some(events.len() as u64)));
    let after = api(&c.router, Some(&c.owner), "GET", &summary_path, None).await.json()["summary"].clone();
    assert_eq!(after["customers"].as_u64().unwrap(), before["customers"].as_u64().unwrap() - 1, "{before} {after}");
    assert_eq!(after["orders"].as_u64().unwrap(), before["orders"].as_u64().unwrap() - 3);
    assert_eq!(api(&c.router, Some(&c.owner), "GET", &export_path, None).await.status, StatusCode::NOT_FOUND);
    let listed = api(&c.router, Some(&c.owner), "GET", &format!("/api/businesses/{b}/erasures"), None).await.json();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert!(!listed.to_string().contains("ann"), "the list keeps counts, not whose: {listed}");

    // A client retries Ann's visit: 200 as Segment expects, dropped with its reason, not stored.
    let retry = json!({"batch": [{"type": "page", "userId": "ann", "messageId": "visit-ann-retry", "timestamp": "2026-01-05T09:00:00Z"}]});
    let headers = [("content-type", "application/json".to_string()), ("authorization", basic(&c.key))];
    let sent = call(&c.router, "POST", "/v1/batch", &headers, serde_json::to_vec(&retry).unwrap()).await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.text);
    let again = api(&c.router, Some(&c.owner), "GET", &summary_path, None).await.json()["summary"].clone();
    assert_eq!((again["customers"].clone(), again["events"].clone()), (after["customers"].clone(), after["events"].clone()));
    assert_eq!(api(&c.router, Some(&c.owner), "GET", &export_path, None).await.status, StatusCode::NOT_FOUND);
    let app = c.finish();
    let business = app.business(Some("Corner Cafe")).unwrap();
    assert!(app.tracking_drops(&business).unwrap().contains(&("erased".to_string(), 1)));
}

#[tokio::test]
async fn owners_set_the_retention_and_members_read_it() {
    let c = cafe(false).await;
    let path = format!("/api/businesses/{}/retention", c.business.id);
    let read = api(&c.router, Some(&c.viewer), "GET", &path, None).await;
    assert_eq!((read.status, read.json()["days"].clone()), (StatusCode::OK, serde_json::Value::Null));
    let viewer = api(&c.router, Some(&c.viewer), "PUT", &path, Some(json!({"days": 30}))).await;
    assert_eq!(viewer.status, StatusCode::FORBIDDEN);
    let zero = api(&c.router, Some(&c.owner), "PUT", &path, Some(json!({"days": 0}))).await;
    assert_eq!((zero.status, zero.code().as_str()), (StatusCode::BAD_REQUEST, "invalid_input"));
    assert!(zero.text.contains("retention"), "{}", zero.text);
    let set = api(&c.router, Some(&c.owner), "PUT", &path, Some(json!({"days": 30}))).await;
    assert_eq!((set.status, set.json()["days"].as_u64()), (StatusCode::OK, Some(30)));
    assert_eq!(api(&c.router, Some(&c.viewer), "GET", &path, None).await.json()["days"], 30);
    c.finish();
}
