//! Issue 18, imports over HTTP: `POST /api/businesses/{id}/imports` with the file as the raw body
//! (CSV, NDJSON, Parquet) or as multipart form data, the dry run's preview, the rejects download,
//! the limits and stable errors (413 `too_large`, 415 `wrong_format`, 422 `invalid_rows` naming
//! line and column with nothing landed, 403 for viewers), idempotent re-uploads; the Import page's
//! upload, preview, override and import; and `browser/imports.mjs` doing the same in Chromium.

use super::*;
use trailmap_testkit::{ParquetCodec, ParquetColumn, write_parquet};

const ORDERS: &str = "order_id,email,time,total,currency\nA-1,ann@example.com,2026-03-01T10:00:00Z,12.50,EUR\nA-2,bob@example.com,2026-03-02T11:00:00Z,30.00,EUR\nA-3,ann@example.com,2026-03-03T12:00:00Z,7.25,EUR\n";

/// A request to the imports API by `who` with `content_type` and the raw `body`.
async fn upload(w: &World, who: &Actor, query: &str, content_type: &str, body: Vec<u8>) -> Reply {
    let headers = [("content-type", content_type.to_string()), session_cookie(&who.token), ("x-csrf-token", who.csrf.clone())];
    call(&w.router, "POST", &format!("/api/businesses/{}/imports?{query}", w.bean.id), &headers, body).await
}

/// A multipart/form-data body: the text fields, then the file part.
fn multipart(fields: &[(&str, &str)], file_name: &str, file_type: &str, file: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----trailmap-test-boundary";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes());
    }
    body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: {file_type}\r\n\r\n").as_bytes());
    body.extend_from_slice(file);
    body.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

fn orders_parquet(dir: &std::path::Path) -> Vec<u8> {
    let path = dir.join("orders.parquet");
    write_parquet(
        &path,
        &[
            ParquetColumn::text("order_id", &[Some("P-1"), Some("P-2")]),
            ParquetColumn::text("customer_email", &[Some("cat@example.com"), Some("dan@example.com")]),
            ParquetColumn::TimestampMicros("created_at".into(), vec![Some(1_772_355_600_000_000), Some(1_772_442_000_000_000)]),
            ParquetColumn::Decimal("total".into(), 2, vec![Some(4200), Some(1999)]),
        ],
        ParquetCodec::Snappy,
    )
    .unwrap();
    std::fs::read(path).unwrap()
}

fn summary_orders(app: &App, business: &Business) -> u64 {
    app.summary(business).unwrap().orders
}

#[tokio::test]
async fn a_raw_csv_lands_once_and_a_second_upload_lands_nothing_new() {
    let w = world();
    let first = upload(&w, &w.owner, "kind=orders&file=shop.csv", "text/csv", ORDERS.as_bytes().to_vec()).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let report = &first.json()["report"];
    assert_eq!(first.json()["dry_run"], false);
    assert_eq!(
        (report["file"].as_str(), report["rows_read"].as_u64(), report["landed"].as_u64(), report["duplicates"].as_u64(), report["new_customers"].as_u64()),
        (Some("shop.csv"), Some(3), Some(3), Some(0), Some(2))
    );
    assert_eq!(report["rejects"], Value::Null);
    let again = upload(&w, &w.owner, "kind=orders", "text/csv; charset=utf-8", ORDERS.as_bytes().to_vec()).await;
    assert_eq!((again.json()["report"]["landed"].as_u64(), again.json()["report"]["duplicates"].as_u64()), (Some(0), Some(3)), "{}", again.text);
    // NDJSON (and JSON, read as NDJSON) lands customers.
    let customers = "{\"email\":\"eve@example.com\",\"name\":\"Eve\"}\n{\"email\":\"ann@example.com\",\"first_name\":\"Ann\"}\n";
    let nd = upload(&w, &w.owner, "kind=customers", "application/x-ndjson", customers.as_bytes().to_vec()).await;
    assert_eq!(nd.json()["report"]["rows_read"].as_u64(), Some(2), "{}", nd.text);
    let (bean, app) = (w.bean.clone(), w.finish());
    assert_eq!(summary_orders(&app, &bean), 3);
    assert_eq!(app.summary(&bean).unwrap().customers, 3);
}

