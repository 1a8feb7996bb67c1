//! The CLI and the server with their events in ClickHouse (`--events clickhouse://...`, a
//! database per test on the two-shard rig `TRAILMAP_TEST_CLICKHOUSE` names): every analysis of
//! the demo answers as the embedded store does, the kill test under tracking load, a ClickHouse
//! that goes away making the tracking API answer 503 and lose nothing, and an erasure reaching the
//! events there.

use super::{http_post, json, killed_mid_load_keeps_every_acknowledged_event_once, start_server, stored_events, text, trailmap, with_events};
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use trailmap_testkit::clickhouse::ClickHouseDatabase;

/// The commands compared between a store with its events in ClickHouse and one without.
const ANALYSES: &[&[&str]] = &[
    &["summary", "--all"],
    &["funnel", "--steps", "page_view,purchase"],
    &["paths"],
    &["attribution"],
    &["attribution", "--model", "markov"],
    &["attribution", "--model", "shapley"],
    &["retention"],
    &["clv"],
    &["segments"],
    &["insights"],
    &["survey", "results"],
    &["personas", "suggest"],
    &["dashboard", "--today", "2026-12-01"],
    // A year by weeks, across both clock changes of the businesses' time zones.
    &["dashboard", "--period", "2025-11..2026-10"],
];

