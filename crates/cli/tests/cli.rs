//! The `trailmap` binary as a user runs it: exit codes, messages on stderr, and the three output
//! formats.

// Helpers outside #[test] functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used)]

#[path = "cli/report.rs"] mod report;
#[path = "cli/impact.rs"] mod impact;
#[path = "cli/insights.rs"] mod insights;
#[path = "cli/integrity.rs"] mod integrity;
#[path = "cli/personas.rs"] mod personas;
#[path = "cli/touchpoints.rs"] mod touchpoints;
#[path = "cli/sources.rs"] mod sources;
#[path = "cli/imports.rs"] mod imports;
#[path = "cli/map_numbers.rs"] mod map_numbers;
#[path = "cli/privacy.rs"] mod privacy;
#[path = "cli/funnel_customers.rs"] mod funnel_customers;
#[path = "cli/research.rs"] mod research;
#[path = "cli/map_edits.rs"] mod map_edits;
#[path = "cli/schemathesis.rs"] mod schemathesis;
#[path = "cli/delivery.rs"] mod delivery;
#[path = "cli/postgres.rs"] mod postgres;
#[path = "cli/clickhouse.rs"] mod clickhouse;
#[path = "cli/clickhouse_pushdown.rs"] mod clickhouse_pushdown;

use std::path::Path;
use std::process::{Command, Output};

