//! Keeping an account safe: a user sees their sessions and ends any of them; changing a password
//! (which needs the current one) ends every other session; a forgotten password is replaced
//! through a one-time link that an owner of a business the user belongs to, or
//! `trailmap user reset-password` on the server's machine, issues. The link works once, for
//! [`RESET_TTL_MS`]; using it ends every session of the user. Tokens are random and stored as their
//! SHA-256, like every other secret.

use crate::accounts::{check_password, classify, hash_password, random_token, token_hash};
use crate::{App, AppError, Result};
use trailmap_model::{BusinessId, Timestamp, User, UserId};
use trailmap_store::{AccountStore, SessionInfo};

/// How long a password-reset link works: one day.
pub const RESET_TTL_MS: i64 = Timestamp::MS_PER_DAY;

/// A reset link's token, shown once, and when it stops working.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordReset {
    pub user: User,
    pub token: String,
    pub expires: Timestamp,
}

impl PasswordReset {
    /// The link's path on the server: `/reset/{token}`.
    pub fn path(&self) -> String {
        format!("/reset/{}", self.token)
    }
}

impl App {
    /// The user's sessions that have not expired, newest first.
    pub fn user_sessions(&self, user: UserId, now: Timestamp) -> Result<Vec<SessionInfo>> {
        self.store().sessions_of(user, now).map_err(classify)
    }

    /// The listed id of the session with this token (to mark "this device" in a list).
    pub fn session_id(token: &str) -> String {
        token_hash(token)[..trailmap_store::SESSION_ID_CHARS].to_string()
    }

    /// Ends one of the user's sessions by its listed id.
    pub fn end_session_by_id(&mut self, user: UserId, id: &str) -> Result<()> {
        if self.store_mut().delete_session_by_id(user, id).map_err(classify)? {
            Ok(())
        } else {
            Err(AppError::NotFound(format!("you have no session {id:?}")))
        }
    }

    /// Ends every session of the user but the one with token `keep`; answers how many ended.
    pub fn end_other_sessions(&mut self, user: UserId, keep: Option<&str>) -> Result<u64> {
        let keep = keep.map(token_hash);
        self.store_mut().delete_sessions_except(user, keep.as_deref()).map_err(classify)
    }

    /// Changes the user's password after checking the current one, and ends every other session
    /// (the one with token `keep` goes on).
    pub fn change_password(&mut self, user: &User, current: &str, new: &str, keep: Option<&str>) -> Result<u64> {
        if self.authenticate(&user.email, current)?.is_none_or(|u| u.id != user.id) {
            return Err(AppError::InvalidField { field: "current_password".into(), value: None, reason: "is not your current password".into() });
        }
        check_password(new)?;
        self.store_mut().set_password_hash(user.id, &hash_password(new)?).map_err(classify)?;
        self.end_other_sessions(user.id, keep)
    }

    /// A one-time reset link for `user`, issued by `issuer`: the user themself, or an owner of a
    /// business the user belongs to (else `Forbidden`). `None` as issuer is the server's own
    /// operator (`trailmap user reset-password`).
    pub fn issue_password_reset(&mut self, issuer: Option<UserId>, user: UserId, now: Timestamp) -> Result<PasswordReset> {
        let target = self.user(user)?.ok_or_else(|| AppError::NotFound(format!("user {} does not exist", user.0)))?;
        if let Some(issuer) = issuer
            && issuer != user
        {
            let theirs: Vec<BusinessId> = self.memberships(user)?.into_iter().map(|m| m.business.id).collect();
            let owns_one = self.memberships(issuer)?.iter().any(|m| m.role.can_manage() && theirs.contains(&m.business.id));
            if !owns_one {
                return Err(AppError::Forbidden(format!("only an owner of a business {} belongs to can issue their reset link", target.name)));
            }
        }
        let token = random_token(43);
        let expires = Timestamp(now.0.saturating_add(RESET_TTL_MS));
        self.store_mut().insert_password_reset(&token_hash(&token), user, now, expires).map_err(classify)?;
        Ok(PasswordReset { user: target, token, expires })
    }

    /// The user a reset link is for, while it is unused and unexpired.
    pub fn password_reset_user(&self, token: &str, now: Timestamp) -> Result<Option<User>> {
        self.store().password_reset(&token_hash(token), now).map_err(classify)
    }

    /// Uses a reset link: the new password is set, the link spent, and every session of the user
    /// ended. `NotFound` when the link is unknown, used or expired.
    pub fn reset_password(&mut self, token: &str, new: &str, now: Timestamp) -> Result<User> {
        check_password(new)?;
        let hash = hash_password(new)?;
        match self.store_mut().use_password_reset(&token_hash(token), &hash, now) {
            Ok(user) => Ok(user),
            Err(trailmap_store::StoreError::NotFound { .. }) => {
                Err(AppError::NotFound("this reset link is unknown, used already or expired; ask an owner for a new one".into()))
            }
            Err(e) => Err(classify(e)),
        }
    }
}
