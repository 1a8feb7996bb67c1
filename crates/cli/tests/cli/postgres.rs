//! The CLI and the server on PostgreSQL (`--db postgres://...`, a database per test on the server
//! `TRAILMAP_TEST_POSTGRES` names): the kill test under tracking load, two servers on one database
//! (a team behind a load balancer) losing and duplicating nothing and each seeing the other's
//! writes in its cached answers, and a wrong password or an unreachable server failing at once
//! with the URL shown without its password.

use super::{http_post, json, killed_mid_load_keeps_every_acknowledged_event_once, start_server, stored_events, text, trailmap};
use std::path::Path;
use trailmap_testkit::postgres::PostgresDatabase;

#[test]
fn a_server_on_postgresql_killed_mid_load_keeps_every_acknowledged_event_once() {
    let Some(database) = PostgresDatabase::fresh("a_server_on_postgresql_killed_mid_load_keeps_every_acknowledged_event_once") else { return };
    killed_mid_load_keeps_every_acknowledged_event_once(Path::new(database.url()));
}

/// Signs in on `addr` with curl (the form's CSRF token and cookie first) and returns the cookie jar.
fn sign_in(addr: std::net::SocketAddr, jar: &Path, email: &str, password: &str) {
    let page = std::process::Command::new("curl").args(["-s", "-c"]).arg(jar).arg(format!("http://{addr}/login")).output().unwrap();
    let page = text(&page.stdout);
    let token = page.split("name=\"csrf\" value=\"").nth(1).and_then(|rest| rest.split('"').next()).expect("the sign-in form's token");
    let posted = std::process::Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-b"])
        .arg(jar)
        .arg("-c")
        .arg(jar)
        .args(["--data-urlencode", &format!("csrf={token}"), "--data-urlencode", &format!("email={email}"), "--data-urlencode", &format!("password={password}")])
        .arg(format!("http://{addr}/login"))
        .output()
        .unwrap();
    assert_eq!(text(&posted.stdout), "303", "signing in on {addr}");
}

/// GETs a JSON API route with the jar's session.
fn api_get(addr: std::net::SocketAddr, jar: &Path, path: &str) -> serde_json::Value {
    api_get_with(addr, jar, path, &[])
}

