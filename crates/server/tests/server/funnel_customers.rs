//! The customers behind a funnel's counts, a page at a time: the funnel page links each step's
//! count to `/b/{id}/analysis/funnel/customers` (no ids in the link), which lists one page of
//! those customers by name with a link to the next; following the links pages through exactly
//! the customers the JSON API lists with `customers_at`, `limit` and `offset`, and their number
//! is the count the page showed.

use super::*;

/// The href of the first link whose text is exactly `text` in `html`, unescaped.
fn href_of(html: &str, text: &str) -> Option<String> {
    html.split("<a ").skip(1).find_map(|a| {
        let (attributes, rest) = a.split_once('>')?;
        let label = rest.split("</a>").next()?;
        (label.trim() == text).then_some(())?;
        let href = attributes.split("href=\"").nth(1)?.split('"').next()?;
        Some(href.replace("&amp;", "&"))
    })
}

/// The customer links (`/b/{id}/customers/{customer}`) of a listing, in page order.
fn listed_customers(html: &str, business: i64) -> Vec<i64> {
    let prefix = format!("href=\"/b/{business}/customers/");
    html.split(&prefix).skip(1).filter_map(|rest| rest.split('"').next()?.parse().ok()).collect()
}

#[tokio::test]
async fn a_steps_count_links_to_its_customers_paged_as_the_api_lists_them() {
    let w = analysed();
    let shop = w.shop.id.0;
    let funnel = page(&w.router, Some(&w.owner), "GET", &format!("/b/{shop}/analysis/funnel?steps=page_view,purchase"), &[]).await;
    assert_eq!(funnel.status, StatusCode::OK, "{}", funnel.text);
    assert!(!funnel.text.contains("customers?ids="), "no link carries ids");
    let api_funnel = api(&w.router, Some(&w.owner), "GET", &format!("/api/businesses/{shop}/analysis/funnel?steps=page_view,purchase"), None).await.json();
    let entered = api_funnel["report"]["report"]["overall"]["steps"][0]["reached"].as_u64().unwrap();
    assert!(entered > 100, "more than a page of customers entered: {entered}");
    let link = href_of(&funnel.text, &entered.to_string()).expect("step 1's count links to its customers");
    assert!(link.starts_with(&format!("/b/{shop}/analysis/funnel/customers?")) && link.contains("customers_at=1"), "{link}");

    // Following the pages' next links lists every customer once, as the API's pages do.
    let (mut from_pages, mut next, mut pages) = (Vec::new(), Some(link), 0);
    while let Some(path) = next.take() {
        let listing = page(&w.router, Some(&w.owner), "GET", &path, &[]).await;
        assert_eq!(listing.status, StatusCode::OK, "{path}: {}", listing.text);
        if pages == 0 {
            assert!(listing.text.contains(&format!("{entered} customers; 1 to 100 listed")), "{}", listing.text);
        }
        from_pages.extend(listed_customers(&listing.text, shop));
        next = href_of(&listing.text, &format!("Next {}", 100.min(entered as usize - from_pages.len())));
        pages += 1;
    }
    assert_eq!(pages, entered.div_ceil(100) as usize);
    let mut from_api = Vec::new();
    for offset in (0..entered).step_by(250) {
        let reply = api(&w.router, Some(&w.owner), "GET", &format!("/api/businesses/{shop}/analysis/funnel?steps=page_view,purchase&customers_at=1&limit=250&offset={offset}"), None).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        let shown = &reply.json()["report"]["customers"];
        assert_eq!((shown["step"].as_u64(), shown["total"].as_u64(), shown["label"].as_str()), (Some(1), Some(entered), Some("page_view")));
        from_api.extend(shown["customers"].as_array().unwrap().iter().map(|c| c.as_i64().unwrap()));
    }
    assert_eq!(from_pages.len() as u64, entered);
    assert_eq!(from_pages, from_api, "the pages list the API's customers in the same order");

    // A drop links to those who reached the step before but not this one.
    let purchased = api_funnel["report"]["report"]["overall"]["steps"][1]["reached"].as_u64().unwrap();
    let dropped = page(&w.router, Some(&w.owner), "GET", &format!("/b/{shop}/analysis/funnel/customers?steps=page_view,purchase&customers_at=2&customers_who=dropped&limit=1000"), &[]).await;
    assert_eq!(dropped.status, StatusCode::OK);
    let dropped = listed_customers(&dropped.text, shop);
    assert_eq!(dropped.len() as u64, entered - purchased);
    assert!(dropped.iter().all(|c| from_api.contains(c)), "who dropped had entered");

    // A bad page is the funnel's 400, naming the field.
    let bad = page(&w.router, Some(&w.owner), "GET", &format!("/b/{shop}/analysis/funnel/customers?steps=page_view,purchase&customers_at=3"), &[]).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.text.contains("customers_at: 3 is not a step of this funnel"), "{}", bad.text);
    w.finish();
}
