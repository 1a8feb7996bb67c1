//! The voice-of-the-customer engine: score definitions on hand-checked fixtures (intervals against
//! values computed with scipy), VADER against the reference Python package's scores, themes on a
//! small corpus, and the scores against a direct count on seeded random answers.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;
use trailmap_analytics::voice::{
    ScoreAnswer, ScoreGrouping, ScoreKind, ScoreLabels, SentimentScorer, ThemeDocument, ThemeOptions, ThemeOrder, Tone,
    score, score_groups, themes,
};
use trailmap_model::{CustomerId, ResponseId, StageId, Timestamp, TouchpointId};

fn answers(values: &[f64]) -> Vec<ScoreAnswer> {
    values
        .iter()
        .enumerate()
        .map(|(i, &value)| ScoreAnswer {
            response: ResponseId(i as i64 + 1),
            customer: Some(CustomerId(i as i64 % 4 + 1)),
            time: Timestamp::from_date(chrono::NaiveDate::from_ymd_opt(2026, 1 + (i as u32 % 3), 15).expect("a date")),
            value,
            touchpoint: Some(TouchpointId(1 + i as i64 % 2)),
            stage: None,
        })
        .collect()
}

fn close(a: f64, b: f64, tolerance: f64) -> bool {
    (a - b).abs() <= tolerance
}

#[test]
fn nps_is_promoters_minus_detractors_with_the_trinomial_interval() {
    // 5 promoters (10, 9, 9, 10, 9), 2 passives (8, 7), 3 detractors (6, 5, 3): 50% - 30% = 20.
    let given = answers(&[10.0, 9.0, 9.0, 8.0, 7.0, 6.0, 5.0, 10.0, 3.0, 9.0]);
    let result = score(ScoreKind::Nps, &given.iter().collect::<Vec<_>>());
    assert_eq!(result.n, 10);
    assert!(close(result.value.expect("a value"), 20.0, 1e-12));
    let counts: Vec<u64> = result.counts.iter().map(|c| c.1).collect();
    assert_eq!(counts, vec![5, 2, 3]);
    // var = (0.5 + 0.3 - 0.2^2) / 10 = 0.076; scipy: 20 ± 1.959964 * sqrt(0.076) * 100.
    let interval = result.interval.expect("an interval");
    assert!(close(interval.low, -34.032_478_230_482_226, 1e-9), "{interval:?}");
    assert!(close(interval.high, 74.032_478_230_482_23, 1e-9), "{interval:?}");
    assert_eq!(result.responses.len(), 10);
    assert_eq!(result.customers, vec![CustomerId(1), CustomerId(2), CustomerId(3), CustomerId(4)]);
    // Promoters are answers 1, 2, 3, 8, 10: customers 1, 2, 3, 4 and 2.
    assert_eq!(result.positive_customers, vec![CustomerId(1), CustomerId(2), CustomerId(3), CustomerId(4)]);

    // 19 promoters and a detractor: 90, the interval's top clamped at 100 (unclamped 109.10).
    let given = answers(&[[10.0; 19].as_slice(), &[0.0]].concat());
    let result = score(ScoreKind::Nps, &given.iter().collect::<Vec<_>>());
    let interval = result.interval.expect("an interval");
    assert!(close(result.value.expect("a value"), 90.0, 1e-9));
    assert!(close(interval.low, 70.896_634_119_455_74, 1e-9) && interval.high == 100.0, "{interval:?}");
}

#[test]
fn csat_is_the_share_of_four_and_five_with_the_wilson_interval() {
    let given = answers(&[5.0, 4.0, 4.0, 3.0, 2.0, 5.0, 1.0, 4.0]);
    let result = score(ScoreKind::Csat, &given.iter().collect::<Vec<_>>());
    assert_eq!(result.n, 8);
    assert!(close(result.value.expect("a value"), 0.625, 1e-12));
    // scipy.stats.binomtest(5, 8).proportion_ci(method="wilson").
    let interval = result.interval.expect("an interval");
    assert!(close(interval.low, 0.305_742_394_602_627_3, 1e-9) && close(interval.high, 0.863_155_714_176_402_7, 1e-9));
    let given = answers(&[5.0, 4.0, 5.0]);
    let all = score(ScoreKind::Csat, &given.iter().collect::<Vec<_>>());
    let interval = all.interval.expect("an interval");
    assert!(close(interval.low, 0.438_502_968_244_954_6, 1e-9) && interval.high == 1.0);
}

