//! Journey stages. Every business starts with the five classic ones; they can be renamed, reordered,
//! added to and removed.

use crate::{BusinessId, StageId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stage {
    pub id: StageId,
    pub business: BusinessId,
    pub name: String,
    /// Position from the start of the journey, 0-based.
    pub position: u32,
    pub description: String,
}

/// The stages a new business gets: name and description.
pub const DEFAULT_STAGES: [(&str, &str); 5] = [
    ("Awareness", "The customer first hears of the business."),
    ("Consideration", "The customer compares, browses, asks."),
    ("Purchase", "The customer buys."),
    ("Retention", "The customer comes back and buys again."),
    ("Advocacy", "The customer recommends the business to others."),
];
