//! End-to-end tests of the import pipeline: real-shaped files in, records and precise errors out.
//! Every fixture is written inline so a failure shows the bytes that caused it.

// Helpers outside #[test] functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used)]

use chrono::NaiveDate;
use serde_json::json;
use trailmap_ingest::enrich::{self, Enricher};
use trailmap_ingest::{
    DropReason, FileFormat, ImportError, ImportOptions, Layout, Record, RecordKind, RecordReader,
    RowError, fields,
};
use trailmap_model::{
    Channel, Currency, EventKey, FeedbackKind, Identity, IncomingCustomer, IncomingEvent,
    IncomingFeedback, IncomingOrder, IncomingSpend, Money, OrderLine, Timestamp,
};

fn options(kind: RecordKind, file: &str) -> ImportOptions {
    ImportOptions::new(kind, file)
}

fn open(kind: RecordKind, file: &str, data: &[u8]) -> Result<RecordReader, ImportError> {
    RecordReader::new(std::io::Cursor::new(data.to_vec()), options(kind, file))
}

/// Reads a whole file; returns the records, the row errors and the drop counts.
fn read_with(
    opts: ImportOptions,
    data: &[u8],
) -> (Vec<Record>, Vec<RowError>, Vec<(DropReason, u64)>) {
    let mut reader =
        RecordReader::new(std::io::Cursor::new(data.to_vec()), opts).expect("the file opens");
    let (mut records, mut errors) = (Vec::new(), Vec::new());
    for item in reader.by_ref() {
        match item {
            Ok(r) => records.push(r.record),
            Err(e) => errors.push(e),
        }
    }
    assert_eq!(
        reader.bytes_read(),
        data.len() as u64,
        "every byte is read and counted"
    );
    (records, errors, reader.dropped().to_vec())
}

fn read(
    kind: RecordKind,
    file: &str,
    data: &str,
) -> (Vec<Record>, Vec<RowError>, Vec<(DropReason, u64)>) {
    read_with(options(kind, file), data.as_bytes())
}

fn events(records: Vec<Record>) -> Vec<IncomingEvent> {
    records
        .into_iter()
        .map(|r| match r {
            Record::Event(e) => e,
            other => panic!("{other:?}"),
        })
        .collect()
}

fn orders(records: Vec<Record>) -> Vec<IncomingOrder> {
    records
        .into_iter()
        .map(|r| match r {
            Record::Order(o) => o,
            other => panic!("{other:?}"),
        })
        .collect()
}

fn ts(text: &str) -> Timestamp {
    Timestamp::parse_rfc3339(text).expect("a fixture time")
}

fn usd(minor: i64) -> Money {
    Money::new(minor, Currency::USD)
}

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a fixture date")
}

const EVENTS_CSV: &str = "\
Event,Timestamp,User ID,Customer Email,Visitor ID,Page URL,Referrer,Medium,Revenue,Currency,plan,Message ID,user_agent
page_view,2024-03-01T10:00:00Z,,,v1,https://shop.example.com/landing?utm_source=google&utm_medium=cpc&utm_campaign=spring,,,,,pro,,Mozilla/5.0 (Macintosh)
purchase,2024-03-01 10:05:00,u42,Ann@Example.com,v1,/checkout/done,,,49.90,EUR,,m-1,
page_view,2024-03-01T10:06:00Z,,,crawler-1,/,,,,,,,Mozilla/5.0 (compatible; Googlebot/2.1)
store_visit,1709287200,u42,,,,,pos,,,,,
page_view,2024-03-01T10:07:00.250+01:00,,,v2,/blog,https://www.google.co.uk/,,,,,,
";

#[test]
fn generic_events_csv() {
    let (records, errors, dropped) = read(RecordKind::Events, "events.csv", EVENTS_CSV);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(dropped, vec![(DropReason::Bot, 1)]);
    let ev = events(records);
    assert_eq!(ev.len(), 4);

    let e = &ev[0].event;
    assert_eq!(e.name, "page_view");
    assert_eq!(e.time, ts("2024-03-01T10:00:00Z"));
    assert_eq!(e.identity, Identity::anonymous("v1").unwrap());
    assert_eq!(
        ev[0].also_known_as,
        vec![Identity::anonymous("v1").unwrap()]
    );
    assert_eq!(e.page.as_deref(), Some("/landing"));
    assert_eq!(
        (
            e.source.as_deref(),
            e.medium.as_deref(),
            e.campaign.as_deref()
        ),
        (Some("google"), Some("cpc"), Some("spring"))
    );
    assert_eq!(e.channel.as_deref(), Some("Paid Search"));
    assert_eq!(
        serde_json::Value::Object(e.properties.clone()),
        json!({"plan": "pro"})
    );
    assert_eq!(e.key, e.content_key());

    let e = &ev[1].event;
    assert_eq!(
        e.identity,
        Identity::external("u42").unwrap(),
        "the external id is the most trusted"
    );
    assert_eq!(
        ev[1].also_known_as,
        vec![
            Identity::external("u42").unwrap(),
            Identity::email("ann@example.com").unwrap(),
            Identity::anonymous("v1").unwrap()
        ]
    );
    assert_eq!(e.revenue, Some(Money::new(4990, Currency::EUR)));
    assert_eq!(e.key, EventKey::from_id("import", "m-1"));
    assert_eq!(
        (
            e.source.as_deref(),
            e.medium.as_deref(),
            e.channel.as_deref()
        ),
        (Some("(direct)"), Some("(none)"), Some("Direct"))
    );
    assert!(e.properties.is_empty());

    let e = &ev[2].event;
    assert_eq!(e.name, "store_visit");
    assert_eq!(e.time, ts("2024-03-01T10:00:00Z"));
    assert_eq!(
        (
            e.source.as_deref(),
            e.medium.as_deref(),
            e.channel.as_deref()
        ),
        (None, Some("pos"), Some("In-store"))
    );

    let e = &ev[3].event;
    assert_eq!(e.time, ts("2024-03-01T09:07:00.250Z"));
    assert_eq!(
        (
            e.source.as_deref(),
            e.medium.as_deref(),
            e.channel.as_deref()
        ),
        (Some("google"), Some("organic"), Some("Organic Search"))
    );

    // The same file again gives the same keys, so nothing lands twice.
    let again = events(read(RecordKind::Events, "events.csv", EVENTS_CSV).0);
    assert_eq!(
        again.iter().map(|e| e.event.key).collect::<Vec<_>>(),
        ev.iter().map(|e| e.event.key).collect::<Vec<_>>()
    );
    assert_ne!(ev[0].event.key, ev[3].event.key);
}

