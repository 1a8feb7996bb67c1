//! The survey results' and feedback themes' parameters: `by` (how scores are grouped) and
//! `stop_words` (extra words that never make a theme alone).

use super::field_error;
use crate::Result;
use trailmap_analytics::voice::ScoreGrouping;

/// Reads `by` (touchpoint, stage, persona or month; absent: no grouping), naming the field when it
/// is none of them.
pub fn score_grouping(by: Option<&str>) -> Result<Option<ScoreGrouping>> {
    match by.map(str::trim).filter(|b| !b.is_empty()) {
        None => Ok(None),
        Some("touchpoint") => Ok(Some(ScoreGrouping::Touchpoint)),
        Some("stage") => Ok(Some(ScoreGrouping::Stage)),
        Some("persona") => Ok(Some(ScoreGrouping::Persona)),
        Some("month") => Ok(Some(ScoreGrouping::Month)),
        Some(other) => Err(field_error("by", format!("{other:?} is not touchpoint, stage, persona or month"))),
    }
}

/// The extra stop words of a request, given as one text separated by commas or spaces
/// ("dress, tee").
pub fn stop_word_list(text: Option<&str>) -> Vec<String> {
    text.unwrap_or("").split(|c: char| c == ',' || c.is_whitespace()).filter(|w| !w.is_empty()).map(str::to_string).collect()
}
