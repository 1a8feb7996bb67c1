//! Personas a business makes itself, on a business made from zero: visits and traits sent through
//! the tracking API, orders imported through the app, then persona cards made, edited, counted
//! and deleted through the JSON API, through the plain forms of the pages (no JavaScript), and in
//! headless Chromium (`browser/personas.mjs`: a rule built in the page with its live count, a
//! photo uploaded, an edit, a suggested persona accepted, coverage seen).

use super::{Actor, PASSWORD, Reply, actor, api, basic, call, page, playwright_chromium, run_browser_script, session_cookie, wall_clock};
use axum::Router;
use axum::http::StatusCode;
use base64::Engine;
use serde_json::{Value, json};
use std::io::Write;
use trailmap_app::{App, ImportRequest, MapEdit, MapTemplate, RecordKind};
use trailmap_model::{Business, PersonaId, Role, Timestamp};
use trailmap_server::{ServerState, Writer, generate_write_key, hash_write_key, router};
use trailmap_store::Store;

/// A PNG's signature and first chunk header: enough for the type check (the access world's photo).
pub const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

/// A real `size` x `size` PNG: a face-like disc, for the browser to draw.
pub fn avatar_png(size: u32) -> Vec<u8> {
    let mut raw = Vec::new();
    let c = size as f32 / 2.0;
    for y in 0..size {
        raw.push(0); // no filter
        for x in 0..size {
            let d = |cx: f32, cy: f32| ((x as f32 - cx).powi(2) + (y as f32 - cy).powi(2)).sqrt();
            let eye = d(c * 0.7, c * 0.8) < c * 0.09 || d(c * 1.3, c * 0.8) < c * 0.09;
            let pixel = if eye { [31, 41, 51] } else if d(c, c) < c * 0.8 { [240, 190, 140] } else { [47, 111, 94] };
            raw.extend_from_slice(&pixel);
        }
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&raw).unwrap();
    let data = z.finish().unwrap();
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = |kind: &[u8; 4], body: &[u8]| {
        out.extend_from_slice(&(body.len() as u32).to_be_bytes());
        out.extend_from_slice(kind);
        out.extend_from_slice(body);
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(body);
        out.extend_from_slice(&crc.sum().to_be_bytes());
    };
    let mut header = Vec::new();
    header.extend_from_slice(&size.to_be_bytes());
    header.extend_from_slice(&size.to_be_bytes());
    header.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB
    chunk(b"IHDR", &header);
    chunk(b"IDAT", &data);
    chunk(b"IEND", &[]);
    out
}

pub(super) struct Cafe {
    pub(super) router: Router,
    pub(super) state: ServerState,
    tracker: Writer,
    writer: std::thread::JoinHandle<App>,
    pub(super) owner: Actor,
    pub(super) viewer: Actor,
    pub(super) business: Business,
    dir: tempfile::TempDir,
    /// The write key its visits were sent with.
    pub(super) key: String,
}

impl Cafe {
    pub(super) fn finish(self) -> App {
        drop(self.router);
        drop(self.state);
        drop(self.tracker);
        self.writer.join().unwrap()
    }

    fn path(&self, rest: &str) -> String {
        format!("/api/businesses/{}/personas{rest}", self.business.id)
    }
}

/// Who visits first, when, and the UTM tags that give their channel.
const VISITS: [(&str, &str, &str); 5] = [
    ("ann", "2026-01-05T09:00:00Z", "utm_source=friend&utm_medium=referral"),
    ("bob", "2026-01-05T09:30:00Z", "utm_source=friend&utm_medium=referral"),
    ("cat", "2026-01-06T10:00:00Z", "utm_source=instagram&utm_medium=paid_social"),
    ("dan", "2026-01-07T11:00:00Z", "utm_source=google&utm_medium=organic"),
    ("eve", "2026-01-08T12:00:00Z", "utm_source=newsletter&utm_medium=email"),
];