#[test]
fn ndjson_events_segment_style() {
    let data = r#"{"type":"track","event":"Order Completed","userId":"u1","anonymousId":"a1","timestamp":"2024-03-01T10:00:00.123Z","messageId":"seg-1","properties":{"revenue":12.5,"plan":"pro"},"context":{"page":{"url":"https://shop.com/thanks?x=1","referrer":"https://l.instagram.com/"},"userAgent":"Mozilla/5.0"},"integrations":{},"channel":"browser"}
{"event":"page_view","anonymousId":"a2","timestamp":"2024-03-01T10:00:00Z",
{"event":"page_view","timestamp":"2024-03-01T10:00:00Z","page":"/"}

{"event":"signup","email":"b@x.org","ts":1709287200000,"source":"newsletter","medium":"email","coupon":"SPRING","items":3}
{"event":"page_view","anonymousId":"a3","timestamp":"2024-03-01T10:00:00Z","context":{"userAgent":"Googlebot/2.1"}}
[1,2]
"#;
    let (records, errors, dropped) = read(RecordKind::Events, "track.ndjson", data);
    assert_eq!(dropped, vec![(DropReason::Bot, 1)]);
    let lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, vec![2, 3, 7]);
    assert!(
        errors[0]
            .to_string()
            .starts_with("track.ndjson:2: not valid JSON: "),
        "{}",
        errors[0]
    );
    assert_eq!(
        errors[0].raw.as_deref(),
        Some(r#"{"event":"page_view","anonymousId":"a2","timestamp":"2024-03-01T10:00:00Z","#)
    );
    assert_eq!(
        errors[1].to_string(),
        "track.ndjson:3: no identity: customer_id, email and anonymous_id are all empty"
    );
    assert_eq!(errors[2].to_string(), "track.ndjson:7: not a JSON object");

    let ev = events(records);
    assert_eq!(ev.len(), 2);
    let e = &ev[0].event;
    assert_eq!(e.name, "Order Completed", "`event` outranks `type`");
    assert_eq!(e.time, ts("2024-03-01T10:00:00.123Z"));
    assert_eq!(e.identity, Identity::external("u1").unwrap());
    assert_eq!(
        ev[0].also_known_as,
        vec![
            Identity::external("u1").unwrap(),
            Identity::anonymous("a1").unwrap()
        ]
    );
    assert_eq!(e.page.as_deref(), Some("/thanks"));
    assert_eq!(e.referrer.as_deref(), Some("https://l.instagram.com/"));
    assert_eq!(
        (e.source.as_deref(), e.medium.as_deref()),
        (Some("instagram"), Some("referral"))
    );
    assert_eq!(
        e.channel.as_deref(),
        Some("Organic Social"),
        "Segment's library channel `browser` is not a traffic channel"
    );
    assert_eq!(
        serde_json::Value::Object(e.properties.clone()),
        json!({"revenue": 12.5, "plan": "pro"})
    );
    assert_eq!(e.key, EventKey::from_id("import", "seg-1"));

    let e = &ev[1].event;
    assert_eq!(e.identity, Identity::email("b@x.org").unwrap());
    assert_eq!(e.time, ts("2024-03-01T10:00:00Z"));
    assert_eq!(e.channel.as_deref(), Some("Email"));
    assert_eq!(
        serde_json::Value::Object(e.properties.clone()),
        json!({"coupon": "SPRING", "items": 3})
    );
}

const SHOPIFY_HEADER: &str = "Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,Accepts Marketing,Currency,Subtotal,Shipping,Taxes,Total,Discount Code,Discount Amount,Shipping Method,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem compare at price,Lineitem sku,Lineitem requires shipping,Lineitem taxable,Lineitem fulfillment status,Billing Name,Billing Street,Billing City,Billing Zip,Billing Country,Billing Phone,Notes,Cancelled at,Payment Method,Refunded Amount,Vendor,Id,Tags,Risk Level,Source,Lineitem discount,Phone,Location";

#[test]
fn shopify_orders_export() {
    let data = format!(
        "{SHOPIFY_HEADER}\n\
#1001,ann@example.com,paid,2024-01-15 10:25:00 -0500,fulfilled,2024-01-16 09:00:00 -0500,yes,USD,50.00,5.00,4.50,54.50,WELCOME5,5.00,Standard,2024-01-15 10:23:45 -0500,2,Linen Shirt - M,20.00,,SHIRT-M,true,true,fulfilled,Ann Lee,1 High St,Leeds,LS1,GB,,,,Shopify Payments,0.00,Acme,5550001,\"vip, spring\",Low,web,0.00,,\n\
#1001,ann@example.com,,,,,,,,,,,,,,2024-01-15 10:23:45 -0500,1,Socks,10.00,,SOCK-1,true,true,fulfilled,,,,,,,,,,,Acme,,,,,0.00,,\n\
#1002,BOB@example.com,partially_refunded,2024-01-16 14:00:00 +0000,fulfilled,,no,USD,30.00,0.00,0.00,30.00,,,,2024-01-16 14:00:00 +0000,3,Mug,10.00,,MUG,false,true,fulfilled,Bob Roe,,,,,,,,Cash,10.00,Acme,5550002,,Low,pos,0.00,,Shop floor\n"
    );
    let (records, errors, dropped) = read(RecordKind::Orders, "orders_export.csv", &data);
    assert!(errors.is_empty(), "{errors:?}");
    assert!(dropped.is_empty());
    assert_eq!(
        open(RecordKind::Orders, "orders_export.csv", data.as_bytes())
            .unwrap()
            .layout(),
        Layout::ShopifyOrders
    );
    let o = orders(records);
    assert_eq!(o.len(), 2);

    assert_eq!(o[0].external_id, "#1001");
    assert_eq!(
        o[0].customer,
        vec![Identity::email("ann@example.com").unwrap()]
    );
    assert_eq!(o[0].time, ts("2024-01-15T15:23:45Z"));
    assert_eq!(o[0].total, usd(5450));
    assert_eq!(
        (o[0].subtotal, o[0].shipping, o[0].tax, o[0].discount),
        (
            Some(usd(5000)),
            Some(usd(500)),
            Some(usd(450)),
            Some(usd(500))
        )
    );
    assert_eq!(o[0].status.as_deref(), Some("paid"));
    assert_eq!(
        (o[0].channel.as_deref(), o[0].source.as_deref()),
        (Some("online"), Some("web"))
    );
    assert_eq!(
        o[0].lines,
        vec![
            OrderLine {
                sku: Some("SHIRT-M".into()),
                name: "Linen Shirt - M".into(),
                quantity: 2,
                unit_price: usd(2000)
            },
            OrderLine {
                sku: Some("SOCK-1".into()),
                name: "Socks".into(),
                quantity: 1,
                unit_price: usd(1000)
            },
        ]
    );
    assert_eq!(
        serde_json::Value::Object(o[0].properties.clone()),
        json!({"discount_code": "WELCOME5", "fulfillment_status": "fulfilled", "shipping_method": "Standard", "billing_country": "GB", "payment_method": "Shopify Payments", "shopify_id": "5550001", "tags": "vip, spring"})
    );

    assert_eq!(o[1].external_id, "#1002");
    assert_eq!(
        o[1].customer,
        vec![Identity::email("bob@example.com").unwrap()]
    );
    assert_eq!(o[1].status.as_deref(), Some("partially_refunded"));
    assert_eq!(
        (o[1].channel.as_deref(), o[1].source.as_deref()),
        (Some("in-store"), Some("pos"))
    );
    assert_eq!(
        o[1].lines,
        vec![OrderLine {
            sku: Some("MUG".into()),
            name: "Mug".into(),
            quantity: 3,
            unit_price: usd(1000)
        }]
    );
    assert_eq!(o[1].properties.get("location"), Some(&json!("Shop floor")));
}

#[test]
fn a_rejected_order_rejects_its_other_lines() {
    let data = "\
order_id,email,created_at,total,product,quantity,price
A1,a@x.com,2024-01-01,-5.00,Hat,1,5.00
A1,a@x.com,2024-01-01,,Scarf,1,5.00
A2,b@x.com,2024-01-02,12.00,Hat,2,6.00
A2,b@x.com,2024-01-02,,Scarf,two,6.00
";
    let (records, errors, _) = read(RecordKind::Orders, "orders.csv", data);
    let msgs: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        msgs,
        vec![
            "orders.csv:2: column `total`: negative total: \"-5.00\"",
            "orders.csv:3: a row of order `A1`, which was rejected at line 2",
            "orders.csv:5: column `quantity`: \"two\" is not a number (it has 't')",
        ]
    );
    assert_eq!(
        errors[1].raw.as_deref(),
        Some("A1,a@x.com,2024-01-01,,Scarf,1,5.00")
    );
    let o = orders(records);
    assert_eq!(o.len(), 1);
    assert_eq!(
        (o[0].external_id.as_str(), o[0].total, o[0].lines.len()),
        ("A2", usd(1200), 1)
    );
    assert_eq!(o[0].time, ts("2024-01-02T00:00:00Z"));
}

