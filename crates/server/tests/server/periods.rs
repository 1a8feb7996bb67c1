//! The dashboard names the period it shows and why; after a year of imported history, one event
//! dated today makes it say that the period holds far fewer events than the 30 days with data
//! before, with a link to those days, whose page no longer says so.

use super::{actor, page, wall_clock};
use trailmap_app::{App, ImportRequest, RecordKind};
use trailmap_model::Timestamp;
use trailmap_server::{ServerState, Writer, router};

#[tokio::test]
async fn a_stray_event_today_is_said_on_the_dashboard_with_the_fuller_period_one_click_away() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = App::open(&dir.path().join("p.sqlite")).unwrap();
    let now = Timestamp::from_millis(wall_clock());
    let owner = actor(&mut app, "olive@example.com", "Olive Owner", now);
    let business = app.create_business_owned(owner.user.id, "Corner Cafe", "USD", "UTC").unwrap();
    let mut csv = String::from("timestamp,event,anonymous_id\n");
    let mut day: chrono::NaiveDate = "2025-01-01".parse().unwrap();
    while day <= "2025-12-31".parse().unwrap() {
        csv.push_str(&format!("{day}T09:00:00Z,page_view,a\n{day}T15:00:00Z,page_view,b\n"));
        day += chrono::Duration::days(1);
    }
    // The stray event: today, whatever today is.
    csv.push_str(&format!("{},page_view,stray\n", now.to_rfc3339()));
    let file = dir.path().join("events.csv");
    std::fs::write(&file, csv).unwrap();
    app.import(ImportRequest::new(RecordKind::Events, &file, &business)).unwrap();
    let (tracker, writer) = Writer::start(app);
    let r = router(ServerState::new(tracker.clone(), dir.path().join("p.sqlite")));
    let b = business.id;

    let shown = page(&r, Some(&owner), "GET", &format!("/b/{b}/"), &[]).await;
    assert!(shown.text.contains("data-testid=\"period-why\""), "{}", shown.text);
    assert!(shown.text.contains("Showing the 30 days up to the latest event or order"), "{}", shown.text);
    assert!(shown.text.contains("data-testid=\"sparse-period\""), "{}", shown.text);
    assert!(shown.text.contains("These 30 days hold far less data (n = 1 events and orders) than the 30 days to 2025-12-31 (n = 60)"), "{}", shown.text);
    let link = format!("/b/{b}/?from=2025-12-02&amp;to=2025-12-31");
    assert!(shown.text.contains(&link), "{}", shown.text);
    // The offered period: its numbers, and no notice (a period picked by hand needs none).
    let fuller = page(&r, Some(&owner), "GET", &format!("/b/{b}/?from=2025-12-02&to=2025-12-31"), &[]).await;
    assert!(fuller.text.contains("2025-12-02 to 2025-12-31 (30 days)"), "{}", fuller.text);
    assert!(!fuller.text.contains("sparse-period") && !fuller.text.contains("period-why"));
    drop(r);
    drop(tracker);
    writer.join().unwrap();
}
