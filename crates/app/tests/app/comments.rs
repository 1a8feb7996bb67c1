//! Comments on map cards through the app: every member comments (viewers too), only the author
//! edits, the author or an owner deletes, strangers see nothing; comments make no map version and
//! no data version, and go with a removed card or a deleted map.

use trailmap_app::{App, AppError, MapEdit, MapTemplate};
use trailmap_model::{Business, CardRef, Lane, MapId, Role, Timestamp, User};

fn at(text: &str) -> Timestamp {
    Timestamp::parse_rfc3339(text).unwrap()
}

struct Team {
    app: App,
    shop: Business,
    owner: User,
    editor: User,
    viewer: User,
    stranger: User,
    map: MapId,
    card: u32,
}

fn team() -> Team {
    let mut app = App::in_memory().unwrap();
    let now = at("2026-05-01T09:00:00Z");
    let owner = app.create_user("olive@example.com", "Olive", "correct horse battery", now).unwrap();
    let editor = app.create_user("ed@example.com", "Ed", "correct horse battery", now).unwrap();
    let viewer = app.create_user("vic@example.com", "Vic", "correct horse battery", now).unwrap();
    let stranger = app.create_user("otto@example.com", "Otto", "correct horse battery", now).unwrap();
    let shop = app.create_business_owned(owner.id, "Shop", "USD", "UTC").unwrap();
    app.create_business_owned(stranger.id, "Elsewhere", "USD", "UTC").unwrap();
    app.set_member(shop.id, editor.id, Role::Editor).unwrap();
    app.set_member(shop.id, viewer.id, Role::Viewer).unwrap();
    let map = app.create_map(&shop, "Web shop", MapTemplate::WebShop, "Olive").unwrap();
    let card = map.stages[2].pain_points[0].id;
    Team { app, shop, owner, editor, viewer, stranger, map: map.id, card }
}

