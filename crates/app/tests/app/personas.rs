//! Personas a business makes itself, on a business made from zero (events, orders and customers
//! imported from files): cards created and edited with rules in the text form, the real coverage
//! of each with the overlaps counted for the earlier persona, the live count of a rule, photos and
//! bad input refused with nothing written, a persona on a map kept, and suggestions stored.

use std::collections::BTreeMap;
use trailmap_app::personas::{PersonaChanges, PersonaInput};
use trailmap_app::{App, AppError, ImportRequest, MapEdit, MapTemplate, RecordKind};
use trailmap_model::{Business, CustomerId};
use trailmap_store::Store;

const EVENTS: &str = "time,event,email,channel,source,page
2026-01-05T09:00:00Z,page_view,ann@example.com,Referral,friend,/
2026-01-05T09:30:00Z,page_view,bob@example.com,Referral,friend,/
2026-01-06T10:00:00Z,page_view,cat@example.com,Paid Social,instagram,/
2026-01-07T11:00:00Z,page_view,dan@example.com,Organic Search,google,/
2026-01-08T12:00:00Z,page_view,eve@example.com,Email,newsletter,/
";

const ORDERS: &str = "order_id,time,email,total
A-1,2026-01-10T10:00:00Z,ann@example.com,10
A-2,2026-01-20T10:00:00Z,ann@example.com,20
A-3,2026-02-01T10:00:00Z,ann@example.com,30
B-1,2026-01-12T10:00:00Z,bob@example.com,15
C-1,2026-01-15T10:00:00Z,cat@example.com,25
C-2,2026-01-25T10:00:00Z,cat@example.com,25
E-1,2026-01-09T10:00:00Z,eve@example.com,5
E-2,2026-01-19T10:00:00Z,eve@example.com,5
E-3,2026-01-29T10:00:00Z,eve@example.com,5
E-4,2026-02-08T10:00:00Z,eve@example.com,5
";

/// Fay has a trait but no visit or order yet; she is a customer all the same.
const CUSTOMERS: &str = "email,name,plan
ann@example.com,Ann,pro
bob@example.com,Bob,basic
cat@example.com,Cat,pro
fay@example.com,Fay,pro
";

/// A PNG's first bytes and a little more: enough for the type check.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

/// The business "Corner Cafe", made from zero by importing the three files.
fn cafe(dir: &std::path::Path) -> (App, Business, BTreeMap<String, CustomerId>) {
    let mut app = App::open(&dir.join("cafe.sqlite")).unwrap();
    let business = app.create_business("Corner Cafe", "EUR", "Europe/London").unwrap();
    for (kind, name, text) in [(RecordKind::Events, "events.csv", EVENTS), (RecordKind::Orders, "orders.csv", ORDERS), (RecordKind::Customers, "customers.csv", CUSTOMERS)] {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        let request = ImportRequest::new(kind, &path, &business);
        app.import(request).unwrap();
    }
    let ids = app
        .store()
        .customers(business.id, 100, 0)
        .unwrap()
        .into_iter()
        .map(|c| (c.email.unwrap().split('@').next().unwrap().to_string(), c.id))
        .collect();
    (app, business, ids)
}

fn who(ids: &BTreeMap<String, CustomerId>, names: &[&str]) -> Vec<CustomerId> {
    let mut out: Vec<CustomerId> = names.iter().map(|n| ids[*n]).collect();
    out.sort();
    out
}

fn input(name: &str, rule: &str) -> PersonaInput {
    PersonaInput { name: name.into(), rule: Some(rule.into()), ..PersonaInput::default() }
}