/// `api_get` with request headers (`Cache-Control: no-cache` asks for the current data).
fn api_get_with(addr: std::net::SocketAddr, jar: &Path, path: &str, headers: &[&str]) -> serde_json::Value {
    let mut curl = std::process::Command::new("curl");
    curl.args(["-s", "-f", "-b"]).arg(jar);
    for header in headers {
        curl.args(["-H", header]);
    }
    let out = curl.arg(format!("http://{addr}{path}")).output().unwrap();
    assert!(out.status.success(), "GET {path} on {addr}: {}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn two_servers_on_one_database_lose_and_duplicate_nothing_and_see_each_others_writes() {
    let Some(database) = PostgresDatabase::fresh("two_servers_on_one_database_lose_and_duplicate_nothing_and_see_each_others_writes") else { return };
    let db = Path::new(database.url());
    let key = json(db, &["source", "create", "website"])["write_key"].as_str().unwrap().to_string();
    let created = std::process::Command::new(env!("CARGO_BIN_EXE_trailmap"))
        .arg("--db")
        .arg(db)
        .args(["user", "create", "--email", "team@example.com", "--name", "Team", "--password-stdin"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(b"correct horse battery\n")?;
            child.wait()
        })
        .unwrap();
    assert!(created.success());
    let (mut a, addr_a) = start_server(db);
    let (mut b, addr_b) = start_server(db);

    // Four clients, two behind each server; each batch is also retried once through the other
    // server (what a load balancer does after a timeout): the retry must add nothing.
    let batch_key = key.clone();
    let batch = move |client: usize, n: usize| {
        let messages: Vec<serde_json::Value> = (0..20)
            .map(|i| serde_json::json!({"type": "track", "event": "page_view", "anonymousId": format!("c{client}-{}", i % 5),
                "messageId": format!("{client}-{n}-{i}"), "timestamp": "2026-01-01T00:00:00Z"}))
            .collect();
        serde_json::to_vec(&serde_json::json!({"writeKey": batch_key, "batch": messages})).unwrap()
    };
    let clients: Vec<_> = (0..4)
        .map(|client| {
            let batch = batch.clone();
            let (mine, other) = if client % 2 == 0 { (addr_a, addr_b) } else { (addr_b, addr_a) };
            std::thread::spawn(move || {
                for n in 0..40 {
                    let body = batch(client, n);
                    assert_eq!(http_post(mine, "/v1/batch", &body).unwrap(), 200);
                    assert_eq!(http_post(other, "/v1/batch", &body).unwrap(), 200);
                }
            })
        })
        .collect();
    for client in clients {
        client.join().unwrap();
    }
    assert_eq!(stored_events(db), 4 * 40 * 20, "every message once, whichever server took it and however often");

    // Each server's cached answers follow the other's writes: the data version lives in the
    // database.
    let jar_a = tempfile::NamedTempFile::new().unwrap();
    let jar_b = tempfile::NamedTempFile::new().unwrap();
    sign_in(addr_a, jar_a.path(), "team@example.com", "correct horse battery");
    sign_in(addr_b, jar_b.path(), "team@example.com", "correct horse battery");
    let business = json(db, &["business", "list"])[0]["id"].as_i64().unwrap();
    let route = format!("/api/businesses/{business}/dashboard?from=2025-12-01&to=2026-01-31");
    let before = api_get(addr_b, jar_b.path(), &route);
    assert_eq!(api_get(addr_b, jar_b.path(), &route), before, "the same answer again, from the cache");
    let body = serde_json::to_vec(&serde_json::json!({"writeKey": key, "batch": [
        {"type": "track", "event": "page_view", "anonymousId": "newcomer", "messageId": "late-1", "timestamp": "2026-01-02T00:00:00Z"}
    ]}))
    .unwrap();
    assert_eq!(http_post(addr_a, "/v1/batch", &body).unwrap(), 200);
    // Asked for the current data (a dashboard may otherwise answer with the one counted before
    // the write while it counts again), server B sees server A's write.
    let current = ["Cache-Control: no-cache"];
    let after = api_get_with(addr_b, jar_b.path(), &route, &current);
    assert_ne!(after, before, "server B sees server A's write");
    assert_eq!(api_get_with(addr_a, jar_a.path(), &route, &current), after, "both servers give the same answer");
    for server in [&mut a, &mut b] {
        server.kill().unwrap();
        server.wait().unwrap();
    }
}

#[test]
fn a_wrong_password_or_an_unreachable_server_fails_at_once_naming_the_url_without_its_password() {
    let Some(database) = PostgresDatabase::fresh("a_wrong_password_or_an_unreachable_server_fails_at_once") else { return };
    let wrong = database.url().replacen(":trailmap@", ":not-the-password@", 1);
    for url in [wrong.as_str(), "postgres://trailmap:secret-word@127.0.0.1:1/nothing"] {
        let started = std::time::Instant::now();
        let out = trailmap(Path::new(url), &["business", "list"]);
        assert!(!out.status.success(), "{url}");
        let message = text(&out.stderr);
        assert!(message.contains("postgres://trailmap@") || message.contains("postgres://trailmap:***@"), "{message}");
        assert!(!message.contains("not-the-password") && !message.contains("secret-word"), "{message}");
        assert!(started.elapsed() < std::time::Duration::from_secs(15), "{url}: {:?}", started.elapsed());
    }
}

#[test]
fn a_sqlite_store_moved_to_postgresql_answers_the_same_and_takes_writes() {
    let Some(database) = PostgresDatabase::fresh("a_sqlite_store_moved_to_postgresql_answers_the_same_and_takes_writes") else { return };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("demo.sqlite");
    assert!(trailmap(&file, &["demo", "--customers", "300", "--no-serve"]).status.success());
    let url = Path::new(database.url());
    let moved = json(&file, &["migrate-store", "--to", database.url()]);
    assert!(moved["events"].as_u64().unwrap() > 1_000, "{moved}");
    assert!(!moved.to_string().contains(":trailmap@"), "the password is not shown: {moved}");
    let rows = |table: &str| moved["tables"].as_array().unwrap().iter().find(|t| t["table"] == table).map(|t| t["rows"].as_u64().unwrap());
    assert_eq!(rows("businesses"), Some(json(&file, &["business", "list"]).as_array().unwrap().len() as u64));

    // Every analysis answers the same from the file and from the database.
    for args in [
        &["summary", "--all"][..],
        &["funnel", "--steps", "page_view,purchase"],
        &["paths"],
        &["attribution"],
        &["retention"],
        &["clv"],
        &["segments"],
        &["insights"],
        &["survey", "results"],
        &["map", "list"],
        &["touchpoint", "list"],
        &["persona", "list"],
        &["change", "list"],
    ] {
        assert_eq!(json(url, args), json(&file, args), "{args:?}");
    }
    // The demo's sign-in came along, and the database takes writes with fresh ids.
    let users = json(url, &["user", "list"]);
    assert_eq!(users, json(&file, &["user", "list"]));
    let tracked = trailmap(url, &["track", "offline", "--email", "walk-in@example.com", "--touchpoint", "phone", "--at", "2026-11-01T10:00:00Z"]);
    assert!(tracked.status.success(), "{}", text(&tracked.stderr));

    // A second move into the same database is refused, and names it without its password.
    let again = trailmap(&file, &["migrate-store", "--to", database.url()]);
    assert!(!again.status.success());
    let message = text(&again.stderr);
    assert!(message.contains("already holds") && !message.contains(":trailmap@"), "{message}");
    // Moving from PostgreSQL, or to a file, is refused with the reason.
    let backwards = trailmap(url, &["migrate-store", "--to", "/tmp/elsewhere.sqlite"]);
    assert!(text(&backwards.stderr).contains("already on PostgreSQL"), "{}", text(&backwards.stderr));
}
