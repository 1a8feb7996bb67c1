//! Touchpoints a business makes itself, through the app: rule errors with their offsets (the same
//! from a touchpoint and from a funnel step, since one parser reads both), the live preview against
//! a brute-force count over seeded random fixture events, suggestions on fixture data with exact
//! volumes, accepting (placed on its stage and on the maps showing it) and dismissing (kept),
//! edits that follow the touchpoint onto maps and into change metrics, reordering, deleting, and a
//! map imported into another business keeping its touchpoints.

use chrono::NaiveDate;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeSet;
use trailmap_app::changes::ChangeRequest;
use trailmap_app::touchpoint_edits::{TouchpointEdit, TouchpointRequest};
use trailmap_app::{App, AppError, MapTemplate};
use trailmap_model::{
    Business, ChangeMetric, EventRule, Identity, IdentityKind, IncomingResponse, Survey, SurveyId, Timestamp, TouchpointId,
};
use trailmap_store::{Store, StoreError};

fn business(fixture: &str) -> (App, Business) {
    let mut app = App::in_memory().unwrap();
    let business = app.create_business("Shop", "USD", "UTC").unwrap();
    app.write_fixture(&trailmap_testkit::journeys(fixture).unwrap(), &business).unwrap();
    (app, business)
}

fn request(name: &str, channel: &str, rule: &str, stage: Option<&str>) -> TouchpointRequest {
    TouchpointRequest { name: name.into(), channel: channel.into(), rule: rule.into(), stage: stage.map(str::to_string), description: String::new() }
}

/// The rule error of a refused request: (field, offset, reason).
fn rule_error(error: AppError) -> (String, usize, String) {
    match error {
        AppError::InvalidRule { field, error, .. } => (field, error.offset, error.reason),
        other => panic!("not a rule error: {other}"),
    }
}

const SMALL: &str = "
customer ann
  2026-03-01 10:00:00 page_view page=/products/scarf channel=\"Paid Social\" source=instagram medium=cpc
  +5m page_view page=/checkout channel=\"Paid Social\"
  +1m purchase items=3
customer bob
  2026-03-02 11:00:00 page_view page=/cart channel=\"Organic Search\" source=google medium=organic
";

#[test]
fn a_rule_that_does_not_read_is_refused_with_its_offset_and_reason_wherever_it_is_typed() {
    let (mut app, shop) = business(SMALL);
    for (rule, offset, reason) in [
        ("page_view[page^=/checkout", 25, "the condition opened at offset 9 lacks its closing ']'"),
        ("purchase[items>lots]", 15, "\"lots\" is not a number"),
        ("page_view[page~/x]", 14, "unexpected '~'"),
        ("", 0, "the rule is empty"),
        ("a|b[x=1]", 2, "must carry the same conditions"),
        ("touchpoint:Checkout", 0, "touchpoint: and stage: belong in funnel steps"),
    ] {
        let refused = app.create_touchpoint(&shop, &request("Bad", "web", rule, None), "ann").unwrap_err();
        let (field, at, why) = rule_error(refused);
        assert_eq!((field.as_str(), at), ("rule", offset), "{rule:?}: {why}");
        assert!(why.contains(reason), "{rule:?}: {why}");
        let previewed = rule_error(app.preview_touchpoint_rule(&shop, rule).unwrap_err());
        assert_eq!((previewed.1, previewed.2), (at, why.clone()), "{rule:?}: the preview reads it as the form does");
    }
    // A funnel step reads with the same parser: same offset, same reason.
    let funnel = app.funnel(&shop, &App::funnel_request(vec!["page_view".into(), "purchase[items>lots]".into()])).unwrap_err();
    assert!(funnel.to_string().contains("at offset 15: \"lots\" is not a number"), "{funnel}");
    // Other fields name themselves.
    let channel = app.create_touchpoint(&shop, &request("Fax", "fax", "purchase", None), "ann").unwrap_err();
    assert!(matches!(&channel, AppError::InvalidField { field, .. } if field == "channel"), "{channel}");
    assert!(channel.to_string().contains("web, ads, social, email, in-store, phone, referral, other"), "{channel}");
    let stage = app.create_touchpoint(&shop, &request("Till", "in-store", "purchase", Some("Checkout lane")), "ann").unwrap_err();
    assert!(matches!(&stage, AppError::InvalidField { field, .. } if field == "stage"), "{stage}");
    assert!(app.store().touchpoints(shop.id).unwrap().is_empty(), "nothing refused was written");
}