#[test]
fn ces_is_the_mean_with_a_student_t_interval() {
    let given = answers(&[2.0, 3.0, 5.0, 7.0, 6.0, 4.0]);
    let result = score(ScoreKind::Ces, &given.iter().collect::<Vec<_>>());
    assert!(close(result.value.expect("a value"), 4.5, 1e-12));
    // scipy.stats.t.interval(0.95, 5, loc=4.5, scale=sem).
    let interval = result.interval.expect("an interval");
    assert!(close(interval.low, 2.536_685_693_019_675_7, 1e-9) && close(interval.high, 6.463_314_306_980_324, 1e-9));
    let one = answers(&[3.0]);
    let result = score(ScoreKind::Ces, &one.iter().collect::<Vec<_>>());
    assert_eq!((result.value, result.interval, result.n), (Some(3.0), None, 1));
}

#[test]
fn answers_off_the_scale_are_listed_not_counted_and_empty_samples_have_no_value() {
    let given = answers(&[10.0, 11.0, -1.0, 7.5, 6.0, f64::NAN]);
    let result = score(ScoreKind::Nps, &given.iter().collect::<Vec<_>>());
    assert_eq!(result.n, 2);
    assert_eq!(result.excluded, vec![ResponseId(2), ResponseId(3), ResponseId(4), ResponseId(6)]);
    assert!(close(result.value.expect("a value"), 0.0, 1e-12));
    let csat = score(ScoreKind::Csat, &answers(&[0.0, 6.0]).iter().collect::<Vec<_>>());
    assert_eq!((csat.n, csat.value, csat.interval), (0, None, None));
    assert_eq!(csat.excluded.len(), 2);
    let empty = score(ScoreKind::Ces, &[]);
    assert_eq!((empty.n, empty.value), (0, None));
}

#[test]
fn scores_split_by_touchpoint_stage_persona_and_month() {
    let given = answers(&[10.0, 0.0, 9.0, 8.0, 10.0, 6.0]);
    let mut labels = ScoreLabels::default();
    labels.touchpoints.insert(TouchpointId(1), "Checkout".into());
    labels.touchpoints.insert(TouchpointId(2), "Till".into());
    labels.stages.insert(StageId(7), "Purchase".into());
    labels.touchpoint_stages.insert(TouchpointId(1), StageId(7));
    labels.personas = BTreeMap::from([(CustomerId(1), "Bargain hunter".to_string())]);
    let by = |grouping| -> Vec<(String, u64, Option<f64>)> {
        score_groups(ScoreKind::Nps, &given, grouping, &labels)
            .into_iter()
            .map(|g| (g.group, g.result.n, g.result.value.map(f64::round)))
            .collect()
    };
    // Touchpoint 1 takes answers 1, 3, 5 (10, 9, 10): 100; touchpoint 2 answers 0, 8, 6: -67.
    assert_eq!(by(ScoreGrouping::Touchpoint), vec![("Checkout".into(), 3, Some(100.0)), ("Till".into(), 3, Some(-67.0))]);
    assert_eq!(by(ScoreGrouping::Stage), vec![("(none)".into(), 3, Some(-67.0)), ("Purchase".into(), 3, Some(100.0))]);
    // Customer 1 gave answers 1 and 5 (10, 10).
    assert_eq!(
        by(ScoreGrouping::Persona),
        vec![("(no persona)".into(), 4, Some(-25.0)), ("Bargain hunter".into(), 2, Some(100.0))]
    );
    // Months cycle Jan, Feb, Mar: (10, 8), (0, 10), (9, 6).
    assert_eq!(
        by(ScoreGrouping::Month),
        vec![("2026-01".into(), 2, Some(50.0)), ("2026-02".into(), 2, Some(0.0)), ("2026-03".into(), 2, Some(0.0))]
    );
}

