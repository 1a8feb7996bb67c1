//! Rewrites of a business's events on PostgreSQL against a real server, each run on SQLite too
//! and compared: merging small segments, retention, erasure on request and compaction.

use super::super::{anon, email, event};
use super::{TestDb, every_read, every_write, new_business, write};
use trailmap_model::*;
use trailmap_store::{Compaction, Erasure, EventLoads, IncrementalReads, Retention, SegmentMerging, SqliteStore, Store, StoreError, WriteSummary, Writer};

/// Small writes (as tracking makes), on any backend.
fn small_writes<S: Store>(store: &mut S, b: BusinessId, first: i64, writes: i64) {
    for w in first..first + writes {
        write(store, &mut |writer| {
            for i in 0..25 {
                let n = w * 25 + i;
                writer.add_event(b, &event(if n % 4 == 0 { "purchase" } else { "page_view" }, n, anon(&format!("v{}", n % 40)), vec![]))?;
            }
            Ok(())
        })
        .unwrap();
    }
}

#[test]
fn merging_small_segments_keeps_every_row_in_place_as_on_sqlite() {
    let Some(db) = TestDb::new("merging") else { return };
    let mut pg = db.open();
    let mut sqlite = SqliteStore::in_memory().unwrap();
    let b = new_business(&mut pg, "Shop");
    new_business(&mut sqlite, "Shop");
    small_writes(&mut pg, b, 0, 30);
    small_writes(&mut sqlite, b, 0, 30);
    let before = pg.load_events(b, EventColumns { properties: true }).unwrap();
    let mark = pg.data_mark(b).unwrap();
    assert_eq!(pg.segment_count(b).unwrap(), (30, 750));
    // A reader's mark in the middle of the run: its load after the mark still gives just the rest.
    let middle = write(&mut pg, &mut |w| w.add_event(b, &event("signup", 5_000, anon("late"), vec![])).map(|_| ())).map(|_| pg.data_mark(b).unwrap()).unwrap();
    write(&mut sqlite, &mut |w| w.add_event(b, &event("signup", 5_000, anon("late"), vec![])).map(|_| ())).unwrap();
    small_writes(&mut pg, b, 30, 2);
    small_writes(&mut sqlite, b, 30, 2);
    assert_eq!(pg.unmerged_segments(), 33, "every write of this store made a small segment");
    let mut merges = 0;
    while let Some(summary) = pg.merge_step(false).unwrap() {
        let same = sqlite.merge_small_segments(b).unwrap().unwrap();
        assert_eq!(summary, same);
        merges += 1;
    }
    assert_eq!(sqlite.merge_small_segments(b).unwrap(), None);
    assert_eq!(merges, 1);
    assert_eq!(pg.unmerged_segments(), 0);
    assert_eq!(pg.merge_step(true).unwrap(), None, "nothing left in any business");
    assert_eq!(pg.segment_count(b).unwrap(), (1, 801));
    assert_eq!(pg.segment_count(b).unwrap(), sqlite.segment_count(b).unwrap());
    let after = pg.load_events(b, EventColumns { properties: true }).unwrap();
    assert_eq!(after, sqlite.load_events(b, EventColumns { properties: true }).unwrap());
    assert_eq!(after.time[..before.len()], before.time[..], "the rows before keep their place");
    assert_eq!(pg.data_version(b).unwrap(), middle.version + 2, "a merge changes no answer, so no version");
    assert!(pg.segments_unchanged(b, &mark).unwrap());
    let of: Vec<i64> = {
        let pairs = pg.identities_after(b, 0).unwrap();
        let mut of = vec![0; pairs.iter().map(|&(id, _)| id as usize + 1).max().unwrap()];
        pairs.into_iter().for_each(|(id, c)| of[id as usize] = c);
        of
    };
    let rest = pg
        .load_events_after(b, EventColumns::default().into(), &trailmap_store::EventsAfter { segment: middle.segment, rows: middle.rows, strings: 0, customer_of: &of })
        .unwrap();
    assert_eq!(rest.len(), 50, "the two writes after the mark, not the rows merged across it");
    // Every key is kept: the same events again are duplicates.
    let again = write(&mut pg, &mut |w| {
        for n in 0..750 {
            w.add_event(b, &event(if n % 4 == 0 { "purchase" } else { "page_view" }, n, anon(&format!("v{}", n % 40)), vec![]))?;
        }
        Ok(())
    })
    .unwrap();
    assert_eq!((again.events_added, again.events_duplicate), (0, 750));
}

