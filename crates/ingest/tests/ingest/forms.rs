//! Survey exports (Google Forms, Typeform), interview notes and JSON review arrays: the fixture files
//! in `tests/data/` copy the tools' real layouts, and the expected values were worked out by hand
//! from them. A seeded volume test writes Google Forms files from known answers and reads them back.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use trailmap_ingest::forms::{FormExport, FormLayout, parse_forms_timestamp, read_form};
use trailmap_ingest::notes::{json_array_to_ndjson, read_notes};
use trailmap_ingest::{FileFormat, ImportError, ImportOptions, Record, RecordKind, RecordReader};
use trailmap_model::{AnswerValue, FeedbackKind, Identity, Question, QuestionId, QuestionKind, Timestamp};

const GOOGLE: &str = include_str!("../data/google_forms_responses.csv");
const TYPEFORM: &str = include_str!("../data/typeform_responses.csv");
const NOTES: &str = include_str!("../data/interview_notes.md");
const REVIEWS: &str = include_str!("../data/reviews.json");

fn ts(text: &str) -> Timestamp {
    Timestamp::parse_rfc3339(text).unwrap()
}

fn read(layout: FormLayout, data: &str, known: Option<&[Question]>) -> FormExport {
    read_form(data.as_bytes(), layout, "export.csv", known).unwrap()
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn google_forms_export_questions_are_inferred_from_answers() {
    let export = read(FormLayout::GoogleForms, GOOGLE, None);
    let kinds: Vec<(&str, &QuestionKind)> = export.questions.iter().map(|q| (q.text.as_str(), &q.kind)).collect();
    assert_eq!(
        kinds,
        vec![
            ("How likely are you to recommend Thread & Needle to a friend?", &QuestionKind::Nps),
            ("How satisfied are you with your order?", &QuestionKind::Csat),
            (
                "Which of these did you use?",
                &QuestionKind::MultipleChoice { options: strings(&["Size guide", "Gift wrap", "Live chat"]) }
            ),
            (
                "How did you hear about us?",
                &QuestionKind::SingleChoice { options: strings(&["Instagram", "Friend", "Google"]) }
            ),
            ("What could we have done better?", &QuestionKind::FreeText),
        ]
    );
    assert!(export.hidden_fields.is_empty());
}

#[test]
fn google_forms_rows_become_responses_with_times_identities_and_answers() {
    let export = read(FormLayout::GoogleForms, GOOGLE, None);
    let rows: Vec<_> = export.rows.iter().map(|r| r.as_ref().unwrap()).collect();
    assert_eq!(rows.len(), 6);
    // 10:21:33 AM at GMT+1 is 09:21:33 UTC; 12:15 AM is a quarter past midnight, the day before in UTC.
    let times: Vec<Timestamp> = rows.iter().map(|r| r.submitted_at).collect();
    assert_eq!(
        times,
        vec![
            ts("2024-03-05T09:21:33Z"),
            ts("2024-03-05T12:02:10Z"),
            ts("2024-03-05T23:15:00Z"),
            ts("2024-03-06T08:40:05Z"),
            ts("2024-03-07T11:00:00Z"),
            ts("2024-03-08T17:30:00Z"),
        ]
    );
    assert_eq!(rows[0].line, 2);
    assert_eq!(rows[0].customer, vec![Identity::email("anna@example.com").unwrap()]);
    assert!(rows[5].customer.is_empty());
    assert_eq!(
        rows[0].answers,
        vec![
            (0, AnswerValue::Number(9.0)),
            (1, AnswerValue::Number(5.0)),
            (2, AnswerValue::Choices(strings(&["Size guide", "Gift wrap"]))),
            (3, AnswerValue::Choices(strings(&["Instagram"]))),
            (4, AnswerValue::Text("Cheaper shipping, please".into())),
        ]
    );
    // Unanswered questions are left out, not stored as empty answers.
    assert_eq!(rows[2].answers.iter().map(|(q, _)| *q).collect::<Vec<_>>(), vec![0, 1, 3, 4]);
}

#[test]
fn typeform_export_reads_option_columns_hidden_fields_and_submit_dates() {
    let export = read(FormLayout::Typeform, TYPEFORM, None);
    let kinds: Vec<(&str, &QuestionKind)> = export.questions.iter().map(|q| (q.text.as_str(), &q.kind)).collect();
    assert_eq!(
        kinds,
        vec![
            ("How likely are you to recommend Bean There Coffee to a friend?", &QuestionKind::Nps),
            ("How easy was it to order today?", &QuestionKind::Ces),
            (
                "Choices: Oat milk / Pastries",
                &QuestionKind::MultipleChoice { options: strings(&["Oat milk", "Pastries", "Other"]) }
            ),
            ("What's one thing we could do better?", &QuestionKind::FreeText),
        ]
    );
    assert_eq!(export.hidden_fields, strings(&["email", "customer_id", "order_id"]));
    let rows: Vec<_> = export.rows.iter().map(|r| r.as_ref().unwrap()).collect();
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[0].submitted_at, ts("2026-05-03T08:15:40Z"));
    assert_eq!(rows[0].response_id.as_deref(), Some("a1f3c5e7d9b2468ace13579bdf02468a"));
    assert_eq!(
        rows[0].customer,
        vec![Identity::external("C-1001").unwrap(), Identity::email("anna@example.com").unwrap()]
    );
    assert_eq!(rows[1].hidden.get("order_id").map(String::as_str), Some("1002"));
    assert_eq!(rows[1].customer, vec![Identity::email("ben@example.com").unwrap()]);
    // The `Other` column's text is kept as the respondent's own choice.
    assert_eq!(rows[2].answers[2], (2, AnswerValue::Choices(strings(&["Oat milk", "Gluten-free cake"]))));
    assert_eq!(rows[2].answers[3], (3, AnswerValue::Text("Too noisy, music too loud".into())));
    assert!(rows[3].customer.is_empty());
    assert_eq!(rows[3].answers, vec![(0, AnswerValue::Number(7.0)), (1, AnswerValue::Number(5.0))]);
}

