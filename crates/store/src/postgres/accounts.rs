//! Accounts on PostgreSQL ([`AccountStore`]): users, memberships, sessions, invitations, API
//! keys and password resets, each call one small transaction of its own, with the same rules and
//! messages as the SQLite store (accounts.rs).

use super::PgStore;
use super::pool::{is_foreign_key_violation, is_unique_violation};
use super::reads::business_row;
use crate::{AccountStore, NewInvitation, Result, SESSION_ID_CHARS, SessionInfo, Store, StoreError, StoredSession};
use postgres::Row;
use trailmap_model::{ApiKeyInfo, Business, BusinessId, Currency, Invitation, Membership, Role, Timestamp, User, UserId};

const USER_COLUMNS: &str = "users.id, users.email, users.name, users.created_at";

fn user_row(r: &Row, at: usize) -> User {
    User { id: UserId(r.get(at)), email: r.get(at + 1), name: r.get(at + 2), created: Timestamp(r.get(at + 3)) }
}

fn role(text: &str) -> Result<Role> {
    Role::parse(text).ok_or_else(|| StoreError::Corrupt(format!("unknown role {text:?} in memberships")))
}

const API_KEY_COLUMNS: &str =
    "api_keys.id, api_keys.user_id, api_keys.name, api_keys.prefix, api_keys.created_at, api_keys.last_used, api_keys.revoked_at";

fn api_key_row(r: &Row) -> ApiKeyInfo {
    ApiKeyInfo {
        id: r.get(0),
        user: UserId(r.get(1)),
        name: r.get(2),
        prefix: r.get(3),
        created: Timestamp(r.get(4)),
        last_used: r.get::<_, Option<i64>>(5).map(Timestamp),
        revoked: r.get::<_, Option<i64>>(6).map(Timestamp),
    }
}

/// A failed insert as the store's error: `constraint` for a broken foreign key or uniqueness
/// rule, the database error otherwise.
fn refused(e: postgres::Error, constraint: impl FnOnce() -> StoreError) -> StoreError {
    if is_unique_violation(&e) || is_foreign_key_violation(&e) { constraint() } else { e.into() }
}

fn owners(tx: &mut postgres::Transaction<'_>, business: BusinessId) -> Result<i64> {
    Ok(tx.query_one("SELECT count(*) FROM memberships WHERE business = $1 AND role = 'owner'", &[&business.0])?.get(0))
}

impl AccountStore for PgStore {
    fn user_count(&self) -> Result<u64> {
        Ok(self.query_one("SELECT count(*) FROM users", &[])?.get::<_, i64>(0) as u64)
    }

    fn insert_user(&mut self, email: &str, name: &str, password_hash: &str, now: Timestamp) -> Result<User> {
        let row = self
            .pool
            .get()?
            .query_one(
                "INSERT INTO users (email, name, password_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
                &[&email, &name, &password_hash, &now.0],
            )
            .map_err(|e| refused(e, || StoreError::Conflict(format!("a user with email {email} exists already"))))?;
        Ok(User { id: UserId(row.get(0)), email: email.to_string(), name: name.to_string(), created: now })
    }

