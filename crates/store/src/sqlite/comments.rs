//! The SQLite implementation of the comments traits (see `crate::comments`).

use crate::{Result, SqliteStore, StoreError};
use rusqlite::{OptionalExtension, Row, params};
use trailmap_model::{BusinessId, MapId, Timestamp, UserId};
use crate::*;


const COMMENT_COLUMNS: &str =
    "c.id, m.business, c.map, c.card, c.author, u.name, u.email, c.text, c.created_at, c.edited_at";
const COMMENT_FROM: &str = "map_comments c JOIN journey_maps m ON m.id = c.map JOIN users u ON u.id = c.author";

fn comment_row(r: &Row<'_>) -> rusqlite::Result<StoredComment> {
    Ok(StoredComment {
        id: r.get(0)?,
        business: BusinessId(r.get(1)?),
        map: MapId(r.get(2)?),
        card: r.get(3)?,
        author: UserId(r.get(4)?),
        author_name: r.get(5)?,
        author_email: r.get(6)?,
        text: r.get(7)?,
        created_at: Timestamp(r.get(8)?),
        edited_at: r.get::<_, Option<i64>>(9)?.map(Timestamp),
    })
}


impl CommentStore for SqliteStore {
    fn comments(&self, map: MapId, card: Option<u32>) -> Result<Vec<StoredComment>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {COMMENT_COLUMNS} FROM {COMMENT_FROM} WHERE c.map = ?1 AND (?2 IS NULL OR c.card = ?2) ORDER BY c.card, c.id"
        ))?;
        let rows = stmt.query_map(params![map.0, card], comment_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn comment(&self, id: i64) -> Result<Option<StoredComment>> {
        Ok(self
            .conn
            .prepare_cached(&format!("SELECT {COMMENT_COLUMNS} FROM {COMMENT_FROM} WHERE c.id = ?1"))?
            .query_row([id], comment_row)
            .optional()?)
    }

    fn insert_comment(&mut self, map: MapId, card: u32, author: UserId, text: &str, now: Timestamp) -> Result<StoredComment> {
        let exists: Option<i64> = self.conn.query_row("SELECT id FROM journey_maps WHERE id = ?1", [map.0], |r| r.get(0)).optional()?;
        if exists.is_none() {
            return Err(StoreError::NotFound { what: "journey map", id: map.0 });
        }
        self.conn
            .prepare_cached("INSERT INTO map_comments (map, card, author, text, created_at) VALUES (?1, ?2, ?3, ?4, ?5)")?
            .execute(params![map.0, card, author.0, text, now.0])?;
        let id = self.conn.last_insert_rowid();
        self.comment(id)?.ok_or(StoreError::NotFound { what: "comment", id })
    }

    fn update_comment(&mut self, id: i64, text: &str, now: Timestamp) -> Result<StoredComment> {
        let changed =
            self.conn.prepare_cached("UPDATE map_comments SET text = ?2, edited_at = ?3 WHERE id = ?1")?.execute(params![id, text, now.0])?;
        if changed == 0 {
            return Err(StoreError::NotFound { what: "comment", id });
        }
        self.comment(id)?.ok_or(StoreError::NotFound { what: "comment", id })
    }

    fn delete_comment(&mut self, id: i64) -> Result<()> {
        if self.conn.prepare_cached("DELETE FROM map_comments WHERE id = ?1")?.execute([id])? == 0 {
            return Err(StoreError::NotFound { what: "comment", id });
        }
        Ok(())
    }
}
