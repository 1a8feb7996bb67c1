//! Touchpoints over HTTP: the access matrix of every touchpoint route (pages and API); a business
//! made from zero through the API, its events sent through the tracking API, then touchpoints made,
//! previewed, refused (a rule that does not read: 400 `invalid_rule` with its field and offset, the
//! form's reason beside the field), edited, reordered and deleted, and suggestions accepted and
//! dismissed; and the pages in headless Chromium (browser/touchpoints.mjs).

use super::*;

/// Every touchpoint route that needs a touchpoint or data: (page or api, method, path with {b}
/// business, {t}, {t2}, {t3} touchpoints, body ({order} for the three ids), changes something).
/// The order is the owner's: the reorder runs while the three are the business's only ones.
const TOUCHPOINT_ROUTES: &[(&str, &str, &str, &str, bool)] = &[
    ("api", "PUT", "/api/businesses/{b}/touchpoints/order", "{order}", true),
    ("page", "GET", "/b/{b}/touchpoints/new", "", true),
    ("page", "POST", "/b/{b}/touchpoints", "name=Door+sign&channel=in-store&rule=store_visit&intent=preview", true),
    ("page", "POST", "/b/{b}/touchpoints", "name=Door+sign&channel=in-store&rule=store_visit&stage=Awareness&intent=save", true),
    ("page", "GET", "/b/{b}/touchpoints/{t}/edit", "", true),
    ("page", "POST", "/b/{b}/touchpoints/{t}/edit", "name=Counter&channel=in-store&rule=purchase&stage=Purchase&intent=save", true),
    ("page", "POST", "/b/{b}/touchpoints/{t}/move", "position=2", true),
    ("page", "GET", "/b/{b}/touchpoints/suggestions", "", false),
    ("page", "POST", "/b/{b}/touchpoints/suggestions", "action=dismiss&key=channel%3ADirect", true),
    ("page", "POST", "/b/{b}/touchpoints/{t2}/delete", "", true),
    ("api", "GET", "/api/businesses/{b}/touchpoints/{t}", "", false),
    ("api", "PATCH", "/api/businesses/{b}/touchpoints/{t}", r#"{"description":"At the counter"}"#, true),
    ("api", "GET", "/api/businesses/{b}/touchpoints/preview?rule=page_view%5Bpage%5E%3D%2Fcheckout%5D", "", false),
    ("api", "GET", "/api/businesses/{b}/touchpoints/suggestions", "", false),
    ("api", "POST", "/api/businesses/{b}/touchpoints/suggestions", r#"{"dismiss":["channel:Organic Search"]}"#, true),
    ("api", "POST", "/api/businesses/{b}/touchpoints", r#"{"name":"Web chat","channel":"web","rule":"chat_started"}"#, true),
    ("api", "DELETE", "/api/businesses/{b}/touchpoints/{t3}", "", true),
];

/// The touchpoint API routes as the OpenAPI document names them.
pub(super) fn api_routes() -> Vec<(String, String)> {
    let mut routes: Vec<(String, String)> = TOUCHPOINT_ROUTES
        .iter()
        .filter(|r| r.0 == "api")
        .map(|&(_, method, path, _, _)| {
            let path = path.split('?').next().unwrap().replace("{b}", "{business_id}");
            (method.to_string(), path.replace("{t3}", "{touchpoint_id}").replace("{t}", "{touchpoint_id}"))
        })
        .collect();
    routes.sort();
    routes.dedup();
    routes
}

const EVENTS: &str = "
customer ann
  2026-03-01 10:00:00 page_view page=/products/scarf channel=Direct
  +5m page_view page=/checkout channel=\"Organic Search\"
  +1m purchase
";

/// Makes a touchpoint by the API as `who` and answers its id.
async fn new_touchpoint(router: &Router, who: &Actor, business: trailmap_model::BusinessId, name: &str, rule: &str) -> i64 {
    let body = json!({"name": name, "channel": "web", "rule": rule});
    let reply = api(router, Some(who), "POST", &format!("/api/businesses/{business}/touchpoints"), Some(body)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    reply.json()["touchpoint"]["id"].as_i64().unwrap()
}

#[tokio::test]
async fn every_touchpoint_route_hides_other_businesses_and_refuses_writes_to_viewers() {
    let w = world();
    let bean = w.bean.clone();
    w.tracker.run(move |app| app.write_fixture(&trailmap_testkit::journeys(EVENTS).unwrap(), &bean).map(|_| ())).await.unwrap().unwrap();
    let t = new_touchpoint(&w.router, &w.owner, w.bean.id, "Till", "purchase").await;
    let t2 = new_touchpoint(&w.router, &w.owner, w.bean.id, "Cart", "page_view[page^=/cart]").await;
    let t3 = new_touchpoint(&w.router, &w.owner, w.bean.id, "Checkout", "page_view[page^=/checkout]").await;
    let fill = |path: &str, b: i64| {
        path.replace("{b}", &b.to_string()).replace("{t2}", &t2.to_string()).replace("{t3}", &t3.to_string()).replace("{t}", &t.to_string())
    };
    let body = |text: &str| text.replace("{order}", &json!({"order": [t3, t, t2]}).to_string());
    for &(kind, method, template, text, writes) in TOUCHPOINT_ROUTES {
        let (path, body) = (fill(template, w.bean.id.0), body(text));
        let label = format!("{method} {path}");
        let nobody = ask(&w, Asker::Nobody, kind, method, &path, &body).await;
        if kind == "api" {
            assert_eq!((nobody.status, nobody.code().as_str()), (StatusCode::UNAUTHORIZED, "unauthenticated"), "{label}");
        } else {
            assert_eq!(nobody.status, StatusCode::SEE_OTHER, "{label}");
            assert!(nobody.location().starts_with("/login?next="), "{label}");
        }
        let outsider = ask(&w, Asker::Outsider, kind, method, &path, &body).await;
        assert_eq!((outsider.status, outsider.code().as_str()), (StatusCode::NOT_FOUND, "not_found"), "{label}");
        let missing = ask(&w, Asker::Owner, kind, method, &fill(template, 999_999), &body).await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND, "{label}");
        if template.contains("{t") {
            // The touchpoint under another business of the same owner does not exist there.
            let elsewhere = ask(&w, Asker::Owner, kind, method, &fill(template, w.thread.id.0), &body).await;
            assert_eq!((elsewhere.status, elsewhere.code().as_str()), (StatusCode::NOT_FOUND, "not_found"), "{label} under Thread Shop");
        }
        let viewer = ask(&w, Asker::Viewer, kind, method, &path, &body).await;
        if writes {
            assert_eq!((viewer.status, viewer.code().as_str()), (StatusCode::FORBIDDEN, "forbidden"), "{label}");
        } else {
            assert_eq!(viewer.status, StatusCode::OK, "{label}: {}", viewer.text);
            if kind == "page" {
                assert!(!viewer.text.contains("data-testid=\"accept\"") && !viewer.text.contains("/move\""), "{label} shows edit controls to a viewer");
            }
        }
    }
    for &(kind, method, template, text, _) in TOUCHPOINT_ROUTES {
        let path = fill(template, w.bean.id.0);
        let reply = ask(&w, Asker::Owner, kind, method, &path, &body(text)).await;
        assert!(reply.status.is_success() || reply.status == StatusCode::SEE_OTHER, "{method} {path}: {} {}", reply.status, reply.text);
    }
    let bean = w.bean.clone();
    let app = w.finish();
    let left: Vec<(String, Option<String>)> = app.touchpoints(&bean).unwrap().into_iter().map(|t| (t.name, t.stage)).collect();
    assert_eq!(
        left,
        [("Counter".to_string(), Some("Purchase".to_string())), ("Door sign".to_string(), Some("Awareness".to_string())), ("Web chat".to_string(), None)]
    );
    assert_eq!(app.store().dismissed_touchpoint_suggestions(bean.id).unwrap(), ["channel:Direct", "channel:Organic Search"]);
}

/// A business made from zero: its events through the tracking API, then touchpoints made,
/// previewed and refused through the JSON API and the form, and suggestions accepted.
#[tokio::test]
async fn a_new_business_gets_touchpoints_from_its_tracked_events() {
    let w = world();
    let made = api(&w.router, Some(&w.owner), "POST", "/api/businesses", Some(json!({"name": "Corner Shop"}))).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    let id = made.json()["id"].as_i64().unwrap();
    let business = trailmap_model::BusinessId(id);
    let key = generate_write_key();
    let hashed = hash_write_key(&key);
    w.tracker
        .run(move |app| {
            let b = app.businesses()?.into_iter().find(|b| b.id == business).unwrap();
            app.create_write_key(&b, "website", &hashed)
        })
        .await
        .unwrap()
        .unwrap();
    let page = |anon: &str, at: &str, url: &str| json!({"type": "page", "anonymousId": anon, "timestamp": at, "context": {"page": {"url": url}}});
    let batch = json!({"batch": [
        page("v1", "2026-05-01T09:00:00Z", "https://corner.example/products/mug?utm_source=instagram&utm_medium=cpc"),
        page("v1", "2026-05-01T09:02:00Z", "https://corner.example/checkout"),
        page("v2", "2026-05-02T10:00:00Z", "https://corner.example/products/mug?utm_source=instagram&utm_medium=cpc"),
        page("v2", "2026-05-02T10:03:00Z", "https://corner.example/checkout/pay"),
        page("v3", "2026-05-03T11:00:00Z", "https://corner.example/contact"),
        {"type": "track", "event": "Order Completed", "anonymousId": "v1", "timestamp": "2026-05-01T09:05:00Z", "properties": {"revenue": 12}},
        // Long before the 30 days up to the last event: counted in all time only.
        page("v4", "2026-01-10T08:00:00Z", "https://corner.example/checkout"),
    ]});
    let sent = call(&w.router, "POST", "/v1/batch", &[("content-type", "application/json".into()), ("authorization", basic(&key))], serde_json::to_vec(&batch).unwrap()).await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.text);
    let base = format!("/api/businesses/{id}/touchpoints");
    let preview = |rule: &str| format!("{base}/preview?rule={}", form_urlencoded::byte_serialize(rule.as_bytes()).collect::<String>());

    // The preview: two checkout views by two visitors in the window, the older one outside it.
    let answer = api(&w.router, Some(&w.owner), "GET", &preview("page_view[page^=/checkout]"), None).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let p = answer.json();
    assert_eq!((p["events"].as_u64(), p["n"].as_u64(), p["all_time_events"].as_u64()), (Some(2), Some(2), Some(3)), "{p}");
    assert_eq!(p["examples"].as_array().unwrap().iter().map(|e| e["fields"]["page"].as_str().unwrap()).collect::<Vec<_>>(), ["/checkout/pay", "/checkout"]);
    assert_eq!((p["from"].as_str(), p["matches_nothing"].as_bool()), (Some("2026-04-03T11:00:00.001Z"), Some(false)), "{p}");
    let ads = api(&w.router, Some(&w.owner), "GET", &preview("[utm_source=instagram][utm_medium=cpc]"), None).await.json();
    assert_eq!((ads["events"].as_u64(), ads["n"].as_u64(), ads["rule"].as_str()), (Some(2), Some(2), Some("*[source=instagram][medium=cpc]")));
    let nothing = api(&w.router, Some(&w.owner), "GET", &preview("pageview"), None).await.json();
    assert_eq!(nothing["matches_nothing"], json!(true));
    assert!(nothing["notes"][0].as_str().unwrap().contains("order_completed, page_view") || nothing["notes"][0].as_str().unwrap().contains("page_view"), "{nothing}");
    let bad = api(&w.router, Some(&w.owner), "GET", &preview("page_view[page^=/checkout"), None).await;
    assert_eq!((bad.status, bad.code().as_str()), (StatusCode::BAD_REQUEST, "invalid_rule"), "{}", bad.text);
    assert_eq!((bad.json()["error"]["field"].as_str(), bad.json()["error"]["offset"].as_u64()), (Some("rule"), Some(25)));

    // Made through the API; refusals with stable codes.
    let create = |body: Value| api(&w.router, Some(&w.owner), "POST", &base, Some(body));
    let refused = create(json!({"name": "Checkout", "channel": "web", "rule": "page_view[page^=/checkout][items>lots]"})).await;
    assert_eq!((refused.status, refused.code().as_str()), (StatusCode::BAD_REQUEST, "invalid_rule"), "{}", refused.text);
    assert_eq!(refused.json()["error"]["offset"].as_u64(), Some(33));
    assert!(refused.json()["error"]["message"].as_str().unwrap().contains("\"lots\" is not a number"));
    let channel = create(json!({"name": "Checkout", "channel": "fax", "rule": "page_view"})).await;
    assert_eq!((channel.status, channel.code().as_str()), (StatusCode::BAD_REQUEST, "invalid_input"));
    let created = create(json!({"name": "Checkout", "channel": "web", "rule": "page_view[page^=/checkout]", "stage": "Purchase"})).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let checkout = created.json()["touchpoint"]["id"].as_i64().unwrap();
    assert_eq!((created.json()["touchpoint"]["stage"].as_str(), created.json()["touchpoint"]["position"].as_u64()), (Some("Purchase"), Some(1)));
    let twice = create(json!({"name": "checkout", "channel": "web", "rule": "purchase"})).await;
    assert_eq!((twice.status, twice.code().as_str()), (StatusCode::CONFLICT, "conflict"));
    // The catalogue counts it.
    let listed = api(&w.router, Some(&w.owner), "GET", &base, None).await.json();
    let row = &listed["catalogue"]["touchpoints"][0];
    assert_eq!((row["name"].as_str(), row["events"].as_u64(), row["customers"]["n"].as_u64()), (Some("Checkout"), Some(3), Some(3)), "{row}");

    // Suggestions: accept the ads channel (onto Awareness), dismiss the product pages.
    let found = api(&w.router, Some(&w.owner), "GET", &format!("{base}/suggestions"), None).await.json();
    let keys: Vec<&str> = found["suggestions"].as_array().unwrap().iter().map(|s| s["key"].as_str().unwrap()).collect();
    assert!(keys.contains(&"channel:Paid Social") && keys.contains(&"page:product") && !keys.contains(&"page:checkout"), "{keys:?}");
    let social = found["suggestions"].as_array().unwrap().iter().find(|s| s["key"] == "channel:Paid Social").unwrap();
    assert_eq!((social["volume"].as_u64(), social["n"].as_u64()), (Some(2), Some(2)));
    let chose = api(&w.router, Some(&w.owner), "POST", &format!("{base}/suggestions"), Some(json!({"accept": ["channel:Paid Social"], "dismiss": ["page:product"]}))).await;
    assert_eq!(chose.status, StatusCode::OK, "{}", chose.text);
    let accepted = &chose.json()["accepted"][0];
    assert_eq!((accepted["name"].as_str(), accepted["stage"].as_str(), accepted["channel"].as_str()), (Some("Paid Social"), Some("Awareness"), Some("ads")));
    let unknown = api(&w.router, Some(&w.owner), "POST", &format!("{base}/suggestions"), Some(json!({"accept": ["page:product"]}))).await;
    assert_eq!((unknown.status, unknown.code().as_str()), (StatusCode::BAD_REQUEST, "invalid_input"));
    let after = api(&w.router, Some(&w.owner), "GET", &format!("{base}/suggestions"), None).await.json();
    assert_eq!(after["dismissed"].as_u64(), Some(1));
    assert!(after["suggestions"].as_array().unwrap().iter().all(|s| s["key"] != "page:product" && s["key"] != "channel:Paid Social"));

    // Edit, reorder, read one, delete.
    let social_id = accepted["id"].as_i64().unwrap();
    let patched = api(&w.router, Some(&w.owner), "PATCH", &format!("{base}/{checkout}"), Some(json!({"name": "Checkout pages", "position": 2}))).await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
    assert_eq!((patched.json()["touchpoint"]["name"].as_str(), patched.json()["touchpoint"]["position"].as_u64()), (Some("Checkout pages"), Some(2)));
    let bad_patch = api(&w.router, Some(&w.owner), "PATCH", &format!("{base}/{checkout}"), Some(json!({"rule": "a||b"}))).await;
    assert_eq!((bad_patch.status, bad_patch.json()["error"]["offset"].as_u64()), (StatusCode::BAD_REQUEST, Some(2)));
    let order = api(&w.router, Some(&w.owner), "PUT", &format!("{base}/order"), Some(json!({"order": [checkout, social_id]}))).await;
    assert_eq!(order.json()["touchpoints"].as_array().unwrap().iter().map(|t| t["id"].as_i64().unwrap()).collect::<Vec<_>>(), [checkout, social_id]);
    let partial = api(&w.router, Some(&w.owner), "PUT", &format!("{base}/order"), Some(json!({"order": [checkout]}))).await;
    assert_eq!((partial.status, partial.code().as_str()), (StatusCode::BAD_REQUEST, "invalid_input"));
    let one = api(&w.router, Some(&w.owner), "GET", &format!("{base}/{checkout}"), None).await.json();
    assert_eq!((one["rule"].as_str(), one["position"].as_u64()), (Some("page_view[page^=/checkout]"), Some(1)));
    let gone = api(&w.router, Some(&w.owner), "DELETE", &format!("{base}/{social_id}"), None).await;
    assert_eq!((gone.status, gone.json()["name"].as_str()), (StatusCode::OK, Some("Paid Social")));

    // The form: a rule that does not read comes back beside the field, with what was typed kept;
    // the Preview button answers without JavaScript and saves nothing.
    let form_path = format!("/b/{id}/touchpoints");
    let fields = [("name", "Contact"), ("channel", "web"), ("rule", "page_view[page^=/contact"), ("stage", "Consideration"), ("intent", "save")];
    let back = super::page(&w.router, Some(&w.owner), "POST", &form_path, &fields).await;
    assert_eq!(back.status, StatusCode::BAD_REQUEST, "{}", back.text);
    let beside = back.text.split("data-testid=\"rule-error\"").nth(1).unwrap();
    assert!(beside.contains("At offset 24: the condition opened at offset 9 lacks its closing"), "{beside}");
    assert!(beside.contains("<mark>") && back.text.contains("value=\"page_view[page^=/contact\""));
    let mut previewing = fields;
    previewing[2].1 = "page_view[page^=/contact]";
    previewing[4].1 = "preview";
    let shown = super::page(&w.router, Some(&w.owner), "POST", &form_path, &previewing).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.text);
    assert!(shown.text.contains("Matches 1 event of 1 customer from 2026-04-03 to 2026-05-03"), "{}", shown.text);
    previewing[4].1 = "save";
    let saved = super::page(&w.router, Some(&w.owner), "POST", &form_path, &previewing).await;
    assert_eq!((saved.status, saved.location()), (StatusCode::SEE_OTHER, form_path.as_str()));
    let listing = super::page(&w.router, Some(&w.owner), "GET", &form_path, &[]).await;
    assert!(listing.text.contains("data-name=\"Contact\"") && listing.text.contains("href=\"/b/") && listing.text.contains("Suggestions from your data"));
    let app = w.finish();
    let b = app.businesses().unwrap().into_iter().find(|b| b.id == business).unwrap();
    assert_eq!(app.touchpoints(&b).unwrap().into_iter().map(|t| t.name).collect::<Vec<_>>(), ["Checkout pages", "Contact"]);
}

/// The touchpoint form with its live preview and the suggestions page in headless Chromium,
/// driven by `browser/touchpoints.mjs`; screenshots go to SCREENSHOT_DIR as touchpoints-*.png.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_touchpoint_form_previews_live_and_suggestions_accept_in_headless_chromium() {
    if playwright_chromium().is_none() {
        return;
    }
    let w = world();
    let bean = w.bean.clone();
    let fixture = "
        customer ann
          2026-03-01 10:00:00 page_view page=/products/scarf channel=\"Paid Social\" source=instagram medium=cpc
          +5m page_view page=/checkout channel=\"Paid Social\"
          +1m purchase
        customer bob
          2026-03-02 11:00:00 page_view page=/checkout/pay channel=\"Organic Search\"
        customer cy
          2026-03-03 12:00:00 page_view page=/products/hat channel=\"Paid Social\"
    ";
    w.tracker.run(move |app| app.write_fixture(&trailmap_testkit::journeys(fixture).unwrap(), &bean).map(|_| ())).await.unwrap().unwrap();
    let env = vec![
        ("TRAILMAP_EMAIL", "olive@example.com".to_string()),
        ("TRAILMAP_PASSWORD", PASSWORD.to_string()),
        ("BUSINESS_ID", w.bean.id.to_string()),
    ];
    let (stdout, shots) = run_browser_script(w.router.clone(), "touchpoints.mjs", env).await;
    for step in [
        "step: the rule error shows live: At offset 25: the condition opened at offset 9 lacks its closing ']'",
        "step: live preview: Matches 2 events of 2 customers",
        "step: a rule matching nothing says so: Matches nothing",
        "step: saved, listed with 2 events",
        "step: accepted Paid Social",
        "step: no-script preview: Matches 2 events of 2 customers",
    ] {
        assert!(stdout.contains(step), "missing step {step:?}:\n{stdout}");
    }
    assert!(stdout.lines().last() == Some("ok"), "{stdout}");
    assert!(shots.join("touchpoints-2-preview.png").exists());
    let bean = w.bean.clone();
    let app = w.finish();
    let made: Vec<(String, Option<String>)> = app.touchpoints(&bean).unwrap().into_iter().map(|t| (t.name, t.stage)).collect();
    assert_eq!(made, [("Checkout page".to_string(), Some("Purchase".to_string())), ("Paid Social".to_string(), Some("Awareness".to_string()))]);
}
