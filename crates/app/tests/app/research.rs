//! The research library and live card evidence (issue 24): on a business made from zero, notes
//! with tags and a focus group land as quotes the library filters, counts and tags; quotes are
//! attached to a card and show where they are cited; a card's metric equals the funnel's answer
//! for the same period and persona, a card's score the survey results', and a metric that cannot
//! be computed says why.

use std::collections::HashSet;
use trailmap_app::card_evidence::EvidenceView;
use trailmap_app::research::{ResearchKind, ResearchQuery, SentimentBand};
use trailmap_app::{App, DemoOptions, FromParams, MapEdit, MapNumbersRequest, MapTemplate, Params};
use trailmap_model::{
    Business, CustomerId, Evidence, EventRule, FeedbackId, MapId, SurveyScore, Timestamp, Touchpoint, TouchpointChannel, TouchpointId,
};
use trailmap_store::{Store, StoreError};

const NOTES: &str = "---
source: Customer interviews, May 2026
touchpoint: Checkout
---
# Interview with Anna, 2026-05-04

> The shipping fee at checkout is awful, I nearly left. #shipping #checkout
> I love the little thank-you card in the parcel. #packaging

# Focus group with regulars, 2026-05-20
Participants: Bea, Carl

> Bea: Delivery took a week and nobody told me why. #delivery
> Carl: Honestly the shipping cost is terrible. #shipping
";

fn query(pairs: &[(&str, &str)]) -> ResearchQuery {
    ResearchQuery::from_params(&Params::of(pairs.iter().map(|(k, v)| (*k, Some(*v))))).unwrap()
}

/// A business made from zero with a Checkout touchpoint on the Purchase stage.
fn corner_shop() -> (App, Business, TouchpointId) {
    let mut app = App::in_memory().unwrap();
    let business = app.create_business("Corner Shop", "USD", "UTC").unwrap();
    let purchase = app.store().stages(business.id).unwrap().into_iter().find(|s| s.name == "Purchase").unwrap().id;
    let mut checkout = TouchpointId(0);
    app.store_mut()
        .write::<StoreError>(&mut |w| {
            checkout = w.create_touchpoint(&Touchpoint {
                id: TouchpointId(0),
                business: business.id,
                name: "Checkout".into(),
                channel: TouchpointChannel::Web,
                stage: Some(purchase),
                online: true,
                rule: EventRule::named("checkout_started"),
                description: String::new(),
            })?;
            Ok(())
        })
        .unwrap();
    (app, business, checkout)
}