#[test]
fn stripe_payments_export() {
    let data = "\
id,Description,Seller Message,Created (UTC),Amount,Amount Refunded,Currency,Converted Amount,Converted Amount Refunded,Fee,Tax,Converted Currency,Mode,Status,Statement Descriptor,Customer ID,Customer Description,Customer Email,Captured,Card ID,Card Last4,Card Brand
ch_1,Order 1001,Payment complete.,2024-01-15 10:23:45,\"1,061.86\",0.00,usd,1061.86,0.00,31.09,0.00,usd,Live,Paid,SHOP,cus_A,Ann,ann@example.com,true,card_1,4242,Visa
ch_2,Order 1002,Your card was declined.,2024-01-15 11:00,20.00,0.00,usd,,,,,usd,Live,Failed,SHOP,cus_B,,bob@example.com,false,card_2,0002,Visa
ch_3,,Payment complete.,2024-01-16 09:30,40.00,10.00,eur,43.00,10.75,1.20,0.00,usd,Live,Paid,SHOP,,,carol@example.com,true,card_3,1111,Mastercard
ch_4,,,2024-01-16 09:31,15.00,0.00,usd,,,,,usd,Live,Paid,SHOP,cus_D,,,false,,,
ch_5,,,2024-01-17 08:00,25.00,25.00,usd,,,,,usd,Live,Refunded,SHOP,cus_E,,,true,,,
";
    let (records, errors, dropped) = read(RecordKind::Orders, "unified_payments.csv", data);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(
        dropped,
        vec![(DropReason::UnpaidCharge, 2)],
        "the failed and the uncaptured charge"
    );
    assert_eq!(
        open(RecordKind::Orders, "unified_payments.csv", data.as_bytes())
            .unwrap()
            .layout(),
        Layout::StripePayments
    );
    let o = orders(records);
    assert_eq!(o.len(), 3);
    assert_eq!(o[0].external_id, "ch_1");
    assert_eq!(
        o[0].customer,
        vec![
            Identity::external("cus_A").unwrap(),
            Identity::email("ann@example.com").unwrap()
        ]
    );
    assert_eq!(o[0].time, ts("2024-01-15T10:23:45Z"));
    assert_eq!(o[0].total, usd(106_186));
    assert_eq!(o[0].status.as_deref(), Some("paid"));
    assert_eq!(o[0].tax, Some(usd(0)));
    assert!(o[0].lines.is_empty());
    assert_eq!(
        serde_json::Value::Object(o[0].properties.clone()),
        json!({"description": "Order 1001", "customer_description": "Ann", "card_brand": "Visa"})
    );
    assert_eq!(o[1].external_id, "ch_3");
    assert_eq!(o[1].time, ts("2024-01-16T09:30:00Z"));
    assert_eq!(o[1].total, Money::new(4000, Currency::EUR));
    assert_eq!(o[1].status.as_deref(), Some("partially_refunded"));
    assert_eq!(o[2].external_id, "ch_5");
    assert_eq!(o[2].status.as_deref(), Some("refunded"));
}

