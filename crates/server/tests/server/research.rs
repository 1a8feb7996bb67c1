//! The research library over HTTP (issue 24): the API's list with its filters and counts, tags and
//! citations held to the access rules (viewers read, editors write, others see nothing), the live
//! evidence of a map's cards, the page's forms, and the library driven in headless Chromium.

use super::*;

#[tokio::test]
async fn the_library_api_filters_tags_cites_and_answers_live_evidence_by_the_access_rules() {
    let w = analysed();
    let shop = w.shop.id;
    let list = api(&w.router, Some(&w.viewer), "GET", &format!("/api/businesses/{shop}/research?search=shipping&kind=survey"), None).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    let body = list.json();
    let n = body["n"].as_u64().unwrap();
    assert!(n >= 2 && body["total"].as_u64().unwrap() > n, "{body}");
    let items = body["items"].as_array().unwrap();
    assert!(items.iter().all(|i| i["kind"] == "survey" && i["text"].as_str().unwrap().to_lowercase().contains("shipping")));
    let bad = api(&w.router, Some(&w.viewer), "GET", &format!("/api/businesses/{shop}/research?sentiment=angry"), None).await;
    assert_eq!((bad.status, bad.code().as_str()), (StatusCode::BAD_REQUEST, "invalid_input"), "{}", bad.text);
    assert!(bad.text.contains("sentiment"), "{}", bad.text);

    let (first, second) = (items[0]["feedback"].as_i64().unwrap(), items[1]["feedback"].as_i64().unwrap());
    let tags = format!("/api/businesses/{shop}/research/{first}/tags");
    let refused = api(&w.router, Some(&w.viewer), "POST", &tags, Some(json!({"add": ["fees"]}))).await;
    assert_eq!((refused.status, refused.code().as_str()), (StatusCode::FORBIDDEN, "forbidden"));
    let hidden = api(&w.router, Some(&w.outsider), "POST", &tags, Some(json!({"add": ["fees"]}))).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    let tagged = api(&w.router, Some(&w.owner), "POST", &tags, Some(json!({"add": ["Fees", "checkout"]}))).await;
    assert_eq!((tagged.status, tagged.json()["tags"].clone()), (StatusCode::OK, json!(["fees", "checkout"])), "{}", tagged.text);
    let wrong = api(&w.router, Some(&w.owner), "POST", &tags, Some(json!({"add": ["two words"]}))).await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    let none = api(&w.router, Some(&w.owner), "POST", &format!("/api/businesses/{shop}/research/999999/tags"), Some(json!({"add": ["x"]}))).await;
    assert_eq!(none.status, StatusCode::NOT_FOUND, "{}", none.text);
    let by_tag = api(&w.router, Some(&w.viewer), "GET", &format!("/api/businesses/{shop}/research?tag=fees"), None).await.json();
    assert_eq!((by_tag["n"].as_u64(), by_tag["items"][0]["feedback"].as_i64()), (Some(1), Some(first)));

    // Two quotes cited on a pain point of the demo map; the evidence answers them live.
    let maps = api(&w.router, Some(&w.viewer), "GET", &format!("/api/businesses/{shop}/maps"), None).await.json();
    let map = maps["maps"][0]["id"].as_i64().unwrap();
    let shown = api(&w.router, Some(&w.viewer), "GET", &format!("/api/businesses/{shop}/maps/{map}"), None).await.json();
    let stages = shown["map"]["stages"].as_array().unwrap();
    let card = stages[1]["pain_points"][0]["id"].as_u64().unwrap();
    let cite = format!("/api/businesses/{shop}/maps/{map}/cards/{card}/quotes");
    let refused = api(&w.router, Some(&w.viewer), "POST", &cite, Some(json!({"feedback": [first, second]}))).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let cited = api(&w.router, Some(&w.owner), "POST", &cite, Some(json!({"feedback": [first, second]}))).await;
    assert_eq!((cited.status, cited.json()["added"].as_u64()), (StatusCode::OK, Some(2)), "{}", cited.text);
    let foreign = api(&w.router, Some(&w.owner), "POST", &format!("/api/businesses/{}/maps/{map}/cards/{card}/quotes", w.cafe.id), Some(json!({"feedback": [first]}))).await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND, "another business's map: {}", foreign.text);
    let evidence = api(&w.router, Some(&w.viewer), "GET", &format!("/api/businesses/{shop}/maps/{map}/evidence?from=2025-11-01&to=2026-10-31"), None).await;
    assert_eq!(evidence.status, StatusCode::OK, "{}", evidence.text);
    let evidence = evidence.json();
    let on_card = &evidence["cards"][card.to_string()];
    assert_eq!(on_card["quotes"].as_u64(), Some(2), "{on_card}");
    assert!(on_card["items"].as_array().unwrap().iter().all(|i| i["kind"] == "quote" && i["date"].is_string() && i["source"].is_string()));
    // The demo's own stories: the checkout pain point's conversion, computed with its n.
    let metric = evidence["cards"].as_object().unwrap().values().flat_map(|c| c["items"].as_array().unwrap().iter()).find(|i| i["kind"] == "metric").unwrap();
    assert!(metric["figure"]["value"]["n"].as_u64().unwrap() > 0, "{metric}");
    assert!(evidence["evidenced"].as_u64().unwrap() >= 3, "{evidence}");
    let listed = api(&w.router, Some(&w.viewer), "GET", &format!("/api/businesses/{shop}/research?tag=fees"), None).await.json();
    assert_eq!(listed["items"][0]["cited_by"][0]["card"].as_u64(), Some(card));
}