    fn user(&self, id: UserId) -> Result<Option<User>> {
        Ok(self.query_opt(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"), &[&id.0])?.map(|r| user_row(&r, 0)))
    }

    fn users(&self) -> Result<Vec<User>> {
        Ok(self.query(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY id"), &[])?.iter().map(|r| user_row(r, 0)).collect())
    }

    fn user_with_hash(&self, email: &str) -> Result<Option<(User, String)>> {
        Ok(self
            .query_opt(&format!("SELECT {USER_COLUMNS}, users.password_hash FROM users WHERE email = $1"), &[&email])?
            .map(|r| (user_row(&r, 0), r.get(4))))
    }

    fn set_password_hash(&mut self, user: UserId, password_hash: &str) -> Result<()> {
        if self.execute("UPDATE users SET password_hash = $2 WHERE id = $1", &[&user.0, &password_hash])? == 0 {
            return Err(StoreError::NotFound { what: "user", id: user.0 });
        }
        Ok(())
    }

    fn memberships(&self, user: UserId) -> Result<Vec<Membership>> {
        self.query(
            "SELECT b.id, b.name, b.currency, b.timezone, b.decimal_mark, m.role FROM memberships m JOIN businesses b ON b.id = m.business
             WHERE m.user_id = $1 ORDER BY lower(b.name) COLLATE \"C\", b.id",
            &[&user.0],
        )?
        .iter()
        .map(|r| Ok(Membership { business: business_row(r, 0)?, role: role(r.get(5))? }))
        .collect()
    }

    fn role(&self, user: UserId, business: BusinessId) -> Result<Option<Role>> {
        self.query_opt("SELECT role FROM memberships WHERE user_id = $1 AND business = $2", &[&user.0, &business.0])?
            .map(|r| role(r.get(0)))
            .transpose()
    }

    fn members(&self, business: BusinessId) -> Result<Vec<(User, Role)>> {
        self.query(
            &format!(
                "SELECT {USER_COLUMNS}, m.role FROM memberships m JOIN users ON users.id = m.user_id WHERE m.business = $1
                 ORDER BY users.name COLLATE \"C\", users.id"
            ),
            &[&business.0],
        )?
        .iter()
        .map(|r| Ok((user_row(r, 0), role(r.get(4))?)))
        .collect()
    }

    fn set_member(&mut self, business: BusinessId, user: UserId, new_role: Role) -> Result<()> {
        let mut conn = self.pool.get()?;
        let mut tx = conn.transaction()?;
        // The membership's row is locked, so two owners demoting each other at once cannot both
        // pass the last-owner check.
        tx.execute("SELECT 1 FROM memberships WHERE business = $1 FOR UPDATE", &[&business.0])?;
        let current: Option<String> =
            tx.query_opt("SELECT role FROM memberships WHERE user_id = $1 AND business = $2", &[&user.0, &business.0])?.map(|r| r.get(0));
        if current.as_deref() == Some("owner") && new_role != Role::Owner && owners(&mut tx, business)? <= 1 {
            return Err(StoreError::Conflict("the business needs at least one owner; make someone else owner first".into()));
        }
        tx.execute(
            "INSERT INTO memberships (user_id, business, role) VALUES ($1, $2, $3) ON CONFLICT (user_id, business) DO UPDATE SET role = excluded.role",
            &[&user.0, &business.0, &new_role.as_str()],
        )
        .map_err(|e| refused(e, || StoreError::NotFound { what: "user or business", id: user.0 }))?;
        tx.commit()?;
        Ok(())
    }

    fn remove_member(&mut self, business: BusinessId, user: UserId) -> Result<()> {
        let mut conn = self.pool.get()?;
        let mut tx = conn.transaction()?;
        tx.execute("SELECT 1 FROM memberships WHERE business = $1 FOR UPDATE", &[&business.0])?;
        let current: Option<String> =
            tx.query_opt("SELECT role FROM memberships WHERE user_id = $1 AND business = $2", &[&user.0, &business.0])?.map(|r| r.get(0));
        match current.as_deref() {
            None => return Err(StoreError::NotFound { what: "member", id: user.0 }),
            Some("owner") if owners(&mut tx, business)? <= 1 => {
                return Err(StoreError::Conflict("the business's last owner cannot be removed".into()));
            }
            Some(_) => {}
        }
        tx.execute("DELETE FROM memberships WHERE user_id = $1 AND business = $2", &[&user.0, &business.0])?;
        tx.commit()?;
        Ok(())
    }

    fn create_business_owned(&mut self, owner: UserId, name: &str, currency: Currency, timezone: &str) -> Result<Business> {
        let mut created = None;
        self.write::<StoreError>(&mut |w| {
            created = Some(w.create_business(name, currency, timezone)?.0);
            Ok(())
        })
        .map_err(|e| match e {
            StoreError::Invalid(m) if m.contains("exists") => StoreError::Conflict(m),
            other => other,
        })?;
        let business = created.ok_or_else(|| StoreError::Invalid("the business was not created".into()))?;
        self.set_member(business.id, owner, Role::Owner)?;
        Ok(business)
    }

    fn rename_business(&mut self, business: BusinessId, name: &str) -> Result<Business> {
        let changed = self
            .pool
            .get()?
            .execute("UPDATE businesses SET name = $2 WHERE id = $1", &[&business.0, &name])
            .map_err(|e| refused(e, || StoreError::Conflict(format!("a business named {name:?} exists already"))))?;
        if changed == 0 {
            return Err(StoreError::NotFound { what: "business", id: business.0 });
        }
        self.business(business)
    }

    fn insert_session(&mut self, token_hash: &str, user: UserId, csrf: &str, now: Timestamp, expires: Timestamp) -> Result<()> {
        self.execute(
            "INSERT INTO sessions (token_hash, user_id, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
            &[&token_hash, &user.0, &csrf, &now.0, &expires.0],
        )?;
        Ok(())
    }

    fn session(&self, token_hash: &str, now: Timestamp) -> Result<Option<StoredSession>> {
        Ok(self
            .query_opt(
                &format!(
                    "SELECT {USER_COLUMNS}, s.csrf, s.expires_at FROM sessions s JOIN users ON users.id = s.user_id
                     WHERE s.token_hash = $1 AND s.expires_at > $2"
                ),
                &[&token_hash, &now.0],
            )?
            .map(|r| StoredSession { user: user_row(&r, 0), csrf: r.get(4), expires: Timestamp(r.get(5)) }))
    }

    fn delete_session(&mut self, token_hash: &str) -> Result<()> {
        self.execute("DELETE FROM sessions WHERE token_hash = $1", &[&token_hash])?;
        Ok(())
    }

    fn delete_expired_sessions(&mut self, now: Timestamp) -> Result<u64> {
        self.execute("DELETE FROM sessions WHERE expires_at <= $1", &[&now.0])
    }

    fn insert_invitation(&mut self, token_hash: &str, i: &NewInvitation<'_>) -> Result<()> {
        self.pool
            .get()?
            .execute(
                "INSERT INTO invitations (token_hash, business, role, email, invited_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[&token_hash, &i.business.0, &i.role.as_str(), &i.email, &i.invited_by.0, &i.now.0, &i.expires.0],
            )
            .map_err(|e| refused(e, || StoreError::NotFound { what: "business or user", id: i.business.0 }))?;
        Ok(())
    }

    fn invitation(&self, token_hash: &str) -> Result<Option<Invitation>> {
        let Some(r) = self.query_opt(
            "SELECT business, role, email, invited_by, expires_at, accepted_at FROM invitations WHERE token_hash = $1",
            &[&token_hash],
        )?
        else {
            return Ok(None);
        };
        Ok(Some(Invitation {
            business: self.business(BusinessId(r.get(0)))?,
            role: role(r.get(1))?,
            email: r.get(2),
            invited_by: UserId(r.get(3)),
            expires: Timestamp(r.get(4)),
            accepted: r.get::<_, Option<i64>>(5).map(Timestamp),
        }))
    }

    fn accept_invitation(&mut self, token_hash: &str, user: UserId, now: Timestamp) -> Result<Membership> {
        let invitation = self.invitation(token_hash)?.ok_or(StoreError::NotFound { what: "invitation", id: 0 })?;
        let mut conn = self.pool.get()?;
        let mut tx = conn.transaction()?;
        let accepted = tx.execute(
            "UPDATE invitations SET accepted_at = $2, accepted_by = $3 WHERE token_hash = $1 AND accepted_at IS NULL AND expires_at > $2",
            &[&token_hash, &now.0, &user.0],
        )?;
        if accepted == 0 {
            return Err(StoreError::Conflict("the invitation was used already or has expired".into()));
        }
        let current: Option<String> = tx
            .query_opt("SELECT role FROM memberships WHERE user_id = $1 AND business = $2", &[&user.0, &invitation.business.id.0])?
            .map(|r| r.get(0));
        // Role orders Owner < Editor < Viewer, so the smaller one is the higher role.
        let new_role = match current.as_deref().map(role).transpose()? {
            Some(existing) => existing.min(invitation.role),
            None => invitation.role,
        };
        tx.execute(
            "INSERT INTO memberships (user_id, business, role) VALUES ($1, $2, $3) ON CONFLICT (user_id, business) DO UPDATE SET role = excluded.role",
            &[&user.0, &invitation.business.id.0, &new_role.as_str()],
        )?;
        tx.commit()?;
        Ok(Membership { business: invitation.business, role: new_role })
    }

    fn insert_api_key(&mut self, user: UserId, name: &str, prefix: &str, key_hash: &str, now: Timestamp) -> Result<ApiKeyInfo> {
        let row = self
            .pool
            .get()?
            .query_one(
                "INSERT INTO api_keys (user_id, name, prefix, key_hash, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                &[&user.0, &name, &prefix, &key_hash, &now.0],
            )
            .map_err(|e| refused(e, || StoreError::NotFound { what: "user", id: user.0 }))?;
        Ok(ApiKeyInfo { id: row.get(0), user, name: name.to_string(), prefix: prefix.to_string(), created: now, last_used: None, revoked: None })
    }

    fn api_keys(&self, user: UserId) -> Result<Vec<ApiKeyInfo>> {
        Ok(self.query(&format!("SELECT {API_KEY_COLUMNS} FROM api_keys WHERE user_id = $1 ORDER BY id"), &[&user.0])?.iter().map(api_key_row).collect())
    }

    fn api_key_by_hash(&self, key_hash: &str) -> Result<Option<(ApiKeyInfo, User)>> {
        Ok(self
            .query_opt(
                &format!("SELECT {API_KEY_COLUMNS}, {USER_COLUMNS} FROM api_keys JOIN users ON users.id = api_keys.user_id WHERE key_hash = $1"),
                &[&key_hash],
            )?
            .map(|r| (api_key_row(&r), user_row(&r, 7))))
    }

    fn revoke_api_key(&mut self, user: UserId, id: i64, now: Timestamp) -> Result<()> {
        let changed =
            self.execute("UPDATE api_keys SET revoked_at = coalesce(revoked_at, $3) WHERE id = $1 AND user_id = $2", &[&id, &user.0, &now.0])?;
        if changed == 0 {
            return Err(StoreError::NotFound { what: "API key", id });
        }
        Ok(())
    }

    fn touch_api_key(&mut self, key_hash: &str, now: Timestamp) -> Result<()> {
        self.execute("UPDATE api_keys SET last_used = $2 WHERE key_hash = $1", &[&key_hash, &now.0])?;
        Ok(())
    }

    fn sessions_of(&self, user: UserId, now: Timestamp) -> Result<Vec<SessionInfo>> {
        Ok(self
            .query(
                "SELECT substr(token_hash, 1, $3), created_at, expires_at FROM sessions WHERE user_id = $1 AND expires_at > $2 ORDER BY created_at DESC",
                &[&user.0, &now.0, &(SESSION_ID_CHARS as i32)],
            )?
            .iter()
            .map(|r| SessionInfo { id: r.get(0), created_at: Timestamp(r.get(1)), expires_at: Timestamp(r.get(2)) })
            .collect())
    }

    fn delete_session_by_id(&mut self, user: UserId, id: &str) -> Result<bool> {
        if id.len() != SESSION_ID_CHARS || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(false);
        }
        let deleted = self.execute(
            "DELETE FROM sessions WHERE user_id = $1 AND substr(token_hash, 1, $3) = $2",
            &[&user.0, &id, &(SESSION_ID_CHARS as i32)],
        )?;
        Ok(deleted > 0)
    }

    fn delete_sessions_except(&mut self, user: UserId, keep: Option<&str>) -> Result<u64> {
        self.execute("DELETE FROM sessions WHERE user_id = $1 AND token_hash != coalesce($2, '')", &[&user.0, &keep])
    }

    fn insert_password_reset(&mut self, token_hash: &str, user: UserId, now: Timestamp, expires: Timestamp) -> Result<()> {
        self.pool
            .get()?
            .execute(
                "INSERT INTO password_resets (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
                &[&token_hash, &user.0, &now.0, &expires.0],
            )
            .map_err(|e| refused(e, || StoreError::NotFound { what: "user", id: user.0 }))?;
        Ok(())
    }

    fn password_reset(&self, token_hash: &str, now: Timestamp) -> Result<Option<User>> {
        Ok(self
            .query_opt(
                &format!(
                    "SELECT {USER_COLUMNS} FROM password_resets p JOIN users ON users.id = p.user_id
                     WHERE p.token_hash = $1 AND p.used_at IS NULL AND p.expires_at > $2"
                ),
                &[&token_hash, &now.0],
            )?
            .map(|r| user_row(&r, 0)))
    }

    fn use_password_reset(&mut self, token_hash: &str, password_hash: &str, now: Timestamp) -> Result<User> {
        let mut conn = self.pool.get()?;
        let mut tx = conn.transaction()?;
        // FOR UPDATE: a reset used twice at once is used once.
        let user = tx
            .query_opt(
                &format!(
                    "SELECT {USER_COLUMNS} FROM password_resets p JOIN users ON users.id = p.user_id
                     WHERE p.token_hash = $1 AND p.used_at IS NULL AND p.expires_at > $2 FOR UPDATE OF p"
                ),
                &[&token_hash, &now.0],
            )?
            .map(|r| user_row(&r, 0))
            .ok_or(StoreError::NotFound { what: "password reset", id: 0 })?;
        tx.execute("UPDATE users SET password_hash = $2 WHERE id = $1", &[&user.id.0, &password_hash])?;
        tx.execute("UPDATE password_resets SET used_at = $2 WHERE token_hash = $1", &[&token_hash, &now.0])?;
        tx.execute("DELETE FROM sessions WHERE user_id = $1", &[&user.id.0])?;
        tx.commit()?;
        Ok(user)
    }
}
