//! Tests of the customer value models: the published CDNOW estimates, the summary derived from
//! the raw CDNOW transactions, lifetimes' reference values, hand-checked small cases, and seeded
//! random data against brute-force counts.

#![allow(clippy::unwrap_used)]

use trailmap_clv::historical::customer_values;
use trailmap_clv::holdout::holdout_purchases;
use trailmap_clv::kmeans::standardise;
use trailmap_clv::rfm::RfmInput;
use trailmap_clv::special::hyp2f1;
use trailmap_clv::summary::day_of;
use trailmap_clv::*;
use trailmap_model::CustomerId;

const DAY: i64 = 86_400_000;

fn close(got: f64, want: f64, relative: f64) -> bool {
    (got - want).abs() <= relative * want.abs()
}

/// Same to `digits` significant figures.
fn sig(got: f64, want: f64, digits: i32) -> bool {
    let scale = 10f64.powi(want.abs().log10().floor() as i32 - digits + 1);
    (got / scale).round() == (want / scale).round()
}

fn cdnow_summary() -> Vec<CustomerSummary> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/cdnow_customers_summary_with_transactions.csv")).unwrap();
    text.lines()
        .skip(1)
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            CustomerSummary {
                customer: CustomerId(f[0].parse().unwrap()),
                frequency: f[1].parse().unwrap(),
                recency: f[2].parse().unwrap(),
                age: f[3].parse().unwrap(),
                monetary: f[4].parse().unwrap(),
            }
        })
        .collect()
}

/// Days since the epoch of a YYYYMMDD date.
fn epoch_day(date: &str) -> i64 {
    let (y, m, d): (i64, i64, i64) = (date[..4].parse().unwrap(), date[4..6].parse().unwrap(), date[6..].parse().unwrap());
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn cdnow_transactions() -> Vec<Transaction> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/CDNOW_sample.txt")).unwrap();
    text.lines()
        .map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            Transaction { customer: CustomerId(f[1].parse().unwrap()), time_ms: epoch_day(f[2]) * DAY, value: f[4].parse().unwrap() }
        })
        .collect()
}

#[test]
fn bgnbd_reproduces_the_published_cdnow_estimates() {
    let data = cdnow_summary();
    assert_eq!(data.len(), 2357);
    let m = BgNbd::fit(&data, TimeUnit::Week).unwrap();
    // Fader, Hardie and Lee (2005): r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, LL = -9582.4.
    assert!(sig(m.r, 0.243, 3), "r {}", m.r);
    assert!(sig(m.alpha, 4.414, 3), "alpha {}", m.alpha);
    assert!(sig(m.a, 0.793, 3), "a {}", m.a);
    assert!(sig(m.b, 2.426, 3), "b {}", m.b);
    assert!((m.fit.log_likelihood - -9582.4).abs() < 0.05, "LL {}", m.fit.log_likelihood);
    assert_eq!(m.fit.customers, 2357);
    // lifetimes 0.11.3 BetaGeoFitter on the same file.
    assert!(close(m.r, 0.242592928279822, 1e-4), "{}", m.r);
    assert!(close(m.alpha, 4.413532265271825, 1e-4));
    assert!(close(m.a, 0.7928859664406758, 1e-4));
    assert!(close(m.b, 2.4257523826258134, 1e-4));
    // lifetimes 0.11.3 predictions for customer 1 (x = 2, t_x = 30.43, T = 38.86) and others.
    let c = &data[0];
    assert!(close(m.expected_purchases(52.0, c.frequency, c.recency, c.age).unwrap(), 1.5585837617716758, 1e-4));
    assert!(close(m.probability_alive(c.frequency, c.recency, c.age), 0.7266091367990596, 1e-4));
    assert!(close(m.expected_purchases(39.0, 5.0, 20.0, 39.0).unwrap(), 1.077833967788031, 1e-4));
    assert!(close(m.expected_purchases_new(39.0).unwrap(), 1.195016228446201, 1e-4));
    // The log-likelihood at the published parameters is the published one.
    let ll = BgNbd::log_likelihood(0.243, 4.414, 0.793, 2.426, &data);
    assert!((ll - -9582.4).abs() < 0.5, "{ll}");
}