/// Runs one command (`args`) on two new stores in `dir`: `split.sqlite` with its events in
/// ClickHouse at `url`, and `embedded.sqlite` without; returns their paths (split first).
pub(super) fn written_both_ways(url: &str, dir: &Path, args: &[&str]) -> (PathBuf, PathBuf) {
    let (split, embedded) = (dir.join("split.sqlite"), dir.join("embedded.sqlite"));
    let out = trailmap(&embedded, args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    with_events(url, || {
        let out = trailmap(&split, args);
        assert!(out.status.success(), "{}", text(&out.stderr));
    });
    (split, embedded)
}

/// Takes out the one field where a command's answer over ClickHouse and over the store differ,
/// the path it took, checking it: the dashboard is pushed down whenever the events are in
/// ClickHouse; funnels, retention and paths stream them into the engine unless asked.
fn assert_same_but_path(args: &[&str], from_clickhouse: &mut serde_json::Value, from_store: &mut serde_json::Value) {
    let expected = match args[0] {
        "dashboard" => "pushed_down",
        "funnel" | "retention" | "paths" => "streamed",
        _ => return,
    };
    assert_eq!((from_clickhouse["path"].take(), from_store["path"].take()), (expected.into(), "embedded".into()), "{args:?}");
}

#[test]
fn a_demo_with_its_events_in_clickhouse_answers_as_the_embedded_store_does() {
    let Some(database) = ClickHouseDatabase::fresh("a_demo_with_its_events_in_clickhouse_answers_as_the_embedded_store_does") else { return };
    let dir = tempfile::tempdir().unwrap();
    let (split, embedded) = written_both_ways(database.url(), dir.path(), &["demo", "--customers", "300", "--no-serve"]);
    // The events are in ClickHouse, spread over both shards, and not in the store's file.
    let per_shard: Vec<u64> =
        (0..2).map(|shard| database.run_on(shard, &format!("SELECT count() FROM {}.events_local", database.name())).trim().parse().unwrap()).collect();
    assert!(per_shard.iter().all(|&n| n > 100), "{per_shard:?}");
    let in_file = json(&split, &["summary"]);
    assert_eq!(in_file[0]["events"], 0, "{in_file}");

    for args in ANALYSES {
        let mut from_clickhouse = with_events(database.url(), || json(&split, args));
        let mut from_store = json(&embedded, args);
        // The one difference: the answer says where the events were read from.
        assert_same_but_path(args, &mut from_clickhouse, &mut from_store);
        assert_eq!(from_clickhouse, from_store, "{args:?}");
    }

    // A funnel pushed down to ClickHouse gives the engine's counts and conversions (no times),
    // and says which path it took; one that cannot be pushed down says why.
    let shop = "page_view,product_view,add_to_cart,checkout_started,purchase";
    for window in ["1h", "1d", "7d"] {
        let pushed = with_events(database.url(), || json(&split, &["--business", "Thread & Needle", "funnel", "--steps", shop, "--window", window, "--pushdown"]));
        let engine = json(&embedded, &["--business", "Thread & Needle", "funnel", "--steps", shop, "--window", window, "--pushdown"]);
        assert_eq!((pushed["path"].as_str(), engine["path"].as_str()), (Some("pushed_down"), Some("embedded")), "{pushed}");
        assert!(engine["path_note"].as_str().unwrap().contains("not in ClickHouse"), "{engine}");
        assert!(engine["report"]["overall"]["entered"].as_u64().unwrap() > 50, "{engine}");
        assert_eq!(pushed["report"]["overall"]["entered"], engine["report"]["overall"]["entered"], "{window}");
        let steps = |answer: &serde_json::Value| -> Vec<(serde_json::Value, serde_json::Value, serde_json::Value, serde_json::Value)> {
            answer["report"]["overall"]["steps"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| (s["reached"].clone(), s["dropped"].clone(), s["conversion_from_first"].clone(), s["conversion_from_previous"].clone()))
                .collect()
        };
        assert_eq!(steps(&pushed), steps(&engine), "{window}");
        assert!(pushed["report"]["overall"]["time_to_convert"].is_null());
    }
    let strict = with_events(database.url(), || json(&split, &["--business", "Thread & Needle", "funnel", "--steps", shop, "--mode", "strict", "--pushdown"]));
    assert_eq!(strict["path"], "streamed");
    assert!(strict["path_note"].as_str().unwrap().contains("strict"), "{strict}");
    let typo = with_events(database.url(), || trailmap(&split, &["funnel", "--steps", "page_veiw,purchase", "--pushdown"]));
    assert!(text(&typo.stderr).contains("page_veiw"), "{}", text(&typo.stderr));

    // A write after the demo lands in ClickHouse and is counted at once.
    let track = ["track", "offline", "--email", "walk-in@example.com", "--touchpoint", "phone", "--at", "2026-11-01T10:00:00Z"];
    let before = with_events(database.url(), || stored_events(&split));
    with_events(database.url(), || assert_eq!(json(&split, &track)["recorded"], true));
    assert_eq!(trailmap(&embedded, &track).status.code(), Some(0));
    assert_eq!(with_events(database.url(), || stored_events(&split)), before + 1);
    assert_eq!(with_events(database.url(), || json(&split, &["summary", "--all"])), json(&embedded, &["summary", "--all"]));

    // Erasing a person removes their events from ClickHouse too, and the answers still agree.
    let erase = ["customer", "erase", "walk-in@example.com", "--yes"];
    let erased = with_events(database.url(), || json(&split, &erase));
    assert_eq!(erased[0]["events"], 1, "{erased}");
    assert_eq!(json(&embedded, &erase)[0]["events"], 1);
    assert_eq!(with_events(database.url(), || stored_events(&split)), before);
    for args in [&["summary", "--all"][..], &["funnel", "--steps", "page_view,purchase"], &["dashboard", "--period", "2026-10..2026-11"]] {
        let mut from_clickhouse = with_events(database.url(), || json(&split, args));
        let mut from_store = json(&embedded, args);
        assert_same_but_path(args, &mut from_clickhouse, &mut from_store);
        assert_eq!(from_clickhouse, from_store, "{args:?} after the erasure");
    }
}

/// Events in the generated log the comparison below writes: enough in CI for every analysis to
/// have thousands of customers behind it; `TRAILMAP_COMPARE_EVENTS=1000000` (with `--release`)
/// runs the million-event comparison by hand.
fn generated_log_events() -> u64 {
    std::env::var("TRAILMAP_COMPARE_EVENTS").ok().and_then(|n| n.parse().ok()).unwrap_or(40_000)
}

/// The analyses compared on the generated log, and the funnels among them that are also pushed
/// down (the rest of their arguments as they are).
const GENERATED_ANALYSES: &[&[&str]] = &[
    &["summary", "--all"],
    &["funnel", "--steps", "page_view,product_view,add_to_cart,checkout_started,purchase", "--window", "1h"],
    &["funnel", "--steps", "page_view,product_view,add_to_cart,checkout_started,purchase", "--window", "1d"],
    &["funnel", "--steps", "product_view,add_to_cart,purchase", "--window", "7d"],
    &["funnel", "--steps", "email_open,email_click,purchase", "--window", "23d"],
    &["funnel", "--steps", "page_view,purchase", "--window", "30d"],
    &["funnel", "--steps", "page_view,product_view,purchase", "--window", "1d", "--mode", "strict"],
    &["funnel", "--steps", "search,add_to_cart,purchase", "--window", "7d", "--mode", "unordered"],
    &["funnel", "--steps", "page_view,purchase", "--window", "7d", "--exclude", "email_open"],
    &["paths"],
    &["attribution"],
    &["attribution", "--model", "markov"],
    &["attribution", "--model", "shapley"],
    &["retention"],
    &["dashboard", "--today", "2026-12-01"],
    &["dashboard", "--period", "2025-01..2025-12"],
    // CLV and segments value orders, which the generated log has none of (its purchases are
    // events); they are compared on the demo above.
];

/// The comparison on a generated log (the seeded generator of the benchmarks: 9 event
/// kinds, a year, a few people much more active than the rest, two in five known by id):
/// imported into a store with its events in ClickHouse and into one without, every analysis
/// answers the same, and every funnel, the paths and the retention pushed down give the
/// engine's answer.
#[test]
fn a_generated_log_in_clickhouse_answers_as_the_embedded_store_does() {
    let Some(database) = ClickHouseDatabase::fresh("a_generated_log_in_clickhouse_answers_as_the_embedded_store_does") else { return };
    let dir = tempfile::tempdir().unwrap();
    let events = generated_log_events();
    let csv = dir.path().join("events.csv");
    trailmap_testkit::write_events_csv(std::io::BufWriter::new(std::fs::File::create(&csv).unwrap()), events, (events / 20).max(1), 7).unwrap();
    let (split, embedded) = written_both_ways(database.url(), dir.path(), &["import", "events", csv.to_str().unwrap()]);
    let summary = json(&embedded, &["summary"]);
    assert_eq!(summary[0]["events"], events, "{summary}");

    let mut pushed_down = 0;
    for args in GENERATED_ANALYSES {
        let mut from_clickhouse = with_events(database.url(), || json(&split, args));
        let mut from_store = json(&embedded, args);
        assert_same_but_path(args, &mut from_clickhouse, &mut from_store);
        assert_eq!(from_clickhouse, from_store, "{args:?}");
        if matches!(args[0], "retention" | "paths") {
            // Pushed down: the same answer, assembled from what the shards computed per customer.
            let mut asked = args.to_vec();
            asked.push("--pushdown");
            let mut pushed = with_events(database.url(), || json(&split, &asked));
            assert_eq!(pushed["path"].take(), "pushed_down", "{asked:?}");
            assert_eq!(pushed, from_clickhouse, "{asked:?}");
            pushed_down += 1;
        }
        if args[0] != "funnel" {
            continue;
        }
        assert!(from_store["report"]["overall"]["entered"].as_u64().unwrap() > 0, "{args:?}: {from_store}");
        // The same funnel pushed down: the engine's counts where ClickHouse can count it, the
        // stream (and the reason) where it cannot.
        let mut asked = args.to_vec();
        asked.push("--pushdown");
        let pushed = with_events(database.url(), || json(&split, &asked));
        if pushed["path"] == "streamed" {
            assert!(pushed["path_note"].as_str().unwrap().starts_with("not pushed down: "), "{pushed}");
            continue;
        }
        assert_eq!(pushed["path"], "pushed_down", "{asked:?}: {pushed}");
        pushed_down += 1;
        let counts = |answer: &serde_json::Value| -> Vec<serde_json::Value> {
            let overall = &answer["report"]["overall"];
            let mut counts = vec![overall["entered"].clone()];
            for step in overall["steps"].as_array().unwrap() {
                counts.extend([step["reached"].clone(), step["dropped"].clone(), step["conversion_from_first"].clone()]);
            }
            counts
        };
        assert_eq!(counts(&pushed), counts(&from_store), "{asked:?}");
    }
    // The 1 h, 1 d, 7 d and 23 d ordered funnels, paths and retention; the 30 d window, strict,
    // unordered and the exclusion stream.
    assert_eq!(pushed_down, 6);
}

#[test]
fn a_server_with_its_events_in_clickhouse_killed_mid_load_keeps_every_acknowledged_event_once() {
    let Some(database) = ClickHouseDatabase::fresh("a_server_with_its_events_in_clickhouse_killed_mid_load") else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.sqlite");
    with_events(database.url(), || killed_mid_load_keeps_every_acknowledged_event_once(&db));
}

/// An import killed after it sent chunks of events to ClickHouse and before it committed leaves
/// rows there that nobody acknowledged, on customers the store never committed: the next command
/// that opens the store deletes them, so the import lands whole or not at all, and run again it
/// lands once. On SQLite and, with TRAILMAP_TEST_POSTGRES, on PostgreSQL (whose customer ids do
/// not come back after a rollback, so leftovers would be counted beside the import run again).
#[test]
fn an_import_killed_after_sending_chunks_leaves_nothing_and_runs_again_once() {
    let dir = tempfile::tempdir().unwrap();
    // Three chunks: the first is seen on the shards while the import works through the rest.
    let events = 300_000u64;
    let csv = dir.path().join("events.csv");
    trailmap_testkit::write_events_csv(std::io::BufWriter::new(std::fs::File::create(&csv).unwrap()), events, 10_000, 5).unwrap();
    let Some(database) = ClickHouseDatabase::fresh("an_import_killed_after_sending_chunks") else { return };
    killed_import_leaves_nothing(&database, &dir.path().join("t.sqlite"), &csv, events);
    if let Some(postgres) = trailmap_testkit::postgres::PostgresDatabase::fresh("an_import_killed_after_sending_chunks") {
        let database = ClickHouseDatabase::fresh("an_import_killed_after_sending_chunks_on_postgresql").unwrap();
        killed_import_leaves_nothing(&database, Path::new(postgres.url()), &csv, events);
    }
}

/// The test above on the store `db` with its events in `database`.
fn killed_import_leaves_nothing(database: &ClickHouseDatabase, db: &Path, csv: &Path, events: u64) {
    // Counted from the shards' parts, which answers 0 before the import made the tables too.
    let rows_on_shards = || -> u64 {
        let sql = format!("SELECT sum(rows) FROM system.parts WHERE database = '{}' AND table = 'events_local' AND active", database.name());
        (0..2).map(|shard| database.run_on(shard, &sql).trim().parse::<u64>().unwrap()).sum()
    };
    with_events(database.url(), || {
        let csv = csv.to_str().unwrap();
        let quiet = std::process::Stdio::null;
        let mut import = super::trailmap_command(db).args(["import", "events", csv]).stdout(quiet()).stderr(quiet()).spawn().unwrap();
        // Killed as soon as its first chunk (100,000 events) is on the shards, long before its
        // last one is sent and the store commits.
        while rows_on_shards() == 0 {
            assert!(import.try_wait().unwrap().is_none(), "the import ended before its first chunk was seen");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        import.kill().unwrap();
        import.wait().unwrap();
        assert!(rows_on_shards() > 0, "the killed import's rows stay on the shards");

        // The next command deletes them before it reads anything, and says so.
        let out = trailmap(db, &["summary", "--format", "json"]);
        assert!(text(&out.stderr).contains("1 write(s) that never committed"), "{}", text(&out.stderr));
        let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!((summary[0]["events"].as_u64(), rows_on_shards()), (Some(0), 0), "{summary}");
        let imported = json(db, &["import", "events", csv]);
        assert_eq!(imported["added"], events, "{imported}");
        assert_eq!(json(db, &["summary"])[0]["events"], events);
        assert_eq!(rows_on_shards(), events);
        // Nothing else is pending: the next command deletes nothing.
        let out = trailmap(db, &["summary"]);
        assert!(!text(&out.stderr).contains("never committed"), "{}", text(&out.stderr));
    });
}

#[test]
fn clickhouse_going_away_makes_the_tracking_api_answer_503_and_lose_nothing() {
    let Some(database) = ClickHouseDatabase::fresh("clickhouse_going_away_makes_the_tracking_api_answer_503") else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.sqlite");
    // The node Trailmap sends every query and insert to is reached through a proxy this test can
    // cut, as a network partition or a stopped server would.
    let proxy = Proxy::start(&database.shards()[0]);
    let url = database.url().replacen(&database.shards()[0], &proxy.addr.to_string(), 1);
    with_events(&url, || {
        let key = json(&db, &["source", "create", "website"])["write_key"].as_str().unwrap().to_string();
        let (mut server, addr) = start_server(&db);
        let batch = |name: &str| {
            let messages: Vec<serde_json::Value> = (0..20)
                .map(|i| serde_json::json!({"type": "track", "event": "page_view", "anonymousId": format!("{name}-{}", i % 4),
                    "messageId": format!("{name}-{i}"), "timestamp": "2026-01-01T00:00:00Z"}))
                .collect();
            serde_json::to_vec(&serde_json::json!({"writeKey": key, "batch": messages})).unwrap()
        };
        assert_eq!(http_post(addr, "/v1/batch", &batch("first")).unwrap(), 200);

        proxy.set_up(false);
        let answer = post_answer(addr, &batch("while-down"));
        assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
        assert!(answer.contains("\"code\":\"unavailable\"") && answer.to_ascii_lowercase().contains("retry-after: 5"), "{answer}");
        assert!(answer.contains("cannot reach ClickHouse") && answer.contains(&proxy.addr.to_string()), "{answer}");
        // A command-line read fails at once, naming where, instead of hanging.
        let started = std::time::Instant::now();
        let out = trailmap(&db, &["summary"]);
        assert!(!out.status.success());
        assert!(text(&out.stderr).contains(&proxy.addr.to_string()), "{}", text(&out.stderr));
        assert!(started.elapsed() < std::time::Duration::from_secs(15), "{:?}", started.elapsed());

        proxy.set_up(true);
        // The sender retries what was refused: it lands once, and what was acknowledged before
        // is still there once.
        assert_eq!(http_post(addr, "/v1/batch", &batch("while-down")).unwrap(), 200);
        assert_eq!(http_post(addr, "/v1/batch", &batch("first")).unwrap(), 200);
        assert_eq!(stored_events(&db), 40);
        server.kill().unwrap();
        server.wait().unwrap();
    });
}

/// Posts a tracking batch and returns the whole HTTP answer (status line, headers, body).
fn post_answer(addr: SocketAddr, body: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "POST /v1/batch HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    stream.write_all(body).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

/// A TCP proxy to one ClickHouse node that can be cut: while down it closes every connection it
/// holds and every new one at once.
struct Proxy {
    addr: SocketAddr,
    up: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<TcpStream>>>,
}

impl Proxy {
    fn start(target: &str) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let up = Arc::new(AtomicBool::new(true));
        let open = Arc::new(Mutex::new(Vec::new()));
        let (target, accepting, held) = (target.to_string(), up.clone(), open.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                if !accepting.load(Ordering::SeqCst) {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(server) = TcpStream::connect(&target) else { continue };
                let mut held = held.lock().unwrap();
                held.push(client.try_clone().unwrap());
                held.push(server.try_clone().unwrap());
                for (mut from, mut to) in [(client.try_clone().unwrap(), server.try_clone().unwrap()), (server, client)] {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(Shutdown::Both);
                    });
                }
            }
        });
        Proxy { addr, up, open }
    }

    fn set_up(&self, up: bool) {
        self.up.store(up, Ordering::SeqCst);
        if !up {
            for stream in self.open.lock().unwrap().drain(..) {
                let _ = stream.shutdown(Shutdown::Both);
            }
        }
    }
}

/// A bad `--events` fails within seconds with the reason, never showing the password.
#[test]
fn the_events_url_is_checked_and_shown_without_its_password() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.sqlite");
    for (url, expected) in [
        ("clickhouse://user:hunter2@127.0.0.1:1/db", "cannot reach ClickHouse"),
        ("kafka://127.0.0.1:9092/events", "clickhouse://"),
    ] {
        let started = std::time::Instant::now();
        let out = with_events(url, || trailmap(&db, &["summary"]));
        assert!(!out.status.success(), "{url}");
        let message = text(&out.stderr);
        assert!(message.contains(expected) && !message.contains("hunter2"), "{url}: {message}");
        assert!(started.elapsed() < std::time::Duration::from_secs(15), "{url}: {:?}", started.elapsed());
    }
}