#[test]
fn spend_with_months_days_and_ranges() {
    let data = "\
Channel,Platform,Campaign,Month,Start Date,End Date,Spend,Currency
Paid Social,facebook,spring,2024-02,,,1200.00,
paid search,google,,,2024-03-01,2024-03-15,300,GBP
Display,,,,2024-04,,50,
Paid Search,google,,2024-03,,,-20.00,
Paid Search,google,,,2024-03-10,2024-03-01,20.00,
Paid Search,google,,,,,20.00,
";
    let (records, errors, _) = read(RecordKind::Spend, "spend.csv", data);
    let spend: Vec<IncomingSpend> = records
        .into_iter()
        .map(|r| match r {
            Record::Spend(s) => s,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        spend,
        vec![
            IncomingSpend {
                channel: "Paid Social".into(),
                source: Some("facebook".into()),
                campaign: Some("spring".into()),
                start: day("2024-02-01"),
                end: day("2024-02-29"),
                amount: usd(120_000)
            },
            IncomingSpend {
                channel: "Paid Search".into(),
                source: Some("google".into()),
                campaign: None,
                start: day("2024-03-01"),
                end: day("2024-03-15"),
                amount: Money::new(30_000, Currency::GBP)
            },
            IncomingSpend {
                channel: "Display".into(),
                source: None,
                campaign: None,
                start: day("2024-04-01"),
                end: day("2024-04-30"),
                amount: usd(5_000)
            },
        ]
    );
    let msgs: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        msgs,
        vec![
            "spend.csv:5: column `Spend`: negative amount: \"-20.00\"",
            "spend.csv:6: column `End Date`: the period ends (2024-03-01) before it starts (2024-03-10)",
            "spend.csv:7: no period: give start and end, a date, or a month like 2024-03",
        ]
    );
}

