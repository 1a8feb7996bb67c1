//! Issue 25, numbers an owner can trust: every page opens with `<!DOCTYPE html>` (before it, the
//! layout wrote the doctype inside `<html>`, which puts browsers in quirks mode), and the map's
//! live numbers each carry a one-click definition.

use super::*;

/// The pages a member reaches on the demo, the sign-in and error pages, and a shared map.
#[tokio::test]
async fn every_page_starts_with_the_doctype() {
    let w = analysed();
    let (shop, cafe) = (w.shop.id, w.cafe.id);
    let mut paths = vec![
        "/businesses".to_string(),
        "/account/keys".to_string(),
        format!("/b/{shop}/"),
        format!("/b/{shop}/customers"),
        format!("/b/{shop}/settings/members"),
        format!("/b/{shop}/settings/sources"),
        format!("/b/{shop}/analysis/"),
        format!("/b/{shop}/surveys"),
        format!("/b/{shop}/feedback"),
        format!("/b/{shop}/maps"),
        format!("/b/{shop}/personas"),
        format!("/b/{shop}/personas/new"),
        format!("/b/{shop}/touchpoints"),
        format!("/b/{shop}/touchpoints/new"),
        format!("/b/{shop}/changes"),
        format!("/b/{shop}/insights"),
        format!("/b/{cafe}/"),
    ];
    for (slug, _) in ANALYSES {
        paths.push(format!("/b/{cafe}/analysis/{slug}"));
    }
    let maps = api(&w.router, Some(&w.owner), "GET", &format!("/api/businesses/{cafe}/maps"), None).await.json();
    let map = maps["maps"][0]["id"].as_i64().expect("the demo café has a map");
    paths.push(format!("/b/{cafe}/maps/{map}"));
    paths.push(format!("/b/{cafe}/maps/{map}/versions"));
    let (token, _) = new_link(&w.router, &w.owner, w.cafe.id, map, json!({})).await;
    for path in &paths {
        let reply = page(&w.router, Some(&w.owner), "GET", path, &[]).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.text);
        assert!(reply.text.starts_with("<!DOCTYPE html><html lang=\"en\">"), "{path}: {}", &reply.text[..reply.text.len().min(80)]);
    }
    // Signed out: the sign-in page, a shared map, and an error page.
    for (path, status) in [("/login".to_string(), StatusCode::OK), (format!("/share/{token}"), StatusCode::OK), (format!("/b/{shop}/maps/999999"), StatusCode::NOT_FOUND)] {
        let who = if status == StatusCode::NOT_FOUND { Some(&w.owner) } else { None };
        let reply = page(&w.router, who, "GET", &path, &[]).await;
        assert_eq!(reply.status, status, "{path}: {}", reply.text);
        assert!(reply.text.starts_with("<!DOCTYPE html><html lang=\"en\">"), "{path}: {}", &reply.text[..reply.text.len().min(80)]);
    }
    w.finish();
}