#[test]
fn pareto_nbd_and_gamma_gamma_match_lifetimes_on_cdnow() {
    let data = cdnow_summary();
    // lifetimes 0.11.3 ParetoNBDFitter: r 0.5532841318253231, alpha 10.577620255062437,
    // s 0.6061625199355352, beta 11.66599147363386.
    let p = ParetoNbd::fit(&data, TimeUnit::Week).unwrap();
    assert!(close(p.r, 0.5532841318253231, 1e-3), "r {}", p.r);
    assert!(close(p.alpha, 10.577620255062437, 1e-3), "alpha {}", p.alpha);
    assert!(close(p.s, 0.6061625199355352, 1e-3), "s {}", p.s);
    assert!(close(p.beta, 11.66599147363386, 1e-3), "beta {}", p.beta);
    let c = &data[0];
    assert!(close(p.expected_purchases(52.0, c.frequency, c.recency, c.age).unwrap(), 1.8508224987078719, 1e-3));
    assert!(close(p.probability_alive(c.frequency, c.recency, c.age).unwrap(), 0.8691237198981644, 1e-3));
    // lifetimes 0.11.3 GammaGammaFitter on the 946 repeat buyers: p 6.248802496075072,
    // q 3.744588460923138, v 15.44774806492988 (the published note: p 6.25, q 3.74, gamma 15.44).
    let g = GammaGamma::fit(&data, TimeUnit::Week).unwrap();
    assert_eq!(g.fit.customers, 946);
    assert!(close(g.p, 6.248802496075072, 1e-3), "p {}", g.p);
    assert!(close(g.q, 3.744588460923138, 1e-3), "q {}", g.q);
    assert!(close(g.gamma, 15.44774806492988, 1e-3), "gamma {}", g.gamma);
    assert!(close(g.expected_spend(c.frequency, c.monetary), 24.658616189236568, 1e-3));
}

#[test]
fn summary_from_cdnow_transactions_equals_the_shipped_summary() {
    let transactions = cdnow_transactions();
    let derived = summarise(&transactions, epoch_day("19970930"), TimeUnit::Week).unwrap();
    let shipped = cdnow_summary();
    assert_eq!(derived.len(), shipped.len());
    // The second column of the raw file is the shipped file's id; the shipped values are rounded to 2 decimals.
    for (d, s) in derived.iter().zip(&shipped) {
        assert_eq!(d.frequency, s.frequency, "customer {}", s.customer);
        assert!((d.recency - s.recency).abs() < 0.0051, "customer {} recency {} vs {}", s.customer, d.recency, s.recency);
        assert!((d.age - s.age).abs() < 0.0051, "customer {}", s.customer);
        assert!((d.monetary - s.monetary).abs() < 0.0051, "customer {} monetary {} vs {}", s.customer, d.monetary, s.monetary);
    }
}

#[test]
fn hyp2f1_matches_scipy() {
    // scipy.special.hyp2f1 (scipy 1.17.1).
    for (a, b, c, z, want) in [
        (0.5, 1.5, 2.5, 0.3, 1.1080625510569324),
        (2.3, 4.1, 3.7, 0.9, 418.71677683057914),
        (1.243, 3.426, 4.219, 0.6, 2.405119589940766),
        (10.5, 2.5, 11.5, 0.95, 427.20373573951986),
    ] {
        let got = hyp2f1(a, b, c, z).unwrap();
        assert!(close(got, want, 1e-12), "2F1({a},{b};{c};{z}) = {got}, want {want}");
    }
}

#[test]
fn too_few_customers_or_no_repeats_is_an_error_not_numbers() {
    let few: Vec<CustomerSummary> = cdnow_summary().into_iter().take(5).collect();
    assert_eq!(BgNbd::fit(&few, TimeUnit::Week).unwrap_err().cannot_fit(), Some(&CannotFit::TooFewCustomers { needed: 10, found: 5 }));
    let no_repeats: Vec<CustomerSummary> =
        cdnow_summary().into_iter().filter(|c| c.frequency == 0.0).take(50).collect();
    let e = ParetoNbd::fit(&no_repeats, TimeUnit::Week).unwrap_err();
    assert!(e.to_string().contains("only 0 customer(s) have come back"), "{e}");
    assert!(GammaGamma::fit(&no_repeats, TimeUnit::Week).is_err());
    assert!(matches!(check_horizon(0, 0.01), Err(ClvError::InvalidArgument { argument: "horizon", .. })));
    assert!(check_horizon(52, 1.5).is_err());
    assert!(summarise(&[Transaction { customer: CustomerId(1), time_ms: 0, value: f64::NAN }], 10, TimeUnit::Day).is_err());
}