#[test]
fn scores_agree_with_a_direct_count_on_random_answers() {
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    for round in 0..200 {
        let n = rng.random_range(1..60);
        let values: Vec<f64> = (0..n).map(|_| f64::from(rng.random_range(0..=10u8))).collect();
        let given = answers(&values);
        let refs: Vec<&ScoreAnswer> = given.iter().collect();
        let nps = score(ScoreKind::Nps, &refs);
        let (pro, det) = (values.iter().filter(|&&v| v > 8.5).count(), values.iter().filter(|&&v| v < 6.5).count());
        let expected = (pro as f64 - det as f64) * 100.0 / n as f64;
        assert!(close(nps.value.expect("a value"), expected, 1e-9), "round {round}");
        // The interval from the per-answer scores (+1, 0, -1) as a sample: its population
        // variance is the trinomial one.
        let scores: Vec<f64> = values.iter().map(|&v| if v > 8.5 { 1.0 } else if v < 6.5 { -1.0 } else { 0.0 }).collect();
        let mean = scores.iter().sum::<f64>() / n as f64;
        let variance = scores.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / n as f64;
        let half = 1.959_963_984_540_054 * (variance / n as f64).sqrt() * 100.0;
        let interval = nps.interval.expect("an interval");
        assert!(close(interval.low, (expected - half).max(-100.0), 1e-7), "round {round}");
        assert!(close(interval.high, (expected + half).min(100.0), 1e-7), "round {round}");
        // CSAT on the 1-5 answers among them; Wilson bounds are the roots of
        // (p̂ - p)^2 = z^2 p (1 - p) / n, checked by substitution.
        let csat = score(ScoreKind::Csat, &refs);
        let on_scale: Vec<f64> = values.iter().copied().filter(|v| (1.0..=5.0).contains(v)).collect();
        assert_eq!(csat.n as usize, on_scale.len());
        assert_eq!(csat.n as usize + csat.excluded.len(), n);
        if let (Some(p_hat), Some(interval)) = (csat.value, csat.interval) {
            let m = on_scale.len() as f64;
            assert!(close(p_hat, on_scale.iter().filter(|&&v| v >= 4.0).count() as f64 / m, 1e-12));
            let z2 = 1.959_963_984_540_054f64.powi(2);
            for bound in [interval.low, interval.high] {
                if bound > 0.0 && bound < 1.0 {
                    assert!(close((p_hat - bound).powi(2), z2 * bound * (1.0 - bound) / m, 1e-9), "round {round}");
                }
            }
            assert!(interval.low <= p_hat && p_hat <= interval.high);
        }
        // Groups partition the answers.
        let groups = score_groups(ScoreKind::Nps, &given, ScoreGrouping::Month, &ScoreLabels::default());
        assert_eq!(groups.iter().map(|g| g.result.n).sum::<u64>(), n as u64);
    }
}

#[test]
fn vader_scores_equal_the_reference_implementation() {
    let reference = include_str!("../data/vader_reference.tsv");
    let scorer = SentimentScorer::new();
    let mut checked = 0;
    for (line_number, line) in reference.lines().enumerate().skip(1) {
        let fields: Vec<&str> = line.split('\t').collect();
        assert_eq!(fields.len(), 5, "line {}", line_number + 1);
        let number = |i: usize| fields[i].parse::<f64>().expect("a number");
        let got = scorer.score(fields[0]);
        let expected = [number(1), number(2), number(3), number(4)];
        let actual = [got.neg, got.neu, got.pos, got.compound];
        for (k, (a, e)) in actual.iter().zip(expected).enumerate() {
            // Both are rounded by VADER (3 decimals for the shares, 4 for compound): equal.
            assert!(close(*a, e, 1e-9), "line {}: {:?} score {k}: {a} vs the reference {e}", line_number + 1, fields[0]);
        }
        checked += 1;
    }
    assert!(checked >= 150, "the reference file has {checked} lines");
    assert_eq!(scorer.score("The delivery fee was a nasty surprise at checkout").tone(), Tone::Negative);
    assert_eq!(scorer.score("").tone(), Tone::Neutral);
}

fn document(id: &str, customer: i64, text: &str, compound: f64) -> ThemeDocument {
    ThemeDocument { id: id.into(), customer: Some(CustomerId(customer)), text: text.into(), compound }
}