#[test]
fn feedback_ratings_are_normalised() {
    let data = "\
source,review_id,reviewer,email,date,stars,out_of,text,tags,type,link
google,g-1,Ann,ann@example.com,2024-02-01,4,,Lovely shop; quick delivery,\"delivery; staff, service\",,https://g.co/r/1
yelp,y-7,Bob,,2024-02-02T12:00:00Z,8,10,Good coffee,,review,
instagram,,,,2024-02-03,,,Loved the new window display,window,mention,
trustpilot,t-1,Cy,,2024-02-04,90,,Great,,,
google,g-2,Di,,2024-02-05,3,,   ,,,
google,g-3,Ed,,2024-02-05,3,,Meh,,complaint,
";
    let (records, errors, _) = read(RecordKind::Feedback, "reviews.csv", data);
    let fb: Vec<IncomingFeedback> = records
        .into_iter()
        .map(|r| match r {
            Record::Feedback(f) => f,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(fb.len(), 4);
    assert_eq!(
        fb[0],
        IncomingFeedback {
            kind: FeedbackKind::Review,
            source: "google".into(),
            external_id: Some("g-1".into()),
            customer: vec![Identity::email("ann@example.com").unwrap()],
            author: Some("Ann".into()),
            time: ts("2024-02-01T00:00:00Z"),
            rating: Some(4.0),
            text: "Lovely shop; quick delivery".into(),
            link: Some("https://g.co/r/1".into()),
            touchpoint: None,
            tags: vec!["delivery".into(), "staff".into(), "service".into()],
        }
    );
    assert_eq!(fb[1].rating, Some(4.0), "8 out of 10");
    assert_eq!(
        (fb[2].kind, fb[2].rating, fb[2].customer.len()),
        (FeedbackKind::Mention, None, 0)
    );
    assert_eq!(fb[2].tags, vec!["window".to_string()]);
    assert_eq!(
        fb[3].rating,
        Some(4.5),
        "90 with no scale is read as out of 100"
    );
    let msgs: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        msgs,
        vec![
            "reviews.csv:6: column `text`: empty, but `text` is required",
            "reviews.csv:7: column `type`: unknown kind \"complaint\" (expected review, mention or note)",
        ]
    );
}

#[test]
fn customers_with_names_and_properties() {
    let data = "\
Customer ID,Email,First Name,Last Name,Signup Date,City,Loyalty Tier,properties
c-1,Ann@Example.com,Ann,Lee,2023-05-01,Leeds,gold,\"{\"\"age_band\"\": \"\"25-34\"\"}\"
,bob@example.com,,,,York,,
,,Nobody,,,,,
c-4,,,,,,,not json
";
    let (records, errors, _) = read(RecordKind::Customers, "customers.csv", data);
    let cs: Vec<IncomingCustomer> = records
        .into_iter()
        .map(|r| match r {
            Record::Customer(c) => c,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(cs.len(), 2);
    assert_eq!(
        cs[0].identities,
        vec![
            Identity::external("c-1").unwrap(),
            Identity::email("ann@example.com").unwrap()
        ]
    );
    assert_eq!(cs[0].name.as_deref(), Some("Ann Lee"));
    assert_eq!(cs[0].first_seen, Some(ts("2023-05-01T00:00:00Z")));
    assert_eq!(
        serde_json::Value::Object(cs[0].properties.clone()),
        json!({"City": "Leeds", "Loyalty Tier": "gold", "age_band": "25-34"})
    );
    assert_eq!((cs[1].name.as_deref(), cs[1].first_seen), (None, None));
    assert_eq!(
        serde_json::Value::Object(cs[1].properties.clone()),
        json!({"City": "York"})
    );
    let msgs: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        msgs,
        vec![
            "customers.csv:4: no identity: customer_id, email and anonymous_id are all empty",
            "customers.csv:5: column `properties`: not a JSON object: expected ident at line 1 column 2",
        ]
    );
}

#[test]
fn ragged_lines_and_malformed_quoting() {
    let data = "\
order_id,email,created_at,total,status
A1,a@x.com,2024-01-01,10.00,paid
A2,b@x.com,2024-01-01,10.00
A3,c@x.com,2024-01-01,10.00,paid,extra
A4,\"d@x.com,2024-01-01,10.00,paid
A5,e@x.com,2024-01-01,10.00,paid
";
    let (records, errors, _) = read(RecordKind::Orders, "orders.csv", data);
    let msgs: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        msgs,
        vec![
            "orders.csv:3: expected 5 fields as in the header, found 4",
            "orders.csv:4: expected 5 fields as in the header, found 6",
            // The unclosed quote swallows the rest of the file into one field.
            "orders.csv:5: expected 5 fields as in the header, found 2",
        ]
    );
    assert_eq!(
        errors[0].raw.as_deref(),
        Some("A2,b@x.com,2024-01-01,10.00")
    );
    assert_eq!(
        errors[2].raw.as_deref(),
        Some("A4,\"d@x.com,2024-01-01,10.00,paid\nA5,e@x.com,2024-01-01,10.00,paid\n\"")
    );
    assert_eq!(
        orders(records)
            .iter()
            .map(|o| o.external_id.as_str())
            .collect::<Vec<_>>(),
        vec!["A1"]
    );
}

#[test]
fn unknown_columns_are_kept_for_events_and_ignored_for_orders() {
    let (records, _, _) = read(
        RecordKind::Orders,
        "o.csv",
        "order_id,email,date,total,gift_wrap\nA1,a@x.com,2024-01-01,5,yes\n",
    );
    assert!(orders(records)[0].properties.is_empty());
    let (records, _, _) = read(
        RecordKind::Events,
        "e.csv",
        "event,anonymous_id,time,Gift Wrap,Items\nclick,v1,2024-01-01,yes,3\n",
    );
    assert_eq!(
        serde_json::Value::Object(events(records)[0].event.properties.clone()),
        json!({"Gift Wrap": "yes", "Items": "3"})
    );
}

#[test]
fn missing_columns_name_the_aliases_tried() {
    let err = open(
        RecordKind::Orders,
        "orders.csv",
        b"order_id,email,date\nA1,a@x.com,2024-01-01\n",
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "orders.csv: header: no column for the required field `total` (tried: total, order_total, total_price, grand_total, amount, revenue, value)"
    );
    match err {
        ImportError::MissingColumn { field, tried, .. } => {
            assert_eq!((field.as_str(), tried.len()), ("total", 7))
        }
        other => panic!("{other:?}"),
    }
    let err = open(
        RecordKind::Events,
        "events.csv",
        b"event,time,page\nx,2024-01-01,/\n",
    )
    .unwrap_err();
    assert!(
        err.to_string().starts_with("events.csv: header: no column for the required field `customer_id, email or anonymous_id` (tried: customer_id, user_id,"),
        "{err}"
    );
    let err = open(
        RecordKind::Spend,
        "spend.csv",
        b"channel,amount\nDisplay,5\n",
    )
    .unwrap_err();
    assert!(err.to_string().contains("`start, date or month`"), "{err}");
}

#[test]
fn overrides_win_and_must_name_real_columns_and_fields() {
    let mut opts = options(RecordKind::Events, "events.csv");
    opts.column_map = vec![
        ("email".into(), "Contact".into()),
        ("name".into(), "What".into()),
    ];
    let data = "What,Contact,email,time\nsignup,ann@example.com,not-used,2024-01-01\n";
    let (records, errors, _) = read_with(opts.clone(), data.as_bytes());
    assert!(errors.is_empty(), "{errors:?}");
    let ev = events(records);
    assert_eq!(
        (ev[0].event.name.as_str(), &ev[0].event.identity),
        ("signup", &Identity::email("ann@example.com").unwrap())
    );
    assert_eq!(
        ev[0].event.properties.get("email"),
        Some(&json!("not-used")),
        "the displaced column is an extra"
    );

    opts.column_map = vec![("email".into(), "E-mail Address".into())];
    let err = RecordReader::new(std::io::Cursor::new(data.as_bytes().to_vec()), opts.clone())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "events.csv: header: the override email=E-mail Address names a column that is not in the header (columns: What, Contact, email, time)"
    );
    assert!(matches!(err, ImportError::UnknownOverrideColumn { .. }));

    opts.column_map = vec![("colour".into(), "What".into())];
    let err = RecordReader::new(std::io::Cursor::new(data.as_bytes().to_vec()), opts).unwrap_err();
    assert!(
        err.to_string().starts_with(
            "events.csv: the override names an unknown field `colour` (fields: customer_id, email,"
        ),
        "{err}"
    );
}

