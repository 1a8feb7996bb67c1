//! The journey map import's target: JSON text read by `App::import_map_json` into a business that
//! has stages, touchpoints and personas (the demo's coffee shop, on an in-memory store kept
//! between runs).
//!
//! What must hold: a refused document is an `Invalid` error that says where (the document's line
//! and column, or the field); an imported map exports to a document that imports again into the
//! same map (the export of the second import equals the first's). Both maps are deleted after,
//! so the store stays small over millions of runs.

use std::cell::RefCell;
use trailmap_app::{App, AppError, DemoOptions};
use trailmap_model::Business;

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
pub fn map_import(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    with_demo(|app, business| {
        let first = match app.import_map_json(business, text, "fuzz") {
            Ok(imported) => imported,
            Err(AppError::Invalid(message)) => {
                assert!(!message.is_empty(), "an empty error");
                return;
            }
            Err(other) => panic!("a document was refused by something other than its checks: {other}"),
        };
        let document = app.export_map_document(business, first.id).expect("an imported map exports");
        let json = serde_json::to_string(&document).expect("a document serialises");
        let second = match app.import_map_json(business, &json, "fuzz") {
            Ok(second) => second,
            Err(e) => panic!("an exported map does not import again: {e}\n{json}"),
        };
        let again = app.export_map_document(business, second.id).expect("a re-imported map exports");
        assert_eq!(document, again, "a map changed on its way out and in again");
        app.delete_map(business, first.id).expect("the imported map deletes");
        app.delete_map(business, second.id).expect("the re-imported map deletes");
    });
}
