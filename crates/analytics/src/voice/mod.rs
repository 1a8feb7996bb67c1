//! The voice of the customer: survey scores (NPS, CSAT, CES by their standard definitions, with
//! 95% confidence intervals, per touchpoint, stage, persona and month), the sentiment of free text
//! (VADER, equal to the reference Python implementation), and recurring themes in free text with
//! their counts, average sentiment and example quotes. Pure computation: no I/O, no clock.

pub mod scores;
pub mod sentiment;
pub mod themes;

pub use scores::{Interval, ScoreAnswer, ScoreGroup, ScoreGrouping, ScoreKind, ScoreLabels, ScoreResult, score, score_groups};
pub use sentiment::{Sentiment, SentimentScorer, Tone};
pub use themes::{Quote, Theme, ThemeDocument, ThemeOptions, ThemeOrder, ThemePhrase, themes};
