//! The action board through the app (issue 24, item 6): the demo's action cards with the pain
//! point each answers and the change it led to with that change's verdict and n, an overdue
//! action judged against today in the business's time zone, and the filters and sorts of the
//! one typed request.

use trailmap_app::actions::{ActionSort, ActionStatus, ActionsRequest};
use trailmap_app::impact::ImpactRequest;
use trailmap_app::{App, DemoOptions, MapEdit};
use trailmap_model::{CardAction, Lane, Timestamp};

fn at(text: &str) -> Timestamp {
    Timestamp::parse_rfc3339(text).expect("a time")
}

#[test]
fn the_board_lists_every_action_with_its_pain_point_change_verdict_and_status() {
    let mut app = App::in_memory().unwrap();
    app.demo(&DemoOptions { customers: 1_500, seed: 7 }).unwrap();
    let coffee = app.business(Some("Bean There Coffee")).unwrap();
    let now = at("2026-12-01T12:00:00Z");
    let board = app.action_board(&coffee, &ActionsRequest::default(), now).unwrap();
    assert_eq!((board.total, board.done, board.open, board.overdue), (1, 1, 0, 0));
    assert_eq!(board.time_zone, "America/Los_Angeles");
    let action = &board.items[0];
    assert_eq!(action.owner, "Maya Chen");
    assert_eq!(action.status, ActionStatus::Done);
    let pain = action.from.as_ref().expect("the demo's action answers a pain point");
    let map = app.journey_map(&coffee, action.map).unwrap().map;
    let (_, lane, card) = map.card(pain.card).expect("the pain point is on the map");
    assert_eq!((lane, card.text.as_str()), (Lane::PainPoints, pain.text.as_str()));
    // The change's verdict and n are the impact analysis's own.
    let change = action.change.as_ref().expect("the demo's action led to a change");
    let impact = app.change_impact(&coffee, change.id, &ImpactRequest::default()).unwrap();
    assert_eq!(change.verdict.as_deref(), Some(impact.verdict.as_str()));
    assert_eq!((change.n_before, change.n_after), (Some(impact.before.n), Some(impact.after.n)));
    assert!(impact.before.n > 0 && impact.after.n > 0);

    // A new action due on 2026-06-01 and not done: on 2026-06-02 at 03:00 UTC it is still the
    // evening of June 1 in Los Angeles (open); a day later it is overdue.
    let stage = map.stages[1].id;
    let saved = app
        .edit_map(&coffee, map.id, &MapEdit::AddCard { stage, lane: Lane::Opportunities, text: "Second grinder".into(), position: None }, "test")
        .unwrap();
    let added = saved.map.stages.iter().find(|s| s.id == stage).unwrap().opportunities.last().unwrap().id;
    let due = "2026-06-01".parse().unwrap();
    let action = CardAction { owner: "Sam Ortiz".into(), due: Some(due), change: None, kpi: None, done: false };
    app.edit_map(&coffee, map.id, &MapEdit::SetAction { card: added, action: Some(action) }, "test").unwrap();
    let evening = app.action_board(&coffee, &ActionsRequest::default(), at("2026-06-02T03:00:00Z")).unwrap();
    let new = evening.items.iter().find(|a| a.card == added).unwrap();
    assert_eq!((new.status, new.overdue), (ActionStatus::Open, false));
    assert_eq!(evening.today.to_string(), "2026-06-01");
    let next_day = app.action_board(&coffee, &ActionsRequest::default(), at("2026-06-02T12:00:00Z")).unwrap();
    let new = next_day.items.iter().find(|a| a.card == added).unwrap();
    assert_eq!((new.status, new.overdue, new.from.is_none(), new.change.is_none()), (ActionStatus::Overdue, true, true, true));
    assert_eq!((next_day.total, next_day.overdue, next_day.done), (2, 1, 1));

    // Filters: by status, by owner (any case), by map (name); sorts by owner and status.
    let only = |request: ActionsRequest| app.action_board(&coffee, &request, now).unwrap().items.iter().map(|a| a.card).collect::<Vec<_>>();
    assert_eq!(only(ActionsRequest { status: Some(ActionStatus::Overdue), ..Default::default() }), vec![added]);
    assert_eq!(only(ActionsRequest { owner: Some(" sam ortiz".into()), ..Default::default() }), vec![added]);
    assert_eq!(only(ActionsRequest { map: Some(map.name.to_uppercase()), sort: ActionSort::Owner, ..Default::default() }).len(), 2);
    let by_owner = app.action_board(&coffee, &ActionsRequest { sort: ActionSort::Owner, ..Default::default() }, now).unwrap();
    assert_eq!(by_owner.items.iter().map(|a| a.owner.as_str()).collect::<Vec<_>>(), vec!["Maya Chen", "Sam Ortiz"]);
    let by_status = app.action_board(&coffee, &ActionsRequest { sort: ActionSort::Status, ..Default::default() }, now).unwrap();
    assert_eq!(by_status.items.iter().map(|a| a.status).collect::<Vec<_>>(), vec![ActionStatus::Overdue, ActionStatus::Done]);
    let missing = app.action_board(&coffee, &ActionsRequest { map: Some("Nowhere".into()), ..Default::default() }, now).unwrap_err().to_string();
    assert!(missing.starts_with("map \"Nowhere\": no such journey map") && missing.contains(&map.name), "{missing}");
}

/// Issue 24, item 5: on the demo, each business's planted complaints are its top negative themes,
/// and the filler words that used to lead ("another", "back", "thank", "looking") make none.
#[test]
fn the_demos_planted_stories_are_its_top_negative_themes() {
    use trailmap_app::voice::{ThemeOptions, ThemeOrder, ThemesRequest};
    let mut app = App::in_memory().unwrap();
    app.demo(&DemoOptions { customers: 1_500, seed: 7 }).unwrap();
    let request = |order| ThemesRequest { options: ThemeOptions { order, ..ThemeOptions::default() }, ..ThemesRequest::default() };
    let boutique = app.business(Some("Thread & Needle")).unwrap();
    for order in [ThemeOrder::NegativeCount, ThemeOrder::AverageSentiment] {
        let report = app.feedback_themes(&boutique, &request(order)).unwrap();
        let top = &report.themes[0];
        assert_eq!(top.label, "shipping", "{order:?}: {:?}", report.themes.iter().map(|t| &t.label).collect::<Vec<_>>());
        assert!(top.phrases.iter().any(|p| p.phrase.starts_with("shipping cost")), "{:?}", top.phrases);
        assert!(report.themes.iter().all(|t| t.count >= report.min_count as u64));
        for filler in ["another", "back", "thank", "thanks", "looking", "just"] {
            assert!(report.themes.iter().all(|t| t.label != filler), "{filler} is a theme");
        }
    }
    // The café's complaints are picked evenly from its list and few at this size (no theme
    // there is mostly negative); its themes hold no filler word either. (On the default demo,
    // 5,000 customers, its two most negative themes are the card machine and finding a seat.)
    let coffee = app.business(Some("Bean There Coffee")).unwrap();
    let report = app.feedback_themes(&coffee, &request(ThemeOrder::NegativeCount)).unwrap();
    assert!(!report.themes.is_empty());
    for filler in ["another", "back", "thank", "thanks", "looking", "just", "will"] {
        assert!(report.themes.iter().all(|t| t.label != filler), "{filler} is a theme of the café");
    }
}