#[test]
fn personas_made_from_zero_cover_their_customers_and_overlaps_count_for_the_earlier_one() {
    let dir = tempfile::tempdir().unwrap();
    let (mut app, cafe, ids) = cafe(dir.path());
    let loyal = app
        .create_persona(
            &cafe,
            PersonaInput {
                demographics: vec![("Age".into(), "30-45".into())],
                goals: vec!["Bring friends along".into(), "  ".into()],
                quote: Some("  The barista knows my order. ".into()),
                ..input("Loyal referrals", "orders >= 2 & first_channel = Referral")
            },
        )
        .unwrap();
    assert_eq!((loyal.goals.clone(), loyal.quote.as_deref()), (vec!["Bring friends along".to_string()], Some("The barista knows my order.")));
    let repeat = app.create_persona(&cafe, PersonaInput { initials: Some("RB".into()), ..input("Repeat buyers", "orders>=2") }).unwrap();
    let untied = app.create_persona(&cafe, PersonaInput { name: "Someday regulars".into(), ..PersonaInput::default() }).unwrap();

    let board = app.persona_board(&cafe).unwrap();
    assert_eq!(board.customers, 6, "every customer, Fay without a visit too");
    let [first, second, third] = &board.personas[..] else { panic!("three cards") };
    assert_eq!((first.rule.as_deref(), first.initials.as_str(), first.initials_given), (Some("orders>=2 & first_channel=Referral"), "LR", false));
    assert_eq!((first.matches.customers.clone(), first.covers.customers.clone()), (who(&ids, &["ann"]), who(&ids, &["ann"])));
    assert_eq!((second.initials.as_str(), second.rank), ("RB", 2));
    assert_eq!(second.matches.customers, who(&ids, &["ann", "cat", "eve"]));
    assert_eq!(second.covers.customers, who(&ids, &["cat", "eve"]), "Ann counts for the earlier persona");
    assert_eq!(
        second.counted_earlier.iter().map(|o| (o.persona, o.name.as_str(), o.customers.clone())).collect::<Vec<_>>(),
        vec![(loyal.id, "Loyal referrals", who(&ids, &["ann"]))]
    );
    assert_eq!((third.id, third.rule.as_deref(), third.covers.n, third.rule_in_words.as_str()), (untied.id, None, 0, "no rule yet (covers nobody)"));
    assert_eq!(board.unassigned.customers, who(&ids, &["bob", "dan", "fay"]));
    // The coverage every breakdown uses is the board's.
    let coverage = app.persona_coverage(&cafe).unwrap();
    assert_eq!(coverage.iter().map(|c| c.customers.clone()).collect::<Vec<_>>(), board.personas.iter().map(|c| c.covers.customers.clone()).collect::<Vec<_>>());

    // The live count: a new persona comes last; the one being edited keeps its place.
    let preview = app.preview_segment(&cafe, "first_channel=Referral|Email & property:plan exists", None).unwrap();
    assert_eq!((preview.rule.as_str(), preview.customers), ("first_channel=Referral|Email & property:plan exists", 6));
    assert_eq!((preview.matches.customers.clone(), preview.covers.customers.clone()), (who(&ids, &["ann", "bob"]), who(&ids, &["bob"])));
    let preview = app.preview_segment(&cafe, "orders>=1", Some(loyal.id)).unwrap();
    assert_eq!((preview.covers.n, preview.counted_earlier.len()), (4, 0));
    // Days since the last order count to the day after the last order (8 February): Ann's last
    // was on 1 February, Eve's on the 8th, Cat's on 25 January. Revenue is in euros.
    assert_eq!(app.preview_segment(&cafe, "days_since_last_order<=8", None).unwrap().matches.customers, who(&ids, &["ann", "eve"]));
    assert_eq!(app.preview_segment(&cafe, "revenue>=50", None).unwrap().matches.customers, who(&ids, &["ann", "cat"]));
    assert_eq!(app.preview_segment(&cafe, "revenue=60 | 20", None).unwrap().matches.customers, who(&ids, &["ann", "eve"]));
    let error = app.preview_segment(&cafe, "orders>=", None).unwrap_err();
    assert_eq!(error.to_string(), "rule \"orders>=\": at character 9: expected a value after \">=\" (quote a value holding spaces or & | \" ! = < > ( )), found the end");

    // An edit: the second rule no longer overlaps the first; the other fields stay.
    let changes = PersonaChanges { rule: Some(Some("orders>=2 & !first_channel=Referral".into())), ..PersonaChanges::default() };
    let edited = app.update_persona(&cafe, repeat.id, changes).unwrap();
    assert_eq!((edited.initials.as_deref(), edited.segment.as_ref().unwrap().to_text()), (Some("RB"), "orders>=2 & first_channel!=Referral".to_string()));
    let board = app.persona_board(&cafe).unwrap();
    assert_eq!((board.personas[1].matches.n, board.personas[1].covers.n, board.personas[1].counted_earlier.len()), (2, 2, 0));
    // The funnel's persona breakdown groups by the same assignment.
    let request = trailmap_app::FunnelRequest { breakdown: Some("persona".into()), ..App::funnel_request(vec!["page_view".into(), "purchase".into()]) };
    let labels = format!("{:?}", app.funnel(&cafe, &request).unwrap());
    assert!(labels.contains("Loyal referrals") && labels.contains("Repeat buyers"), "{labels}");
}

