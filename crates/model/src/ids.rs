//! Typed ids. Each entity has its own id type so a customer id can never be passed where an order id
//! is expected; they are the store's row ids underneath.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}

id_type!(
    /// A business: one installation hosts several, as an agency serves several clients.
    BusinessId,
    /// Someone who signs in to Trailmap (an owner, a member of staff, an agency).
    UserId,
    /// A customer: one person, however many identities (emails, visitor ids) they arrived with.
    CustomerId,
    /// One identity of a customer (an external id, an email or an anonymous visitor id).
    IdentityId,
    OrderId,
    StageId,
    TouchpointId,
    PersonaId,
    MapId,
    SurveyId,
    QuestionId,
    ResponseId,
    FeedbackId,
    ChangeId,
    SpendId,
);
