//! Store-wide settings by name (`default_business`: the business commands use when none is named),
//! a business's onboarding checklist being hidden, and the imports a business has had by kind.
//! Like accounts, each call here is one small transaction of its own, outside the business data's
//! write transactions: none of it is data an analysis reads, so none of it raises a data version.

use crate::Result;
use trailmap_model::{BusinessId, Timestamp};

/// Settings behind a trait, as the rest of the store is, so another backend can provide them.
pub trait SettingsStore {
    /// The value of a store-wide setting, if it was set.
    fn setting(&self, name: &str) -> Result<Option<String>>;
    fn set_setting(&mut self, name: &str, value: &str) -> Result<()>;
    /// When the business's onboarding checklist was hidden, if it is.
    fn checklist_hidden(&self, business: BusinessId) -> Result<Option<Timestamp>>;
    /// Hides (Some) or shows again (None) the business's onboarding checklist;
    /// `StoreError::NotFound` when there is no such business.
    fn set_checklist_hidden(&mut self, business: BusinessId, at: Option<Timestamp>) -> Result<()>;
    /// How many imports of each kind (`orders`, `customers`, ...) landed in the business.
    fn import_counts(&self, business: BusinessId) -> Result<Vec<(String, u64)>>;
}