#[tokio::test]
async fn parquet_bodies_land_by_their_content_type_or_as_octet_streams() {
    let w = world();
    let dir = tempfile::tempdir().unwrap();
    let bytes = orders_parquet(dir.path());
    let answer = upload(&w, &w.owner, "kind=orders", "application/vnd.apache.parquet", bytes.clone()).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.json()["report"]["landed"].as_u64(), Some(2));
    assert_eq!(answer.json()["report"]["file"], "upload.parquet");
    let octets = upload(&w, &w.owner, "kind=orders", "application/octet-stream", bytes).await;
    assert_eq!(octets.json()["report"]["duplicates"].as_u64(), Some(2), "{}", octets.text);
    let (bean, app) = (w.bean.clone(), w.finish());
    let revenue = app.summary(&bean).unwrap();
    assert_eq!(revenue.orders, 2);
}

#[tokio::test]
async fn multipart_uploads_take_their_settings_as_fields_and_skip_bad_rows_to_a_download() {
    let w = world();
    let data = "Ref;Buyer;Placed;Amount\nM-1;ann@example.com;2026-03-01;12,50\nM-2;bob@example.com;yesterday;3,00\nM-3;cat@example.com;2026-03-03;8\n";
    let fields = [
        ("kind", "orders"),
        ("delimiter", ";"),
        ("decimal", "comma"),
        ("map.order_id", "Ref"),
        ("map", r#"{"email": "Buyer", "time": "Placed", "total": "Amount"}"#),
        ("skip_bad_rows", "true"),
    ];
    let (content_type, body) = multipart(&fields, "till export.csv", "text/csv", data.as_bytes());
    let answer = upload(&w, &w.owner, "", &content_type, body).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let report = &answer.json()["report"];
    assert_eq!((report["file"].as_str(), report["landed"].as_u64(), report["rejected"].as_u64()), (Some("till export.csv"), Some(2), Some(1)));
    let url = report["rejects"]["url"].as_str().unwrap().to_string();
    assert!(url.starts_with(&format!("/api/businesses/{}/imports/rejects/", w.bean.id)), "{url}");
    let download = api(&w.router, Some(&w.owner), "GET", &url, None).await;
    assert_eq!(download.status, StatusCode::OK);
    assert_eq!(download.headers["content-type"], "text/csv; charset=utf-8");
    let mut lines = download.text.lines();
    assert_eq!(lines.next(), Some("line,column,reason,raw"));
    let rejected = lines.next().unwrap();
    assert!(rejected.starts_with("3,Placed,\"not a time: \"\"yesterday\"\""), "{rejected}");
    // Only editors and owners of the business download it.
    let viewer = api(&w.router, Some(&w.viewer), "GET", &url, None).await;
    assert_eq!((viewer.status, viewer.code().as_str()), (StatusCode::FORBIDDEN, "forbidden"));
    let outsider = api(&w.router, Some(&w.outsider), "GET", &url, None).await;
    assert_eq!((outsider.status, outsider.code().as_str()), (StatusCode::NOT_FOUND, "not_found"));
    let other = api(&w.router, Some(&w.owner), "GET", &url.replace(&format!("/businesses/{}/", w.bean.id), &format!("/businesses/{}/", w.thread.id)), None).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND, "a rejects file belongs to its business");
    let tricked = api(&w.router, Some(&w.owner), "GET", &format!("/api/businesses/{}/imports/rejects/..%2F..%2Fetc", w.bean.id), None).await;
    assert_eq!(tricked.status, StatusCode::NOT_FOUND);
    let (bean, app) = (w.bean.clone(), w.finish());
    assert_eq!(summary_orders(&app, &bean), 2);
}

