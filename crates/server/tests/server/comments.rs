//! Issue 18, comments on map cards: every member comments (viewers included), only the author
//! edits, the author or an owner deletes; the map page shows each card's count and its thread;
//! share links never show comments.

use super::*;

/// The id of the first card of the map (any lane), from the map API.
pub(crate) async fn first_card(router: &Router, who: &Actor, business: trailmap_model::BusinessId, map: i64) -> u32 {
    let shown = api(router, Some(who), "GET", &format!("/api/businesses/{business}/maps/{map}"), None).await.json();
    let stage = &shown["map"]["stages"][0];
    let card = ["goals", "actions", "thoughts", "pain_points", "opportunities"].iter().find_map(|lane| stage[*lane][0]["id"].as_u64());
    u32::try_from(card.expect("the template's first stage has a card")).unwrap()
}

fn comments_path(w: &World, map: i64, card: u32) -> String {
    format!("/api/businesses/{}/maps/{map}/cards/{card}/comments", w.bean.id)
}

/// Comments on a card of Bean There's map by the API as `who`; answers the comment's id.
pub(crate) async fn new_comment(w: &World, who: &Actor, map: i64, card: u32) -> i64 {
    let made = api(&w.router, Some(who), "POST", &comments_path(w, map, card), Some(json!({"text": "Is this still true?"}))).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    made.json()["id"].as_i64().unwrap()
}