/// Seeded random journeys over 90 days: pages, channels, offline kinds, referral codes, numbers.
fn random_fixture(seed: u64) -> String {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let events = ["page_view", "page_view", "page_view", "add_to_cart", "purchase", "email_open", "store_visit"];
    let pages = ["/", "/products/scarf", "/products/hat", "/cart", "/checkout", "/checkout/pay", "/contact", "/blog/checkout-tips"];
    let channels = ["Paid Social", "Organic Search", "Direct", "Email", "Referral"];
    let start = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap();
    let mut text = String::new();
    for c in 0..160 {
        text.push_str(&format!("customer c{c}\n"));
        for _ in 0..rng.random_range(1..9) {
            let at = start + chrono::Duration::minutes(rng.random_range(0..90 * 24 * 60));
            let event = events[rng.random_range(0..events.len())];
            let mut line = format!("  {} {event}", at.format("%Y-%m-%d %H:%M:%S"));
            if event == "page_view" {
                line.push_str(&format!(" page={}", pages[rng.random_range(0..pages.len())]));
            }
            if rng.random_bool(0.8) {
                line.push_str(&format!(" channel=\"{}\"", channels[rng.random_range(0..channels.len())]));
            }
            if event == "store_visit" {
                line.push_str(&format!(" touchpoint={}", ["till", "visit"][rng.random_range(0..2)]));
            }
            if rng.random_bool(0.1) {
                line.push_str(&format!(" referral_code=R-{}", rng.random_range(1..5)));
            }
            if event == "purchase" {
                line.push_str(&format!(" items={}", rng.random_range(1..6)));
            }
            text.push_str(&line);
            text.push('\n');
        }
    }
    text
}

#[test]
fn the_preview_counts_what_a_brute_force_count_over_the_fixture_counts() {
    let text = random_fixture(18);
    let fixture = trailmap_testkit::journeys(&text).unwrap();
    let (app, shop) = business(&text);
    let last = fixture.events().map(|e| e.event.time.millis()).max().unwrap();
    let from = last + 1 - 30 * Timestamp::MS_PER_DAY;
    for rule in [
        "page_view[page^=/checkout]",
        "page_view|add_to_cart",
        "*[channel=Paid Social]",
        "[channel=Email][!referral_code]",
        "*[referral_code]",
        "store_visit[offline_kind=till]",
        "purchase[items>2][channel!=Direct]",
        "page_view[page*=checkout]",
        "*[page=/cart|/contact]",
    ] {
        let preview = app.preview_touchpoint_rule(&shop, rule).unwrap();
        let parsed = EventRule::parse(rule).unwrap();
        // The brute force: the model's own (uncompiled) test of each fixture event, in the window.
        let matching: Vec<_> = fixture.events().filter(|e| parsed.matches(&e.event)).collect();
        let in_window: Vec<_> = matching.iter().filter(|e| (from..=last).contains(&e.event.time.millis())).collect();
        let customers: BTreeSet<&str> = in_window.iter().map(|e| e.event.identity.value.as_str()).collect();
        assert_eq!(preview.events, in_window.len() as u64, "{rule}");
        assert_eq!(preview.customers.n, customers.len(), "{rule}");
        assert_eq!(preview.all_time_events, matching.len() as u64, "{rule}");
        assert!(preview.events > 0, "{rule}: the fixture holds matching events in the window");
        assert_eq!(preview.window, Some((Timestamp(from), Timestamp(last + 1))));
        // The examples: the newest matching events, newest first.
        let mut newest: Vec<i64> = in_window.iter().map(|e| e.event.time.millis()).collect();
        newest.sort_unstable_by(|a, b| b.cmp(a));
        newest.truncate(5);
        assert_eq!(preview.examples.iter().map(|e| e.time.millis()).collect::<Vec<_>>(), newest, "{rule}");
        assert!(preview.summary.starts_with(&format!("Matches {} event", preview.events)), "{}", preview.summary);
        assert!(!preview.matches_nothing);
    }
    // A rule that matches nothing says so, and says what the events hold instead.
    let nothing = app.preview_touchpoint_rule(&shop, "pageview[page^=/checkout]").unwrap();
    assert!(nothing.matches_nothing && nothing.events == 0 && nothing.customers.n == 0 && nothing.examples.is_empty());
    assert!(nothing.summary.starts_with("Matches nothing") && nothing.summary.ends_with("nor earlier."), "{}", nothing.summary);
    assert_eq!(nothing.notes, ["No event is named \"pageview\"; this business's events are named: add_to_cart, email_open, page_view, purchase, store_visit."]);
    // A business without events says that.
    let mut empty = App::in_memory().unwrap();
    let bare = empty.create_business("Bare", "USD", "UTC").unwrap();
    let none = empty.preview_touchpoint_rule(&bare, "purchase").unwrap();
    assert!(none.matches_nothing && none.window.is_none() && none.summary.contains("has no events yet"), "{}", none.summary);
}

