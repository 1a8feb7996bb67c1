//! Stored rows made model types, the same way on every backend: a business, a customer, the JSON
//! documents, currency codes and dates, each refused as corrupt with what was wrong rather than
//! guessed. A backend reads its columns into the tuples here and hands them over.

use crate::{Result, StoreError};
use trailmap_model::*;

pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

pub(crate) fn currency(text: &str) -> Result<Currency> {
    Currency::parse(text).ok_or_else(|| StoreError::Corrupt(format!("bad currency code {text:?}")))
}

pub(crate) fn date(text: &str) -> Result<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| StoreError::Corrupt(format!("bad date {text:?}")))
}

pub(crate) type BusinessRow = (i64, String, String, String, Option<String>);

pub(crate) fn to_business((id, name, cur, timezone, mark): BusinessRow) -> Result<Business> {
    let decimal_mark = mark
        .map(|m| DecimalMark::parse(&m).ok_or_else(|| StoreError::Corrupt(format!("bad decimal mark {m:?}"))))
        .transpose()?;
    Ok(Business { id: BusinessId(id), name, currency: currency(&cur)?, timezone, decimal_mark })
}

pub(crate) type CustomerRow = (i64, i64, Option<String>, Option<String>, Option<String>, i64, String);

pub(crate) fn to_customer((id, business, external_id, email, name, first_seen, properties): CustomerRow) -> Result<Customer> {
    Ok(Customer {
        id: CustomerId(id),
        business: BusinessId(business),
        external_id,
        email,
        name,
        first_seen: Timestamp(first_seen),
        properties: parse_json(&properties, "customer properties")?,
    })
}
