//! Tests of the chart renderer: SVG snapshots of every chart on small fixed inputs, that every
//! SVG reads as valid SVG, escaping of hostile labels and links, degenerate inputs, and the PNG
//! and PDF exports (size, visible text, page count, determinism).
//!
//! Set `TRAILMAP_RENDER_PREVIEW=/some/dir` to also write each fixture chart there as PNG, for
//! looking at them.

use chrono::NaiveDate;
use trailmap_model::{Currency, Timestamp};
use trailmap_render::*;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

fn line_chart() -> LineChart {
    let this: Vec<f64> = vec![820.0, 910.0, 1040.0, 990.0, 1320.0, 1460.0, 1510.0];
    let prev: Vec<f64> = vec![700.0, 760.0, 805.0, 870.0, 900.0, 940.0, 1010.0];
    let points = |values: &[f64], href: bool| -> Vec<Point> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| Point {
                date: date(2026, 4 + i as u32, 1),
                value: *v,
                n: Some(40 + i as u64),
                href: href.then(|| format!("/customers?month=2026-{:02}", 4 + i)),
            })
            .collect()
    };
    LineChart {
        title: "Revenue by month".into(),
        format: ValueFormat::Money(Currency::USD),
        series: vec![
            Series { name: "This period".into(), style: LineStyle::Solid, points: points(&this, true) },
            Series { name: "Previous period".into(), style: LineStyle::Dashed, points: points(&prev, false) },
        ],
        size: None,
    }
}

fn sparkline() -> Sparkline {
    Sparkline { title: "Orders, last 12 weeks".into(), values: vec![12.0, 15.0, 11.0, 18.0, 21.0, 19.0, 25.0, 24.0, 30.0, 28.0, 33.0, 36.0], href: Some("/orders".into()), size: None }
}

fn bar_chart() -> BarChart {
    let bar = |label: &str, value: f64, comparison: f64| Bar {
        label: label.into(),
        value,
        comparison: Some(comparison),
        n: None,
        href: Some(format!("/customers?channel={}", label.replace(' ', "+"))),
    };
    BarChart {
        title: "New customers by channel".into(),
        format: ValueFormat::Count,
        bars: vec![bar("Referral", 412.0, 260.0), bar("In-store", 305.0, 298.0), bar("Paid Social", 96.0, 120.0), bar("Organic Search", 58.0, 61.0), bar("Email", 12.0, 9.0)],
        value_name: "Since May 1".into(),
        comparison_name: "Before".into(),
        width: None,
    }
}

fn funnel() -> FunnelChart {
    let step = |label: &str, count: u64| FunnelStep { label: label.into(), count, href: Some(format!("/customers?step={}", label.replace(' ', "_"))), dropped_href: None };
    FunnelChart {
        title: "Checkout funnel".into(),
        steps: vec![step("Product view", 2400), step("Add to cart", 1100), step("Checkout started", 640), step("Shipping", 420), step("Purchase", 214)],
        width: None,
    }
}

fn sankey() -> Sankey {
    let node = |id: &str, label: &str, column: u32, value: f64| SankeyNode { id: id.into(), label: label.into(), column, value, href: Some(format!("/customers?node={id}")) };
    let link = |from: &str, to: &str, value: f64| SankeyLink { from: from.into(), to: to.into(), value, href: None };
    Sankey {
        title: "Journeys from first visit".into(),
        format: ValueFormat::Count,
        nodes: vec![
            node("ref", "Referral", 0, 500.0),
            node("soc", "Paid Social", 0, 300.0),
            node("visit", "Store visit", 1, 520.0),
            node("web", "Web visit", 1, 200.0),
            node("buy", "Purchase", 2, 380.0),
            node("left", "Left", 2, 340.0),
        ],
        links: vec![
            link("ref", "visit", 420.0),
            link("ref", "web", 80.0),
            link("soc", "visit", 100.0),
            link("soc", "web", 120.0),
            link("visit", "buy", 330.0),
            link("visit", "left", 190.0),
            link("web", "buy", 50.0),
            link("web", "left", 150.0),
        ],
        size: None,
    }
}

fn heatmap() -> Heatmap {
    let row = |label: &str, size: u64, rates: &[f64]| CohortRow {
        label: label.into(),
        size,
        cells: rates.iter().enumerate().map(|(p, r)| Some(HeatCell { rate: *r, href: Some(format!("/customers?cohort={label}&p={p}")) })).collect(),
        href: None,
    };
    Heatmap {
        title: "Repeat purchase by first-purchase month".into(),
        period_name: "Months".into(),
        cohorts: vec![
            row("Nov 2025", 310, &[1.0, 0.21, 0.15, 0.12, 0.1]),
            row("Dec 2025", 402, &[1.0, 0.18, 0.13, 0.11]),
            row("Jan 2026", 288, &[1.0, 0.24, 0.16]),
            row("Feb 2026", 265, &[1.0, 0.3]),
            row("Mar 2026", 301, &[1.0]),
        ],
        scale_max: Some(0.35),
        width: None,
    }
}

