//! The SQLite implementation of the accounts traits (see `crate::accounts`).

use crate::{Result, SqliteStore, StoreError};
use rusqlite::{OptionalExtension, Row, params};
use trailmap_model::{ApiKeyInfo, Business, BusinessId, Currency, Invitation, Membership, Role, Timestamp, User, UserId};
use crate::*;


const USER_COLUMNS: &str = "users.id, users.email, users.name, users.created_at";

fn user_row(r: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User { id: UserId(r.get(0)?), email: r.get(1)?, name: r.get(2)?, created: Timestamp(r.get(3)?) })
}

fn role(text: &str) -> Result<Role> {
    Role::parse(text).ok_or_else(|| StoreError::Corrupt(format!("unknown role {text:?} in memberships")))
}

const API_KEY_COLUMNS: &str = "api_keys.id, api_keys.user, api_keys.name, api_keys.prefix, api_keys.created_at, api_keys.last_used, api_keys.revoked_at";

fn api_key_row(r: &Row<'_>) -> rusqlite::Result<ApiKeyInfo> {
    Ok(ApiKeyInfo {
        id: r.get(0)?,
        user: UserId(r.get(1)?),
        name: r.get(2)?,
        prefix: r.get(3)?,
        created: Timestamp(r.get(4)?),
        last_used: r.get::<_, Option<i64>>(5)?.map(Timestamp),
        revoked: r.get::<_, Option<i64>>(6)?.map(Timestamp),
    })
}

fn is_constraint(error: &rusqlite::Error) -> bool {
    matches!(error, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation)
}


impl AccountStore for SqliteStore {
    fn user_count(&self) -> Result<u64> {
        let n: i64 = self.conn.query_row("SELECT count(*) FROM users", [], |r| r.get(0))?;
        Ok(n as u64)
    }

    fn insert_user(&mut self, email: &str, name: &str, password_hash: &str, now: Timestamp) -> Result<User> {
        self.conn
            .execute(
                "INSERT INTO users (email, name, password_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![email, name, password_hash, now.0],
            )
            .map_err(|e| if is_constraint(&e) { StoreError::Conflict(format!("a user with email {email} exists already")) } else { e.into() })?;
        Ok(User { id: UserId(self.conn.last_insert_rowid()), email: email.to_string(), name: name.to_string(), created: now })
    }

