//! The integrity rules of issue 17, one hostile file each: numbers in locale forms are refused
//! unless the decimal mark is declared, control characters and over-long fields are refused with
//! their line, NDJSON objects that give a key twice are refused, and a header that fails because
//! of its delimiter or encoding names the option that reads it.

use super::{orders, read_with};
use trailmap_ingest::{FileEncoding, ImportOptions, Record, RecordKind, RecordReader};
use trailmap_model::{Currency, DecimalMark, Money};

fn options(kind: RecordKind, file: &str, mark: Option<DecimalMark>) -> ImportOptions {
    let mut options = ImportOptions::new(kind, file);
    options.decimal_mark = mark;
    options
}

/// The totals of a one-column-of-totals orders file read with `mark`, or the row errors' text.
fn totals(values: &[&str], mark: Option<DecimalMark>, currency: Currency) -> Vec<Result<Money, String>> {
    let mut csv = String::from("order_id,email,time,total\n");
    for (i, v) in values.iter().enumerate() {
        csv.push_str(&format!("o{i},a{i}@example.com,2024-03-01T10:00:00Z,\"{v}\"\n"));
    }
    let mut opts = options(RecordKind::Orders, "orders.csv", mark);
    opts.default_currency = currency;
    let (records, errors, _) = read_with(opts, csv.as_bytes());
    let mut good = orders(records).into_iter().map(|o| (o.external_id, o.total));
    let mut bad = errors.into_iter();
    (0..values.len())
        .map(|i| match good.clone().find(|(id, _)| *id == format!("o{i}")) {
            Some((_, total)) => {
                good.next();
                Ok(total)
            }
            None => Err(bad.next().expect("a refused row has its error").to_string()),
        })
        .collect()
}

#[test]
fn a_decimal_comma_is_refused_with_file_line_and_column_until_the_mark_is_declared() {
    let got = totals(&["12,50"], None, Currency::EUR);
    let message = got[0].clone().unwrap_err();
    assert!(message.starts_with("orders.csv:2: column `total`: \"12,50\" is ambiguous"), "{message}");
    assert!(message.contains("decimal"), "the refusal says how to declare the mark: {message}");
    // Declared, it is read: never the silent 1,250.00 of before.
    assert_eq!(totals(&["12,50"], Some(DecimalMark::Comma), Currency::EUR), vec![Ok(Money::new(1250, Currency::EUR))]);
    // With the point declared, "12,50" is not a thousands grouping either (groups are of three).
    assert!(totals(&["12,50"], Some(DecimalMark::Point), Currency::EUR)[0].is_err());
}

#[test]
fn thousands_separators_signs_and_symbols_follow_the_declared_rules() {
    let eur = |v: i64| Ok(Money::new(v, Currency::EUR));
    let usd = |v: i64| Ok(Money::new(v, Currency::USD));
    // Undeclared: only the plain form is read.
    let undeclared = totals(&["1234.56", "1.234,56", "1,234", "1.500", "-3", "$12.50"], None, Currency::USD);
    assert_eq!(undeclared[0], usd(123_456));
    for (i, v) in [(1, "1.234,56"), (2, "1,234"), (3, "1.500")] {
        let e = undeclared[i].clone().unwrap_err();
        assert!(e.contains(&format!("{v:?}")) && e.contains("ambiguous"), "{v}: {e}");
    }
    assert!(undeclared[4].clone().unwrap_err().contains("negative total"), "a total is never negative");
    assert_eq!(undeclared[5], usd(1250));
    // The comma declared: the European forms read, the American ones are refused.
    let comma = totals(&["1.234,56", "1 234,56", "12,5", "1,234.56", "12,50 €", "EUR 3,00"], Some(DecimalMark::Comma), Currency::EUR);
    assert_eq!(&comma[..3], &[eur(123_456), eur(123_456), eur(1250)]);
    assert!(comma[3].is_err(), "{:?}", comma[3]);
    assert_eq!(&comma[4..], &[eur(1250), eur(300)]);
    // The point declared.
    let point = totals(&["1,234.56", "1'234.56", "1,23.4", "£5.00", "(12.50)", "0.125"], Some(DecimalMark::Point), Currency::USD);
    assert_eq!(&point[..2], &[usd(123_456), usd(123_456)]);
    assert!(point[2].clone().unwrap_err().contains("1,23.4"), "a group of two digits is no grouping");
    assert!(point[3].clone().unwrap_err().contains("the row's currency is USD"), "{:?}", point[3]);
    assert!(point[4].clone().unwrap_err().contains("parentheses"), "{:?}", point[4]);
    assert!(point[5].clone().unwrap_err().contains("more decimals than USD has"), "{:?}", point[5]);
}