fn question(id: i64, text: &str, kind: QuestionKind) -> Question {
    Question { id: QuestionId(id), text: text.into(), kind, required: false, skip: None }
}

#[test]
fn a_known_survey_gives_the_kinds_and_checks_the_answers() {
    let known = vec![
        question(1, "How likely are you to recommend Thread & Needle to a friend?", QuestionKind::Nps),
        // A rating out of 5 where inference would say CSAT: the survey wins.
        question(2, "how satisfied are you with your order?", QuestionKind::Rating { max: 5 }),
        question(
            3,
            "Which of these did you use?",
            QuestionKind::MultipleChoice { options: strings(&["Size guide", "Gift wrap"]) },
        ),
        question(4, "How did you hear about us?", QuestionKind::FreeText),
        question(5, "What could we have done better?", QuestionKind::FreeText),
    ];
    let export = read(FormLayout::GoogleForms, GOOGLE, Some(&known));
    assert_eq!(export.questions[1].kind, QuestionKind::Rating { max: 5 });
    assert_eq!(export.questions[1].text, "how satisfied are you with your order?");
    // "Live chat" is not an option and the question has no "Other": rows 5, 6 and 7 are rejected.
    let errors: Vec<_> = export.rows.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(errors.iter().map(|e| e.line).collect::<Vec<_>>(), vec![5, 6, 7]);
    assert_eq!(errors[0].column.as_deref(), Some("Which of these did you use?"));
    assert!(errors[0].reason.contains("\"Live chat\" is not one of the options (Size guide | Gift wrap)"), "{}", errors[0]);
    assert_eq!(errors[0].to_string().split(':').next(), Some("export.csv"));
    assert!(errors[0].raw.as_deref().unwrap().starts_with("2024/03/06 9:40:05 AM GMT+1,dan@example.com,3,2,"));

    // A column the survey does not have is a whole-file error.
    let missing = &known[..4];
    let error = read_form(GOOGLE.as_bytes(), FormLayout::GoogleForms, "export.csv", Some(missing)).unwrap_err();
    assert!(
        error.to_string().starts_with("export.csv:1: bad header: column \"What could we have done better?\" is not a question of the survey"),
        "{error}"
    );
}