    fn user(&self, id: UserId) -> Result<Option<User>> {
        Ok(self.conn.query_row(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1"), [id.0], user_row).optional()?)
    }

    fn users(&self) -> Result<Vec<User>> {
        let mut stmt = self.conn.prepare(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY id"))?;
        let rows = stmt.query_map([], user_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    fn user_with_hash(&self, email: &str) -> Result<Option<(User, String)>> {
        Ok(self
            .conn
            .query_row(&format!("SELECT {USER_COLUMNS}, users.password_hash FROM users WHERE email = ?1"), [email], |r| {
                Ok((user_row(r)?, r.get(4)?))
            })
            .optional()?)
    }

    fn set_password_hash(&mut self, user: UserId, password_hash: &str) -> Result<()> {
        let changed = self.conn.execute("UPDATE users SET password_hash = ?2 WHERE id = ?1", params![user.0, password_hash])?;
        if changed == 0 {
            return Err(StoreError::NotFound { what: "user", id: user.0 });
        }
        Ok(())
    }

    fn memberships(&self, user: UserId) -> Result<Vec<Membership>> {
        let mut stmt = self.conn.prepare(
            "SELECT b.id, b.name, b.currency, b.timezone, b.decimal_mark, m.role FROM memberships m JOIN businesses b ON b.id = m.business
             WHERE m.user = ?1 ORDER BY b.name COLLATE NOCASE, b.id",
        )?;
        let rows = stmt
            .query_map([user.0], |r| Ok(((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?), r.get::<_, String>(5)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(|(b, r)| Ok(Membership { business: crate::rows::to_business(b)?, role: role(&r)? }))
            .collect()
    }

    fn role(&self, user: UserId, business: BusinessId) -> Result<Option<Role>> {
        let text: Option<String> = self
            .conn
            .query_row("SELECT role FROM memberships WHERE user = ?1 AND business = ?2", [user.0, business.0], |r| r.get(0))
            .optional()?;
        text.map(|t| role(&t)).transpose()
    }

    fn members(&self, business: BusinessId) -> Result<Vec<(User, Role)>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {USER_COLUMNS}, m.role FROM memberships m JOIN users ON users.id = m.user WHERE m.business = ?1 ORDER BY users.name, users.id"
        ))?;
        let rows = stmt
            .query_map([business.0], |r| Ok((user_row(r)?, r.get::<_, String>(4)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter().map(|(u, r)| Ok((u, role(&r)?))).collect()
    }

    fn set_member(&mut self, business: BusinessId, user: UserId, new_role: Role) -> Result<()> {
        let tx = self.conn.transaction()?;
        let current: Option<String> =
            tx.query_row("SELECT role FROM memberships WHERE user = ?1 AND business = ?2", [user.0, business.0], |r| r.get(0)).optional()?;
        if current.as_deref() == Some("owner") && new_role != Role::Owner && owners(&tx, business)? <= 1 {
            return Err(StoreError::Conflict("the business needs at least one owner; make someone else owner first".into()));
        }
        tx.execute(
            "INSERT INTO memberships (user, business, role) VALUES (?1, ?2, ?3) ON CONFLICT (user, business) DO UPDATE SET role = excluded.role",
            params![user.0, business.0, new_role.as_str()],
        )
        .map_err(|e| if is_constraint(&e) { StoreError::NotFound { what: "user or business", id: user.0 } } else { e.into() })?;
        tx.commit()?;
        Ok(())
    }

    fn remove_member(&mut self, business: BusinessId, user: UserId) -> Result<()> {
        let tx = self.conn.transaction()?;
        let current: Option<String> =
            tx.query_row("SELECT role FROM memberships WHERE user = ?1 AND business = ?2", [user.0, business.0], |r| r.get(0)).optional()?;
        match current.as_deref() {
            None => return Err(StoreError::NotFound { what: "member", id: user.0 }),
            Some("owner") if owners(&tx, business)? <= 1 => {
                return Err(StoreError::Conflict("the business's last owner cannot be removed".into()));
            }
            Some(_) => {}
        }
        tx.execute("DELETE FROM memberships WHERE user = ?1 AND business = ?2", [user.0, business.0])?;
        tx.commit()?;
        Ok(())
    }

    fn create_business_owned(&mut self, owner: UserId, name: &str, currency: Currency, timezone: &str) -> Result<Business> {
        let mut created = None;
        crate::Store::write::<StoreError>(self, &mut |w| {
            created = Some(w.create_business(name, currency, timezone)?.0);
            Ok(())
        })
        .map_err(|e| match e {
            StoreError::Invalid(m) if m.contains("exists") => StoreError::Conflict(m),
            other => other,
        })?;
        let business = created.ok_or_else(|| StoreError::Invalid("the business was not created".into()))?;
        // A separate small transaction: if it failed, the business would exist without an owner,
        // which the server's setup page repairs (the first owner adopts every business).
        self.set_member(business.id, owner, Role::Owner)?;
        Ok(business)
    }

    fn rename_business(&mut self, business: BusinessId, name: &str) -> Result<Business> {
        let changed = self
            .conn
            .execute("UPDATE businesses SET name = ?2 WHERE id = ?1", params![business.0, name])
            .map_err(|e| if is_constraint(&e) { StoreError::Conflict(format!("a business named {name:?} exists already")) } else { e.into() })?;
        if changed == 0 {
            return Err(StoreError::NotFound { what: "business", id: business.0 });
        }
        crate::Store::business(self, business)
    }

    fn insert_session(&mut self, token_hash: &str, user: UserId, csrf: &str, now: Timestamp, expires: Timestamp) -> Result<()> {
        self.conn.execute(
            "INSERT INTO sessions (token_hash, user, csrf, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![token_hash, user.0, csrf, now.0, expires.0],
        )?;
        Ok(())
    }

    fn session(&self, token_hash: &str, now: Timestamp) -> Result<Option<StoredSession>> {
        Ok(self
            .conn
            .query_row(
                &format!(
                    "SELECT {USER_COLUMNS}, s.csrf, s.expires_at FROM sessions s JOIN users ON users.id = s.user
                     WHERE s.token_hash = ?1 AND s.expires_at > ?2"
                ),
                params![token_hash, now.0],
                |r| Ok(StoredSession { user: user_row(r)?, csrf: r.get(4)?, expires: Timestamp(r.get(5)?) }),
            )
            .optional()?)
    }

    fn delete_session(&mut self, token_hash: &str) -> Result<()> {
        self.conn.execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash])?;
        Ok(())
    }

    fn delete_expired_sessions(&mut self, now: Timestamp) -> Result<u64> {
        Ok(self.conn.execute("DELETE FROM sessions WHERE expires_at <= ?1", [now.0])? as u64)
    }

    fn insert_invitation(&mut self, token_hash: &str, i: &NewInvitation<'_>) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO invitations (token_hash, business, role, email, invited_by, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![token_hash, i.business.0, i.role.as_str(), i.email, i.invited_by.0, i.now.0, i.expires.0],
            )
            .map_err(|e| if is_constraint(&e) { StoreError::NotFound { what: "business or user", id: i.business.0 } } else { e.into() })?;
        Ok(())
    }

    fn invitation(&self, token_hash: &str) -> Result<Option<Invitation>> {
        let row = self
            .conn
            .query_row(
                "SELECT business, role, email, invited_by, expires_at, accepted_at FROM invitations WHERE token_hash = ?1",
                [token_hash],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, Option<String>>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, i64>(4)?,
                        r.get::<_, Option<i64>>(5)?,
                    ))
                },
            )
            .optional()?;
        let Some((business, r, email, invited_by, expires, accepted)) = row else { return Ok(None) };
        Ok(Some(Invitation {
            business: crate::Store::business(self, BusinessId(business))?,
            role: role(&r)?,
            email,
            invited_by: UserId(invited_by),
            expires: Timestamp(expires),
            accepted: accepted.map(Timestamp),
        }))
    }

    fn accept_invitation(&mut self, token_hash: &str, user: UserId, now: Timestamp) -> Result<Membership> {
        let invitation = self.invitation(token_hash)?.ok_or(StoreError::NotFound { what: "invitation", id: 0 })?;
        let tx = self.conn.transaction()?;
        let accepted = tx.execute(
            "UPDATE invitations SET accepted_at = ?2, accepted_by = ?3 WHERE token_hash = ?1 AND accepted_at IS NULL AND expires_at > ?2",
            params![token_hash, now.0, user.0],
        )?;
        if accepted == 0 {
            return Err(StoreError::Conflict("the invitation was used already or has expired".into()));
        }
        let current: Option<String> = tx
            .query_row("SELECT role FROM memberships WHERE user = ?1 AND business = ?2", [user.0, invitation.business.id.0], |r| r.get(0))
            .optional()?;
        // Role orders Owner < Editor < Viewer, so the smaller one is the higher role.
        let new_role = match current.as_deref().map(role).transpose()? {
            Some(existing) => existing.min(invitation.role),
            None => invitation.role,
        };
        tx.execute(
            "INSERT INTO memberships (user, business, role) VALUES (?1, ?2, ?3) ON CONFLICT (user, business) DO UPDATE SET role = excluded.role",
            params![user.0, invitation.business.id.0, new_role.as_str()],
        )?;
        tx.commit()?;
        Ok(Membership { business: invitation.business, role: new_role })
    }

    fn insert_api_key(&mut self, user: UserId, name: &str, prefix: &str, key_hash: &str, now: Timestamp) -> Result<ApiKeyInfo> {
        self.conn
            .execute(
                "INSERT INTO api_keys (user, name, prefix, key_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![user.0, name, prefix, key_hash, now.0],
            )
            .map_err(|e| if is_constraint(&e) { StoreError::NotFound { what: "user", id: user.0 } } else { e.into() })?;
        Ok(ApiKeyInfo {
            id: self.conn.last_insert_rowid(),
            user,
            name: name.to_string(),
            prefix: prefix.to_string(),
            created: now,
            last_used: None,
            revoked: None,
        })
    }

    fn api_keys(&self, user: UserId) -> Result<Vec<ApiKeyInfo>> {
        let mut stmt = self.conn.prepare(&format!("SELECT {API_KEY_COLUMNS} FROM api_keys WHERE user = ?1 ORDER BY id"))?;
        let rows = stmt.query_map([user.0], api_key_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    fn api_key_by_hash(&self, key_hash: &str) -> Result<Option<(ApiKeyInfo, User)>> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {API_KEY_COLUMNS}, {USER_COLUMNS} FROM api_keys JOIN users ON users.id = api_keys.user WHERE key_hash = ?1"),
                [key_hash],
                |r| {
                    let key = api_key_row(r)?;
                    let user = User { id: UserId(r.get(7)?), email: r.get(8)?, name: r.get(9)?, created: Timestamp(r.get(10)?) };
                    Ok((key, user))
                },
            )
            .optional()?)
    }

    fn revoke_api_key(&mut self, user: UserId, id: i64, now: Timestamp) -> Result<()> {
        let changed = self.conn.execute(
            "UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?3) WHERE id = ?1 AND user = ?2",
            params![id, user.0, now.0],
        )?;
        if changed == 0 {
            return Err(StoreError::NotFound { what: "API key", id });
        }
        Ok(())
    }

    fn touch_api_key(&mut self, key_hash: &str, now: Timestamp) -> Result<()> {
        self.conn.execute("UPDATE api_keys SET last_used = ?2 WHERE key_hash = ?1", params![key_hash, now.0])?;
        Ok(())
    }

    fn sessions_of(&self, user: UserId, now: Timestamp) -> Result<Vec<SessionInfo>> {
        let mut stmt = self.conn.prepare(
            "SELECT substr(token_hash, 1, ?3), created_at, expires_at FROM sessions WHERE user = ?1 AND expires_at > ?2 ORDER BY created_at DESC",
        )?;
        let rows = stmt.query_map(params![user.0, now.0, SESSION_ID_CHARS as i64], |r| {
            Ok(SessionInfo { id: r.get(0)?, created_at: Timestamp(r.get(1)?), expires_at: Timestamp(r.get(2)?) })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn delete_session_by_id(&mut self, user: UserId, id: &str) -> Result<bool> {
        if id.len() != SESSION_ID_CHARS || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(false);
        }
        let deleted = self
            .conn
            .execute("DELETE FROM sessions WHERE user = ?1 AND substr(token_hash, 1, ?3) = ?2", params![user.0, id, SESSION_ID_CHARS as i64])?;
        Ok(deleted > 0)
    }

    fn delete_sessions_except(&mut self, user: UserId, keep: Option<&str>) -> Result<u64> {
        Ok(self.conn.execute("DELETE FROM sessions WHERE user = ?1 AND token_hash != coalesce(?2, '')", params![user.0, keep])? as u64)
    }

    fn insert_password_reset(&mut self, token_hash: &str, user: UserId, now: Timestamp, expires: Timestamp) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO password_resets (token_hash, user, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
                params![token_hash, user.0, now.0, expires.0],
            )
            .map_err(|e| if is_constraint(&e) { StoreError::NotFound { what: "user", id: user.0 } } else { e.into() })?;
        Ok(())
    }

    fn password_reset(&self, token_hash: &str, now: Timestamp) -> Result<Option<User>> {
        Ok(self
            .conn
            .query_row(
                &format!(
                    "SELECT {USER_COLUMNS} FROM password_resets p JOIN users ON users.id = p.user
                     WHERE p.token_hash = ?1 AND p.used_at IS NULL AND p.expires_at > ?2"
                ),
                params![token_hash, now.0],
                user_row,
            )
            .optional()?)
    }

    fn use_password_reset(&mut self, token_hash: &str, password_hash: &str, now: Timestamp) -> Result<User> {
        let tx = self.conn.transaction()?;
        let user = tx
            .query_row(
                &format!(
                    "SELECT {USER_COLUMNS} FROM password_resets p JOIN users ON users.id = p.user
                     WHERE p.token_hash = ?1 AND p.used_at IS NULL AND p.expires_at > ?2"
                ),
                params![token_hash, now.0],
                user_row,
            )
            .optional()?
            .ok_or(StoreError::NotFound { what: "password reset", id: 0 })?;
        tx.execute("UPDATE users SET password_hash = ?2 WHERE id = ?1", params![user.id.0, password_hash])?;
        tx.execute("UPDATE password_resets SET used_at = ?2 WHERE token_hash = ?1", params![token_hash, now.0])?;
        tx.execute("DELETE FROM sessions WHERE user = ?1", [user.id.0])?;
        tx.commit()?;
        Ok(user)
    }
}

fn owners(conn: &rusqlite::Connection, business: BusinessId) -> Result<i64> {
    Ok(conn.query_row("SELECT count(*) FROM memberships WHERE business = ?1 AND role = 'owner'", [business.0], |r| r.get(0))?)
}