#[test]
fn bad_input_is_refused_naming_the_field_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let (mut app, cafe, _) = cafe(dir.path());
    let persona = app.create_persona(&cafe, input("Regulars", "orders>=3")).unwrap();
    let version = app.data_version(cafe.id).unwrap();
    let stored = app.persona(&cafe, persona.id).unwrap();
    let refused = |app: &mut App, changes: PersonaChanges| app.update_persona(&cafe, persona.id, changes).unwrap_err().to_string();
    let too_big = [PNG.to_vec(), vec![0; 300 * 1024]].concat();
    assert_eq!(
        refused(&mut app, PersonaChanges { photo: Some(Some(too_big)), ..PersonaChanges::default() }),
        "photo: 300.0 KiB is over the limit of 256 KiB; use a smaller picture"
    );
    let gif = b"GIF89a\x01\0\x01\0".to_vec();
    assert_eq!(refused(&mut app, PersonaChanges { photo: Some(Some(gif)), ..PersonaChanges::default() }), "photo: not a PNG, JPEG or WebP image (by its first bytes)");
    let rule = refused(&mut app, PersonaChanges { rule: Some(Some("orders>=2 first_channel=Email".into())), ..PersonaChanges::default() });
    assert!(rule.starts_with("rule \"orders>=2 first_channel=Email\": at character 11: expected \"&\" between conditions"), "{rule}");
    assert!(refused(&mut app, PersonaChanges { name: Some(" ".into()), ..PersonaChanges::default() }).starts_with("name"));
    assert_eq!((app.data_version(cafe.id).unwrap(), app.persona(&cafe, persona.id).unwrap()), (version, stored.clone()));
    let taken = app.create_persona(&cafe, input(" REGULARS ", "orders>=1")).unwrap_err();
    assert!(matches!(&taken, AppError::Conflict(m) if m == "name: a persona named \"REGULARS\" already exists"), "{taken}");
    assert_eq!((app.personas(&cafe).unwrap().len(), app.data_version(cafe.id).unwrap()), (1, version));

    // A photo that checks is kept and served back with its type; removing it is one edit.
    app.update_persona(&cafe, persona.id, PersonaChanges { photo: Some(Some(PNG.to_vec())), ..PersonaChanges::default() }).unwrap();
    let photo = app.persona_photo(&cafe, persona.id).unwrap().unwrap();
    assert_eq!((photo.content_type, photo.bytes.as_slice()), ("image/png", PNG));
    assert_eq!(app.data_version(cafe.id).unwrap(), version + 1);
    app.update_persona(&cafe, persona.id, PersonaChanges { photo: Some(None), ..PersonaChanges::default() }).unwrap();
    assert_eq!(app.persona_photo(&cafe, persona.id).unwrap(), None);
}

#[test]
fn a_persona_on_a_map_is_kept_and_suggestions_become_cards_under_free_names() {
    let dir = tempfile::tempdir().unwrap();
    let (mut app, cafe, _) = cafe(dir.path());
    let persona = app.create_persona(&cafe, input("Regulars", "orders>=3")).unwrap();
    let map = app.create_map(&cafe, "Morning visit", MapTemplate::Blank, "olive").unwrap();
    app.edit_map(&cafe, map.id, &MapEdit::AddPersona { persona: persona.id }, "olive").unwrap();
    let held = app.delete_persona(&cafe, persona.id).unwrap_err();
    assert!(matches!(&held, AppError::Conflict(m) if m == "persona \"Regulars\" is on the map \"Morning visit\": take it off it first"), "{held}");
    app.edit_map(&cafe, map.id, &MapEdit::RemovePersona { persona: persona.id }, "olive").unwrap();
    app.delete_persona(&cafe, persona.id).unwrap();
    assert!(app.personas(&cafe).unwrap().is_empty());
    assert!(matches!(app.delete_persona(&cafe, persona.id), Err(AppError::NotFound(_))));

    // Clustering needs at least ten buyers: twelve more, half one-off emails, half referral regulars.
    let (mut events, mut orders) = (String::from("time,event,email,channel,source\n"), String::from("order_id,time,email,total\n"));
    for i in 0..12 {
        let (channel, count) = if i % 2 == 0 { ("Email", 1) } else { ("Referral", 6) };
        events.push_str(&format!("2026-01-02T08:00:00Z,page_view,g{i}@example.com,{channel},x\n"));
        for k in 0..count {
            orders.push_str(&format!("G{i}-{k},2026-01-{:02}T09:00:00Z,g{i}@example.com,{}\n", 3 + k * 4, 4 + i));
        }
    }
    for (kind, name, text) in [(RecordKind::Events, "more-events.csv", events), (RecordKind::Orders, "more-orders.csv", orders)] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        app.import(ImportRequest::new(kind, &path, &cafe)).unwrap();
    }
    let mut request = app.persona_request();
    request.k = Some(2);
    let report = app.suggest_personas(&cafe, &request).unwrap();
    let first = &report.clusters[0];
    assert_eq!(trailmap_model::CustomerRule::parse(&first.rule_text).unwrap(), first.rule);
    let a = app.create_persona_from_suggestion(&cafe, first).unwrap();
    let b = app.create_persona_from_suggestion(&cafe, first).unwrap();
    let names: Vec<String> = [a, b].iter().map(|id| app.persona(&cafe, *id).unwrap().name).collect();
    assert_eq!(names, [first.name.clone(), format!("{} 2", first.name)]);
    // The card counts what the suggestion's rule matches, customers of its cluster among them.
    let board = app.persona_board(&cafe).unwrap();
    let counted = app.preview_segment(&cafe, &first.rule_text, None).unwrap();
    assert_eq!(board.personas[0].matches, counted.matches);
    assert!(counted.matches.customers.iter().any(|c| first.customer_ids.contains(c)), "{}", first.rule_text);
}