const ORDERS: &str = "order_id,time,customer_id,total
A-1,2026-01-10T10:00:00Z,ann,10
A-2,2026-01-20T10:00:00Z,ann,20
A-3,2026-02-01T10:00:00Z,ann,30
B-1,2026-01-12T10:00:00Z,bob,15
C-1,2026-01-15T10:00:00Z,cat,25
C-2,2026-01-25T10:00:00Z,cat,25
E-1,2026-01-09T10:00:00Z,eve,5
E-2,2026-01-19T10:00:00Z,eve,5
E-3,2026-01-29T10:00:00Z,eve,5
E-4,2026-02-08T10:00:00Z,eve,5
";

/// "Corner Cafe" made from zero: an owner and a viewer, visits and traits through the tracking
/// API, orders through the app's import. With `more_buyers`, twelve more customers with orders
/// (six one-off email buyers, six referral regulars), enough to cluster for suggestions.
pub(super) async fn cafe(more_buyers: bool) -> Cafe {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cafe.sqlite");
    let mut app = App::open(&db).unwrap();
    let now = Timestamp::from_millis(wall_clock());
    let owner = actor(&mut app, "olive@example.com", "Olive Owner", now);
    let viewer = actor(&mut app, "vic@example.com", "Vic Viewer", now);
    let business = app.create_business_owned(owner.user.id, "Corner Cafe", "EUR", "Europe/London").unwrap();
    app.set_member(business.id, viewer.user.id, Role::Viewer).unwrap();
    let key = generate_write_key();
    app.create_write_key(&business, "website", &hash_write_key(&key)).unwrap();
    let (tracker, writer) = Writer::start(app);
    let state = ServerState::new(tracker.clone(), db);
    let router = router(state.clone());

    let mut visits: Vec<(String, String, String)> = VISITS.iter().map(|(w, t, u)| (w.to_string(), t.to_string(), u.to_string())).collect();
    let mut orders = ORDERS.to_string();
    if more_buyers {
        for i in 0..12 {
            let (utm, count) = if i % 2 == 0 { ("utm_source=newsletter&utm_medium=email", 1) } else { ("utm_source=friend&utm_medium=referral", 6) };
            visits.push((format!("g{i}"), "2026-01-02T08:00:00Z".into(), utm.into()));
            for k in 0..count {
                orders.push_str(&format!("G{i}-{k},2026-01-{:02}T09:00:00Z,g{i},{}\n", 3 + k * 4, 4 + i));
            }
        }
    }
    let mut batch: Vec<Value> = visits
        .iter()
        .map(|(who, at, utm)| {
            json!({"type": "page", "userId": who, "messageId": format!("visit-{who}"), "timestamp": at,
                "context": {"page": {"url": format!("https://cafe.example/?{utm}")}}})
        })
        .collect();
    // Traits come after the first visits: a customer's first channel is their first event's.
    for (who, plan) in [("ann", "pro"), ("bob", "basic"), ("cat", "pro")] {
        batch.push(json!({"type": "identify", "userId": who, "messageId": format!("traits-{who}"), "timestamp": "2026-01-09T08:00:00Z", "traits": {"plan": plan}}));
    }
    let headers = [("content-type", "application/json".to_string()), ("authorization", basic(&key))];
    let sent = call(&router, "POST", "/v1/batch", &headers, serde_json::to_vec(&json!({ "batch": batch })).unwrap()).await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.text);
    let file = dir.path().join("orders.csv");
    std::fs::write(&file, orders).unwrap();
    let b = business.clone();
    state
        .try_write(move |app| {
            app.import(ImportRequest::new(RecordKind::Orders, &file, &b))
        })
        .await
        .unwrap();
    Cafe { router, state, tracker, writer, owner, viewer, business, dir, key }
}

/// The customer ids of the named visitors, sorted, as the API lists them.
async fn ids(c: &Cafe, names: &[&str]) -> Value {
    let b = c.business.clone();
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let mut ids: Vec<i64> = c
        .state
        .try_read(move |app| {
            let customers = app.store().customers(b.id, usize::MAX, 0)?;
            Ok(names.iter().map(|n| customers.iter().find(|c| c.external_id.as_deref() == Some(n.as_str())).expect("a customer").id.0).collect())
        })
        .await
        .unwrap();
    ids.sort();
    json!(ids)
}