#[test]
fn shopify_and_stripe_exports_read_their_own_number_format_whatever_the_business_declares() {
    let stripe = "id,Created (UTC),Amount,Currency,Status,Customer Email\n\
                  ch_1,2024-01-15 10:23:45,\"1,061.86\",usd,Paid,ann@example.com\n";
    let mut opts = ImportOptions::new(RecordKind::Orders, "unified_payments.csv");
    opts.default_decimal_mark = Some(DecimalMark::Comma);
    let (records, errors, _) = read_with(opts.clone(), stripe.as_bytes());
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(orders(records)[0].total, Money::new(106_186, Currency::USD));
    // What the person declares for the file wins, even over the layout.
    opts.decimal_mark = Some(DecimalMark::Comma);
    let (_, errors, _) = read_with(opts, stripe.as_bytes());
    assert_eq!(errors.len(), 1, "{errors:?}");
}

#[test]
fn nul_and_control_characters_are_refused_with_the_line() {
    let csv = "event,anonymous_id,time\nsign\0up,a1,2024-03-01T10:00:00Z\nsign_up,a2,2024-03-01T10:00:00Z\nbad\x07bell,a3,2024-03-01T10:00:00Z\n";
    let (records, errors, _) = read_with(ImportOptions::new(RecordKind::Events, "events.csv"), csv.as_bytes());
    assert_eq!(records.len(), 1);
    let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(messages, vec![
        "events.csv:2: column `event`: a control character U+0000 (NUL) at character 5".to_string(),
        "events.csv:4: column `event`: a control character U+0007 at character 4".to_string(),
    ]);
    // A tab or a line break inside a quoted text field (a note, a description) is text.
    let feedback = "source,text,time\nsurvey,\"two\nlines\tand a tab\",2024-03-01T10:00:00Z\n";
    let (records, errors, _) = read_with(ImportOptions::new(RecordKind::Feedback, "feedback.csv"), feedback.as_bytes());
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(records.len(), 1);
    // The same in an event name, which is one line, is refused.
    let csv = "event,anonymous_id,time\n\"sign\nup\",a1,2024-03-01T10:00:00Z\n";
    let (_, errors, _) = read_with(ImportOptions::new(RecordKind::Events, "events.csv"), csv.as_bytes());
    assert!(errors[0].to_string().contains("U+000A (line feed)"), "{errors:?}");
}

#[test]
fn fields_have_length_limits_and_a_huge_line_is_refused_without_being_kept() {
    let long_name = "e".repeat(1025);
    let csv = format!("event,anonymous_id,time\n{long_name},a1,2024-03-01T10:00:00Z\n");
    let (_, errors, _) = read_with(ImportOptions::new(RecordKind::Events, "events.csv"), csv.as_bytes());
    assert_eq!(errors[0].to_string(), "events.csv:2: column `event`: 1025 bytes, over the field's limit of 1 KiB");
    // A 50 MB line: refused with its line, the next line read, and nothing of it kept.
    let mut data = b"event,anonymous_id,time\nsign_up,a1,".to_vec();
    data.extend(std::iter::repeat_n(b'x', 50 * 1024 * 1024));
    data.extend(b"\nsign_up,a2,2024-03-01T10:00:00Z\n");
    let (records, errors, _) = read_with(ImportOptions::new(RecordKind::Events, "big.csv"), &data);
    assert_eq!(records.len(), 1);
    assert_eq!(errors.len(), 1);
    assert!(errors[0].to_string().starts_with("big.csv:2: the row is longer than"), "{}", errors[0]);
    assert!(errors[0].raw.as_ref().is_none_or(|raw| raw.len() <= 1024), "the rejects file gets no 50 MB copy");
    // The same in NDJSON.
    let mut data = b"{\"event\":\"".to_vec();
    data.extend(std::iter::repeat_n(b'x', 3 * 1024 * 1024));
    data.extend(b"\"}\n{\"event\":\"sign_up\",\"anonymous_id\":\"a\",\"time\":\"2024-03-01T10:00:00Z\"}\n");
    let (records, errors, _) = read_with(ImportOptions::new(RecordKind::Events, "big.ndjson"), &data);
    assert_eq!((records.len(), errors.len()), (1, 1));
    assert!(errors[0].to_string().starts_with("big.ndjson:1: the line is longer than 1 MiB"), "{}", errors[0]);
}