fn timeline() -> Timeline {
    let at = |d: u32, h: i64, m: i64| Timestamp::from_date(date(2026, 6, d)).add_millis((h * 60 + m) * 60_000);
    let event = |at: Timestamp, kind: EventKind, label: &str| TimelineEvent { at, kind, label: label.into(), href: None };
    Timeline {
        title: "Customer journey: ana@example.com".into(),
        events: vec![
            event(at(2, 9, 14), EventKind::Visit, "Page view /products/linen-shirt (instagram / paid social)"),
            event(at(2, 9, 20), EventKind::Touchpoint, "Free shipping banner"),
            event(at(4, 18, 2), EventKind::Visit, "Checkout started"),
            event(at(4, 18, 9), EventKind::Order, "Order #1042 · $86.00"),
            event(at(11, 10, 30), EventKind::SurveyAnswer, "NPS 9: “Fast delivery”"),
            event(at(12, 8, 45), EventKind::Feedback, "Review ★★★★★ on Google"),
        ],
        utc_offset_minutes: 0,
        width: None,
    }
}

/// Every fixture chart with its name, in a fixed order.
fn fixtures() -> Vec<(&'static str, Svg)> {
    vec![
        ("line", line_chart().render()),
        ("sparkline", sparkline().render()),
        ("bar", bar_chart().render()),
        ("funnel", funnel().render()),
        ("sankey", sankey().render()),
        ("heatmap", heatmap().render()),
        ("timeline", timeline().render()),
    ]
}

#[test]
fn preview_pngs_when_asked() {
    let Ok(dir) = std::env::var("TRAILMAP_RENDER_PREVIEW") else { return };
    for (name, svg) in fixtures() {
        let png = to_png(&svg, 2.0).expect("png");
        std::fs::write(format!("{dir}/render-{name}.png"), png).expect("write preview");
    }
    let odd = [
        (
            "odd-bars",
            BarChart {
                title: "Profit by channel, with a very long title that will not fit in the width of this chart at all".into(),
                format: ValueFormat::Money(Currency::USD),
                bars: vec![
                    Bar { label: "Paid Social (Instagram and Facebook, all campaigns)".into(), value: -1250.5, n: Some(96), ..Bar::default() },
                    Bar { label: "Referral".into(), value: 48_200.0, n: Some(412), ..Bar::default() },
                    Bar { label: "Email".into(), value: 0.0, n: Some(0), ..Bar::default() },
                ],
                ..BarChart::default()
            }
            .render(),
        ),
        (
            "odd-line",
            LineChart {
                title: "One week, one series with a gap".into(),
                format: ValueFormat::Percent,
                series: vec![Series {
                    name: "Conversion".into(),
                    points: (0..7).map(|d| Point { date: date(2026, 3, 1 + d), value: if d == 3 { f64::NAN } else { 0.3 + d as f64 * 0.02 }, ..Point::default() }).collect(),
                    ..Series::default()
                }],
                size: Some(Size { width: 320.0, height: 200.0 }),
            }
            .render(),
        ),
        ("odd-empty", FunnelChart { title: "Empty funnel".into(), ..FunnelChart::default() }.render()),
    ];
    for (name, svg) in odd {
        std::fs::write(format!("{dir}/render-{name}.png"), to_png(&svg, 2.0).expect("png")).expect("write preview");
    }
    let all: Vec<Svg> = fixtures().into_iter().map(|(_, s)| s).collect();
    std::fs::write(format!("{dir}/render-all.pdf"), to_pdf_pages(&all).expect("pdf")).expect("write preview");
}

// ---------------------------------------------------------------------------------------------
// Snapshots and validity

#[test]
fn snapshots_of_every_chart() {
    for (name, svg) in fixtures() {
        insta::assert_snapshot!(name, svg.as_str());
    }
}

