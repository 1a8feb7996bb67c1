//! A business: the unit of ownership. Every other record belongs to exactly one, and nothing crosses
//! from one business to another.

use crate::{BusinessId, Currency, DecimalMark};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Business {
    pub id: BusinessId,
    pub name: String,
    /// The currency amounts are reported in when a file does not say.
    pub currency: Currency,
    /// IANA time-zone name used to cut days and weeks for reports ("Europe/London").
    pub timezone: String,
    /// The decimal mark of the business's files, when declared; imports refuse numbers whose
    /// reading depends on it ("12,50", "1,234") until it is.
    #[serde(default)]
    pub decimal_mark: Option<DecimalMark>,
}