/// Data that cannot support a model are answered before any fit, with the reason in a type the
/// pages read and in plain words: too few repeat buyers for the purchase models, and the same
/// mean spend for every repeat buyer (all orders of one price), where the Gamma-Gamma likelihood
/// has no maximum and the search used to run for a minute and a half before giving up.
#[test]
fn degenerate_data_are_refused_before_fitting_with_the_reason() {
    // 2,000 customers buying 1 to 20 times, each order 4.00.
    let mut rng = Rng(0x0dd);
    let mut tx = Vec::new();
    for c in 0..2_000 {
        let mut day = rng.below(300) as i64;
        for _ in 0..1 + rng.below(20) {
            tx.push(Transaction { customer: CustomerId(c), time_ms: day * DAY + 3_600_000, value: 4.0 });
            day += 1 + rng.below(20) as i64;
        }
    }
    let summary = summarise(&tx, 400, TimeUnit::Week).unwrap();
    let repeaters = summary.iter().filter(|c| c.frequency > 0.0).count();
    let e = GammaGamma::fit(&summary, TimeUnit::Week).unwrap_err();
    assert_eq!(e.cannot_fit(), Some(&CannotFit::SameSpend { value: 4.0, repeat_buyers: repeaters }));
    assert!(e.to_string().contains("spent the same on average (4.00 per purchase day)"), "{e}");
    // One customer buying on another day at 4.50 gives spend a spread, and the fit runs.
    let mut varied = summary.clone();
    varied.iter_mut().find(|c| c.frequency > 1.0).unwrap().monetary = 4.5;
    assert!(GammaGamma::check(&varied).is_ok());

    // Twelve customers, four of whom came back: too few repeat buyers for any model.
    let four: Vec<CustomerSummary> = (0..12)
        .map(|i| CustomerSummary { customer: CustomerId(i), frequency: if i < 4 { 2.0 } else { 0.0 }, recency: if i < 4 { 3.0 } else { 0.0 }, age: 10.0, monetary: if i < 4 { 5.0 + i as f64 } else { 0.0 } })
        .collect();
    let want = CannotFit::TooFewRepeatBuyers { needed: 5, found: 4 };
    assert_eq!(BgNbd::fit(&four, TimeUnit::Week).unwrap_err().cannot_fit(), Some(&want));
    assert_eq!(ParetoNbd::fit(&four, TimeUnit::Week).unwrap_err().cannot_fit(), Some(&want));
    let spend = GammaGamma::fit(&four, TimeUnit::Week).unwrap_err();
    assert_eq!(spend.cannot_fit(), Some(&CannotFit::TooFewRepeatBuyers { needed: 10, found: 4 }));
    assert_eq!(spend.to_string(), "Gamma-Gamma cannot be fitted: only 4 customer(s) have come back to buy on another day, and it needs at least 10");
}

#[test]
fn summary_of_a_hand_written_history() {
    let t = |c: i64, day: i64, v: f64| Transaction { customer: CustomerId(c), time_ms: day * DAY + 3_600_000, value: v };
    // Customer 1 buys on days 10 (twice: one purchase day of 15), 17 and 31; day 40 is after the end.
    let tx = [t(1, 10, 5.0), t(1, 10, 10.0), t(1, 17, 4.0), t(1, 31, 8.0), t(1, 40, 99.0), t(2, 24, 7.0)];
    let s = summarise(&tx, 38, TimeUnit::Week).unwrap();
    assert_eq!(s.len(), 2);
    assert_eq!((s[0].frequency, s[0].recency, s[0].age, s[0].monetary), (2.0, 3.0, 4.0, 6.0));
    assert_eq!((s[1].frequency, s[1].recency, s[1].age, s[1].monetary), (0.0, 0.0, 2.0, 0.0));
    let s = summarise(&tx, 38, TimeUnit::Day).unwrap();
    assert_eq!((s[0].recency, s[0].age), (21.0, 28.0));
    // Historical value counts orders (not days) before now = day 39.
    let v = customer_values(&tx, 39 * DAY);
    assert_eq!((v[0].orders, v[0].revenue, v[0].tenure_days, v[0].days_since_last_purchase), (4, 27.0, 29, 8));
    assert_eq!(v[0].average_order_value, 6.75);
    assert!((v[0].days_between_orders.unwrap() - 7.0).abs() < 1e-9);
    assert_eq!(v[1].days_between_orders, None);
    let h = holdout_purchases(&tx, 38, 60);
    assert_eq!(h.get(&CustomerId(1)), Some(&1.0));
    assert_eq!(h.get(&CustomerId(2)), None);
}