#[test]
fn every_fixture_is_valid_svg_with_accessible_frame() {
    for (name, svg) in fixtures() {
        validate(&svg).unwrap_or_else(|e| panic!("{name}: {e}"));
        let text = svg.as_str();
        assert!(text.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 "), "{name}");
        // A chart whose marks link to their customers is a group of links, not an image.
        let role = if text.contains("<a href") { "group" } else { "img" };
        assert!(text.contains(&format!(" role=\"{role}\" aria-label=\"")), "{name}");
        assert!(text.contains("\n<title>"), "{name}");
        assert!(text.trim_end().ends_with("</svg>"), "{name}");
        assert_no_bad_numbers(name, text);
    }
}

fn assert_no_bad_numbers(name: &str, text: &str) {
    for bad in ["NaN", "inf\"", "=\"inf", "-inf", "e+", "e-3"] {
        assert!(!text.contains(bad), "{name}: found {bad:?} in output");
    }
}

/// Hand-checked figures from the fixtures appear in the charts.
#[test]
fn fixtures_show_hand_checked_figures() {
    let funnel = funnel().render();
    let f = funnel.as_str();
    // 1,100 of 2,400 = 45.83%; 2,400 - 1,100 = 1,300 dropped; 214 / 2,400 = 8.92%; 214 / 420 = 50.95%.
    assert!(f.contains("↓ 45.8% continue · 1,300 dropped"));
    assert!(f.contains("214 · 8.9% of step 1"));
    assert!(f.contains("↓ 51% continue · 206 dropped"));
    assert!(f.contains("Purchase: 214 · 8.9% of step 1 (n=214)"));
    let heat = heatmap().render();
    assert!(heat.as_str().contains("Feb 2026, Months 1: 30% of 265"));
    let line = line_chart().render();
    assert!(line.as_str().contains("This period · Oct 1, 2026: $1,510 (n=46)"));
    assert!(line.as_str().contains(">$2,000</text>"), "the y axis ends on the 1-2-5 tick above 1,510");
    let sankey = sankey().render();
    assert!(sankey.as_str().contains("Referral → Store visit: 420"));
}

// ---------------------------------------------------------------------------------------------
// Escaping

const HOSTILE: &str = "<script>alert(1)</script>";

#[test]
fn hostile_labels_and_links_are_escaped_or_dropped() {
    let evil_href = Some("javascript:alert(1)".to_string());
    let odd_href = Some("/customers?a=1&b=\"x\"><script>".to_string());
    let charts = vec![
        BarChart {
            title: HOSTILE.into(),
            bars: vec![
                Bar { label: HOSTILE.into(), value: 3.0, href: evil_href.clone(), ..Bar::default() },
                Bar { label: "ok".into(), value: 1.0, href: odd_href.clone(), ..Bar::default() },
            ],
            ..BarChart::default()
        }
        .render(),
        FunnelChart { title: HOSTILE.into(), steps: vec![FunnelStep { label: HOSTILE.into(), count: 5, href: evil_href.clone(), dropped_href: None }], width: None }.render(),
        Sankey {
            title: HOSTILE.into(),
            nodes: vec![
                SankeyNode { id: "a".into(), label: HOSTILE.into(), column: 0, value: 1.0, href: odd_href.clone() },
                SankeyNode { id: "b".into(), label: "b".into(), column: 1, value: 1.0, href: None },
            ],
            links: vec![SankeyLink { from: "a".into(), to: "b".into(), value: 1.0, href: evil_href.clone() }],
            ..Sankey::default()
        }
        .render(),
        Timeline {
            title: HOSTILE.into(),
            events: vec![TimelineEvent { at: Timestamp::from_secs(0), kind: EventKind::Feedback, label: HOSTILE.into(), href: odd_href.clone() }],
            ..Timeline::default()
        }
        .render(),
        LineChart {
            title: HOSTILE.into(),
            series: vec![Series { name: HOSTILE.into(), points: vec![Point { date: date(2026, 1, 1), value: 1.0, n: None, href: evil_href.clone() }], ..Series::default() }],
            ..LineChart::default()
        }
        .render(),
    ];
    for svg in &charts {
        let text = svg.as_str();
        assert!(!text.contains("<script"), "{text}");
        assert!(text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!text.contains("javascript:"), "script links are dropped");
        validate(svg).expect("still valid SVG");
    }
    assert!(charts[0].as_str().contains(r#"<a href="/customers?a=1&amp;b=&quot;x&quot;&gt;&lt;script&gt;">"#));
    assert_eq!(escape(HOSTILE), "&lt;script&gt;alert(1)&lt;/script&gt;");
}

#[test]
fn control_characters_in_labels_do_not_break_the_document() {
    let svg = BarChart { title: "a\u{0}b\u{1}".into(), bars: vec![Bar { label: "x\u{7}y".into(), value: 1.0, ..Bar::default() }], ..BarChart::default() }.render();
    validate(&svg).expect("valid");
    assert!(svg.as_str().contains(">xy</text>"));
}

// ---------------------------------------------------------------------------------------------
// Degenerate inputs

#[test]
fn empty_inputs_say_no_data() {
    let empties = [
        LineChart { title: "t".into(), ..LineChart::default() }.render(),
        LineChart { title: "t".into(), series: vec![Series { name: "s".into(), ..Series::default() }], ..LineChart::default() }.render(),
        Sparkline { title: "t".into(), ..Sparkline::default() }.render(),
        BarChart { title: "t".into(), ..BarChart::default() }.render(),
        FunnelChart { title: "t".into(), ..FunnelChart::default() }.render(),
        Sankey { title: "t".into(), ..Sankey::default() }.render(),
        Heatmap { title: "t".into(), cohorts: vec![CohortRow { label: "c".into(), ..CohortRow::default() }], ..Heatmap::default() }.render(),
        Timeline { title: "t".into(), ..Timeline::default() }.render(),
    ];
    for svg in &empties {
        assert!(svg.as_str().contains(">No data</text>"), "{}", svg.as_str());
        validate(svg).expect("valid");
    }
}

#[test]
fn single_points_zeros_and_non_finite_values_render_cleanly() {
    let nan_line = LineChart {
        title: "t".into(),
        series: vec![Series {
            name: "s".into(),
            points: vec![
                Point { date: date(2026, 1, 1), value: f64::NAN, ..Point::default() },
                Point { date: date(2026, 1, 2), value: f64::INFINITY, ..Point::default() },
                Point { date: date(2026, 1, 3), value: 5.0, ..Point::default() },
            ],
            ..Series::default()
        }],
        ..LineChart::default()
    }
    .render();
    // The one finite value still shows as a dot, on an axis that starts at 0.
    assert!(nan_line.as_str().contains("<circle"));
    let all_nan = Sparkline { title: "t".into(), values: vec![f64::NAN, f64::NEG_INFINITY], ..Sparkline::default() }.render();
    assert!(all_nan.as_str().contains("No data"));
    let cases = vec![
        ("nan line", nan_line),
        ("one point", LineChart { title: "t".into(), series: vec![Series { name: "s".into(), points: vec![Point { date: date(2026, 1, 1), value: 3.0, ..Point::default() }], ..Series::default() }], ..LineChart::default() }.render()),
        ("flat sparkline", Sparkline { title: "t".into(), values: vec![0.0, 0.0, 0.0], ..Sparkline::default() }.render()),
        ("one sparkline value", Sparkline { title: "t".into(), values: vec![7.0], ..Sparkline::default() }.render()),
        ("zero bars", BarChart { title: "t".into(), width: Some(f64::INFINITY), bars: vec![Bar { label: "a".into(), value: 0.0, comparison: Some(0.0), ..Bar::default() }], ..BarChart::default() }.render()),
        (
            "negative and huge bars",
            BarChart {
                title: "t".into(),
                format: ValueFormat::Money(Currency::USD),
                bars: vec![
                    Bar { label: "loss".into(), value: -250.0, ..Bar::default() },
                    Bar { label: "huge".into(), value: 1e300, ..Bar::default() },
                    Bar { label: "nan".into(), value: f64::NAN, comparison: Some(f64::INFINITY), ..Bar::default() },
                ],
                ..BarChart::default()
            }
            .render(),
        ),
        ("zero funnel", FunnelChart { title: "t".into(), steps: vec![FunnelStep { label: "a".into(), count: 0, ..FunnelStep::default() }, FunnelStep { label: "b".into(), count: 0, ..FunnelStep::default() }], width: None }.render()),
        ("growing funnel", FunnelChart { title: "t".into(), steps: vec![FunnelStep { label: "a".into(), count: 1, ..FunnelStep::default() }, FunnelStep { label: "b".into(), count: u64::MAX, ..FunnelStep::default() }], width: None }.render()),
        (
            "odd sankey",
            Sankey {
                title: "t".into(),
                nodes: vec![
                    SankeyNode { id: "a".into(), label: "a".into(), column: 0, value: f64::NAN, href: None },
                    SankeyNode { id: "a".into(), label: "duplicate".into(), column: 3, value: 5.0, href: None },
                    SankeyNode { id: "b".into(), label: "b".into(), column: 1, value: 0.0, href: None },
                    SankeyNode { id: "c".into(), label: "c".into(), column: 1, value: -4.0, href: None },
                ],
                links: vec![
                    SankeyLink { from: "a".into(), to: "b".into(), value: 2.0, href: None },
                    SankeyLink { from: "b".into(), to: "a".into(), value: 2.0, href: None },
                    SankeyLink { from: "a".into(), to: "missing".into(), value: 2.0, href: None },
                    SankeyLink { from: "a".into(), to: "c".into(), value: f64::INFINITY, href: None },
                ],
                ..Sankey::default()
            }
            .render(),
        ),
        (
            "odd heatmap",
            Heatmap {
                title: "t".into(),
                period_name: "Weeks".into(),
                cohorts: vec![CohortRow {
                    label: "c".into(),
                    size: 0,
                    cells: vec![Some(HeatCell { rate: f64::NAN, href: None }), None, Some(HeatCell { rate: 7.0, href: None }), Some(HeatCell { rate: -1.0, href: None })],
                    href: None,
                }],
                scale_max: Some(f64::NAN),
                width: None,
            }
            .render(),
        ),
        ("one event", Timeline { title: "t".into(), events: vec![TimelineEvent { at: Timestamp::from_secs(-86_400 * 400), kind: EventKind::Order, label: "o".into(), href: None }], utc_offset_minutes: i32::MAX, width: Some(-5.0) }.render()),
    ];
    for (name, svg) in &cases {
        validate(svg).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_no_bad_numbers(name, svg.as_str());
    }
    // The heatmap clamps rates to 0..1 and leaves the non-finite one blank.
    let heat = cases[9].1.as_str();
    assert!(heat.contains(">100%</text>") && heat.contains(">0%</text>"));
    assert!(!heat.contains("Weeks 0:"), "the NaN cell is blank");
}

#[test]
fn long_labels_are_cut_and_keep_their_full_text() {
    let long = "A channel name so long that it could never fit in the label column of a bar chart";
    let svg = BarChart { title: "t".into(), bars: vec![Bar { label: long.into(), value: 1.0, ..Bar::default() }], ..BarChart::default() }.render();
    let text = svg.as_str();
    assert!(text.contains(&format!("<title>{long}</title>")));
    let shown = text.lines().find(|l| l.contains("<text") && l.contains('…')).expect("a cut label");
    assert!(!shown.contains(long));
}

// ---------------------------------------------------------------------------------------------
// Random inputs: whatever the data, the SVG is valid, has no NaN, and every safe link appears.

#[test]
fn random_inputs_always_give_valid_svg() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let specials = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.0, -0.0, 1e300, -1e300, f64::MIN_POSITIVE];
    for round in 0..40 {
        let value = |rng: &mut rand_chacha::ChaCha8Rng| if rng.random_bool(0.15) { specials[rng.random_range(0..specials.len())] } else { rng.random_range(-50.0..5000.0) };
        let n = rng.random_range(0..12);
        let bars: Vec<Bar> = (0..n)
            .map(|i| Bar { label: format!("bar {i}"), value: value(&mut rng), comparison: rng.random_bool(0.5).then(|| value(&mut rng)), n: Some(i), href: Some(format!("/c?bar={i}")) })
            .collect();
        let counts: Vec<u64> = (0..n).map(|_| rng.random_range(0..10_000)).collect();
        let steps: Vec<FunnelStep> = counts.iter().enumerate().map(|(i, c)| FunnelStep { label: format!("step {i}"), count: *c, href: Some(format!("/c?step={i}")), dropped_href: None }).collect();
        let points: Vec<Point> = (0..n).map(|i| Point { date: date(2026, 1, 1) + chrono::Duration::days(rng.random_range(0..800)), value: value(&mut rng), n: None, href: Some(format!("/c?p={i}")) }).collect();
        let nodes: Vec<SankeyNode> = (0..n).map(|i| SankeyNode { id: format!("n{i}"), label: format!("node {i}"), column: rng.random_range(0..4), value: value(&mut rng), href: None }).collect();
        let links: Vec<SankeyLink> = (0..n * 2).map(|_| SankeyLink { from: format!("n{}", rng.random_range(0..n.max(1))), to: format!("n{}", rng.random_range(0..n.max(1))), value: value(&mut rng), href: None }).collect();
        let charts = [
            ("bar", BarChart { title: "r".into(), format: ValueFormat::Money(Currency::EUR), bars, ..BarChart::default() }.render()),
            ("funnel", FunnelChart { title: "r".into(), steps, width: None }.render()),
            ("line", LineChart { title: "r".into(), format: ValueFormat::Percent, series: vec![Series { name: "s".into(), points, ..Series::default() }], size: None }.render()),
            ("sankey", Sankey { title: "r".into(), nodes, links, ..Sankey::default() }.render()),
        ];
        for (name, svg) in &charts {
            validate(svg).unwrap_or_else(|e| panic!("round {round} {name}: {e}"));
            assert_no_bad_numbers(name, svg.as_str());
        }
        // Every bar and step is a link to its customers, whatever its value.
        for i in 0..n {
            assert!(charts[0].1.as_str().contains(&format!("<a href=\"/c?bar={i}\">")), "round {round}: bar {i} lost its link");
            assert!(charts[1].1.as_str().contains(&format!("<a href=\"/c?step={i}\">")));
        }
        // Funnel shares, computed independently: each step's % of step 1, one decimal.
        if let Some(first) = counts.first().filter(|c| **c > 0) {
            for c in &counts {
                let pct = format!("{:.1}", *c as f64 / *first as f64 * 100.0);
                let pct = pct.trim_end_matches('0').trim_end_matches('.');
                assert!(charts[1].1.as_str().contains(&format!(" · {pct}% of step 1")), "round {round}: {c}/{first}");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Exports

#[test]
fn png_has_the_scaled_size_and_draws_text() {
    // A chart with nothing but its heading and "No data": any dark pixel there is text, so this
    // fails if the embedded font was not loaded.
    let svg = BarChart { title: "Heading text".into(), width: Some(300.0), ..BarChart::default() }.render();
    let png = to_png(&svg, 2.0).expect("png");
    let pixmap = resvg::tiny_skia::Pixmap::decode_png(&png).expect("decodes");
    assert_eq!((pixmap.width(), pixmap.height()), (600, 320));
    let dark = |x0: u32, y0: u32, x1: u32, y1: u32| {
        let mut count = 0;
        for y in y0..y1 {
            for x in x0..x1 {
                let p = pixmap.pixel(x, y).expect("inside");
                if u32::from(p.red()) + u32::from(p.green()) + u32::from(p.blue()) < 300 {
                    count += 1;
                }
            }
        }
        count
    };
    // The heading sits at x 12..~110, baseline y 26, in SVG units; doubled here.
    assert!(dark(24, 24, 240, 64) > 100, "heading text is drawn");
    // The corner below and right of everything is background.
    assert_eq!(dark(560, 280, 600, 320), 0);
    assert!(matches!(to_png(&svg, 0.0), Err(RenderError::InvalidScale(_))));
    assert!(matches!(to_png(&svg, f32::NAN), Err(RenderError::InvalidScale(_))));
}

#[test]
fn png_of_oversized_chart_is_refused() {
    let svg = LineChart { title: "big".into(), size: Some(Size { width: 8000.0, height: 8000.0 }), ..LineChart::default() }.render();
    assert!(matches!(to_png(&svg, 4.0), Err(RenderError::TooLarge { .. })));
}

#[test]
fn pdf_has_one_page_with_the_font_and_pages_combine() {
    let pdf = to_pdf(&funnel().render()).expect("pdf");
    assert!(pdf.starts_with(b"%PDF-"));
    let text = String::from_utf8_lossy(&pdf);
    assert!(text.contains("/Count 1"));
    assert!(text.contains("DejaVuSans"), "the embedded font is in the PDF");
    let all: Vec<Svg> = fixtures().into_iter().map(|(_, s)| s).collect();
    let book = to_pdf_pages(&all).expect("pdf pages");
    assert!(book.starts_with(b"%PDF-"));
    assert!(String::from_utf8_lossy(&book).contains(&format!("/Count {}", all.len())));
    assert!(matches!(to_pdf_pages(&[]), Err(RenderError::NoPages)));
}

#[test]
fn same_input_gives_same_bytes() {
    for ((name, a), (_, b)) in fixtures().into_iter().zip(fixtures()) {
        assert_eq!(a, b, "{name} SVG");
        assert_eq!(to_png(&a, 1.0).expect("png"), to_png(&b, 1.0).expect("png"), "{name} PNG");
        assert_eq!(to_pdf(&a).expect("pdf"), to_pdf(&b).expect("pdf"), "{name} PDF");
    }
    let all: Vec<Svg> = fixtures().into_iter().map(|(_, s)| s).collect();
    assert_eq!(to_pdf_pages(&all).expect("pdf"), to_pdf_pages(&all).expect("pdf"));
}

// ---------------------------------------------------------------------------------------------
// Journey maps

fn journey_map() -> JourneyMapChart {
    let card = |text: &str, evidence: Option<&str>| MapCard { text: text.into(), evidence: evidence.map(String::from), href: None };
    let column = |name: &str, reach: &str, cards: Vec<Vec<MapCard>>, emotions: Vec<Option<f64>>, touchpoints: &[&str]| MapColumn {
        name: name.into(),
        figures: vec![MapFigure { label: "Reach".into(), value: reach.into(), href: Some(format!("/customers?stage={name}")) }],
        cards,
        emotions,
        touchpoints: touchpoints.iter().map(|t| t.to_string()).collect(),
    };
    JourneyMapChart {
        title: "Bean There: from first coffee to regular".into(),
        subtitle: Some("As is · owner Maya Chen · review by 2026-01-15 (overdue)".into()),
        lanes: vec!["Goals".into(), "Pain points".into()],
        personas: vec!["Student".into(), "Remote worker".into()],
        stages: vec![
            column(
                "Awareness",
                "1,204",
                vec![vec![card("Find good coffee near home or work", None)], vec![card("Most ad money goes to Instagram, which brings few lasting customers", Some("metric"))]],
                vec![Some(1.0), Some(0.5)],
                &["Friend referral", "Instagram ad", "Walk-in"],
            ),
            column(
                "Purchase",
                "980",
                vec![vec![], vec![card("Morning queues of 10+ minutes", Some("quote")), card("Card machine <outages> & \"cash only\"", None)]],
                vec![Some(-1.5), None],
                &["Till"],
            ),
            column("Retention", "410", vec![], vec![Some(1.5), Some(-0.5)], &[]),
        ],
    }
}

#[test]
fn journey_map_snapshot_validity_and_exports() {
    let svg = journey_map().render();
    insta::assert_snapshot!("journey_map", svg.as_str());
    validate(&svg).expect("valid SVG");
    let text = svg.as_str();
    assert!(text.contains("Card machine &lt;outages&gt; &amp; &quot;cash only&quot;"), "card text is escaped");
    assert_eq!(text.matches(">assumption</text>").count(), 2, "two cards cite nothing");
    assert!(text.contains("✓ metric") && text.contains("✓ quote"));
    assert!(text.contains("<a href=\"/customers?stage=Purchase\">"));
    assert!(to_png(&svg, 1.0).expect("png").starts_with(b"\x89PNG"));
    assert!(to_pdf(&svg).expect("pdf").starts_with(b"%PDF"));
    let empty = JourneyMapChart { title: "Nothing yet".into(), ..JourneyMapChart::default() }.render();
    validate(&empty).expect("an empty map is valid");
    assert!(empty.as_str().contains("No data"));
}

// ---------------------------------------------------------------------------------------------
// Reports: the document laid out as A4 pages and as one HTML page

mod report_layout {
    use trailmap_render::report::{Block, Figure, ReportDocument, TEXT_COLUMN, Table, text_width, to_html, to_pages};
    use trailmap_render::{to_pdf_pages, validate};

    /// The texts of a page's `<text>` elements, unescaped, with their font size.
    fn texts(page: &str) -> Vec<(String, f64)> {
        let mut out = Vec::new();
        let mut rest = page;
        while let Some(start) = rest.find("<text ") {
            let tag_end = start + rest[start..].find('>').expect("tag ends");
            let tag = &rest[start..tag_end];
            let size = tag
                .split("font-size=\"")
                .nth(1)
                .and_then(|s| s.split('"').next())
                .and_then(|s| s.parse().ok())
                .unwrap_or(12.0);
            let close = tag_end + rest[tag_end..].find("</text>").expect("text closes");
            let raw = &rest[tag_end + 1..close];
            let text = raw.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&apos;", "'").replace("&amp;", "&");
            out.push((text, size));
            rest = &rest[close..];
        }
        out
    }

    fn long_document() -> ReportDocument {
        let mut blocks = vec![Block::Heading("Key numbers".into())];
        for i in 0..40 {
            blocks.push(Block::Paragraph(format!(
                "Paragraph {i}: referrals rose after the programme started, and repeat visits with them; \
                 the words here only need to be long enough to wrap over several lines of the column. \
                 Averyveryverylongwordwithoutanyspacesthatmustbesplitbetweencharactersratherthancutoffattheedge{i}"
            )));
        }
        blocks.push(Block::Table(Table {
            columns: vec!["Metric".into(), "This period".into(), "n".into()],
            rows: (0..60).map(|i| vec![format!("Metric number {i} with a long name"), format!("{}.5%", i), format!("{} customers", 100 + i)]).collect(),
            right_aligned: vec![false, true, true],
        }));
        ReportDocument { title: "Report".into(), subtitle: Some("Sub".into()), footer: "Footer".into(), blocks }
    }

    #[test]
    fn a_long_document_takes_several_pages_and_loses_no_text() {
        let doc = long_document();
        let pages = to_pages(&doc);
        assert!(pages.len() >= 3, "{} pages", pages.len());
        // The body's texts in reading order; the footers (8 units) come between pages.
        let all: String = pages.iter().flat_map(|p| texts(p.as_str())).filter(|(_, size)| *size > 8.0).map(|(t, _)| t).collect::<Vec<_>>().join(" ");
        // Every paragraph's words are on some page (a word split over lines comes back joined).
        let squashed: String = all.split_whitespace().collect();
        for block in &doc.blocks {
            if let Block::Paragraph(text) = block {
                let wanted: String = text.split_whitespace().collect();
                assert!(squashed.contains(&wanted), "lost: {text}");
            }
        }
        // Every table row is there too, and the header is repeated on the pages the table spans.
        for i in 0..60 {
            assert!(all.contains(&format!("{} customers", 100 + i)), "row {i} lost");
        }
        // A row that fits on a page is never split over two.
        for i in 0..60 {
            let whole = pages.iter().any(|p| {
                let t = texts(p.as_str());
                t.iter().any(|(x, _)| x.starts_with(&format!("Metric number {i} "))) && t.iter().any(|(x, _)| x == &format!("{} customers", 100 + i))
            });
            assert!(whole, "row {i} split");
        }
        let headers = pages.iter().filter(|p| texts(p.as_str()).iter().any(|(t, _)| t == "This period")).count();
        assert!(headers >= 2, "the header is repeated on each page of the table");
        for (i, page) in pages.iter().enumerate() {
            validate(page).expect("each page is valid SVG");
            assert!(texts(page.as_str()).iter().any(|(t, _)| t == &format!("Page {} of {}", i + 1, pages.len())));
            assert!(page.as_str().contains("viewBox=\"0 0 595 842\""), "A4 portrait");
        }
    }

    #[test]
    fn no_line_is_wider_than_the_text_column() {
        let pages = to_pages(&long_document());
        for page in &pages {
            for (text, size) in texts(page.as_str()) {
                let width = text_width(&text, size);
                assert!(width <= TEXT_COLUMN + 0.01, "{width} > {TEXT_COLUMN}: {text:?}");
            }
        }
        // Body lines are filled: some line of the paragraphs takes most of the column.
        let widest = pages.iter().flat_map(|p| texts(p.as_str())).map(|(t, s)| text_width(&t, s)).fold(0.0, f64::max);
        assert!(widest > 0.8 * TEXT_COLUMN, "{widest}");
    }

    #[test]
    fn markup_in_titles_and_cells_is_escaped_in_html_and_pages() {
        let hostile = "Bread <b>& \"Butter\"</b> <script>alert(1)</script>";
        let doc = ReportDocument {
            title: hostile.into(),
            subtitle: Some("a < b & c > d".into()),
            footer: "<footer>".into(),
            blocks: vec![
                Block::Heading(hostile.into()),
                Block::Paragraph(hostile.into()),
                Block::Note("impact not available: <none>".into()),
                Block::Table(Table { columns: vec!["<th>".into()], rows: vec![vec!["<td>&".into()]], right_aligned: vec![] }),
            ],
        };
        let html = to_html(&doc);
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(!html.contains("<script>") && !html.contains("<b>"));
        assert!(html.contains("<th>&lt;th&gt;</th>") && html.contains("<td>&lt;td&gt;&amp;</td>"));
        assert!(html.contains("Bread &lt;b&gt;&amp; &quot;Butter&quot;&lt;/b&gt;"));
        assert!(html.contains("<title>Bread &lt;b&gt;"));
        assert!(html.contains("impact not available: &lt;none&gt;"));
        for page in to_pages(&doc) {
            validate(&page).expect("valid SVG with hostile text");
            assert!(!page.as_str().contains("<script>") && !page.as_str().contains("<b>"));
            assert!(texts(page.as_str()).iter().any(|(t, _)| t.starts_with("Bread <b>&")));
        }
    }

    #[test]
    fn figures_are_scaled_into_the_column_with_their_n_in_the_footer() {
        let chart = crate::bar_chart().render();
        let wide = trailmap_render::JourneyMapChart {
            title: "Map".into(),
            lanes: vec!["Doing".into()],
            stages: (0..8).map(|i| trailmap_render::MapColumn { name: format!("Stage {i}"), ..Default::default() }).collect(),
            ..Default::default()
        }
        .render();
        let doc = ReportDocument {
            title: "Figures".into(),
            subtitle: None,
            footer: "F".into(),
            blocks: vec![
                Block::Figure(Figure { svg: chart.clone(), caption: "New customers".into(), n: "1,204 customers".into() }),
                Block::Paragraph("Between the figures.".into()),
                Block::Figure(Figure { svg: wide, caption: "The map".into(), n: "77 customers".into() }),
                Block::Paragraph("After the map.".into()),
            ],
        };
        let pages = to_pages(&doc);
        assert_eq!(pages.len(), 3, "the wide map takes a page of its own");
        let first = pages[0].as_str();
        assert!(first.contains("width=\"499\""), "the chart is scaled to the column");
        assert!(texts(first).iter().any(|(t, _)| t.contains("n = 1,204 customers")));
        assert!(texts(first).iter().any(|(t, _)| t == "Figure on this page: n = 1,204 customers"));
        let second = pages[1].as_str();
        assert!(second.contains("rotate(-90)"));
        assert!(texts(second).iter().any(|(t, _)| t == "Figure on this page: n = 77 customers"));
        let third = pages[2].as_str();
        assert!(!third.contains("Figure on this page"), "no figure, no n line");
        for page in &pages {
            validate(page).expect("valid");
        }
        let html = to_html(&doc);
        assert!(html.contains("<figure>\n<svg") && html.contains("n = 1,204 customers"));
    }

    #[test]
    fn the_pdf_has_as_many_pages_as_the_svg_list() {
        let pages = to_pages(&long_document());
        let pdf = to_pdf_pages(&pages).expect("pdf");
        assert!(pdf.starts_with(b"%PDF-"));
        let text = String::from_utf8_lossy(&pdf);
        // The page objects' dictionaries are not compressed: count them, and the tree's count.
        let page_objects = text.match_indices("/Type /Page").filter(|(i, _)| !text[i + 11..].starts_with('s')).count();
        assert_eq!(page_objects, pages.len());
        assert!(text.contains(&format!("/Count {}", pages.len())));
    }

    #[test]
    fn a_table_row_taller_than_a_page_continues_on_the_next() {
        let words: Vec<String> = (0..2_000).map(|i| format!("w{i}")).collect();
        let doc = ReportDocument {
            title: "Tall".into(),
            blocks: vec![Block::Table(Table { columns: vec!["#".into(), "Text".into()], rows: vec![vec!["1".into(), words.join(" ")]], right_aligned: vec![true] })],
            ..ReportDocument::default()
        };
        let pages = to_pages(&doc);
        assert!(pages.len() >= 2, "{} pages", pages.len());
        let shown: Vec<String> = pages.iter().flat_map(|p| texts(p.as_str())).filter(|(_, s)| *s > 8.0).flat_map(|(t, _)| t.split_whitespace().map(String::from).collect::<Vec<_>>()).filter(|w| w.starts_with('w')).collect();
        assert_eq!(shown, words, "every word once, in order");
        for page in &pages {
            // Nothing is drawn below the body: the last text line ends above the footer rule.
            let lowest = page.as_str().split("<text ").skip(1).filter(|t| !t.contains("font-size=\"8\"")).filter_map(|t| t.split("y=\"").nth(1)?.split('"').next()?.parse::<f64>().ok()).fold(0.0, f64::max);
            assert!(lowest <= 842.0 - 70.0, "{lowest}");
        }
    }

    #[test]
    fn an_empty_document_is_one_page_with_its_title() {
        let pages = to_pages(&ReportDocument { title: "Nothing yet".into(), ..ReportDocument::default() });
        assert_eq!(pages.len(), 1);
        assert!(texts(pages[0].as_str()).iter().any(|(t, _)| t == "Nothing yet"));
    }
}

/// The demo's flows had many small nodes stacked in a column, and their labels were drawn on top
/// of each other: in every column, label baselines are now at least a line apart.
#[test]
fn sankey_labels_never_overlap_however_small_the_nodes() {
    let mut nodes = vec![SankeyNode { id: "big".into(), label: "purchase".into(), column: 0, value: 35_000.0, href: None }];
    let mut links = Vec::new();
    for k in 0..40 {
        let id = format!("small{k}");
        nodes.push(SankeyNode { id: id.clone(), label: format!("event_{k}"), column: 0, value: 3.0 + k as f64, href: None });
        nodes.push(SankeyNode { id: format!("next{k}"), label: format!("then_{k}"), column: 1, value: 2.0, href: None });
        links.push(SankeyLink { from: id, to: format!("next{k}"), value: 2.0, href: None });
    }
    links.push(SankeyLink { from: "big".into(), to: "next0".into(), value: 1_900.0, href: None });
    let svg = Sankey { title: "Crowded".into(), nodes, links, ..Sankey::default() }.render();
    validate(&svg).expect("valid SVG");
    let text = svg.as_str();
    let mut by_x: std::collections::BTreeMap<String, Vec<f64>> = std::collections::BTreeMap::new();
    for element in text.split("<text ").skip(1).filter(|e| e.contains(r#"font-size="11""#)) {
        let attr = |name: &str| element.split(&format!(r#"{name}=""#)).nth(1).and_then(|r| r.split('"').next()).unwrap_or_default().to_string();
        by_x.entry(attr("x")).or_default().push(attr("y").parse().expect("a number"));
    }
    assert!(by_x.len() >= 2, "labels in both columns: {by_x:?}");
    let labelled: usize = by_x.values().map(Vec::len).sum();
    assert!(labelled >= 30, "most nodes keep their label: {labelled}");
    for (x, mut ys) in by_x {
        ys.sort_by(f64::total_cmp);
        for pair in ys.windows(2) {
            assert!(pair[1] - pair[0] >= 12.99, "labels at x={x} overlap: {pair:?}");
        }
    }
    assert!(text.contains("purchase (35,000)"), "the biggest node keeps its label");
}