/// RAKE on the paper's own example (Rose, Engel, Cramer and Cowley 2010, Figures 1.1 to 1.6):
/// the abstract's candidates and their scores, the top twelve as the paper lists them.
#[test]
fn rake_scores_the_papers_example_as_the_paper_does() {
    use trailmap_analytics::voice::themes::rake;
    let abstract_text = "Compatibility of systems of linear constraints over the set of natural numbers. Criteria of \
        compatibility of a system of linear Diophantine equations, strict inequations, and nonstrict inequations are \
        considered. Upper bounds for components of a minimal set of solutions and algorithms of construction of minimal \
        generating sets of solutions for all types of systems are given. These criteria and the corresponding algorithms \
        for constructing a minimal supporting set of solutions can be used in solving all the considered types of \
        systems and systems of mixed types.";
    // The paper's stoplist as it applies to this text (its Figure 1.2 shows the candidates it leaves).
    let stop: std::collections::HashSet<&str> = [
        "of", "over", "the", "a", "and", "are", "considered", "for", "all", "types", "given", "these", "can", "be",
        "used", "in", "mixed", "construction",
    ]
    .into_iter()
    .collect();
    let scored = rake(abstract_text, &stop);
    let top: Vec<(&str, f64)> = scored.iter().take(12).map(|(p, s)| (p.as_str(), (s * 10.0).round() / 10.0)).collect();
    assert_eq!(
        top,
        vec![
            ("minimal generating sets", 8.7),
            ("linear diophantine equations", 8.5),
            ("minimal supporting set", 7.7),
            ("minimal set", 4.7),
            ("linear constraints", 4.5),
            ("natural numbers", 4.0),
            ("nonstrict inequations", 4.0),
            ("strict inequations", 4.0),
            ("upper bounds", 4.0),
            ("corresponding algorithms", 3.5),
            ("set", 2.0),
            ("algorithms", 1.5),
        ]
    );
    // The words of Figure 1.5: minimal has deg 8 and freq 3; systems deg 4 and freq 4.
    let minimal_set = scored.iter().find(|(p, _)| p == "minimal set").expect("a candidate").1;
    assert!(close(minimal_set, 8.0 / 3.0 + 2.0, 1e-12));
    assert!(close(scored.iter().find(|(p, _)| p == "systems").expect("a candidate").1, 1.0, 1e-12));
}

#[test]
fn themes_group_phrases_by_stem_and_rank_the_most_negative_first() {
    let corpus = vec![
        document("f1", 1, "Shipping is way too expensive", -0.5),
        document("f2", 2, "The delivery fee was a nasty surprise", -0.6),
        document("f3", 2, "Shipping costs more than anywhere else", -0.2),
        document("f4", 3, "Lovely staff, great service", 0.8),
        document("f5", 4, "Friendly staff", 0.5),
        document("f6", 5, "The staff were rude", -0.4),
        document("f7", 6, "Quick service on the phone", 0.6),
        document("f8", 7, "Thanks, I will be back for another one!", 0.7),
        document("f9", 8, "Thanks! Looking forward to coming back", 0.7),
    ];
    let options = ThemeOptions { min_count: 2, ..ThemeOptions::default() };
    let found = themes(&corpus, &options);
    let summary: Vec<(&str, u64, f64, u64)> =
        found.iter().map(|t| (t.label.as_str(), t.count, (t.average_compound * 1e4).round() / 1e4, t.negative)).collect();
    // "delivery fee" reads as "shipping cost", "costs" as "cost", and "shipping cost" joins the
    // two stems; "thanks", "back", "another" and "looking" are stop words and make no theme.
    assert_eq!(summary, vec![("shipping", 3, -0.4333, 3), ("staff", 3, 0.3, 1), ("service", 2, 0.7, 0)]);
    let shipping = &found[0];
    let listed: Vec<(&str, u64)> = shipping.phrases.iter().map(|p| (p.phrase.as_str(), p.texts)).collect();
    assert_eq!(listed, vec![("shipping", 3), ("delivery fee", 2)]);
    // RAKE: "shipping" stands alone once and in a two-word candidate twice (deg 5, freq 3);
    // "cost" in two two-word candidates (deg 4, freq 2): 5/3 + 2.
    assert!(close(shipping.phrases[1].score, 5.0 / 3.0 + 2.0, 1e-12), "{:?}", shipping.phrases);
    let quotes: Vec<&str> = shipping.examples.iter().map(|q| q.id.as_str()).collect();
    assert_eq!(quotes, vec!["f2", "f1", "f3"]);
    assert_eq!(shipping.documents, vec!["f1", "f2", "f3"]);
    assert_eq!(shipping.customers, vec![CustomerId(1), CustomerId(2)]);

    // The threshold: at three texts, "service" (two) is not shown.
    let strict = themes(&corpus, &ThemeOptions { min_count: 3, ..ThemeOptions::default() });
    assert_eq!(strict.iter().map(|t| t.label.as_str()).collect::<Vec<_>>(), vec!["shipping", "staff"]);
    let by_count = themes(&corpus, &ThemeOptions { min_count: 2, order: ThemeOrder::NegativeCount, ..ThemeOptions::default() });
    assert_eq!(by_count.iter().map(|t| t.negative).collect::<Vec<_>>(), vec![3, 1, 0]);
    assert!(themes(&[], &options).is_empty());
}