fn data_uri(bytes: &[u8]) -> String {
    format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(bytes))
}

#[tokio::test]
async fn the_api_makes_counts_edits_and_deletes_personas_on_a_business_made_from_zero() {
    let c = cafe(false).await;
    let photo = avatar_png(48);
    let made = api(&c.router, Some(&c.owner), "POST", &c.path(""), Some(json!({
        "name": "Loyal referrals", "rule": "orders >= 2 & first_channel = Referral", "photo": data_uri(&photo),
        "demographics": [{"label": "Age", "value": "30-45"}], "goals": ["Bring friends along"], "quote": "The barista knows my order."
    })))
    .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    let loyal = made.json();
    let loyal_id = loyal["persona"]["id"].as_i64().unwrap();
    assert_eq!(loyal["persona"]["rule"], json!("orders>=2 & first_channel=Referral"));
    assert_eq!((loyal["n"].clone(), loyal["customers"].clone()), (json!(1), ids(&c, &["ann"]).await));
    assert_eq!(loyal["photo_url"], json!(format!("/api/businesses/{}/personas/{loyal_id}/photo", c.business.id)));
    // The photo comes back as stored, with its own type, never sniffed.
    let served = call(&c.router, "GET", loyal["photo_url"].as_str().unwrap(), &[session_cookie(&c.viewer.token)], vec![]).await;
    assert_eq!((served.status, served.headers["content-type"].to_str().unwrap()), (StatusCode::OK, "image/png"));
    assert_eq!(served.headers["x-content-type-options"], "nosniff");
    assert_eq!(served.text, String::from_utf8_lossy(&photo));

    let made = api(&c.router, Some(&c.owner), "POST", &c.path(""), Some(json!({"name": "Repeat buyers", "initials": "RB", "rule": "orders>=2"}))).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    let repeat = made.json();
    let repeat_id = repeat["persona"]["id"].as_i64().unwrap();
    assert_eq!(repeat["persona"]["matches"]["customers"], ids(&c, &["ann", "cat", "eve"]).await);
    assert_eq!(repeat["customers"], ids(&c, &["cat", "eve"]).await, "Ann counts for the earlier persona");
    assert_eq!(repeat["persona"]["counted_earlier"][0]["name"], json!("Loyal referrals"));

    let listed = api(&c.router, Some(&c.viewer), "GET", &c.path(""), None).await.json();
    assert_eq!((listed["customers"].clone(), listed["unassigned"]["customers"].clone()), (json!(5), ids(&c, &["bob", "dan"]).await));
    assert!(listed["precedence"].as_str().unwrap().starts_with("Each customer counts for one persona"));
    // The board is the app's.
    let b = c.business.clone();
    let board = c.state.try_read(move |app| app.persona_board(&b)).await.unwrap();
    for (card, out) in board.personas.iter().zip(listed["personas"].as_array().unwrap()) {
        assert_eq!(out["persona"], serde_json::to_value(card).unwrap());
    }

    // The live count: the customers a rule matches, and those it would cover as a new persona.
    let (router, viewer) = (&c.router, &c.viewer);
    let count = |rule: &str| {
        let path = c.path(&format!("/preview?rule={}", urlencode(rule)));
        async move { api(router, Some(viewer), "GET", &path, None).await }
    };
    let preview = count("first_channel=Referral|Email & !property:plan=basic").await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.text);
    let preview = preview.json();
    assert_eq!((preview["customers"].clone(), preview["matches"]["customers"].clone()), (json!(5), ids(&c, &["ann", "eve"]).await));
    assert_eq!(preview["covers"]["n"], json!(0), "Ann and Eve count for the two earlier personas");
    assert_eq!(preview["counted_earlier"].as_array().unwrap().len(), 2);
    let traits = count("property:plan=pro").await.json();
    assert_eq!(traits["matches"]["customers"], ids(&c, &["ann", "cat"]).await, "traits from identify calls");
    let bad = count("orders>=2 & first_chanel=Email").await;
    assert_eq!((bad.status, bad.code().as_str()), (StatusCode::BAD_REQUEST, "invalid_input"));
    assert!(bad.json()["error"]["message"].as_str().unwrap().starts_with("rule \"orders>=2 & first_chanel=Email\": at character 13: unknown field \"first_chanel\""), "{}", bad.text);

    // Bad photos and rules are refused with the reason, and nothing is written.
    let big = [PNG.to_vec(), vec![0; 300 * 1024]].concat();
    let refused = api(&c.router, Some(&c.owner), "POST", &c.path(""), Some(json!({"name": "Too big", "photo": data_uri(&big)}))).await;
    assert_eq!((refused.status, refused.code().as_str()), (StatusCode::BAD_REQUEST, "invalid_input"), "{}", refused.text);
    assert!(refused.text.contains("photo: 300.0 KiB is over the limit of 256 KiB"), "{}", refused.text);
    let gif = format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(b"GIF89a\x01\0\x01\0"));
    let refused = api(&c.router, Some(&c.owner), "PATCH", &c.path(&format!("/{loyal_id}")), Some(json!({"photo": gif}))).await;
    assert!(refused.status == StatusCode::BAD_REQUEST && refused.text.contains("not a PNG, JPEG or WebP"), "{}", refused.text);
    let refused = api(&c.router, Some(&c.owner), "PATCH", &c.path(&format!("/{loyal_id}")), Some(json!({"rule": "orders>>2"}))).await;
    assert!(refused.status == StatusCode::BAD_REQUEST && refused.text.contains("at character 8"), "{}", refused.text);
    let taken = api(&c.router, Some(&c.owner), "POST", &c.path(""), Some(json!({"name": "repeat BUYERS"}))).await;
    assert_eq!((taken.status, taken.code().as_str()), (StatusCode::CONFLICT, "conflict"), "{}", taken.text);
    assert_eq!(api(&c.router, Some(&c.viewer), "GET", &c.path(""), None).await.json()["personas"].as_array().unwrap().len(), 2);
    assert_eq!(api(&c.router, Some(&c.viewer), "GET", &c.path(&format!("/{loyal_id}")), None).await.json()["persona"]["rule"], loyal["persona"]["rule"]);

    // PATCH: what is sent changes, what is left out stays, null clears.
    let patched = api(&c.router, Some(&c.owner), "PATCH", &c.path(&format!("/{repeat_id}")), Some(json!({"rule": "orders>=2 & first_channel!=Referral", "quote": "Same again, please."}))).await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
    let patched = patched.json();
    assert_eq!((patched["persona"]["initials"].clone(), patched["persona"]["quote"].clone()), (json!("RB"), json!("Same again, please.")));
    assert_eq!((patched["n"].clone(), patched["persona"]["counted_earlier"].clone()), (json!(2), json!([])));
    let cleared = api(&c.router, Some(&c.owner), "PATCH", &c.path(&format!("/{loyal_id}")), Some(json!({"photo": null, "rule": null}))).await.json();
    assert_eq!((cleared["photo_url"].clone(), cleared["persona"]["rule"].clone(), cleared["n"].clone()), (Value::Null, Value::Null, json!(0)));
    assert_eq!(cleared["persona"]["goals"], json!(["Bring friends along"]));
    let gone = call(&c.router, "GET", &c.path(&format!("/{loyal_id}/photo")), &[session_cookie(&c.viewer.token)], vec![]).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);

    // A persona on a map stays until the map lets it go.
    let b = c.business.clone();
    let map = c
        .state
        .try_write(move |app| {
            let map = app.create_map(&b, "Morning visit", MapTemplate::Blank, "olive")?;
            app.edit_map(&b, map.id, &MapEdit::AddPersona { persona: PersonaId(repeat_id) }, "olive")?;
            Ok(map.id)
        })
        .await
        .unwrap();
    let held = api(&c.router, Some(&c.owner), "DELETE", &c.path(&format!("/{repeat_id}")), None).await;
    assert_eq!((held.status, held.code().as_str()), (StatusCode::CONFLICT, "conflict"));
    assert!(held.text.contains("is on the map \\\"Morning visit\\\""), "{}", held.text);
    let b = c.business.clone();
    c.state.try_write(move |app| app.edit_map(&b, map, &MapEdit::RemovePersona { persona: PersonaId(repeat_id) }, "olive")).await.unwrap();
    let deleted = api(&c.router, Some(&c.owner), "DELETE", &c.path(&format!("/{repeat_id}")), None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text);
    assert_eq!(api(&c.router, Some(&c.viewer), "GET", &c.path(&format!("/{repeat_id}")), None).await.status, StatusCode::NOT_FOUND);
    c.finish();
}

