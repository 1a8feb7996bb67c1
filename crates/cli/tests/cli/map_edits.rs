//! `trailmap map card|evidence|share` and `trailmap actions list` (issue 24, items 6 and 7): cards
//! added, edited, moved, made actions and removed through the app's map edits (each a version),
//! evidence in its one-line forms with a stage named, share links with a password and an expiry
//! listed and revoked, and the action board with an overdue action; errors name the flag.

use super::{json, text, trailmap};

#[test]
fn cards_evidence_and_share_links_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cards.sqlite");
    let map = json(&db, &["map", "template", "coffee-shop", "--name", "Morning", "--author", "maya"]);
    let id = map["id"].as_i64().unwrap();
    let pain = json(&db, &["map", "card", "add", "Morning", "--stage", "Purchase", "--lane", "pain-points", "--text", "Queue too long"]);
    assert_eq!((pain["stage"].as_str(), pain["lane"].as_str(), pain["assumption"].as_bool()), (Some("Purchase"), Some("pain_points"), Some(true)));
    let pain_card = pain["card"].as_u64().unwrap().to_string();
    let idea = json(&db, &["map", "card", "add", &id.to_string(), "--stage", "purchase", "--lane", "opportunities", "--text", "Second till"]);
    let idea_card = idea["card"].as_u64().unwrap().to_string();
    assert_eq!(idea["version"].as_u64(), Some(pain["version"].as_u64().unwrap() + 1), "each edit is a version");

    // Evidence: a stage by name, resolved to its id; a note; removal by place and by form.
    let cited = json(&db, &["map", "evidence", "add", "Morning", &pain_card, "score:nps:stage:Purchase"]);
    let score = cited["evidence"][0].as_str().unwrap().to_string();
    assert!(score.starts_with("score:nps:stage:") && score != "score:nps:stage:Purchase", "{cited}");
    let noted = json(&db, &["map", "evidence", "add", "Morning", &pain_card, "note:Counted 14 people at 8am"]);
    assert_eq!(noted["evidence"], serde_json::json!([score.clone(), "note:Counted 14 people at 8am"]));
    assert_eq!(noted["assumption"], false);
    let again = trailmap(&db, &["map", "evidence", "add", "Morning", &pain_card, &score]);
    assert!(!again.status.success() && text(&again.stderr).contains("already cites"), "{}", text(&again.stderr));
    let bad = trailmap(&db, &["map", "evidence", "add", "Morning", &pain_card, "score:nps:touchpoint:Nowhere"]);
    assert!(text(&bad.stderr).contains("My Business has no touchpoint \"Nowhere\"; it has: none"), "{}", text(&bad.stderr));
    let unknown = trailmap(&db, &["map", "evidence", "add", "Morning", &pain_card, "hunch:maybe"]);
    assert!(text(&unknown.stderr).contains("quote:FEEDBACK_ID"), "{}", text(&unknown.stderr));
    let removed = json(&db, &["map", "evidence", "remove", "Morning", &pain_card, "1"]);
    assert_eq!(removed["evidence"], serde_json::json!(["note:Counted 14 people at 8am"]));
    let removed = json(&db, &["map", "evidence", "remove", "Morning", &pain_card, "note:Counted 14 people at 8am"]);
    assert_eq!(removed["assumption"], true);

    // Edit keeps the evidence; move to another stage and lane; CSV prints one row.
    json(&db, &["map", "evidence", "add", "Morning", &idea_card, "note:Asked the staff"]);
    let edited = json(&db, &["map", "card", "edit", "Morning", &idea_card, "--text", "A second till at rush hour"]);
    assert_eq!((edited["text"].as_str(), edited["evidence"][0].as_str()), (Some("A second till at rush hour"), Some("note:Asked the staff")));
    let moved = trailmap(&db, &["map", "card", "move", "Morning", &pain_card, "--stage", "Awareness", "--lane", "thoughts", "--format", "csv"]);
    let lines: Vec<String> = text(&moved.stdout).lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[1].contains(",Awareness,thoughts,Queue too long,"), "{lines:?}");
    let nowhere = trailmap(&db, &["map", "card", "move", "Morning", &pain_card, "--stage", "Mars"]);
    assert!(text(&nowhere.stderr).contains("--stage: map Morning has no stage \"Mars\""), "{}", text(&nowhere.stderr));

    // An action due in the past and not done is overdue on the board; --status filters it.
    let action = json(&db, &["map", "card", "action", "Morning", &idea_card, "--owner", "Sam", "--due", "2026-01-05", "--kpi", "wait time"]);
    assert_eq!(action["action"]["owner"], "Sam");
    let board = json(&db, &["actions", "list"]);
    assert_eq!((board["total"].as_u64(), board["overdue"].as_u64()), (Some(1), Some(1)), "{board}");
    assert_eq!(board["items"][0]["status"], "overdue");
    assert_eq!(board["items"][0]["overdue"], true);
    assert_eq!(board["items"][0]["text"], "A second till at rush hour");
    let done = json(&db, &["actions", "list", "--status", "done"]);
    assert_eq!(done["items"].as_array().unwrap().len(), 0);
    let csv = trailmap(&db, &["actions", "list", "--owner", "sam", "--map", "Morning", "--format", "csv"]);
    let csv = text(&csv.stdout);
    assert!(csv.lines().nth(1).is_some_and(|l| l.contains("OVERDUE") && l.contains("Sam")), "{csv}");
    let late = trailmap(&db, &["actions", "list", "--status", "late"]);
    assert!(text(&late.stderr).contains("--status: \"late\" is not one of open, done, overdue"), "{}", text(&late.stderr));
    let gone = json(&db, &["map", "card", "remove", "Morning", &idea_card]);
    assert_eq!(gone["text"], "A second till at rush hour");
    assert_eq!(json(&db, &["actions", "list"])["total"], 0);

    // Share links: a password from standard input and a last day; listed by hash; revoked.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_trailmap"))
        .args(["--db", db.to_str().unwrap(), "map", "share", "create", "Morning", "--password-stdin", "--expires", "2099-01-31", "--format", "json"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"a long password\n").unwrap();
    let made: serde_json::Value = serde_json::from_slice(&child.wait_with_output().unwrap().stdout).unwrap();
    assert_eq!((made["has_password"].as_bool(), made["expires_at"].as_str()), (Some(true), Some("2099-02-01T00:00:00.000Z")));
    assert!(made["token"].as_str().unwrap().starts_with("tms_"));
    let listed = json(&db, &["map", "share", "list", "Morning"]);
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["has_password"], true);
    assert!(listed[0].get("password_hash").is_none(), "the password's hash stays in the store");
    let past = trailmap(&db, &["map", "share", "create", "Morning", "--expires", "2020-01-01"]);
    assert!(text(&past.stderr).contains("expires: the expiry must be in the future"), "{}", text(&past.stderr));
    let hash = listed[0]["token_hash"].as_str().unwrap();
    assert_eq!(json(&db, &["map", "share", "revoke", "Morning", hash])["revoked"], true);
    assert_eq!(json(&db, &["map", "share", "list", "Morning"]).as_array().unwrap().len(), 0);
    let none = trailmap(&db, &["map", "share", "revoke", "Morning", hash]);
    assert!(!none.status.success() && text(&none.stderr).contains("no such share link"), "{}", text(&none.stderr));
}