#[test]
fn the_library_filters_counts_tags_and_shows_where_quotes_are_cited() {
    let (mut app, business, _) = corner_shop();
    let dir = tempfile::tempdir().unwrap();
    let notes = dir.path().join("notes.md");
    std::fs::write(&notes, NOTES).unwrap();
    let report = app.import_notes(&business, &notes, None).unwrap();
    assert_eq!(report.added, 4);

    let all = app.research(&business, &ResearchQuery::default()).unwrap();
    assert_eq!((all.total, all.n, all.items.len()), (4, 4, 4));
    // Newest first: the focus group (May 20) before the interview (May 4).
    assert_eq!(all.items.iter().map(|i| i.kind).collect::<Vec<_>>(), [
        ResearchKind::FocusGroup,
        ResearchKind::FocusGroup,
        ResearchKind::Interview,
        ResearchKind::Interview
    ]);
    let counts: Vec<(String, usize)> = all.tags.iter().map(|t| (t.tag.clone(), t.count)).collect();
    assert_eq!(counts, [("shipping".to_string(), 2), ("checkout".into(), 1), ("delivery".into(), 1), ("packaging".into(), 1)]);
    assert!(all.items.iter().all(|i| i.stage.as_deref() == Some("Purchase") && i.touchpoint_name.as_deref() == Some("Checkout")));

    let shipping = app.research(&business, &query(&[("tag", "#Shipping")])).unwrap();
    let texts: Vec<&str> = shipping.items.iter().map(|i| i.text.as_str()).collect();
    assert_eq!(texts, ["Honestly the shipping cost is terrible.", "The shipping fee at checkout is awful, I nearly left."]);
    // The tag counts ignore the tag filter, so the other tags stay in view.
    assert_eq!(shipping.tags.len(), 4);
    let group = app.research(&business, &query(&[("kind", "focus group")])).unwrap();
    assert_eq!(group.items.iter().map(|i| i.author.clone().unwrap()).collect::<Vec<_>>(), ["Carl", "Bea"]);
    // VADER's bands: "terrible" after "Honestly" scores -0.03, neutral; "awful" -0.46.
    let negative = app.research(&business, &query(&[("sentiment", "negative")])).unwrap();
    assert_eq!(negative.items.iter().map(|i| i.text.as_str()).collect::<Vec<_>>(), ["The shipping fee at checkout is awful, I nearly left."]);
    assert_eq!(negative.items[0].band, SentimentBand::Negative);
    assert_eq!(app.research(&business, &query(&[("sentiment", "neutral")])).unwrap().n, 2);
    let positive = app.research(&business, &query(&[("sentiment", "positive")])).unwrap();
    assert_eq!(positive.items.iter().map(|i| i.text.as_str()).collect::<Vec<_>>(), ["I love the little thank-you card in the parcel."]);
    let may_early = app.research(&business, &query(&[("from", "2026-05-01"), ("to", "2026-05-10")])).unwrap();
    assert_eq!(may_early.n, 2);
    let session = app.research(&business, &query(&[("source", "Interview with Anna, 2026-05-04")])).unwrap();
    assert_eq!(session.n, 2);
    let words = app.research(&business, &query(&[("search", "WEEK")])).unwrap();
    assert_eq!(words.items[0].author.as_deref(), Some("Bea"));
    let paged = app.research(&business, &query(&[("limit", "1"), ("offset", "1")])).unwrap();
    assert_eq!((paged.n, paged.items.len(), paged.items[0].author.as_deref()), (4, 1, Some("Bea")));
    for (pairs, field) in [
        (vec![("persona", "Nobody")], "persona"),
        (vec![("touchpoint", "Till")], "touchpoint"),
        (vec![("stage", "Nowhere")], "stage"),
    ] {
        let error = app.research(&business, &query(&pairs)).unwrap_err().to_string();
        assert!(error.contains(field), "{pairs:?}: {error}");
    }
    let error = ResearchQuery::from_params(&Params::of([("kind", Some("podcast"))])).unwrap_err().to_string();
    assert!(error.contains("kind") && error.contains("focus_group"), "{error}");

    // Tags added and removed on any item.
    let bea = group.items[1].feedback;
    let tags = app.tag_research(&business, bea, &["Late".into(), "delivery".into()], &["#delivery".into()]).unwrap();
    assert_eq!(tags, ["late", "delivery"]);
    let tags = app.tag_research(&business, bea, &[], &["delivery".into()]).unwrap();
    assert_eq!(tags, ["late"]);
    assert!(app.tag_research(&business, bea, &["two words".into()], &[]).unwrap_err().to_string().contains("tag"));
    assert!(app.tag_research(&business, FeedbackId(999), &["x".into()], &[]).is_err());
    let late = app.research(&business, &query(&[("tag", "late")])).unwrap();
    assert_eq!(late.items.iter().map(|i| i.feedback).collect::<Vec<_>>(), [bea]);

    // Two quotes attached to a pain point: the card cites them once, the library says where.
    let map = app.create_map(&business, "Corner journey", MapTemplate::WebShop, "owner").unwrap();
    let pain = map.stages[2].pain_points[0].id;
    let quotes: Vec<FeedbackId> = shipping.items.iter().map(|i| i.feedback).collect();
    assert_eq!(app.cite_quotes(&business, map.id, pain, &quotes, "owner").unwrap(), 2);
    assert_eq!(app.cite_quotes(&business, map.id, pain, &quotes, "owner").unwrap(), 0, "already cited");
    assert!(app.cite_quotes(&business, map.id, 999, &quotes, "owner").unwrap_err().to_string().contains("card"));
    let cited = app.research(&business, &query(&[("tag", "shipping")])).unwrap();
    assert!(cited.items.iter().all(|i| i.cited_by.len() == 1 && i.cited_by[0].card == pain && i.cited_by[0].map == map.id));
    let shown = app.journey_map(&business, map.id).unwrap().map;
    let evidence = app.map_evidence(&business, &shown, &MapNumbersRequest::default()).unwrap();
    assert_eq!((evidence.evidenced, evidence.total), (1, shown.cards().count()));
    let card = &evidence.cards[&pain];
    assert_eq!(card.quotes, 2);
    // Strongest first: the larger absolute sentiment leads, with its source and date.
    let strengths: Vec<f64> = card
        .items
        .iter()
        .map(|c| match &c.view {
            EvidenceView::Quote { sentiment, source, .. } => {
                assert!(!source.is_empty());
                sentiment.abs()
            }
            other => panic!("{other:?}"),
        })
        .collect();
    assert!(strengths[0] >= strengths[1], "{strengths:?}");
}