fn urlencode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[tokio::test]
async fn a_suggested_persona_becomes_a_card_through_the_api() {
    let c = cafe(true).await;
    let few = cafe(false).await;
    let refused = api(&few.router, Some(&few.viewer), "GET", &few.path("/suggestions"), None).await;
    assert_eq!((refused.status, refused.code().as_str()), (StatusCode::BAD_REQUEST, "invalid_input"));
    assert!(refused.text.contains("at least 10 customers with an order"), "{}", refused.text);
    few.finish();
    let bad = api(&c.router, Some(&c.viewer), "GET", &c.path("/suggestions?k=two"), None).await;
    assert!(bad.status == StatusCode::BAD_REQUEST && bad.text.contains("k \\\"two\\\": expected a whole number"), "{}", bad.text);
    let suggested = api(&c.router, Some(&c.viewer), "GET", &c.path("/suggestions?k=2&seed=7"), None).await;
    assert_eq!(suggested.status, StatusCode::OK, "{}", suggested.text);
    let first = suggested.json()["clusters"][0].clone();
    let rule = first["rule_text"].as_str().unwrap().to_string();
    let made = api(&c.router, Some(&c.owner), "POST", &c.path(""), Some(json!({"name": first["name"], "behaviours": [first["description"]], "rule": rule}))).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    let counted = api(&c.router, Some(&c.viewer), "GET", &c.path(&format!("/preview?rule={}", urlencode(&rule))), None).await.json();
    assert_eq!(made.json()["persona"]["matches"], counted["matches"]);
    assert!(counted["matches"]["n"].as_u64().unwrap() > 0, "{rule}");
    c.finish();
}

