//! The SQLite implementation of the maps traits (see `crate::maps`).

use crate::rows::parse_json;
use crate::{MapVersion, Result, SqliteStore, StoreError};
use rusqlite::{OptionalExtension, Row, params};
use trailmap_model::{BusinessId, JourneyMap, MapId, Timestamp};
use crate::*;


const VERSION_COLUMNS: &str = "v.version, v.author, v.created_at, v.doc, m.business, m.id";

fn version_row(r: &Row<'_>) -> rusqlite::Result<(u32, String, i64, String, i64, i64)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
}

/// Reads a stored version; the map's id and business come from its row, never from the document.
fn to_version((version, author, at, doc, business, id): (u32, String, i64, String, i64, i64)) -> Result<MapVersion> {
    let map: JourneyMap = parse_json(&doc, &format!("journey map {id} version {version}"))?;
    Ok(MapVersion {
        version,
        author,
        created_at: Timestamp(at),
        map: JourneyMap { id: MapId(id), business: BusinessId(business), ..map },
    })
}

const LINK_COLUMNS: &str = "l.token_hash, l.map, m.business, l.password_hash, l.expires_at, l.created_by, l.created_at, l.frame_ancestors";

fn link_row(r: &Row<'_>) -> rusqlite::Result<ShareLink> {
    Ok(ShareLink {
        token_hash: r.get(0)?,
        map: MapId(r.get(1)?),
        business: BusinessId(r.get(2)?),
        password_hash: r.get(3)?,
        expires_at: r.get::<_, Option<i64>>(4)?.map(Timestamp),
        created_by: r.get(5)?,
        created_at: Timestamp(r.get(6)?),
        frame_ancestors: r.get::<_, Option<String>>(7)?.map(|s| s.split_whitespace().map(str::to_string).collect()).unwrap_or_default(),
    })
}


impl MapStore for SqliteStore {
    fn map(&self, id: MapId) -> Result<Option<MapVersion>> {
        let row = self
            .conn
            .prepare_cached(&format!(
                "SELECT {VERSION_COLUMNS} FROM map_versions v JOIN journey_maps m ON m.id = v.map
                 WHERE v.map = ?1 ORDER BY v.version DESC LIMIT 1"
            ))?
            .query_row([id.0], version_row)
            .optional()?;
        row.map(to_version).transpose()
    }

    fn map_version(&self, id: MapId, version: u32) -> Result<Option<MapVersion>> {
        let row = self
            .conn
            .prepare_cached(&format!(
                "SELECT {VERSION_COLUMNS} FROM map_versions v JOIN journey_maps m ON m.id = v.map
                 WHERE v.map = ?1 AND v.version = ?2"
            ))?
            .query_row(params![id.0, version], version_row)
            .optional()?;
        row.map(to_version).transpose()
    }

    fn delete_map(&mut self, id: MapId) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM map_share_links WHERE map = ?1", [id.0])?;
        tx.execute("DELETE FROM map_comments WHERE map = ?1", [id.0])?;
        tx.execute("DELETE FROM map_versions WHERE map = ?1", [id.0])?;
        if tx.execute("DELETE FROM journey_maps WHERE id = ?1", [id.0])? == 0 {
            return Err(StoreError::NotFound { what: "journey map", id: id.0 });
        }
        tx.commit()?;
        Ok(())
    }

    fn insert_share_link(&mut self, link: &ShareLink) -> Result<()> {
        let exists: Option<i64> =
            self.conn.query_row("SELECT id FROM journey_maps WHERE id = ?1", [link.map.0], |r| r.get(0)).optional()?;
        if exists.is_none() {
            return Err(StoreError::NotFound { what: "journey map", id: link.map.0 });
        }
        self.conn
            .execute(
                "INSERT INTO map_share_links (token_hash, map, password_hash, expires_at, created_by, created_at, frame_ancestors)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    link.token_hash,
                    link.map.0,
                    link.password_hash,
                    link.expires_at.map(|t| t.0),
                    link.created_by,
                    link.created_at.0,
                    (!link.frame_ancestors.is_empty()).then(|| link.frame_ancestors.join(" "))
                ],
            )
            .map_err(|e| match e {
                rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
                    StoreError::Conflict("a share link with this token exists already".into())
                }
                other => other.into(),
            })?;
        Ok(())
    }

    fn share_link(&self, token_hash: &str) -> Result<Option<ShareLink>> {
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT {LINK_COLUMNS} FROM map_share_links l JOIN journey_maps m ON m.id = l.map WHERE l.token_hash = ?1"
            ))?
            .query_row([token_hash], link_row)
            .optional()?)
    }

    fn share_links(&self, map: MapId) -> Result<Vec<ShareLink>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {LINK_COLUMNS} FROM map_share_links l JOIN journey_maps m ON m.id = l.map
             WHERE l.map = ?1 ORDER BY l.created_at, l.token_hash"
        ))?;
        let links = stmt.query_map([map.0], link_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(links)
    }

    fn delete_share_link(&mut self, map: MapId, token_hash: &str) -> Result<()> {
        let deleted =
            self.conn.execute("DELETE FROM map_share_links WHERE map = ?1 AND token_hash = ?2", params![map.0, token_hash])?;
        if deleted == 0 {
            return Err(StoreError::NotFound { what: "share link of journey map", id: map.0 });
        }
        Ok(())
    }
    fn set_share_link_frame_ancestors(&mut self, map: MapId, token_hash: &str, origins: &[String]) -> Result<()> {
        let value = (!origins.is_empty()).then(|| origins.join(" "));
        let changed = self.conn.execute(
            "UPDATE map_share_links SET frame_ancestors = ?3 WHERE map = ?1 AND token_hash = ?2",
            params![map.0, token_hash, value],
        )?;
        if changed == 0 {
            return Err(StoreError::NotFound { what: "share link", id: map.0 });
        }
        Ok(())
    }

}
