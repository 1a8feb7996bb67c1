//! Issue 25, customer value that holds up: "now" is the end of the orders (a stray event of any
//! other kind, dated later, changes no customer's value), `until` includes its day as
//! `lifetimes`' `calibration_period_end` does, each model reports its own log-likelihood, and data
//! that cannot support a model are answered before any fit with the reason, as data and in words.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeSet;
use trailmap_app::{App, ClvReport};
use trailmap_clv::{CannotFit, GammaGamma, TimeUnit, Transaction, summarise};
use trailmap_model::{Business, Timestamp};
use trailmap_store::Store;

/// 150 customers who buy as the BG/NBD story goes, from a seeded generator: each arrives in
/// January 2025 and buys at a rate of their own (one purchase every 4 to 60 days, a day plus
/// exponential gaps) until they leave (after each purchase, with a chance of their own), up to the end of
/// 2025; order values from `value(customer's mean, random 0..1)`.
fn shoppers(value: impl Fn(f64, f64) -> f64) -> String {
    let mut rng = ChaCha8Rng::seed_from_u64(25);
    let end = 364.0;
    let mut text = String::new();
    for c in 0..150 {
        let mean_gap = rng.random_range(4.0..60.0);
        let leave = rng.random_range(0.05..0.5);
        let spend = rng.random_range(5.0..60.0);
        let mut day = rng.random_range(0.0..30.0);
        text.push_str(&format!("customer c{c}\n  2025-01-01 00:00:00 page_view source=google medium=organic\n"));
        let mut last = 0.0;
        loop {
            text.push_str(&format!("  +{}m order total={:.2}\n", ((day - last) * 1440.0) as i64 + 1, value(spend, rng.random::<f64>())));
            last = day;
            if rng.random::<f64>() < leave {
                break;
            }
            // At least a day apart, so each order is a purchase day of its own.
            day += 1.0 - mean_gap * (1.0 - rng.random::<f64>()).ln();
            if day >= end {
                break;
            }
        }
    }
    text
}

fn shop(fixture: &str) -> (App, Business) {
    let mut app = App::in_memory().unwrap();
    let business = app.create_business("Shop", "USD", "UTC").unwrap();
    app.write_fixture(&trailmap_testkit::journeys(fixture).unwrap(), &business).unwrap();
    (app, business)
}

fn varied(mean: f64, random: f64) -> f64 {
    mean * (0.5 + random)
}

/// Each customer's numbers, for comparing two reports.
fn per_customer(report: &ClvReport) -> Vec<String> {
    report.customers.iter().map(|c| format!("{} {:?} {:?} {:?} {} {}", c.customer, c.predicted_value, c.probability_alive, c.expected_purchases, c.history.revenue, c.age)).collect()
}

#[test]
fn a_stray_event_dated_later_changes_no_customers_value() {
    let (mut app, business) = shop(&shoppers(varied));
    let before = app.clv(&business, &app.clv_request()).unwrap();
    assert!(before.prediction_error.is_none(), "{:?}", before.prediction_error);
    let last_order = app.store().orders(business.id).unwrap().iter().map(|o| o.time).max().unwrap();
    assert_eq!(before.calibration_last_day, last_order.date().to_string());
    assert_eq!(before.now_rule, format!("the end of {}, the day of the business's last order", last_order.date()));
    // A till visit a year later, by a new customer and by one who bought: no order, no change.
    let stray = "customer anon:walk-in\n  2027-06-01 12:00:00 store_visit medium=offline\ncustomer c3\n  2027-06-02 12:00:00 store_visit medium=offline\n";
    app.write_fixture(&trailmap_testkit::journeys(stray).unwrap(), &business).unwrap();
    let after = app.clv(&business, &app.clv_request()).unwrap();
    assert_eq!(after.now, before.now);
    assert_eq!(per_customer(&after), per_customer(&before));
    assert_eq!(app.segments(&business, None).unwrap().now, before.now, "RFM recency is counted to the same end");
}