const BOUNDARY: &str = "persona-form-boundary";

/// The persona form as the browser posts it: multipart, with the photo as a file when given.
async fn post_form(c: &Cafe, path: &str, fields: &[(&str, &str)], photo: Option<&[u8]>) -> Reply {
    let mut body = Vec::new();
    let csrf = [("csrf", c.owner.csrf.as_str())];
    for (name, value) in csrf.iter().chain(fields) {
        body.extend_from_slice(format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes());
    }
    body.extend_from_slice(format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"{}\"\r\nContent-Type: image/png\r\n\r\n", if photo.is_some() { "me.png" } else { "" }).as_bytes());
    body.extend_from_slice(photo.unwrap_or_default());
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    let headers = [("content-type", format!("multipart/form-data; boundary={BOUNDARY}")), session_cookie(&c.owner.token)];
    call(&c.router, "POST", path, &headers, body).await
}

/// The number in the element with `data-testid="{testid}"` (the first one).
fn number(page: &str, testid: &str) -> Option<u64> {
    page.split(&format!("data-testid=\"{testid}\">")).nth(1)?.split('<').next()?.trim().parse().ok()
}

#[tokio::test]
async fn the_pages_make_count_and_edit_a_persona_with_plain_forms() {
    let c = cafe(false).await;
    let base = format!("/b/{}/personas", c.business.id);
    let empty = page(&c.router, Some(&c.owner), "GET", &base, &[]).await;
    assert!(empty.text.contains("data-testid=\"no-personas\"") && empty.text.contains("data-testid=\"new-persona\""), "{}", empty.text);
    let viewer = page(&c.router, Some(&c.viewer), "GET", &base, &[]).await;
    assert!(!viewer.text.contains("data-testid=\"new-persona\""), "viewers get no form to fill");
    let form = page(&c.router, Some(&c.owner), "GET", &format!("{base}/new"), &[]).await;
    assert_eq!(form.status, StatusCode::OK);
    assert_eq!(form.text.matches("data-testid=\"rule-row\"").count(), 3);

    // "Count customers" counts the rule the rows build, and saves nothing.
    let rows = [("name", "Loyal referrals"), ("rule_from", "rows"), ("field_1", "orders"), ("op_1", ">="), ("value_1", "2"), ("field_2", "first_channel"), ("op_2", "="), ("value_2", "Referral")];
    let counted = post_form(&c, &base, &[&rows[..], &[("action", "count")]].concat(), None).await;
    assert_eq!(counted.status, StatusCode::OK, "{}", counted.text);
    assert_eq!((number(&counted.text, "live-matches"), number(&counted.text, "live-covers")), (Some(1), Some(1)));
    assert!(counted.text.contains("value=\"Loyal referrals\""), "the form keeps what was typed");
    assert_eq!(form_cards(&c).await, 0);

    // Saved with a photo: the board shows it, its rule, and what it covers out of every customer.
    let photo = avatar_png(32);
    let saved = post_form(&c, &base, &[&rows[..], &[("action", "save"), ("goals", "Bring friends\n\nA quiet corner"), ("demographics", "Age: 30-45")]].concat(), Some(&photo)).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text);
    let id = saved.location().split("#persona-").nth(1).unwrap().parse::<i64>().unwrap();
    let board = page(&c.router, Some(&c.viewer), "GET", &base, &[]).await;
    let card = board.text.split(&format!("data-persona=\"{id}\"")).nth(1).unwrap();
    assert!(card.contains(&format!("src=\"/api/businesses/{}/personas/{id}/photo\"", c.business.id)), "{card}");
    assert!(card.contains("<code data-testid=\"rule\">orders&gt;=2 &amp; first_channel=Referral</code>"), "{card}");
    assert!(card.contains("<li>A quiet corner</li>") && card.contains("<dt>Age</dt>"), "{card}");
    assert_eq!(number(card, "coverage-n"), Some(1));
    assert!(board.text.contains("Each customer counts for one persona"), "the page says how overlaps resolve");

    // A second persona overlapping the first says where the overlap went.
    let text = [("name", "Repeat buyers"), ("rule_from", "text"), ("rule", "orders>=2"), ("action", "save")];
    assert_eq!(post_form(&c, &base, &text, None).await.status, StatusCode::SEE_OTHER);
    let board = page(&c.router, Some(&c.viewer), "GET", &base, &[]).await;
    let overlap = board.text.split("data-testid=\"overlap\"").nth(1).unwrap();
    assert!(overlap.contains("count for <strong>Loyal referrals</strong>"), "{overlap}");
    assert_eq!((number(overlap, "matches-n"), number(overlap, "overlap-n")), (Some(3), Some(1)));

    // Refused: a rule that does not read (with its character), and a photo too big; the values
    // stay and nothing is written.
    let bad = [("name", "Broken"), ("rule_from", "text"), ("rule", "orders>=2 first_channel=Email"), ("quote", "Kept"), ("action", "save")];
    let refused = post_form(&c, &base, &bad, None).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.text.contains("at character 11: expected &quot;&amp;&quot; between conditions"), "{}", refused.text);
    assert!(refused.text.contains("value=\"Kept\"") && refused.text.contains("Nothing was saved."));
    let big = [PNG.to_vec(), vec![0; 300 * 1024]].concat();
    let refused = post_form(&c, &base, &[("name", "Too big"), ("action", "save")], Some(&big)).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.text.contains("photo: 300.0 KiB is over the limit of 256 KiB") && refused.text.contains("choose the photo again"), "{}", refused.text);
    assert_eq!(form_cards(&c).await, 2);

    // The edit form shows the rule as rows; saving keeps the photo unless asked to remove it.
    let edit = page(&c.router, Some(&c.owner), "GET", &format!("{base}/{id}/edit"), &[]).await;
    assert!(edit.text.contains("<option value=\"first_channel\" selected>") && edit.text.contains("name=\"value_2\" value=\"Referral\""), "{}", edit.text);
    let rule_rows = &rows[1..];
    let renamed = [rule_rows, &[("name", "Referral regulars"), ("action", "save")]].concat();
    assert_eq!(post_form(&c, &format!("{base}/{id}"), &renamed, None).await.status, StatusCode::SEE_OTHER);
    let b = c.business.clone();
    let stored = c.state.try_read(move |app| app.persona(&b, PersonaId(id))).await.unwrap();
    // The form is the whole card: goals left empty are cleared; the photo stays unless removed.
    assert_eq!((stored.name.as_str(), stored.photo.is_some(), stored.goals.len()), ("Referral regulars", true, 0));
    let removed = [rule_rows, &[("name", "Referral regulars"), ("remove_photo", "on"), ("action", "save")]].concat();
    assert_eq!(post_form(&c, &format!("{base}/{id}"), &removed, None).await.status, StatusCode::SEE_OTHER);
    let b = c.business.clone();
    assert_eq!(c.state.try_read(move |app| app.persona(&b, PersonaId(id))).await.unwrap().photo, None);

    // Delete: viewers may not; an editor's goes through.
    let as_viewer = page(&c.router, Some(&c.viewer), "POST", &format!("{base}/{id}/delete"), &[]).await;
    assert_eq!(as_viewer.status, StatusCode::FORBIDDEN);
    let deleted = page(&c.router, Some(&c.owner), "POST", &format!("{base}/{id}/delete"), &[]).await;
    assert_eq!((deleted.status, deleted.location()), (StatusCode::SEE_OTHER, base.as_str()));
    assert_eq!(form_cards(&c).await, 1);
    c.finish();
}

