//! Journey maps, their share links and card comments, and public survey links on PostgreSQL
//! ([`MapStore`], [`CommentStore`], [`SurveyLinkStore`]): each call one small transaction of its
//! own, with the same rules and messages as the SQLite store (maps.rs, comments.rs, surveys.rs).

use super::PgStore;
use super::pool::is_unique_violation;
use crate::rows::parse_json;
use crate::{CommentStore, MapStore, MapVersion, Result, ShareLink, StoreError, StoredComment, SurveyLinkStore};
use postgres::Row;
use trailmap_model::{BusinessId, JourneyMap, MapId, SurveyId, Timestamp, UserId};

const VERSION_COLUMNS: &str = "v.version, v.author, v.created_at, v.doc, m.business, m.id";

/// A stored version; the map's id and business come from its row, never from the document.
fn version_row(r: &Row) -> Result<MapVersion> {
    let (version, id): (i64, i64) = (r.get(0), r.get(5));
    let map: JourneyMap = parse_json(r.get(3), &format!("journey map {id} version {version}"))?;
    Ok(MapVersion {
        version: version as u32,
        author: r.get(1),
        created_at: Timestamp(r.get(2)),
        map: JourneyMap { id: MapId(id), business: BusinessId(r.get(4)), ..map },
    })
}

const LINK_COLUMNS: &str = "l.token_hash, l.map, m.business, l.password_hash, l.expires_at, l.created_by, l.created_at, l.frame_ancestors";

fn link_row(r: &Row) -> ShareLink {
    ShareLink {
        token_hash: r.get(0),
        map: MapId(r.get(1)),
        business: BusinessId(r.get(2)),
        password_hash: r.get(3),
        expires_at: r.get::<_, Option<i64>>(4).map(Timestamp),
        created_by: r.get(5),
        created_at: Timestamp(r.get(6)),
        frame_ancestors: r.get::<_, Option<String>>(7).map(|s| s.split_whitespace().map(str::to_string).collect()).unwrap_or_default(),
    }
}

impl MapStore for PgStore {
    fn map(&self, id: MapId) -> Result<Option<MapVersion>> {
        self.query_opt(
            &format!("SELECT {VERSION_COLUMNS} FROM map_versions v JOIN journey_maps m ON m.id = v.map WHERE v.map = $1 ORDER BY v.version DESC LIMIT 1"),
            &[&id.0],
        )?
        .map(|r| version_row(&r))
        .transpose()
    }

    fn map_version(&self, id: MapId, version: u32) -> Result<Option<MapVersion>> {
        self.query_opt(
            &format!("SELECT {VERSION_COLUMNS} FROM map_versions v JOIN journey_maps m ON m.id = v.map WHERE v.map = $1 AND v.version = $2"),
            &[&id.0, &i64::from(version)],
        )?
        .map(|r| version_row(&r))
        .transpose()
    }

    fn delete_map(&mut self, id: MapId) -> Result<()> {
        let mut conn = self.pool.get()?;
        let mut tx = conn.transaction()?;
        tx.execute("DELETE FROM map_share_links WHERE map = $1", &[&id.0])?;
        tx.execute("DELETE FROM map_comments WHERE map = $1", &[&id.0])?;
        tx.execute("DELETE FROM map_versions WHERE map = $1", &[&id.0])?;
        if tx.execute("DELETE FROM journey_maps WHERE id = $1", &[&id.0])? == 0 {
            return Err(StoreError::NotFound { what: "journey map", id: id.0 });
        }
        tx.commit()?;
        Ok(())
    }

    fn insert_share_link(&mut self, link: &ShareLink) -> Result<()> {
        if self.query_opt("SELECT id FROM journey_maps WHERE id = $1", &[&link.map.0])?.is_none() {
            return Err(StoreError::NotFound { what: "journey map", id: link.map.0 });
        }
        let ancestors = (!link.frame_ancestors.is_empty()).then(|| link.frame_ancestors.join(" "));
        self.pool
            .get()?
            .execute(
                "INSERT INTO map_share_links (token_hash, map, password_hash, expires_at, created_by, created_at, frame_ancestors)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[&link.token_hash, &link.map.0, &link.password_hash, &link.expires_at.map(|t| t.0), &link.created_by, &link.created_at.0, &ancestors],
            )
            .map_err(|e| if is_unique_violation(&e) { StoreError::Conflict("a share link with this token exists already".into()) } else { e.into() })?;
        Ok(())
    }

    fn share_link(&self, token_hash: &str) -> Result<Option<ShareLink>> {
        Ok(self
            .query_opt(&format!("SELECT {LINK_COLUMNS} FROM map_share_links l JOIN journey_maps m ON m.id = l.map WHERE l.token_hash = $1"), &[&token_hash])?
            .map(|r| link_row(&r)))
    }

    fn share_links(&self, map: MapId) -> Result<Vec<ShareLink>> {
        Ok(self
            .query(
                &format!(
                    "SELECT {LINK_COLUMNS} FROM map_share_links l JOIN journey_maps m ON m.id = l.map
                     WHERE l.map = $1 ORDER BY l.created_at, l.token_hash COLLATE \"C\""
                ),
                &[&map.0],
            )?
            .iter()
            .map(link_row)
            .collect())
    }