#[test]
fn until_includes_its_day_and_the_holdout_starts_the_day_after() {
    let (app, business) = shop(&shoppers(varied));
    let orders = app.store().orders(business.id).unwrap();
    // The busiest day in the middle of the data, so the day's orders are many.
    let days: Vec<chrono::NaiveDate> = orders.iter().map(|o| o.time.date()).collect();
    let mid = *days.iter().filter(|d| d.to_string().as_str() >= "2025-06-01" && d.to_string().as_str() < "2025-07-01").max_by_key(|d| days.iter().filter(|e| e == d).count()).unwrap();
    let on_the_day = days.iter().filter(|d| **d == mid).count();
    assert!(on_the_day >= 1);
    let mut request = app.clv_request();
    request.until = Some(mid);
    let report = app.clv(&business, &request).unwrap();
    assert_eq!(report.calibration_last_day, mid.to_string());
    assert_eq!(report.now, Timestamp::from_date(mid.succ_opt().unwrap()).to_rfc3339());
    // History counts every order up to the end of the day, that day's included.
    let revenue: f64 = report.customers.iter().map(|c| c.history.revenue).sum();
    let want: f64 = orders.iter().filter(|o| o.time.date() <= mid).map(|o| o.total.major()).sum();
    assert!((revenue - want).abs() < 1e-6, "{revenue} vs {want}");
    let the_day_before = {
        let mut r = app.clv_request();
        r.until = mid.pred_opt();
        app.clv(&business, &r).unwrap()
    };
    let without: f64 = the_day_before.customers.iter().map(|c| c.history.revenue).sum();
    assert!(without < revenue, "the day's orders are in the calibration period of until=that day only");
    // The holdout: purchase days after `until`, by customers who had bought by then.
    let buyers: BTreeSet<_> = orders.iter().filter(|o| o.time.date() <= mid).map(|o| o.customer).collect();
    let after: BTreeSet<_> = orders.iter().filter(|o| o.time.date() > mid && buyers.contains(&o.customer)).map(|o| (o.customer, o.time.date())).collect();
    let holdout = report.holdout.as_ref().expect("a holdout check");
    assert_eq!(holdout.actual_total, after.len() as f64);
    assert_eq!(holdout.customers, buyers.len());
    // A day after the last order is refused, naming the field.
    let mut late = app.clv_request();
    late.until = Some("2030-01-01".parse().unwrap());
    let e = app.clv(&business, &late).unwrap_err().to_string();
    assert!(e.starts_with("until: 2030-01-01 is after the end of the data"), "{e}");
}

#[test]
fn each_model_reports_its_own_log_likelihood() {
    let (app, business) = shop(&shoppers(varied));
    let mut request = app.clv_request();
    request.model = "gamma-gamma".parse().unwrap();
    let report = app.clv(&business, &request).unwrap();
    // Gamma-Gamma's own likelihood, over its repeat buyers, computed again from the orders.
    let orders = app.store().orders(business.id).unwrap();
    let transactions: Vec<Transaction> = orders.iter().map(|o| Transaction { customer: o.customer, time_ms: o.time.0, value: o.total.major() }).collect();
    let last_day = orders.iter().map(|o| o.time.0).max().unwrap().div_euclid(Timestamp::MS_PER_DAY);
    let summary = summarise(&transactions, last_day, TimeUnit::Week).unwrap();
    let spend = GammaGamma::fit(&summary, TimeUnit::Week).unwrap();
    assert_eq!(report.log_likelihood, Some(spend.fit.log_likelihood));
    assert_eq!(report.spend_model.log_likelihood, Some(spend.fit.log_likelihood));
    assert_eq!(report.fitted_customers, Some(summary.iter().filter(|c| c.frequency > 0.0).count()));
    let purchases = report.purchase_model.log_likelihood.unwrap();
    assert_ne!(report.log_likelihood, Some(purchases), "the purchase model's is apart");
    let bgnbd = app.clv(&business, &app.clv_request()).unwrap();
    assert_eq!((bgnbd.log_likelihood, bgnbd.fitted_customers), (Some(purchases), Some(150)));
}

#[test]
fn degenerate_data_get_the_reason_before_any_fit() {
    // Every order 4.00: purchases fit, spend cannot; the values use the average order value.
    let (app, business) = shop(&shoppers(|_, _| 4.0));
    let report = app.clv(&business, &app.clv_request()).unwrap();
    assert!(report.prediction_error.is_none());
    let repeaters = report.customers.iter().filter(|c| c.frequency > 0.0).count();
    assert_eq!(report.spend_model.cannot_fit, Some(CannotFit::SameSpend { value: 4.0, repeat_buyers: repeaters }));
    assert_eq!(
        report.spend_model.error.as_deref(),
        Some(format!("Gamma-Gamma cannot be fitted: all {repeaters} customers who came back spent the same on average (4.00 per purchase day), so spend has no spread to learn from; expect 4.00 per purchase").as_str())
    );
    assert!(report.customers.iter().all(|c| c.expected_spend_per_purchase == Some(4.0)));
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["spend_model"]["cannot_fit"]["kind"], "same_spend");
    // Gamma-Gamma asked for by name: the report says why, it does not fail.
    let mut request = app.clv_request();
    request.model = "gamma-gamma".parse().unwrap();
    let named = app.clv(&business, &request).unwrap();
    assert_eq!((named.parameters.clone(), named.log_likelihood), (None, None));

    // Twelve customers, three of whom came back: too few to learn how often customers return.
    let mut text = String::new();
    for c in 0..12 {
        text.push_str(&format!("customer c{c}\n  2025-02-{:02} 09:00:00 order total={}\n", c + 1, 10 + c));
        if c < 3 {
            text.push_str(&format!("  +{}d order total=12\n", 3 + c));
        }
    }
    let (app, business) = shop(&text);
    let report = app.clv(&business, &app.clv_request()).unwrap();
    assert_eq!(report.purchase_model.cannot_fit, Some(CannotFit::TooFewRepeatBuyers { needed: 5, found: 3 }));
    assert_eq!(
        report.prediction_error.as_deref(),
        Some("BG/NBD cannot be fitted: only 3 customer(s) have come back to buy on another day, and it needs at least 5")
    );
    assert!(report.customers.iter().all(|c| c.predicted_value.is_none()) && report.groups[0].historical.customers == 12);
}