#[test]
fn bad_rows_name_the_line_the_column_and_the_reason() {
    let data = "Timestamp,How likely are you to recommend us?,Comment\n\
                3/5/2024 10:21:33,9,ok\n\
                3/5/2024 25:00:00,9,bad hour\n\
                3/6/2024 10:00:00,11,too high\n\
                3/7/2024 10:00:00,7\n";
    let known = vec![question(1, "How likely are you to recommend us?", QuestionKind::Nps), question(2, "Comment", QuestionKind::FreeText)];
    let export = read(FormLayout::GoogleForms, data, Some(&known));
    let shown: Vec<String> = export.rows.iter().filter_map(|r| r.as_ref().err()).map(ToString::to_string).collect();
    assert_eq!(
        shown,
        vec![
            "export.csv:3: column `Timestamp`: not a Google Forms timestamp: \"3/5/2024 25:00:00\" (expected like 2024/03/05 10:21:33 AM GMT+1 or 3/5/2024 10:21:33)",
            "export.csv:4: column `How likely are you to recommend us?`: an NPS answer must be a number from 0 to 10, found \"11\"",
            "export.csv:5: expected 3 fields as in the header, found 2",
        ]
    );
    // US order: 3/5/2024 is March 5th.
    assert_eq!(export.rows[0].as_ref().unwrap().submitted_at, ts("2024-03-05T10:21:33Z"));
}

#[test]
fn whole_file_problems_are_errors_before_any_row() {
    let no_timestamp = read_form("When,Q\n2024-01-01,1\n".as_bytes(), FormLayout::GoogleForms, "f.csv", None).unwrap_err();
    assert!(matches!(no_timestamp, ImportError::MissingColumn { ref field, .. } if field == "Timestamp"), "{no_timestamp}");
    let no_submit = read_form("#,Q,Start Date (UTC)\n1,2,2024-01-01 10:00:00\n".as_bytes(), FormLayout::Typeform, "t.csv", None)
        .unwrap_err();
    assert_eq!(no_submit.to_string(), "t.csv: header: no column for the required field `Submit Date (UTC)` (tried: Submit Date (UTC))");
    let empty = read_form("\n \n".as_bytes(), FormLayout::Typeform, "t.csv", None).unwrap_err();
    assert!(matches!(empty, ImportError::Empty { .. }));
    let twice = read_form("Timestamp,Q,Q\n".as_bytes(), FormLayout::GoogleForms, "g.csv", None).unwrap_err();
    assert!(twice.to_string().contains("two columns are headed \"Q\""), "{twice}");
}

#[test]
fn sheets_dates_are_day_first_when_a_row_says_so() {
    let data = "Timestamp,Comment\n05/03/2024 10:00:00,a\n13/03/2024 10:00:00,b\n";
    let export = read(FormLayout::GoogleForms, data, None);
    assert_eq!(export.rows[0].as_ref().unwrap().submitted_at, ts("2024-03-05T10:00:00Z"));
    assert_eq!(export.rows[1].as_ref().unwrap().submitted_at, ts("2024-03-13T10:00:00Z"));
}

#[test]
fn forms_timestamps_edge_cases() {
    assert_eq!(parse_forms_timestamp("2024/03/05 12:00:00 AM GMT", false), Ok(ts("2024-03-05T00:00:00Z")));
    assert_eq!(parse_forms_timestamp("2024/03/05 12:30:00 PM GMT-5", false), Ok(ts("2024-03-05T17:30:00Z")));
    assert_eq!(parse_forms_timestamp("2024/03/05 8:05 PM GMT+5:30", false), Ok(ts("2024-03-05T14:35:00Z")));
    assert_eq!(parse_forms_timestamp("2024-03-05T10:00:00Z", false), Ok(ts("2024-03-05T10:00:00Z")));
    assert!(parse_forms_timestamp("2024/02/30 10:00:00", false).is_err());
    assert!(parse_forms_timestamp("2024/03/05 13:00:00 PM", false).is_err());
    assert!(parse_forms_timestamp("yesterday", false).is_err());
    // A zone with a multi-byte letter where the minutes would be: an error, not a panic.
    assert!(parse_forms_timestamp("2024/03/05 10:00 GMT+aé1", false).is_err());
}

/// Google Forms' way of writing a time: 12-hour clock and a GMT offset, as the CSV download does.
fn google_time(ms: i64, offset_hours: i64) -> String {
    let local = Timestamp(ms + offset_hours * 3_600_000).to_datetime();
    let zone = match offset_hours {
        0 => "GMT".to_string(),
        h => format!("GMT{h:+}"),
    };
    format!("{} {zone}", local.format("%Y/%m/%d %-I:%M:%S %p"))
}