#[test]
fn expiring_and_erasing_remove_the_same_rows_and_keys_as_on_sqlite() {
    let Some(db) = TestDb::new("retention and erasure") else { return };
    let mut pg = db.open();
    let mut sqlite = SqliteStore::in_memory().unwrap();
    let b = every_write(&mut pg);
    every_write(&mut sqlite);
    small_writes(&mut pg, b, 0, 4);
    small_writes(&mut sqlite, b, 0, 4);
    assert_eq!(pg.event_retention(b).unwrap(), None);
    assert!(matches!(pg.set_event_retention(b, Some(0)), Err(StoreError::Invalid(_))));
    pg.set_event_retention(b, Some(30)).unwrap();
    assert_eq!(pg.event_retention(b).unwrap(), Some(30));
    let cutoff = Timestamp(1_700_000_000_000 + 60 * 60_000);
    let expired = pg.expire_events(b, cutoff).unwrap();
    let same = sqlite.expire_events(b, cutoff).unwrap();
    assert_eq!(expired, trailmap_store::ExpirySummary { bytes_freed: 0, ..same });
    assert!(expired.events > 0 && expired.segments_rewritten > 0, "{expired:?}");
    assert_eq!(pg.load_events(b, EventColumns { properties: true }).unwrap(), sqlite.load_events(b, EventColumns { properties: true }).unwrap());
    // The expired events' keys are gone: sent again, they are stored again.
    let resent = write(&mut pg, &mut |w| w.add_event(b, &event("page_view", 0, anon("v0"), vec![])).map(|_| ())).unwrap();
    assert_eq!(resent.events_added, 1);
    write(&mut sqlite, &mut |w| w.add_event(b, &event("page_view", 0, anon("v0"), vec![])).map(|_| ())).unwrap();

    let ann = pg.customer_with_identity(b, IdentityKind::Email, "ann@example.com").unwrap().unwrap();
    assert_eq!(Some(ann), sqlite.customer_with_identity(b, IdentityKind::Email, "ann@example.com").unwrap());
    assert_eq!(pg.person(b, ann).unwrap(), sqlite.person(b, ann).unwrap());
    let at = Timestamp(1_760_000_000_000);
    let erased = pg.erase_customer(b, ann, at).unwrap();
    assert_eq!(erased, sqlite.erase_customer(b, ann, at).unwrap());
    assert!(erased.orders >= 1 && erased.feedback == 1 && erased.survey_responses == 1, "{erased:?}");
    assert_eq!(pg.erasures(b).unwrap(), sqlite.erasures(b).unwrap());
    assert_eq!(pg.erased_at(b, IdentityKind::Email, "ann@example.com").unwrap(), Some(at));
    for (pg, sqlite) in every_read(&pg, b).into_iter().zip(every_read(&sqlite, b)) {
        assert_eq!(pg, sqlite);
    }
    assert_eq!(pg.load_events(b, EventColumns { properties: true }).unwrap(), sqlite.load_events(b, EventColumns { properties: true }).unwrap());
    // A record naming the erased person again is refused with the date, on both.
    let again = |store: &mut dyn FnMut(&mut dyn FnMut(&mut dyn Writer) -> Result<(), StoreError>) -> Result<WriteSummary, StoreError>| {
        store(&mut |w| w.add_event(b, &event("page_view", 77, email("ann@example.com"), vec![])).map(|_| ())).map_err(|e| e.to_string())
    };
    let refused = again(&mut |f| write(&mut pg, f));
    assert_eq!(refused, again(&mut |f| write(&mut sqlite, f)));
    assert!(refused.as_ref().is_err_and(|e| e.contains("erased on")), "{refused:?}");
}

#[test]
fn compaction_orders_rows_by_customer_in_chunks_as_on_sqlite() {
    let Some(db) = TestDb::new("compaction") else { return };
    let mut pg = db.open();
    let mut sqlite = SqliteStore::in_memory().unwrap();
    let b = every_write(&mut pg);
    every_write(&mut sqlite);
    small_writes(&mut pg, b, 0, 3);
    small_writes(&mut sqlite, b, 0, 3);
    let before = pg.data_mark(b).unwrap();
    let compacted = pg.compact_events_with(b, 700, &mut |_| Ok(())).unwrap();
    let same = sqlite.compact_events_with(b, 700, &mut |_| Ok(())).unwrap();
    assert_eq!(
        (compacted.events, compacted.segments_before, compacted.segments_after, compacted.rewritten, compacted.passes),
        (same.events, same.segments_before, same.segments_after, same.rewritten, same.passes)
    );
    assert!(compacted.rewritten && compacted.passes > 1, "{compacted:?}");
    let table = pg.load_events(b, EventColumns { properties: true }).unwrap();
    assert_eq!(table, sqlite.load_events(b, EventColumns { properties: true }).unwrap());
    let customers = table.customer.indices();
    assert!(customers.windows(2).all(|w| w[0] <= w[1]), "rows in customer order");
    let after = pg.data_mark(b).unwrap();
    assert_eq!((after.version, after.rewrites), (before.version, before.rewrites + 1));
    assert!(!pg.segments_unchanged(b, &before).unwrap());
    // In order now: a second compaction leaves the segments alone.
    assert!(!pg.compact_events(b).unwrap().rewritten);
    // A compaction that fails before its commit changes nothing.
    small_writes(&mut pg, b, 3, 1);
    let failed = pg.compact_events_with(b, 700, &mut |_| Err(StoreError::Invalid("stopped".into())));
    assert!(matches!(failed, Err(StoreError::Invalid(_))));
    assert_eq!(pg.data_mark(b).unwrap().rewrites, after.rewrites);
    assert_eq!(pg.load_events(b, EventColumns::default()).unwrap().len(), table.len() + 25);
}
