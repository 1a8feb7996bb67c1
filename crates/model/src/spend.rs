//! Marketing spend per channel and period: what the business paid to be seen, for cost per
//! acquisition and return on ad spend.

use crate::{BusinessId, Money, SpendId};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spend {
    pub id: SpendId,
    pub business: BusinessId,
    /// The traffic channel the money bought (a [`crate::Channel`] name).
    pub channel: String,
    pub source: Option<String>,
    pub campaign: Option<String>,
    /// First day of the period, inclusive.
    pub start: NaiveDate,
    /// Last day of the period, inclusive.
    pub end: NaiveDate,
    pub amount: Money,
}