async fn form_cards(c: &Cafe) -> usize {
    let b = c.business.clone();
    c.state.try_read(move |app| app.personas(&b)).await.unwrap().len()
}

/// The personas pages in headless Chromium (`browser/personas.mjs`) on the cafe with enough
/// buyers for suggestions. Screenshots go to SCREENSHOT_DIR (or `target/browser-screenshots`) as
/// personas-*.png.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn personas_are_made_counted_edited_and_suggested_in_headless_chromium() {
    if playwright_chromium().is_none() {
        return;
    }
    let c = cafe(true).await;
    let photo = c.dir.path().join("olive.png");
    std::fs::write(&photo, avatar_png(96)).unwrap();
    let env = vec![
        ("TRAILMAP_EMAIL", "olive@example.com".to_string()),
        ("TRAILMAP_PASSWORD", PASSWORD.to_string()),
        ("BUSINESS_ID", c.business.id.to_string()),
        ("PHOTO", photo.display().to_string()),
    ];
    let (stdout, shots) = run_browser_script(c.router.clone(), "personas.mjs", env).await;
    for step in [
        "step: no personas yet",
        "step: live count follows the rule",
        "step: saved with its photo",
        "step: a rule that does not read names its character",
        "step: edited",
        "step: suggestion accepted",
        "step: coverage",
        "step: phone width",
    ] {
        assert!(stdout.contains(step), "missing step {step:?}:\n{stdout}");
    }
    assert!(stdout.lines().last() == Some("ok"), "{stdout}");
    for name in ["1-empty", "2-counting", "3-board", "4-bad-rule", "5-edited", "6-suggestions", "7-from-suggestion", "8-coverage", "9-phone"] {
        assert!(shots.join(format!("personas-{name}.png")).metadata().unwrap().len() > 1000, "personas-{name}.png is missing or empty");
    }
    // What the browser made is in the store: two personas, one with the uploaded photo.
    let app = c.finish();
    let business = app.business(Some("Corner Cafe")).unwrap();
    let personas = app.personas(&business).unwrap();
    assert_eq!(personas.len(), 2, "{personas:?}");
    assert!(personas[0].photo.as_deref().is_some_and(|p| p.starts_with("data:image/png;base64,")));
}
