//! The period a dashboard opens on says why it was chosen, and a period that holds far less than
//! the 30 days with data before it (one stray event dated today after a year of imported history)
//! offers those fuller 30 days.

use super::{import, write};
use trailmap_app::{App, DayRange, RecordKind};

fn day(text: &str) -> chrono::NaiveDate {
    text.parse().unwrap()
}

#[test]
fn a_stray_event_after_a_year_of_history_is_said_and_the_fuller_period_offered() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = App::open(&dir.path().join("t.sqlite")).unwrap();
    // Two visits a day through 2025.
    let mut csv = String::from("timestamp,event,anonymous_id\n");
    let mut d = day("2025-01-01");
    while d <= day("2025-12-31") {
        for hour in [9, 15] {
            csv.push_str(&format!("{d}T{hour:02}:00:00Z,page_view,v{}\n", d.to_string().len() + hour));
        }
        d += chrono::Duration::days(1);
    }
    import(&mut app, RecordKind::Events, &write(dir.path(), "year.csv", csv.as_bytes()), None).unwrap();
    let business = app.business(None).unwrap();
    let today = day("2026-12-06");

    // Without the stray event: the last 30 days of 2025, 60 visits, nothing to offer.
    let normal = app.default_period_explained(&business, today).unwrap();
    assert_eq!(normal.period, DayRange::new(day("2025-12-02"), day("2025-12-31")).unwrap());
    assert_eq!((normal.records, normal.fuller), (60, None));
    assert!(normal.why.contains("2025-12-31") && normal.why.contains("60 events and orders"), "{}", normal.why);

    // One event dated today moves the period, which now says so and offers the fuller one.
    import(&mut app, RecordKind::Events, &write(dir.path(), "today.csv", b"timestamp,event,anonymous_id\n2026-12-06T08:00:00Z,page_view,stray\n"), None).unwrap();
    let stray = app.default_period_explained(&business, today).unwrap();
    assert_eq!(stray.period, DayRange::new(day("2026-11-07"), day("2026-12-06")).unwrap());
    assert_eq!(stray.records, 1);
    let fuller = stray.fuller.expect("the fuller period is offered");
    assert_eq!((fuller.period, fuller.records), (DayRange::new(day("2025-12-02"), day("2025-12-31")).unwrap(), 60));
}