const SALES: &str = "
    customer ann
      2026-03-02 10:00:00 page_view source=instagram
      +1h checkout_started
      +1d purchase
    customer bob
      2026-03-03 10:00:00 page_view source=google
      +1h checkout_started
    customer cat
      2026-03-05 10:00:00 page_view source=instagram
      +1h checkout_started
      +10d purchase
    customer dan
      2026-03-10 10:00:00 page_view source=google
      +1h checkout_started
      +2h purchase
    customer eve
      2026-04-20 10:00:00 page_view source=google
      +1h checkout_started
      +1h purchase
";

fn metric_card(app: &mut App, business: &Business, evidence: Vec<Evidence>) -> (MapId, u32) {
    let map = app.create_map(business, "Shop journey", MapTemplate::WebShop, "owner").unwrap();
    let pain = map.stages[2].pain_points[0].id;
    let text = map.stages[2].pain_points[0].text.clone();
    app.edit_map(business, map.id, &MapEdit::EditCard { card: pain, text, evidence }, "owner").unwrap();
    (map.id, pain)
}

fn only_metric(app: &App, business: &Business, map: MapId, card: u32, request: &MapNumbersRequest) -> EvidenceView {
    let shown = app.journey_map(business, map).unwrap().map;
    let evidence = app.map_evidence(business, &shown, request).unwrap();
    evidence.cards[&card].items[0].view.clone()
}