thread_local! {
    /// The `--events` every command and server this test thread starts is given (None: the
    /// events stay in the store): how the tests shared by every backend run with their events in
    /// ClickHouse (see `with_events`). A thread's own, so tests running beside it are not
    /// affected.
    static EVENTS: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Runs `f` with every command and server of this thread keeping its events at `url`.
fn with_events<T>(url: &str, f: impl FnOnce() -> T) -> T {
    EVENTS.with(|events| *events.borrow_mut() = Some(url.to_string()));
    let answer = f();
    EVENTS.with(|events| *events.borrow_mut() = None);
    answer
}

/// `trailmap --db DB` with this thread's `--events` (see [`EVENTS`]).
fn trailmap_command(db: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_trailmap"));
    command.arg("--db").arg(db).env_remove("TRAILMAP_DB").env_remove("TRAILMAP_BUSINESS").env_remove("TRAILMAP_EVENTS");
    if let Some(url) = EVENTS.with(|events| events.borrow().clone()) {
        command.args(["--events", &url]);
    }
    command
}

fn trailmap(db: &Path, args: &[&str]) -> Output {
    trailmap_command(db).args(args).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn the_demo_fills_the_store_and_reports_in_json() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.sqlite");
    let out = trailmap(&db, &["demo", "--customers", "200", "--no-serve", "--format", "json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = json.as_array().unwrap().iter().map(|b| b["business"].as_str().unwrap()).collect();
    assert_eq!(names, ["Bean There Coffee", "Thread & Needle"]);
    assert!(json[1]["events"].as_u64().unwrap() > 200);
    let out = trailmap(&db, &["business", "list", "--format", "csv"]);
    let listing = text(&out.stdout);
    assert!(listing.starts_with("id,name,currency,timezone,default\n"), "{listing}");
    assert!(listing.contains("My Business") && listing.contains("Thread & Needle"), "{listing}");
    let out = trailmap(&db, &["summary", "--business", "thread & needle"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("orders"));
}

#[test]
fn a_bad_file_fails_with_its_place_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.sqlite");
    let file = dir.path().join("orders.csv");
    std::fs::write(&file, "order_id,time,email,total\nA-1,2025-01-01T00:00:00Z,a@x.com,10\nA-2,2025-01-02T00:00:00Z,b@x.com,-5\n").unwrap();
    let out = trailmap(&db, &["import", "orders", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("orders.csv:3") && err.contains("negative"), "{err}");
    let out = trailmap(&db, &["summary", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json[0]["orders"], 0);
}

#[test]
fn an_unknown_business_lists_the_known_ones() {
    let dir = tempfile::tempdir().unwrap();
    let out = trailmap(&dir.path().join("t.sqlite"), &["summary", "--business", "Nope"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("\"Nope\"") && err.contains("My Business"), "{err}");
}

#[test]
fn a_bad_mapping_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = trailmap(&dir.path().join("t.sqlite"), &["import", "events", "x.csv", "--map", "email"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("FIELD=COLUMN"));
}

fn json(db: &Path, args: &[&str]) -> serde_json::Value {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let out = trailmap(db, &all);
    assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_engine_commands_answer_on_the_demo() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.sqlite");
    assert!(trailmap(&db, &["demo", "--customers", "400", "--no-serve"]).status.success());
    let boutique = ["--business", "Thread & Needle"];
    let funnel = json(&db, &[&boutique[..], &["funnel", "--steps", "page_view,checkout_started,purchase"]].concat());
    let steps = funnel["report"]["overall"]["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 3);
    let reached: Vec<u64> = steps.iter().map(|s| s["reached"].as_u64().unwrap()).collect();
    assert!(reached[0] >= reached[1] && reached[1] >= reached[2] && reached[2] > 0, "{reached:?}");
    assert_eq!(funnel["report"]["overall"]["entered"].as_u64(), Some(reached[0]));

    let coffee = ["--business", "Bean There Coffee"];
    let by_persona = json(&db, &[&coffee[..], &["funnel", "--steps", "store_visit|page_view,purchase", "--breakdown", "persona"]].concat());
    let personas: Vec<&str> = by_persona["report"]["breakdown"].as_array().unwrap().iter().map(|g| g["value"].as_str().unwrap()).collect();
    assert!(personas.contains(&"Morning Regular"), "{personas:?}");
    let attribution = json(&db, &[&coffee[..], &["attribution", "--model", "linear"]].concat());
    assert!(attribution["attribution"]["conversions"].as_u64().unwrap() > 0);
    let retention = json(&db, &[&coffee[..], &["retention"]].concat());
    assert!(retention["purchasers"].as_u64().unwrap() > 0);
    let paths = json(&db, &[&boutique[..], &["paths", "--from", "checkout_started"]].concat());
    assert!(!paths["edges"].as_array().unwrap().is_empty());

    let out = trailmap(&db, &[&boutique[..], &["funnel", "--steps", "page_view,chekout"]].concat());
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("chekout"), "{}", text(&out.stderr));
    let out = trailmap(&db, &[&coffee[..], &["attribution", "--lookback", "soon"]].concat());
    assert_ne!(out.status.code(), Some(0));
    assert!(text(&out.stderr).contains("--lookback"), "{}", text(&out.stderr));
}

#[test]
fn the_value_commands_answer_on_the_demo() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.sqlite");
    assert!(trailmap(&db, &["demo", "--customers", "600", "--no-serve"]).status.success());
    let coffee = ["--business", "Bean There Coffee"];
    let clv = json(&db, &[&coffee[..], &["clv", "--by", "channel"]].concat());
    assert_eq!(clv["unit"], "week", "every output states its time unit");
    let groups = clv["groups"].as_array().unwrap();
    let mean = |name: &str| groups.iter().find(|g| g["group"] == name).map(|g| g["historical"]["mean"].as_f64().unwrap());
    assert!(mean("Referral").unwrap() > mean("Paid Social").unwrap(), "referral customers are worth more");
    for (model, names) in [("bgnbd", ["r", "alpha", "a", "b"]), ("pareto-nbd", ["r", "alpha", "s", "beta"])] {
        let fit = json(&db, &[&coffee[..], &["clv", "--model", model, "--unit", "weeks", "--until", "2026-08-01"]].concat());
        assert_eq!(fit["model"], model);
        for name in names {
            assert!(fit["parameters"][name].as_f64().unwrap() > 0.0, "{model} {name}: {}", fit["parameters"]);
        }
        assert!(fit["holdout"]["actual_total"].as_f64().unwrap() > 0.0);
    }
    let spend = json(&db, &[&coffee[..], &["clv", "--model", "gamma-gamma"]].concat());
    for name in ["p", "q", "gamma"] {
        assert!(spend["parameters"][name].as_f64().unwrap() > 0.0, "{}", spend["parameters"]);
    }
    let segments = json(&db, &[&coffee[..], &["segments"]].concat());
    assert!(!segments.as_object().unwrap().is_empty());
    let suggested = json(&db, &[&coffee[..], &["personas", "suggest", "--k", "3"]].concat());
    assert!(suggested.to_string().contains("customers"), "{suggested}");
    let out = trailmap(&db, &[&coffee[..], &["clv", "--by", "star-sign"]].concat());
    assert_ne!(out.status.code(), Some(0));
    assert!(text(&out.stderr).contains("--by"), "{}", text(&out.stderr));
}

// ---- tracking server ----

/// Starts `trailmap serve` on a free port; returns the child and the address it listens on. The
/// child's stderr keeps being drained by a thread so the server never blocks on a full pipe.
fn start_server(db: &Path) -> (std::process::Child, std::net::SocketAddr) {
    use std::io::BufRead;
    let mut child = trailmap_command(db)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("the server exited before listening").unwrap();
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest.split_whitespace().next().unwrap().parse().unwrap();
        }
    };
    std::thread::spawn(move || lines.for_each(drop));
    (child, addr)
}

/// Posts JSON over a fresh HTTP/1.1 connection; returns the status code, or an error when the
/// connection failed or the answer was cut off.
fn http_post(addr: std::net::SocketAddr, path: &str, body: &[u8]) -> std::io::Result<u16> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(std::time::Duration::from_secs(60)))?;
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(body)?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    let status = answer.split_whitespace().nth(1).and_then(|s| s.parse().ok());
    status.filter(|_| answer.contains("\r\n\r\n")).ok_or_else(|| std::io::Error::other(format!("cut-off answer {answer:?}")))
}

fn stored_events(db: &Path) -> u64 {
    json(db, &["summary"])[0]["events"].as_u64().unwrap()
}

#[test]
fn a_server_killed_mid_load_keeps_every_acknowledged_event_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.sqlite");
    killed_mid_load_keeps_every_acknowledged_event_once(&db);
}