#[test]
fn seeded_google_forms_files_read_back_to_the_answers_written() {
    let options = strings(&["Price", "Delivery, fast", "Delivery", "Other"]);
    let known = vec![
        question(1, "How likely are you to recommend us?", QuestionKind::Nps),
        question(2, "What mattered?", QuestionKind::MultipleChoice { options: options.clone() }),
        question(3, "Anything else?", QuestionKind::FreeText),
    ];
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let mut csv = csv::Writer::from_writer(Vec::new());
    csv.write_record(["Timestamp", "Email Address", "How likely are you to recommend us?", "What mattered?", "Anything else?"])
        .unwrap();
    let mut expected = Vec::new();
    for i in 0..2_000 {
        let ms = rng.random_range(1_600_000_000_000i64..1_800_000_000_000) / 1000 * 1000;
        let offset = rng.random_range(-11i64..=13);
        let score = rng.random_range(0..=10u8);
        let mut chosen: Vec<String> = options[..3].iter().filter(|_| rng.random_bool(0.4)).cloned().collect();
        if rng.random_bool(0.1) {
            chosen.push("my own, with a comma".into());
        }
        let comment = if rng.random_bool(0.3) { format!("comment \"{i}\", fine") } else { String::new() };
        let email = format!("p{}@example.com", rng.random_range(0..500));
        csv.write_record([google_time(ms, offset), email.clone(), score.to_string(), chosen.join(", "), comment.clone()])
            .unwrap();
        let mut answers = vec![(0, AnswerValue::Number(f64::from(score)))];
        if !chosen.is_empty() {
            answers.push((1, AnswerValue::Choices(chosen)));
        }
        if !comment.is_empty() {
            answers.push((2, AnswerValue::Text(comment)));
        }
        expected.push((Timestamp(ms), Identity::email(&email).unwrap(), answers));
    }
    let data = String::from_utf8(csv.into_inner().unwrap()).unwrap();
    let export = read(FormLayout::GoogleForms, &data, Some(&known));
    assert_eq!(export.rows.len(), expected.len());
    for (row, (time, who, answers)) in export.rows.iter().zip(expected) {
        let row = row.as_ref().unwrap();
        assert_eq!((row.submitted_at, &row.customer, &row.answers), (time, &vec![who], &answers), "line {}", row.line);
    }
}

#[test]
fn notes_become_one_tagged_note_per_quote() {
    let read: Vec<_> = read_notes(NOTES, "notes/interview_notes.md").into_iter().map(Result::unwrap).collect();
    assert_eq!(read.iter().map(|(line, _)| *line).collect::<Vec<_>>(), vec![10, 12, 21, 22, 24]);
    let notes: Vec<_> = read.into_iter().map(|(_, note)| note).collect();
    assert_eq!(notes.len(), 5);
    assert!(notes.iter().all(|n| n.touchpoint.as_deref() == Some("Checkout")));
    assert_eq!(notes.iter().map(|n| n.kind).collect::<Vec<_>>(), [[FeedbackKind::Note; 2].as_slice(), &[FeedbackKind::FocusGroup; 3]].concat());
    assert_eq!(notes[0].text, "I filled the basket, then the shipping was almost as much as the scarf.");
    assert_eq!(notes[0].tags, strings(&["shipping", "checkout"]));
    assert_eq!(notes[0].source, "Interview with Anna, 2024-03-05");
    assert_eq!(notes[0].author.as_deref(), Some("Anna"));
    assert_eq!(notes[0].time, ts("2024-03-05T00:00:00Z"));
    assert_eq!(notes[1].text, "I wanted to pay with PayPal but could not find it.");
    assert_eq!(notes[1].tags, strings(&["payment", "checkout"]));
    assert_eq!(notes[2].text, "The size guide is great.");
    assert_eq!(notes[2].tags, strings(&["size-guide"]));
    assert_eq!(notes[2].time, ts("2024-03-12T00:00:00Z"));
    assert_eq!(notes[2].source, "Focus group with regulars, 2024-03-12");
    // Each focus-group quote is its speaker's, with its own tags; a quote may run over lines.
    let said: Vec<_> = notes[2..].iter().map(|n| (n.author.as_deref(), n.text.as_str(), n.tags.clone())).collect();
    assert_eq!(
        said,
        [
            (Some("Bea"), "The size guide is great.", strings(&["size-guide"])),
            (Some("Carl"), "Delivery took a week, nobody told me why.", strings(&["delivery"])),
            (Some("Dana"), "Same for me.", strings(&[])),
        ]
    );
}