#[test]
fn a_rule_that_matched_only_before_the_window_says_so() {
    let (app, shop) = business(
        "
        customer ann
          2026-01-02 10:00:00 newsletter_signup
          2026-03-20 10:00:00 page_view page=/
        ",
    );
    let preview = app.preview_touchpoint_rule(&shop, "newsletter_signup").unwrap();
    assert!(preview.matches_nothing && preview.all_time_events == 1, "{preview:?}");
    assert!(preview.summary.contains("from 2026-02-18 to 2026-03-20") && preview.summary.ends_with("it matches 1 event before then."), "{}", preview.summary);
}

const SUGGESTING: &str = "
customer ann email=ann@example.com
  2026-03-01 10:00:00 page_view page=/shop/checkout/pay channel=\"Paid Social\"
  +1m page_view page=/shop/checkout/done channel=\"Paid Social\"
  +1m page_view page=/products/scarf channel=\"Paid Social\"
  +1d email_open channel=Email
customer bob
  2026-03-02 10:00:00 page_view page=/cart channel=\"Organic Search\" ref=x referral_code=BOB-1
  +1m page_view page=/contact-us channel=\"Organic Search\"
  +1m page_view page=/signup channel=\"Organic Search\"
  +2d store_visit touchpoint=till channel=In-store
  +1d store_visit touchpoint=till channel=In-store
customer cy
  2026-03-03 10:00:00 email_open channel=Email
  +1m email_click channel=Email
";