#[test]
fn a_cards_metric_is_the_funnels_answer_for_the_same_period_and_persona() {
    let (mut app, business, _) = corner_shop();
    app.write_fixture(&trailmap_testkit::journeys(SALES).unwrap(), &business).unwrap();
    let metric = "conversion:checkout_started>purchase:7d";
    let (map, card) = metric_card(&mut app, &business, vec![Evidence::parse(&format!("metric:{metric}")).unwrap()]);
    let march = Some((Timestamp::from_date("2026-03-01".parse().unwrap()), Timestamp::from_date("2026-04-01".parse().unwrap())));
    let request = MapNumbersRequest { period: march, ..MapNumbersRequest::default() };
    let EvidenceView::Metric { figure: Some(figure), .. } = only_metric(&app, &business, map, card, &request) else { panic!("computed") };
    // The funnel for the same days: 4 started checkout in March, 2 bought within 7 days (cat took 10).
    let mut funnel = App::funnel_request(vec!["checkout_started".into(), "purchase".into()]);
    funnel.window_ms = 7 * Timestamp::MS_PER_DAY;
    funnel.period = march;
    funnel.customers = Some(trailmap_app::funnel_customers::FunnelCustomersRequest::reaching(1));
    let answer = app.funnel(&business, &funnel).unwrap();
    let steps = &answer.report.overall.steps;
    let (entered, converted) = (steps[0].reached as u64, steps[1].reached as u64);
    assert_eq!((entered, converted), (4, 2));
    assert_eq!(figure.value.n, entered);
    assert_eq!(figure.value.value, Some(converted as f64 / entered as f64));
    assert_eq!(figure.shown.as_deref(), Some("50.0%"));
    assert!(figure.trend.verdict.contains("n = "), "{}", figure.trend.verdict);
    // The trend sets March against the 31 days before it.
    assert_eq!(figure.trend.recent.window, figure.value.window);
    assert_eq!((figure.trend.before.window.from.to_string(), figure.trend.before.window.to.to_string()), ("2026-01-29".into(), "2026-02-28".into()));

    // A persona keeps its customers only: the Instagram crowd is ann and cat, one of whom bought in time.
    let customers: HashSet<CustomerId> = answer.customers.as_ref().unwrap().customers.iter().copied().collect();
    assert_eq!(customers.len(), 4);
    let input = trailmap_app::personas::PersonaInput {
        name: "Instagram crowd".into(),
        initials: None,
        photo: None,
        demographics: Vec::new(),
        goals: Vec::new(),
        frustrations: Vec::new(),
        behaviours: Vec::new(),
        quote: None,
        rule: Some("first_source=instagram".into()),
    };
    let persona = app.create_persona(&business, input).unwrap().id;
    let with_persona = MapNumbersRequest { period: march, persona: Some(persona), ..MapNumbersRequest::default() };
    let EvidenceView::Metric { figure: Some(figure), .. } = only_metric(&app, &business, map, card, &with_persona) else { panic!("computed") };
    assert_eq!((figure.value.n, figure.value.value), (2, Some(0.5)));

    // All time: eve counts too.
    let EvidenceView::Metric { figure: Some(figure), .. } = only_metric(&app, &business, map, card, &MapNumbersRequest::default()) else { panic!() };
    assert_eq!((figure.value.n, figure.value.value), (5, Some(0.6)));
}