#[test]
fn members_comment_and_only_the_author_edits_while_the_author_or_an_owner_deletes() {
    let Team { mut app, shop, owner, editor, viewer, stranger, map, card } = team();
    let version = app.journey_map(&shop, map).unwrap().version;
    let data = app.data_version(shop.id).unwrap();
    let first = app.add_comment(&shop, CardRef { map, card }, viewer.id, "  Is this still true after the new shipping rates?  ", at("2026-05-02T10:00:00Z")).unwrap();
    assert_eq!((first.author, first.author_name.as_str(), first.text.as_str()), (viewer.id, "Vic", "Is this still true after the new shipping rates?"));
    assert_eq!((first.created_at, first.edited_at), (at("2026-05-02T10:00:00Z"), None));
    let second = app.add_comment(&shop, CardRef { map, card }, editor.id, "Yes: 41% leave at the shipping step.", at("2026-05-02T11:00:00Z")).unwrap();
    let listed = app.card_comments(&shop, CardRef { map, card }).unwrap();
    assert_eq!(listed.iter().map(|c| c.id).collect::<Vec<_>>(), [first.id, second.id], "oldest first");
    assert_eq!(app.journey_map(&shop, map).unwrap().version, version, "a comment is not a map version");
    assert_eq!(app.data_version(shop.id).unwrap(), data, "a comment is not data an analysis reads");

    // Editing: the author only; the edit time is kept.
    let edited = app.edit_comment(&shop, CardRef { map, card }, first.id, viewer.id, "Is this still true?", at("2026-05-03T08:00:00Z")).unwrap();
    assert_eq!((edited.text.as_str(), edited.edited_at, edited.created_at), ("Is this still true?", Some(at("2026-05-03T08:00:00Z")), first.created_at));
    for someone in [owner.id, editor.id] {
        assert!(matches!(app.edit_comment(&shop, CardRef { map, card }, first.id, someone, "x", at("2026-05-03T09:00:00Z")), Err(AppError::Forbidden(_))));
    }
    // Deleting: an editor may not delete the viewer's comment, an owner may; the viewer may not
    // delete the editor's, the editor may delete their own.
    assert!(matches!(app.delete_comment(&shop, CardRef { map, card }, first.id, editor.id), Err(AppError::Forbidden(_))));
    assert!(matches!(app.delete_comment(&shop, CardRef { map, card }, second.id, viewer.id), Err(AppError::Forbidden(_))));
    app.delete_comment(&shop, CardRef { map, card }, first.id, owner.id).unwrap();
    app.delete_comment(&shop, CardRef { map, card }, second.id, editor.id).unwrap();
    assert!(app.card_comments(&shop, CardRef { map, card }).unwrap().is_empty());

    // Someone outside the business finds nothing; a card or comment that is not there is NotFound.
    assert!(matches!(app.add_comment(&shop, CardRef { map, card }, stranger.id, "hello", at("2026-05-04T00:00:00Z")), Err(AppError::NotFound(_))));
    assert!(matches!(app.add_comment(&shop, CardRef { map, card: 9_999 }, owner.id, "hello", at("2026-05-04T00:00:00Z")), Err(AppError::NotFound(_))));
    assert!(matches!(app.edit_comment(&shop, CardRef { map, card }, first.id, viewer.id, "gone", at("2026-05-04T00:00:00Z")), Err(AppError::NotFound(_))));
    // Text: 1 to 5,000 characters, the error naming the field.
    for bad in ["   ", &"x".repeat(5_001)] {
        match app.add_comment(&shop, CardRef { map, card }, owner.id, bad, at("2026-05-04T00:00:00Z")) {
            Err(e @ AppError::InvalidField { .. }) => assert!(e.to_string().starts_with("text: a comment has 1 to 5000 characters"), "{e}"),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn a_removed_card_and_a_deleted_map_take_their_comments_along() {
    let Team { mut app, shop, owner, viewer, map, card, .. } = team();
    let other_card = app.journey_map(&shop, map).unwrap().map.stages[0].goals[0].id;
    app.add_comment(&shop, CardRef { map, card }, viewer.id, "About the pain point", at("2026-05-02T10:00:00Z")).unwrap();
    app.add_comment(&shop, CardRef { map, card: other_card }, owner.id, "About the goal", at("2026-05-02T10:00:00Z")).unwrap();
    // Moving the card keeps its comments (its id stays).
    let stage = app.journey_map(&shop, map).unwrap().map.stages[3].id;
    app.edit_map(&shop, map, &MapEdit::MoveCard { card, stage, lane: Lane::PainPoints, position: None }, "Olive").unwrap();
    assert_eq!(app.card_comments(&shop, CardRef { map, card }).unwrap().len(), 1);
    // Removing it deletes them in the same write.
    app.edit_map(&shop, map, &MapEdit::RemoveCard { card }, "Olive").unwrap();
    assert!(matches!(app.card_comments(&shop, CardRef { map, card }), Err(AppError::NotFound(_))));
    assert_eq!(app.map_comments(&shop, map).unwrap().iter().map(|c| c.text.as_str()).collect::<Vec<_>>(), ["About the goal"]);
    // The newest card's id is given again to the next card made after it is removed; the new
    // card starts without the old one's comments.
    let shown = app.journey_map(&shop, map).unwrap().map;
    let (last_stage, last) = shown.cards().map(|(s, _, c)| (s.id, c.id)).max_by_key(|(_, c)| *c).unwrap();
    app.add_comment(&shop, CardRef { map, card: last }, viewer.id, "About the last card", at("2026-05-02T11:00:00Z")).unwrap();
    app.edit_map(&shop, map, &MapEdit::RemoveCard { card: last }, "Olive").unwrap();
    let added = app
        .edit_map(&shop, map, &MapEdit::AddCard { stage: last_stage, lane: Lane::Goals, text: "A new card".into(), position: None }, "Olive")
        .unwrap();
    let new_card = added.map.cards().find(|(_, _, c)| c.text == "A new card").unwrap().2.id;
    assert_eq!(new_card, last, "the freed id is reused");
    assert!(app.card_comments(&shop, CardRef { map, card: new_card }).unwrap().is_empty());
    app.delete_map(&shop, map).unwrap();
    assert!(matches!(app.map_comments(&shop, map), Err(AppError::NotFound(_))));
    let again = app.create_map(&shop, "Again", MapTemplate::WebShop, "Olive").unwrap();
    assert!(app.map_comments(&shop, again.id).unwrap().is_empty());
}