    fn delete_share_link(&mut self, map: MapId, token_hash: &str) -> Result<()> {
        if self.execute("DELETE FROM map_share_links WHERE map = $1 AND token_hash = $2", &[&map.0, &token_hash])? == 0 {
            return Err(StoreError::NotFound { what: "share link of journey map", id: map.0 });
        }
        Ok(())
    }

    fn set_share_link_frame_ancestors(&mut self, map: MapId, token_hash: &str, origins: &[String]) -> Result<()> {
        let value = (!origins.is_empty()).then(|| origins.join(" "));
        if self.execute("UPDATE map_share_links SET frame_ancestors = $3 WHERE map = $1 AND token_hash = $2", &[&map.0, &token_hash, &value])? == 0 {
            return Err(StoreError::NotFound { what: "share link", id: map.0 });
        }
        Ok(())
    }
}

const COMMENT_COLUMNS: &str = "c.id, m.business, c.map, c.card, c.author, u.name, u.email, c.text, c.created_at, c.edited_at";
const COMMENT_FROM: &str = "map_comments c JOIN journey_maps m ON m.id = c.map JOIN users u ON u.id = c.author";

fn comment_row(r: &Row) -> StoredComment {
    StoredComment {
        id: r.get(0),
        business: BusinessId(r.get(1)),
        map: MapId(r.get(2)),
        card: r.get::<_, i64>(3) as u32,
        author: UserId(r.get(4)),
        author_name: r.get(5),
        author_email: r.get(6),
        text: r.get(7),
        created_at: Timestamp(r.get(8)),
        edited_at: r.get::<_, Option<i64>>(9).map(Timestamp),
    }
}

impl CommentStore for PgStore {
    fn comments(&self, map: MapId, card: Option<u32>) -> Result<Vec<StoredComment>> {
        Ok(self
            .query(
                &format!("SELECT {COMMENT_COLUMNS} FROM {COMMENT_FROM} WHERE c.map = $1 AND ($2::bigint IS NULL OR c.card = $2) ORDER BY c.card, c.id"),
                &[&map.0, &card.map(i64::from)],
            )?
            .iter()
            .map(comment_row)
            .collect())
    }

    fn comment(&self, id: i64) -> Result<Option<StoredComment>> {
        Ok(self.query_opt(&format!("SELECT {COMMENT_COLUMNS} FROM {COMMENT_FROM} WHERE c.id = $1"), &[&id])?.map(|r| comment_row(&r)))
    }

    fn insert_comment(&mut self, map: MapId, card: u32, author: UserId, text: &str, now: Timestamp) -> Result<StoredComment> {
        if self.query_opt("SELECT id FROM journey_maps WHERE id = $1", &[&map.0])?.is_none() {
            return Err(StoreError::NotFound { what: "journey map", id: map.0 });
        }
        let id: i64 = self
            .query_one(
                "INSERT INTO map_comments (map, card, author, text, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                &[&map.0, &i64::from(card), &author.0, &text, &now.0],
            )?
            .get(0);
        self.comment(id)?.ok_or(StoreError::NotFound { what: "comment", id })
    }

    fn update_comment(&mut self, id: i64, text: &str, now: Timestamp) -> Result<StoredComment> {
        if self.execute("UPDATE map_comments SET text = $2, edited_at = $3 WHERE id = $1", &[&id, &text, &now.0])? == 0 {
            return Err(StoreError::NotFound { what: "comment", id });
        }
        self.comment(id)?.ok_or(StoreError::NotFound { what: "comment", id })
    }

    fn delete_comment(&mut self, id: i64) -> Result<()> {
        if self.execute("DELETE FROM map_comments WHERE id = $1", &[&id])? == 0 {
            return Err(StoreError::NotFound { what: "comment", id });
        }
        Ok(())
    }
}

impl SurveyLinkStore for PgStore {
    fn set_survey_token(&mut self, survey: SurveyId, token: Option<&str>) -> Result<()> {
        let changed = self
            .pool
            .get()?
            .execute("UPDATE surveys SET public_token = $2 WHERE id = $1", &[&survey.0, &token])
            .map_err(|e| if is_unique_violation(&e) { StoreError::Conflict("another survey has this public token".into()) } else { e.into() })?;
        if changed == 0 {
            return Err(StoreError::NotFound { what: "survey", id: survey.0 });
        }
        Ok(())
    }

    fn survey_token(&self, survey: SurveyId) -> Result<Option<String>> {
        self.query_opt("SELECT public_token FROM surveys WHERE id = $1", &[&survey.0])?
            .map(|r| r.get(0))
            .ok_or(StoreError::NotFound { what: "survey", id: survey.0 })
    }

    fn survey_by_token(&self, token: &str) -> Result<Option<(BusinessId, SurveyId)>> {
        Ok(self.query_opt("SELECT business, id FROM surveys WHERE public_token = $1", &[&token])?.map(|r| (BusinessId(r.get(0)), SurveyId(r.get(1)))))
    }
}
