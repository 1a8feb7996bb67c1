//! Customers and their identities. A person may arrive as an anonymous visitor, later give an email,
//! and later still appear in the till under a loyalty number: those are three identities of one
//! customer with one history. Events point at identities, not customers, so merging two customers
//! re-points identities and never rewrites events.

use crate::{BusinessId, CustomerId, Properties, Timestamp};
use serde::{Deserialize, Serialize};
use std::fmt;

/// What kind of identifier an identity is. The order is the order of trust: an external id from the
/// business's own systems beats an email, which beats a cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityKind {
    /// The business's own customer id (Segment's `userId`, a loyalty number, a Shopify customer id).
    External,
    /// An email address, compared lower-cased.
    Email,
    /// An anonymous visitor id (Segment's `anonymousId`, our snippet's cookie).
    Anonymous,
}

impl IdentityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            IdentityKind::External => "external",
            IdentityKind::Email => "email",
            IdentityKind::Anonymous => "anonymous",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "external" => Some(IdentityKind::External),
            "email" => Some(IdentityKind::Email),
            "anonymous" => Some(IdentityKind::Anonymous),
            _ => None,
        }
    }
}

/// One identifier of a customer.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Identity {
    pub kind: IdentityKind,
    pub value: String,
}

impl Identity {
    /// Builds an identity, normalising the value the way comparisons need: trimmed, and emails
    /// lower-cased. Returns None for an empty value.
    pub fn new(kind: IdentityKind, value: &str) -> Option<Identity> {
        let value = value.trim();
        if value.is_empty() {
            return None;
        }
        let value = match kind {
            IdentityKind::Email => value.to_lowercase(),
            _ => value.to_string(),
        };
        Some(Identity { kind, value })
    }

    pub fn external(value: &str) -> Option<Identity> {
        Identity::new(IdentityKind::External, value)
    }

    pub fn email(value: &str) -> Option<Identity> {
        Identity::new(IdentityKind::Email, value)
    }

    pub fn anonymous(value: &str) -> Option<Identity> {
        Identity::new(IdentityKind::Anonymous, value)
    }
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind.as_str(), self.value)
    }
}

/// A customer as the business knows them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Customer {
    pub id: CustomerId,
    pub business: BusinessId,
    pub external_id: Option<String>,
    pub email: Option<String>,
    pub name: Option<String>,
    /// When the customer was first seen (first event, first order or the import that created them).
    pub first_seen: Timestamp,
    /// Free-form traits: city, age band, loyalty tier, anything the business imports.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub properties: Properties,
}
