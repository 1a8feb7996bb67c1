//! The journey map import's target: JSON text read by `App::import_map_json` into a business that
//! has stages, touchpoints and personas (the demo's coffee shop, on an in-memory store kept
//! between runs).
//!
//! What must hold: a refused document is an error of its checks that says where (the document's
//! line and column, the field, or a rule's offset); an imported map exports to a document that
//! imports again into the same map (the export of the second import equals the first's) and creates
//! no touchpoint the first did not. The maps and the touchpoints an import made are deleted after,
//! so every input meets the same business and the store stays small over millions of runs.

use crate::Outcome;
use std::cell::RefCell;
use trailmap_app::{App, AppError, DemoOptions};
use trailmap_model::{Business, TouchpointId};

thread_local! {
    static APP: RefCell<Option<(App, Business)>> = const { RefCell::new(None) };
}

/// Runs `body` with an in-memory app holding the demo (a few customers) and its coffee shop.
pub(crate) fn with_demo<T>(body: impl FnOnce(&mut App, &Business) -> T) -> T {
    APP.with(|cell| {
        let mut slot = cell.borrow_mut();
        let (app, business) = slot.get_or_insert_with(|| {
            let mut app = App::in_memory().expect("an in-memory store");
            app.demo(&DemoOptions { customers: 60, seed: 7 }).expect("the demo");
            let business = app.business(Some(trailmap_app::DEMO_BUSINESSES[0])).expect("the demo's coffee shop");
            (app, business)
        });
        body(app, business)
    })
}

/// A journey map document, as `trailmap map import FILE` and the API's import read it.
pub fn map_import(data: &[u8]) -> Outcome {
    let Ok(text) = std::str::from_utf8(data) else { return Outcome::Skipped };
    with_demo(|app, business| {
        let before: Vec<TouchpointId> = app.touchpoints(business).expect("the touchpoints").iter().map(|t| t.id).collect();
        let first = match app.import_map_json(business, text, "fuzz") {
            Ok(imported) => imported,
            Err(refused) => {
                assert_refused_by_checks(&refused, "a map document");
                return Outcome::Refused;
            }
        };
        let document = app.export_map_document(business, first.id).expect("an imported map exports");
        let json = serde_json::to_string(&document).expect("a document serialises");
        let second = match app.import_map_json(business, &json, "fuzz") {
            Ok(second) => second,
            Err(e) => panic!("an exported map does not import again: {e}\n{json}"),
        };
        assert!(second.touchpoints_created.is_empty(), "the second import created touchpoints the first had made: {:?}", second.touchpoints_created);
        let again = app.export_map_document(business, second.id).expect("a re-imported map exports");
        assert_eq!(document, again, "a map changed on its way out and in again");
        // Put the business back as it was, so every input meets the same business however many
        // ran before it (a crash then reproduces from its input alone) and the store stays small.
        app.delete_map(business, first.id).expect("the imported map deletes");
        app.delete_map(business, second.id).expect("the re-imported map deletes");
        for view in app.touchpoints(business).expect("the touchpoints") {
            if !before.contains(&view.id) {
                app.delete_touchpoint(business, view.id, "fuzz").expect("a touchpoint the import made deletes");
            }
        }
        Outcome::Accepted
    })
}

/// Checks that a request was refused by the checks of what it says (an invalid field, rule or
/// text, with a message), not by the store or anything else; a rule's error offset must lie in
/// its text. `what` names the request in the panic message.
pub(crate) fn assert_refused_by_checks(error: &AppError, what: &str) {
    match error {
        AppError::Invalid(message) => assert!(!message.is_empty(), "{what}: refused with an empty message"),
        AppError::InvalidField { field, reason, .. } => {
            assert!(!field.is_empty() && !reason.is_empty(), "{what}: refused without naming the field and the reason: {error}");
        }
        AppError::InvalidRule { field, rule, error: e } => {
            assert!(!field.is_empty(), "{what}: a rule refused without its field: {error}");
            assert!(e.offset <= rule.chars().count(), "{what}: a rule's error past its end: {error}");
        }
        other => panic!("{what} was refused by something other than its checks: {other}"),
    }
}