/// A product word that comes with the shipping complaints ("dress" in four of its five texts,
/// the fifth a size complaint) folds into the shipping theme rather than leading a theme of its
/// own, its fifth text stays with the size theme, and domain stop words ("product", "order",
/// "item", "really") and the request's extra ones found no theme.
#[test]
fn a_word_that_comes_with_a_theme_folds_into_it_and_stop_words_make_no_theme() {
    let corpus = vec![
        document("d1", 1, "Liked the dress but the shipping cost killed it", -0.6),
        document("d2", 2, "Shipping cost for one dress, seriously", -0.3),
        document("d3", 3, "Shipping was slow", -0.2),
        document("d4", 4, "This dress and the shipping charge: too much", -0.4),
        document("d5", 5, "Dress arrived late, shipping took ages", -0.5),
        document("d6", 6, "No size chart for this dress", -0.3),
        document("d7", 7, "The size chart was wrong", -0.25),
        document("d8", 8, "Size chart is confusing", -0.2),
        document("d9", 9, "Lovely product, lovely packaging, really", 0.6),
        document("d10", 10, "Lovely product", 0.6),
        document("d11", 11, "Lovely item and lovely product", 0.7),
        document("d12", 12, "The product was fine", 0.2),
    ];
    let found = themes(&corpus, &ThemeOptions::default());
    let summary: Vec<(&str, u64, f64, u64)> =
        found.iter().map(|t| (t.label.as_str(), t.count, (t.average_compound * 1e4).round() / 1e4, t.negative)).collect();
    // Shipping: d1..d5, (-0.6 - 0.3 - 0.2 - 0.4 - 0.5) / 5 = -0.4; size chart: d6..d8,
    // (-0.3 - 0.25 - 0.2) / 3 = -0.25; lovely product: d9..d11, (0.6 + 0.6 + 0.7) / 3 = 0.6333.
    assert_eq!(summary, vec![("shipping", 5, -0.4, 5), ("size chart", 3, -0.25, 3), ("lovely product", 3, 0.6333, 0)]);
    let shipping = &found[0];
    let listed = |t: &trailmap_analytics::voice::Theme| t.phrases.iter().map(|p| (p.phrase.clone(), p.texts)).collect::<Vec<_>>();
    let owned = |list: &[(&str, u64)]| list.iter().map(|&(p, n)| (p.to_string(), n)).collect::<Vec<_>>();
    // "dress" is in five texts, four of them the theme's (80%): listed with those four, and d6
    // is not counted in the theme.
    assert_eq!(listed(shipping), owned(&[("shipping", 5), ("dress", 4), ("shipping cost", 3)]));
    assert_eq!(shipping.documents, vec!["d1", "d2", "d3", "d4", "d5"]);
    assert_eq!(found[1].documents, vec!["d6", "d7", "d8"]);
    // "product" is in four texts but founds no theme; "item" and "really" neither.
    assert!(found.iter().all(|t| !["product", "order", "item", "really"].contains(&t.label.as_str())));

    // Extra stop words, compared by stem ("Dresses" is "dress"), drop the product word; "size"
    // as a stop word leaves the theme to "chart" ("size chart" still its phrase).
    let options = ThemeOptions { stop_words: vec!["Dresses".into(), "SIZE".into()], ..ThemeOptions::default() };
    let trimmed = themes(&corpus, &options);
    assert_eq!(listed(&trimmed[0]), owned(&[("shipping", 5), ("shipping cost", 3)]));
    assert_eq!(listed(&trimmed[1]), owned(&[("size chart", 3)]));
    assert_eq!(trimmed.iter().map(|t| t.count).collect::<Vec<_>>(), vec![5, 3, 3]);

    // With the shipping texts alone "dress" still folds in; with two of its texts elsewhere it
    // is a theme of its own.
    let alone = themes(&corpus[..5], &ThemeOptions::default());
    assert_eq!(alone.iter().map(|t| t.label.as_str()).collect::<Vec<_>>(), vec!["shipping"]);
    let mut split = corpus.clone();
    split.push(document("d13", 13, "This dress runs small", -0.1));
    split.push(document("d14", 14, "Lovely dress", 0.5));
    split.push(document("d15", 15, "Dress fabric feels cheap", -0.2));
    let labels: Vec<String> = themes(&split, &ThemeOptions::default()).into_iter().map(|t| t.label).collect();
    assert!(labels.contains(&"dress".to_string()), "{labels:?}");
}