#[test]
fn evidence_is_checked_when_cited_and_an_old_label_says_why_it_is_not_computed() {
    let (mut app, business, checkout) = corner_shop();
    app.write_fixture(&trailmap_testkit::journeys(SALES).unwrap(), &business).unwrap();
    let map = app.create_map(&business, "Shop journey", MapTemplate::WebShop, "owner").unwrap();
    let card = map.stages[2].pain_points[0].clone();
    let edit = |evidence: Vec<Evidence>| MapEdit::EditCard { card: card.id, text: card.text.clone(), evidence };
    for (evidence, expected) in [
        (Evidence::Metric { name: "checkout conversion".into() }, "conversion:FROM>TO"),
        (Evidence::Quote { feedback: FeedbackId(77) }, "no feedback 77"),
        (Evidence::parse("answer:5:3").unwrap(), "no answer"),
        (Evidence::parse("score:nps:touchpoint:999").unwrap(), "no touchpoint 999"),
    ] {
        let error = app.edit_map(&business, map.id, &edit(vec![evidence]), "owner").unwrap_err().to_string();
        assert!(error.contains("evidence 1") && error.contains(expected), "{error}");
    }
    // A map written before metrics were computed keeps its free label: it can still be edited,
    // and the card says why the label is not computed.
    let mut old = app.journey_map(&business, map.id).unwrap().map;
    let place = old.stages[2].pain_points.iter_mut().find(|c| c.id == card.id).unwrap();
    place.evidence = vec![Evidence::Metric { name: "checkout conversion".into() }];
    app.store_mut().write::<StoreError>(&mut |w| w.save_map(&old, "before").map(|_| ())).unwrap();
    let score = Evidence::parse(&format!("score:csat:touchpoint:{}", checkout.0)).unwrap();
    // Cited twice, the score counts once.
    let kept = vec![Evidence::Metric { name: "checkout conversion".into() }, score.clone(), score];
    app.edit_map(&business, map.id, &edit(kept), "owner").unwrap();
    let shown = app.journey_map(&business, map.id).unwrap().map;
    let evidence = app.map_evidence(&business, &shown, &MapNumbersRequest::default()).unwrap();
    let items: Vec<&EvidenceView> = evidence.cards[&card.id].items.iter().map(|c| &c.view).collect();
    assert_eq!(items.len(), 2);
    match items[0] {
        EvidenceView::Metric { figure: None, reason: Some(reason), .. } => assert!(reason.contains("not a metric Trailmap computes"), "{reason}"),
        other => panic!("{other:?}"),
    }
    match items[1] {
        EvidenceView::Score { score: SurveyScore::Csat, n: 0, scope, shown, .. } => {
            assert_eq!((scope.as_str(), shown.as_str()), ("Checkout", "CSAT: no answers"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_cards_score_is_the_survey_results_for_the_same_period_on_the_demo() {
    let mut app = App::in_memory().unwrap();
    app.demo(&DemoOptions { customers: 1500, ..DemoOptions::default() }).unwrap();
    let cafe = app.business(Some("Bean There Coffee")).unwrap();
    let survey = app.store().surveys(cafe.id).unwrap().into_iter().find(|s| s.name == "Receipt QR survey").unwrap();
    let till = survey.touchpoint.unwrap();
    let (from, to) = ("2026-05-01".parse().unwrap(), "2026-07-31".parse().unwrap());
    let results = app
        .survey_results(&cafe, &trailmap_app::voice::SurveyResultsRequest { survey: Some(survey.name.clone()), from: Some(from), to: Some(to), by: None })
        .unwrap();
    let nps = results.questions.iter().find(|q| q.overall.kind == trailmap_analytics::voice::ScoreKind::Nps).unwrap();
    assert!(nps.overall.n > 20, "enough answers: {}", nps.overall.n);

    let map = app.store().maps(cafe.id).unwrap().remove(0);
    let card = map.cards().find(|(_, l, _)| *l == trailmap_model::Lane::PainPoints).map(|(_, _, c)| c.clone()).unwrap();
    let mut evidence = card.evidence.clone();
    evidence.push(Evidence::parse(&format!("score:nps:touchpoint:{}", till.0)).unwrap());
    app.edit_map(&cafe, map.id, &MapEdit::EditCard { card: card.id, text: card.text.clone(), evidence }, "owner").unwrap();
    let period = Some((Timestamp::from_date(from), Timestamp::from_date(to).add_millis(Timestamp::MS_PER_DAY)));
    let shown = app.journey_map(&cafe, map.id).unwrap().map;
    let live = app.map_evidence(&cafe, &shown, &MapNumbersRequest { period, ..MapNumbersRequest::default() }).unwrap();
    let score = live.cards[&card.id].items.iter().find_map(|c| match &c.view {
        EvidenceView::Score { value, n, interval, .. } => Some((*value, *n, *interval)),
        _ => None,
    });
    let (value, n, interval) = score.expect("the score is on the card");
    assert_eq!((value, n), (nps.overall.value, nps.overall.n));
    assert_eq!(interval, nps.overall.interval.map(|i| (i.low, i.high)));
    // The demo's own story: the ad-spend pain point cites its channel numbers, computed.
    let ads = shown.cards().find(|(_, _, c)| c.text.starts_with("Most ad money")).map(|(_, _, c)| c.id).unwrap();
    let metrics: Vec<_> = live.cards[&ads]
        .items
        .iter()
        .filter_map(|c| match &c.view {
            EvidenceView::Metric { form, figure: Some(f), .. } => Some((form.clone(), f.value.n)),
            _ => None,
        })
        .collect();
    assert_eq!(metrics.iter().map(|m| m.0.as_str()).collect::<Vec<_>>(), ["new-customers:Paid Social", "new-customers:Referral"]);
    assert!(metrics.iter().all(|m| m.1 > 0), "{metrics:?}");
}