/// The kill test on the store at `db` (a SQLite file or a PostgreSQL URL): four clients post
/// batches until the server is SIGKILLed; every acknowledged batch is then found once.
fn killed_mid_load_keeps_every_acknowledged_event_once(db: &Path) {
    let db = db.to_path_buf();
    let created = json(&db, &["source", "create", "crash-test"]);
    let key = created["write_key"].as_str().unwrap().to_string();
    let (mut server, addr) = start_server(&db);

    // Four clients post batches of 50 until the server dies; each remembers what it sent and what
    // was acknowledged with a 200.
    let batch = move |client: usize, n: usize| {
        let messages: Vec<serde_json::Value> = (0..50)
            .map(|i| serde_json::json!({"type": "track", "event": "load", "anonymousId": format!("c{client}-{}", i % 7),
                "messageId": format!("{client}-{n}-{i}"), "timestamp": "2026-01-01T00:00:00Z"}))
            .collect();
        serde_json::to_vec(&serde_json::json!({"writeKey": key, "batch": messages})).unwrap()
    };
    let (acks, acked) = std::sync::mpsc::channel::<()>();
    let clients: Vec<_> = (0..4)
        .map(|client| {
            let acks = acks.clone();
            let batch = batch.clone();
            std::thread::spawn(move || {
                let (mut sent, mut acknowledged) = (Vec::new(), Vec::new());
                for n in 0..400 {
                    let body = batch(client, n);
                    sent.push(body.clone());
                    match http_post(addr, "/v1/batch", &body) {
                        Ok(200) => {
                            acknowledged.push(body);
                            let _ = acks.send(());
                        }
                        Ok(status) => panic!("status {status} while the server was up"),
                        Err(_) => break,
                    }
                }
                (sent, acknowledged)
            })
        })
        .collect();
    drop(acks);
    // Each group commit leaves a small segment, and the writer merges them between groups as they
    // pile up (the store's merge.rs): the kill lands amid tracking and merging.
    for _ in 0..200 {
        acked.recv_timeout(std::time::Duration::from_secs(120)).expect("the server acknowledged too few batches");
    }
    server.kill().unwrap(); // SIGKILL: no shutdown, no flush.
    server.wait().unwrap();
    let (mut sent, mut acknowledged) = (Vec::new(), Vec::new());
    for client in clients {
        let (s, a) = client.join().unwrap();
        sent.extend(s);
        acknowledged.extend(a);
    }
    assert!(acknowledged.len() >= 200 && acknowledged.len() <= sent.len());

    let after_crash = stored_events(&db);
    eprintln!("crash test: {} batches sent, {} acknowledged, {after_crash} events stored", sent.len(), acknowledged.len());
    assert!(after_crash >= 50 * acknowledged.len() as u64, "{after_crash} stored, {} batches acknowledged", acknowledged.len());
    let (mut server, addr) = start_server(&db);
    // Every acknowledged message is there: sending them all again adds nothing.
    for body in &acknowledged {
        assert_eq!(http_post(addr, "/v1/batch", body).unwrap(), 200);
    }
    assert_eq!(stored_events(&db), after_crash, "an acknowledged message was missing after the crash");
    // And nothing is there twice: with everything ever sent, the store holds each message once.
    for body in &sent {
        assert_eq!(http_post(addr, "/v1/batch", body).unwrap(), 200);
    }
    assert_eq!(stored_events(&db), 50 * sent.len() as u64);
    server.kill().unwrap();
    server.wait().unwrap();
    // The merges ran during the load: four clients make groups of at most four batches, so
    // unmerged the store would hold a segment per group; merged it holds a few, plus fewer than
    // MERGE_AFTER (16) small ones written since the last merge and the second server's.
    let compacted = json(&db, &["compact"]);
    assert_eq!(compacted[0]["events"].as_u64(), Some(50 * sent.len() as u64));
    // (With the events in ClickHouse, the store holds no segments to merge.)
    if !db.to_string_lossy().starts_with("postgres") && EVENTS.with(|events| events.borrow().is_none()) {
        let segments = compacted[0]["segments_before"].as_u64().unwrap();
        eprintln!("crash test: {segments} segments after the load");
        assert!(segments < acknowledged.len() as u64 / 4 && segments <= 24, "{segments} segments for {} acknowledged batches", acknowledged.len());
    }
}