#[test]
fn suggestions_come_from_the_data_with_their_volumes_and_accepting_places_them_on_their_stage() {
    let (mut app, shop) = business(SUGGESTING);
    // A survey with an answer and no touchpoint is suggested too.
    let mut survey = SurveyId(0);
    app.store_mut()
        .write::<StoreError>(&mut |w| {
            survey = w.create_survey(&Survey { id: SurveyId(0), business: shop.id, name: "Counter card".into(), touchpoint: None, stage: None, questions: vec![] })?.id;
            let customer = vec![Identity::new(IdentityKind::Email, "ann@example.com").unwrap()];
            w.add_response(shop.id, &IncomingResponse { survey, customer, submitted_at: Timestamp(1_772_400_000_000), hidden: Default::default(), answers: vec![] })?;
            Ok(())
        })
        .unwrap();
    let map = app.create_map(&shop, "Journey", MapTemplate::WebShop, "ann").unwrap();
    let found = app.touchpoint_suggestions(&shop).unwrap();
    let got: Vec<(&str, &str, &str, Option<&str>, u64, usize)> = found
        .suggestions
        .iter()
        .map(|s| (s.key.as_str(), s.name.as_str(), s.rule.as_str(), s.stage.as_deref(), s.volume, s.customers.n))
        .collect();
    assert_eq!(
        got,
        [
            // By kind, the biggest first, ties by key.
            ("channel:Email", "Email", "*[channel=Email]", Some("Retention"), 3, 2),
            ("channel:Organic Search", "Organic Search", "*[channel=Organic Search]", Some("Awareness"), 3, 1),
            ("channel:Paid Social", "Paid Social", "*[channel=Paid Social]", Some("Awareness"), 3, 1),
            ("channel:In-store", "In-store", "*[channel=In-store]", Some("Purchase"), 2, 1),
            ("page:checkout", "Checkout page", "page_view[page^=/shop/checkout]", Some("Purchase"), 2, 1),
            ("page:cart", "Cart page", "page_view[page^=/cart]", Some("Consideration"), 1, 1),
            ("page:contact", "Contact page", "page_view[page^=/contact-us]", Some("Consideration"), 1, 1),
            ("page:product", "Product pages", "page_view[page^=/products]", Some("Consideration"), 1, 1),
            ("page:sign-up", "Sign-up page", "page_view[page^=/signup]", Some("Consideration"), 1, 1),
            ("email:email_open", "Email opens", "email_open", Some("Retention"), 2, 2),
            ("email:email_click", "Email clicks", "email_click", Some("Retention"), 1, 1),
            ("offline:till", "Till", "*[offline_kind=till]", Some("Purchase"), 2, 1),
            ("referral", "Referral links", "*[referral_code]", Some("Advocacy"), 1, 1),
            (&*format!("survey:{}", survey.0), "Counter card", "", None, 1, 1),
        ]
    );
    assert_eq!(found.events, 11);
    // Accepting the checkout page puts it on Purchase, and on the map's Purchase column.
    let made = app.accept_touchpoint_suggestions(&shop, &["page:checkout".into()], "ann").unwrap();
    assert_eq!(made.len(), 1);
    let checkout = &made[0];
    assert_eq!((checkout.name.as_str(), checkout.stage.as_deref(), checkout.rule.as_str()), ("Checkout page", Some("Purchase"), "page_view[page^=/shop/checkout]"));
    let saved = app.journey_map(&shop, map.id).unwrap().map;
    let purchase = app.store().stages(shop.id).unwrap().into_iter().find(|s| s.name == "Purchase").unwrap().id;
    let column = saved.stages.iter().find(|s| s.stage == Some(purchase)).unwrap();
    assert!(column.touchpoints.contains(&checkout.id), "placed on the map's Purchase column");
    assert!(saved.stages.iter().filter(|s| s.stage != Some(purchase)).all(|s| !s.touchpoints.contains(&checkout.id)));
    // Dismissing is kept: a fresh app over the same store does not suggest it again.
    app.choose_touchpoint_suggestions(&shop, &[], &["channel:Email".into()], "ann").unwrap();
    let after = app.touchpoint_suggestions(&shop).unwrap();
    assert!(after.suggestions.iter().all(|s| s.key != "channel:Email" && s.key != "page:checkout"));
    assert_eq!((after.dismissed, after.suggestions.len()), (1, 12));
    assert_eq!(app.store().dismissed_touchpoint_suggestions(shop.id).unwrap(), ["channel:Email"]);
    let again = app.choose_touchpoint_suggestions(&shop, &["channel:Email".into()], &[], "ann").unwrap_err();
    assert!(matches!(&again, AppError::InvalidField { field, .. } if field == "accept"), "{again}");
    // The survey's touchpoint is tied to its survey.
    let key = format!("survey:{}", survey.0);
    let tied = app.accept_touchpoint_suggestions(&shop, &[key], "ann").unwrap();
    assert_eq!(app.store().surveys(shop.id).unwrap()[0].touchpoint, Some(tied[0].id));
    // Accept all takes the rest, each on its stage.
    let rest = app.accept_touchpoint_suggestions(&shop, &[], "ann").unwrap();
    assert_eq!(rest.len(), 11);
    assert!(app.touchpoint_suggestions(&shop).unwrap().suggestions.is_empty());
    let till = app.touchpoints(&shop).unwrap().into_iter().find(|t| t.name == "Till").unwrap();
    assert_eq!((till.channel.as_str(), till.stage.as_deref(), till.online), ("in-store", Some("Purchase"), false));
}