/// A tiny seeded generator so the test needs no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn summary_agrees_with_brute_force_on_seeded_random_transactions() {
    let mut rng = Rng(0x5eed);
    for round in 0..20 {
        let tx: Vec<Transaction> = (0..300)
            .map(|_| Transaction {
                customer: CustomerId(rng.below(40) as i64),
                time_ms: rng.below(100 * DAY as u64) as i64,
                value: rng.below(5000) as f64 / 100.0,
            })
            .collect();
        let end = 70;
        let s = summarise(&tx, end, TimeUnit::Day).unwrap();
        for c in &s {
            let mine: Vec<&Transaction> = tx.iter().filter(|t| t.customer == c.customer && day_of(t.time_ms) <= end).collect();
            let mut days: Vec<i64> = mine.iter().map(|t| day_of(t.time_ms)).collect();
            days.sort();
            days.dedup();
            assert_eq!(c.frequency, (days.len() - 1) as f64, "round {round}");
            assert_eq!(c.recency, (days[days.len() - 1] - days[0]) as f64);
            assert_eq!(c.age, (end - days[0]) as f64);
            let repeat: f64 = mine.iter().filter(|t| day_of(t.time_ms) != days[0]).map(|t| t.value).sum();
            let want = if days.len() > 1 { repeat / (days.len() - 1) as f64 } else { 0.0 };
            assert!((c.monetary - want).abs() < 1e-9);
        }
        let customers: std::collections::BTreeSet<i64> =
            tx.iter().filter(|t| day_of(t.time_ms) <= end).map(|t| t.customer.0).collect();
        assert_eq!(s.len(), customers.len());
    }
}

#[test]
fn holdout_check_on_cdnow_predicts_the_aggregate() {
    let tx = cdnow_transactions();
    let calibration = summarise(&tx, epoch_day("19970930"), TimeUnit::Week).unwrap();
    let m = BgNbd::fit(&calibration, TimeUnit::Week).unwrap();
    let actual = holdout_purchases(&tx, epoch_day("19970930"), epoch_day("19980630"));
    let weeks = (epoch_day("19980630") - epoch_day("19970930")) as f64 / 7.0;
    let report = holdout_check(&calibration, &actual, weeks, &|t, x, tx, age| m.expected_purchases(t, x, tx, age)).unwrap();
    assert_eq!(report.customers, 2357);
    // The 39-week holdout (1997-10-01..1998-06-30) of the paper: 1,882 repeat purchase days
    // happened; the fitted model predicts 1,653 (a regression figure of this implementation,
    // whose per-customer predictions match lifetimes' in the test above).
    assert_eq!(report.actual_total, 1882.0);
    assert!(close(report.predicted_total, 1653.4, 1e-3), "{report:?}");
    assert!(close(report.buckets[0].predicted_mean, 0.2251, 1e-3));
    assert_eq!(report.buckets.iter().map(|b| b.customers).sum::<usize>(), 2357);
    assert_eq!(report.buckets[0].frequency, "0");
    assert!(report.buckets[0].predicted_mean < report.buckets[6].predicted_mean);
}

#[test]
fn discounted_value_is_hand_checked() {
    // Two purchases per period at 10 each, discount 10%: 20/1.1 + 20/1.21.
    let v = discounted_value(|t| 2.0 * t, 10.0, 2, 0.1);
    assert!((v - (20.0 / 1.1 + 20.0 / 1.21)).abs() < 1e-9);
    assert_eq!(discounted_value(|t| t, 5.0, 3, 0.0), 15.0);
}

#[test]
fn group_values_have_normal_intervals_and_their_customers() {
    let rows = vec![
        ("Referral".to_string(), CustomerId(1), 10.0),
        ("Referral".to_string(), CustomerId(2), 20.0),
        ("Referral".to_string(), CustomerId(3), 30.0),
        ("Paid Social".to_string(), CustomerId(4), 5.0),
    ];
    let g = group_values(&rows);
    assert_eq!(g[0].group, "Referral");
    assert_eq!((g[0].customers, g[0].total, g[0].mean), (3, 60.0, 20.0));
    // sd = 10, half width = 1.96 * 10 / sqrt(3).
    let half = 1.96 * 10.0 / 3f64.sqrt();
    assert!((g[0].ci95_low.unwrap() - (20.0 - half)).abs() < 1e-9);
    assert!((g[0].ci95_high.unwrap() - (20.0 + half)).abs() < 1e-9);
    assert_eq!(g[0].customer_ids, vec![CustomerId(1), CustomerId(2), CustomerId(3)]);
    assert_eq!((g[1].customers, g[1].ci95_low), (1, None));
}