/// A member of Bean There with `role`, signed in.
async fn member(w: &World, email: &'static str, name: &'static str, role: Role) -> Actor {
    let bean = w.bean.id;
    w.tracker
        .run(move |app| {
            let made = actor(app, email, name, Timestamp::from_millis(wall_clock()));
            app.set_member(bean, made.user.id, role).unwrap();
            made
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn members_comment_authors_edit_and_owners_delete() {
    let w = world();
    let editor = member(&w, "ed@example.com", "Ed Editor", Role::Editor).await;
    let map = new_map(&w.router, &w.owner, w.bean.id, "coffee-shop").await;
    let card = first_card(&w.router, &w.owner, w.bean.id, map).await;
    let path = comments_path(&w, map, card);

    // A viewer comments: commenting is how someone who may not edit says what should change.
    let vic = api(&w.router, Some(&w.viewer), "POST", &path, Some(json!({"text": "  Customers ask for oat milk here.  "}))).await;
    assert_eq!(vic.status, StatusCode::CREATED, "{}", vic.text);
    let vic = vic.json();
    assert_eq!((vic["author_name"].as_str(), vic["text"].as_str(), vic["card"].as_u64()), (Some("Vic Viewer"), Some("Customers ask for oat milk here."), Some(u64::from(card))));
    assert_eq!((vic["may_edit"].as_bool(), vic["may_delete"].as_bool(), vic["edited"].is_null()), (Some(true), Some(true), true));
    let vic_id = vic["id"].as_i64().unwrap();
    let ed_id = api(&w.router, Some(&editor), "POST", &path, Some(json!({"text": "Ed's note"}))).await.json()["id"].as_i64().unwrap();

    // Each reader is told what they may do with each comment.
    let as_owner = api(&w.router, Some(&w.owner), "GET", &path, None).await.json();
    let rights = |list: &Value| list.as_array().unwrap().iter().map(|c| (c["author_name"].as_str().unwrap().to_string(), c["may_edit"] == true, c["may_delete"] == true)).collect::<Vec<_>>();
    assert_eq!(rights(&as_owner), [("Vic Viewer".to_string(), false, true), ("Ed Editor".to_string(), false, true)]);
    let as_editor = api(&w.router, Some(&editor), "GET", &path, None).await.json();
    assert_eq!(rights(&as_editor), [("Vic Viewer".to_string(), false, false), ("Ed Editor".to_string(), true, true)]);

    // Only the author edits.
    let edited = api(&w.router, Some(&w.viewer), "PATCH", &format!("{path}/{vic_id}"), Some(json!({"text": "Oat milk, twice a day."}))).await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.text);
    assert_eq!(edited.json()["text"], "Oat milk, twice a day.");
    assert!(edited.json()["edited"].is_string());
    for who in [&w.owner, &editor] {
        let refused = api(&w.router, Some(who), "PATCH", &format!("{path}/{vic_id}"), Some(json!({"text": "Not mine"}))).await;
        assert_eq!((refused.status, refused.code().as_str()), (StatusCode::FORBIDDEN, "forbidden"), "{}", refused.text);
        assert!(refused.text.contains("Vic Viewer's: only its author edits it"), "{}", refused.text);
    }
    // The author or an owner deletes; an editor or a viewer deletes only their own.
    let by_editor = api(&w.router, Some(&editor), "DELETE", &format!("{path}/{vic_id}"), None).await;
    assert_eq!((by_editor.status, by_editor.code().as_str()), (StatusCode::FORBIDDEN, "forbidden"));
    let by_viewer = api(&w.router, Some(&w.viewer), "DELETE", &format!("{path}/{ed_id}"), None).await;
    assert_eq!((by_viewer.status, by_viewer.code().as_str()), (StatusCode::FORBIDDEN, "forbidden"));
    assert_eq!(api(&w.router, Some(&w.owner), "DELETE", &format!("{path}/{vic_id}"), None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(api(&w.router, Some(&editor), "DELETE", &format!("{path}/{ed_id}"), None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(api(&w.router, Some(&w.owner), "GET", &path, None).await.json(), json!([]));
    let gone = api(&w.router, Some(&w.owner), "DELETE", &format!("{path}/{ed_id}"), None).await;
    assert_eq!((gone.status, gone.code().as_str()), (StatusCode::NOT_FOUND, "not_found"));

    // Bad input names the field; a card the map does not have is not found.
    let empty = api(&w.router, Some(&w.viewer), "POST", &path, Some(json!({"text": "   "}))).await;
    assert_eq!((empty.status, empty.code().as_str()), (StatusCode::BAD_REQUEST, "invalid_input"));
    assert!(empty.text.contains("text") && empty.text.contains("1 to 5000 characters"), "{}", empty.text);
    let long = api(&w.router, Some(&w.viewer), "POST", &path, Some(json!({"text": "x".repeat(5001)}))).await;
    assert_eq!(long.status, StatusCode::BAD_REQUEST, "{}", long.text);
    let no_card = api(&w.router, Some(&w.viewer), "POST", &comments_path(&w, map, 9_999), Some(json!({"text": "Hello"}))).await;
    assert_eq!((no_card.status, no_card.code().as_str()), (StatusCode::NOT_FOUND, "not_found"), "{}", no_card.text);
    let no_text = api(&w.router, Some(&w.viewer), "POST", &path, Some(json!({"words": "Hello"}))).await;
    assert_eq!((no_text.status, no_text.code().as_str()), (StatusCode::BAD_REQUEST, "invalid_input"), "{}", no_text.text);
    assert!(no_text.text.contains("missing field `text`"), "{}", no_text.text);
    // A comment is found only under its own card.
    let other_card = new_comment(&w, &w.owner, map, card).await;
    let second = {
        let shown = api(&w.router, Some(&w.owner), "GET", &format!("/api/businesses/{}/maps/{map}", w.bean.id), None).await.json();
        let ids: Vec<u32> = shown["map"]["stages"].as_array().unwrap().iter().flat_map(|s| {
            ["goals", "actions", "thoughts", "pain_points", "opportunities"].into_iter().flat_map(move |l| s[l].as_array().cloned().unwrap_or_default())
        }).map(|c| c["id"].as_u64().unwrap() as u32).collect();
        *ids.iter().find(|&&c| c != card).unwrap()
    };
    let misplaced = api(&w.router, Some(&w.owner), "PATCH", &format!("{}/{other_card}", comments_path(&w, map, second)), Some(json!({"text": "x"}))).await;
    assert_eq!(misplaced.status, StatusCode::NOT_FOUND, "{}", misplaced.text);
    let all = api(&w.router, Some(&w.viewer), "GET", &format!("/api/businesses/{}/maps/{map}/comments", w.bean.id), None).await.json();
    assert_eq!(all.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_map_page_shows_counts_and_threads_and_share_links_show_no_comments() {
    let w = world();
    let map = new_map(&w.router, &w.owner, w.bean.id, "coffee-shop").await;
    let card = first_card(&w.router, &w.owner, w.bean.id, map).await;
    let editor_path = format!("/b/{}/maps/{map}", w.bean.id);

    // A viewer comments through the page's plain form and comes back to the card's open thread.
    let posted = page(&w.router, Some(&w.viewer), "POST", &format!("{editor_path}/cards/{card}/comments"), &[("text", "Secret plan: raise prices")]).await;
    assert_eq!((posted.status, posted.location()), (StatusCode::SEE_OTHER, format!("{editor_path}?comments={card}#comments-{card}").as_str()));
    new_comment(&w, &w.owner, map, card).await;
    let shown = page(&w.router, Some(&w.viewer), "GET", &format!("{editor_path}?comments={card}"), &[]).await;
    assert_eq!(shown.status, StatusCode::OK);
    let thread = shown.text.split(&format!("id=\"comments-{card}\"")).nth(1).unwrap().split("</details>").next().unwrap().to_string();
    assert!(thread.contains("data-count=\"2\""), "{thread}");
    assert!(thread.starts_with(" data-testid=\"card-comments\" open"), "the card's thread is open: {thread}");
    assert!(shown.text.contains("Secret plan: raise prices") && shown.text.contains("Vic Viewer"));
    // Every other card shows a count of 0; the viewer gets edit and delete only on their own.
    assert!(shown.text.matches("data-testid=\"comment-count\" data-count=\"0\"").count() > 3);
    assert_eq!(shown.text.matches("/delete\"").count(), 1, "Vic deletes only Vic's comment");

    // The viewer's own comment: edited and deleted through the page.
    let mine = api(&w.router, Some(&w.viewer), "GET", &comments_path(&w, map, card), None).await.json()[0]["id"].as_i64().unwrap();
    let edit = page(&w.router, Some(&w.viewer), "POST", &format!("{editor_path}/cards/{card}/comments/{mine}/edit"), &[("text", "Secret plan: raise prices in May")]).await;
    assert_eq!(edit.status, StatusCode::SEE_OTHER, "{}", edit.text);
    let refused = page(&w.router, Some(&w.viewer), "POST", &format!("{editor_path}/cards/{card}/comments/{}/delete", mine + 1), &[]).await;
    assert_eq!((refused.status, refused.code().as_str()), (StatusCode::FORBIDDEN, "forbidden"));

    // The share link shows the map and its cards, and nothing of the comments.
    let (token, _) = new_link(&w.router, &w.owner, w.bean.id, map, json!({})).await;
    let shared = call(&w.router, "GET", &format!("/share/{token}"), &[], vec![]).await;
    assert_eq!(shared.status, StatusCode::OK);
    assert!(shared.text.contains("data-testid=\"map-grid\""), "{}", shared.text);
    for hidden in ["Secret plan", "raise prices", "Is this still true?", "Vic Viewer", "comment-count", "card-comments", "/comments"] {
        assert!(!shared.text.contains(hidden), "the share page shows {hidden:?}");
    }
    // Nor do the map's JSON export and the comparison page.
    let exported = api(&w.router, Some(&w.owner), "GET", &format!("/api/businesses/{}/maps/{map}/export?format=json", w.bean.id), None).await;
    assert!(exported.status == StatusCode::OK && !exported.text.contains("raise prices"));

    // A removed card takes its comments with it.
    let removed = api(&w.router, Some(&w.owner), "POST", &format!("/api/businesses/{}/maps/{map}/edits", w.bean.id), Some(json!({"op": "remove_card", "card": card}))).await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.text);
    let all = api(&w.router, Some(&w.owner), "GET", &format!("/api/businesses/{}/maps/{map}/comments", w.bean.id), None).await.json();
    assert_eq!(all, json!([]));
}