#[tokio::test]
async fn a_dry_run_answers_the_preview_and_lands_nothing() {
    let w = world();
    let shopify = "Name,Email,Financial Status,Currency,Total,Created at,Lineitem quantity,Lineitem name,Lineitem price\n\
#1001,ann@example.com,paid,USD,\"1,250.00\",2024-01-15 10:23:45 -0500,1,Linen Shirt,\"1,250.00\"\n";
    let answer = upload(&w, &w.owner, "kind=orders&dry_run=true&file=orders_export.csv", "text/csv", shopify.as_bytes().to_vec()).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let preview = &answer.json()["preview"];
    assert_eq!((answer.json()["dry_run"].as_bool(), answer.json()["report"].clone()), (Some(true), Value::Null));
    assert_eq!((preview["layout"].as_str(), preview["format"].as_str(), preview["decimal_mark"].as_str()), (Some("shopify-orders"), Some("csv"), Some("point")));
    let order_id = preview["mapping"].as_array().unwrap().iter().find(|m| m["field"] == "order_id").unwrap();
    assert_eq!((order_id["column"].as_str(), order_id["source"].as_str()), (Some("Name"), Some("detected")));
    let fields: Vec<&str> = preview["row_fields"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
    let total = fields.iter().position(|f| *f == "total").unwrap();
    assert_eq!(preview["rows"][0]["values"][total], "1250.00 USD");
    assert_eq!(preview["rows"][0]["line"], 2);
    // A missing column is shown, not refused: the preview says what to map.
    let lacking = upload(&w, &w.owner, "kind=orders&dry_run=true", "text/csv", b"Ref,Total\nX,1\n".to_vec()).await;
    assert_eq!(lacking.status, StatusCode::OK, "{}", lacking.text);
    let lacking = lacking.json();
    let missing: Vec<&str> = lacking["preview"]["missing"].as_array().unwrap().iter().map(|m| m["field"].as_str().unwrap()).collect();
    assert_eq!(missing, ["order_id", "time", "customer_id, email or anonymous_id"]);
    let (bean, app) = (w.bean.clone(), w.finish());
    assert_eq!(summary_orders(&app, &bean), 0);
}

#[tokio::test]
async fn bad_input_is_refused_with_stable_codes_and_lands_nothing() {
    let mut w = world();
    let dir = tempfile::tempdir().unwrap();
    // A bad row: 422 naming its line and column; nothing lands.
    let bad = "order_id,email,time,total\nB-1,ann@example.com,2026-03-01,5\nB-2,bob@example.com,2026-03-02,-4\n";
    let refused = upload(&w, &w.owner, "kind=orders&file=bad.csv", "text/csv", bad.as_bytes().to_vec()).await;
    assert_eq!((refused.status, refused.code().as_str()), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_rows"), "{}", refused.text);
    let error = &refused.json()["error"];
    assert_eq!((error["count"].as_u64(), error["rows"][0]["line"].as_u64(), error["rows"][0]["column"].as_str()), (Some(1), Some(3), Some("total")));
    assert!(error["message"].as_str().unwrap().starts_with("bad.csv: 1 invalid row(s), nothing was imported"), "{error}");
    // A whole-file problem: 422 invalid_file.
    let headless = upload(&w, &w.owner, "kind=orders", "text/csv", b"Ref,Total\nX,1\n".to_vec()).await;
    assert_eq!((headless.status, headless.code().as_str()), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_file"), "{}", headless.text);
    let unknown_column = upload(&w, &w.owner, "kind=orders&map.time=Nope", "text/csv", ORDERS.as_bytes().to_vec()).await;
    assert_eq!(unknown_column.code(), "invalid_file", "{}", unknown_column.text);
    // Not the format claimed: 415.
    let not_parquet = upload(&w, &w.owner, "kind=orders", "application/vnd.apache.parquet", ORDERS.as_bytes().to_vec()).await;
    assert_eq!((not_parquet.status, not_parquet.code().as_str()), (StatusCode::UNSUPPORTED_MEDIA_TYPE, "wrong_format"), "{}", not_parquet.text);
    assert!(not_parquet.text.contains("no Parquet magic bytes"), "{}", not_parquet.text);
    let parquet_as_csv = upload(&w, &w.owner, "kind=orders", "text/csv", orders_parquet(dir.path())).await;
    assert_eq!(parquet_as_csv.code(), "wrong_format", "{}", parquet_as_csv.text);
    let workbook = upload(&w, &w.owner, "kind=orders", "text/csv", b"PK\x03\x04\x14\x00 an xlsx".to_vec()).await;
    assert!(workbook.text.contains("Excel workbook"), "{}", workbook.text);
    let image = upload(&w, &w.owner, "kind=orders", "image/png", b"\x89PNG".to_vec()).await;
    assert_eq!((image.status, image.code().as_str()), (StatusCode::UNSUPPORTED_MEDIA_TYPE, "wrong_format"));
    // Settings: 400 naming the field, before the body is read.
    for (query, named) in [("kind=invoices", "kind"), ("kind=orders&decimal=dot5", "decimal"), ("kind=orders&map.colour=C", "map.colour"), ("kind=orders&dryrun=1", "dryrun"), ("", "kind")] {
        let answer = upload(&w, &w.owner, query, "text/csv", ORDERS.as_bytes().to_vec()).await;
        assert_eq!((answer.status, answer.code().as_str()), (StatusCode::BAD_REQUEST, "invalid_input"), "{query}: {}", answer.text);
        assert!(answer.json()["error"]["message"].as_str().unwrap().contains(named), "{query}: {}", answer.text);
    }
    let empty = upload(&w, &w.owner, "kind=orders", "text/csv", Vec::new()).await;
    assert_eq!(empty.code(), "invalid_input", "{}", empty.text);
    // A viewer may not import, not even a dry run.
    let viewer = upload(&w, &w.viewer, "kind=orders&dry_run=true", "text/csv", ORDERS.as_bytes().to_vec()).await;
    assert_eq!((viewer.status, viewer.code().as_str()), (StatusCode::FORBIDDEN, "forbidden"));

    // Over the server's limit: 413, by the declared length or while streaming.
    let uploads = tempfile::tempdir().unwrap();
    let state = ServerState::new(w.tracker.clone(), ":memory:".into()).with_import_limit(1024).with_upload_dir(uploads.path().to_path_buf());
    w.router = router(state);
    let big = format!("{ORDERS}{}", "A-9,zed@example.com,2026-03-09T00:00:00Z,1.00,EUR\n".repeat(40));
    let too_big = upload(&w, &w.owner, "kind=orders", "text/csv", big.as_bytes().to_vec()).await;
    assert_eq!((too_big.status, too_big.code().as_str()), (StatusCode::PAYLOAD_TOO_LARGE, "too_large"), "{}", too_big.text);
    let (content_type, body) = multipart(&[("kind", "orders")], "big.csv", "text/csv", big.as_bytes());
    let streamed = upload(&w, &w.owner, "", &content_type, body).await;
    assert_eq!(streamed.code(), "too_large", "{}", streamed.text);
    let left: Vec<_> = std::fs::read_dir(uploads.path().join("trailmap-imports")).unwrap().collect();
    assert!(left.is_empty(), "a refused upload leaves no file: {left:?}");
    let small = upload(&w, &w.owner, "kind=orders", "text/csv", ORDERS.as_bytes().to_vec()).await;
    assert_eq!(small.status, StatusCode::OK, "{}", small.text);

    let (bean, app) = (w.bean.clone(), w.finish());
    assert_eq!(summary_orders(&app, &bean), 3, "only the last, good upload landed");
}

/// The Import page without a browser: upload, preview, override a column, import; a refused
/// import shows its rows; viewers are refused.
#[tokio::test]
async fn the_import_page_previews_overrides_and_imports() {
    let w = world();
    let b = w.bean.id;
    let shown = page(&w.router, Some(&w.owner), "GET", &format!("/b/{b}/import?kind=orders"), &[]).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert!(shown.text.contains("enctype=\"multipart/form-data\"") && shown.text.contains("From Shopify"), "{}", shown.text);
    let viewer = page(&w.router, Some(&w.viewer), "GET", &format!("/b/{b}/import"), &[]).await;
    assert_eq!(viewer.status, StatusCode::FORBIDDEN);

    let data = "Ref,Buyer,Placed,Amount\nW-1,ann@example.com,2026-03-01,12.50\nW-2,bob@example.com,2026-03-02,-3\n";
    let send = |csrf: &str| multipart(&[("csrf", csrf), ("kind", "orders")], "web.csv", "text/csv", data.as_bytes());
    let headers = |content_type: String| [("content-type", content_type), session_cookie(&w.owner.token)];
    let (content_type, body) = send("forged");
    let forged = call(&w.router, "POST", &format!("/b/{b}/import"), &headers(content_type), body).await;
    assert_eq!((forged.status, forged.code().as_str()), (StatusCode::FORBIDDEN, "csrf_failed"));
    let (content_type, body) = send(&w.owner.csrf);
    let uploaded = call(&w.router, "POST", &format!("/b/{b}/import"), &headers(content_type), body).await;
    assert_eq!(uploaded.status, StatusCode::SEE_OTHER, "{}", uploaded.text);
    let preview_path = uploaded.location().to_string();
    assert!(preview_path.starts_with(&format!("/b/{b}/import/")), "{preview_path}");

    let preview = page(&w.router, Some(&w.owner), "GET", &preview_path, &[]).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.text);
    assert!(preview.text.contains("data-testid=\"missing\""), "time and email have no column yet");
    assert!(preview.text.contains("<option value=\"Placed\">Placed</option>"), "every column is offered");
    assert!(!preview.text.contains("data-testid=\"import\""), "no import while a required field has no column");
    let mapping = [("kind", "orders"), ("map.time", "Placed"), ("map.email", "Buyer"), ("map.order_id", "Ref"), ("map.total", "Amount")];
    let saved = page(&w.router, Some(&w.owner), "POST", &preview_path, &[&mapping[..], &[("action", "preview")]].concat()).await;
    assert_eq!((saved.status, saved.location()), (StatusCode::SEE_OTHER, preview_path.as_str()));
    let mapped = page(&w.router, Some(&w.owner), "GET", &preview_path, &[]).await;
    assert!(mapped.text.contains("<option value=\"Placed\" selected>Placed</option>"), "the override is kept");
    assert!(mapped.text.contains("class=\"row-error\""), "the negative total is highlighted");
    assert!(mapped.text.contains("data-testid=\"import\""));

    // Importing as it is: refused, nothing lands, the row is named.
    let refused = page(&w.router, Some(&w.owner), "POST", &preview_path, &[&mapping[..], &[("action", "import")]].concat()).await;
    assert_eq!((refused.status, refused.code().as_str()), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_rows"), "{}", refused.text);
    assert!(refused.text.contains("Line 3, column <code>Amount</code>"), "{}", refused.text);
    // With bad rows skipped: one lands, the other is downloadable.
    let skipping = [&mapping[..], &[("skip_bad_rows", "true"), ("action", "import")]].concat();
    let done = page(&w.router, Some(&w.owner), "POST", &preview_path, &skipping).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    assert!(done.text.contains("data-testid=\"landed\">1<") && done.text.contains("data-testid=\"rejected\">1<"), "{}", done.text);
    let link = done.text.split("data-testid=\"rejects-link\"").next().unwrap().rsplit("href=\"").next().unwrap().split('"').next().unwrap().to_string();
    let rejects = api(&w.router, Some(&w.owner), "GET", &link, None).await;
    assert!(rejects.text.lines().nth(1).unwrap().starts_with("3,Amount,"), "{}", rejects.text);
    // The upload is gone once imported.
    let gone = page(&w.router, Some(&w.owner), "GET", &preview_path, &[]).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    let (bean, app) = (w.bean.clone(), w.finish());
    assert_eq!(summary_orders(&app, &bean), 1);
}

/// The Import page in headless Chromium: an orders CSV uploaded through the form, its preview,
/// one column overridden with a select, the import and its counts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_import_page_works_in_headless_chromium() {
    if playwright_chromium().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("imports.sqlite");
    let mut app = App::open(&db).unwrap();
    let now = Timestamp::from_millis(wall_clock());
    let user = app.create_user("ivy@example.com", "Ivy Importer", PASSWORD, now).unwrap();
    let shop = app.create_business_owned(user.id, "Corner Shop", "EUR", "Europe/Paris").unwrap();
    let (tracker, writer) = Writer::start(app);
    // A small limit, so the page's own check of a file's size can be seen.
    let state = ServerState::new(tracker, db.clone()).with_upload_dir(dir.path().to_path_buf()).with_import_limit(4096);
    let big = dir.path().join("big.csv");
    std::fs::write(&big, format!("order_id,email,Placed,total\n{}", "B-1,big@example.com,2026-03-01 10:00,1.00\n".repeat(200))).unwrap();
    let csv = dir.path().join("shop orders.csv");
    // `Placed` is no name the importer knows for the order's time: the page asks for it.
    std::fs::write(
        &csv,
        "order_id,email,Placed,total,currency,product,quantity,price\n\
O-1,ann@example.com,2026-03-01 10:00,24.50,EUR,Mug,2,12.25\n\
O-2,bob@example.com,2026-03-02 11:30,18.00,EUR,Beans,1,18.00\n\
O-3,ann@example.com,2026-03-05 09:15,36.75,EUR,Mug,3,12.25\n",
    )
    .unwrap();
    let env = vec![
        ("TRAILMAP_EMAIL", "ivy@example.com".to_string()),
        ("TRAILMAP_PASSWORD", PASSWORD.to_string()),
        ("BUSINESS_ID", shop.id.to_string()),
        ("ORDERS_CSV", csv.display().to_string()),
        ("BIG_CSV", big.display().to_string()),
    ];
    let (stdout, shots) = run_browser_script(router(state), "imports.mjs", env).await;
    for step in [
        "step: the checklist links the Import page",
        "step: a file over the limit is refused before it is sent",
        "step: uploaded with progress, preview of 3 rows",
        "step: the time column is missing and named",
        "step: picked Placed for time, 3 rows read",
        "step: imported: 3 read, 3 landed",
    ] {
        assert!(stdout.contains(step), "{step}: {stdout}");
    }
    for name in ["imports-0-too-big", "imports-1-form", "imports-2-preview", "imports-3-mapped", "imports-4-done"] {
        assert!(shots.join(format!("{name}.png")).metadata().unwrap().len() > 1000, "{name}.png is missing or empty");
    }
    drop(writer);
    let app = App::open(&db).unwrap();
    let summary = app.summary(&shop).unwrap();
    assert_eq!((summary.orders, summary.customers), (3, 2));
}
