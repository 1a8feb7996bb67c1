//! Accounts: who may sign in and what they may do in each business. Passwords are hashed with
//! Argon2id (the argon2 crate's defaults, OWASP's recommended parameters); session tokens,
//! invitation tokens and API keys are random and kept only as their SHA-256, so a copy of the
//! store gives no one a way in. The clock is an argument: the server passes "now".

use crate::{App, AppError, Result};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::Rng;
use sha2::{Digest, Sha256};
use trailmap_model::{ApiKeyInfo, Business, BusinessId, Currency, Invitation, Membership, Role, Timestamp, User, UserId};
use trailmap_store::{AccountStore, NewInvitation, StoreError};

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// A session just created: the token goes into the cookie and is never stored as such.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    pub token: String,
    /// The token every form and cookie-authenticated API call must carry (synchronizer token).
    pub csrf: String,
    pub expires: Timestamp,
}

/// A live session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user: User,
    pub csrf: String,
    pub expires: Timestamp,
}

/// A random token of `len` letters and digits from the operating system's generator.
pub(crate) fn random_token(len: usize) -> String {
    rand::rng().sample_iter(rand::distr::Alphanumeric).take(len).map(char::from).collect()
}

/// SHA-256 in lower-case hex: how tokens are stored and looked up.
pub(crate) fn token_hash(token: &str) -> String {
    Sha256::digest(token.trim().as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn hash_password(password: &str) -> Result<String> {
    // 16 bytes from rand's thread generator (a CSPRNG seeded by the operating system).
    let salt_bytes: [u8; 16] = rand::rng().random();
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| AppError::Invalid(format!("the password cannot be salted: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Invalid(format!("the password cannot be hashed: {e}")))
}

pub(crate) fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// An email in the form the store keeps: trimmed and lower-case. Only the shape is checked
/// (something@something.something); whether it receives mail is the user's business.
fn normalise_email(email: &str) -> Result<String> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= 254
        && !email.chars().any(char::is_whitespace)
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && !domain.contains('@') && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
        });
    if !valid {
        return Err(AppError::Invalid(format!("email: {email:?} is not an email address")));
    }
    Ok(email)
}

pub(crate) fn check_password(password: &str) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AppError::Invalid(format!("password: at least {MIN_PASSWORD_CHARS} characters are needed")));
    }
    if password.len() > 1024 {
        return Err(AppError::Invalid("password: at most 1024 bytes".into()));
    }
    Ok(())
}

/// Store errors with a meaning for the caller become the app's own kinds.
pub(crate) fn classify(error: StoreError) -> AppError {
    match error {
        StoreError::Conflict(m) => AppError::Conflict(m),
        StoreError::NotFound { what, id } => AppError::NotFound(format!("{what} {id} does not exist")),
        other => AppError::Store(other),
    }
}

impl App {
    pub fn user_count(&self) -> Result<u64> {
        self.store.user_count().map_err(classify)
    }

    /// Adds a user who can sign in with `email` and `password`.
    pub fn create_user(&mut self, email: &str, name: &str, password: &str, now: Timestamp) -> Result<User> {
        let email = normalise_email(email)?;
        let name = name.trim();
        if name.is_empty() || name.len() > 200 {
            return Err(AppError::Invalid("name: between 1 and 200 characters".into()));
        }
        check_password(password)?;
        let hash = hash_password(password)?;
        self.store.insert_user(&email, name, &hash, now).map_err(classify)
    }

    /// The user with this email and password, or None. An unknown email costs the same work as a
    /// wrong password, so timing does not tell which emails have accounts.
    pub fn authenticate(&self, email: &str, password: &str) -> Result<Option<User>> {
        let email = email.trim().to_lowercase();
        match self.store.user_with_hash(&email).map_err(classify)? {
            Some((user, hash)) => Ok(verify_password(password, &hash).then_some(user)),
            None => {
                let _ = verify_password(password, dummy_hash());
                Ok(None)
            }
        }
    }

    pub fn user(&self, id: UserId) -> Result<Option<User>> {
        self.store.user(id).map_err(classify)
    }

    pub fn users(&self) -> Result<Vec<User>> {
        self.store.users().map_err(classify)
    }

