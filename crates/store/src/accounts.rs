//! Accounts: users, memberships, sessions, invitations, API keys and password resets. They live in the same file as
//! the business data but outside its write transactions: each call here is one small transaction
//! of its own. Secrets (passwords, session tokens, invitation tokens, API keys) are stored only as
//! hashes made by the caller; this module never sees a password.

use crate::Result;
use trailmap_model::{ApiKeyInfo, Business, BusinessId, Currency, Invitation, Membership, Role, Timestamp, User, UserId};

/// A stored session, found by its token's hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    pub user: User,
    pub csrf: String,
    pub expires: Timestamp,
}

/// One of a user's sessions as they see it listed: never the token, only a short id made from the
/// first characters of its hash (enough to tell sessions apart and to end one).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SessionInfo {
    pub id: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// How many hex characters of a session's token hash make its listed id.
pub const SESSION_ID_CHARS: usize = 12;

/// What a new invitation records besides its token's hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInvitation<'a> {
    pub business: BusinessId,
    pub role: Role,
    pub email: Option<&'a str>,
    pub invited_by: UserId,
    pub now: Timestamp,
    pub expires: Timestamp,
}

/// Accounts behind a trait, as the business data is behind [`crate::Store`], so another backend
/// can provide them.
pub trait AccountStore {
    fn user_count(&self) -> Result<u64>;
    /// Adds a user; `StoreError::Conflict` when the email is taken.
    fn insert_user(&mut self, email: &str, name: &str, password_hash: &str, now: Timestamp) -> Result<User>;
    fn user(&self, id: UserId) -> Result<Option<User>>;
    fn users(&self) -> Result<Vec<User>>;
    /// A user and their password hash, by (lower-case) email.
    fn user_with_hash(&self, email: &str) -> Result<Option<(User, String)>>;
    fn set_password_hash(&mut self, user: UserId, password_hash: &str) -> Result<()>;

    fn memberships(&self, user: UserId) -> Result<Vec<Membership>>;
    fn role(&self, user: UserId, business: BusinessId) -> Result<Option<Role>>;
    fn members(&self, business: BusinessId) -> Result<Vec<(User, Role)>>;
    fn set_member(&mut self, business: BusinessId, user: UserId, role: Role) -> Result<()>;
    /// Removes a membership; `StoreError::Conflict` when it is the business's last owner.
    fn remove_member(&mut self, business: BusinessId, user: UserId) -> Result<()>;
    /// Creates a business with its default stages and makes `owner` its owner, in one transaction.
    fn create_business_owned(&mut self, owner: UserId, name: &str, currency: Currency, timezone: &str) -> Result<Business>;
    /// `StoreError::Conflict` when another business has the name.
    fn rename_business(&mut self, business: BusinessId, name: &str) -> Result<Business>;

    fn insert_session(&mut self, token_hash: &str, user: UserId, csrf: &str, now: Timestamp, expires: Timestamp) -> Result<()>;
    /// The session, if it exists and has not expired at `now`.
    fn session(&self, token_hash: &str, now: Timestamp) -> Result<Option<StoredSession>>;
    fn delete_session(&mut self, token_hash: &str) -> Result<()>;
    /// Forgets sessions that expired before `now`.
    fn delete_expired_sessions(&mut self, now: Timestamp) -> Result<u64>;

    fn insert_invitation(&mut self, token_hash: &str, invitation: &NewInvitation<'_>) -> Result<()>;
    fn invitation(&self, token_hash: &str) -> Result<Option<Invitation>>;
    /// Marks the invitation accepted by `user` and adds the membership, in one transaction. A
    /// user already in the business keeps the higher of their role and the invitation's.
    fn accept_invitation(&mut self, token_hash: &str, user: UserId, now: Timestamp) -> Result<Membership>;

    fn insert_api_key(&mut self, user: UserId, name: &str, prefix: &str, key_hash: &str, now: Timestamp) -> Result<ApiKeyInfo>;
    fn api_keys(&self, user: UserId) -> Result<Vec<ApiKeyInfo>>;
    /// The key and its user, by the key's hash (revoked keys included: the caller decides).
    fn api_key_by_hash(&self, key_hash: &str) -> Result<Option<(ApiKeyInfo, User)>>;
    /// Revokes one of `user`'s keys; `StoreError::NotFound` when they have no such key.
    fn revoke_api_key(&mut self, user: UserId, id: i64, now: Timestamp) -> Result<()>;
    fn touch_api_key(&mut self, key_hash: &str, now: Timestamp) -> Result<()>;

    /// The user's sessions that have not expired at `now`, newest first.
    fn sessions_of(&self, user: UserId, now: Timestamp) -> Result<Vec<SessionInfo>>;
    /// Ends the user's session with this listed id; false when they have none such.
    fn delete_session_by_id(&mut self, user: UserId, id: &str) -> Result<bool>;
    /// Ends every session of the user but the one with `keep` as its token's hash (none: all).
    fn delete_sessions_except(&mut self, user: UserId, keep: Option<&str>) -> Result<u64>;
    /// Records a one-time password reset for `user`, by its token's hash.
    fn insert_password_reset(&mut self, token_hash: &str, user: UserId, now: Timestamp, expires: Timestamp) -> Result<()>;
    /// The user of an unused, unexpired password reset.
    fn password_reset(&self, token_hash: &str, now: Timestamp) -> Result<Option<User>>;
    /// Uses the reset: sets the password hash, marks the reset used and ends every session of the
    /// user, in one transaction. `NotFound` when the reset is unknown, used or expired.
    fn use_password_reset(&mut self, token_hash: &str, password_hash: &str, now: Timestamp) -> Result<User>;
}
