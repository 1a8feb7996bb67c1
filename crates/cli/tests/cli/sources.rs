//! Issue 18 on the command line: `business use` (and the demo's default), `source list` with each
//! key's last use and `source revoke`, against a running `trailmap serve` in another process: the
//! server refuses a key the CLI revoked, on its very next request.

use super::{json, text, trailmap};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};

fn trailmap_with_env(db: &Path, args: &[&str], business: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_trailmap")).arg("--db").arg(db).args(args).env("TRAILMAP_BUSINESS", business).env_remove("TRAILMAP_DB").output().unwrap()
}

#[test]
fn business_use_sets_the_default_that_flags_and_the_environment_still_override() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.sqlite");
    assert!(trailmap(&db, &["business", "create", "Corner Bakery", "--currency", "EUR"]).status.success());
    assert_eq!(json(&db, &["summary"])[0]["business"], "My Business", "the first created, before a choice");
    let chosen = json(&db, &["business", "use", "corner bakery"]);
    assert_eq!(chosen["name"], "Corner Bakery");
    assert_eq!(json(&db, &["summary"])[0]["business"], "Corner Bakery");
    assert_eq!(json(&db, &["summary", "--business", "My Business"])[0]["business"], "My Business");
    let by_env = trailmap_with_env(&db, &["summary", "--format", "json"], "My Business");
    assert!(by_env.status.success(), "{}", text(&by_env.stderr));
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&by_env.stdout).unwrap()[0]["business"], "My Business");
    let listed = trailmap(&db, &["business", "list", "--format", "csv"]);
    assert_eq!(text(&listed.stdout).lines().collect::<Vec<_>>(), ["id,name,currency,timezone,default", "1,My Business,USD,UTC,", "2,Corner Bakery,EUR,UTC,yes"]);
    let table = text(&trailmap(&db, &["business", "use", "My Business"]).stdout);
    assert!(table.starts_with("My Business is the default business from now on"), "{table}");
    let unknown = trailmap(&db, &["business", "use", "Nope"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(text(&unknown.stderr).contains("no business named \"Nope\"; the store has: My Business, Corner Bakery"), "{}", text(&unknown.stderr));
}

#[test]
fn after_the_demo_commands_are_about_the_coffee_shop() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.sqlite");
    let out = trailmap(&db, &["demo", "--customers", "200", "--no-serve"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("Commands without --business are about Bean There Coffee"), "{}", text(&out.stderr));
    let summary = json(&db, &["summary"]);
    assert_eq!(summary[0]["business"], "Bean There Coffee");
    assert!(summary[0]["orders"].as_u64().unwrap() > 0, "the README's next commands find data");
    let listed = json(&db, &["business", "list"]);
    let defaults: Vec<&str> = listed.as_array().unwrap().iter().filter(|b| b["default"] == true).map(|b| b["name"].as_str().unwrap()).collect();
    assert_eq!(defaults, ["Bean There Coffee"]);
}

/// `trailmap serve --port 0` on `db`, and the address it listens on (read from its log line).
fn serve(db: &Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_trailmap"))
        .arg("--db")
        .arg(db)
        .args(["serve", "--port", "0"])
        .env_remove("TRAILMAP_DB")
        .env_remove("TRAILMAP_BUSINESS")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let address = loop {
        let line = lines.next().expect("the server ended before listening").unwrap();
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    // Keep reading the log, so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, address)
}

/// POSTs a batch with the write key in the body; the status and the body of the answer.
fn send_batch(address: &str, key: &str, user: &str) -> (u16, String) {
    let body = serde_json::json!({"writeKey": key, "batch": [{"type": "track", "event": "Signed Up", "userId": user}]}).to_string();
    let mut stream = TcpStream::connect(address).unwrap();
    write!(stream, "POST /v1/batch HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, answer.split("\r\n\r\n").nth(1).unwrap_or("").to_string())
}

#[test]
fn source_list_shows_the_last_use_and_a_key_revoked_by_the_cli_is_refused_by_the_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.sqlite");
    let created = json(&db, &["source", "create", "website"]);
    let key = created["write_key"].as_str().unwrap().to_string();
    json(&db, &["source", "create", "till"]);
    let listed = trailmap(&db, &["source", "list", "--format", "csv"]);
    let lines: Vec<String> = text(&listed.stdout).lines().map(str::to_string).collect();
    assert_eq!(lines[0], "id,name,created,last used,revoked");
    assert!(lines[1].starts_with("1,website,") && lines[1].ends_with(",never,"), "{lines:?}");

    let (mut server, address) = serve(&db);
    let first = send_batch(&address, &key, "u1");
    assert_eq!(first, (200, r#"{"success":true}"#.to_string()));
    let keys = json(&db, &["source", "list"]);
    assert!(keys[0]["last_used"].as_str().is_some_and(|t| t.starts_with("20")), "{keys}");
    assert_eq!(keys[1]["last_used"], serde_json::Value::Null, "the till key was not used");
    assert!(!keys.to_string().contains("key_hash"), "the list never shows the hash");

    // Revoked by another process while the server has the key in its cache: refused at once.
    let revoked = json(&db, &["source", "revoke", "website"]);
    assert!(revoked["revoked"].as_str().is_some(), "{revoked}");
    let (status, body) = send_batch(&address, &key, "u2");
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("invalid_write_key"), "{body}");
    let (status, _) = send_batch(&address, &key, "u3");
    assert_eq!(status, 401, "and on every request after");
    server.kill().unwrap();
    server.wait().unwrap();
    assert_eq!(json(&db, &["summary"])[0]["events"], 1, "nothing was stored with the revoked key");

    let again = trailmap(&db, &["source", "revoke", "1"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(text(&again.stderr).contains("write key 1 is revoked already"), "{}", text(&again.stderr));
    let unknown = trailmap(&db, &["source", "revoke", "phone"]);
    assert!(text(&unknown.stderr).contains("has no write key \"phone\"; its keys: 1 (website), 2 (till)"), "{}", text(&unknown.stderr));
    let table = text(&trailmap(&db, &["source", "list"]).stdout);
    assert!(table.contains("website") && table.contains("never"), "{table}");
}
