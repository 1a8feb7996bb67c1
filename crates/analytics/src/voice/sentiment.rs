//! Sentiment of a free-text answer by VADER (Hutto & Gilbert, ICWSM-14), the rule-based model
//! tuned for short, informal text such as reviews and survey comments.
//!
//! The scores must equal those of the reference implementation, Python `vaderSentiment` 3.3.2:
//! the scoring itself is the `vader-parity` crate, which reimplements that package's rules over
//! its own lexicon files, and `tests/analytics/voice.rs` checks it against reference values made
//! with the Python package (`tests/data/vader_reference.tsv`, from `vader_reference.py`), so a
//! change of crate version that changed a score would fail the tests.

use serde::Serialize;

/// The four VADER scores of a text: the shares of negative, neutral and positive valence (three
/// decimals, summing to about 1) and the normalised compound score in -1..1 (four decimals).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Sentiment {
    pub neg: f64,
    pub neu: f64,
    pub pos: f64,
    pub compound: f64,
}

/// The usual reading of the compound score (VADER's authors' thresholds): positive at 0.05 or
/// more, negative at -0.05 or less, neutral between.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tone {
    Negative,
    Neutral,
    Positive,
}

impl Tone {
    pub fn of(compound: f64) -> Tone {
        if compound >= 0.05 {
            Tone::Positive
        } else if compound <= -0.05 {
            Tone::Negative
        } else {
            Tone::Neutral
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Tone::Negative => "negative",
            Tone::Neutral => "neutral",
            Tone::Positive => "positive",
        }
    }
}

impl Sentiment {
    pub fn tone(&self) -> Tone {
        Tone::of(self.compound)
    }
}

/// Scores texts. Building it parses the lexicons (about 11,000 lines) once; build one and score
/// many texts with it.
pub struct SentimentScorer {
    analyzer: vader_parity::SentimentIntensityAnalyzer,
}

impl std::fmt::Debug for SentimentScorer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SentimentScorer(VADER 3.3.2)")
    }
}

impl Default for SentimentScorer {
    fn default() -> Self {
        SentimentScorer::new()
    }
}

impl SentimentScorer {
    pub fn new() -> SentimentScorer {
        SentimentScorer { analyzer: vader_parity::SentimentIntensityAnalyzer::new() }
    }

    /// The VADER scores of `text`; text with nothing to score (empty, numbers only) is neutral.
    pub fn score(&self, text: &str) -> Sentiment {
        let s = self.analyzer.polarity_scores(text);
        Sentiment { neg: s.neg, neu: s.neu, pos: s.pos, compound: s.compound }
    }
}