#[test]
fn offline_touchpoints_are_recorded_by_email_or_id_once_and_drops_are_listed() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("offline.sqlite");
    let call = json(&db, &["track", "offline", "--email", "Kim@Example.com", "--touchpoint", "phone", "--at", "2026-03-01T10:00:00Z", "--property", "topic=catering"]);
    assert_eq!((call["event"].as_str(), call["channel"].as_str(), call["recorded"].as_bool()), (Some("call"), Some("Phone"), Some(true)));
    assert_eq!(call["time"], "2026-03-01T10:00:00.000Z");
    let till = ["track", "offline", "--customer", "c1", "--touchpoint", "till", "--property", "revenue=4.50", "--id", "r1"];
    assert_eq!(json(&db, &till)["recorded"], true);
    let again = json(&db, &till);
    assert_eq!((again["event"].as_str(), again["channel"].as_str(), again["recorded"].as_bool()), (Some("purchase"), Some("In-store"), Some(false)));
    let visit = json(&db, &["track", "offline", "--email", "kim@example.com", "--touchpoint", "visit", "--at", "2026-03-02"]);
    assert_eq!((visit["event"].as_str(), visit["channel"].as_str()), (Some("store_visit"), Some("In-store")));
    let summary = json(&db, &["summary"]);
    assert_eq!((summary[0]["events"].as_u64(), summary[0]["customers"].as_u64()), (Some(3), Some(2)), "{summary}");

    for (args, message) in [
        (&["track", "offline", "--touchpoint", "till"][..], "give --email or --customer"),
        (&["track", "offline", "--email", "a@b.c", "--touchpoint", "till", "--at", "never"][..], "--at \"never\""),
        (&["track", "offline", "--email", "a@b.c", "--touchpoint", " "][..], "--touchpoint must not be empty"),
    ] {
        let out = trailmap(&db, args);
        assert!(!out.status.success());
        assert!(text(&out.stderr).contains(message), "{}", text(&out.stderr));
    }
    let drops = json(&db, &["source", "drops"]);
    assert_eq!(drops, serde_json::json!([]));

    // The issue's spelling: `writekey create` with no name prints the new key on its last line.
    let out = trailmap(&db, &["writekey", "create"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let key = stdout.lines().last().unwrap();
    assert!(key.len() == 64 && key.bytes().all(|b| b.is_ascii_hexdigit()), "{stdout}");
    let keys = json(&db, &["source", "list"]);
    assert_eq!(keys[0]["name"], "website");
}

/// `trailmap demo` without --no-serve generates the demo, starts the web app and prints where it
/// listens and how to sign in; the printed password signs in, and SIGTERM stops it cleanly.
#[test]
fn demo_serves_the_app_and_prints_a_working_sign_in() {
    use std::io::{BufRead, BufReader, Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.sqlite");
    let mut child = Command::new(env!("CARGO_BIN_EXE_trailmap"))
        .arg("--db")
        .arg(&db)
        .args(["demo", "--customers", "150", "--port", "0"])
        .env_remove("TRAILMAP_DB")
        .env_remove("TRAILMAP_PORT")
        .env_remove("TRAILMAP_BIND")
        .env_remove("TRAILMAP_CONFIG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut banner = None;
    let mut line = String::new();
    // The server prints its banner once listening; reading blocks until then (no sleeps).
    while stderr.read_line(&mut line).unwrap() > 0 {
        if line.starts_with("trailmap demo: open http://") {
            banner = Some(line.trim().to_string());
            break;
        }
        line.clear();
    }
    let banner = banner.expect("the demo prints its address and sign-in");
    let addr = banner["trailmap demo: open http://".len()..].split('/').next().unwrap().to_string();
    let email = banner.split("Sign in as ").nth(1).unwrap().split(' ').next().unwrap().to_string();
    let password = banner.split("with the password ").nth(1).unwrap().split('.').next().unwrap().to_string();
    assert_eq!(email, "demo@trailmap.example");
    assert_eq!(password.len(), 16, "a random password of 16 letters and digits: {banner}");

    // The app answers on that address: the dashboard asks for a sign-in.
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    write!(stream, "GET / HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 303"), "{response}");
    assert!(response.to_lowercase().contains("location: /login"), "{response}");

    // The printed password is the account's (the store is shared through WAL while serving).
    let app = trailmap_app::App::open(&db).unwrap();
    let user = app.authenticate(&email, &password).unwrap().expect("the printed sign-in works");
    assert_eq!(app.memberships(user.id).unwrap().len(), 2, "owner of both demo businesses");
    drop(app);

    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
    let status = child.wait().unwrap();
    assert!(status.success(), "SIGTERM stops the demo server cleanly: {status}");
    let mut summary = String::new();
    child.stdout.take().unwrap().read_to_string(&mut summary).unwrap();
    assert!(summary.contains("Thread & Needle"), "the summary is printed first: {summary}");
}

#[test]
fn the_voice_commands_answer_on_the_demo() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("voice.sqlite");
    assert!(trailmap(&db, &["demo", "--customers", "800", "--no-serve"]).status.success());
    let business = ["--business", "Thread & Needle"];
    let results = json(&db, &[&business[..], &["survey", "results", "--by", "touchpoint"]].concat());
    let first = &results["questions"][0];
    assert!(first["overall"]["n"].as_u64().unwrap() > 0, "{first}");
    let themes = json(&db, &[&business[..], &["feedback", "themes", "--touchpoint", "Checkout", "--order", "negative-count"]].concat());
    assert_eq!(themes["scope"], "touchpoint Checkout");
    assert!(!themes["themes"].as_array().unwrap().is_empty());
    let csv = trailmap(&db, &[&business[..], &["feedback", "sentiment", "--limit", "2", "--format", "csv"]].concat());
    assert!(csv.status.success());
    assert_eq!(text(&csv.stdout).lines().count(), 3, "a header and two texts");
    let bad = trailmap(&db, &[&business[..], &["survey", "results", "--from", "June"]].concat());
    assert!(!bad.status.success() && text(&bad.stderr).contains("--from"));
    let unknown = trailmap(&db, &[&business[..], &["feedback", "themes", "--stage", "Nowhere"]].concat());
    // The app names the field neutrally ("stage"); the command line shows its flag.
    assert!(!unknown.status.success() && text(&unknown.stderr).contains("--stage \"Nowhere\": no such stage"), "{}", text(&unknown.stderr));
    let zero = trailmap(&db, &[&business[..], &["feedback", "themes", "--min-count", "0"]].concat());
    assert!(text(&zero.stderr).contains("--min-count \"0\": must be at least 1"), "{}", text(&zero.stderr));
    let persona = [&business[..], &["feedback", "themes", "--touchpoint", "Checkout", "--persona", "bargain hunter", "--stop-word", "Dresses", "--stop-word", "size"]].concat();
    let theirs = json(&db, &persona);
    assert_eq!(theirs["scope"], "touchpoint Checkout, persona Bargain Hunter");
    assert_eq!(theirs["stop_words"], serde_json::json!(["Dresses", "size"]));
    assert!(theirs["texts"].as_u64().unwrap() < themes["texts"].as_u64().unwrap(), "{theirs}");
    let listed = theirs["themes"].as_array().unwrap().iter().flat_map(|t| t["phrases"].as_array().unwrap().iter().map(|p| p["phrase"].clone()));
    assert!(listed.clone().all(|p| p != "dress" && p != "size"), "{theirs}");
    let nobody = trailmap(&db, &[&business[..], &["feedback", "themes", "--persona", "Nobody"]].concat());
    assert!(text(&nobody.stderr).contains("--persona \"Nobody\": no such persona"), "{}", text(&nobody.stderr));
}

#[test]
fn maps_export_import_and_draw_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("maps.sqlite");
    let created = json(&db, &["map", "template", "coffee-shop", "--name", "Morning: coffee", "--author", "maya"]);
    let id = created["id"].as_i64().unwrap().to_string();
    let listed = json(&db, &["map", "list", "--today", "2026-01-01"]);
    assert_eq!(listed[0]["name"], "Morning: coffee");

    // JSON export, import, and the copy is the same map apart from its id.
    let file = dir.path().join("map.json");
    let out = trailmap(&db, &["map", "export", &id, "-o", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let imported = json(&db, &["map", "import", file.to_str().unwrap(), "--author", "sam"]);
    assert_ne!(imported["id"].to_string(), id);
    let mut copy = imported.clone();
    copy["id"] = created["id"].clone();
    assert_eq!(copy, created);
    let versions = json(&db, &["map", "versions", &imported["id"].to_string()]);
    assert_eq!(versions[0]["author"], "sam");

    // Mermaid text: a section per stage, tasks scored 1-5 for the map's one curve.
    let out = trailmap(&db, &["map", "export", &id, "--type", "mermaid"]);
    let mermaid = text(&out.stdout);
    assert!(
        mermaid.starts_with(
            "journey\n    title Morning coffee\n    section Awareness\n      Hears about us from a friend: 4: Customer\n      Walks past the shop: 4: Customer\n    section Consideration\n      Checks the hours on Google Maps: 3: Customer\n"
        ),
        "{mermaid}"
    );
    assert_eq!(mermaid.matches("    section ").count(), 5);
    assert!(mermaid.contains("      Orders at the counter: 2: Customer\n"), "{mermaid}");

    // Drawings: the right magic bytes, and --format json says what was written.
    for (kind, magic) in [("svg", &b"<svg"[..]), ("png", &b"\x89PNG"[..]), ("pdf", &b"%PDF"[..])] {
        let path = dir.path().join(format!("map.{kind}"));
        let written = json(&db, &["map", "export", &id, "-o", path.to_str().unwrap()]);
        assert_eq!(written["type"], kind);
        let bytes = std::fs::read(&path).unwrap();
        assert!(bytes.starts_with(magic) && bytes.len() as u64 == written["bytes"].as_u64().unwrap(), "{kind}");
    }
    // The issue's spelling: the global --format names the drawing's format for `map export`, and
    // only there.
    for (kind, magic) in [("svg", &b"<svg"[..]), ("png", &b"\x89PNG"[..]), ("pdf", &b"%PDF"[..]), ("mermaid", &b"journey\n"[..])] {
        let path = dir.path().join(format!("drawn-{kind}.out"));
        let out = trailmap(&db, &["map", "export", &id, "--format", kind, "-o", path.to_str().unwrap()]);
        assert!(out.status.success(), "{kind}: {}", text(&out.stderr));
        assert!(std::fs::read(&path).unwrap().starts_with(magic), "{kind}");
    }
    let out = trailmap(&db, &["map", "list", "--format", "svg"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("only `map export` writes that format"), "{}", text(&out.stderr));
    let out = trailmap(&db, &["map", "export", &id, "--type", "gif"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("expected svg, png, pdf, json or mermaid"), "{}", text(&out.stderr));
    let out = trailmap(&db, &["map", "show", "999"]);
    assert!(text(&out.stderr).contains("journey map 999 does not exist"), "{}", text(&out.stderr));
    let diff = json(&db, &["map", "diff", &id, "1", "1"]);
    assert_eq!(diff["changes"], serde_json::json!([]));
}

/// Issue 8: on the demo, shipping is the boutique's most negative theme at checkout, in the
/// default order (lowest average sentiment first), as the command line shows it.
#[test]
fn shipping_leads_the_checkout_themes_of_the_demo_boutique() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("themes.sqlite");
    assert!(trailmap(&db, &["demo", "--customers", "1500", "--no-serve"]).status.success());
    let themes = json(&db, &["--business", "Thread & Needle", "feedback", "themes", "--touchpoint", "Checkout"]);
    let first = &themes["themes"][0];
    // The label is the theme's most frequent phrase: "shipping" or "shipping cost" by the sample.
    assert!(first["label"].as_str().unwrap().starts_with("shipping"), "{themes}");
    assert!(first["average_compound"].as_f64().unwrap() <= -0.05, "{first}");
}

#[test]
fn compact_stores_events_in_customer_order_once_and_changes_no_answer() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.sqlite");
    let file = dir.path().join("events.csv");
    // 600 events of 40 visitors, one a minute: every visitor's events interleave with the others'.
    let names = ["page_view", "add_to_cart", "page_view", "purchase", "page_view"];
    let mut csv = String::from("timestamp,event,anonymous_id,page\n");
    for i in 0..600 {
        csv.push_str(&format!("2026-01-01T{:02}:{:02}:00Z,{},v{},/p{}\n", i / 60, i % 60, names[(i * 7 + i / 40) % 5], i % 40, i % 3));
    }
    std::fs::write(&file, csv).unwrap();
    let import = trailmap(&db, &["import", "events", file.to_str().unwrap()]);
    assert!(import.status.success(), "{}", text(&import.stderr));
    let funnel = ["funnel", "--steps", "page_view,add_to_cart,purchase", "--window", "1h"];
    let before = json(&db, &funnel);

    if EVENTS.with(|events| events.borrow().is_some()) {
        // The events are in ClickHouse: the store holds no segments to merge.
        return;
    }
    let compacted = json(&db, &["compact"]);
    assert_eq!(compacted.as_array().unwrap().len(), 1, "every business, the one here: {compacted}");
    let first = &compacted[0];
    assert_eq!((first["business"].as_str(), first["events"].as_u64(), first["rewritten"].as_bool()), (Some("My Business"), Some(600), Some(true)));
    assert_eq!((first["segments_before"].as_u64(), first["segments_after"].as_u64()), (Some(1), Some(1)));
    assert_eq!(json(&db, &funnel), before, "the same events give the same funnel");

    // A second run only checks, and says so.
    let again = trailmap(&db, &["compact", "--business", "my business"]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert!(text(&again.stdout).contains("already in order"), "{}", text(&again.stdout));
    // The keys survived: the same file again adds nothing.
    let import = trailmap(&db, &["import", "events", file.to_str().unwrap()]);
    assert!(import.status.success(), "{}", text(&import.stderr));
    assert_eq!(stored_events(&db), 600);
    let unknown = trailmap(&db, &["compact", "--business", "Nope"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(text(&unknown.stderr).contains("\"Nope\""), "{}", text(&unknown.stderr));
}

/// `change add` records a change with names, a metric and the card it answers; `change list`
/// shows it newest first in every format; a bad value names its flag.
#[test]
fn change_add_and_list_on_the_demo_and_errors_name_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.sqlite");
    assert!(trailmap(&db, &["demo", "--customers", "200", "--no-serve"]).status.success());
    let boutique = ["--business", "Thread & Needle"];
    let add = [
        "change", "add", "--title", "Shipping cost in the cart", "--date", "2026-07-01", "--touchpoint", "cart", "--touchpoint",
        "Checkout", "--stage", "purchase", "--metric", "conversion:checkout_started>purchase:7d", "--owner", "Priya", "--answers",
        "Thread & Needle: online shopping journey:Most shoppers who start checkout leave at the shipping step",
    ];
    let added = json(&db, &[&boutique[..], &add[..]].concat());
    assert_eq!(added["touchpoints"], serde_json::json!(["Cart", "Checkout"]));
    assert_eq!(added["metric_text"], "conversion:checkout_started>purchase:7d");
    assert_eq!(added["kpi"], "conversion from checkout_started to purchase within 7 days");
    assert_eq!(added["answers"]["kind"], "pain_point");
    let listed = json(&db, &[&boutique[..], &["change", "list"]].concat());
    let titles: Vec<&str> = listed.as_array().unwrap().iter().map(|c| c["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Shipping cost in the cart", "Free shipping over $75"], "newest first");
    assert_eq!(listed[0], added);
    let csv = trailmap(&db, &[&boutique[..], &["change", "list", "--format", "csv"]].concat());
    let csv = text(&csv.stdout);
    assert!(csv.starts_with("id,date,title,touchpoints,stages,kpi,metric,owner,answers\n"), "{csv}");
    assert!(csv.contains("2026-06-01,Free shipping over $75,\"Checkout, Cart\",Purchase,checkout conversion"), "{csv}");

    let with = |flag: &str, value: &str| {
        let mut args: Vec<&str> = [&boutique[..], &add[..]].concat();
        let at = args.iter().position(|a| *a == flag).unwrap();
        args[at + 1] = value;
        trailmap(&db, &args)
    };
    for (flag, value, says) in [
        ("--touchpoint", "Billboard", "--touchpoint \"Billboard\": no such touchpoint"),
        ("--stage", "Delight", "--stage \"Delight\": no such stage"),
        ("--title", " ", "--title: is empty"),
        ("--metric", "conversion:checkout_begun>purchase", "--metric \"conversion:checkout_begun>purchase:7d\": step 1"),
        ("--metric", "new-customers:Friends", "--metric \"new-customers:Friends\": no channel named"),
        ("--answers", "Nope:1", "--answers \"Nope:1\": expected MAP:CARD"),
    ] {
        let out = with(flag, value);
        assert_eq!(out.status.code(), Some(1), "{flag} {value}");
        assert!(text(&out.stderr).contains(says), "{flag} {value}: {}", text(&out.stderr));
    }
    // A metric or date that cannot be read is a usage error naming the flag and the forms.
    let out = with("--metric", "conversions");
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("--metric") && err.contains("reach:STAGE"), "{err}");
    let out = with("--date", "July 1st");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--date"), "{}", text(&out.stderr));
    assert_eq!(json(&db, &[&boutique[..], &["change", "list"]].concat()).as_array().unwrap().len(), 2, "no bad command wrote");
}
