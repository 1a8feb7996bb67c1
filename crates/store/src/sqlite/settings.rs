//! The SQLite implementation of the settings traits (see `crate::settings`).

use crate::{Result, SqliteStore, StoreError};
use rusqlite::{OptionalExtension, params};
use trailmap_model::{BusinessId, Timestamp};
use crate::*;



impl SettingsStore for SqliteStore {
    fn setting(&self, name: &str) -> Result<Option<String>> {
        Ok(self.conn.prepare_cached("SELECT value FROM settings WHERE name = ?1")?.query_row([name], |r| r.get(0)).optional()?)
    }

    fn set_setting(&mut self, name: &str, value: &str) -> Result<()> {
        self.conn
            .prepare_cached("INSERT INTO settings (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET value = excluded.value")?
            .execute(params![name, value])?;
        Ok(())
    }

    fn checklist_hidden(&self, business: BusinessId) -> Result<Option<Timestamp>> {
        let found: Option<Option<i64>> = self
            .conn
            .prepare_cached("SELECT checklist_hidden_at FROM businesses WHERE id = ?1")?
            .query_row([business.0], |r| r.get(0))
            .optional()?;
        match found {
            None => Err(StoreError::NotFound { what: "business", id: business.0 }),
            Some(at) => Ok(at.map(Timestamp)),
        }
    }

    fn set_checklist_hidden(&mut self, business: BusinessId, at: Option<Timestamp>) -> Result<()> {
        let changed = self
            .conn
            .prepare_cached("UPDATE businesses SET checklist_hidden_at = ?2 WHERE id = ?1")?
            .execute(params![business.0, at.map(|t| t.0)])?;
        if changed == 0 {
            return Err(StoreError::NotFound { what: "business", id: business.0 });
        }
        Ok(())
    }

    fn import_counts(&self, business: BusinessId) -> Result<Vec<(String, u64)>> {
        let mut stmt = self.conn.prepare_cached("SELECT kind, count(*) FROM imports WHERE business = ?1 GROUP BY kind ORDER BY kind")?;
        let rows = stmt.query_map([business.0], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