#[test]
fn tags_in_every_position_stay_with_their_own_quote() {
    let text = "---\ndate: 2024-05-01\ntags: [interview]\n---\n\
        > First, tagged at the end #price\n\
        > Second, right below with its own #delivery #slow\n\
        > Third, tags on the next line\n\
        #returns\n\
        > Fourth, mixed #size\n\
        #fit\n\
        > Fifth runs on\n\
        > over two lines\n\
        > and ends with a tag #long\n\
        > Sixth, no tags\n";
    let notes: Vec<_> = read_notes(text, "mixed.md").into_iter().map(Result::unwrap).collect();
    let got: Vec<_> = notes.iter().map(|(line, n)| (*line, n.text.as_str(), n.tags.clone())).collect();
    assert_eq!(
        got,
        [
            (5, "First, tagged at the end", strings(&["interview", "price"])),
            (6, "Second, right below with its own", strings(&["interview", "delivery", "slow"])),
            (7, "Third, tags on the next line", strings(&["interview", "returns"])),
            (9, "Fourth, mixed", strings(&["interview", "size", "fit"])),
            (11, "Fifth runs on over two lines and ends with a tag", strings(&["interview", "long"])),
            (14, "Sixth, no tags", strings(&["interview"])),
        ]
    );
}

#[test]
fn a_focus_group_attributes_each_quote_to_a_listed_participant() {
    let text = "---\nkind: focus group\nparticipants: Ann, Bo\n---\n# Evening session, 2024-06-01\n\
        > Ann: Parking is hard #parking\n\
        > Bo: I come by bike\n\
        > Cy: Who invited me?\n\n\
        > Nobody says who is talking\n";
    let items = read_notes(text, "group.md");
    let ok: Vec<_> = items.iter().filter_map(|i| i.as_ref().ok()).map(|(_, n)| (n.kind, n.author.clone(), n.text.clone())).collect();
    assert_eq!(
        ok,
        [
            (FeedbackKind::FocusGroup, Some("Ann".to_string()), "Parking is hard".to_string()),
            (FeedbackKind::FocusGroup, Some("Bo".to_string()), "I come by bike".to_string()),
        ]
    );
    let errors: Vec<String> = items.iter().filter_map(|i| i.as_ref().err()).map(ToString::to_string).collect();
    assert_eq!(
        errors,
        [
            "group.md:8: column `author`: \"Cy\" is not among the focus group's participants (Ann, Bo)",
            "group.md:10: column `author`: a focus-group quote names its speaker first, as `> Anna: ...`",
        ]
    );
    // A heading "Focus group ..." makes one without front matter; any named speaker counts then.
    let heading = read_notes("# Focus group at the market, 2024-07-02\n> Eve: Too pricey\n", "m.md");
    let note = &heading[0].as_ref().unwrap().1;
    assert_eq!((note.kind, note.author.as_deref(), note.text.as_str()), (FeedbackKind::FocusGroup, Some("Eve"), "Too pricey"));
}

