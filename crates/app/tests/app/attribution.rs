//! Issue 25, attribution by session: an events file imported through the enrichment a real import
//! runs (UTM tags, referrers, referral codes in the page address, GA4's channel grouping), then
//! attributed. Page views after the landing page carry no source of their own and inherit their
//! session's; a visit that starts with no campaign, referrer or code is Direct; a purchase with no
//! recorded touch is counted apart with its customers, never as a channel.

use super::{import, write};
use trailmap_analytics::Model;
use trailmap_app::{App, NO_TOUCH_CUSTOMERS, RecordKind};

const VISITS: &str = "timestamp,event,email,page,referrer,revenue\n\
2025-03-01T09:00:00Z,page_view,ann@example.com,https://shop.example/?utm_source=instagram&utm_medium=paid_social&utm_campaign=spring,,\n\
2025-03-01T09:02:00Z,page_view,ann@example.com,https://shop.example/p/scarf,https://shop.example/,\n\
2025-03-01T09:04:00Z,add_to_cart,ann@example.com,https://shop.example/cart,https://shop.example/p/scarf,\n\
2025-03-01T09:05:00Z,purchase,ann@example.com,https://shop.example/thanks,https://shop.example/cart,40\n\
2025-03-01T10:00:00Z,page_view,ben@example.com,https://shop.example/,https://www.google.com/,\n\
2025-03-01T10:03:00Z,page_view,ben@example.com,https://shop.example/p/hat,https://shop.example/,\n\
2025-03-02T11:00:00Z,page_view,ben@example.com,https://shop.example/,,\n\
2025-03-02T11:04:00Z,page_view,ben@example.com,https://shop.example/p/hat,https://shop.example/,\n\
2025-03-02T11:05:00Z,purchase,ben@example.com,https://shop.example/thanks,https://shop.example/p/hat,25\n\
2025-03-03T12:00:00Z,page_view,cal@example.com,https://shop.example/?ref=ANN-1,,\n\
2025-03-03T12:06:00Z,page_view,cal@example.com,https://shop.example/p/scarf,https://shop.example/,\n\
2025-03-03T12:10:00Z,purchase,cal@example.com,https://shop.example/thanks,https://shop.example/p/scarf,30\n\
2025-03-04T13:00:00Z,purchase,dan@example.com,,,15\n";

#[test]
fn touches_are_sessions_sources_as_ga4_attributes_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = App::open(&dir.path().join("t.sqlite")).unwrap();
    let file = write(dir.path(), "visits.csv", VISITS.as_bytes());
    import(&mut app, RecordKind::Events, &file, None).unwrap();
    let business = app.business(None).unwrap();
    let report = app.attribution(&business, &App::attribution_request()).unwrap();
    let a = &report.attribution;
    let credit = |model: Model, channel: &str| a.credit(model, channel).map_or(0.0, |c| c.conversions);
    assert_eq!((a.conversions, a.revenue_minor), (4, 11_000));
    // ann: one session from the Instagram ad; the page views after it (internal referrers, so
    // "Direct" on their own) and the cart are the ad's visit, not touches of their own.
    // ben: Google, then the next day a visit typed in: a Direct session, his last touch.
    // cal: a referral code in the address, with no UTM tags: a referral.
    for (model, expected) in [
        (Model::First, [("Paid Social", 1.0), ("Organic Search", 1.0), ("Direct", 0.0), ("Referral", 1.0)]),
        (Model::Last, [("Paid Social", 1.0), ("Organic Search", 0.0), ("Direct", 1.0), ("Referral", 1.0)]),
        (Model::LastNonDirect, [("Paid Social", 1.0), ("Organic Search", 1.0), ("Direct", 0.0), ("Referral", 1.0)]),
        (Model::Linear, [("Paid Social", 1.0), ("Organic Search", 0.5), ("Direct", 0.5), ("Referral", 1.0)]),
    ] {
        for (channel, want) in expected {
            assert_eq!(credit(model, channel), want, "{model:?} {channel}");
        }
    }
    // The shares are of the three conversions with a touch; dan's purchase has none.
    assert!((a.credit(Model::Last, "Referral").unwrap().share - 1.0 / 3.0).abs() < 1e-12);
    assert_eq!((a.without_touch.conversions, a.without_touch.revenue_minor), (1, 1_500));
    assert!(a.channels.iter().all(|c| c.channel != "(none)"), "{:?}", a.channels);
    let dan = app.attribution_customers(&report, NO_TOUCH_CUSTOMERS).unwrap();
    assert_eq!(dan.iter().map(|c| c.email.as_deref()).collect::<Vec<_>>(), vec![Some("dan@example.com")]);
    let ben = app.attribution_customers(&report, "direct").unwrap();
    assert_eq!(ben.iter().map(|c| c.email.as_deref()).collect::<Vec<_>>(), vec![Some("ben@example.com")]);
}
