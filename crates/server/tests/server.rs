//! The tracking API in-process: every path, auth, malformed bodies, gzip, size limits, duplicates,
//! identity merging, clock skew, drop counts and concurrent requests sharing commits. Requests go
//! through the router with `tower::ServiceExt::oneshot`; afterwards the writer hands back the app
//! and the store is read directly.

// Helpers outside #[test] functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used)]

#[path = "server/personas.rs"]
mod personas;
#[path = "server/security.rs"]
mod security;
#[path = "server/privacy.rs"]
mod privacy;
#[path = "server/accounts.rs"]
mod accounts;
#[path = "server/periods.rs"]
mod periods;
#[path = "server/tidy.rs"]
mod tidy;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine;
use serde_json::{Value, json};
use std::io::Write;
use tower::ServiceExt;
use trailmap_app::App;
use trailmap_model::{Business, EventColumns, Timestamp};
use trailmap_server::{ServerState, Writer, generate_write_key, hash_write_key, router};
use trailmap_store::Store;

#[path = "server/touchpoints.rs"] mod touchpoints;
#[path = "server/comments.rs"] mod comments;
#[path = "server/onboarding.rs"] mod onboarding;
#[path = "server/imports.rs"] mod imports;
#[path = "server/numbers.rs"] mod numbers;
#[path = "server/from_zero.rs"] mod from_zero;
#[path = "server/research.rs"] mod research;
#[path = "server/actions.rs"] mod actions;
#[path = "server/reports.rs"] mod reports;
#[path = "server/funnel_customers.rs"] mod funnel_customers;

struct Harness {
    router: Router,
    tracker: Writer,
    writer: std::thread::JoinHandle<App>,
    key: String,
    business: Business,
}

fn harness() -> Harness {
    let mut app = App::in_memory().unwrap();
    let business = app.business(None).unwrap();
    let key = generate_write_key();
    app.create_write_key(&business, "website", &hash_write_key(&key)).unwrap();
    let (tracker, writer) = Writer::start(app);
    let state = ServerState::new(tracker.clone(), ":memory:".into());
    Harness { router: router(state), tracker, writer, key, business }
}

fn basic(key: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{key}:")))
}

impl Harness {
    async fn send(&self, path: &str, headers: &[(&str, &str)], body: Vec<u8>) -> (StatusCode, Value) {
        let mut request = Request::post(path).header("content-type", "application/json");
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let response = self.router.clone().oneshot(request.body(Body::from(body)).unwrap()).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        let auth = basic(&self.key);
        self.send(path, &[("authorization", &auth)], serde_json::to_vec(body).unwrap()).await
    }

    fn finish(self) -> (App, Business) {
        drop(self.router);
        drop(self.tracker);
        (self.writer.join().unwrap(), self.business)
    }
}

/// (name, time, customer id, channel) of every stored event, in time order.
fn events(app: &App, business: &Business) -> Vec<(String, i64, i64, String)> {
    let t = app.store().load_events(business.id, EventColumns::default()).unwrap();
    let mut rows: Vec<_> = (0..t.len())
        .map(|i| (t.string(t.name[i]).to_string(), t.time[i], t.customer[i].0, t.string(t.channel[i]).to_string()))
        .collect();
    rows.sort_by_key(|r| (r.1, r.0.clone()));
    rows
}

const OK: (StatusCode, Option<&str>) = (StatusCode::OK, None);

fn outcome((status, body): &(StatusCode, Value)) -> (StatusCode, Option<&str>) {
    (*status, body["error"]["code"].as_str())
}

#[tokio::test]
async fn every_path_stores_its_message_and_answers_like_segment() {
    let h = harness();
    let base = json!({"userId": "u1", "timestamp": "2026-03-01T10:00:00Z"});
    let with = |extra: Value| {
        let mut m = base.clone();
        m.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        m
    };
    let calls = [
        ("/v1/track", with(json!({"event": "Signed Up", "messageId": "1"}))),
        ("/v1/t", with(json!({"event": "Short Form", "messageId": "2"}))),
        ("/v1/page", with(json!({"messageId": "3", "context": {"page": {"url": "https://x.example/a?utm_source=google&utm_medium=cpc"}}}))),
        ("/v1/screen", with(json!({"messageId": "4", "name": "Home"}))),
        ("/v1/identify", with(json!({"messageId": "5", "traits": {"plan": "pro"}}))),
        ("/v1/group", with(json!({"messageId": "6", "groupId": "acme"}))),
        ("/v1/alias", with(json!({"messageId": "7", "previousId": "old-id"}))),
        ("/v1/batch", json!({"batch": [with(json!({"type": "track", "event": "In Batch", "messageId": "8"}))]})),
        ("/v1/b", json!({"batch": [with(json!({"type": "page", "messageId": "9"}))]})),
    ];
    for (path, body) in &calls {
        let answer = h.post(path, body).await;
        assert_eq!(answer, (StatusCode::OK, json!({"success": true})), "{path}");
    }
    let (app, business) = h.finish();
    let mut names: Vec<String> = events(&app, &business).into_iter().map(|e| e.0).collect();
    names.sort();
    assert_eq!(
        names,
        ["In Batch", "Short Form", "Signed Up", "alias", "group", "identify", "page_view", "page_view", "screen_view"]
    );
    let rows = events(&app, &business);
    assert!(rows.iter().any(|r| r.0 == "page_view" && r.3 == "Paid Search"), "{rows:?}");
    assert_eq!(app.store().summary(business.id).unwrap().customers, 1, "one user id is one customer");
}

#[tokio::test]
async fn a_missing_or_wrong_write_key_is_a_401_and_the_body_key_works() {
    let h = harness();
    let message = json!({"userId": "u", "event": "x"});
    let body = serde_json::to_vec(&message).unwrap();
    assert_eq!(outcome(&h.send("/v1/track", &[], body.clone()).await), (StatusCode::UNAUTHORIZED, Some("invalid_write_key")));
    let wrong = basic("not-a-key");
    assert_eq!(
        outcome(&h.send("/v1/track", &[("authorization", &wrong)], body.clone()).await),
        (StatusCode::UNAUTHORIZED, Some("invalid_write_key"))
    );
    let in_body = json!({"userId": "u", "event": "x", "writeKey": h.key});
    assert_eq!(outcome(&h.send("/v1/track", &[], serde_json::to_vec(&in_body).unwrap()).await), OK);
    let (app, business) = h.finish();
    assert_eq!(events(&app, &business).len(), 1);
}

#[tokio::test]
async fn malformed_requests_are_400s_with_stable_codes_never_500s() {
    let h = harness();
    let auth = basic(&h.key);
    let raw = |body: &str| (body.as_bytes().to_vec(), auth.clone());
    for (path, (body, auth), code) in [
        ("/v1/track", raw("{not json"), "invalid_json"),
        ("/v1/track", raw(""), "invalid_json"),
        ("/v1/track", raw("[1, 2]"), "invalid_json"),
        ("/v1/batch", raw("{\"batch\": 3}"), "missing_batch"),
        ("/v1/batch", raw("{}"), "missing_batch"),
        ("/v1/track", raw("{\"userId\": \"u\"}"), "missing_event"),
        ("/v1/track", raw("{\"event\": \"x\"}"), "missing_identity"),
        ("/v1/group", raw("{\"userId\": \"u\"}"), "missing_group_id"),
        ("/v1/alias", raw("{\"userId\": \"u\"}"), "missing_previous_id"),
        ("/v1/track", raw("{\"userId\": \"u\", \"event\": \"x\", \"timestamp\": 5}"), "bad_timestamp"),
        // Integrity: a key given twice, a NUL in a name, a revenue in a locale form.
        ("/v1/track", raw("{\"userId\": \"u\", \"event\": \"x\", \"event\": \"y\"}"), "invalid_json"),
        ("/v1/batch", raw("{\"batch\": [{\"type\": \"track\", \"userId\": \"u\", \"userId\": \"v\", \"event\": \"x\"}]}"), "invalid_json"),
        ("/v1/track", raw("{\"userId\": \"u\", \"event\": \"sign\\u0000up\"}"), "invalid_text"),
        ("/v1/track", raw("{\"userId\": \"u\", \"event\": \"x\", \"properties\": {\"revenue\": \"12,50\"}}"), "bad_revenue"),
    ] {
        let answer = h.send(path, &[("authorization", &auth)], body.clone()).await;
        assert_eq!(outcome(&answer), (StatusCode::BAD_REQUEST, Some(code)), "{path} {}", String::from_utf8_lossy(&body));
        assert!(answer.1["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let gz = h.send("/v1/track", &[("authorization", &auth), ("content-encoding", "gzip")], b"not gzip".to_vec()).await;
    assert_eq!(outcome(&gz), (StatusCode::BAD_REQUEST, Some("bad_encoding")));
    let br = h.send("/v1/track", &[("authorization", &auth), ("content-encoding", "br")], b"{}".to_vec()).await;
    assert_eq!(outcome(&br), (StatusCode::UNSUPPORTED_MEDIA_TYPE, Some("unsupported_encoding")));
    let unknown = h.send("/v2/track", &[("authorization", &auth)], b"{}".to_vec()).await;
    assert_eq!(outcome(&unknown), (StatusCode::NOT_FOUND, Some("not_found")));
    let (app, business) = h.finish();
    assert!(events(&app, &business).is_empty());
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

#[tokio::test]
async fn gzip_bodies_are_read_and_size_limits_are_413s() {
    let h = harness();
    let auth = basic(&h.key);
    let batch = json!({"batch": (0..100).map(|i| json!({"type": "track", "event": "e", "userId": format!("u{i}"), "messageId": format!("m{i}")})).collect::<Vec<_>>()});
    let body = gzip(&serde_json::to_vec(&batch).unwrap());
    assert_eq!(outcome(&h.send("/v1/batch", &[("authorization", &auth), ("content-encoding", "gzip")], body).await), OK);

    let big = "x".repeat(33 * 1024);
    let too_big_message = json!({"userId": "u", "event": "big", "properties": {"blob": big}});
    assert_eq!(outcome(&h.post("/v1/track", &too_big_message).await), (StatusCode::PAYLOAD_TOO_LARGE, Some("too_large")));
    // In a batch, the one oversized message is dropped and the others stored.
    let mixed = json!({"batch": [
        {"type": "track", "event": "big", "userId": "u", "messageId": "big", "properties": {"blob": big}},
        {"type": "track", "event": "small", "userId": "u", "messageId": "small"},
    ]});
    assert_eq!(outcome(&h.post("/v1/batch", &mixed).await), OK);
    let huge = json!({"batch": (0..20).map(|_| json!({"type": "track", "event": "e", "userId": "u", "properties": {"blob": big}})).collect::<Vec<_>>()});
    assert_eq!(outcome(&h.post("/v1/batch", &huge).await), (StatusCode::PAYLOAD_TOO_LARGE, Some("too_large")));
    // A small gzip body that inflates past the batch limit is refused without inflating it all.
    let bomb = gzip(&vec![b' '; 5 * 1024 * 1024]);
    assert!(bomb.len() < 32 * 1024);
    let answer = h.send("/v1/batch", &[("authorization", &auth), ("content-encoding", "gzip")], bomb).await;
    assert_eq!(outcome(&answer), (StatusCode::PAYLOAD_TOO_LARGE, Some("too_large")));

    let (app, business) = h.finish();
    assert_eq!(events(&app, &business).len(), 101);
    assert_eq!(app.tracking_drops(&business).unwrap(), [("message too large".to_string(), 1)]);
}

#[tokio::test]
async fn a_message_id_sent_again_lands_once() {
    let h = harness();
    let m = |id: &str| json!({"type": "track", "event": "x", "userId": "u", "messageId": id});
    assert_eq!(outcome(&h.post("/v1/batch", &json!({"batch": [m("a"), m("a"), m("b")]})).await), OK);
    assert_eq!(outcome(&h.post("/v1/batch", &json!({"batch": [m("b"), m("c")]})).await), OK);
    assert_eq!(outcome(&h.post("/v1/track", &m("c")).await), OK);
    let (app, business) = h.finish();
    assert_eq!(events(&app, &business).len(), 3);
}

#[tokio::test]
async fn identify_merges_an_anonymous_visitor_into_a_known_customer() {
    let h = harness();
    // A known customer, from an earlier purchase under the user id.
    let known = json!({"userId": "cust-7", "event": "Order Completed", "timestamp": "2026-01-05T10:00:00Z", "properties": {"revenue": 30}});
    assert_eq!(outcome(&h.post("/v1/track", &known).await), OK);
    // A visitor browsing anonymously, arriving from a newsletter.
    let visits = json!({"batch": [
        {"type": "page", "anonymousId": "anon-1", "timestamp": "2026-02-01T09:00:00Z",
         "context": {"page": {"url": "https://shop.example/?utm_source=news&utm_medium=email"}}},
        {"type": "page", "anonymousId": "anon-1", "timestamp": "2026-02-01T09:05:00Z", "context": {"page": {"url": "https://shop.example/cart"}}},
    ]});
    assert_eq!(outcome(&h.post("/v1/batch", &visits).await), OK);
    let identify = json!({"userId": "cust-7", "anonymousId": "anon-1", "timestamp": "2026-02-01T09:06:00Z",
        "traits": {"email": "Kim@Example.com", "name": "Kim Park", "tier": "gold"}});
    assert_eq!(outcome(&h.post("/v1/identify", &identify).await), OK);
    let (app, business) = h.finish();
    let rows = events(&app, &business);
    assert_eq!(rows.len(), 4, "{rows:?}");
    assert!(rows.iter().all(|r| r.2 == rows[0].2), "all four events are one customer's: {rows:?}");
    assert_eq!(rows[1].3, "Email");
    let summary = app.store().summary(business.id).unwrap();
    assert_eq!(summary.customers, 1);
    let customer = app.store().customer(trailmap_model::CustomerId(rows[0].2)).unwrap();
    assert_eq!(customer.external_id.as_deref(), Some("cust-7"));
    assert_eq!(customer.email.as_deref(), Some("kim@example.com"));
    assert_eq!(customer.name.as_deref(), Some("Kim Park"));
    assert_eq!(customer.properties["tier"], json!("gold"));
}

fn wall_clock() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

#[tokio::test]
async fn the_senders_clock_error_is_corrected_from_sent_at() {
    let h = harness();
    // The device's clock runs a day ahead: it stamps an event ten minutes before it sends the
    // batch, both by its own clock. The event happened ten minutes before the server received it.
    let device_now = Timestamp::from_millis(wall_clock() + 86_400_000);
    let batch = json!({"sentAt": device_now.to_rfc3339(), "batch": [
        {"type": "track", "event": "skewed", "userId": "u", "timestamp": device_now.add_millis(-600_000).to_rfc3339()},
    ]});
    let before = wall_clock();
    assert_eq!(outcome(&h.post("/v1/batch", &batch).await), OK);
    let after = wall_clock();
    let (app, business) = h.finish();
    let time = events(&app, &business)[0].1;
    // to_rfc3339 may drop the milliseconds; allow one second on each side.
    assert!(time >= before - 600_000 - 1_000 && time <= after - 600_000 + 1_000, "{time} not within [{before}, {after}] - 10 min");
}

#[tokio::test]
async fn a_batch_keeps_its_valid_messages_and_counts_the_dropped_ones_by_reason() {
    let h = harness();
    let batch = json!({"batch": [
        {"type": "track", "event": "ok", "userId": "u", "messageId": "1"},
        {"type": "track", "event": "x"},
        {"event": "no type", "userId": "u"},
        {"type": "page", "userId": "u", "context": {"userAgent": "Mozilla/5.0 (compatible; Googlebot/2.1)"}},
        {"type": "page", "userId": "u", "context": {"userAgent": "Googlebot"}},
        "not an object",
    ]});
    assert_eq!(outcome(&h.post("/v1/batch", &batch).await), OK);
    // A bot on a single call is accepted (the sender did nothing wrong) and counted too.
    let bot = json!({"userId": "u", "context": {"userAgent": "AhrefsBot"}});
    assert_eq!(outcome(&h.post("/v1/page", &bot).await), OK);
    let (app, business) = h.finish();
    assert_eq!(events(&app, &business).len(), 1);
    let drops = app.tracking_drops(&business).unwrap();
    let expected: Vec<(String, u64)> = [("bot", 3), ("missing type", 1), ("missing userId and anonymousId", 1), ("not an object", 1)]
        .into_iter()
        .map(|(r, n)| (r.to_string(), n))
        .collect();
    assert_eq!(drops, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_all_land_through_the_one_writer() {
    let h = std::sync::Arc::new(harness());
    let mut tasks = Vec::new();
    for client in 0..40 {
        let h = h.clone();
        tasks.push(tokio::spawn(async move {
            let batch = json!({"batch": (0..25).map(|i| json!({"type": "track", "event": "e",
                "anonymousId": format!("c{client}"), "messageId": format!("{client}-{i}")})).collect::<Vec<_>>()});
            outcome(&h.post("/v1/batch", &batch).await) == OK
        }));
    }
    for task in tasks {
        assert!(task.await.unwrap());
    }
    let h = std::sync::Arc::try_unwrap(h).ok().unwrap();
    let (app, business) = h.finish();
    assert_eq!(events(&app, &business).len(), 1000);
    assert_eq!(app.store().summary(business.id).unwrap().customers, 40);
}

#[tokio::test]
async fn write_keys_are_stored_as_hashes_only() {
    let h = harness();
    let key = h.key.clone();
    let (app, business) = h.finish();
    let keys = app.write_keys(&business).unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].name, "website");
    assert_eq!(keys[0].key_hash, hash_write_key(&key));
    assert_ne!(keys[0].key_hash, key);
    assert_eq!(app.business_for_write_key(&hash_write_key(&key)).unwrap().map(|b| b.id), Some(business.id));
    assert_eq!(app.business_for_write_key(&hash_write_key("other")).unwrap(), None);
}

/// The Python client Segment publishes (`segment-analytics-python` on PyPI, installed by
/// .ci/run), pointed at a real listening server, plain and gzipped, with a bad key as well.
const PYTHON_CLIENT: &str = r#"
import sys
from segment.analytics import Client
key, host = sys.argv[1], sys.argv[2]
errors = []
def on_error(e, batch):
    errors.append(repr(e))
for gz in (False, True):
    s = "gz" if gz else "plain"
    c = Client(key, host=host, on_error=on_error, gzip=gz, max_retries=0)
    c.page(anonymous_id="anon-" + s, name="Home", context={"page": {"url": "https://shop.example/?utm_source=news&utm_medium=email"}})
    c.identify("user-" + s, {"email": s + "@Example.com", "name": "Py Client"}, anonymous_id="anon-" + s)
    c.track("user-" + s, "Order Completed", {"revenue": 12.5})
    c.screen("user-" + s, name="Settings")
    c.group("user-" + s, "acme")
    c.alias("user-" + s, "user-" + s + "-new")
    c.flush()
    c.join()
if errors:
    print("unexpected errors:", errors)
    sys.exit(1)
bad = Client("not-a-key", host=host, on_error=on_error, max_retries=0)
bad.track("someone", "Refused")
bad.flush()
bad.join()
if len(errors) != 1 or "401" not in errors[0]:
    print("expected one 401, got:", errors)
    sys.exit(2)
print("ok")
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_python_client_works_unchanged() {
    let has_client = std::process::Command::new("python3")
        .args(["-c", "import segment.analytics"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_client {
        // CI installs the client (.ci/run); elsewhere the test says what it needs instead.
        assert!(std::env::var_os("CI").is_none(), "CI must install segment-analytics-python (see .ci/run)");
        eprintln!("skipped: `pip install segment-analytics-python` to run the real-client test");
        return;
    }
    let h = harness();
    let (host, stop, server) = listen(h.router.clone()).await;
    let key = h.key.clone();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("python3").args(["-c", PYTHON_CLIENT, &key, &host]).output().unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "python client: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
    let (app, business) = h.finish();
    let rows = events(&app, &business);
    let mut names: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["Order Completed", "Order Completed", "alias", "alias", "group", "group", "identify", "identify", "page_view", "page_view", "screen_view", "screen_view"]
    );
    // Each client's anonymous page view, identify, alias and the rest are one customer.
    assert_eq!(app.store().summary(business.id).unwrap().customers, 2);
    assert!(rows.iter().any(|r| r.0 == "page_view" && r.3 == "Email"), "{rows:?}");
    let customers = app.store().customers(business.id, 10, 0).unwrap();
    let mut emails: Vec<_> = customers.iter().filter_map(|c| c.email.clone()).collect();
    emails.sort();
    assert_eq!(emails, ["gz@example.com", "plain@example.com"]);
}

// ---------------------------------------------------------------------------------------------
// The web app and the JSON API: setup, sign-in, sessions, CSRF, API keys, and who may see and
// change what. The world: Olive owns "Bean There" and "Thread Shop"; Vic is a viewer of "Bean
// There"; Otto owns "Otto's Other" and belongs to nothing else.

use trailmap_model::{Role, User};

const PASSWORD: &str = "correct horse battery";

#[derive(Clone)]
struct Actor {
    user: User,
    token: String,
    csrf: String,
}

struct World {
    router: Router,
    tracker: Writer,
    writer: std::thread::JoinHandle<App>,
    owner: Actor,
    viewer: Actor,
    outsider: Actor,
    bean: Business,
    thread: Business,
    owner_key: String,
    /// Bean There's personas: "Regulars" (with a photo) and "Spare", for the persona routes.
    personas: [i64; 2],
}

fn actor(app: &mut App, email: &str, name: &str, now: Timestamp) -> Actor {
    let user = app.create_user(email, name, PASSWORD, now).unwrap();
    let session = app.create_session(user.id, now, 14 * Timestamp::MS_PER_DAY).unwrap();
    Actor { user, token: session.token, csrf: session.csrf }
}

fn world() -> World {
    world_at(None)
}

/// The world on the store at `store` (None: in memory), the server's read apps opening it too.
fn world_at(store: Option<trailmap_app::StoreLocation>) -> World {
    let mut app = match &store {
        Some(location) => App::open_at(location).unwrap(),
        None => App::in_memory().unwrap(),
    };
    let now = Timestamp::from_millis(wall_clock());
    let owner = actor(&mut app, "olive@example.com", "Olive Owner", now);
    let viewer = actor(&mut app, "vic@example.com", "Vic Viewer", now);
    let outsider = actor(&mut app, "otto@example.com", "Otto Outsider", now);
    let bean = app.create_business_owned(owner.user.id, "Bean There", "USD", "UTC").unwrap();
    let thread = app.create_business_owned(owner.user.id, "Thread Shop", "EUR", "Europe/Paris").unwrap();
    app.create_business_owned(outsider.user.id, "Otto's Other", "USD", "UTC").unwrap();
    app.set_member(bean.id, viewer.user.id, Role::Viewer).unwrap();
    let (_, owner_key) = app.create_api_key(owner.user.id, "script", now).unwrap();
    let personas = ["Regulars", "Spare"].map(|name| {
        let photo = (name == "Regulars").then(|| personas::PNG.to_vec());
        app.create_persona(&bean, trailmap_app::personas::PersonaInput { name: name.into(), photo, rule: Some("orders>=2".into()), ..Default::default() })
            .unwrap()
            .id
            .0
    });
    let (tracker, writer) = Writer::start(app);
    let state = ServerState::at(tracker.clone(), store);
    World { router: router(state), tracker, writer, owner, viewer, outsider, bean, thread, owner_key, personas }
}

impl World {
    fn finish(self) -> App {
        drop(self.router);
        drop(self.tracker);
        self.writer.join().unwrap()
    }
}

#[derive(Debug)]
struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    text: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }
    fn code(&self) -> String {
        self.json()["error"]["code"].as_str().map(str::to_string).unwrap_or_else(|| {
            // Pages carry the code as data-code on the error paragraph.
            self.text.split("data-code=\"").nth(1).and_then(|r| r.split('"').next()).unwrap_or("").to_string()
        })
    }
    fn location(&self) -> &str {
        self.headers.get("location").map_or("", |v| v.to_str().unwrap())
    }
    /// The value a Set-Cookie header gives cookie `name`.
    fn cookie(&self, name: &str) -> Option<String> {
        self.headers.get_all("set-cookie").iter().map(|v| v.to_str().unwrap()).find_map(|c| {
            c.strip_prefix(&format!("{name}=")).map(|rest| rest.split(';').next().unwrap().to_string())
        })
    }
    fn set_cookie_line(&self, name: &str) -> String {
        self.headers.get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_string()).find(|c| c.starts_with(name)).unwrap()
    }
    /// The csrf field of the first form on the page.
    fn csrf_field(&self) -> String {
        self.text.split("name=\"csrf\" value=\"").nth(1).and_then(|r| r.split('"').next()).unwrap().to_string()
    }
}

/// The pseudo header that gives a request a client address, as a listening server does (tests of
/// the throttles send it; it is not sent to the router as a header).
const PEER: &str = "x-test-peer";

async fn call(router: &Router, method: &str, path: &str, headers: &[(&str, String)], body: Vec<u8>) -> Reply {
    let mut request = Request::builder().method(method).uri(path);
    for (k, v) in headers {
        if *k == PEER {
            let address: std::net::SocketAddr = format!("{v}:40000").parse().unwrap();
            request = request.extension(axum::extract::ConnectInfo(address));
        } else {
            request = request.header(*k, v.as_str());
        }
    }
    let response = router.clone().oneshot(request.body(Body::from(body)).unwrap()).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 22).await.unwrap();
    Reply { status, headers, text: String::from_utf8_lossy(&bytes).into_owned() }
}

fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish().into_bytes()
}

