//! Moving a SQLite store into PostgreSQL (`PgStore::copy_from_sqlite`, behind `trailmap
//! migrate-store`): every kind of row lands with its ids and reads back as it read on SQLite,
//! writes go on after it with fresh ids on both, and a database that already holds data, or a
//! source that is not there, is refused without a row written.

use super::super::{anon, event};
use super::{TestDb, every_read, every_write, new_business, write};
use trailmap_model::*;
use trailmap_store::{AccountStore, SqliteStore, Store, StoreError};

#[test]
fn a_sqlite_store_moves_whole_with_its_ids_and_writes_go_on_after_it() {
    let Some(db) = TestDb::new("moving a store") else { return };
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("shop.sqlite");
    let mut sqlite = SqliteStore::open(&path).unwrap();
    let b = every_write(&mut sqlite);
    let now = Timestamp(1_700_000_000_000);
    let ann = sqlite.insert_user("ann@example.com", "Ann", "hash-a", now).unwrap();
    sqlite.set_member(b, ann.id, Role::Editor).unwrap();
    sqlite.insert_session("session-hash", ann.id, "csrf", now, Timestamp(now.0 + 3_600_000)).unwrap();

    let mut pg = db.open();
    let summary = pg.copy_from_sqlite(&path).unwrap();
    assert_eq!(summary.events, 3_002);
    let rows = |table: &str| summary.tables.iter().find(|(t, _)| t == table).map(|(_, n)| *n);
    assert_eq!((rows("businesses"), rows("users"), rows("memberships"), rows("sessions")), (Some(2), Some(1), Some(1), Some(1)));
    assert_eq!(rows("event_keys"), Some(3_002));
    for (moved, original) in every_read(&pg, b).into_iter().zip(every_read(&sqlite, b)) {
        assert_eq!(moved, original);
    }
    assert_eq!(pg.load_events(b, EventColumns { properties: true }).unwrap(), sqlite.load_events(b, EventColumns { properties: true }).unwrap());
    assert_eq!(pg.user_with_hash("ann@example.com").unwrap(), Some((ann.clone(), "hash-a".into())));
    assert_eq!(pg.role(ann.id, b).unwrap(), Some(Role::Editor));
    assert_eq!(pg.session("session-hash", now).unwrap().map(|s| s.user.id), Some(ann.id));

    // Writes go on after the copied ids, the same on both, and an event sent twice is stored once.
    for store in [&mut pg as &mut dyn MoveTarget, &mut sqlite] {
        store.more(b);
    }
    for (moved, original) in every_read(&pg, b).into_iter().zip(every_read(&sqlite, b)) {
        assert_eq!(moved, original);
    }
    assert_eq!(pg.insert_user("bob@example.com", "Bob", "h", now).unwrap().id, sqlite.insert_user("bob@example.com", "Bob", "h", now).unwrap().id);

    // The database holds data now: a second move is refused, and nothing was added.
    let refused = pg.copy_from_sqlite(&path).unwrap_err();
    assert!(matches!(&refused, StoreError::Conflict(m) if m.contains("already holds") && !m.contains(":trailmap@")), "{refused}");
    assert_eq!(pg.businesses().unwrap().len(), 3);
    // A source that is not there is named.
    let missing = folder.path().join("nothing.sqlite");
    let error = db.open().copy_from_sqlite(&missing).unwrap_err().to_string();
    assert!(error.contains("nothing.sqlite") && error.contains("no store there"), "{error}");
    assert!(!missing.exists(), "the missing source was not created");
}

/// The writes after a move, run on either store.
trait MoveTarget {
    fn more(&mut self, b: BusinessId);
}

impl<S: Store> MoveTarget for S {
    fn more(&mut self, b: BusinessId) {
        let second = new_business(self, "Second shop");
        assert_eq!(second, BusinessId(3));
        let visit = event("page_view", 9_000_000, anon("moved-visitor"), vec![]);
        let first = write(self, &mut |w| w.add_event(b, &visit).map(drop)).unwrap();
        assert_eq!((first.events_added, first.customers_added), (1, 1));
        // Sent again, it is found among the keys that came with the move or were written since.
        let again = write(self, &mut |w| w.add_event(b, &visit).map(drop)).unwrap();
        assert_eq!((again.events_added, again.events_duplicate), (0, 1));
    }
}