#[test]
fn bad_timestamps_name_file_line_and_column() {
    let data = "event,anonymous_id,Timestamp\nview,v1,2024-01-01T00:00:00Z\nview,v1,yesterday\nview,v1,2024-02-30\nview,v1,\n";
    let (records, errors, _) = read(RecordKind::Events, "events.csv", data);
    assert_eq!(records.len(), 1);
    let msgs: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert!(
        msgs[0].starts_with(
            "events.csv:3: column `Timestamp`: not a time: \"yesterday\" (expected RFC 3339"
        ),
        "{}",
        msgs[0]
    );
    assert!(
        msgs[1].starts_with("events.csv:4: column `Timestamp`: not a time: \"2024-02-30\""),
        "{}",
        msgs[1]
    );
    assert_eq!(
        msgs[2],
        "events.csv:5: column `Timestamp`: empty, but `time` is required"
    );
    assert_eq!(
        (errors[0].column.as_deref(), errors[0].raw.as_deref()),
        (Some("Timestamp"), Some("view,v1,yesterday"))
    );
}

#[test]
fn non_utf8_bytes_reject_one_row() {
    let mut data = b"event,anonymous_id,time,city\nview,v1,2024-01-01,Leeds\nview,v2,2024-01-01,K\xF6ln\nview,v3,2024-01-01,York\n".to_vec();
    let (records, errors, _) = read_with(options(RecordKind::Events, "events.csv"), &data);
    assert_eq!(records.len(), 2);
    assert_eq!(errors.len(), 1);
    assert_eq!(
        errors[0].to_string(),
        "events.csv:3: column `city`: not valid UTF-8 (at byte 2 of the cell); if the file is not UTF-8, import it with the encoding option set to \"windows-1252\" (--encoding windows-1252), or save it as UTF-8"
    );
    assert_eq!(
        errors[0].raw.as_deref(),
        Some("view,v2,2024-01-01,K\u{FFFD}ln")
    );

    data = b"event,anonymous_id,t\xE9me\n".to_vec();
    let err = RecordReader::new(
        std::io::Cursor::new(data),
        options(RecordKind::Events, "events.csv"),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "events.csv:1: the header is not valid UTF-8; if the file is not UTF-8, import it with the encoding option set to \"windows-1252\" (--encoding windows-1252), or save it as UTF-8"
    );
}

#[test]
fn empty_blank_and_header_only_files() {
    for data in ["", "\n\n  \n", "\u{FEFF}"] {
        let err = open(RecordKind::Events, "events.csv", data.as_bytes()).unwrap_err();
        assert_eq!(err.to_string(), "events.csv: the file is empty", "{data:?}");
    }
    let (records, errors, _) = read(
        RecordKind::Events,
        "events.csv",
        "event,anonymous_id,time\n",
    );
    assert!(records.is_empty() && errors.is_empty());
    let err = open(RecordKind::Events, "events.ndjson", b"\n\n").unwrap_err();
    assert!(
        matches!(err, ImportError::Empty { .. }),
        "a file of blank lines is empty"
    );
    let err = open(RecordKind::Events, "events.csv", b"event,time,time\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "events.csv:1: bad header: column `time` appears twice (columns 2 and 3)"
    );
}

#[test]
fn negative_amounts() {
    let data = "order_id,email,date,total,discount\nA1,a@x.com,2024-01-01,-1.00,\nA2,b@x.com,2024-01-01,9.00,-1.50\nA3,c@x.com,2024-01-01,12,x\n";
    let (records, errors, _) = read(RecordKind::Orders, "orders.csv", data);
    let o = orders(records);
    assert_eq!(o.len(), 1);
    assert_eq!(
        (o[0].total, o[0].discount),
        (usd(900), Some(usd(150))),
        "a negative discount is read as positive"
    );
    let msgs: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        msgs,
        vec![
            "orders.csv:2: column `total`: negative total: \"-1.00\"",
            "orders.csv:4: column `discount`: \"x\" is not a number (it has 'x')"
        ]
    );
    let (_, errors, _) = read(
        RecordKind::Orders,
        "orders.csv",
        "order_id,email,date,total\nA1,a@x.com,2024-01-01,\"12,x\"\n",
    );
    assert_eq!(
        errors[0].to_string(),
        "orders.csv:2: column `total`: \"12,x\" is not a number (it has 'x')"
    );
}