fn session_cookie(token: &str) -> (&'static str, String) {
    ("cookie", format!("trailmap_session={token}"))
}

/// A signed-in page request by `who` (a form post carries their CSRF token, plus `fields`).
async fn page(router: &Router, who: Option<&Actor>, method: &str, path: &str, fields: &[(&str, &str)]) -> Reply {
    let mut headers = vec![("content-type", "application/x-www-form-urlencoded".to_string())];
    let mut pairs = fields.to_vec();
    if let Some(a) = who {
        headers.push(session_cookie(&a.token));
        pairs.push(("csrf", a.csrf.as_str()));
    }
    call(router, method, path, &headers, if method == "GET" { Vec::new() } else { form(&pairs) }).await
}

/// A JSON API request by `who` with their session cookie and CSRF header.
async fn api(router: &Router, who: Option<&Actor>, method: &str, path: &str, body: Option<Value>) -> Reply {
    let mut headers = vec![("content-type", "application/json".to_string())];
    if let Some(a) = who {
        headers.push(session_cookie(&a.token));
        headers.push(("x-csrf-token", a.csrf.clone()));
    }
    call(router, method, path, &headers, body.map(|b| serde_json::to_vec(&b).unwrap()).unwrap_or_default()).await
}

#[tokio::test]
async fn setup_creates_the_first_owner_who_adopts_every_business_then_closes() {
    let mut app = App::in_memory().unwrap();
    app.create_business("Bean There Coffee", "USD", "UTC").unwrap();
    let (tracker, writer) = Writer::start(app);
    let router = router(ServerState::new(tracker.clone(), ":memory:".into()));
    let root = call(&router, "GET", "/", &[], vec![]).await;
    assert_eq!((root.status, root.location()), (StatusCode::SEE_OTHER, "/setup"));
    let shown = call(&router, "GET", "/setup", &[], vec![]).await;
    assert_eq!(shown.status, StatusCode::OK);
    let form_cookie = shown.cookie("trailmap_form").unwrap();
    let token = shown.csrf_field();
    assert_eq!(token, form_cookie);
    let fields = [("csrf", token.as_str()), ("name", "Olive"), ("email", "Olive@Example.com"), ("password", PASSWORD), ("business", "")];
    // Without the form cookie the post is refused.
    let refused = call(&router, "POST", "/setup", &[("content-type", "application/x-www-form-urlencoded".into())], form(&fields)).await;
    assert_eq!((refused.status, refused.code().as_str()), (StatusCode::FORBIDDEN, "csrf_failed"));
    let headers = [("content-type", "application/x-www-form-urlencoded".to_string()), ("cookie", format!("trailmap_form={form_cookie}"))];
    let done = call(&router, "POST", "/setup", &headers, form(&fields)).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
    assert!(done.location().starts_with("/b/"), "{}", done.location());
    let session = done.cookie("trailmap_session").unwrap();
    let line = done.set_cookie_line("trailmap_session");
    assert!(line.contains("HttpOnly") && line.contains("SameSite=Lax") && line.contains("Path=/") && line.contains("Max-Age=1209600"), "{line}");
    let businesses = call(&router, "GET", "/api/businesses", &[session_cookie(&session)], vec![]).await.json();
    let mut names: Vec<(String, String)> = businesses
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["name"].as_str().unwrap().to_string(), b["role"].as_str().unwrap().to_string()))
        .collect();
    names.sort();
    assert_eq!(names, [("Bean There Coffee".into(), "owner".into()), ("My Business".into(), "owner".into())]);
    let home = call(&router, "GET", done.location(), &[session_cookie(&session)], vec![]).await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.text.contains("My Business") || home.text.contains("Bean There Coffee"));
    // Setup is closed now: the page sends to sign-in and a second post is a conflict.
    let again = call(&router, "GET", "/setup", &[], vec![]).await;
    assert_eq!((again.status, again.location()), (StatusCode::SEE_OTHER, "/login"));
    let second = call(&router, "POST", "/setup", &headers, form(&fields)).await;
    assert_eq!((second.status, second.code().as_str()), (StatusCode::CONFLICT, "conflict"));
    drop(router);
    drop(tracker);
    let app = writer.join().unwrap();
    assert_eq!(app.user_count().unwrap(), 1);
    assert_eq!(app.user_by_email("olive@example.com").unwrap().unwrap().name, "Olive");
}

async fn login(router: &Router, email: &str, password: &str, next: &str) -> Reply {
    let shown = call(router, "GET", &format!("/login?next={next}"), &[], vec![]).await;
    assert_eq!(shown.status, StatusCode::OK);
    let token = shown.csrf_field();
    let headers = [("content-type", "application/x-www-form-urlencoded".to_string()), ("cookie", format!("trailmap_form={token}"))];
    call(router, "POST", "/login", &headers, form(&[("csrf", &token), ("email", email), ("password", password), ("next", next)])).await
}

#[tokio::test]
async fn login_succeeds_fails_and_is_rate_limited_per_email() {
    let w = world();
    let ok = login(&w.router, "OLIVE@example.com", PASSWORD, "/businesses").await;
    assert_eq!((ok.status, ok.location()), (StatusCode::SEE_OTHER, "/businesses"));
    let session = ok.cookie("trailmap_session").unwrap();
    let me = call(&w.router, "GET", "/api/me", &[session_cookie(&session)], vec![]).await.json();
    assert_eq!((me["user"]["email"].as_str(), me["authenticated_by"].as_str()), (Some("olive@example.com"), Some("session")));
    // An outside address for `next` is not followed.
    let elsewhere = login(&w.router, "olive@example.com", PASSWORD, "//evil.example/").await;
    assert_eq!(elsewhere.location(), "/");
    for attempt in 0..5 {
        let wrong = login(&w.router, "vic@example.com", "not the password", "/").await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
        assert!(wrong.text.contains("Wrong email or password.") && !wrong.text.contains("not the password"));
        assert!(wrong.cookie("trailmap_session").is_none());
    }
    // The sixth try is refused even with the right password; another email still works.
    let limited = login(&w.router, "vic@example.com", PASSWORD, "/").await;
    assert_eq!((limited.status, limited.code().as_str()), (StatusCode::TOO_MANY_REQUESTS, "rate_limited"));
    let retry: u64 = limited.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=15 * 60).contains(&retry), "{retry}");
    let other = login(&w.router, "otto@example.com", PASSWORD, "/").await;
    assert_eq!(other.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn logout_ends_the_session_and_needs_its_csrf_token() {
    let w = world();
    let who = w.owner.clone();
    let forged = call(
        &w.router,
        "POST",
        "/logout",
        &[("content-type", "application/x-www-form-urlencoded".into()), session_cookie(&who.token)],
        form(&[("csrf", "forged")]),
    )
    .await;
    assert_eq!((forged.status, forged.code().as_str()), (StatusCode::FORBIDDEN, "csrf_failed"));
    assert_eq!(api(&w.router, Some(&who), "GET", "/api/me", None).await.status, StatusCode::OK);
    let out = page(&w.router, Some(&who), "POST", "/logout", &[]).await;
    assert_eq!((out.status, out.location()), (StatusCode::SEE_OTHER, "/login"));
    assert!(out.set_cookie_line("trailmap_session").contains("Max-Age=0"));
    let after = api(&w.router, Some(&who), "GET", "/api/me", None).await;
    assert_eq!((after.status, after.code().as_str()), (StatusCode::UNAUTHORIZED, "unauthenticated"));
}

#[tokio::test]
async fn state_changing_requests_without_the_csrf_token_are_refused() {
    let w = world();
    let o = &w.owner.clone();
    let form_headers = [("content-type", "application/x-www-form-urlencoded".to_string()), session_cookie(&o.token)];
    let missing = call(&w.router, "POST", "/businesses", &form_headers, form(&[("name", "Sneaky")])).await;
    assert_eq!((missing.status, missing.code().as_str()), (StatusCode::FORBIDDEN, "csrf_failed"));
    // The other user's token does not do either.
    let foreign = call(&w.router, "POST", "/businesses", &form_headers, form(&[("name", "Sneaky"), ("csrf", &w.viewer.csrf)])).await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN);
    let json_headers = [("content-type", "application/json".to_string()), session_cookie(&o.token)];
    let no_header = call(&w.router, "POST", "/api/businesses", &json_headers, br#"{"name":"Sneaky"}"#.to_vec()).await;
    assert_eq!((no_header.status, no_header.code().as_str()), (StatusCode::FORBIDDEN, "csrf_failed"));
    // With the token, and with an API key (no CSRF needed), the same requests work.
    let made = page(&w.router, Some(o), "POST", "/businesses", &[("name", "Corner Bakery")]).await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.text);
    let by_api = api(&w.router, Some(o), "POST", "/api/businesses", Some(json!({"name": "Kiosk"}))).await;
    assert_eq!(by_api.status, StatusCode::CREATED, "{}", by_api.text);
    assert_eq!(by_api.json()["role"], "owner");
    let key_headers = [("content-type", "application/json".to_string()), ("authorization", format!("Bearer {}", w.owner_key))];
    let by_key = call(&w.router, "POST", "/api/businesses", &key_headers, br#"{"name":"Van"}"#.to_vec()).await;
    assert_eq!(by_key.status, StatusCode::CREATED, "{}", by_key.text);
    let duplicate = call(&w.router, "POST", "/api/businesses", &key_headers, br#"{"name":"Van"}"#.to_vec()).await;
    assert_eq!((duplicate.status, duplicate.code().as_str()), (StatusCode::CONFLICT, "conflict"));
    let bad = call(&w.router, "POST", "/api/businesses", &key_headers, b"{not json".to_vec()).await;
    assert_eq!((bad.status, bad.code().as_str()), (StatusCode::BAD_REQUEST, "invalid_json"));
    let app = w.finish();
    let names: Vec<String> = app.memberships(o.user.id).unwrap().into_iter().map(|m| m.business.name).collect();
    assert!(names.contains(&"Corner Bakery".to_string()) && names.contains(&"Van".to_string()) && !names.contains(&"Sneaky".to_string()));
}

#[tokio::test]
async fn an_expired_session_is_no_session() {
    let mut app = App::in_memory().unwrap();
    let long_ago = Timestamp::from_millis(wall_clock() - 15 * Timestamp::MS_PER_DAY);
    let user = app.create_user("old@example.com", "Old Timer", PASSWORD, long_ago).unwrap();
    let session = app.create_session(user.id, long_ago, 14 * Timestamp::MS_PER_DAY).unwrap();
    let (tracker, _writer) = Writer::start(app);
    let router = router(ServerState::new(tracker, ":memory:".into()));
    let api_call = call(&router, "GET", "/api/me", &[session_cookie(&session.token)], vec![]).await;
    assert_eq!((api_call.status, api_call.code().as_str()), (StatusCode::UNAUTHORIZED, "unauthenticated"));
    let page_call = call(&router, "GET", "/businesses?x=1", &[session_cookie(&session.token)], vec![]).await;
    assert_eq!((page_call.status, page_call.location()), (StatusCode::SEE_OTHER, "/login?next=%2Fbusinesses%3Fx%3D1"));
}

#[tokio::test]
async fn api_keys_authenticate_scripts_until_revoked() {
    let w = world();
    let bearer = |key: &str| vec![("authorization", format!("Bearer {key}"))];
    let me = call(&w.router, "GET", "/api/me", &bearer(&w.owner_key), vec![]).await;
    assert_eq!(me.json()["authenticated_by"], "api_key");
    for bad in ["tm_nothing", "not-a-key", ""] {
        let refused = call(&w.router, "GET", "/api/me", &bearer(bad), vec![]).await;
        assert_eq!((refused.status, refused.code().as_str()), (StatusCode::UNAUTHORIZED, "unauthenticated"), "{bad:?}");
    }
    // A key is created (shown once), listed by prefix, and revoked; someone else cannot revoke it.
    let created = api(&w.router, Some(&w.viewer), "POST", "/api/keys", Some(json!({"name": "export"}))).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let secret = created.json()["secret"].as_str().unwrap().to_string();
    let id = created.json()["key"]["id"].as_i64().unwrap();
    assert!(secret.starts_with("tm_") && secret.starts_with(created.json()["key"]["prefix"].as_str().unwrap()));
    let listed = call(&w.router, "GET", "/api/keys", &bearer(&secret), vec![]).await.json();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert!(!listed.to_string().contains(&secret), "lists never hold the key itself");
    let stolen = call(&w.router, "DELETE", &format!("/api/keys/{id}"), &bearer(&w.owner_key), vec![]).await;
    assert_eq!(stolen.status, StatusCode::NOT_FOUND);
    let revoked = call(&w.router, "DELETE", &format!("/api/keys/{id}"), &bearer(&secret), vec![]).await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT, "{}", revoked.text);
    let after = call(&w.router, "GET", "/api/me", &bearer(&secret), vec![]).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
    // The keys page shows the new key once.
    let made = page(&w.router, Some(&w.owner), "POST", "/account/keys", &[("name", "page key")]).await;
    assert_eq!(made.status, StatusCode::OK);
    assert!(made.text.contains("data-testid=\"secret\">tm_"), "{}", made.text);
}

/// Who asks in the access matrix.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Asker {
    Nobody,
    Outsider,
    Viewer,
    Owner,
}