/// Themes on seeded random corpora agree with a direct count: each theme's n is its texts, its
/// average and negatives are theirs, each listed phrase's count is the number of the theme's
/// texts holding it in a candidate, no theme is under the threshold, and no theme is (80% or
/// more) inside a theme at least as big.
#[test]
fn themes_agree_with_a_direct_count_on_random_corpora() {
    use trailmap_analytics::voice::themes::{candidates, stem};
    let vocabulary = [
        "shipping", "delivery", "cost", "fee", "dress", "dresses", "size", "chart", "order", "product", "item", "great",
        "slow", "the", "was", "and", "staff", "friendly", "card", "declined", "tee", "really", "late", "cheap",
    ];
    let holds = |text: &str, phrase: &[String]| {
        candidates(text).iter().any(|c| {
            let stems: Vec<String> = c.iter().map(|w| stem(w)).collect();
            stems.windows(phrase.len()).any(|w| w == phrase)
        })
    };
    for seed in 0..25u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let corpus: Vec<ThemeDocument> = (0..rng.random_range(0..60))
            .map(|i| {
                let words: Vec<&str> = (0..rng.random_range(1..8)).map(|_| vocabulary[rng.random_range(0..vocabulary.len())]).collect();
                let compound = (rng.random_range(-100..=100) as f64) / 100.0;
                document(&format!("t{i}"), i % 17, &words.join(if rng.random_bool(0.2) { ", " } else { " " }), compound)
            })
            .collect();
        let extra = if seed % 2 == 0 { vec!["tee".to_string()] } else { Vec::new() };
        let options = ThemeOptions { min_count: 2 + (seed % 3) as usize, stop_words: extra.clone(), ..ThemeOptions::default() };
        let found = themes(&corpus, &options);
        let index: BTreeMap<&str, &ThemeDocument> = corpus.iter().map(|d| (d.id.as_str(), d)).collect();
        for theme in &found {
            let texts: Vec<&ThemeDocument> = theme.documents.iter().map(|id| index[id.as_str()]).collect();
            assert_eq!(theme.count as usize, texts.len(), "seed {seed}");
            assert!(texts.len() >= options.min_count);
            let mean = texts.iter().map(|d| d.compound).sum::<f64>() / texts.len() as f64;
            assert!(close(theme.average_compound, mean, 1e-9), "seed {seed}");
            assert_eq!(theme.negative as usize, texts.iter().filter(|d| d.compound <= -0.05).count());
            assert!(theme.phrases.iter().any(|p| p.phrase == theme.label));
            assert!(!["order", "product", "item", "really", "tee"].contains(&theme.label.as_str()) || theme.label == "tee" && extra.is_empty());
            for phrase in &theme.phrases {
                let stems: Vec<String> = phrase.phrase.split(' ').map(stem).collect();
                assert_eq!(phrase.texts as usize, texts.iter().filter(|d| holds(&d.text, &stems)).count(), "seed {seed}: {}", phrase.phrase);
            }
        }
        for x in &found {
            for y in &found {
                if std::ptr::eq(x, y) || x.count < y.count {
                    continue;
                }
                let shared = y.documents.iter().filter(|id| x.documents.contains(id)).count();
                assert!(shared * 100 < 80 * y.documents.len(), "seed {seed}: {} inside {}", y.label, x.label);
            }
        }
    }
}