#[test]
fn group_values_agree_with_brute_force_on_seeded_random_rows() {
    // Rows in any order, customers repeated within a group (their values summed in the order
    // given, as a stable sort of every row by group and customer orders them).
    let mut rng = Rng(0x6a0e);
    let names = ["Direct", "Referral", "Paid Search", "(none)", "Email"];
    for round in 0..30 {
        let mut rows: Vec<(String, CustomerId, f64)> = (0..200)
            .map(|_| (names[rng.below(5) as usize].to_string(), CustomerId(rng.below(60) as i64), rng.below(10_000) as f64 / 7.0))
            .collect();
        if round % 2 == 0 {
            rows.sort_by_key(|r| r.1);
        }
        let got = group_values(&rows);
        let mut by_group: std::collections::BTreeMap<&str, Vec<&(String, CustomerId, f64)>> = Default::default();
        for row in &rows {
            by_group.entry(row.0.as_str()).or_default().push(row);
        }
        let mut want: Vec<(String, usize, f64, Vec<CustomerId>)> = by_group
            .into_iter()
            .map(|(group, mut members)| {
                members.sort_by_key(|r| r.1);
                let total = members.iter().fold(0.0, |sum, r| sum + r.2);
                (group.to_string(), members.len(), total, members.iter().map(|r| r.1).collect())
            })
            .collect();
        want.sort_by(|a, b| (b.2 / b.1 as f64).total_cmp(&(a.2 / a.1 as f64)).then(a.0.cmp(&b.0)));
        let got: Vec<(String, usize, f64, Vec<CustomerId>)> =
            got.into_iter().map(|g| (g.group, g.customers, g.total, g.customer_ids)).collect();
        assert_eq!(got, want, "round {round}");
    }
}

#[test]
fn rfm_scores_quintiles_with_ties_and_segments() {
    // Ten customers: recency 0..9 days, orders 1 for the first five, then 2..6, revenue 10..100.
    let input: Vec<RfmInput> = (0..10)
        .map(|i| RfmInput {
            customer: CustomerId(i),
            days_since_last_purchase: i as f64,
            orders: if i < 5 { 1.0 } else { (i - 3) as f64 },
            revenue: 10.0 * (i + 1) as f64,
        })
        .collect();
    let s = rfm_scores(&input);
    let r: Vec<u8> = s.iter().map(|x| x.recency).collect();
    assert_eq!(r, vec![5, 5, 4, 4, 3, 3, 2, 2, 1, 1]);
    let f: Vec<u8> = s.iter().map(|x| x.frequency).collect();
    assert_eq!(f, vec![1, 1, 1, 1, 1, 3, 4, 4, 5, 5]);
    let m: Vec<u8> = s.iter().map(|x| x.monetary).collect();
    assert_eq!(m, vec![1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
    let seg: Vec<Segment> = s.iter().map(|x| x.segment).collect();
    use Segment::*;
    assert_eq!(seg, vec![Promising, Promising, Promising, Promising, NeedsAttention, Loyal, AtRisk, AtRisk, AtRisk, AtRisk]);
    // Every (R, F) pair lands in exactly one segment; the map covers the grid.
    assert_eq!(Segment::from_scores(5, 5), Champions);
    assert_eq!(Segment::from_scores(2, 2), Hibernating);
    assert_eq!(Segment::from_scores(1, 1), Lost);
}

#[test]
fn kmeans_is_seeded_and_finds_separated_groups() {
    let mut rng = Rng(7);
    let mut rows = Vec::new();
    for (cx, cy) in [(0.0, 0.0), (10.0, 10.0), (0.0, 10.0)] {
        for _ in 0..30 {
            rows.push(vec![cx + rng.below(100) as f64 / 100.0, cy + rng.below(100) as f64 / 100.0]);
        }
    }
    let z = standardise(&rows);
    let opts = KMeansOptions { k: 3, seed: 1, max_iterations: 100 };
    let a = kmeans(&z, opts).unwrap();
    let b = kmeans(&z, opts).unwrap();
    assert_eq!(a, b);
    for group in 0..3 {
        let first = a.assignments[group * 30];
        assert!(a.assignments[group * 30..(group + 1) * 30].iter().all(|&c| c == first));
    }
    let best = (2..=6)
        .map(|k| {
            let c = kmeans(&z, KMeansOptions { k, seed: 1, max_iterations: 100 }).unwrap();
            (k, silhouette(&z, &c.assignments, k))
        })
        .max_by(|x, y| x.1.total_cmp(&y.1))
        .unwrap();
    assert_eq!(best.0, 3);
    assert!(kmeans(&z[..2], KMeansOptions { k: 3, seed: 1, max_iterations: 10 }).is_err());
}