#[test]
fn edits_follow_the_touchpoint_onto_maps_and_into_change_metrics_and_deletes_check_what_records_it() {
    let (mut app, shop) = business(SMALL);
    let map = app.create_map(&shop, "Journey", MapTemplate::WebShop, "ann").unwrap();
    let stages = app.store().stages(shop.id).unwrap();
    let stage = |name: &str| stages.iter().find(|s| s.name == name).unwrap().id;
    let column = |app: &App, name: &str| {
        let saved = app.journey_map(&shop, map.id).unwrap().map;
        saved.stages.iter().find(|s| s.stage == Some(stage(name))).unwrap().touchpoints.clone()
    };
    let checkout = app.create_touchpoint(&shop, &request("Checkout", "web", "page_view[page^=/checkout]", Some("Consideration")), "ann").unwrap();
    assert_eq!(checkout.maps, ["Journey"]);
    let id = checkout.touchpoint.id;
    let cart = app.create_touchpoint(&shop, &request("Cart", "web", "page_view[page^=/cart]", None), "ann").unwrap().touchpoint.id;
    let ads = app.create_touchpoint(&shop, &request("Instagram ads", "ads", "[utm_source=instagram][utm_medium=cpc]", None), "ann").unwrap();
    assert_eq!(ads.touchpoint.rule, "*[source=instagram][medium=cpc]");
    assert!(column(&app, "Consideration").contains(&id));
    // A duplicate name, in any case, is a conflict.
    let twice = app.create_touchpoint(&shop, &request("checkout", "web", "purchase", None), "ann").unwrap_err();
    assert!(matches!(twice, AppError::Conflict(_)), "{twice}");
    // A change measured at it.
    let metric: ChangeMetric = "conversion:touchpoint:Checkout>purchase:7d".parse().unwrap();
    let change = ChangeRequest {
        title: "One-page checkout".into(),
        description: String::new(),
        date: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
        touchpoints: vec![],
        stages: vec![],
        kpi: None,
        metric: Some(metric),
        owner: None,
        answers: None,
    };
    app.add_change(&shop, change).unwrap();
    // Renamed and moved to Purchase: the map's columns and the metric follow.
    let edit = TouchpointEdit { name: Some("Checkout page".into()), stage: Some("Purchase".into()), ..TouchpointEdit::default() };
    let saved = app.edit_touchpoint(&shop, id, &edit, "bea").unwrap();
    assert_eq!((saved.maps.as_slice(), saved.changes_renamed.as_slice()), (&["Journey".to_string()][..], &["One-page checkout".to_string()][..]));
    assert!(column(&app, "Purchase").contains(&id) && !column(&app, "Consideration").contains(&id));
    let metric = app.changes(&shop).unwrap()[0].metric.clone().unwrap();
    assert_eq!(metric, "conversion:touchpoint:Checkout page>purchase:7d".parse::<ChangeMetric>().unwrap());
    assert_eq!(app.map_versions(&shop, map.id).unwrap().last().unwrap().author, "bea");
    // The funnel still reads the renamed touchpoint.
    let funnel = app.funnel(&shop, &App::funnel_request(vec!["touchpoint:Checkout page".into(), "purchase".into()])).unwrap();
    assert_eq!(funnel.report.overall.steps.iter().map(|s| s.reached).collect::<Vec<_>>(), [1, 1]);
    // Reordering: a position, and a whole order.
    let names = |app: &App| app.touchpoints(&shop).unwrap().into_iter().map(|t| t.name).collect::<Vec<_>>();
    assert_eq!(names(&app), ["Checkout page", "Cart", "Instagram ads"]);
    app.move_touchpoint(&shop, ads.touchpoint.id, 1).unwrap();
    assert_eq!(names(&app), ["Instagram ads", "Checkout page", "Cart"]);
    app.reorder_touchpoints(&shop, &[cart, id, ads.touchpoint.id]).unwrap();
    assert_eq!(names(&app), ["Cart", "Checkout page", "Instagram ads"]);
    let partial = app.reorder_touchpoints(&shop, &[cart, id]).unwrap_err();
    assert!(partial.to_string().contains(&format!("leaves out touchpoint(s) {}", ads.touchpoint.id)), "{partial}");
    let far = app.move_touchpoint(&shop, cart, 4).unwrap_err();
    assert!(matches!(&far, AppError::InvalidField { field, .. } if field == "position"), "{far}");
    // Deleting: refused while the change measures it; another goes, off the map.
    let refused = app.delete_touchpoint(&shop, id, "ann").unwrap_err();
    assert!(matches!(&refused, AppError::Conflict(m) if m.contains("change \"One-page checkout\"")), "{refused}");
    app.edit_touchpoint(&shop, cart, &TouchpointEdit { stage: Some("Consideration".into()), ..TouchpointEdit::default() }, "ann").unwrap();
    assert!(column(&app, "Consideration").contains(&cart));
    let deleted = app.delete_touchpoint(&shop, cart, "ann").unwrap();
    assert_eq!(deleted.maps, ["Journey"]);
    assert!(!column(&app, "Consideration").contains(&cart));
    assert_eq!(names(&app), ["Checkout page", "Instagram ads"]);
    let gone = app.touchpoint(&shop, TouchpointId(cart.0)).unwrap_err();
    assert!(matches!(gone, AppError::NotFound(_)));
}