/// Every business route of the web app and the API: (page or api, method, path with {b} for the
/// business and {u} for a member, body, changes something). New routes get a line here.
const BUSINESS_ROUTES: &[(&str, &str, &str, &str, bool)] = &[
    ("page", "GET", "/b/{b}/", "", false),
    ("page", "GET", "/b/{b}/settings/members", "", false),
    ("page", "GET", "/b/{b}/customers?metric=revenue", "", false),
    ("page", "GET", "/b/{b}/dashboard.csv", "", false),
    ("api", "GET", "/api/businesses/{b}/dashboard", "", false),
    ("api", "GET", "/api/businesses/{b}/customers", "", false),
    ("page", "POST", "/businesses/{b}/rename", "name=Renamed", true),
    ("page", "POST", "/b/{b}/settings/members/invite", "role=viewer", true),
    ("page", "POST", "/b/{b}/settings/members/{u}/role", "role=editor", true),
    ("page", "POST", "/b/{b}/settings/members/{u}/remove", "", true),
    ("api", "GET", "/api/businesses/{b}/summary", "", false),
    ("api", "GET", "/api/businesses/{b}/members", "", false),
    ("api", "PATCH", "/api/businesses/{b}", r#"{"name":"Renamed"}"#, true),
    ("api", "POST", "/api/businesses/{b}/members/{u}/password-reset", "", true),
    ("api", "PUT", "/api/businesses/{b}/members/{u}", r#"{"role":"editor"}"#, true),
    ("api", "DELETE", "/api/businesses/{b}/members/{u}", "", true),
    ("api", "POST", "/api/businesses/{b}/invitations", r#"{"role":"viewer"}"#, true),
    ("page", "GET", "/b/{b}/analysis/", "", false),
    ("page", "GET", "/b/{b}/analysis/funnel", "", false),
    ("page", "GET", "/b/{b}/analysis/funnel/customers?customers_at=1", "", false),
    ("page", "GET", "/b/{b}/analysis/flows", "", false),
    ("page", "GET", "/b/{b}/analysis/attribution", "", false),
    ("page", "GET", "/b/{b}/analysis/retention", "", false),
    ("page", "GET", "/b/{b}/analysis/clv", "", false),
    ("api", "GET", "/api/businesses/{b}/analysis/funnel", "", false),
    ("api", "GET", "/api/businesses/{b}/analysis/flows", "", false),
    ("api", "GET", "/api/businesses/{b}/analysis/attribution", "", false),
    ("api", "GET", "/api/businesses/{b}/analysis/retention", "", false),
    ("api", "GET", "/api/businesses/{b}/analysis/clv", "", false),
    ("page", "GET", "/b/{b}/maps", "", false),
    ("page", "GET", "/b/{b}/personas", "", false),
    ("page", "GET", "/b/{b}/touchpoints", "", false),
    ("page", "POST", "/b/{b}/maps", "name=Checkout&template=web-shop", true),
    ("api", "GET", "/api/businesses/{b}/maps", "", false),
    ("api", "GET", "/api/businesses/{b}/personas", "", false),
    ("api", "GET", "/api/businesses/{b}/touchpoints", "", false),
    ("api", "GET", "/api/businesses/{b}/changes", "", false),
    ("page", "GET", "/b/{b}/changes", "", false),
    ("page", "POST", "/b/{b}/changes", "title=Loyalty+card&date=2026-05-01&stages=purchase", true),
    ("page", "GET", "/b/{b}/insights", "", false),
    ("api", "GET", "/api/businesses/{b}/insights", "", false),
    ("page", "GET", "/b/{b}/research", "", false),
    ("page", "GET", "/b/{b}/research?kind=review&sentiment=negative", "", false),
    ("api", "GET", "/api/businesses/{b}/research", "", false),
    ("api", "POST", "/api/businesses/{b}/changes", r#"{"title":"Loyalty card","date":"2026-05-01","stages":["purchase"],"metric":"nps"}"#, true),
    ("api", "POST", "/api/businesses/{b}/maps", r#"{"name":"API map","template":"coffee-shop"}"#, true),
    ("api", "POST", "/api/businesses/{b}/maps/import", MINIMAL_MAP_DOCUMENT, true),
    ("page", "GET", "/b/{b}/surveys", "", false),
    ("page", "POST", "/b/{b}/surveys", "name=Counter+card&stage=Purchase&text_1=How+likely&kind_1=nps", true),
    ("page", "GET", "/b/{b}/feedback", "", false),
    ("api", "GET", "/api/businesses/{b}/surveys", "", false),
    ("api", "POST", "/api/businesses/{b}/surveys", r#"{"name":"API survey","stage":"Purchase","questions":[{"text":"How likely?","kind":"nps"}]}"#, true),
    ("api", "GET", "/api/businesses/{b}/feedback/themes", "", false),
    ("api", "GET", "/api/businesses/{b}/actions", "", false),
    ("page", "GET", "/b/{b}/actions", "", false),
    ("api", "GET", "/api/businesses/{b}/feedback/sentiment", "", false),
    ("page", "GET", "/b/{b}/feedback/import", "", true),
    ("api", "POST", "/api/businesses/{b}/feedback/import", r#"[{"source":"google","id":"r-1","date":"2026-06-14","rating":5,"text":"Lovely coffee"}]"#, true),
    // Personas: {p} is "Regulars" (with a photo), {q} "Spare"; the API's DELETE of {p} comes last.
    ("page", "GET", "/b/{b}/personas/new", "", true),
    ("page", "GET", "/b/{b}/personas/suggestions", "", true),
    ("page", "GET", "/b/{b}/personas/{p}/edit", "", true),
    ("page", "POST", "/b/{b}/personas", "name=Page+persona&rule_from=text&rule=orders%3E%3D1", true),
    ("page", "POST", "/b/{b}/personas/{p}", "name=Regulars&rule_from=text&rule=orders%3E%3D3", true),
    ("page", "POST", "/b/{b}/personas/{q}/delete", "", true),
    ("api", "POST", "/api/businesses/{b}/personas", r#"{"name":"API persona","rule":"first_channel=Referral"}"#, true),
    ("api", "GET", "/api/businesses/{b}/personas/{p}", "", false),
    ("api", "GET", "/api/businesses/{b}/personas/{p}/photo", "", false),
    ("api", "GET", "/api/businesses/{b}/personas/preview?rule=orders%3E%3D2", "", false),
    ("api", "PATCH", "/api/businesses/{b}/personas/{p}", r#"{"goals":["A seat by the window"]}"#, true),
    ("api", "DELETE", "/api/businesses/{b}/personas/{p}", "", true),
    ("page", "GET", "/b/{b}/settings/sources", "", false),
    ("page", "POST", "/b/{b}/settings/sources", "name=website", true),
    ("page", "POST", "/b/{b}/settings/sources/{k}/revoke", "", true),
    ("page", "POST", "/b/{b}/onboarding", "hidden=yes", true),
    ("api", "GET", "/api/businesses/{b}/erasures", "", true),
    ("api", "GET", "/api/businesses/{b}/retention", "", false),
    ("api", "PUT", "/api/businesses/{b}/retention", r#"{"days":400}"#, true),
    ("api", "GET", "/api/businesses/{b}/sources", "", false),
    ("api", "POST", "/api/businesses/{b}/sources", r#"{"name":"ios app"}"#, true),
    ("api", "DELETE", "/api/businesses/{b}/sources/{k2}", "", true),
    ("api", "GET", "/api/businesses/{b}/onboarding", "", false),
    ("api", "PUT", "/api/businesses/{b}/onboarding", r#"{"hidden":false}"#, true),
    // Imports: editors and owners only, the page and the API (a JSON body is read as NDJSON).
    ("page", "GET", "/b/{b}/import", "", true),
    ("api", "POST", "/api/businesses/{b}/imports?kind=customers", r#"{"email":"ana@example.com","name":"Ana"}"#, true),
    // Reports, digests and alerts: members read, editors and owners send and make rules.
    ("page", "GET", "/b/{b}/report", "", false),
    ("page", "GET", "/b/{b}/report.pdf?period=2026-05", "", false),
    ("page", "GET", "/b/{b}/settings/delivery", "", false),
    ("page", "POST", "/b/{b}/settings/delivery/alerts", "kpi=nps&when=significant&cadence=weekly&channel=webhook&target=https%3A%2F%2Fhooks.example%2Ft", true),
    ("api", "GET", "/api/businesses/{b}/report?period=2026-05", "", false),
    ("api", "POST", "/api/businesses/{b}/report/send", r#"{"period":"2026-05","to":"olive@example.com"}"#, true),
    ("api", "GET", "/api/businesses/{b}/digests", "", false),
    ("api", "GET", "/api/businesses/{b}/alerts", "", false),
    ("api", "POST", "/api/businesses/{b}/alerts", r#"{"kpi":"nps","channel":"webhook","target":"https://hooks.example/t"}"#, true),
    ("api", "GET", "/api/businesses/{b}/alerts/fired", "", false),
    ("api", "GET", "/api/businesses/{b}/deliveries", "", false),
];

/// The API routes about one customer of a business; their access rules are checked on the demo
/// data (the access world has no customers) by the dashboard test.
const CUSTOMER_API_ROUTES: &[(&str, &str)] = &[("GET", "/api/businesses/{business_id}/customers/{customer_id}")];

/// The API routes that are not about one business.
const ACCOUNT_API_ROUTES: &[(&str, &str)] =
    &[
        ("GET", "/api/me"),
        ("GET", "/api/me/sessions"),
        ("DELETE", "/api/me/sessions/{session_id}"),
        ("POST", "/api/me/password"),
        ("GET", "/api/businesses"),
        ("POST", "/api/businesses"),
        ("GET", "/api/keys"),
        ("POST", "/api/keys"),
        ("DELETE", "/api/keys/{key_id}"),
    ];

async fn ask(w: &World, asker: Asker, kind: &str, method: &str, path: &str, body: &str) -> Reply {
    let who = match asker {
        Asker::Nobody => None,
        Asker::Outsider => Some(&w.outsider),
        Asker::Viewer => Some(&w.viewer),
        Asker::Owner => Some(&w.owner),
    };
    if kind == "page" {
        let mut pairs: Vec<(String, String)> = form_urlencoded::parse(body.as_bytes()).into_owned().collect();
        if let Some(a) = who {
            pairs.push(("csrf".into(), a.csrf.clone()));
        }
        let mut headers = vec![("content-type", "application/x-www-form-urlencoded".to_string())];
        if let Some(a) = who {
            headers.push(session_cookie(&a.token));
        }
        let encoded = form_urlencoded::Serializer::new(String::new()).extend_pairs(&pairs).finish();
        call(&w.router, method, path, &headers, if method == "GET" { vec![] } else { encoded.into_bytes() }).await
    } else {
        let body = (!body.is_empty()).then(|| serde_json::from_str(body).unwrap());
        api(&w.router, who, method, path, body).await
    }
}

// Multi-threaded, so the blocking store calls outside the router (opening the app, the checks at
// the end) run in `block_in_place`, as the server runs them off its async threads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_business_route_hides_other_businesses_and_refuses_writes_to_viewers() {
    business_routes_keep_the_access_rules(world()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_business_route_keeps_the_access_rules_on_postgresql() {
    let Some(database) = trailmap_testkit::postgres::PostgresDatabase::fresh("every_business_route_keeps_the_access_rules_on_postgresql") else { return };
    let location = trailmap_app::StoreLocation::parse(database.url()).unwrap();
    let w = tokio::task::block_in_place(|| world_at(Some(location)));
    business_routes_keep_the_access_rules(w).await;
}

/// Every business route asked by nobody, an outsider, a viewer and the owner (see BUSINESS_ROUTES).
async fn business_routes_keep_the_access_rules(w: World) {
    // Two write keys to revoke, one by the page and one by the API.
    let (k, k2) = (onboarding::new_source(&w, &w.owner, "till").await, onboarding::new_source(&w, &w.owner, "app").await);
    let fill = |path: &str, b: i64| {
        path.replace("{b}", &b.to_string())
            .replace("{u}", &w.viewer.user.id.to_string())
            .replace("{p}", &w.personas[0].to_string())
            .replace("{q}", &w.personas[1].to_string())
            .replace("{k2}", &k2.to_string())
            .replace("{k}", &k.to_string())
    };
    for &(kind, method, template, body, writes) in BUSINESS_ROUTES {
        let path = fill(template, w.bean.id.0);
        let label = format!("{method} {path}");
        // Without a session: the API says 401, a page sends to sign-in.
        let nobody = ask(&w, Asker::Nobody, kind, method, &path, body).await;
        if kind == "api" {
            assert_eq!((nobody.status, nobody.code().as_str()), (StatusCode::UNAUTHORIZED, "unauthenticated"), "{label}");
        } else {
            assert_eq!(nobody.status, StatusCode::SEE_OTHER, "{label}");
            assert!(nobody.location().starts_with("/login?next="), "{label}: {}", nobody.location());
        }
        // A user of another business: 404, as if it did not exist, for reads and writes.
        let outsider = ask(&w, Asker::Outsider, kind, method, &path, body).await;
        assert_eq!((outsider.status, outsider.code().as_str()), (StatusCode::NOT_FOUND, "not_found"), "{label}");
        // A business id that does not exist at all answers the same.
        let missing = ask(&w, Asker::Owner, kind, method, &fill(template, 999_999), body).await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND, "{label}");
        // A viewer reads, but may not write.
        let viewer = ask(&w, Asker::Viewer, kind, method, &path, body).await;
        if writes {
            assert_eq!((viewer.status, viewer.code().as_str()), (StatusCode::FORBIDDEN, "forbidden"), "{label}");
        } else {
            assert_eq!(viewer.status, StatusCode::OK, "{label}: {}", viewer.text);
        }
    }
    // The owner reads every route, and the owner's writes go through (in an order that keeps the
    // viewer a member until the API's DELETE removes them; the page's removal is the same call to
    // the app and is skipped here, since there would be nobody left to remove).
    for &(kind, method, template, body, _) in BUSINESS_ROUTES {
        if template.ends_with("/remove") {
            continue;
        }
        let path = fill(template, w.bean.id.0);
        let reply = ask(&w, Asker::Owner, kind, method, &path, body).await;
        assert!(reply.status.is_success() || reply.status == StatusCode::SEE_OTHER, "{method} {path}: {} {}", reply.status, reply.text);
    }
    // The viewer was re-roled to editor and then removed; the business was renamed.
    let (bean, owner) = (w.bean.id, w.owner.user.id);
    tokio::task::block_in_place(|| {
        let app = w.finish();
        let members = app.members(bean).unwrap();
        assert_eq!(members.iter().map(|(u, r)| (u.email.as_str(), *r)).collect::<Vec<_>>(), [("olive@example.com", Role::Owner)]);
        assert_eq!(app.memberships(owner).unwrap().iter().filter(|m| m.business.name == "Renamed").count(), 1);
    });
}

#[tokio::test]
async fn lists_show_only_the_users_businesses_and_the_last_owner_stays() {
    let w = world();
    let listed = api(&w.router, Some(&w.owner), "GET", "/api/businesses", None).await.json();
    let names: Vec<&str> = listed.as_array().unwrap().iter().map(|b| b["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Bean There", "Thread Shop"]);
    let page_list = page(&w.router, Some(&w.outsider), "GET", "/businesses", &[]).await;
    assert!(page_list.text.contains("Otto&#39;s Other") || page_list.text.contains("Otto's Other"), "{}", page_list.text);
    assert!(!page_list.text.contains("Bean There"));
    // `/` opens the first business, then the one opened last.
    let root = page(&w.router, Some(&w.owner), "GET", "/", &[]).await;
    assert_eq!(root.location(), format!("/b/{}/", w.bean.id));
    let opened = page(&w.router, Some(&w.owner), "GET", &format!("/b/{}/", w.thread.id), &[]).await;
    let last = opened.cookie("trailmap_business").unwrap();
    let headers = [session_cookie(&w.owner.token), ("cookie", format!("trailmap_business={last}"))];
    let back = call(&w.router, "GET", "/", &headers, vec![]).await;
    assert_eq!(back.location(), format!("/b/{}/", w.thread.id));
    let me = w.owner.user.id;
    let alone = api(&w.router, Some(&w.owner), "DELETE", &format!("/api/businesses/{}/members/{me}", w.thread.id), None).await;
    assert_eq!((alone.status, alone.code().as_str()), (StatusCode::CONFLICT, "conflict"), "{}", alone.text);
}

#[tokio::test]
async fn an_invitation_link_adds_a_new_account_once() {
    let w = world();
    let made = api(&w.router, Some(&w.owner), "POST", &format!("/api/businesses/{}/invitations", w.thread.id), Some(json!({"role": "editor"}))).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    let path = made.json()["path"].as_str().unwrap().to_string();
    let shown = call(&w.router, "GET", &path, &[], vec![]).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert!(shown.text.contains("Join Thread Shop"));
    let token = shown.csrf_field();
    let headers = [("content-type", "application/x-www-form-urlencoded".to_string()), ("cookie", format!("trailmap_form={token}"))];
    let fields = [("csrf", token.as_str()), ("action", "signup"), ("name", "Nia New"), ("email", "nia@example.com"), ("password", PASSWORD)];
    let joined = call(&w.router, "POST", &path, &headers, form(&fields)).await;
    assert_eq!((joined.status, joined.location()), (StatusCode::SEE_OTHER, format!("/b/{}/", w.thread.id).as_str()), "{}", joined.text);
    let session = joined.cookie("trailmap_session").unwrap();
    let mine = call(&w.router, "GET", "/api/businesses", &[session_cookie(&session)], vec![]).await.json();
    assert_eq!((mine[0]["name"].as_str(), mine[0]["role"].as_str()), (Some("Thread Shop"), Some("editor")));
    let used = call(&w.router, "GET", &path, &[], vec![]).await;
    assert_eq!(used.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_openapi_document_lists_every_api_route_and_each_needs_auth() {
    let w = world();
    let reply = call(&w.router, "GET", "/api/openapi.json", &[], vec![]).await;
    assert_eq!(reply.status, StatusCode::OK);
    let doc = reply.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{}", doc["openapi"]);
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!((schemes["session"]["in"].as_str(), schemes["bearer"]["scheme"].as_str()), (Some("cookie"), Some("bearer")));
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
    let description = doc["info"]["description"].as_str().unwrap();
    let architecture = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ARCHITECTURE.md")).unwrap();
    for code in trailmap_server::ERROR_CODES {
        assert!(description.contains(&format!("`{}`", code.code)), "{} missing from the description", code.code);
        let row = format!("| `{}` | {} |", code.code, code.status);
        assert!(architecture.contains(&row), "ARCHITECTURE.md's error table lacks {row}");
    }
    let mut documented: Vec<(String, String)> = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.push((method.to_uppercase(), path.clone()));
        }
    }
    documented.sort();
    // Every route the tests know is documented, and nothing else is.
    let mut known: Vec<(String, String)> = ACCOUNT_API_ROUTES.iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
    known.extend(CUSTOMER_API_ROUTES.iter().map(|(m, p)| (m.to_string(), p.to_string())));
    known.extend(map_api_routes());
    known.extend(touchpoints::api_routes());
    // Digests need an SMTP server and rules an id (the access world has neither): see reports.
    known.extend(reports::api_routes());
    known.push(("GET".into(), "/api/businesses/{business_id}/surveys/{survey_id}/results".into()));
    // Measured on the demo's changes (the access world has none): see the impact test.
    known.push(("GET".into(), "/api/businesses/{business_id}/changes/{change_id}/impact".into()));
    // A customer's export and erasure need a customer (the access world has none): see
    // security::privacy tests, which hold them to the same access rules.
    known.push(("GET".into(), "/api/businesses/{business_id}/customers/{customer_id}/export".into()));
    known.push(("DELETE".into(), "/api/businesses/{business_id}/customers/{customer_id}".into()));
    // Clustering needs buyers (the access world has none): see the personas tests.
    known.push(("GET".into(), "/api/businesses/{business_id}/personas/suggestions".into()));
    // Tagging and citing need quotes (the access world has none): see the research tests, which
    // hold them to the same access rules.
    known.push(("POST".into(), "/api/businesses/{business_id}/research/{feedback_id}/tags".into()));
    known.push(("POST".into(), "/api/businesses/{business_id}/maps/{map_id}/cards/{card_id}/quotes".into()));
    // Downloads what an import refused (none exists in the access world): see the imports tests.
    known.push(("GET".into(), "/api/businesses/{business_id}/imports/rejects/{rejects_id}".into()));
    for &(kind, method, template, _, _) in BUSINESS_ROUTES {
        if kind == "api" {
            let path = template.split('?').next().unwrap_or(template);
            known.push((
                method.to_string(),
                path.replace("{b}", "{business_id}").replace("{u}", "{user_id}").replace("{p}", "{persona_id}").replace("{k2}", "{source_id}"),
            ));
        }
    }
    known.sort();
    assert_eq!(documented, known);
    // Every documented route exists in the router: without credentials it answers 401, where an
    // unknown route would answer 404.
    for (method, path) in &documented {
        let concrete = path
            .replace("{business_id}", &w.bean.id.to_string())
            .replace("{user_id}", "1")
            .replace("{key_id}", "1")
            .replace("{change_id}", "1")
            .replace("{persona_id}", "1")
            .replace("{touchpoint_id}", "1")
            .replace("{customer_id}", "1");
        let body = if method == "GET" || method == "DELETE" { None } else { Some(json!({})) };
        let reply = api(&w.router, None, method, &concrete, body).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{method} {concrete}: {}", reply.text);
    }
}

#[tokio::test]
async fn unknown_addresses_and_assets() {
    let w = world();
    let api_missing = call(&w.router, "GET", "/api/nothing", &[], vec![]).await;
    assert_eq!((api_missing.status, api_missing.code().as_str()), (StatusCode::NOT_FOUND, "not_found"));
    let page_missing = call(&w.router, "GET", "/nothing", &[("accept", "text/html,*/*".into())], vec![]).await;
    assert_eq!(page_missing.status, StatusCode::NOT_FOUND);
    assert!(page_missing.text.contains("<html"));
    let css = call(&w.router, "GET", "/static/app.css", &[], vec![]).await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(css.headers["cache-control"].to_str().unwrap().contains("max-age"));
    assert!(css.headers["content-type"].to_str().unwrap().starts_with("text/css"));
    let private = call(&w.router, "GET", "/account/keys", &[], vec![]).await;
    assert_eq!((private.status, private.location()), (StatusCode::SEE_OTHER, "/login?next=%2Faccount%2Fkeys"));
}

/// The web app in headless Chromium: the real server on a loopback port with a store file holding
/// one user and two businesses, driven by `browser/login.mjs` (Playwright). Screenshots go to
/// `target/browser-screenshots` (or SCREENSHOT_DIR) to be looked at.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_app_works_in_headless_chromium() {
    if playwright_chromium().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("browser.sqlite");
    let mut app = App::open(&db).unwrap();
    let now = Timestamp::from_millis(wall_clock());
    let user = app.create_user("agency@example.com", "Ada Agency", PASSWORD, now).unwrap();
    // The demo's two businesses, with data, so the dashboard has numbers to follow.
    app.demo(&trailmap_app::DemoOptions { customers: 400, seed: 11 }).unwrap();
    app.adopt_unowned_businesses(user.id).unwrap();
    let coffee = app.business(Some("Bean There Coffee")).unwrap();
    let viewer = app.create_user("sam@example.com", "Sam Staff", PASSWORD, now).unwrap();
    app.set_member(coffee.id, viewer.id, Role::Viewer).unwrap();
    let (tracker, writer) = Writer::start(app);
    let state = ServerState::new(tracker, db);
    let env = vec![
        ("TRAILMAP_EMAIL", "agency@example.com".to_string()),
        ("TRAILMAP_PASSWORD", PASSWORD.to_string()),
        ("SWITCH_TO", "Thread & Needle".to_string()),
    ];
    let (stdout, shots) = run_browser_script(router(state), "login.mjs", env).await;
    assert!(stdout.contains("step: signed in, home of Bean There Coffee"), "{stdout}");
    assert!(stdout.contains("step: switched to Thread & Needle"), "{stdout}");
    assert!(stdout.contains("step: businesses list with 3 rows"), "{stdout}");
    assert!(stdout.contains("step: followed new customers to their list"), "{stdout}");
    assert!(stdout.contains("step: a customer's timeline"), "{stdout}");
    assert!(stdout.lines().last() == Some("ok"), "{stdout}");
    for name in ["1-login", "2-home", "4-switched", "4b-customers", "4c-customer", "6-members", "7-phone-home"] {
        assert!(shots.join(format!("{name}.png")).metadata().unwrap().len() > 1000, "{name}.png is missing or empty");
    }
    drop(writer);
}

#[tokio::test]
async fn setup_on_a_fresh_store_names_its_placeholder_business_and_cookies_can_be_secure() {
    let (tracker, writer) = Writer::start(App::in_memory().unwrap());
    let router = router(ServerState::new(tracker.clone(), ":memory:".into()).with_secure_cookies(true));
    let shown = call(&router, "GET", "/setup", &[], vec![]).await;
    assert!(shown.set_cookie_line("trailmap_form").ends_with("; Secure"));
    let token = shown.csrf_field();
    let headers = [("content-type", "application/x-www-form-urlencoded".to_string()), ("cookie", format!("trailmap_form={token}"))];
    let fields = [("csrf", token.as_str()), ("name", "Bea"), ("email", "bea@example.com"), ("password", PASSWORD), ("business", "Bea's Bakery")];
    let done = call(&router, "POST", "/setup", &headers, form(&fields)).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
    assert!(done.set_cookie_line("trailmap_session").ends_with("; Secure"));
    // Signed in, the sign-in page sends on to `next`.
    let session = done.cookie("trailmap_session").unwrap();
    let login = call(&router, "GET", "/login?next=%2Fbusinesses", &[session_cookie(&session)], vec![]).await;
    assert_eq!((login.status, login.location()), (StatusCode::SEE_OTHER, "/businesses"));
    drop(router);
    drop(tracker);
    let app = writer.join().unwrap();
    let names: Vec<String> = app.businesses().unwrap().into_iter().map(|b| b.name).collect();
    assert_eq!(names, ["Bea's Bakery"]);
}

#[tokio::test]
async fn bad_input_names_the_field() {
    let w = world();
    let short = api(&w.router, Some(&w.owner), "POST", "/api/businesses", Some(json!({"name": "X", "currency": "dollars"}))).await;
    assert_eq!((short.status, short.code().as_str()), (StatusCode::BAD_REQUEST, "invalid_input"), "{}", short.text);
    assert!(short.json()["error"]["message"].as_str().unwrap().contains("currency"), "{}", short.text);
    let role = api(&w.router, Some(&w.owner), "PUT", &format!("/api/businesses/{}/members/{}", w.bean.id, w.viewer.user.id), Some(json!({"role": "boss"}))).await;
    assert_eq!((role.status, role.code().as_str()), (StatusCode::BAD_REQUEST, "invalid_input"));
    assert!(role.json()["error"]["message"].as_str().unwrap().starts_with("role:"));
    let missing = api(&w.router, Some(&w.owner), "POST", "/api/keys", Some(json!({}))).await;
    assert_eq!((missing.status, missing.code().as_str()), (StatusCode::BAD_REQUEST, "invalid_input"), "{}", missing.text);
    assert!(missing.json()["error"]["message"].as_str().unwrap().contains("name"), "{}", missing.text);
    let bad_id = api(&w.router, Some(&w.owner), "GET", "/api/businesses/abc/summary", None).await;
    assert_eq!((bad_id.status, bad_id.code().as_str()), (StatusCode::BAD_REQUEST, "invalid_input"));
}

// ---------------------------------------------------------------------------------------------
// The tracking API, continued: rate limits, CORS, the website snippet, the email pixel, offline
// touchpoints, and Segment's Node client and the snippet in headless Chromium driving a real
// listening server.

use trailmap_server::{TrackingOptions, tracking_router_with};

/// One stored event with the fields these tests read.
#[derive(Debug, Clone, PartialEq)]
struct Stored {
    name: String,
    time: i64,
    customer: i64,
    channel: String,
    source: String,
    medium: String,
    campaign: String,
    page: String,
    revenue_minor: i64,
    properties: Value,
}

fn stored(app: &App, business: &Business) -> Vec<Stored> {
    let t = app.store().load_events(business.id, EventColumns { properties: true }).unwrap();
    let props = t.properties.as_ref().unwrap();
    let mut rows: Vec<Stored> = (0..t.len())
        .map(|i| Stored {
            name: t.string(t.name[i]).to_string(),
            time: t.time[i],
            customer: t.customer[i].0,
            channel: t.string(t.channel[i]).to_string(),
            source: t.string(t.source[i]).to_string(),
            medium: t.string(t.medium[i]).to_string(),
            campaign: t.string(t.campaign[i]).to_string(),
            page: t.string(t.page[i]).to_string(),
            revenue_minor: t.revenue_minor[i],
            properties: props[i].as_deref().map_or(Value::Null, |p| serde_json::from_str(p).unwrap()),
        })
        .collect();
    rows.sort_by_key(|r| (r.time, r.name.clone()));
    rows
}

/// Any request through a router, with the whole answer.
async fn send_raw(router: &Router, method: &str, path: &str, headers: &[(&str, &str)], body: Vec<u8>) -> axum::response::Response {
    let mut request = Request::builder().method(method).uri(path);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    router.clone().oneshot(request.body(Body::from(body)).unwrap()).await.unwrap()
}

async fn json_of(response: axum::response::Response) -> (StatusCode, Value) {
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_write_key_over_its_rate_gets_429_with_retry_after_and_other_keys_do_not() {
    let mut app = App::in_memory().unwrap();
    let business = app.business(None).unwrap();
    let (key, other) = (generate_write_key(), generate_write_key());
    app.create_write_key(&business, "site", &hash_write_key(&key)).unwrap();
    app.create_write_key(&business, "app", &hash_write_key(&other)).unwrap();
    let (tracker, writer) = Writer::start(app);
    // Two requests at once, then one every thousand seconds: the third request is over the
    // limit however slowly this test runs.
    let router = tracking_router_with(tracker.clone(), TrackingOptions { rate_per_second: 0.001, burst: 2.0 });
    let body = |id: &str| serde_json::to_vec(&json!({"userId": "u", "event": "e", "messageId": id})).unwrap();
    let auth = basic(&key);
    for id in ["1", "2"] {
        let answer = json_of(send_raw(&router, "POST", "/v1/track", &[("authorization", &auth)], body(id)).await).await;
        assert_eq!(outcome(&answer), OK);
    }
    let refused = send_raw(&router, "POST", "/v1/track", &[("authorization", &auth)], body("3")).await;
    let retry_after: u64 = refused.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((999..=1000).contains(&retry_after), "{retry_after}");
    assert_eq!(refused.headers()["access-control-allow-origin"], "*");
    assert_eq!(outcome(&json_of(refused).await), (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited")));
    // Another key has its own bucket; a wrong key is still a 401, not a 429.
    let answer = json_of(send_raw(&router, "POST", "/v1/track", &[("authorization", &basic(&other))], body("4")).await).await;
    assert_eq!(outcome(&answer), OK);
    let answer = json_of(send_raw(&router, "POST", "/v1/track", &[("authorization", &basic("nope"))], body("5")).await).await;
    assert_eq!(outcome(&answer), (StatusCode::UNAUTHORIZED, Some("invalid_write_key")));
    drop(router);
    drop(tracker);
    let app = writer.join().unwrap();
    assert_eq!(events(&app, &business).len(), 3, "the refused request stored nothing");
}

#[tokio::test]
async fn v1_paths_answer_cors_preflights_and_serve_the_snippet() {
    let h = harness();
    let preflight = send_raw(
        &h.router,
        "OPTIONS",
        "/v1/batch",
        &[("origin", "https://shop.example"), ("access-control-request-method", "POST"), ("access-control-request-headers", "content-type")],
        Vec::new(),
    )
    .await;
    assert_eq!(preflight.status(), StatusCode::NO_CONTENT);
    assert_eq!(preflight.headers()["access-control-allow-origin"], "*");
    assert!(preflight.headers()["access-control-allow-methods"].to_str().unwrap().contains("POST"));
    assert!(preflight.headers()["access-control-allow-headers"].to_str().unwrap().to_lowercase().contains("content-type"));
    // The answer itself is readable from another origin too, success or error.
    let body = serde_json::to_vec(&json!({"writeKey": h.key, "batch": [{"type": "track", "event": "x", "anonymousId": "a"}]})).unwrap();
    let answer = send_raw(&h.router, "POST", "/v1/batch", &[("content-type", "text/plain")], body).await;
    assert_eq!(answer.headers()["access-control-allow-origin"], "*");
    assert_eq!(json_of(answer).await, (StatusCode::OK, json!({"success": true})));
    let refused = send_raw(&h.router, "POST", "/v1/batch", &[], b"{}".to_vec()).await;
    assert_eq!(refused.headers()["access-control-allow-origin"], "*");

    let snippet = send_raw(&h.router, "GET", "/t.js", &[], Vec::new()).await;
    assert_eq!(snippet.status(), StatusCode::OK);
    assert!(snippet.headers()["content-type"].to_str().unwrap().starts_with("application/javascript"));
    let text = axum::body::to_bytes(snippet.into_body(), 1 << 20).await.unwrap();
    assert!(text.len() < 16 * 1024, "a few KB, not {}", text.len());
    let text = String::from_utf8(text.to_vec()).unwrap();
    for needle in ["init", "identify", "track", "sendBeacon", "/v1/batch", "utm_source", "localStorage", "document.cookie"] {
        assert!(text.contains(needle), "the snippet lacks {needle}");
    }
    h.finish();
}

#[tokio::test]
async fn the_email_pixel_records_an_open_and_answers_an_uncached_gif() {
    let h = harness();
    // The customer exists from a purchase under their id; the pixel names them by id and email.
    assert_eq!(outcome(&h.post("/v1/track", &json!({"userId": "c9", "event": "Order Completed", "timestamp": "2026-01-01T00:00:00Z"})).await), OK);
    let path = format!("/v1/pixel?wk={}&uid=c9&email=ann%40example.com&campaign=spring+sale&source=newsletter&mid=m-1&issue=12", h.key);
    for _ in 0..2 {
        let answer = send_raw(&h.router, "GET", &path, &[], Vec::new()).await;
        assert_eq!(answer.status(), StatusCode::OK);
        assert_eq!(answer.headers()["content-type"], "image/gif");
        assert!(answer.headers()["cache-control"].to_str().unwrap().contains("no-store"));
        let gif = axum::body::to_bytes(answer.into_body(), 1024).await.unwrap();
        assert_eq!((&gif[..6], gif.len()), (&b"GIF89a"[..], 43));
    }
    let other = format!("/v1/pixel?wk={}&e=email_click&email=bo%40example.com&campaign=spring", h.key);
    assert_eq!(send_raw(&h.router, "GET", &other, &[], Vec::new()).await.status(), StatusCode::OK);
    let nobody = format!("/v1/pixel?wk={}&campaign=spring", h.key);
    assert_eq!(outcome(&json_of(send_raw(&h.router, "GET", &nobody, &[], Vec::new()).await).await), (StatusCode::BAD_REQUEST, Some("missing_identity")));
    let bad_key = "/v1/pixel?wk=nope&uid=c9";
    assert_eq!(outcome(&json_of(send_raw(&h.router, "GET", bad_key, &[], Vec::new()).await).await), (StatusCode::UNAUTHORIZED, Some("invalid_write_key")));
    let (app, business) = h.finish();
    let rows = stored(&app, &business);
    let opens: Vec<&Stored> = rows.iter().filter(|r| r.name == "email_open").collect();
    assert_eq!(opens.len(), 1, "the same message id twice is one open: {rows:?}");
    let open = opens[0];
    assert_eq!((open.channel.as_str(), open.medium.as_str(), open.campaign.as_str(), open.source.as_str()), ("Email", "email", "spring sale", "newsletter"));
    assert_eq!(open.properties["issue"], json!("12"));
    assert_eq!(open.customer, rows.iter().find(|r| r.name == "Order Completed").unwrap().customer, "the open joins the buyer");
    assert!(rows.iter().any(|r| r.name == "email_click" && r.channel == "Email"));
    let customer = app.store().customer(trailmap_model::CustomerId(open.customer)).unwrap();
    assert_eq!(customer.email.as_deref(), Some("ann@example.com"));
}

#[tokio::test]
async fn offline_touchpoints_join_customers_by_email_or_id() {
    let h = harness();
    // A web visitor who identified with an email, and a customer known by id only.
    let identify = json!({"anonymousId": "v1", "traits": {"email": "Kim@Example.com"}, "timestamp": "2026-02-01T10:00:00Z"});
    assert_eq!(outcome(&h.post("/v1/identify", &identify).await), OK);
    assert_eq!(outcome(&h.post("/v1/track", &json!({"userId": "pos-77", "event": "Signed Up", "timestamp": "2026-02-01T11:00:00Z"})).await), OK);
    for body in [
        json!({"email": "kim@example.com", "touchpoint": "phone", "timestamp": "2026-02-02T09:00:00Z", "properties": {"topic": "catering"}}),
        json!({"email": "KIM@example.com", "touchpoint": "visit", "timestamp": "2026-02-03T09:00:00Z", "messageId": "v-1"}),
        json!({"email": "KIM@example.com", "touchpoint": "visit", "timestamp": "2026-02-03T09:00:00Z", "messageId": "v-1"}),
        json!({"userId": "pos-77", "touchpoint": "till", "timestamp": "2026-02-04T09:00:00Z", "properties": {"revenue": "4.50"}}),
        json!({"userId": 88, "touchpoint": "Market Stall", "timestamp": "2026-02-05T09:00:00Z"}),
    ] {
        assert_eq!(outcome(&h.post("/v1/offline", &body).await), OK, "{body}");
    }
    for (body, code) in [
        (json!({"email": "kim@example.com"}), "invalid_input"),
        (json!({"touchpoint": "phone"}), "missing_identity"),
        (json!({"email": "kim@example.com", "touchpoint": "phone", "timestamp": "yesterday"}), "bad_timestamp"),
        (json!({"email": "kim@example.com", "touchpoint": "phone", "properties": [1]}), "invalid_input"),
        (json!({"email": 5, "touchpoint": "phone"}), "invalid_input"),
    ] {
        assert_eq!(outcome(&h.post("/v1/offline", &body).await), (StatusCode::BAD_REQUEST, Some(code)), "{body}");
    }
    let unauthorized = h.send("/v1/offline", &[], serde_json::to_vec(&json!({"email": "a@b.c", "touchpoint": "till"})).unwrap()).await;
    assert_eq!(outcome(&unauthorized), (StatusCode::UNAUTHORIZED, Some("invalid_write_key")));
    let (app, business) = h.finish();
    let rows = stored(&app, &business);
    let names: Vec<(&str, &str, &str)> = rows.iter().map(|r| (r.name.as_str(), r.channel.as_str(), r.medium.as_str())).collect();
    assert_eq!(
        names,
        [
            ("identify", "", ""),
            ("Signed Up", "", ""),
            ("call", "Phone", "phone"),
            ("store_visit", "In-store", "offline"),
            ("purchase", "In-store", "offline"),
            ("market stall", "In-store", "offline"),
        ]
    );
    assert_eq!(rows[2].customer, rows[0].customer, "the call joins the visitor who gave the email");
    assert_eq!(rows[3].customer, rows[0].customer);
    assert_eq!(rows[4].customer, rows[1].customer, "the till purchase joins the customer id");
    assert_eq!(rows[4].revenue_minor, 450);
    assert_eq!(rows[2].properties["topic"], json!("catering"));
    assert_eq!(rows[2].properties["touchpoint"], json!("phone"));
    assert_eq!(app.store().summary(business.id).unwrap().customers, 3);
}

/// A real server on 127.0.0.1:0 over `router`, for clients in other processes. Handlers see the
/// client's address, as the per-address limits of sign-in and the public survey need.
async fn listen(router: Router) -> (String, tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<std::io::Result<()>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let host = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
    let server = tokio::spawn(async move {
        axum::serve(listener, service)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await
    });
    (host, stop, server)
}

/// Serves `router` (see [`listen`]) while node runs the browser script `browser/{script}` with
/// `env`, BASE_URL and SCREENSHOT_DIR (that variable's folder, or `target/browser-screenshots`),
/// then stops the server. Asserts the script succeeded; returns its standard output and the
/// screenshot folder.
async fn run_browser_script(router: Router, script: &str, env: Vec<(&'static str, String)>) -> (String, std::path::PathBuf) {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let shots = std::env::var_os("SCREENSHOT_DIR").map(std::path::PathBuf::from).unwrap_or_else(|| repo.join("target/browser-screenshots"));
    let (base, stop, server) = listen(router).await;
    let (path, shots_for_node) = (repo.join("browser").join(script), shots.clone());
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node").arg(path).env("BASE_URL", &base).env("SCREENSHOT_DIR", &shots_for_node).envs(env).output().unwrap()
    })
    .await
    .unwrap();
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{script} failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    (stdout, shots)
}

/// Whether `node` runs and `browser/node_modules` holds `package`; when not, CI must fail (it
/// installs both, see .ci/run) and a developer's run says what is missing.
fn node_with(package: &str) -> Option<std::path::PathBuf> {
    let browser = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../browser");
    let ok = std::process::Command::new("node").arg("--version").output().is_ok_and(|o| o.status.success())
        && browser.join("node_modules").join(package).exists();
    if !ok {
        assert!(std::env::var_os("CI").is_none(), "CI must install node and `npm ci --prefix browser` (see .ci/run)");
        eprintln!("skipped: needs node and `npm ci --prefix browser` ({package})");
        return None;
    }
    Some(browser)
}

/// `browser/` when node, playwright-core, axe-core (every script's accessibility check) and
/// Chromium (/usr/bin/chromium, or CHROMIUM=path, as the scripts read it) are all there for a
/// browser test; None (the test is skipped) otherwise, which fails on CI, where .ci/run installs them.
fn playwright_chromium() -> Option<std::path::PathBuf> {
    node_with("axe-core")?;
    let browser = node_with("playwright-core")?;
    if !std::path::Path::new("/usr/bin/chromium").exists() && std::env::var_os("CHROMIUM").is_none() {
        assert!(std::env::var_os("CI").is_none(), "CI must install chromium (see .ci/run)");
        eprintln!("skipped: needs Chromium at /usr/bin/chromium (or CHROMIUM=path)");
        return None;
    }
    Some(browser)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_node_client_works_unchanged() {
    let Some(browser) = node_with("@segment/analytics-node") else { return };
    let h = harness();
    let (host, stop, server) = listen(h.router.clone()).await;
    let key = h.key.clone();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .arg(browser.join("segment-node.mjs"))
            .env("TRAILMAP_HOST", &host)
            .env("TRAILMAP_WRITE_KEY", &key)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(out.status.success(), "node client: {}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
    let (app, business) = h.finish();
    let rows = stored(&app, &business);
    let mut names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["Order Completed", "alias", "group", "identify", "page_view", "screen_view"]);
    assert!(rows.iter().all(|r| r.customer == rows[0].customer), "the anonymous page view, identify and the rest are one customer: {rows:?}");
    let page = rows.iter().find(|r| r.name == "page_view").unwrap();
    assert_eq!((page.channel.as_str(), page.campaign.as_str()), ("Email", "autumn"));
    let order = rows.iter().find(|r| r.name == "Order Completed").unwrap();
    assert_eq!(order.revenue_minor, 4250);
    let customer = app.store().customer(trailmap_model::CustomerId(rows[0].customer)).unwrap();
    assert_eq!(customer.email.as_deref(), Some("node@example.com"));
    assert_eq!(customer.external_id.as_deref(), Some("node-user"));
    assert_eq!(customer.name.as_deref(), Some("Node Client"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_snippet_in_a_browser_records_utm_tags_the_referral_code_and_joins_the_visitor_on_identify() {
    let Some(browser) = playwright_chromium() else { return };
    let h = harness();
    let (host, stop, server) = listen(h.router.clone()).await;
    let key = h.key.clone();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .arg(browser.join("snippet.mjs"))
            .env("TRAILMAP_HOST", &host)
            .env("TRAILMAP_WRITE_KEY", &key)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(out.status.success(), "snippet in chromium: {}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
    let (app, business) = h.finish();
    let all = stored(&app, &business);
    // The consent-mode visitor: their page view and track, sent only after consent(true), with
    // the referral code remembered from the landing address; the visitor who refused left nothing.
    let consented: Vec<&_> = all.iter().filter(|r| r.page == "/menu" || r.name == "Viewed Menu").collect();
    assert_eq!(consented.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["page_view", "Viewed Menu"], "{all:?}");
    assert_eq!(consented[0].properties["referral_code"], json!("BEN-7"));
    assert_eq!((consented[0].source.as_str(), consented[0].channel.as_str()), ("newsletter", "Email"));
    assert_eq!(consented[0].customer, consented[1].customer);
    assert!(!all.iter().any(|r| r.name.starts_with("Never Sent")), "{all:?}");
    let rows: Vec<_> = all.iter().filter(|r| r.customer != consented[0].customer).cloned().collect();
    // identify and track come in the same millisecond; the order between them is not the point.
    let mut names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
    names[2..].sort_unstable();
    assert_eq!(names, ["page_view", "page_view", "Signed Up", "identify"], "{rows:?}");
    let landing = &rows[0];
    assert_eq!(
        (landing.source.as_str(), landing.medium.as_str(), landing.campaign.as_str(), landing.channel.as_str()),
        ("instagram", "paid_social", "spring", "Paid Social")
    );
    assert_eq!(landing.page, "/landing");
    assert_eq!(landing.properties["referral_code"], json!("ANNA-12"));
    assert_eq!(landing.properties["title"], json!("Spring coffee"));
    assert_eq!(landing.properties["device"], json!("desktop"));
    // The second page keeps the code (the snippet remembers it) and is an internal visit.
    assert_eq!(rows[1].page, "/signup");
    assert_eq!(rows[1].properties["referral_code"], json!("ANNA-12"));
    let signed_up = rows.iter().find(|r| r.name == "Signed Up").unwrap();
    assert_eq!(signed_up.properties["plan"], json!("weekly beans"));
    // One customer: the anonymous page views joined the email given at sign-up.
    assert!(rows.iter().all(|r| r.customer == landing.customer), "{rows:?}");
    assert_eq!(app.store().summary(business.id).unwrap().customers, 2, "Kim and the consenting visitor");
    let customer = app.store().customer(trailmap_model::CustomerId(landing.customer)).unwrap();
    assert_eq!(customer.email.as_deref(), Some("kim@example.com"));
    assert_eq!(customer.name.as_deref(), Some("Kim Park"));
    assert!(report["anonymousId"].as_str().is_some_and(|a| a.len() >= 32), "{report}");
}

// ---------------------------------------------------------------------------------------------
// The analysis pages, their exports and their JSON routes, on the demo data: Ann owns both demo
// businesses; Val is a viewer of the boutique; Oz owns only a business of his own.

struct Analysed {
    router: Router,
    tracker: Writer,
    writer: std::thread::JoinHandle<App>,
    owner: Actor,
    viewer: Actor,
    outsider: Actor,
    shop: Business,
    cafe: Business,
    state: ServerState,
}

fn analysed() -> Analysed {
    let mut app = App::in_memory().unwrap();
    app.demo(&trailmap_app::DemoOptions { customers: 600, seed: 5 }).unwrap();
    let now = Timestamp::from_millis(wall_clock());
    let owner = actor(&mut app, "ann@example.com", "Ann Analyst", now);
    let viewer = actor(&mut app, "val@example.com", "Val Viewer", now);
    let outsider = actor(&mut app, "oz@example.com", "Oz Outsider", now);
    let businesses = app.businesses().unwrap();
    let find = |name: &str| businesses.iter().find(|b| b.name == name).unwrap().clone();
    let (cafe, shop) = (find("Bean There Coffee"), find("Thread & Needle"));
    app.set_member(shop.id, owner.user.id, Role::Owner).unwrap();
    app.set_member(cafe.id, owner.user.id, Role::Owner).unwrap();
    app.set_member(shop.id, viewer.user.id, Role::Viewer).unwrap();
    app.create_business_owned(outsider.user.id, "Oz Goods", "USD", "UTC").unwrap();
    let (tracker, writer) = Writer::start(app);
    // Answers lag at most an hour here, so whether one is served while it is refreshed does not
    // depend on how fast the test runs.
    let state = ServerState::new(tracker.clone(), ":memory:".into()).with_recent_enough(std::time::Duration::from_secs(3600));
    let router = router(state.clone());
    Analysed { router, tracker, writer, owner, viewer, outsider, shop, cafe, state }
}

impl Analysed {
    fn finish(self) -> App {
        drop(self.router);
        drop(self.tracker);
        // The state holds the writer too; the writer thread ends when the last handle goes.
        drop(self.state);
        self.writer.join().unwrap()
    }
}

const ANALYSES: [(&str, &str); 5] =
    [("funnel", "Funnel"), ("flows", "Flows"), ("attribution", "Attribution"), ("retention", "Retention"), ("clv", "Customer value")];

#[tokio::test]
async fn analysis_pages_draw_their_chart_and_table_and_export_svg_png_and_csv() {
    let w = analysed();
    let index = page(&w.router, Some(&w.viewer), "GET", &format!("/b/{}/analysis/", w.shop.id), &[]).await;
    assert_eq!(index.status, StatusCode::OK);
    for (slug, title) in ANALYSES {
        assert!(index.text.contains(&format!("href=\"/b/{}/analysis/{slug}\"", w.shop.id)), "index lacks {slug}");
        for business in [&w.shop, &w.cafe] {
            let base = format!("/b/{}/analysis/{slug}", business.id);
            let reply = page(&w.router, Some(&w.owner), "GET", &base, &[]).await;
            assert_eq!(reply.status, StatusCode::OK, "{base}: {}", reply.text);
            assert!(reply.text.contains(&format!("<h1>{title}</h1>")), "{base}");
            assert!(reply.text.contains("<svg"), "{base}");
            assert!(reply.text.contains("data-testid=\"analysis-table\""), "{base}");
            // The page's answer is a sentence with the count it rests on ("of the 3,227 customers").
            let answer = reply.text.split("data-testid=\"analysis-summary\">").nth(1).and_then(|r| r.split("</p>").next()).unwrap_or_default();
            assert!(answer.chars().any(|c| c.is_ascii_digit()), "{base}: every page states its n: {answer}");
            assert!(reply.text.contains(&format!("{base}?format=png")), "{base}: export links");
            // Numbers open the customers behind them, by id.
            // (The funnel's counts open a paged list of their customers instead of a list of ids.)
            let behind = if slug == "funnel" { format!("/b/{}/analysis/funnel/customers?", business.id) } else { format!("/b/{}/customers?ids=", business.id) };
            assert!(reply.text.contains(&behind), "{base}");
            let svg = call(&w.router, "GET", &format!("{base}?format=svg"), &[session_cookie(&w.owner.token)], vec![]).await;
            assert_eq!(svg.headers["content-type"], "image/svg+xml", "{base}");
            assert!(svg.text.starts_with("<svg"), "{base}");
            assert!(svg.headers["content-disposition"].to_str().unwrap().starts_with("attachment; filename=\""), "{base}");
            let csv = call(&w.router, "GET", &format!("{base}?format=csv"), &[session_cookie(&w.owner.token)], vec![]).await;
            assert!(csv.headers["content-type"].to_str().unwrap().starts_with("text/csv"), "{base}");
            assert!(csv.headers["content-disposition"].to_str().unwrap().contains(&format!("{slug}-{}.csv", business.id)), "{base}");
            assert!(csv.text.lines().count() > 1, "{base}: {}", csv.text);
        }
    }
    let csv = call(&w.router, "GET", &format!("/b/{}/analysis/funnel?format=csv", w.shop.id), &[session_cookie(&w.owner.token)], vec![]).await;
    assert_eq!(csv.text.lines().next(), Some("breakdown,n entered,step,customers,of step 1,of previous,dropped,median time"));
    assert!(csv.text.lines().nth(1).unwrap().starts_with("All customers,"), "{}", csv.text);
    // The PNG, drawn at twice the size; kept in /tmp to look at.
    let url = format!("/b/{}/analysis/funnel?format=png", w.shop.id);
    let request = Request::builder().uri(&url).header("cookie", format!("trailmap_session={}", w.owner.token)).body(Body::empty()).unwrap();
    let response = w.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.headers()["content-type"], "image/png");
    let png = axum::body::to_bytes(response.into_body(), 1 << 24).await.unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
    std::fs::write(std::env::temp_dir().join("trailmap-analysis-funnel.png"), &png).unwrap();
    let request = Request::builder()
        .uri(format!("/b/{}/analysis/flows?format=png", w.shop.id))
        .header("cookie", format!("trailmap_session={}", w.owner.token))
        .body(Body::empty())
        .unwrap();
    let png = axum::body::to_bytes(w.router.clone().oneshot(request).await.unwrap().into_body(), 1 << 24).await.unwrap();
    assert!(png.starts_with(b"\x89PNG"));
    std::fs::write(std::env::temp_dir().join("trailmap-analysis-flows.png"), &png).unwrap();
    // The form keeps what was asked: a breakdown adds one block of rows per value.
    let reply = page(&w.router, Some(&w.owner), "GET", &format!("/b/{}/analysis/funnel?steps=product_view,purchase&breakdown=first-channel", w.shop.id), &[]).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.text.contains("value=\"product_view,purchase\""));
    std::fs::write(std::env::temp_dir().join("trailmap-analysis-funnel.html"), &reply.text).unwrap();
    assert!(reply.text.contains("<td>Paid Social</td>") || reply.text.contains("<td>Organic Search</td>"), "breakdown rows");
}

#[tokio::test]
async fn analysis_json_answers_the_apps_numbers() {
    let w = analysed();
    let get = |path: String| {
        let router = w.router.clone();
        let owner = w.owner.clone();
        async move {
            let reply = api(&router, Some(&owner), "GET", &path, None).await;
            assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.text);
            reply.json()
        }
    };
    let shop = w.shop.id;
    let funnel = get(format!("/api/businesses/{shop}/analysis/funnel")).await;
    let narrow = get(format!("/api/businesses/{shop}/analysis/funnel?steps=add_to_cart,purchase&window=3d&mode=strict")).await;
    let flows = get(format!("/api/businesses/{shop}/analysis/flows?top=10")).await;
    let attribution = get(format!("/api/businesses/{shop}/analysis/attribution?model=markov&lookback=14d")).await;
    let retention = get(format!("/api/businesses/{}/analysis/retention?period=week", w.cafe.id)).await;
    let clv = get(format!("/api/businesses/{shop}/analysis/clv")).await;
    assert_eq!((funnel["business_id"].as_i64(), funnel["analysis"].as_str()), (Some(shop.0), Some("funnel")));
    let (shop_business, cafe_business) = (w.shop.clone(), w.cafe.clone());
    let app = w.finish();

    let steps: Vec<String> = ["page_view", "product_view", "add_to_cart", "checkout_started", "purchase"].map(String::from).to_vec();
    let direct = app.funnel(&shop_business, &App::funnel_request(steps.clone())).unwrap();
    assert_eq!(funnel["report"]["steps"], json!(steps));
    let overall = &funnel["report"]["report"]["overall"];
    assert_eq!(overall["entered"].as_u64(), Some(direct.report.overall.entered as u64));
    assert!(direct.report.overall.entered > 100, "the demo shop has visitors");
    for (k, step) in direct.report.overall.steps.iter().enumerate() {
        assert_eq!(overall["steps"][k]["reached"].as_u64(), Some(step.reached as u64), "step {k}");
        assert!(overall["steps"][k].get("customers").is_none(), "step {k}: no ids unless asked");
    }
    assert_eq!(funnel["report"]["customers"], Value::Null);
    assert!(funnel["report"]["report"].get("outcomes").is_none(), "per-customer outcomes are left out");

    let mut request = App::funnel_request(vec!["add_to_cart".into(), "purchase".into()]);
    request.window_ms = 3 * Timestamp::MS_PER_DAY;
    request.mode = "strict".parse().unwrap();
    let direct = app.funnel(&shop_business, &request).unwrap();
    assert_eq!(narrow["report"]["report"]["window_ms"].as_i64(), Some(3 * Timestamp::MS_PER_DAY));
    assert_eq!(narrow["report"]["report"]["overall"]["steps"][1]["reached"].as_u64(), direct.report.overall.steps.get(1).map(|s| s.reached as u64));

    let mut options = App::paths_options();
    options.top_edges = 10;
    options.max_steps = 6;
    let direct = app.paths(&shop_business, &options).unwrap();
    assert_eq!(flows["report"]["paths"].as_u64(), Some(direct.paths as u64));
    assert_eq!(flows["report"]["edges"].as_array().unwrap().len(), direct.edges.len());
    assert_eq!(flows["report"]["edges"][0]["paths"].as_u64(), direct.edges.first().map(|e| e.paths as u64));

    let mut request = App::attribution_request();
    request.model = "markov".into();
    request.lookback = "14d".into();
    let direct = app.attribution(&shop_business, &request).unwrap();
    let a = &attribution["report"]["attribution"];
    assert_eq!(a["conversions"].as_u64(), Some(direct.attribution.conversions));
    assert_eq!(a["models"].as_array().unwrap().len(), 1);
    for (k, credit) in direct.attribution.models[0].credits.iter().enumerate() {
        assert_eq!(a["models"][0]["credits"][k]["channel"].as_str(), Some(credit.channel.as_str()));
        assert!((a["models"][0]["credits"][k]["conversions"].as_f64().unwrap() - credit.conversions).abs() < 1e-9);
        assert_eq!(a["models"][0]["credits"][k]["customers"].as_u64(), Some(credit.customers), "n of {}", credit.channel);
    }

    let direct = app.retention(&cafe_business, "week".parse().unwrap()).unwrap();
    assert_eq!(retention["report"]["purchasers"].as_u64(), Some(direct.purchasers as u64));
    assert_eq!(retention["report"]["cohorts"].as_array().unwrap().len(), direct.cohorts.len());
    assert_eq!(retention["report"]["cohorts"][0]["n"].as_u64(), direct.cohorts.first().map(|c| c.customers.len() as u64));

    let direct = app.clv(&shop_business, &app.clv_request()).unwrap();
    assert_eq!(clv["report"]["customers"].as_u64(), Some(direct.customers.len() as u64));
    for (k, group) in direct.groups.iter().enumerate() {
        assert_eq!(clv["report"]["groups"][k]["group"].as_str(), Some(group.group.as_str()));
        assert_eq!(clv["report"]["groups"][k]["customers"].as_u64(), Some(group.customers as u64));
        assert!((clv["report"]["groups"][k]["historical"]["mean"].as_f64().unwrap() - group.historical.mean).abs() < 1e-9);
    }
}

#[tokio::test]
async fn analysis_bad_parameters_are_400s_naming_them_and_other_businesses_are_404s() {
    let w = analysed();
    let shop = w.shop.id;
    let cases = [
        ("funnel?window=soon", "window:"),
        ("funnel?window=0d", "window:"),
        ("funnel?mode=sideways", "mode:"),
        ("funnel?steps=,", "steps:"),
        ("funnel?steps=page_view,no_such_event", "step 2"),
        ("funnel?breakdown=colour", "breakdown"),
        ("funnel?customers_at=0", "customers_at:"),
        ("funnel?customers_at=9", "customers_at:"),
        ("funnel?customers_at=1&customers_who=dropped", "customers_who:"),
        ("funnel?customers_at=2&customers_who=left", "customers_who:"),
        ("funnel?customers_at=2&customers_group=Email", "customers_group:"),
        ("funnel?customers_at=2&limit=0", "limit:"),
        ("funnel?customers_at=2&offset=-1", "offset:"),
        ("funnel?limit=5", "limit:"),
        ("flows?by=mood", "by:"),
        ("flows?top=0", "top:"),
        ("flows?from=a&to=b", "to:"),
        ("attribution?model=magic", "model:"),
        ("attribution?lookback=forever", "lookback:"),
        ("retention?period=year", "period:"),
        ("clv?by=star_sign", "by:"),
        ("clv?horizon=-1", "horizon:"),
    ];
    for (query, names) in cases {
        let reply = api(&w.router, Some(&w.owner), "GET", &format!("/api/businesses/{shop}/analysis/{query}"), None).await;
        assert_eq!((reply.status, reply.code().as_str()), (StatusCode::BAD_REQUEST, "invalid_input"), "{query}: {}", reply.text);
        let message = reply.json()["error"]["message"].as_str().unwrap().to_string();
        assert!(message.contains(names), "{query}: {message}");
        // The page shows the form again with the error, with the same status and code.
        let reply = page(&w.router, Some(&w.owner), "GET", &format!("/b/{shop}/analysis/{query}"), &[]).await;
        assert_eq!((reply.status, reply.code().as_str()), (StatusCode::BAD_REQUEST, "invalid_input"), "page {query}");
        assert!(reply.text.contains("<form method=\"get\""), "page {query}");
    }
    let reply = page(&w.router, Some(&w.owner), "GET", &format!("/b/{shop}/analysis/funnel?format=gif"), &[]).await;
    assert_eq!((reply.status, reply.code().as_str()), (StatusCode::BAD_REQUEST, "invalid_input"));
    for (slug, _) in ANALYSES {
        // Oz belongs to another business: the shop does not exist for him, page, export or API.
        for path in [format!("/b/{shop}/analysis/{slug}"), format!("/b/{shop}/analysis/{slug}?format=csv")] {
            let reply = page(&w.router, Some(&w.outsider), "GET", &path, &[]).await;
            assert_eq!((reply.status, reply.code().as_str()), (StatusCode::NOT_FOUND, "not_found"), "{path}");
        }
        let path = format!("/api/businesses/{shop}/analysis/{slug}");
        let reply = api(&w.router, Some(&w.outsider), "GET", &path, None).await;
        assert_eq!((reply.status, reply.code().as_str()), (StatusCode::NOT_FOUND, "not_found"), "{path}");
        // A viewer reads.
        assert_eq!(api(&w.router, Some(&w.viewer), "GET", &path, None).await.status, StatusCode::OK, "{path}");
        // The café is not Val's business.
        let path = format!("/api/businesses/{}/analysis/{slug}", w.cafe.id);
        assert_eq!(api(&w.router, Some(&w.viewer), "GET", &path, None).await.status, StatusCode::NOT_FOUND, "{path}");
    }
    w.finish();
}

/// The dashboard as JSON and CSV equals the app's answer; a second request is served from the
/// cache; after a write the earlier answer is served with its age while one refresh runs, and
/// then the refreshed one; the customers behind a number and a customer's timeline come as JSON
/// too.
#[tokio::test]
async fn the_dashboard_api_and_csv_equal_the_app_and_the_cache_follows_writes() {
    let w = analysed();
    let shop = w.shop.clone();
    let (from, to) = ("2026-10-03", "2026-11-01");
    let url = format!("/api/businesses/{}/dashboard?from={from}&to={to}", shop.id);
    let first = api(&w.router, Some(&w.owner), "GET", &url, None).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let period = trailmap_app::DayRange::new(from.parse().unwrap(), to.parse().unwrap()).unwrap();
    let b = shop.clone();
    let expected = w.tracker.run(move |app| app.dashboard(&b, period).unwrap()).await.unwrap();
    // Both sides go through JSON text, since parsing a float's shortest form may differ from the
    // float in the last bit.
    let expected_json: Value = serde_json::from_str(&serde_json::to_string(&expected).unwrap()).unwrap();
    let difference = first_difference(&first.json()["dashboard"], &expected_json, "dashboard");
    assert_eq!(difference, None);
    let new_customers = expected.report.metric("new_customers").unwrap().clone();
    assert!(new_customers.current.n > 5, "the demo shop has new customers in October");

    let (hits, _) = w.state.cache_counts();
    let again = api(&w.router, Some(&w.owner), "GET", &url, None).await;
    assert_eq!(again.json(), first.json());
    assert_eq!(w.state.cache_counts().0, hits + 1, "the second request is a cache hit");

    // CSV: a header, then per metric the period, the previous period and each bucket, with n.
    let csv = page(&w.router, Some(&w.owner), "GET", &format!("/b/{}/dashboard.csv?from={from}&to={to}", shop.id), &[]).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.headers["content-type"].to_str().unwrap().starts_with("text/csv"));
    let lines: Vec<&str> = csv.text.lines().collect();
    assert_eq!(lines[0], "metric,label,unit,span,from,to,value,n");
    assert_eq!(lines.len(), 1 + expected.report.metrics.len() * (2 + expected.buckets.len()));
    let line = format!("new_customers,New customers,count,period,{from},{to},{},{}", new_customers.current.value.unwrap(), new_customers.current.n);
    assert!(lines.contains(&line.as_str()), "{line} in\n{}", csv.text);

    // The customers behind the number, and one of them as a timeline.
    let listed = api(&w.router, Some(&w.owner), "GET", &format!("/api/businesses/{}/customers?metric=new_customers&from={from}&to={to}", shop.id), None).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    assert_eq!(listed.json()["total"].as_u64(), Some(new_customers.customers.len() as u64));
    let first_id = listed.json()["customers"][0]["id"].as_i64().unwrap();
    assert_eq!(first_id, new_customers.customers[0].0);
    let timeline_url = format!("/api/businesses/{}/customers/{first_id}", shop.id);
    let timeline = api(&w.router, Some(&w.owner), "GET", &timeline_url, None).await;
    assert_eq!(timeline.status, StatusCode::OK, "{}", timeline.text);
    // The access rules of the timeline route: no session 401, another business's user 404, a
    // viewer reads.
    assert_eq!(api(&w.router, None, "GET", &timeline_url, None).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(api(&w.router, Some(&w.outsider), "GET", &timeline_url, None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(api(&w.router, Some(&w.viewer), "GET", &timeline_url, None).await.status, StatusCode::OK);
    assert!(!timeline.json()["timeline"]["entries"].as_array().unwrap().is_empty());
    // The coffee shop's customers are not the boutique's.
    let b = w.cafe.clone();
    let cafe_customer = w.tracker.run(move |app| app.store().customers(b.id, 1, 0).unwrap()[0].id).await.unwrap();
    let foreign = api(&w.router, Some(&w.owner), "GET", &format!("/api/businesses/{}/customers/{}", shop.id, cafe_customer), None).await;
    assert_eq!((foreign.status, foreign.code().as_str()), (StatusCode::NOT_FOUND, "not_found"));

    // A new visitor in the period, through the tracking API: the next answer counts them.
    let key = generate_write_key();
    let (b, hash) = (shop.clone(), hash_write_key(&key));
    w.tracker.run(move |app| app.create_write_key(&b, "site", &hash).unwrap()).await.unwrap();
    let event = json!({"userId": "brand-new-shopper", "event": "page_view", "timestamp": "2026-10-20T10:00:00Z"});
    let tracked = call(&w.router, "POST", "/v1/track", &[("content-type", "application/json".into()), ("authorization", basic(&key))], serde_json::to_vec(&event).unwrap()).await;
    assert_eq!(tracked.status, StatusCode::OK, "{}", tracked.text);
    // The next answer is the one counted before the write, at once, saying how old it is (the
    // `Age` header), while one refresh counts again in the background; once it is done, the
    // answer counts the new visitor and has no age.
    let during = api(&w.router, Some(&w.owner), "GET", &url, None).await;
    assert_eq!(during.json(), first.json());
    assert!(during.headers.contains_key("age"), "{:?}", during.headers);
    let metric = |reply: &Reply| {
        reply.json()["dashboard"]["report"]["metrics"].as_array().unwrap().iter().find(|m| m["key"] == "new_customers").unwrap()["current"]["value"].as_f64().unwrap()
    };
    // A caller that asks for the current data (`Cache-Control: no-cache`) waits for it.
    let owner_headers = [session_cookie(&w.owner.token), ("cache-control", "no-cache".to_string())];
    let current = call(&w.router, "GET", &url, &owner_headers, vec![]).await;
    assert!(!current.headers.contains_key("age"), "{:?}", current.headers);
    assert_eq!(metric(&current), metric(&first) + 1.0, "the current data counts the write");
    // Asked again while the refresh may or may not have finished: an answer with an age is the
    // earlier one, an answer without counts the write; never an unmarked earlier answer.
    let again_during = api(&w.router, Some(&w.owner), "GET", &url, None).await;
    if again_during.headers.contains_key("age") {
        assert_eq!(again_during.json(), first.json());
    } else {
        assert_eq!(metric(&again_during), metric(&first) + 1.0);
    }
    w.state.refreshed().await;
    let after = api(&w.router, Some(&w.owner), "GET", &url, None).await;
    assert!(!after.headers.contains_key("age"), "{:?}", after.headers);
    assert_eq!(metric(&after), metric(&first) + 1.0, "the refreshed answer counts the write");
    // The page says the same: an answer counted before a write says when it was counted.
    let dashboard_page = format!("/b/{}/?from={from}&to={to}", shop.id);
    assert!(!page(&w.router, Some(&w.owner), "GET", &dashboard_page, &[]).await.text.contains("data-testid=\"counted-ago\""));
    let event = json!({"userId": "another-new-shopper", "event": "page_view", "timestamp": "2026-10-21T10:00:00Z"});
    let tracked = call(&w.router, "POST", "/v1/track", &[("content-type", "application/json".into()), ("authorization", basic(&key))], serde_json::to_vec(&event).unwrap()).await;
    assert_eq!(tracked.status, StatusCode::OK, "{}", tracked.text);
    let lagging = page(&w.router, Some(&w.owner), "GET", &dashboard_page, &[]).await;
    assert!(lagging.text.contains("data-testid=\"counted-ago\""), "{}", lagging.text);
    w.state.refreshed().await;
    w.finish();
}

/// Dates in the query are checked: a wrong date, one date without the other, or an end before
/// the start is a 400 `invalid_input` naming the field, on the page and in the API alike.
#[tokio::test]
async fn bad_period_dates_are_400s_that_name_the_field() {
    let w = analysed();
    let id = w.shop.id;
    let cases = [
        ("from=2026-13-01&to=2026-11-01", "from:"),
        ("from=2026-10-01&to=yesterday", "to:"),
        ("from=2026-10-01", "from and to"),
        ("to=2026-10-01", "from and to"),
    ];
    for (query, names) in cases {
        for path in [format!("/api/businesses/{id}/dashboard?{query}"), format!("/api/businesses/{id}/customers?metric=revenue&{query}")] {
            let reply = api(&w.router, Some(&w.owner), "GET", &path, None).await;
            assert_eq!((reply.status, reply.code().as_str()), (StatusCode::BAD_REQUEST, "invalid_input"), "{path}: {}", reply.text);
            let message = reply.json()["error"]["message"].as_str().unwrap().to_string();
            assert!(message.starts_with(names), "{path}: {message}");
        }
        for path in [format!("/b/{id}/?{query}"), format!("/b/{id}/dashboard.csv?{query}")] {
            let reply = page(&w.router, Some(&w.owner), "GET", &path, &[]).await;
            assert_eq!((reply.status, reply.code().as_str()), (StatusCode::BAD_REQUEST, "invalid_input"), "{path}");
        }
    }
    let reversed = api(&w.router, Some(&w.owner), "GET", &format!("/api/businesses/{id}/dashboard?from=2026-11-01&to=2026-10-01"), None).await;
    assert_eq!((reversed.status, reversed.code().as_str()), (StatusCode::BAD_REQUEST, "invalid_input"), "{}", reversed.text);
    let metric = api(&w.router, Some(&w.owner), "GET", &format!("/api/businesses/{id}/customers?metric=happiness"), None).await;
    assert_eq!((metric.status, metric.code().as_str()), (StatusCode::BAD_REQUEST, "invalid_input"));
    assert!(metric.json()["error"]["message"].as_str().unwrap().starts_with("metric:"));
    w.finish();
}

/// The path of the first place two JSON values differ, with both sides, or None when equal: a
/// readable failure for answers too large to print whole.
fn first_difference(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            keys.into_iter().find_map(|k| first_difference(x.get(k).unwrap_or(&Value::Null), y.get(k).unwrap_or(&Value::Null), &format!("{path}.{k}")))
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            x.iter().zip(y).enumerate().find_map(|(i, (p, q))| first_difference(p, q, &format!("{path}[{i}]")))
        }
        _ if a == b => None,
        _ => Some(format!("{path}: {} against {}", a.to_string().chars().take(300).collect::<String>(), b.to_string().chars().take(300).collect::<String>())),
    }
}

// ---------------------------------------------------------------------------------------------
// Journey maps in the web app and the API: the access matrix of every map route, the JSON round
// trip, edits and versions, the no-script forms, share links (password, expiry, revocation) and
// the editor in headless Chromium.

/// A map document as small as the import takes: one stage, no cards.
const MINIMAL_MAP_DOCUMENT: &str = r#"{"format":"trailmap-journey-map","version":1,"name":"Imported","kind":"as_is","owner":null,"review_date":null,"personas":[],"stages":[{"id":1,"name":"Awareness"}]}"#;

/// Every route of one map: (page or api, method, path with {b} business, {m} map, {h} and {h2}
/// share link hashes, body, changes something).
const MAP_ROUTES: &[(&str, &str, &str, &str, bool)] = &[
    ("page", "GET", "/b/{b}/maps/{m}", "", false),
    ("page", "GET", "/b/{b}/maps/{m}?from=2025-11-01&to=2026-10-31", "", false),
    ("page", "GET", "/b/{b}/maps/{m}/versions", "", false),
    ("page", "GET", "/b/{b}/maps/{m}/compare", "", false),
    ("page", "GET", "/b/{b}/maps/{m}/export?format=svg", "", false),
    ("page", "GET", "/b/{b}/maps/{m}/share", "", false),
    ("page", "POST", "/b/{b}/maps/{m}/edit", "op=add_card&stage=1&lane=goals&text=From+a+form", true),
    ("page", "POST", "/b/{b}/maps/{m}/to-be", "", true),
    ("page", "POST", "/b/{b}/maps/{m}/share", "password=&expires=", true),
    ("page", "POST", "/b/{b}/maps/{m}/share/{h}/revoke", "", true),
    ("api", "GET", "/api/businesses/{b}/maps/{m}", "", false),
    ("api", "POST", "/api/businesses/{b}/maps/{m}/edits", r#"{"op":"rename","name":"Renamed map"}"#, true),
    ("api", "GET", "/api/businesses/{b}/maps/{m}/versions", "", false),
    ("api", "GET", "/api/businesses/{b}/maps/{m}/diff", "", false),
    ("api", "GET", "/api/businesses/{b}/maps/{m}/export?format=json", "", false),
    ("api", "POST", "/api/businesses/{b}/maps/{m}/to-be", "", true),
    ("api", "GET", "/api/businesses/{b}/maps/{m}/share-links", "", false),
    ("api", "POST", "/api/businesses/{b}/maps/{m}/share-links", "{}", true),
    ("api", "DELETE", "/api/businesses/{b}/maps/{m}/share-links/{h2}", "", true),
    ("api", "GET", "/api/businesses/{b}/maps/{m}/numbers", "", false),
    ("api", "GET", "/api/businesses/{b}/maps/{m}/evidence", "", false),
    ("page", "POST", "/b/{b}/maps/{m}/edit", "op=rename_stage&stage=2&name=Looking+around", true),
    ("api", "GET", "/api/businesses/{b}/maps/{m}/quotes?stage=1&q=coffee", "", false),
    // Comments: {c} is a card, {n} and {n2} comments the owner wrote on it. Viewers comment
    // (so posting one is not a write they are refused), but edit and delete only their own.
    ("api", "GET", "/api/businesses/{b}/maps/{m}/comments", "", false),
    ("api", "GET", "/api/businesses/{b}/maps/{m}/cards/{c}/comments", "", false),
    ("api", "POST", "/api/businesses/{b}/maps/{m}/cards/{c}/comments", r#"{"text":"Is this still true?"}"#, false),
    ("page", "POST", "/b/{b}/maps/{m}/cards/{c}/comments", "text=From+a+form", false),
    ("api", "PATCH", "/api/businesses/{b}/maps/{m}/cards/{c}/comments/{n}", r#"{"text":"Checked: it is"}"#, true),
    ("page", "POST", "/b/{b}/maps/{m}/cards/{c}/comments/{n2}/edit", "text=Edited+in+a+form", true),
    ("page", "POST", "/b/{b}/maps/{m}/cards/{c}/comments/{n2}/delete", "", true),
    ("api", "DELETE", "/api/businesses/{b}/maps/{m}/cards/{c}/comments/{n}", "", true),
];

/// The map API routes as the OpenAPI document names them.
fn map_api_routes() -> Vec<(String, String)> {
    let mut routes: Vec<(String, String)> = MAP_ROUTES
        .iter()
        .filter(|r| r.0 == "api")
        .map(|&(_, method, path, _, _)| {
            let path = path.split('?').next().unwrap();
            let path = path.replace("{b}", "{business_id}").replace("{m}", "{map_id}").replace("{h2}", "{link}");
            (method.to_string(), path.replace("{c}", "{card_id}").replace("{n}", "{comment_id}"))
        })
        .collect();
    routes.sort();
    routes.dedup();
    routes
}

/// Creates a map by the API as `who` and answers its id.
async fn new_map(router: &Router, who: &Actor, business: trailmap_model::BusinessId, template: &str) -> i64 {
    let reply = api(router, Some(who), "POST", &format!("/api/businesses/{business}/maps"), Some(json!({"name": "Journey", "template": template}))).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    reply.json()["id"].as_i64().unwrap()
}

/// Makes a share link by the API and answers (token, its hash).
async fn new_link(router: &Router, who: &Actor, business: trailmap_model::BusinessId, map: i64, body: Value) -> (String, String) {
    let reply = api(router, Some(who), "POST", &format!("/api/businesses/{business}/maps/{map}/share-links"), Some(body)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let token = reply.json()["token"].as_str().unwrap().to_string();
    use sha2::Digest;
    let hash = sha2::Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    (token, hash)
}

#[tokio::test]
async fn every_map_route_hides_other_businesses_and_refuses_writes_to_viewers() {
    let w = world();
    let map = new_map(&w.router, &w.owner, w.bean.id, "coffee-shop").await;
    let (_, h) = new_link(&w.router, &w.owner, w.bean.id, map, json!({})).await;
    let (_, h2) = new_link(&w.router, &w.owner, w.bean.id, map, json!({"password": "long enough"})).await;
    let card = comments::first_card(&w.router, &w.owner, w.bean.id, map).await;
    let (n, n2) = (comments::new_comment(&w, &w.owner, map, card).await, comments::new_comment(&w, &w.owner, map, card).await);
    let fill = |path: &str, b: i64| {
        let path = path.replace("{b}", &b.to_string()).replace("{m}", &map.to_string()).replace("{h2}", &h2).replace("{h}", &h);
        path.replace("{c}", &card.to_string()).replace("{n2}", &n2.to_string()).replace("{n}", &n.to_string())
    };
    for &(kind, method, template, body, writes) in MAP_ROUTES {
        let path = fill(template, w.bean.id.0);
        let label = format!("{method} {path}");
        let nobody = ask(&w, Asker::Nobody, kind, method, &path, body).await;
        if kind == "api" {
            assert_eq!((nobody.status, nobody.code().as_str()), (StatusCode::UNAUTHORIZED, "unauthenticated"), "{label}");
        } else {
            assert_eq!(nobody.status, StatusCode::SEE_OTHER, "{label}");
            assert!(nobody.location().starts_with("/login?next="), "{label}");
        }
        let outsider = ask(&w, Asker::Outsider, kind, method, &path, body).await;
        assert_eq!((outsider.status, outsider.code().as_str()), (StatusCode::NOT_FOUND, "not_found"), "{label}");
        let missing = ask(&w, Asker::Owner, kind, method, &fill(template, 999_999), body).await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND, "{label}");
        // The map under another business of the same owner does not exist there.
        let elsewhere = ask(&w, Asker::Owner, kind, method, &fill(template, w.thread.id.0), body).await;
        assert_eq!((elsewhere.status, elsewhere.code().as_str()), (StatusCode::NOT_FOUND, "not_found"), "{label} under Thread Shop: {}", elsewhere.text);
        let viewer = ask(&w, Asker::Viewer, kind, method, &path, body).await;
        if writes {
            assert_eq!((viewer.status, viewer.code().as_str()), (StatusCode::FORBIDDEN, "forbidden"), "{label}");
        } else if method != "GET" {
            // A comment: created (201), or a form's 303 back to the map.
            assert!(viewer.status == StatusCode::CREATED || viewer.status == StatusCode::SEE_OTHER, "{label}: {} {}", viewer.status, viewer.text);
        } else {
            assert_eq!(viewer.status, StatusCode::OK, "{label}: {}", viewer.text);
            if kind == "page" && method == "GET" && !path.contains("export") {
                // Viewers see no edit control at all.
                assert!(!viewer.text.contains("data-edit"), "{label} shows edit forms to a viewer");
                assert!(!viewer.text.contains("data-csrf="), "{label} gives a viewer the script's token");
            }
        }
    }
    for &(kind, method, template, body, _) in MAP_ROUTES {
        let path = fill(template, w.bean.id.0);
        let reply = ask(&w, Asker::Owner, kind, method, &path, body).await;
        assert!(reply.status.is_success() || reply.status == StatusCode::SEE_OTHER, "{method} {path}: {} {}", reply.status, reply.text);
    }
    // The owner's editor carries the edit forms and the script's token.
    let editor = page(&w.router, Some(&w.owner), "GET", &format!("/b/{}/maps/{map}", w.bean.id), &[]).await;
    assert!(editor.text.contains("data-edit") && editor.text.contains(&format!("data-csrf=\"{}\"", w.owner.csrf)));
    let (bean, map_id) = (w.bean.clone(), trailmap_model::MapId(map));
    let app = w.finish();
    let version = app.journey_map(&bean, map_id).unwrap();
    assert_eq!(version.map.name, "Renamed map");
    assert!(version.map.stages[0].goals.iter().any(|c| c.text == "From a form"));
    // Both links were revoked (the page's by hash, the API's by hash), and two more were made.
    assert_eq!(app.share_links(&bean, map_id).unwrap().len(), 2);
}

#[tokio::test]
async fn a_map_exported_as_json_imports_back_identical_apart_from_its_id() {
    let w = analysed();
    let shop = w.shop.id;
    let map = new_map(&w.router, &w.owner, shop, "web-shop").await;
    // An edit with evidence, so the round trip carries more than the template.
    let edit = json!({"op": "edit_card", "card": 1, "text": "Find a dress for a wedding", "evidence": [{"kind": "metric", "name": "conversion:checkout_started>purchase:7d"}]});
    let edited = api(&w.router, Some(&w.owner), "POST", &format!("/api/businesses/{shop}/maps/{map}/edits"), Some(edit)).await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.text);
    let export = api(&w.router, Some(&w.owner), "GET", &format!("/api/businesses/{shop}/maps/{map}/export?format=json"), None).await;
    assert_eq!(export.status, StatusCode::OK);
    assert!(export.headers["content-type"].to_str().unwrap().starts_with("application/json"));
    assert!(export.headers["content-disposition"].to_str().unwrap().contains("journey.json"));
    let document = export.json();
    assert_eq!(document["format"], "trailmap-journey-map");
    let imported = api(&w.router, Some(&w.owner), "POST", &format!("/api/businesses/{shop}/maps/import"), Some(document.clone())).await;
    assert_eq!(imported.status, StatusCode::CREATED, "{}", imported.text);
    let new_id = imported.json()["id"].as_i64().unwrap();
    assert_ne!(new_id, map);
    assert_eq!(imported.json()["dropped"], json!([]));
    let get = |id: i64| {
        let (router, owner, path) = (w.router.clone(), w.owner.clone(), format!("/api/businesses/{shop}/maps/{id}"));
        async move { api(&router, Some(&owner), "GET", &path, None).await }
    };
    let (mut original, mut copy) = (get(map).await.json()["map"].clone(), get(new_id).await.json()["map"].clone());
    assert_eq!(copy["id"], json!(new_id));
    original["id"] = Value::Null;
    copy["id"] = Value::Null;
    assert_eq!(first_difference(&original, &copy, "map"), None);
    let again = api(&w.router, Some(&w.owner), "GET", &format!("/api/businesses/{shop}/maps/{new_id}/export?format=json"), None).await.json();
    assert_eq!(first_difference(&document, &again, "document"), None);
    // A document that is not one is a 400 naming the problem.
    let bad = api(&w.router, Some(&w.owner), "POST", &format!("/api/businesses/{shop}/maps/import"), Some(json!({"format": "something else"}))).await;
    assert_eq!((bad.status, bad.code().as_str()), (StatusCode::BAD_REQUEST, "invalid_input"), "{}", bad.text);
    w.finish();
}

#[tokio::test]
async fn an_api_edit_makes_a_version_the_diff_names_it_and_a_viewers_edit_is_403() {
    let w = analysed();
    let shop = w.shop.id;
    let map = new_map(&w.router, &w.owner, shop, "web-shop").await;
    let base = format!("/api/businesses/{shop}/maps/{map}");
    let versions = api(&w.router, Some(&w.owner), "GET", &format!("{base}/versions"), None).await.json();
    assert_eq!(versions.as_array().unwrap().len(), 1);
    let moved = api(&w.router, Some(&w.owner), "POST", &format!("{base}/edits"), Some(json!({"op": "move_stage", "stage": 3, "position": 0}))).await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text);
    assert_eq!(moved.json()["version"], 2);
    let answer = moved.json();
    let names: Vec<&str> = answer["map"]["stages"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Purchase", "Awareness", "Consideration", "Retention", "Advocacy"]);
    let versions = api(&w.router, Some(&w.owner), "GET", &format!("{base}/versions"), None).await.json();
    assert_eq!(versions.as_array().unwrap().iter().map(|v| v["author"].as_str().unwrap()).collect::<Vec<_>>(), ["Ann Analyst", "Ann Analyst"]);
    let diff = api(&w.router, Some(&w.owner), "GET", &format!("{base}/diff?from=1&to=2"), None).await.json();
    assert!(diff["text"].as_str().unwrap().contains("stage \"Purchase\" moved from position 3 to 1"), "{diff}");
    let bad_version = api(&w.router, Some(&w.owner), "GET", &format!("{base}/diff?from=one"), None).await;
    assert_eq!((bad_version.status, bad_version.code().as_str()), (StatusCode::BAD_REQUEST, "invalid_input"));
    assert!(bad_version.json()["error"]["message"].as_str().unwrap().starts_with("from:"));
    // A viewer may read but not edit; nothing changes.
    let refused = api(&w.router, Some(&w.viewer), "POST", &format!("{base}/edits"), Some(json!({"op": "rename", "name": "Mine"}))).await;
    assert_eq!((refused.status, refused.code().as_str()), (StatusCode::FORBIDDEN, "forbidden"));
    let read = api(&w.router, Some(&w.viewer), "GET", &base, None).await;
    assert_eq!((read.status, read.json()["version"].as_i64()), (StatusCode::OK, Some(2)));
    // A bad edit is a 400 naming the field.
    let wrong = api(&w.router, Some(&w.owner), "POST", &format!("{base}/edits"), Some(json!({"op": "set_emotion", "stage": 1, "persona": null, "score": 3.5}))).await;
    assert_eq!((wrong.status, wrong.code().as_str()), (StatusCode::BAD_REQUEST, "invalid_input"));
    assert!(wrong.json()["error"]["message"].as_str().unwrap().starts_with("score:"), "{}", wrong.text);
    let unknown = api(&w.router, Some(&w.owner), "POST", &format!("{base}/edits"), Some(json!({"op": "paint_it_black"}))).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    w.finish();
}

#[tokio::test]
async fn the_editor_works_through_plain_forms_and_shows_live_numbers_with_their_customers() {
    let w = analysed();
    let shop = w.shop.id;
    let created = page(&w.router, Some(&w.owner), "POST", &format!("/b/{shop}/maps"), &[("name", "Boutique journey"), ("template", "web-shop")]).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.text);
    let path = created.location().to_string();
    let map: i64 = path.rsplit('/').next().unwrap().parse().unwrap();
    // Templates start with the business's touchpoints of each stage; adding them all again (some
    // to other stages) is allowed and still one version each.
    let business = w.shop.clone();
    let touchpoints = w.state.try_read(move |app| Ok(trailmap_store::Store::touchpoints(app.store(), business.id)?)).await.unwrap();
    assert!(!touchpoints.is_empty());
    for (i, t) in touchpoints.iter().enumerate() {
        let edit = json!({"op": "add_touchpoint", "stage": (i % 5) + 1, "touchpoint": t.id.0});
        let added = api(&w.router, Some(&w.owner), "POST", &format!("/api/businesses/{shop}/maps/{map}/edits"), Some(edit)).await;
        assert_eq!(added.status, StatusCode::OK, "{}", added.text);
    }
    let edits = touchpoints.len();
    let list = page(&w.router, Some(&w.viewer), "GET", &format!("/b/{shop}/maps"), &[]).await;
    assert!(list.text.contains("Boutique journey") && !list.text.contains("data-testid=\"new-map\""), "a viewer gets no create form");
    // No script: add a card, move a stage, set an emotion, each a form post and a 303 back.
    for fields in [
        vec![("op", "add_card"), ("stage", "2"), ("lane", "pain_points"), ("text", "Sizes run small")],
        vec![("op", "move_stage"), ("stage", "5"), ("position", "0")],
        vec![("op", "set_emotion"), ("stage", "3"), ("score", "-2")],
        vec![("op", "edit_card"), ("card", "1"), ("text", "Find a dress")],
    ] {
        let reply = page(&w.router, Some(&w.owner), "POST", &format!("{path}/edit"), &fields).await;
        assert_eq!((reply.status, reply.location()), (StatusCode::SEE_OTHER, path.as_str()), "{fields:?}: {}", reply.text);
    }
    let wrong = page(&w.router, Some(&w.owner), "POST", &format!("{path}/edit"), &[("op", "add_card"), ("stage", "2"), ("lane", "feelings"), ("text", "x")]).await;
    assert_eq!((wrong.status, wrong.code().as_str()), (StatusCode::BAD_REQUEST, "invalid_input"));
    assert!(wrong.text.contains("lane:"), "{}", wrong.text);
    let shown = page(&w.router, Some(&w.owner), "GET", &format!("{path}?from=2025-11-01&to=2026-10-31"), &[]).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert!(shown.text.contains("Sizes run small") && shown.text.contains("Find a dress"));
    let first_stage = shown.text.split("data-testid=\"stage-name\">").nth(1).unwrap().split('<').next().unwrap();
    assert_eq!(first_stage, "Advocacy");
    assert!(shown.text.contains("class=\"badge assumption\""));
    assert!(shown.text.contains("data-testid=\"emotion-curve\"><svg"));
    // The live numbers equal the app's, with their n and a link to the customers behind them.
    let numbers = api(&w.router, Some(&w.owner), "GET", &format!("/api/businesses/{shop}/maps/{map}/numbers?from=2025-11-01&to=2026-10-31"), None).await;
    assert_eq!(numbers.status, StatusCode::OK, "{}", numbers.text);
    let business = w.shop.clone();
    let from_app = w
        .state
        .try_read(move |app| {
            let request = trailmap_app::MapNumbersRequest {
                period: Some((Timestamp::from_date("2025-11-01".parse().unwrap()), Timestamp::from_date("2026-11-01".parse().unwrap()))),
                ..Default::default()
            };
            app.map_numbers(&business, trailmap_model::MapId(map), &request)
        })
        .await
        .unwrap();
    // Both sides are read from JSON text, so floats parse the same way (serde_json reads some
    // floats one unit off without its float_roundtrip feature).
    let expected_stages: Value = serde_json::from_str(&serde_json::to_string(&from_app.stages).unwrap()).unwrap();
    assert!(first_difference(&numbers.json()["stages"], &expected_stages, "stages").is_none(), "{:?}", first_difference(&numbers.json()["stages"], &expected_stages, "stages"));
    let measured = from_app.stages.iter().find(|s| s.measured && s.reach.n > 0).expect("a measured stage on the demo");
    assert!(shown.text.contains(&format!("{} customers", measured.reach.n)));
    let ids: Vec<String> = measured.reach.customers.iter().map(|c| c.to_string()).collect();
    assert!(shown.text.contains(&format!("/b/{shop}/customers?ids={}", ids.join(","))));
    let bad = page(&w.router, Some(&w.owner), "GET", &format!("{path}?from=2025-11-01"), &[]).await;
    assert_eq!((bad.status, bad.code().as_str()), (StatusCode::BAD_REQUEST, "invalid_input"));
    let persona = api(&w.router, Some(&w.owner), "GET", &format!("/api/businesses/{shop}/maps/{map}/numbers?persona=Nobody+Like+This"), None).await;
    assert_eq!((persona.status, persona.code().as_str()), (StatusCode::BAD_REQUEST, "invalid_input"));
    let window = api(&w.router, Some(&w.owner), "GET", &format!("/api/businesses/{shop}/maps/{map}/numbers?window=0"), None).await;
    assert_eq!((window.status, window.code().as_str()), (StatusCode::BAD_REQUEST, "invalid_input"));
    assert!(window.text.contains("window:"), "{}", window.text);
    // Each number's definition sits beside it, and money is written as the dashboard writes it.
    assert!(shown.text.contains("data-testid=\"define-reach\"") && shown.text.contains("never above 100"));
    assert!(shown.text.contains(&format!("{} (n=", measured.revenue.shown)) && measured.revenue.shown.starts_with('$'), "{}", measured.revenue.shown);
    // Exports: the PDF is a PDF, Mermaid is text, an unknown format is a 400.
    let pdf = page(&w.router, Some(&w.viewer), "GET", &format!("{path}/export?format=pdf"), &[]).await;
    assert_eq!(pdf.status, StatusCode::OK);
    assert!(pdf.text.starts_with("%PDF"));
    assert!(pdf.headers["content-disposition"].to_str().unwrap().contains("boutique-journey.pdf"));
    let mermaid = page(&w.router, Some(&w.viewer), "GET", &format!("{path}/export?format=mermaid"), &[]).await;
    assert!(mermaid.text.starts_with("journey"), "{}", mermaid.text);
    let unknown = page(&w.router, Some(&w.viewer), "GET", &format!("{path}/export?format=docx"), &[]).await;
    assert_eq!((unknown.status, unknown.code().as_str()), (StatusCode::BAD_REQUEST, "invalid_input"));
    // The versions page shows the diff of the last edit by default.
    let versions = page(&w.router, Some(&w.viewer), "GET", &format!("{path}/versions"), &[]).await;
    assert!(versions.text.contains(&format!("From version {} to {}", edits + 4, edits + 5)), "{}", versions.text);
    // "To be" from "as is": both side by side.
    let to_be = page(&w.router, Some(&w.owner), "POST", &format!("{path}/to-be"), &[]).await;
    assert_eq!(to_be.status, StatusCode::SEE_OTHER);
    let compare = page(&w.router, Some(&w.owner), "GET", to_be.location(), &[]).await;
    assert!(compare.text.contains("Boutique journey (to be)") && compare.text.matches("data-testid=\"map-grid\"").count() == 2, "{}", compare.text);
    // A review date in the past flags the map as stale, on the list and the dashboard.
    let details = json!({"op": "set_details", "owner": "Ann", "review_date": "2025-01-31", "kind": "as_is"});
    let set = api(&w.router, Some(&w.owner), "POST", &format!("/api/businesses/{shop}/maps/{map}/edits"), Some(details)).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text);
    let listed = api(&w.router, Some(&w.viewer), "GET", &format!("/api/businesses/{shop}/maps"), None).await.json();
    let stale: Vec<bool> = listed["maps"].as_array().unwrap().iter().filter(|m| m["id"] == json!(map)).map(|m| m["stale"].as_bool().unwrap()).collect();
    assert_eq!(stale, [true]);
    let dashboard = page(&w.router, Some(&w.viewer), "GET", &format!("/b/{shop}/"), &[]).await;
    let section = dashboard.text.split("data-testid=\"stale-maps\"").nth(1).expect("the dashboard lists stale maps");
    assert!(section.contains(&format!("href=\"/b/{shop}/maps/{map}\"")) && section.contains("review was due 2025-01-31"));
    w.finish();
}

#[tokio::test]
async fn share_links_open_read_only_ask_for_their_password_expire_and_are_revoked() {
    let w = analysed();
    let shop = w.shop.id;
    let map = new_map(&w.router, &w.owner, shop, "web-shop").await;
    let (open_token, open_hash) = new_link(&w.router, &w.owner, shop, map, json!({})).await;
    let anonymous = |path: String| {
        let router = w.router.clone();
        async move { call(&router, "GET", &path, &[("accept", "text/html".to_string())], vec![]).await }
    };
    // No password: the map, read-only, without numbers or customer links.
    let shown = anonymous(format!("/share/{open_token}")).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.text);
    assert!(shown.text.contains("data-testid=\"map-grid\"") && shown.text.contains("Shipping cost appears only at the last step"));
    assert!(!shown.text.contains("data-edit") && !shown.text.contains("/customers?ids=") && !shown.text.contains("stage-numbers"));
    // With a password: a form; the wrong one is a 403 page, the right one opens the map.
    let (locked, _) = new_link(&w.router, &w.owner, shop, map, json!({"password": "open sesame", "expires": "2099-12-31"})).await;
    let asked = anonymous(format!("/share/{locked}")).await;
    assert_eq!(asked.status, StatusCode::OK);
    assert!(asked.text.contains("data-testid=\"share-password\"") && !asked.text.contains("map-grid"));
    let cookie = asked.cookie("trailmap_form").unwrap();
    let field = asked.csrf_field();
    let post = |password: &str| {
        let headers = [("content-type", "application/x-www-form-urlencoded".to_string()), ("cookie", format!("trailmap_form={cookie}"))];
        let body = form(&[("csrf", field.as_str()), ("password", password)]);
        let path = format!("/share/{locked}");
        let router = w.router.clone();
        async move { call(&router, "POST", &path, &headers, body).await }
    };
    let wrong = post("guess").await;
    assert_eq!((wrong.status, wrong.code().as_str()), (StatusCode::FORBIDDEN, "wrong_password"));
    assert!(wrong.text.contains("data-testid=\"share-password\""));
    let right = post("open sesame").await;
    assert_eq!(right.status, StatusCode::OK, "{}", right.text);
    assert!(right.text.contains("data-testid=\"map-grid\""));
    // Without the form cookie the password post is refused.
    let forged = call(&w.router, "POST", &format!("/share/{locked}"), &[("content-type", "application/x-www-form-urlencoded".to_string())], form(&[("csrf", "x"), ("password", "open sesame")])).await;
    assert_eq!((forged.status, forged.code().as_str()), (StatusCode::FORBIDDEN, "csrf_failed"));
    // Expired: made by the app with "now" a year ago and an expiry a day later.
    let business = w.shop.clone();
    let year_ago = Timestamp::from_millis(wall_clock() - 365 * Timestamp::MS_PER_DAY);
    let expired = w
        .state
        .try_write(move |app| {
            app.create_share_link(&business, trailmap_model::MapId(map), None, Some(year_ago.add_millis(Timestamp::MS_PER_DAY)), "Ann", year_ago)
        })
        .await
        .unwrap();
    let gone = anonymous(expired.path.clone()).await;
    assert_eq!((gone.status, gone.code().as_str()), (StatusCode::GONE, "expired"));
    // Unknown and revoked links are 404s, and a link cannot be revoked through another business.
    let unknown = anonymous("/share/tms_nothing_here".to_string()).await;
    assert_eq!((unknown.status, unknown.code().as_str()), (StatusCode::NOT_FOUND, "not_found"));
    let cafe_path = format!("/api/businesses/{}/maps/{map}/share-links/{open_hash}", w.cafe.id);
    let across = api(&w.router, Some(&w.owner), "DELETE", &cafe_path, None).await;
    assert_eq!((across.status, across.code().as_str()), (StatusCode::NOT_FOUND, "not_found"));
    let revoked = api(&w.router, Some(&w.owner), "DELETE", &format!("/api/businesses/{shop}/maps/{map}/share-links/{open_token}"), None).await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT, "{}", revoked.text);
    let after = anonymous(format!("/share/{open_token}")).await;
    assert_eq!((after.status, after.code().as_str()), (StatusCode::NOT_FOUND, "not_found"));
    let listed = api(&w.router, Some(&w.viewer), "GET", &format!("/api/businesses/{shop}/maps/{map}/share-links"), None).await.json();
    assert_eq!(listed.as_array().unwrap().len(), 2);
    assert!(listed.as_array().unwrap().iter().all(|l| l["token_hash"] != json!(open_hash)));
    let short = api(&w.router, Some(&w.owner), "POST", &format!("/api/businesses/{shop}/maps/{map}/share-links"), Some(json!({"password": "short"}))).await;
    assert_eq!((short.status, short.code().as_str()), (StatusCode::BAD_REQUEST, "invalid_input"));
    w.finish();
}

// ---------------------------------------------------------------------------------------------
// Issue 8: the public survey page, QR codes, and the members' survey and feedback pages. Pat owns
// a shop with an exit survey (NPS, a reason skipped for promoters, a required comment, a choice);
// Vi is a viewer. Spam protection runs with no minimum fill time (tests never sleep).

use trailmap_server::web::public_survey::{PublicSurveyOptions, configure};

struct Surveyed {
    router: Router,
    tracker: Writer,
    writer: std::thread::JoinHandle<App>,
    owner: Actor,
    viewer: Actor,
    shop: Business,
    survey: trailmap_model::SurveyId,
    token: String,
    /// This server's own folder for uploads, so a test can see that its copies are gone while
    /// other tests upload at the same time.
    uploads: tempfile::TempDir,
}

impl Surveyed {
    fn finish(self) -> App {
        drop(self.router);
        drop(self.tracker);
        self.writer.join().unwrap()
    }
}

const EXIT_SURVEY: &str = r#"{"name": "Exit survey", "stage": "Purchase", "questions": [
  {"text": "How likely are you to recommend us?", "kind": "nps", "required": true},
  {"text": "What could we do better?", "kind": "free_text", "required": true, "skip_if": {"question": 1, "values": [9, 10]}},
  {"text": "What stopped you?", "kind": "single_choice", "options": ["Price", "Shipping cost"]}
]}"#;

fn surveyed() -> Surveyed {
    configure(PublicSurveyOptions { min_fill_ms: 0, burst: 20.0, per_minute: 1.0 });
    let mut app = App::in_memory().unwrap();
    let now = Timestamp::from_millis(wall_clock());
    let owner = actor(&mut app, "pat@example.com", "Pat Owner", now);
    let viewer = actor(&mut app, "vi@example.com", "Vi Viewer", now);
    let shop = app.create_business_owned(owner.user.id, "Pat's Shop", "USD", "UTC").unwrap();
    app.set_member(shop.id, viewer.user.id, Role::Viewer).unwrap();
    let definition = trailmap_app::surveys::parse_definition(EXIT_SURVEY, "exit.json").unwrap();
    let survey = app.create_survey_from_definition(&shop, &definition, "exit.json").unwrap().id;
    let token = app.rotate_survey_link(&shop, survey).unwrap();
    let (tracker, writer) = Writer::start(app);
    let uploads = tempfile::tempdir().unwrap();
    let state = ServerState::new(tracker.clone(), ":memory:".into()).with_upload_dir(uploads.path().to_path_buf());
    Surveyed { router: router(state), tracker, writer, owner, viewer, shop, survey, token, uploads }
}

/// The form fields of the public page: the signed `started` stamp and the hidden inputs.
fn hidden_inputs(page: &str) -> Vec<(String, String)> {
    page.split("<input type=\"hidden\" name=\"")
        .skip(1)
        .filter_map(|rest| {
            let (name, rest) = rest.split_once('"')?;
            let value = rest.split("value=\"").nth(1)?.split('"').next()?;
            Some((name.to_string(), value.to_string()))
        })
        .collect()
}

async fn post_answers(router: &Router, token: &str, fields: &[(String, String)], answers: &[(&str, &str)]) -> Reply {
    let mut pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    pairs.extend_from_slice(answers);
    call(router, "POST", &format!("/s/{token}"), &[("content-type", "application/x-www-form-urlencoded".into())], form(&pairs)).await
}

fn question_ids(app: &App, shop: &Business) -> Vec<String> {
    app.store().surveys(shop.id).unwrap()[0].questions.iter().map(|q| format!("q{}", q.id.0)).collect()
}

#[tokio::test]
async fn the_public_survey_page_stores_answers_joined_to_the_customer() {
    let s = surveyed();
    let ids: Vec<String> = s.tracker.run({
        let shop = s.shop.clone();
        move |app| question_ids(app, &shop)
    }).await.unwrap();
    let (q1, q2, q3) = (ids[0].as_str(), ids[1].as_str(), ids[2].as_str());

    // No sign-in: the form, with the link's hidden fields kept and unknown ones dropped.
    let shown = call(&s.router, "GET", &format!("/s/{}?customer_id=C-42&utm_source=x", s.token), &[], vec![]).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.text);
    assert!(shown.text.contains("How likely are you to recommend us?") && shown.text.contains("type=\"radio\""));
    assert!(shown.text.contains("Skip this one if your answer to question 1 was 9 or 10."));
    assert!(!shown.text.contains("<script"), "the page needs no JavaScript");
    let fields = hidden_inputs(&shown.text);
    assert!(fields.iter().any(|(k, v)| k == "customer_id" && v == "C-42"), "{fields:?}");
    assert!(fields.iter().any(|(k, _)| k == "started") && !fields.iter().any(|(k, _)| k == "utm_source"));

    // A detractor without the required comment: 400, the form again, the problem by the question.
    let missing = post_answers(&s.router, &s.token, &fields, &[(q1, "3")]).await;
    assert_eq!((missing.status, missing.code().as_str()), (StatusCode::BAD_REQUEST, "invalid_input"));
    assert!(missing.text.contains(&format!("id=\"{q2}-error\"")) && missing.text.contains("This question needs an answer."));
    assert!(missing.text.contains("value=\"3\" checked"), "the given answer is kept");

    // A detractor with a comment holding markup: stored as text, then thanked.
    let script = "<script>alert(1)</script> shipping was too dear";
    let sent = post_answers(&s.router, &s.token, &fields, &[(q1, "3"), (q2, script), (q3, "Shipping cost")]).await;
    assert_eq!((sent.status, sent.location()), (StatusCode::SEE_OTHER, format!("/s/{}/thanks", s.token).as_str()));
    let thanks = call(&s.router, "GET", sent.location(), &[], vec![]).await;
    assert!(thanks.status == StatusCode::OK && thanks.text.contains("Thank you"));

    // A promoter: the comment question is skipped, so not required, and its answer is ignored.
    let promoter = post_answers(&s.router, &s.token, &fields, &[(q1, "10"), (q2, "ignored text")]).await;
    assert_eq!(promoter.status, StatusCode::SEE_OTHER, "{}", promoter.text);

    // Out-of-range, oversized and honeypot posts.
    let out_of_range = post_answers(&s.router, &s.token, &fields, &[(q1, "11")]).await;
    assert_eq!(out_of_range.status, StatusCode::BAD_REQUEST);
    assert!(out_of_range.text.contains("Choose a whole number from 0 to 10"));
    let long = "x".repeat(2_001);
    let too_long = post_answers(&s.router, &s.token, &fields, &[(q1, "2"), (q2, &long)]).await;
    assert_eq!(too_long.status, StatusCode::BAD_REQUEST);
    assert!(too_long.text.contains("at most 2000 are accepted"));
    let huge = "y".repeat(70 * 1024);
    let too_big = post_answers(&s.router, &s.token, &fields, &[(q1, "2"), (q2, &huge)]).await;
    assert_eq!((too_big.status, too_big.code().as_str()), (StatusCode::PAYLOAD_TOO_LARGE, "too_large"));
    let bot = post_answers(&s.router, &s.token, &fields, &[(q1, "10"), ("website", "http://spam.example")]).await;
    assert_eq!(bot.status, StatusCode::SEE_OTHER, "a bot is thanked like a person");
    let forged: Vec<(String, String)> =
        fields.iter().map(|(k, v)| if k == "started" { (k.clone(), "1.00".to_string()) } else { (k.clone(), v.clone()) }).collect();
    let unsigned = post_answers(&s.router, &s.token, &forged, &[(q1, "10")]).await;
    assert_eq!(unsigned.status, StatusCode::BAD_REQUEST);
    assert!(unsigned.text.contains("expired"));
    let unknown = call(&s.router, "GET", "/s/not-a-token", &[], vec![]).await;
    assert_eq!((unknown.status, unknown.code().as_str()), (StatusCode::NOT_FOUND, "not_found"));

    // Members see the answers, escaped; the viewer too.
    let results = page(&s.router, Some(&s.viewer), "GET", &format!("/b/{}/surveys/{}", s.shop.id, s.survey.0), &[]).await;
    assert_eq!(results.status, StatusCode::OK, "{}", results.text);
    assert!(results.text.contains("&lt;script&gt;alert(1)&lt;/script&gt; shipping was too dear"));
    assert!(!results.text.contains("<script>alert(1)"));
    let api_results = api(&s.router, Some(&s.owner), "GET", &format!("/api/businesses/{}/surveys/{}/results", s.shop.id, s.survey.0), None).await;
    assert_eq!(api_results.status, StatusCode::OK, "{}", api_results.text);
    let nps = &api_results.json()["questions"][0]["overall"];
    assert_eq!(nps["n"], 2, "the detractor and the promoter: {nps}");
    assert_eq!(nps["value"], 0.0, "one promoter, one detractor: NPS 0");

    // The store holds exactly the two accepted responses; the first joined to customer C-42.
    let shop = s.shop.clone();
    let survey = s.survey;
    let app = s.finish();
    let responses = app.store().responses(survey).unwrap();
    assert_eq!(responses.len(), 2, "{responses:#?}");
    let detractor = &responses[0];
    assert_eq!(detractor.hidden.get("customer_id").map(String::as_str), Some("C-42"));
    let customer = app.store().customer(detractor.customer.expect("joined")).unwrap();
    assert_eq!(customer.external_id.as_deref(), Some("C-42"));
    assert_eq!(detractor.answers.len(), 3);
    assert!(detractor.answers.iter().any(|a| a.value == trailmap_model::AnswerValue::Text(script.to_string())));
    assert_eq!(responses[1].answers.len(), 1, "the skipped question's answer is not stored");
    let feedback = app.store().feedback(shop.id).unwrap();
    assert_eq!(feedback.iter().filter(|f| f.text == script).count(), 1, "free text also lands as feedback");
}

#[tokio::test]
async fn a_flood_of_posts_from_one_address_is_rate_limited() {
    let s = surveyed();
    let shown = call(&s.router, "GET", &format!("/s/{}", s.token), &[], vec![]).await;
    let fields = hidden_inputs(&shown.text);
    let mut statuses = Vec::new();
    for _ in 0..25 {
        // Empty posts: each is refused (a required answer is missing) but counts against the bucket.
        statuses.push(post_answers(&s.router, &s.token, &fields, &[]).await);
    }
    let limited: Vec<&Reply> = statuses.iter().filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS).collect();
    assert_eq!(limited.len(), 5, "a burst of 20, then 429");
    assert_eq!(limited[0].code(), "rate_limited");
    assert!(limited[0].headers.get("retry-after").is_some());
    // Reading the form is not limited.
    assert_eq!(call(&s.router, "GET", &format!("/s/{}", s.token), &[], vec![]).await.status, StatusCode::OK);
}

#[tokio::test]
async fn members_get_the_link_and_qr_codes_and_viewers_cannot_change_them() {
    let s = surveyed();
    let base = format!("/b/{}/surveys", s.shop.id);
    let list = page(&s.router, Some(&s.viewer), "GET", &base, &[]).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.text.contains(&format!("/s/{}", s.token)) && list.text.contains("Exit survey"));
    assert!(!list.text.contains("survey-builder"), "viewers get no builder");

    let svg = page(&s.router, Some(&s.viewer), "GET", &format!("{base}/{}/qr.svg", s.survey.0), &[]).await;
    assert_eq!(svg.status, StatusCode::OK);
    assert_eq!(svg.headers["content-type"], "image/svg+xml");
    assert!(svg.text.starts_with("<svg") && svg.text.ends_with("</svg>") && svg.text.matches("h1v1h-1z").count() > 100);
    let png = call(&s.router, "GET", &format!("{base}/{}/qr.png", s.survey.0), &[session_cookie(&s.owner.token)], vec![]).await;
    assert_eq!(png.status, StatusCode::OK);
    assert_eq!(png.headers["content-type"], "image/png");

    // A viewer may not replace the link; the owner may, and the old link stops working.
    let refused = page(&s.router, Some(&s.viewer), "POST", &format!("{base}/{}/link", s.survey.0), &[]).await;
    assert_eq!((refused.status, refused.code().as_str()), (StatusCode::FORBIDDEN, "forbidden"));
    let replaced = page(&s.router, Some(&s.owner), "POST", &format!("{base}/{}/link", s.survey.0), &[]).await;
    assert_eq!(replaced.status, StatusCode::SEE_OTHER);
    assert_eq!(call(&s.router, "GET", &format!("/s/{}", s.token), &[], vec![]).await.status, StatusCode::NOT_FOUND);

    // The builder: a bad skip rule names its row; a good form creates the survey.
    let bad = page(&s.router, Some(&s.owner), "POST", &base, &[("name", "Card"), ("stage", "Purchase"), ("text_1", "Q"), ("kind_1", "nps"), ("skip_1", "one")]).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.text.contains("question row 1: `skip_1`"), "{}", bad.text);
    let good = page(
        &s.router,
        Some(&s.owner),
        "POST",
        &base,
        &[("name", "Counter card"), ("stage", "Purchase"), ("text_1", "How was it?"), ("kind_1", "csat"), ("required_1", "on"),
          ("text_2", "Why?"), ("kind_2", "free_text"), ("skip_2", "1: 5")],
    )
    .await;
    assert_eq!(good.status, StatusCode::SEE_OTHER, "{}", good.text);
    let shop = s.shop.clone();
    let app = s.finish();
    let created = app.store().surveys(shop.id).unwrap().into_iter().find(|x| x.name == "Counter card").unwrap();
    assert_eq!(created.questions.len(), 2);
    assert_eq!(created.questions[1].skip.as_ref().unwrap().question, created.questions[0].id);
}

#[tokio::test]
async fn the_feedback_page_and_api_list_the_demo_boutiques_themes_most_negative_first() {
    let a = analysed();
    let feedback = page(&a.router, Some(&a.viewer), "GET", &format!("/b/{}/feedback?touchpoint=Checkout", a.shop.id), &[]).await;
    assert_eq!(feedback.status, StatusCode::OK, "{}", feedback.text);
    assert!(feedback.text.contains("Themes in touchpoint Checkout"));
    let themes = api(&a.router, Some(&a.viewer), "GET", &format!("/api/businesses/{}/feedback/themes?touchpoint=Checkout", a.shop.id), None).await;
    let themes = themes.json();
    assert!(themes["themes"][0]["label"].as_str().unwrap().starts_with("shipping"), "{themes}");
    let averages: Vec<f64> = themes["themes"].as_array().unwrap().iter().map(|t| t["average_compound"].as_f64().unwrap()).collect();
    assert!(averages.windows(2).all(|w| w[0] <= w[1]));
    // A bad choice is the caller's mistake: 400 naming the field (not a CLI flag), on the API
    // and on the page.
    let bad = api(&a.router, Some(&a.viewer), "GET", &format!("/api/businesses/{}/feedback/themes?touchpoint=Nowhere", a.shop.id), None).await;
    assert_eq!((bad.status, bad.code().as_str()), (StatusCode::BAD_REQUEST, "invalid_input"));
    let message = bad.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(message.starts_with("touchpoint \"Nowhere\": no such touchpoint"), "{message}");
    let bad_page = page(&a.router, Some(&a.viewer), "GET", &format!("/b/{}/feedback?touchpoint=Nowhere", a.shop.id), &[]).await;
    assert_eq!(bad_page.status, StatusCode::BAD_REQUEST);
    assert!(bad_page.text.contains("touchpoint &quot;Nowhere&quot;") || bad_page.text.contains("touchpoint \"Nowhere\""), "{}", bad_page.text);
    assert!(!bad_page.text.contains("--touchpoint"));
    // One persona's texts with extra stop words, on the API and the page (its select).
    let persona = api(&a.router, Some(&a.viewer), "GET", &format!("/api/businesses/{}/feedback/themes?touchpoint=Checkout&persona=Bargain%20Hunter&stop_words=dress,%20size", a.shop.id), None).await;
    let persona = persona.json();
    assert_eq!(persona["scope"], "touchpoint Checkout, persona Bargain Hunter", "{persona}");
    assert_eq!(persona["stop_words"], serde_json::json!(["dress", "size"]));
    assert!(persona["texts"].as_u64().unwrap() < themes["texts"].as_u64().unwrap());
    let persona_page = page(&a.router, Some(&a.viewer), "GET", &format!("/b/{}/feedback?touchpoint=Checkout&persona=Bargain+Hunter", a.shop.id), &[]).await;
    assert_eq!(persona_page.status, StatusCode::OK);
    assert!(persona_page.text.contains("Themes in touchpoint Checkout, persona Bargain Hunter"));
    assert!(persona_page.text.contains("<option value=\"Bargain Hunter\" selected>"), "the persona select keeps the choice");
    let nobody = api(&a.router, Some(&a.viewer), "GET", &format!("/api/businesses/{}/feedback/themes?persona=Nobody", a.shop.id), None).await;
    assert_eq!((nobody.status, nobody.code().as_str()), (StatusCode::BAD_REQUEST, "invalid_input"));
    let sentiment = api(&a.router, Some(&a.owner), "GET", &format!("/api/businesses/{}/feedback/sentiment?limit=3", a.shop.id), None).await;
    assert_eq!(sentiment.json()["texts"].as_array().unwrap().len(), 3);
    let surveys = api(&a.router, Some(&a.owner), "GET", &format!("/api/businesses/{}/surveys", a.shop.id), None).await;
    assert!(surveys.json().as_array().unwrap().iter().all(|s| s["responses"].as_u64().is_some()));
    let outsider = api(&a.router, Some(&a.outsider), "GET", &format!("/api/businesses/{}/surveys", a.shop.id), None).await;
    assert_eq!(outsider.status, StatusCode::NOT_FOUND);
}

/// The map editor in headless Chromium, driven by `browser/maps.mjs`: a real server on a loopback
/// port over a store file with the demo. Screenshots go to SCREENSHOT_DIR (or
/// `target/browser-screenshots`) as maps-*.png.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_map_editor_works_in_headless_chromium() {
    if playwright_chromium().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("maps.sqlite");
    let mut app = App::open(&db).unwrap();
    let now = Timestamp::from_millis(wall_clock());
    let user = app.create_user("mapper@example.com", "Mia Mapper", PASSWORD, now).unwrap();
    app.demo(&trailmap_app::DemoOptions { customers: 400, seed: 11 }).unwrap();
    app.adopt_unowned_businesses(user.id).unwrap();
    let shop = app.business(Some("Thread & Needle")).unwrap();
    let (tracker, writer) = Writer::start(app);
    let state = ServerState::new(tracker, db);
    let env = vec![
        ("TRAILMAP_EMAIL", "mapper@example.com".to_string()),
        ("TRAILMAP_PASSWORD", PASSWORD.to_string()),
        ("BUSINESS_ID", shop.id.to_string()),
    ];
    let (stdout, shots) = run_browser_script(router(state), "maps.mjs", env).await;
    for step in [
        "edited a card inline without navigating",
        "moved a stage with the keyboard",
        "dragged a stage",
        "added a quote from the picker",
        "turned a pain point into an opportunity",
        "renamed a stage and added the touchpoint",
        "evidence, opportunity, action, stage name and touchpoint persisted",
        "live numbers",
        "a definition opens on a click",
        "(%PDF)",
        "the grid scrolls",
    ] {
        assert!(stdout.contains(step), "missing step {step:?}:\n{stdout}");
    }
    assert!(stdout.lines().last() == Some("ok"), "{stdout}");
    for name in ["1-editor", "2-edited", "3-reordered", "6-controls", "4-numbers", "5-phone"] {
        assert!(shots.join(format!("maps-{name}.png")).metadata().unwrap().len() > 1000, "maps-{name}.png is missing or empty");
    }
    drop(writer);
}

/// The public survey page in headless Chromium at phone width, with and without JavaScript, then
/// a member reading the answers, driven by `browser/survey.mjs`. Screenshots go to
/// `target/browser-screenshots` (or SCREENSHOT_DIR) as survey-*.png.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_survey_works_on_a_phone_with_and_without_javascript() {
    if playwright_chromium().is_none() {
        return;
    }
    configure(PublicSurveyOptions { min_fill_ms: 0, burst: 20.0, per_minute: 1.0 });
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("survey.sqlite");
    let mut app = App::open(&db).unwrap();
    let now = Timestamp::from_millis(wall_clock());
    let user = app.create_user("pat@example.com", "Pat Owner", PASSWORD, now).unwrap();
    let shop = app.create_business_owned(user.id, "Pat's Shop", "USD", "UTC").unwrap();
    let definition = trailmap_app::surveys::parse_definition(EXIT_SURVEY, "exit.json").unwrap();
    let survey = app.create_survey_from_definition(&shop, &definition, "exit.json").unwrap().id;
    let token = app.rotate_survey_link(&shop, survey).unwrap();
    let (tracker, writer) = Writer::start(app);
    let state = ServerState::new(tracker.clone(), db);
    let env = vec![
        ("SURVEY_PATH", format!("/s/{token}?customer_id=C-7")),
        ("RESULTS_PATH", format!("/b/{}/surveys/{}", shop.id, survey.0)),
        ("TRAILMAP_EMAIL", "pat@example.com".to_string()),
        ("TRAILMAP_PASSWORD", PASSWORD.to_string()),
    ];
    let (stdout, _) = run_browser_script(router(state), "survey.mjs", env).await;
    assert!(stdout.trim_end().ends_with("ok"), "{stdout}");
    drop(tracker);
    let app = writer.join().unwrap();
    let responses = app.store().responses(survey).unwrap();
    assert_eq!(responses.len(), 2, "one answer with JavaScript, one without");
    assert!(responses.iter().all(|r| r.customer.is_some()), "both joined through customer_id");
}

// Issue 8: importing responses and feedback from the page (multipart) and the API (raw body), and
// the score charts on the results page.

const BOUNDARY: &str = "trailmap-test-boundary";

/// A multipart form body with text `fields` and one `file`.
fn multipart(fields: &[(&str, &str)], file_name: &str, file: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes());
    }
    body.extend_from_slice(
        format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: text/csv\r\n\r\n").as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn upload(s: &Surveyed, who: &Actor, fields: &[(&str, &str)], file_name: &str, file: &[u8]) -> Reply {
    let mut all = vec![("csrf", who.csrf.as_str())];
    all.extend_from_slice(fields);
    let headers = [("content-type", format!("multipart/form-data; boundary={BOUNDARY}")), session_cookie(&who.token)];
    call(&s.router, "POST", &format!("/b/{}/feedback/import", s.shop.id), &headers, multipart(&all, file_name, file)).await
}

fn ingest_fixture(name: &str) -> Vec<u8> {
    std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ingest/tests/data").join(name)).unwrap()
}

#[tokio::test]
async fn a_google_forms_export_uploaded_on_the_page_lands_once_and_its_results_have_charts() {
    let s = surveyed();
    // The feedback page leads editors to the import page, and not viewers.
    let feedback = format!("/b/{}/feedback", s.shop.id);
    assert!(page(&s.router, Some(&s.owner), "GET", &feedback, &[]).await.text.contains("data-testid=\"feedback-import-link\""));
    assert!(!page(&s.router, Some(&s.viewer), "GET", &feedback, &[]).await.text.contains("feedback-import-link"));
    let base = format!("/b/{}/feedback/import", s.shop.id);
    let shown = page(&s.router, Some(&s.owner), "GET", &base, &[]).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.text);
    assert!(shown.text.contains("enctype=\"multipart/form-data\"") && shown.text.contains("Exit survey"));
    let csv = ingest_fixture("google_forms_responses.csv");
    let first = upload(&s, &s.owner, &[("layout", "google-forms"), ("survey", "")], "google_forms_responses.csv", &csv).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert!(first.text.contains("6 read: <strong>6 added</strong>, 0 already there, 0 rejected"), "{}", first.text);
    assert!(first.text.contains("google_forms_responses</a> (created by this import)"), "{}", first.text);
    // The same file again matches the survey by its questions and adds nothing.
    let again = upload(&s, &s.owner, &[("layout", "google-forms")], "google_forms_responses.csv", &csv).await;
    assert!(again.text.contains("<strong>0 added</strong>, 6 already there"), "{}", again.text);
    // Without the CSRF field the upload is refused.
    let headers = [("content-type", format!("multipart/form-data; boundary={BOUNDARY}")), session_cookie(&s.owner.token)];
    let forged = call(&s.router, "POST", &base, &headers, multipart(&[("layout", "google-forms")], "x.csv", &csv)).await;
    assert_eq!((forged.status, forged.code().as_str()), (StatusCode::FORBIDDEN, "csrf_failed"));
    // Viewers may neither see the form nor upload.
    let viewer_page = page(&s.router, Some(&s.viewer), "GET", &base, &[]).await;
    assert_eq!((viewer_page.status, viewer_page.code().as_str()), (StatusCode::FORBIDDEN, "forbidden"));
    let viewer_upload = upload(&s, &s.viewer, &[("layout", "google-forms")], "google_forms_responses.csv", &csv).await;
    assert_eq!((viewer_upload.status, viewer_upload.code().as_str()), (StatusCode::FORBIDDEN, "forbidden"));
    let app_survey = {
        let listed = api(&s.router, Some(&s.owner), "GET", &format!("/api/businesses/{}/surveys", s.shop.id), None).await.json();
        let created = listed.as_array().unwrap().iter().find(|x| x["name"] == "google_forms_responses").unwrap().clone();
        assert_eq!(created["responses"], 6);
        created["id"].as_i64().unwrap()
    };
    // The results page draws a chart per score above its table, each bar with its n.
    let results = page(&s.router, Some(&s.viewer), "GET", &format!("/b/{}/surveys/{app_survey}", s.shop.id), &[]).await;
    assert_eq!(results.status, StatusCode::OK, "{}", results.text);
    let chart = results.text.split("data-testid=\"score-chart\"").nth(1).unwrap();
    assert!(chart.trim_start_matches('>').starts_with("<svg"), "{}", &chart[..200.min(chart.len())]);
    assert!(chart.contains("(n=6)"), "the NPS bar of all answers carries n = 6");
    assert!(results.text.find("score-chart").unwrap() < results.text.find("data-testid=\"scores\"").unwrap());
    // The temporary copies are gone.
    let left: Vec<_> = std::fs::read_dir(s.uploads.path()).unwrap().filter_map(|e| e.ok()).map(|e| e.file_name()).collect();
    assert!(left.is_empty(), "{left:?}");
    let app = s.finish();
    let shop = app.business(Some("Pat's Shop")).unwrap();
    let survey = app.store().surveys(shop.id).unwrap().into_iter().find(|x| x.name == "google_forms_responses").unwrap();
    assert_eq!(app.store().responses(survey.id).unwrap().len(), 6);
}

#[tokio::test]
async fn a_malformed_export_is_a_400_naming_its_line_and_nothing_lands() {
    let s = surveyed();
    let mut csv = ingest_fixture("google_forms_responses.csv");
    // Line 4's timestamp is not a time.
    let text = String::from_utf8(csv).unwrap().replacen("2024/03/06 12:15:00 AM GMT+1", "yesterday-ish", 1);
    csv = text.into_bytes();
    let refused = upload(&s, &s.owner, &[("layout", "google-forms")], "answers.csv", &csv).await;
    assert_eq!((refused.status, refused.code().as_str()), (StatusCode::BAD_REQUEST, "invalid_input"), "{}", refused.text);
    assert!(refused.text.contains("answers.csv") && refused.text.contains(":4"), "names the file and line 4: {}", refused.text);
    assert!(!refused.text.contains("trailmap-upload-"), "never the temporary path: {}", refused.text);
    assert!(refused.text.contains("Nothing was imported") && refused.text.contains("import-form"));
    // With "skip invalid rows" the five good rows land and the bad one is listed.
    let skipped = upload(&s, &s.owner, &[("layout", "google-forms"), ("skip_invalid", "on")], "answers.csv", &csv).await;
    assert_eq!(skipped.status, StatusCode::OK, "{}", skipped.text);
    assert!(skipped.text.contains("<strong>5 added</strong>, 0 already there, 1 rejected"), "{}", skipped.text);
    assert!(skipped.text.contains("Rejected rows") && !skipped.text.contains("trailmap-upload-"), "{}", skipped.text);
    // A layout that does not exist is named.
    let bad_layout = upload(&s, &s.owner, &[("layout", "excel")], "answers.csv", &csv).await;
    assert_eq!(bad_layout.status, StatusCode::BAD_REQUEST);
    assert!(bad_layout.text.contains("`layout`"), "{}", bad_layout.text);
    let app = s.finish();
    let shop = app.business(Some("Pat's Shop")).unwrap();
    let surveys = app.store().surveys(shop.id).unwrap();
    assert_eq!(surveys.len(), 2, "the refused upload created no survey; the skipping one did");
    assert_eq!(surveys.iter().map(|x| app.store().responses(x.id).unwrap().len()).sum::<usize>(), 5);
}

#[tokio::test]
async fn the_api_imports_a_reviews_file_as_the_raw_body() {
    let s = surveyed();
    let path = format!("/api/businesses/{}/feedback/import?file=reviews.json", s.shop.id);
    let json = ingest_fixture("reviews.json");
    let headers = |who: &Actor| vec![("content-type", "application/json".to_string()), session_cookie(&who.token), ("x-csrf-token", who.csrf.clone())];
    let first = call(&s.router, "POST", &path, &headers(&s.owner), json.clone()).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let report = first.json();
    assert_eq!((report["layout"].as_str(), report["records"].as_u64(), report["added"].as_u64()), (Some("reviews"), Some(3), Some(3)), "{report}");
    assert_eq!(report["file"], "reviews.json");
    let again = call(&s.router, "POST", &path, &headers(&s.owner), json.clone()).await.json();
    assert_eq!((again["added"].as_u64(), again["duplicates"].as_u64()), (Some(0), Some(3)), "{again}");
    let viewer = call(&s.router, "POST", &path, &headers(&s.viewer), json.clone()).await;
    assert_eq!((viewer.status, viewer.code().as_str()), (StatusCode::FORBIDDEN, "forbidden"));
    // A CSV body must say its layout; a broken JSON array names its line.
    let csv_headers = vec![("content-type", "text/csv".to_string()), session_cookie(&s.owner.token), ("x-csrf-token", s.owner.csrf.clone())];
    let no_layout = call(&s.router, "POST", &format!("/api/businesses/{}/feedback/import", s.shop.id), &csv_headers, b"a,b\n1,2\n".to_vec()).await;
    assert_eq!((no_layout.status, no_layout.code().as_str()), (StatusCode::BAD_REQUEST, "invalid_input"));
    assert!(no_layout.json()["error"]["message"].as_str().unwrap().starts_with("`layout`"));
    let broken = call(&s.router, "POST", &path, &headers(&s.owner), b"[\n{\"source\": \"google\",\n\"text\": }\n]".to_vec()).await;
    assert_eq!((broken.status, broken.code().as_str()), (StatusCode::BAD_REQUEST, "invalid_input"), "{}", broken.text);
    assert!(broken.json()["error"]["message"].as_str().unwrap().contains("reviews.json"), "{}", broken.text);
    let app = s.finish();
    let shop = app.business(Some("Pat's Shop")).unwrap();
    assert_eq!(app.store().feedback(shop.id).unwrap().len(), 3);
}

// ---- issue 6: personas, touchpoints, satisfaction and sentiment on the map ----

#[tokio::test]
async fn personas_touchpoints_and_map_sentiment_pages_show_the_apps_numbers() {
    let w = analysed();
    let shop = w.shop.clone();
    let (coverage, catalogue, map) = w
        .state
        .try_read(move |app| {
            let map = app.journey_maps(&shop, chrono::NaiveDate::MIN)?.into_iter().next().expect("the demo shop has a map");
            Ok((app.persona_coverage(&shop)?, app.touchpoint_catalogue(&shop, None)?, map.id))
        })
        .await
        .unwrap();
    // Personas: one card each, with the app's coverage count and a link to the customers.
    let personas = page(&w.router, Some(&w.viewer), "GET", &format!("/b/{}/personas", w.shop.id), &[]).await;
    assert_eq!(personas.status, StatusCode::OK, "{}", personas.text);
    assert!(!coverage.is_empty());
    assert_eq!(personas.text.matches("data-testid=\"persona\"").count(), coverage.len());
    for c in &coverage {
        assert!(personas.text.contains(&format!("<h2>{}</h2>", c.name)), "{}", c.name);
        let card = personas.text.split(&format!("data-persona=\"{}\"", c.persona.0)).nth(1).unwrap();
        assert!(card.contains(&format!("<span data-testid=\"coverage-n\">{}</span>", c.n)), "{}: n={}", c.name, c.n);
    }
    assert!(coverage.iter().any(|c| c.n > 0) && personas.text.contains(&format!("/b/{}/customers?ids=", w.shop.id)));
    assert!(personas.text.contains(&format!("href=\"/b/{}/personas\"", w.shop.id)), "the nav links the page");
    // Touchpoints: in the business's order, each row with the app's counts.
    let touchpoints = page(&w.router, Some(&w.viewer), "GET", &format!("/b/{}/touchpoints", w.shop.id), &[]).await;
    assert_eq!(touchpoints.status, StatusCode::OK, "{}", touchpoints.text);
    for t in &catalogue.touchpoints {
        let row = touchpoints.text.split(&format!("data-touchpoint=\"{}\"", t.touchpoint.0)).nth(1).unwrap();
        assert!(row.contains(&format!("data-testid=\"events\">{}</td>", t.events)), "{}", t.name);
        assert!(row.contains(&format!(">{}</", t.customers.n)), "{}", t.name);
    }
    assert!(catalogue.touchpoints.iter().any(|t| t.events > 0));
    let bad = page(&w.router, Some(&w.viewer), "GET", &format!("/b/{}/touchpoints?from=2026-05-01&to=2026-01-01", w.shop.id), &[]).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
    // The map shows the checkout stage's feedback sentiment.
    let editor = page(&w.router, Some(&w.viewer), "GET", &format!("/b/{}/maps/{}", w.shop.id, map), &[]).await;
    assert_eq!(editor.status, StatusCode::OK);
    assert!(editor.text.contains("data-testid=\"stage-sentiment\""), "a sentiment figure on the map");
    assert!(editor.text.contains("<dt>Sentiment</dt>"));
    w.finish();
}

// ---------------------------------------------------------------------------------------------
// Issue 6, the editor's remaining controls without script: evidence (with the quote picker),
// pain point → opportunity → action, stage rename and remove, touchpoints; and the JSON routes of
// the quote picker, the persona cards and the touchpoint catalogue.

/// The newest version of a map, by the API.
async fn map_version(router: &Router, who: &Actor, business: trailmap_model::BusinessId, map: i64) -> u64 {
    let reply = api(router, Some(who), "GET", &format!("/api/businesses/{business}/maps/{map}"), None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.json()["version"].as_u64().unwrap()
}

#[tokio::test]
async fn every_editor_control_works_as_a_plain_form_each_a_version_viewers_403_bad_fields_400() {
    let w = analysed();
    let shop = w.shop.id;
    let created = page(&w.router, Some(&w.owner), "POST", &format!("/b/{shop}/maps"), &[("name", "Checkout story"), ("template", "web-shop")]).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.text);
    let path = created.location().to_string();
    let map: i64 = path.rsplit('/').next().unwrap().parse().unwrap();
    let (business, cafe) = (w.shop.clone(), w.cafe.clone());
    let (made, quotes, catalogue, foreign) = w
        .state
        .try_read(move |app| {
            let made = app.journey_map(&business, trailmap_model::MapId(map))?.map;
            let purchase = made.stages.iter().find(|s| s.name == "Purchase").unwrap().id;
            let quotes = app.stage_quotes(&business, made.id, purchase, "", 1_000)?;
            let catalogue = app.store().touchpoints(business.id)?;
            let foreign = app.store().feedback(cafe.id)?[0].id;
            Ok((made, quotes, catalogue, foreign))
        })
        .await
        .unwrap();
    // The template brought the boutique's touchpoints: Purchase holds Checkout and has quotes.
    let purchase = made.stages.iter().find(|s| s.name == "Purchase").unwrap();
    assert!(purchase.touchpoints.iter().any(|t| catalogue.iter().any(|c| c.id == *t && c.name == "Checkout")));
    assert!(quotes.n > 0, "no feedback on the checkout stage");
    let quote = quotes.quotes[0].clone();
    let pain = purchase.pain_points[0].id;
    let goal = purchase.goals[0].id;
    let retention = made.stages.iter().find(|s| s.name == "Retention").unwrap().id;
    let advocacy = made.stages.iter().find(|s| s.name == "Advocacy").unwrap().id;
    let extra = catalogue.iter().find(|t| !made.stage(retention).unwrap().touchpoints.contains(&t.id)).unwrap().id;
    let next_card = made.cards().map(|(_, _, c)| c.id).max().unwrap() + 1;
    let (pain_s, goal_s, stage_s) = (pain.to_string(), goal.to_string(), purchase.id.to_string());
    let (quote_s, next_s, ret_s, adv_s, extra_s) = (quote.feedback.to_string(), next_card.to_string(), retention.to_string(), advocacy.to_string(), extra.to_string());
    let forms: Vec<Vec<(&str, &str)>> = vec![
        vec![("op", "add_evidence"), ("card", &pain_s), ("kind", "metric"), ("text", "conversion:checkout_started>purchase:7d")],
        vec![("op", "add_evidence"), ("card", &pain_s), ("kind", "quote"), ("feedback", &quote_s)],
        vec![("op", "add_evidence"), ("card", &pain_s), ("kind", "note"), ("text", "Heard at the till")],
        vec![("op", "remove_evidence"), ("card", &pain_s), ("index", "0")],
        vec![("op", "pain_point_to_opportunity"), ("card", &pain_s), ("text", "Free shipping over $75")],
        vec![("op", "set_action"), ("card", &next_s), ("owner", "Ann"), ("due", "2026-06-01"), ("kpi", "checkout conversion")],
        vec![("op", "rename_stage"), ("stage", &stage_s), ("name", "Checkout")],
        vec![("op", "add_touchpoint"), ("stage", &ret_s), ("touchpoint", &extra_s)],
        vec![("op", "remove_touchpoint"), ("stage", &ret_s), ("touchpoint", &extra_s)],
        vec![("op", "remove_stage"), ("stage", &adv_s), ("confirm", "yes")],
    ];
    let mut version = map_version(&w.router, &w.owner, shop, map).await;
    for fields in &forms {
        let viewer = page(&w.router, Some(&w.viewer), "POST", &format!("{path}/edit"), fields).await;
        assert_eq!((viewer.status, viewer.code().as_str()), (StatusCode::FORBIDDEN, "forbidden"), "{fields:?}");
        let reply = page(&w.router, Some(&w.owner), "POST", &format!("{path}/edit"), fields).await;
        assert_eq!((reply.status, reply.location()), (StatusCode::SEE_OTHER, path.as_str()), "{fields:?}: {}", reply.text);
        let now = map_version(&w.router, &w.owner, shop, map).await;
        assert_eq!(now, version + 1, "{fields:?} is one new version");
        version = now;
    }
    // Bad fields: 400 invalid_input naming the field, and no version.
    let bad: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("op", "add_evidence"), ("card", &pain_s), ("kind", "quote"), ("feedback", "abc")], "feedback:"),
        (vec![("op", "add_evidence"), ("card", &pain_s), ("kind", "video"), ("text", "x")], "kind:"),
        (vec![("op", "add_evidence"), ("card", &pain_s), ("kind", "metric"), ("text", " ")], "evidence 3:"),
        (vec![("op", "add_evidence"), ("card", "9999"), ("kind", "metric"), ("text", "x")], "card:"),
        (vec![("op", "remove_evidence"), ("card", &pain_s), ("index", "7")], "index:"),
        (vec![("op", "pain_point_to_opportunity"), ("card", &goal_s), ("text", "x")], "card:"),
        (vec![("op", "set_action"), ("card", &next_s), ("owner", "Ann"), ("due", "next week")], "due:"),
        (vec![("op", "set_action"), ("card", &next_s), ("owner", " ")], "owner:"),
        (vec![("op", "set_action"), ("card", &next_s), ("owner", "Ann"), ("change", "999999")], "change:"),
        (vec![("op", "set_action"), ("card", &pain_s), ("owner", "Ann")], "card:"),
        (vec![("op", "rename_stage"), ("stage", &stage_s), ("name", "")], "name:"),
        (vec![("op", "remove_stage"), ("stage", &ret_s)], "confirm:"),
        (vec![("op", "add_touchpoint"), ("stage", &ret_s), ("touchpoint", "999999")], "touchpoint:"),
        (vec![("op", "remove_touchpoint"), ("stage", &ret_s), ("touchpoint", &extra_s)], "touchpoint:"),
    ];
    for (fields, named) in &bad {
        let reply = page(&w.router, Some(&w.owner), "POST", &format!("{path}/edit"), fields).await;
        assert_eq!((reply.status, reply.code().as_str()), (StatusCode::BAD_REQUEST, "invalid_input"), "{fields:?}");
        assert!(reply.text.contains(named), "{fields:?} should name {named}: {}", reply.text);
    }
    // Another business's feedback is not evidence here, by form or by the API.
    let foreign_s = foreign.to_string();
    let reply = page(&w.router, Some(&w.owner), "POST", &format!("{path}/edit"), &[("op", "add_evidence"), ("card", &pain_s), ("kind", "quote"), ("feedback", &foreign_s)]).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    let edit = json!({"op": "edit_card", "card": pain, "text": "x", "evidence": [{"kind": "quote", "feedback": foreign.0}]});
    let reply = api(&w.router, Some(&w.owner), "POST", &format!("/api/businesses/{shop}/maps/{map}/edits"), Some(edit)).await;
    assert_eq!((reply.status, reply.code().as_str()), (StatusCode::BAD_REQUEST, "invalid_input"), "{}", reply.text);
    assert_eq!(map_version(&w.router, &w.owner, shop, map).await, version);
    // What landed, read back from the app.
    let business = w.shop.clone();
    let after = w.state.try_read(move |app| Ok(app.journey_map(&business, trailmap_model::MapId(map))?.map)).await.unwrap();
    let (stage, _, card) = after.card(pain).unwrap();
    assert_eq!(stage.name, "Checkout");
    assert_eq!(card.evidence, vec![trailmap_model::Evidence::Quote { feedback: quote.feedback }, trailmap_model::Evidence::Note { text: "Heard at the till".into() }]);
    let (_, lane, opportunity) = after.card(next_card).unwrap();
    assert_eq!((lane, opportunity.from, opportunity.text.as_str()), (trailmap_model::Lane::Opportunities, Some(pain), "Free shipping over $75"));
    let action = opportunity.action.clone().unwrap();
    assert_eq!((action.owner.as_str(), action.due.map(|d| d.to_string()), action.kpi.as_deref(), action.done), ("Ann", Some("2026-06-01".into()), Some("checkout conversion"), false));
    assert!(after.stage(advocacy).is_none() && after.stages.len() == 4);
    assert!(!after.stage(retention).unwrap().touchpoints.contains(&extra));
    // The editor shows the quote as its text, the opportunity's pain point and the action, and
    // offers the quote in the picker; the page's quote search narrows the pickers.
    let shown = page(&w.router, Some(&w.owner), "GET", &path, &[]).await;
    assert_eq!(shown.status, StatusCode::OK);
    let escaped = |t: &str| t.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    let first_words: String = quote.text.split_whitespace().take(4).collect::<Vec<_>>().join(" ");
    assert!(shown.text.contains(&format!("data-testid=\"card-quote\">{}", escaped(&first_words))), "the quote's text is not on its card");
    assert!(shown.text.contains(&format!("<option value=\"{}\">", quote.feedback)));
    assert!(shown.text.contains("Answers the pain point: ") && shown.text.contains("Action: Ann by 2026-06-01") && shown.text.contains("KPI: checkout conversion"));
    assert!(shown.text.contains("name=\"confirm\"") && shown.text.contains("op\" value=\"add_touchpoint"));
    let narrowed = page(&w.router, Some(&w.owner), "GET", &format!("{path}?quotes=zzzz-no-such-words"), &[]).await;
    assert!(!narrowed.text.contains(&format!("<option value=\"{}\">", quote.feedback)));
    let viewer = page(&w.router, Some(&w.viewer), "GET", &path, &[]).await;
    assert!(viewer.text.contains(&format!("data-testid=\"card-quote\">{}", escaped(&first_words))) && !viewer.text.contains("data-edit"));
    // A share link shows the cited quote's words too, and no other feedback.
    let (token, _) = new_link(&w.router, &w.owner, shop, map, json!({})).await;
    let shared = call(&w.router, "GET", &format!("/share/{token}"), &[("accept", "text/html".to_string())], vec![]).await;
    assert!(shared.text.contains(&format!("quote: “{}", escaped(&first_words))), "the shared map lacks the quote's words");
    if let Some(other) = quotes.quotes.iter().find(|q| q.feedback != quote.feedback && q.text.len() > 20) {
        assert!(!shared.text.contains(&escaped(&other.text)), "an uncited quote is on the shared map");
    }
    // The picker's JSON equals the app's list; a bad stage or limit is a 400 naming it.
    let checkout = after.card(pain).unwrap().0.id;
    let picked = api(&w.router, Some(&w.viewer), "GET", &format!("/api/businesses/{shop}/maps/{map}/quotes?stage={checkout}&q=shipping&limit=5"), None).await;
    assert_eq!(picked.status, StatusCode::OK, "{}", picked.text);
    let business = w.shop.clone();
    let from_app = w.state.try_read(move |app| app.stage_quotes(&business, trailmap_model::MapId(map), checkout, "shipping", 5)).await.unwrap();
    assert!(from_app.n > 0);
    assert_eq!(picked.json()["n"], json!(from_app.n));
    let expected: Value = serde_json::from_str(&serde_json::to_string(&from_app.quotes).unwrap()).unwrap();
    assert_eq!(picked.json()["quotes"], expected);
    for (query, named) in [("stage=x", "stage:"), (&*format!("stage={checkout}&limit=0"), "limit:"), ("stage=77", "stage:")] {
        let reply = api(&w.router, Some(&w.owner), "GET", &format!("/api/businesses/{shop}/maps/{map}/quotes?{query}"), None).await;
        assert_eq!((reply.status, reply.code().as_str()), (StatusCode::BAD_REQUEST, "invalid_input"), "{query}");
        assert!(reply.text.contains(named), "{query}: {}", reply.text);
    }
    // Persona cards and the touchpoint catalogue as JSON equal the app's answers.
    let personas = api(&w.router, Some(&w.viewer), "GET", &format!("/api/businesses/{shop}/personas"), None).await;
    assert_eq!(personas.status, StatusCode::OK, "{}", personas.text);
    let business = w.shop.clone();
    let (coverage, catalogue) = w
        .state
        .try_read(move |app| {
            let period = Some((Timestamp::from_date("2026-06-01".parse().unwrap()), Timestamp::from_date("2026-07-01".parse().unwrap())));
            Ok((app.persona_coverage(&business)?, app.touchpoint_catalogue(&business, period)?))
        })
        .await
        .unwrap();
    let listed = personas.json()["personas"].as_array().unwrap().clone();
    assert_eq!(listed.len(), coverage.len());
    assert!(coverage.iter().any(|c| c.n > 0));
    for c in &coverage {
        let found = listed.iter().find(|p| p["persona"]["id"] == json!(c.persona.0)).unwrap();
        assert_eq!(found["n"], json!(c.n), "{}", c.name);
        assert_eq!(found["customers"], serde_json::to_value(&c.customers).unwrap());
    }
    let touchpoints = api(&w.router, Some(&w.viewer), "GET", &format!("/api/businesses/{shop}/touchpoints?from=2026-06-01&to=2026-06-30"), None).await;
    assert_eq!(touchpoints.status, StatusCode::OK, "{}", touchpoints.text);
    assert_eq!(touchpoints.json()["catalogue"], serde_json::to_value(&catalogue).unwrap());
    let bad = api(&w.router, Some(&w.viewer), "GET", &format!("/api/businesses/{shop}/touchpoints?from=2026-06-01"), None).await;
    assert_eq!((bad.status, bad.code().as_str()), (StatusCode::BAD_REQUEST, "invalid_input"));
    assert!(bad.text.contains("from and to"), "{}", bad.text);
    w.finish();
}

/// Issue 8: a file over 20 MiB is refused with 413 `too_large`, on the page (multipart) and on
/// the API (raw body); the bodies are built in memory.
#[tokio::test]
async fn an_upload_over_twenty_mib_is_413_too_large_on_the_page_and_the_api() {
    let s = surveyed();
    let big = vec![b'a'; 20 * 1024 * 1024 + 1];
    let on_page = upload(&s, &s.owner, &[("layout", "reviews")], "big.csv", &big).await;
    assert_eq!(on_page.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", &on_page.text[..on_page.text.len().min(500)]);
    assert!(on_page.text.contains("larger than 20 MiB"));
    let headers = vec![("content-type", "text/csv".to_string()), session_cookie(&s.owner.token), ("x-csrf-token", s.owner.csrf.clone())];
    let path = format!("/api/businesses/{}/feedback/import?layout=reviews", s.shop.id);
    let on_api = call(&s.router, "POST", &path, &headers, big).await;
    assert_eq!((on_api.status, on_api.code().as_str()), (StatusCode::PAYLOAD_TOO_LARGE, "too_large"));
    let app = s.finish();
    let shop = app.business(Some("Pat's Shop")).unwrap();
    assert!(app.store().feedback(shop.id).unwrap().iter().all(|f| f.source != "big.csv"), "nothing was imported");
}

// ---- issue 9: the change log over the API ----

/// POST records a change (metric and card named in text), GET lists the app's answer; a viewer
/// may read but not record; every bad field is a 400 `invalid_input` naming it.
#[tokio::test]
async fn the_change_log_api_records_and_lists_what_the_app_does() {
    let w = analysed();
    let path = format!("/api/businesses/{}/changes", w.shop.id);
    let body = json!({
        "title": "Shipping cost shown in the cart",
        "date": "2026-07-01",
        "touchpoints": ["cart", "checkout"],
        "stages": ["Purchase"],
        "metric": "conversion:checkout_started>purchase:7d",
        "owner": "Priya",
        "answers": "Thread & Needle: online shopping journey:Most shoppers who start checkout leave at the shipping step",
    });
    let created = api(&w.router, Some(&w.owner), "POST", &path, Some(body.clone())).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let created = created.json();
    assert_eq!(created["touchpoints"], json!(["Cart", "Checkout"]));
    assert_eq!(created["metric"], json!({"kind": "step_conversion", "from": "checkout_started", "to": "purchase", "window_days": 7}));
    assert_eq!(created["answers"]["kind"], json!("pain_point"));
    // The structured forms a listed change carries are accepted back.
    let again = json!({"title": "Again", "date": "2026-07-02", "metric": created["metric"].clone(), "answers": {"map": created["answers"]["map"].clone(), "card": created["answers"]["card"].clone()}});
    let again = api(&w.router, Some(&w.owner), "POST", &path, Some(again)).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text);

    let viewer = api(&w.router, Some(&w.viewer), "POST", &path, Some(body.clone())).await;
    assert_eq!((viewer.status, viewer.code().as_str()), (StatusCode::FORBIDDEN, "forbidden"));
    let read = api(&w.router, Some(&w.viewer), "GET", &path, None).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text);
    let listed = read.json();

    let with = |key: &str, value: Value| {
        let mut b = body.clone();
        b[key] = value;
        b
    };
    let bad = [
        (with("title", json!(" ")), "title"),
        (with("date", json!("1 July")), "date"),
        (with("touchpoints", json!(["Billboard"])), "touchpoints \"Billboard\""),
        (with("stages", json!(["Delight"])), "stages \"Delight\""),
        (with("metric", json!("conversion:purchase")), "metric \"conversion:purchase\""),
        (with("metric", json!("conversion:checkout_begun>purchase")), "metric \"conversion:checkout_begun>purchase:7d\""),
        (with("metric", json!({"kind": "reach"})), "metric"),
        (with("metric", json!("new-customers:Friends")), "metric"),
        (with("answers", json!("Thread & Needle: online shopping journey:No such card")), "answers"),
        (with("answers", json!({"map": 999, "card": 1})), "answers"),
    ];
    for (body, field) in bad {
        let reply = api(&w.router, Some(&w.owner), "POST", &path, Some(body.clone())).await;
        assert_eq!((reply.status, reply.code().as_str()), (StatusCode::BAD_REQUEST, "invalid_input"), "{body}: {}", reply.text);
        let message = reply.json()["error"]["message"].as_str().unwrap().to_string();
        assert!(message.starts_with(field), "{field}: {message}");
    }
    let shop = w.shop.clone();
    let app = w.finish();
    let expected = serde_json::to_value(app.changes(&shop).unwrap()).unwrap();
    assert_eq!(listed, expected);
    assert_eq!(listed.as_array().unwrap().len(), 3, "the two recorded and the demo's; no bad request wrote");
    assert_eq!(listed[0]["title"], json!("Again"));
    assert_eq!(listed[1], created);
}

// ---- issue 9: impact and insights over the API and on pages ----

/// A change's impact and the business's insights answer over the API exactly what the app
/// computes; the pages show the verdict (with its n), the windows, the method, and the findings in
/// the API's order; a bad query is a 400 naming its field; a change recorded on the page that
/// names a metric opens its impact page, and a refused one comes back with the reason and the
/// values typed.
#[tokio::test]
async fn impact_and_insights_answer_what_the_app_computes_on_the_api_and_the_pages() {
    let w = analysed();
    let shop = w.shop.clone();
    let changes = api(&w.router, Some(&w.viewer), "GET", &format!("/api/businesses/{}/changes", shop.id), None).await.json();
    let change = changes[0]["id"].as_i64().unwrap();
    let impact_path = format!("/api/businesses/{}/changes/{change}/impact", shop.id);
    let impact = api(&w.router, Some(&w.viewer), "GET", &impact_path, None).await;
    assert_eq!(impact.status, StatusCode::OK, "{}", impact.text);
    let impact = impact.json();
    let verdict = impact["verdict"].as_str().unwrap().to_string();
    assert!(verdict.contains("n = "), "{verdict}");
    let asked = api(&w.router, Some(&w.viewer), "GET", &format!("{impact_path}?days=60&ramp_up=7"), None).await;
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.text);
    for (query, field) in [
        ("days=many", "days"),
        ("days=4000", "days \"4000\""),
        ("ramp_up=-1", "ramp_up"),
        ("ramp_up=4000", "ramp_up \"4000\""),
        ("control=bogus", "control"),
        ("confidence=2", "confidence"),
    ] {
        let reply = api(&w.router, Some(&w.viewer), "GET", &format!("{impact_path}?{query}"), None).await;
        assert_eq!((reply.status, reply.code().as_str()), (StatusCode::BAD_REQUEST, "invalid_input"), "{query}: {}", reply.text);
        assert!(reply.json()["error"]["message"].as_str().unwrap().starts_with(field), "{query}: {}", reply.text);
    }
    let outsider = api(&w.router, Some(&w.outsider), "GET", &impact_path, None).await;
    assert_eq!(outsider.status, StatusCode::NOT_FOUND);
    let insights = api(&w.router, Some(&w.viewer), "GET", &format!("/api/businesses/{}/insights", shop.id), None).await;
    assert_eq!(insights.status, StatusCode::OK, "{}", insights.text);
    let insights = insights.json();
    let bad_period = api(&w.router, Some(&w.viewer), "GET", &format!("/api/businesses/{}/insights?from=2026-01-01", shop.id), None).await;
    assert_eq!((bad_period.status, bad_period.code().as_str()), (StatusCode::BAD_REQUEST, "invalid_input"));

    // The pages.
    let list = page(&w.router, Some(&w.viewer), "GET", &format!("/b/{}/changes", shop.id), &[]).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.text.contains(&format!("href=\"/b/{}/changes/{change}\"", shop.id)), "the change links to its impact");
    assert!(!list.text.contains("data-testid=\"change-form\""), "a viewer gets no form");
    let shown = page(&w.router, Some(&w.viewer), "GET", &format!("/b/{}/changes/{change}", shop.id), &[]).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.text);
    assert!(shown.text.contains(&maud::html! { (verdict) }.into_string()), "the page shows the API's verdict");
    assert!(shown.text.contains("data-testid=\"method\"") && shown.text.contains("<svg"));
    let refused = page(&w.router, Some(&w.viewer), "GET", &format!("/b/{}/changes/{change}?days=many", shop.id), &[]).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.text.contains("data-testid=\"refused\""));
    let found = page(&w.router, Some(&w.viewer), "GET", &format!("/b/{}/insights", shop.id), &[]).await;
    assert_eq!(found.status, StatusCode::OK);
    let kinds_on_page: Vec<&str> = found.text.split("class=\"card insight\" data-kind=\"").skip(1).map(|r| r.split('"').next().unwrap()).collect();
    let kinds_in_api: Vec<&str> = insights["findings"].as_array().unwrap().iter().map(|f| f["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds_on_page, kinds_in_api, "the page lists the findings in the API's order");

    let bad = [("title", "Cart banner"), ("date", "2026-08-01"), ("metric", "conversion:nothing>purchase"), ("owner", "Sam")];
    let refused = page(&w.router, Some(&w.owner), "POST", &format!("/b/{}/changes", shop.id), &bad).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert!(refused.text.contains("data-testid=\"refused\"") && refused.text.contains("metric"));
    assert!(refused.text.contains("value=\"Cart banner\""), "what was typed stays");
    let good = [("title", "Cart banner"), ("date", "2026-08-01"), ("metric", "conversion:checkout_started>purchase:7d"), ("touchpoints", "cart")];
    let recorded = page(&w.router, Some(&w.owner), "POST", &format!("/b/{}/changes", shop.id), &good).await;
    assert_eq!(recorded.status, StatusCode::SEE_OTHER, "{}", recorded.text);
    assert!(recorded.location().starts_with(&format!("/b/{}/changes/", shop.id)), "{}", recorded.location());

    let app = w.finish();
    let expected = app.change_impact(&shop, trailmap_model::ChangeId(change), &trailmap_app::impact::ImpactRequest::default()).unwrap();
    // Both sides go through the same text parse, so floats compare bit for bit.
    let reparsed = |value: String| serde_json::from_str::<Value>(&value).unwrap();
    assert_eq!(impact, reparsed(serde_json::to_string(&expected).unwrap()));
    let today = Timestamp::from_millis(wall_clock()).date();
    let expected = app.insights(&shop, &trailmap_app::insights::InsightsRequest { period: None, today }).unwrap();
    assert_eq!(insights, reparsed(serde_json::to_string(&expected).unwrap()));
    let log = app.changes(&shop).unwrap();
    assert_eq!(log.iter().filter(|c| c.title == "Cart banner").count(), 1, "the refused post wrote nothing");
}

/// The change log, a change's impact and the insights in headless Chromium, driven by
/// `browser/act.mjs` over the demo in a store file. Screenshots go to SCREENSHOT_DIR (or
/// `target/browser-screenshots`) as act-*.png.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_impact_and_insights_work_in_headless_chromium() {
    if playwright_chromium().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("act.sqlite");
    let mut app = App::open(&db).unwrap();
    let now = Timestamp::from_millis(wall_clock());
    let user = app.create_user("owner@example.com", "Priya Patel", PASSWORD, now).unwrap();
    // The default demo's size, where the planted effect is clear enough for a verdict.
    app.demo(&trailmap_app::DemoOptions::default()).unwrap();
    app.adopt_unowned_businesses(user.id).unwrap();
    let shop = app.business(Some("Thread & Needle")).unwrap();
    let (tracker, writer) = Writer::start(app);
    let state = ServerState::new(tracker, db);
    let env = vec![
        ("TRAILMAP_EMAIL", "owner@example.com".to_string()),
        ("TRAILMAP_PASSWORD", PASSWORD.to_string()),
        ("BUSINESS_ID", shop.id.to_string()),
    ];
    let (stdout, shots) = run_browser_script(router(state), "act.mjs", env).await;
    for step in [
        "step: change log with 1 changes",
        "step: impact verdict: checkout conversion rose",
        "step: refused naming the field (metric",
        "step: recorded, on its impact page",
        "step: top insight:",
        "step: followed the top insight to its customers",
        "step: phone width",
    ] {
        assert!(stdout.contains(step), "missing step {step:?}:\n{stdout}");
    }
    assert!(stdout.lines().last() == Some("ok"), "{stdout}");
    for name in ["1-changes", "2-impact", "3-refused", "4-insights", "5-phone-insights"] {
        assert!(shots.join(format!("act-{name}.png")).metadata().unwrap().len() > 1000, "act-{name}.png is missing or empty");
    }
    drop(writer);
}