#[tokio::test]
async fn the_library_page_tags_and_attaches_through_its_forms() {
    let w = analysed();
    let shop = w.shop.id;
    let library = page(&w.router, Some(&w.owner), "GET", &format!("/b/{shop}/research?kind=survey&search=shipping"), &[]).await;
    assert_eq!(library.status, StatusCode::OK);
    assert!(library.text.contains("data-testid=\"cite-form\""), "editors get the attach form");
    let seen = page(&w.router, Some(&w.viewer), "GET", &format!("/b/{shop}/research"), &[]).await;
    assert!(seen.status == StatusCode::OK && !seen.text.contains("cite-form") && !seen.text.contains("add-tag"), "viewers only read");
    let refused = page(&w.router, Some(&w.owner), "GET", &format!("/b/{shop}/research?from=2026-01-01"), &[]).await;
    assert!(refused.text.contains("data-testid=\"research-error\"") && refused.text.contains("from and to"), "a bad filter is said beside the form");

    let quote = w.tracker.run(move |app| {
        let b = app.business(Some("Thread & Needle")).unwrap();
        let library = app.research(&b, &trailmap_app::research::ResearchQuery::default()).unwrap();
        library.items[0].feedback
    }).await.unwrap();
    let back = format!("/b/{shop}/research?kind=review");
    let tagged = page(&w.router, Some(&w.owner), "POST", &format!("/b/{shop}/research/{quote}/tags"), &[("add", "gift"), ("back", &back)]).await;
    assert_eq!((tagged.status, tagged.location()), (StatusCode::SEE_OTHER, back.as_str()));
    let elsewhere = page(&w.router, Some(&w.owner), "POST", &format!("/b/{shop}/research/{quote}/tags"), &[("remove", "gift"), ("back", "https://evil.example/")]).await;
    assert_eq!(elsewhere.location(), format!("/b/{shop}/research"), "never sent off the library");
    let viewer = page(&w.router, Some(&w.viewer), "POST", &format!("/b/{shop}/research/{quote}/tags"), &[("add", "x")]).await;
    assert_eq!(viewer.status, StatusCode::FORBIDDEN);

    let maps = api(&w.router, Some(&w.owner), "GET", &format!("/api/businesses/{shop}/maps"), None).await.json();
    let map = maps["maps"][0]["id"].as_i64().unwrap();
    let cited = page(&w.router, Some(&w.owner), "POST", &format!("/b/{shop}/research/cite"), &[("card", &format!("{map}:1")), ("quote", &quote.to_string())]).await;
    assert_eq!((cited.status, cited.location()), (StatusCode::SEE_OTHER, format!("/b/{shop}/maps/{map}#card-1").as_str()), "{}", cited.text);
    let unchosen = page(&w.router, Some(&w.owner), "POST", &format!("/b/{shop}/research/cite"), &[("quote", &quote.to_string())]).await;
    assert_eq!(unchosen.status, StatusCode::BAD_REQUEST, "{}", unchosen.text);
    let shown = page(&w.router, Some(&w.owner), "GET", &format!("/b/{shop}/maps/{map}"), &[]).await;
    assert!(shown.text.contains("data-testid=\"evidence-summary\"") && shown.text.contains("rest on evidence"), "the map counts the cards on evidence");
    assert!(shown.text.contains("data-testid=\"card-quote\""));
}

/// Two quotes attached from the library to a card in headless Chromium, then seen on the map
/// beside a live metric; screenshots go to SCREENSHOT_DIR as research-*.png.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quotes_attached_from_the_library_show_on_the_card_in_headless_chromium() {
    if playwright_chromium().is_none() {
        return;
    }
    let w = analysed();
    let env = vec![
        ("TRAILMAP_EMAIL", "ann@example.com".to_string()),
        ("TRAILMAP_PASSWORD", PASSWORD.to_string()),
        ("BUSINESS_ID", w.shop.id.to_string()),
        ("CARD_TEXT", "Size guide hard to find".to_string()),
    ];
    let (stdout, shots) = run_browser_script(w.router.clone(), "research.mjs", env).await;
    for step in ["step: the library lists", "ticked two quotes", "step: the card shows the two quotes", "step: live metric on the map: ✓ conversion", "quotes say where they are cited", "step: tagged a quote #fees"] {
        assert!(stdout.contains(step), "missing step {step:?}:\n{stdout}");
    }
    assert!(stdout.lines().last() == Some("ok"), "{stdout}");
    assert!(shots.join("research-2-card.png").exists());
}