#[test]
fn bom_and_quoted_newlines_keep_line_numbers_right() {
    let data = "\u{FEFF}Event,Anonymous ID,Time,note\n\
view,v1,2024-01-01,\"two\nlines\"\n\
view,v2,2024-01-01,plain\n\
view,v3,never,plain\n";
    let (records, errors, _) = read(RecordKind::Events, "events.csv", data);
    let ev = events(records);
    assert_eq!(ev.len(), 2);
    assert_eq!(
        ev[0].event.properties.get("note"),
        Some(&json!("two\nlines"))
    );
    assert_eq!(errors.len(), 1);
    assert_eq!(
        errors[0].line, 5,
        "the quoted newline pushes the bad row to line 5"
    );
    assert!(
        errors[0]
            .to_string()
            .starts_with("events.csv:5: column `Time`: not a time: \"never\"")
    );
}

#[test]
fn tsv_and_format_sniffing() {
    let (records, errors, _) = read(
        RecordKind::Events,
        "events.tsv",
        "event\tanonymous_id\ttime\tnote\nview\tv1\t2024-01-01\ta, b\n",
    );
    assert!(errors.is_empty());
    assert_eq!(
        events(records)[0].event.properties.get("note"),
        Some(&json!("a, b"))
    );

    let nd = "\n  {\"event\":\"view\",\"anonymousId\":\"v1\",\"timestamp\":\"2024-01-01\"}\n";
    let reader = open(RecordKind::Events, "upload", nd.as_bytes()).unwrap();
    assert_eq!(reader.format(), FileFormat::Ndjson);
    assert_eq!(reader.count(), 1);
    assert_eq!(
        open(RecordKind::Events, "upload", b"event,anonymous_id,time\n")
            .unwrap()
            .format(),
        FileFormat::Csv
    );
    assert_eq!(
        open(RecordKind::Events, "x.jsonl", b"event,anonymous_id,time\n")
            .unwrap()
            .format(),
        FileFormat::Ndjson
    );
    let mut opts = options(RecordKind::Events, "x.jsonl");
    opts.format = Some(FileFormat::Csv);
    let reader = RecordReader::new(
        std::io::Cursor::new(b"event,anonymous_id,time\n".to_vec()),
        opts,
    )
    .unwrap();
    assert_eq!(reader.format(), FileFormat::Csv);
    assert_eq!(
        reader.matched_columns(),
        vec![
            ("anonymous_id", "anonymous_id".to_string()),
            ("name", "event".to_string()),
            ("time", "time".to_string())
        ]
    );
}

#[test]
fn default_currency_applies_when_the_row_has_none() {
    let mut opts = options(RecordKind::Orders, "orders.csv");
    opts.default_currency = Currency::GBP;
    let data = "order_id,email,date,total,currency\nA1,a@x.com,2024-01-01,5.50,\nA2,a@x.com,2024-01-01,5.50,jpy\nA3,a@x.com,2024-01-01,5,euro\n";
    let (records, errors, _) = read_with(opts, data.as_bytes());
    let o = orders(records);
    assert_eq!(o[0].total, Money::new(550, Currency::GBP));
    assert_eq!(
        errors[0].to_string(),
        "orders.csv:3: column `total`: \"5.50\" has more decimals than JPY has"
    );
    assert_eq!(
        errors[1].to_string(),
        "orders.csv:4: column `currency`: not a currency code: \"euro\" (expected three letters like EUR)"
    );
}

#[test]
fn record_kinds_and_field_lists() {
    assert_eq!("Events".parse::<RecordKind>(), Ok(RecordKind::Events));
    assert_eq!("order".parse::<RecordKind>(), Ok(RecordKind::Orders));
    assert!("visits".parse::<RecordKind>().is_err());
    let names: Vec<&str> = fields(RecordKind::Spend).iter().map(|f| f.name).collect();
    assert_eq!(
        names,
        vec![
            "channel", "source", "campaign", "start", "end", "date", "month", "amount", "currency"
        ]
    );
    let required: Vec<&str> = fields(RecordKind::Events)
        .iter()
        .filter(|f| f.required)
        .map(|f| f.name)
        .collect();
    assert_eq!(required, vec!["name", "time"]);
}