#[test]
fn notes_without_a_date_or_text_are_errors_with_their_line() {
    let text = "Notes from the till\n\n> Too slow at lunch #queue\n\n---\ndate: 2024-01-01\n---\n# Chat, 2024-02-02\n>\n> \"Loved it\" #coffee\n";
    let items = read_notes(text, "till.txt");
    let errors: Vec<String> = items.iter().filter_map(|i| i.as_ref().err()).map(ToString::to_string).collect();
    assert_eq!(
        errors,
        vec![
            "till.txt:3: column `date`: no date for this quote: put `date: YYYY-MM-DD` in the front matter or a date in the `# ` heading above it",
        ]
    );
    // The empty `>` line and the next quote line are one quote; front matter only counts at the top.
    let ok: Vec<_> = items.iter().filter_map(|i| i.as_ref().ok()).map(|(_, note)| note).collect();
    assert_eq!(ok.len(), 1);
    assert_eq!((ok[0].text.as_str(), ok[0].source.as_str()), ("Loved it", "Chat, 2024-02-02"));
    assert_eq!(ok[0].time, ts("2024-02-02T00:00:00Z"));
    // Letters that grow when lower-cased do not shift where the author's name is read from.
    let turkish = read_notes("# İİİ interview with Ayşe, 2024-01-01\n> Çok güzel #kahve\n", "t.md");
    assert_eq!(turkish[0].as_ref().unwrap().1.author.as_deref(), Some("Ayşe"));
    let empty = read_notes("# Call, 2024-01-01\n> #tag-only\n", "c.md");
    assert_eq!(empty[0].as_ref().unwrap_err().to_string(), "c.md:2: a quote with no text");
    let unclosed = read_notes("---\ndate: 2024-01-01\n> hi\n", "u.md");
    assert!(unclosed[0].as_ref().unwrap_err().reason.contains("never closed"));
}

#[test]
fn a_json_array_of_reviews_reads_through_the_feedback_reader_with_real_lines() {
    let (ndjson, lines) = json_array_to_ndjson(REVIEWS.as_bytes(), "reviews.json").unwrap().unwrap();
    assert_eq!(lines, vec![2, 11, 12]);
    let mut options = ImportOptions::new(RecordKind::Feedback, "reviews.json");
    options.format = Some(FileFormat::Ndjson);
    let records: Vec<_> = RecordReader::new(std::io::Cursor::new(ndjson), options).unwrap().map(Result::unwrap).collect();
    let feedback: Vec<_> = records
        .into_iter()
        .map(|r| match r.record {
            Record::Feedback(f) => f,
            other => panic!("not feedback: {other:?}"),
        })
        .collect();
    assert_eq!(feedback.len(), 3);
    assert_eq!((feedback[0].source.as_str(), feedback[0].rating), ("google", Some(5.0)));
    assert_eq!(feedback[0].external_id.as_deref(), Some("ChdDSUhNMG9nS0VJQ0FnSUR"));
    // 4 out of 10 is 2 out of 5.
    assert_eq!(feedback[1].rating, Some(2.0));
    assert_eq!(feedback[2].kind, FeedbackKind::Mention);
    assert_eq!(feedback[2].rating, None);

    assert!(json_array_to_ndjson(b"{\"a\":1}\n", "x.ndjson").unwrap().is_none());
    let broken = json_array_to_ndjson(b"[\n {\"a\": 1},\n {\"b\": }\n]", "x.json").unwrap_err();
    assert!(broken.to_string().starts_with("x.json:3: bad header: not a valid JSON array"), "{broken}");
}

#[test]
fn seeded_garbage_never_panics() {
    // Pieces that stress the parsers: separators, quotes, tags, zones, multi-byte letters.
    const PIECES: &[&str] = &[
        ",", "\"", "\n", "\r\n", " ", "#", "# ", ">", "---", ":", "/", "Timestamp", "Submit Date (UTC)", "#,", "GMT+", "GMT+aé1",
        "PM", "AM", "12", "2024", "2024/03/05", "3/5/2024", "10:21:33", "é", "İ", "🙂", "with ", "date: ", "2024-03-05", "[", "]",
        "{", "}", "Other", "email", "x@y.z", "order_id", ", ", "#tag", "9", "11",
    ];
    let mut rng = ChaCha8Rng::seed_from_u64(88);
    for _ in 0..3_000 {
        let n = rng.random_range(0..40);
        let text: String = (0..n).map(|_| PIECES[rng.random_range(0..PIECES.len())]).collect();
        for layout in [FormLayout::GoogleForms, FormLayout::Typeform] {
            let _ = read_form(text.as_bytes(), layout, "g.csv", None);
            let known = [question(1, "Q", QuestionKind::MultipleChoice { options: strings(&["é", "Other"]) })];
            let _ = read_form(text.as_bytes(), layout, "g.csv", Some(&known));
        }
        let _ = read_notes(&text, "n.md");
        let _ = json_array_to_ndjson(text.as_bytes(), "r.json");
        let _ = parse_forms_timestamp(&text, rng.random_bool(0.5));
    }
}