    pub fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        Ok(self.store.user_with_hash(&email.trim().to_lowercase()).map_err(classify)?.map(|(u, _)| u))
    }

    pub fn set_password(&mut self, user: UserId, password: &str) -> Result<()> {
        check_password(password)?;
        let hash = hash_password(password)?;
        self.store.set_password_hash(user, &hash).map_err(classify)
    }

    /// Every business the user belongs to, by name: an agency's list of clients.
    pub fn memberships(&self, user: UserId) -> Result<Vec<Membership>> {
        self.store.memberships(user).map_err(classify)
    }

    pub fn role(&self, user: UserId, business: BusinessId) -> Result<Option<Role>> {
        self.store.role(user, business).map_err(classify)
    }

    pub fn members(&self, business: BusinessId) -> Result<Vec<(User, Role)>> {
        self.store.members(business).map_err(classify)
    }

    /// Adds the user to the business or changes their role; the last owner cannot step down.
    pub fn set_member(&mut self, business: BusinessId, user: UserId, role: Role) -> Result<()> {
        self.store.set_member(business, user, role).map_err(classify)
    }

    pub fn remove_member(&mut self, business: BusinessId, user: UserId) -> Result<()> {
        self.store.remove_member(business, user).map_err(classify)
    }

    /// Creates a business whose owner is `owner`.
    pub fn create_business_owned(&mut self, owner: UserId, name: &str, currency: &str, timezone: &str) -> Result<Business> {
        let name = business_name(name)?;
        crate::dashboard::check_timezone(timezone)?;
        let currency = Currency::parse(currency)
            .ok_or_else(|| AppError::Invalid(format!("currency: {currency:?} is not a three-letter ISO 4217 code")))?;
        self.store.create_business_owned(owner, name, currency, timezone).map_err(classify)
    }

    pub fn rename_business(&mut self, business: BusinessId, name: &str) -> Result<Business> {
        let name = business_name(name)?;
        self.store.rename_business(business, name).map_err(classify)
    }

    /// Makes `user` owner of every business that has no owner yet: how the first account adopts
    /// businesses created before accounts existed (the demo, imports from the CLI).
    pub fn adopt_unowned_businesses(&mut self, user: UserId) -> Result<Vec<Business>> {
        let mut adopted = Vec::new();
        for business in self.businesses()? {
            if !self.members(business.id)?.iter().any(|(_, r)| *r == Role::Owner) {
                self.set_member(business.id, user, Role::Owner)?;
                adopted.push(business);
            }
        }
        Ok(adopted)
    }

    pub fn create_session(&mut self, user: UserId, now: Timestamp, ttl_ms: i64) -> Result<NewSession> {
        let token = random_token(43);
        let csrf = random_token(43);
        let expires = Timestamp(now.0.saturating_add(ttl_ms));
        self.store.insert_session(&token_hash(&token), user, &csrf, now, expires).map_err(classify)?;
        Ok(NewSession { token, csrf, expires })
    }

    /// The session for a cookie's token, if it exists and has not expired.
    pub fn session(&self, token: &str, now: Timestamp) -> Result<Option<Session>> {
        Ok(self
            .store
            .session(&token_hash(token), now)
            .map_err(classify)?
            .map(|s| Session { user: s.user, csrf: s.csrf, expires: s.expires }))
    }

    pub fn end_session(&mut self, token: &str) -> Result<()> {
        self.store.delete_session(&token_hash(token)).map_err(classify)
    }

    pub fn delete_expired_sessions(&mut self, now: Timestamp) -> Result<u64> {
        self.store.delete_expired_sessions(now).map_err(classify)
    }

    /// A new invitation to `business`; returns the token for the link (shown once).
    pub fn create_invitation(
        &mut self,
        business: BusinessId,
        role: Role,
        email: Option<&str>,
        invited_by: UserId,
        now: Timestamp,
        ttl_ms: i64,
    ) -> Result<String> {
        let email = email.map(str::trim).filter(|e| !e.is_empty()).map(normalise_email).transpose()?;
        let token = random_token(43);
        let invitation = NewInvitation {
            business,
            role,
            email: email.as_deref(),
            invited_by,
            now,
            expires: Timestamp(now.0.saturating_add(ttl_ms)),
        };
        self.store.insert_invitation(&token_hash(&token), &invitation).map_err(classify)?;
        Ok(token)
    }

    /// The invitation behind a link, if it can still be accepted.
    pub fn invitation(&self, token: &str, now: Timestamp) -> Result<Option<Invitation>> {
        Ok(self
            .store
            .invitation(&token_hash(token))
            .map_err(classify)?
            .filter(|i| i.accepted.is_none() && i.expires > now))
    }

    /// Joins `user` to the invitation's business. An invitation made out to an email can only be
    /// accepted by the user with that email.
    pub fn accept_invitation(&mut self, token: &str, user: UserId, now: Timestamp) -> Result<Membership> {
        let invitation = self
            .invitation(token, now)?
            .ok_or_else(|| AppError::NotFound("the invitation does not exist, was used already or has expired".into()))?;
        if let Some(email) = &invitation.email {
            let accepting = self.user(user)?.ok_or_else(|| AppError::NotFound(format!("user {user} does not exist")))?;
            if &accepting.email != email {
                return Err(AppError::Forbidden(format!("this invitation is for {email}; sign in with that address to accept it")));
            }
        }
        self.store.accept_invitation(&token_hash(token), user, now).map_err(classify)
    }

    /// A new API key for `user`; the key itself is returned once, the store keeps its hash.
    pub fn create_api_key(&mut self, user: UserId, name: &str, now: Timestamp) -> Result<(ApiKeyInfo, String)> {
        let name = name.trim();
        if name.is_empty() || name.len() > 100 {
            return Err(AppError::Invalid("name: between 1 and 100 characters".into()));
        }
        let key = format!("tm_{}", random_token(40));
        let info = self.store.insert_api_key(user, name, &key[..8], &token_hash(&key), now).map_err(classify)?;
        Ok((info, key))
    }

    pub fn api_keys(&self, user: UserId) -> Result<Vec<ApiKeyInfo>> {
        self.store.api_keys(user).map_err(classify)
    }

    pub fn revoke_api_key(&mut self, user: UserId, id: i64, now: Timestamp) -> Result<()> {
        self.store.revoke_api_key(user, id, now).map_err(classify)
    }

    /// The user a script's API key belongs to; None for an unknown or revoked key.
    pub fn user_for_api_key(&self, key: &str) -> Result<Option<User>> {
        Ok(self
            .store
            .api_key_by_hash(&token_hash(key))
            .map_err(classify)?
            .filter(|(info, _)| info.revoked.is_none())
            .map(|(_, user)| user))
    }

    pub fn touch_api_key(&mut self, key: &str, now: Timestamp) -> Result<()> {
        self.store.touch_api_key(&token_hash(key), now).map_err(classify)
    }
}

fn business_name(name: &str) -> Result<&str> {
    let name = name.trim();
    if name.is_empty() || name.len() > 200 {
        return Err(AppError::Invalid("name: a business name has between 1 and 200 characters".into()));
    }
    Ok(name)
}

/// A fixed Argon2id hash of a password nobody has, verified for unknown emails.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password("no account has this password").unwrap_or_default())
}