#[test]
fn ga4_channel_grouping_table() {
    use Channel::*;
    let table: &[(&str, &str, &str, Channel)] = &[
        ("(direct)", "(none)", "", Direct),
        ("(direct)", "(not set)", "", Direct),
        ("google", "cpc", "brand cross-network", CrossNetwork),
        ("google", "cpc", "summer shopping", PaidShopping),
        ("amazon", "ppc", "", PaidShopping),
        ("newsletter", "paid", "shop-now", PaidShopping),
        ("google", "cpc", "", PaidSearch),
        ("www.bing.com", "ppc", "", PaidSearch),
        ("instagram", "paid_social", "", PaidSocial),
        ("m.facebook.com", "cpc", "", PaidSocial),
        ("youtube", "cpv", "", PaidVideo),
        ("dv360", "display", "", Display),
        ("partner", "cpm", "", Display),
        ("partner", "retargeting", "", PaidOther),
        ("ebay", "referral", "", OrganicShopping),
        ("newsletter", "email", "eshop-launch", OrganicShopping),
        // "workshop" is not a shop campaign: the letter before "shop" must not be a-d or f-z.
        ("newsletter", "email", "workshop", Email),
        ("facebook", "referral", "", OrganicSocial),
        ("l.instagram.com", "referral", "", OrganicSocial),
        ("forum", "social-media", "", OrganicSocial),
        ("vimeo", "referral", "", OrganicVideo),
        ("partner", "video", "", OrganicVideo),
        ("duckduckgo", "organic", "", OrganicSearch),
        ("localguide", "organic", "", OrganicSearch),
        ("blog.example.org", "referral", "", Referral),
        ("app", "app", "", Referral),
        ("newsletter", "email", "", Email),
        ("e-mail", "", "", Email),
        ("awin", "affiliate", "", Affiliates),
        ("podcast", "audio", "", Audio),
        ("twilio", "sms", "", Sms),
        ("firebase", "", "", MobilePushNotifications),
        ("app", "web-push", "", MobilePushNotifications),
        ("till", "pos", "", InStore),
        ("shop", "In-Store", "", InStore),
        ("google", "phone", "", Phone),
        ("whatever", "unknown", "", Unassigned),
        ("", "", "", Unassigned),
        // `x` is X (Twitter), a social site, and the social rule comes before the affiliate one.
        ("x", "affiliate", "", OrganicSocial),
        ("GOOGLE", "CPC", "", PaidSearch),
    ];
    let mut cached = enrich::ChannelRules::new();
    for &(source, medium, campaign, want) in table {
        assert_eq!(
            enrich::classify(source, medium, campaign),
            want,
            "{source}/{medium}/{campaign}"
        );
        assert_eq!(
            cached.classify(source, medium, campaign),
            want,
            "cached {source}/{medium}/{campaign}"
        );
    }
    let covered: std::collections::HashSet<Channel> = table.iter().map(|t| t.3).collect();
    assert_eq!(
        covered.len(),
        Channel::ALL.len(),
        "every group is exercised"
    );
}

#[test]
fn the_enricher_is_usable_on_its_own() {
    let mut event = trailmap_model::Event {
        referrer: Some("https://t.co/abc".into()),
        page: Some("https://shop.com/p?utm_campaign=launch".into()),
        ..trailmap_model::Event::new("page_view", Timestamp(0), Identity::anonymous("v").unwrap())
    };
    Enricher::new()
        .enrich(&mut event, Some("Mozilla/5.0"))
        .unwrap();
    assert_eq!(
        (
            event.source.as_deref(),
            event.medium.as_deref(),
            event.campaign.as_deref(),
            event.channel.as_deref(),
            event.page.as_deref()
        ),
        (
            Some("twitter"),
            Some("referral"),
            Some("launch"),
            Some("Organic Social"),
            Some("/p")
        )
    );
    assert_eq!(enrich::STEPS, ["bot", "device", "referral", "utm", "referrer", "channel"]);
}

/// Input never panics the reader: thousands of seeded garbage files, built from fragments of real
/// headers, quotes, separators, odd bytes and timestamps, read to the end for every record kind.
/// Each either fails as a whole with an error naming the file or yields records and row errors
/// that name the file and a line.
#[test]
fn garbage_input_never_panics_and_every_error_names_the_file() {
    use rand::{Rng, SeedableRng};
    let fragments: &[&[u8]] = &[
        b"timestamp,event,user_id,email,anonymous_id,page,referrer,revenue,currency\n",
        b"order_id,time,email,total,currency,sku,quantity,price\n",
        b"Name,Email,Financial Status,Created at,Lineitem name,Lineitem quantity,Lineitem price,Total\n",
        b"id,Created (UTC),Amount,Status,Customer Email,Captured\n",
        b"month,channel,amount\n",
        b"date,source,rating,text\n",
        b"2025-01-01T10:00:00Z", b"1700000000", b"1700000000123", b"2025-13-45", b"",
        b",", b",,", b"\"", b"\"\"", b"\n", b"\r\n", b"\t", b"\xff\xfe", b"\xef\xbb\xbf", b"\x00",
        b"page_view", b"a@x.com", b"-12.50", b"1e309", b"NaN", b"https://x.com/?utm_source=\xc3",
        b"{\"event\":\"e\",\"userId\":\"u\",\"timestamp\":\"2025-01-01T00:00:00Z\"}\n", b"{", b"}", b"[1,2]\n",
        "\u{1F600}".as_bytes(), b"Paid Social", b"2025-02", b"$1,299.00",
    ];
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2026);
    for case in 0..3000 {
        let mut data = Vec::new();
        for _ in 0..rng.random_range(0..40) {
            data.extend_from_slice(fragments[rng.random_range(0..fragments.len())]);
        }
        let kind = RecordKind::ALL[case % RecordKind::ALL.len()];
        let file = if case % 3 == 0 { "g.ndjson" } else { "g.csv" };
        match open(kind, file, &data) {
            Err(e) => assert!(e.to_string().contains(file), "case {case}: {e}"),
            Ok(reader) => {
                for item in reader {
                    if let Err(e) = item {
                        assert_eq!(e.file, file, "case {case}");
                        assert!(e.line >= 1, "case {case}: {e}");
                    }
                }
            }
        }
    }
}

#[path = "ingest/integrity.rs"]
mod integrity;
#[path = "ingest/forms.rs"]
mod forms;
#[path = "ingest/parquet.rs"]
mod parquet;