#[test]
fn a_map_imported_into_another_business_keeps_its_touchpoints() {
    let (mut app, shop) = business(SMALL);
    app.create_touchpoint(&shop, &request("Checkout page", "web", "page_view[page^=/checkout]", Some("Purchase")), "ann").unwrap();
    app.create_touchpoint(&shop, &request("Instagram ads", "ads", "*[channel=Paid Social]", Some("Awareness")), "ann").unwrap();
    app.create_touchpoint(&shop, &request("Not on the map", "other", "purchase", None), "ann").unwrap();
    let map = app.create_map(&shop, "Journey", MapTemplate::WebShop, "ann").unwrap();
    let document = app.export_map_document(&shop, map.id).unwrap();
    assert_eq!(document.touchpoints.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["Checkout page", "Instagram ads"]);
    let json = serde_json::to_string(&document).unwrap();
    // Another business, which already has "Instagram ads" with another rule.
    let other = app.create_business("Second shop", "EUR", "Europe/Paris").unwrap();
    app.create_touchpoint(&other, &request("instagram ads", "social", "*[source=instagram]", None), "ann").unwrap();
    let imported = app.import_map_json(&other, &json, "olga").unwrap();
    assert_eq!(imported.touchpoints_created, ["Checkout page"]);
    assert_eq!(imported.touchpoints_kept, ["touchpoint \"instagram ads\" keeps this business's rule (*[source=instagram]), not the map's (*[channel=Paid Social])"]);
    assert!(imported.dropped.is_empty(), "{:?}", imported.dropped);
    let theirs = app.touchpoints(&other).unwrap();
    let made = theirs.iter().find(|t| t.name == "Checkout page").unwrap();
    assert_eq!((made.channel.as_str(), made.rule.as_str(), made.stage.as_deref()), ("web", "page_view[page^=/checkout]", Some("Purchase")));
    // The imported map's columns hold the other business's touchpoints, by the same names.
    let names = |app: &App, business: &Business, map| -> Vec<(String, Vec<String>)> {
        let touchpoints = app.touchpoints(business).unwrap();
        app.journey_map(business, map)
            .unwrap()
            .map
            .stages
            .iter()
            .map(|s| (s.name.clone(), s.touchpoints.iter().map(|t| touchpoints.iter().find(|x| x.id == *t).unwrap().name.to_lowercase()).collect()))
            .collect()
    };
    assert_eq!(names(&app, &other, imported.id), names(&app, &shop, map.id));
    assert!(names(&app, &other, imported.id).iter().any(|(_, t)| t.contains(&"checkout page".to_string())));
    // A document whose touchpoint rule does not read is refused whole, naming where.
    let broken = json.replace("page_view[page^=/checkout]", "page_view[page^=/checkout");
    let third = app.create_business("Third", "USD", "UTC").unwrap();
    let error = app.import_map_json(&third, &broken, "olga").unwrap_err();
    let (field, offset, _) = rule_error(error);
    assert_eq!((field.as_str(), offset), ("touchpoints[0].rule", 25));
    assert!(app.touchpoints(&third).unwrap().is_empty() && app.store().maps(third.id).unwrap().is_empty());
}