#[test]
fn ndjson_objects_that_give_a_key_twice_are_refused() {
    let data = "{\"event\":\"a\",\"anonymous_id\":\"x\",\"time\":\"2024-03-01T10:00:00Z\"}\n\
                {\"event\":\"a\",\"event\":\"b\",\"anonymous_id\":\"x\",\"time\":\"2024-03-01T10:00:00Z\"}\n\
                {\"event\":\"a\",\"anonymous_id\":\"x\",\"time\":\"2024-03-01T10:00:00Z\",\"properties\":{\"plan\":1,\"plan\":2}}\n";
    let (records, errors, _) = read_with(ImportOptions::new(RecordKind::Events, "events.ndjson"), data.as_bytes());
    assert_eq!(records.len(), 1);
    let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(messages.len(), 2);
    assert!(messages[0].starts_with("events.ndjson:2:") && messages[0].contains("the key \"event\" is given twice"), "{messages:?}");
    assert!(messages[1].starts_with("events.ndjson:3:") && messages[1].contains("the key \"plan\" is given twice"), "{messages:?}");
}

fn open_error(options: ImportOptions, data: &[u8]) -> String {
    match RecordReader::new(std::io::Cursor::new(data.to_vec()), options) {
        Ok(_) => panic!("the file opened"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_header_that_fails_by_its_delimiter_or_encoding_names_the_option_that_reads_it() {
    let semicolons = b"name;email;time\nAnn;ann@example.com;2024-03-01T10:00:00Z\n";
    let message = open_error(ImportOptions::new(RecordKind::Customers, "customers.csv"), semicolons);
    assert!(message.contains("no column for the required field"), "{message}");
    assert!(message.contains("`;`-separated") && message.contains("--delimiter ';'"), "{message}");
    let mut options = ImportOptions::new(RecordKind::Customers, "customers.csv");
    options.delimiter = Some(b';');
    let (records, errors, _) = read_with(options, semicolons);
    assert!(errors.is_empty(), "{errors:?}");
    assert!(matches!(&records[..], [Record::Customer(c)] if c.name.as_deref() == Some("Ann")));

    let tabs = b"name\temail\nAnn\tann@example.com\n";
    let message = open_error(ImportOptions::new(RecordKind::Customers, "customers.csv"), tabs);
    assert!(message.contains("tab-separated") && message.contains("--delimiter 'tab'"), "{message}");

    // UTF-16 with a byte-order mark (what Excel's "Unicode text" writes) is read as it is.
    let text = "name,email,city\nZoë,zoe@example.com,Zürich\n";
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let (records, errors, _) = read_with(ImportOptions::new(RecordKind::Customers, "customers.csv"), &utf16);
    assert!(errors.is_empty(), "{errors:?}");
    assert!(matches!(&records[..], [Record::Customer(c)] if c.name.as_deref() == Some("Zoë")));
    // Without the mark it is named, with the option that reads it.
    let message = open_error(ImportOptions::new(RecordKind::Customers, "customers.csv"), &utf16[2..]);
    assert!(message.contains("UTF-16") && message.contains("--encoding utf-16le"), "{message}");
    let mut options = ImportOptions::new(RecordKind::Customers, "customers.csv");
    options.encoding = Some(FileEncoding::parse("utf-16le").unwrap());
    let (records, errors, _) = read_with(options, &utf16[2..]);
    assert!(errors.is_empty() && records.len() == 1, "{errors:?}");

    // Latin-1 (Windows-1252) in the header: named, and read with the option.
    let latin1 = b"name,email,stra\xdfe\nZo\xeb,zoe@example.com,Hauptstra\xdfe 1\n";
    let message = open_error(ImportOptions::new(RecordKind::Customers, "customers.csv"), latin1);
    assert!(message.contains("--encoding windows-1252"), "{message}");
    let mut options = ImportOptions::new(RecordKind::Customers, "customers.csv");
    options.encoding = Some(FileEncoding::parse("latin1").unwrap());
    let (records, errors, _) = read_with(options, latin1);
    assert!(errors.is_empty(), "{errors:?}");
    match &records[..] {
        [Record::Customer(c)] => {
            assert_eq!(c.name.as_deref(), Some("Zoë"));
            assert_eq!(c.properties["straße"], serde_json::json!("Hauptstraße 1"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn shopify_and_stripe_orders_carry_their_origin_and_generic_ones_none() {
    let shopify = "Name,Email,Financial Status,Created at,Total,Currency,Lineitem quantity,Lineitem name,Lineitem price\n\
                   #1001,ann@example.com,paid,2024-01-15 10:23:45 +0000,10.00,USD,1,Mug,10.00\n";
    let (records, errors, _) = read_with(ImportOptions::new(RecordKind::Orders, "orders_export.csv"), shopify.as_bytes());
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(orders(records)[0].origin, "shopify");
    let generic = "order_id,email,time,total\n1001,ann@example.com,2024-01-15T10:00:00Z,10.00\n";
    let (records, _, _) = read_with(ImportOptions::new(RecordKind::Orders, "orders.csv"), generic.as_bytes());
    assert_eq!(orders(records)[0].origin, "");
}
