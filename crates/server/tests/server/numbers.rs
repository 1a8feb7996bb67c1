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

/// The attribution page opens on new customers, and its sentence tells the coffee shop's story:
/// referrals bring most of them. Over every conversion, the repeat purchases at the till have no
/// recorded touch: the page says so in a line of its own, with its n and a link to those
/// customers, and no channel of the table or chart stands for them; asked for first purchases,
/// referrals lead under every model.
#[tokio::test]
async fn the_attribution_page_counts_conversions_without_a_touch_apart() {
    let w = analysed();
    let cafe = w.cafe.id;
    let opened = page(&w.router, Some(&w.owner), "GET", &format!("/b/{cafe}/analysis/attribution"), &[]).await;
    assert_eq!(opened.status, StatusCode::OK, "{}", opened.text);
    let sentence = opened.text.split("data-testid=\"analysis-summary\">").nth(1).expect("the answer").split("</p>").next().unwrap();
    assert!(sentence.starts_with("Most new customers come from Referral: "), "{sentence}");
    assert!(sentence.contains(" new customers with a recorded touch") && sentence.contains("of the ad spend ($"), "{sentence}");
    assert!(!opened.text.contains("data-testid=\"analysis-aside\""), "every new customer arrived through a touch");
    let reply = page(&w.router, Some(&w.owner), "GET", &format!("/b/{cafe}/analysis/attribution?count=all"), &[]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let aside = reply.text.split("data-testid=\"analysis-aside\">").nth(1).expect("the no-touch line").split("</p>").next().unwrap();
    assert!(aside.contains(&format!("href=\"/b/{cafe}/customers?ids=")) && aside.contains("No recorded touch: "), "{aside}");
    assert!(!reply.text.contains("(none)"), "no channel called (none)");
    let first = api(&w.router, Some(&w.owner), "GET", &format!("/api/businesses/{cafe}/analysis/attribution?count=first"), None).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let a = &first.json()["report"]["attribution"];
    assert_eq!(a["conversions_without_touch"], 0, "every new customer arrived through a touch");
    for model in a["models"].as_array().unwrap().iter().filter(|m| ["first", "last", "linear", "markov"].contains(&m["model"].as_str().unwrap())) {
        let credits = model["credits"].as_array().unwrap();
        let top = credits.iter().max_by(|x, y| x["conversions"].as_f64().unwrap().total_cmp(&y["conversions"].as_f64().unwrap())).unwrap();
        assert_eq!(top["channel"], "Referral", "{}: {credits:?}", model["model"]);
        assert!(top["share"].as_f64().unwrap() > 0.4, "{}: {}", model["model"], top["share"]);
    }
    let bad = page(&w.router, Some(&w.owner), "GET", &format!("/b/{cafe}/analysis/attribution?count=some"), &[]).await;
    assert_eq!((bad.status, bad.code().as_str()), (StatusCode::BAD_REQUEST, "invalid_input"));
    w.finish();
}

/// The funnel page offers the business's stages, touchpoints and events with their customers to
/// pick a step from, a picked step joins the end of the funnel, and the page answers in a
/// sentence with its n, names its period and folds the definitions under "How this is computed".
#[tokio::test]
async fn the_funnel_page_picks_steps_and_answers_in_a_sentence() {
    let w = analysed();
    let cafe = w.cafe.id;
    let opened = page(&w.router, Some(&w.owner), "GET", &format!("/b/{cafe}/analysis/funnel"), &[]).await;
    assert_eq!(opened.status, StatusCode::OK, "{}", opened.text);
    let picker = opened.text.split("data-testid=\"picker-add_step\">").nth(1).expect("the step picker").split("</select>").next().unwrap();
    for group in ["<optgroup label=\"Stages\">", "<optgroup label=\"Touchpoints\">", "<optgroup label=\"Events\">"] {
        assert!(picker.contains(group), "{group} in {picker}");
    }
    assert!(picker.contains("<option value=\"stage:Purchase\">Purchase (") && picker.contains("<option value=\"purchase\">purchase ("), "{picker}");
    assert!(picker.contains(" customers)</option>"), "each choice with its customers: {picker}");
    let added = page(&w.router, Some(&w.owner), "GET", &format!("/b/{cafe}/analysis/funnel?steps=store_visit&add_step=stage%3APurchase"), &[]).await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.text);
    assert!(added.text.contains("value=\"store_visit,stage:Purchase\""), "the picked step joined the steps field");
    let sentence = added.text.split("data-testid=\"analysis-summary\">").nth(1).expect("the answer").split("</p>").next().unwrap();
    assert!(sentence.contains(" customers who started at “store_visit” went on to the Purchase stage within 7 days"), "{sentence}");
    let period = added.text.split("data-testid=\"analysis-period\">").nth(1).expect("the period").split("</p>").next().unwrap();
    assert!(period.trim_start().starts_with("Period: every recorded day, "), "{period}");
    assert!(added.text.contains("<summary>How this is computed</summary>") && added.text.contains("None is ever above 100 %"));
    let bad = page(&w.router, Some(&w.owner), "GET", &format!("/b/{cafe}/analysis/funnel?steps=store_visit&add_step=stage%3ANowhere"), &[]).await;
    assert_eq!((bad.status, bad.code().as_str()), (StatusCode::BAD_REQUEST, "invalid_input"), "{}", bad.text);
    w.finish();
}

/// Insights opened without dates look at the dashboard's period and say why it was chosen; dates
/// asked for are shown as asked, without the explanation.
#[tokio::test]
async fn the_insights_page_names_its_period_and_why() {
    let w = analysed();
    let cafe = w.cafe.id;
    let opened = page(&w.router, Some(&w.owner), "GET", &format!("/b/{cafe}/insights"), &[]).await;
    assert_eq!(opened.status, StatusCode::OK, "{}", opened.text);
    let why = opened.text.split("data-testid=\"period-why\">").nth(1).expect("why this period").split("</p>").next().unwrap();
    assert!(why.starts_with("Showing the 30 days up to the latest event or order, "), "{why}");
    assert!(!opened.text.contains("trailmap "), "no CLI command on the page");
    let asked = page(&w.router, Some(&w.owner), "GET", &format!("/b/{cafe}/insights?from=2026-01-01&to=2026-01-31"), &[]).await;
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.text);
    assert!(!asked.text.contains("data-testid=\"period-why\"") && asked.text.contains("Findings for 2026-01-01 to 2026-01-31"));
    w.finish();
}
