//! Keeping segments healthy and deduplication bounded: merging small segments leaves every load
//! exactly as it was (seeded writes of many small batches, merged at random points, against the
//! same writes never merged), a reader's mark survives a merge below it, a process killed in the
//! middle of a merge loses and duplicates nothing, a compaction never leaves the file larger, and
//! the writer after a restart reads no stored key yet still drops a duplicate (also in a store
//! from before the key index, which the first write indexes).

use super::{new_business, segment_rows, seeded_events, write_events};
use rand::{Rng, SeedableRng};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use trailmap_model::*;
use trailmap_store::{Compaction, EventLoads, IncrementalReads, SegmentMerging};
use trailmap_store::{EventsAfter, SEGMENT_ROWS, SqliteStore, Store, StoreError};

fn load(store: &SqliteStore, b: BusinessId) -> EventTable {
    store.load_events(b, EventColumns { properties: true }).unwrap()
}

/// Writes `events` in batches of 1 to `most` events, the sizes drawn from `seed`.
fn write_in_small_batches(stores: &mut [&mut SqliteStore], b: BusinessId, events: &[IncomingEvent], seed: u64, most: usize) -> Vec<usize> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut sizes = Vec::new();
    let mut at = 0;
    while at < events.len() {
        let n = rng.random_range(1..=most).min(events.len() - at);
        for store in stores.iter_mut() {
            write_events(*store, b, &events[at..at + n]);
        }
        sizes.push(n);
        at += n;
    }
    sizes
}

#[test]
fn merging_small_segments_keeps_every_load_identical_to_the_unmerged_store() {
    let dir = tempfile::tempdir().unwrap();
    let (mut merged, mut plain) = (SqliteStore::open(&dir.path().join("merged.sqlite")).unwrap(), SqliteStore::open(&dir.path().join("plain.sqlite")).unwrap());
    let b = new_business(&mut merged, "Shop");
    assert_eq!(new_business(&mut plain, "Shop"), b);
    let other = new_business(&mut merged, "Other");
    assert_eq!(new_business(&mut plain, "Other"), other);
    let events = seeded_events(21, 400, 150_000);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let mut at = 0;
    let mut writes = 0;
    let mut merges = 0;
    // Small batches (a tracking group commit's size) into both stores, another business's rows in
    // between, and merges in one store only, at random points: before, amid and after the mark of
    // a reader that keeps what it loaded.
    let mut mark = None;
    while at < events.len() {
        let n = rng.random_range(1..600).min(events.len() - at);
        write_events(&mut merged, b, &events[at..at + n]);
        write_events(&mut plain, b, &events[at..at + n]);
        if rng.random_bool(0.1) {
            write_events(&mut merged, other, &events[at..at + 3]);
            write_events(&mut plain, other, &events[at..at + 3]);
        }
        at += n;
        writes += 1;
        if rng.random_bool(0.05) {
            while merged.merge_small_segments(b).unwrap().is_some() {
                merges += 1;
            }
        }
        if mark.is_none() && at > 60_000 {
            mark = Some((merged.data_mark(b).unwrap(), load(&merged, b)));
        }
    }
    let (segments_before, rows) = merged.segment_count(b).unwrap();
    let version = merged.data_version(b).unwrap();
    while let Some(summary) = merged.merge_small_segments(b).unwrap() {
        assert!(summary.segments >= 2 && summary.rows <= SEGMENT_ROWS as u64, "{summary:?}");
        merges += 1;
    }
    let (segments_after, rows_after) = merged.segment_count(b).unwrap();
    let (plain_segments, _) = plain.segment_count(b).unwrap();
    eprintln!("{writes} writes: {plain_segments} segments unmerged, {segments_before} before the last merges, {segments_after} after {merges} merges");
    assert_eq!((rows, rows_after), (150_000, 150_000));
    assert!(plain_segments >= writes as u64 && segments_after < 2 * 150_000 / SEGMENT_ROWS as u64 + 1, "{plain_segments} / {segments_after}");
    assert_eq!(merged.data_version(b).unwrap(), version, "a merge changes no answer");
    // Every load equals the unmerged store's: rows, order, every column; the other business too.
    assert_eq!(load(&merged, b), load(&plain, b));
    assert_eq!(load(&merged, other), load(&plain, other));
    let selection = EventSelection::NONE.with(&EventField::Name);
    assert_eq!(merged.load_selected_events(b, selection).unwrap(), plain.load_selected_events(b, selection).unwrap());

    // A reader that kept the rows up to its mark still has them, although merges since moved
    // some of them across it: nothing to load again, and a load after the mark is the rest.
    let (mark, kept) = mark.unwrap();
    assert!(merged.segments_unchanged(b, &mark).unwrap(), "a merge keeps the reader's rows in place");
    let customer_of: Vec<i64> = {
        let mut v = vec![0i64; 1];
        for (identity, customer) in merged.identities_after(b, 0).unwrap() {
            v.resize(v.len().max(identity as usize + 1), 0);
            v[identity as usize] = customer;
        }
        v
    };
    let after = |store: &SqliteStore| {
        store
            .load_events_after(b, EventSelection::ALL_BUT_PROPERTIES, &EventsAfter { segment: mark.segment, rows: mark.rows, strings: 0, customer_of: &customer_of })
            .unwrap()
    };
    let (rest, plain_rest) = (after(&merged), after(&plain));
    assert_eq!(kept.len() + rest.len(), 150_000);
    assert_eq!((&rest.time, &rest.customer, &rest.name), (&plain_rest.time, &plain_rest.customer, &plain_rest.name));
    let full = load(&merged, b);
    assert_eq!(&full.time[kept.len()..], &rest.time[..]);
    assert_eq!(&full.time[..kept.len()], &kept.time[..]);

    // Every key is kept: everything again adds nothing, here and in a fresh connection.
    assert_eq!(write_events(&mut merged, b, &events).events_duplicate, 150_000);
    let mut fresh = SqliteStore::open(&dir.path().join("merged.sqlite")).unwrap();
    assert_eq!(write_events(&mut fresh, b, &events[..1_000]).events_added, 0);
    assert_eq!(fresh.indexed_keys(b).unwrap(), 150_000);
    // A compaction of the merged store gives what it gives the unmerged one.
    merged.compact_events(b).unwrap();
    plain.compact_events(b).unwrap();
    assert_eq!(load(&merged, b), load(&plain, b));
    // A compaction moves every row under new ids: a reader's mark sees it.
    assert!(!merged.segments_unchanged(b, &mark).unwrap());
}

#[test]
fn merge_steps_go_where_small_segments_were_written_and_everywhere_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("steps.sqlite");
    let mut store = SqliteStore::open(&path).unwrap();
    let b = new_business(&mut store, "Shop");
    let quiet = new_business(&mut store, "Quiet");
    let events = seeded_events(3, 50, 2_000);
    let sizes = write_in_small_batches(&mut [&mut store], b, &events, 9, 40);
    assert_eq!(store.unmerged_segments(), sizes.len() as u64);
    let before = load(&store, b);
    // One step is one transaction of one run.
    let first = store.merge_step(false).unwrap().unwrap();
    assert_eq!((first.business, first.segments, first.rows), (b, sizes.len() as u64, 2_000));
    assert_eq!(store.segment_count(b).unwrap(), (1, 2_000));
    assert_eq!(segment_rows(&path, b).len(), 1);
    assert!(store.merge_step(false).unwrap().is_none());
    assert_eq!(store.unmerged_segments(), 0, "a business with nothing left is forgotten");
    assert_eq!(load(&store, b), before);
    // Another connection's small segments are found only by the merge of every business.
    let mut other = SqliteStore::open(&path).unwrap();
    write_events(&mut other, quiet, &events[..10]);
    write_events(&mut other, quiet, &events[10..20]);
    assert!(store.merge_step(false).unwrap().is_none());
    let found = store.merge_step(true).unwrap().unwrap();
    assert_eq!((found.business, found.segments, found.rows), (quiet, 2, 20));
    assert!(store.merge_step(true).unwrap().is_none());
    assert!(matches!(store.merge_small_segments(BusinessId(999)), Err(StoreError::NotFound { .. })));
}

/// The child half of the merge crash test: writes small batches, printing "ack N" after each
/// commit, and merges after every fifth; in the merge after batch 30 it says so once everything
/// is written and waits on stdin before committing. Run only when the parent test starts it.
#[test]
#[ignore = "started by a_process_killed_while_merging_loses_and_duplicates_nothing"]
fn merge_child() {
    let Ok(path) = std::env::var("TRAILMAP_MERGE_DB") else { return };
    let mut store = SqliteStore::open(std::path::Path::new(&path)).unwrap();
    let b = store.business_by_name("Crash").unwrap().unwrap().id;
    let events = seeded_events(17, 80, 4_000);
    for (n, batch) in events.chunks(100).enumerate() {
        write_events(&mut store, b, batch);
        println!("ack {n}");
        if n % 5 == 4 {
            let stop = n == 29;
            while store
                .merge_small_segments_with(b, &mut |summary| {
                    if stop {
                        println!("merged {} segments, uncommitted", summary.segments);
                        let mut line = String::new();
                        std::io::stdin().read_line(&mut line).unwrap();
                    }
                    Ok(())
                })
                .unwrap()
                .is_some()
            {}
        }
    }
}

#[test]
fn a_process_killed_while_merging_loses_and_duplicates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.sqlite");
    let mut store = SqliteStore::open(&path).unwrap();
    let b = new_business(&mut store, "Crash");
    drop(store);
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "segments::merge_child", "--ignored", "--nocapture", "--test-threads=1"])
        .env("TRAILMAP_MERGE_DB", &path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut acknowledged = -1i64;
    loop {
        let line = lines.next().expect("the child stopped before merging").unwrap();
        if let Some((_, n)) = line.split_once("ack ") {
            acknowledged = n.trim().parse().unwrap();
        }
        if line.contains("uncommitted") {
            break;
        }
    }
    // Earlier merges committed; this one wrote its segment and deleted the old ones: kill it now.
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    assert_eq!(acknowledged, 29);
    let mut store = SqliteStore::open(&path).unwrap();
    let events = seeded_events(17, 80, 4_000);
    let acked = (acknowledged as usize + 1) * 100;
    // Every acknowledged event is there once, in the order written (the earlier merges kept it),
    // every key in the index.
    let table = load(&store, b);
    assert_eq!(table.len(), acked);
    let expected: Vec<i64> = events[..acked].iter().map(|e| e.event.time.0).collect();
    assert_eq!(table.time, expected);
    assert_eq!(store.indexed_keys(b).unwrap(), acked as u64);
    let segments = segment_rows(&path, b).len();
    assert!(segments > 1 && segments < 30, "earlier merges committed, the last did not ({segments} segments)");
    // Sending everything again adds exactly the events never acknowledged; the merge runs again
    // to the end.
    let again = write_events(&mut store, b, &events);
    assert_eq!((again.events_duplicate, again.events_added), (acked as u64, (4_000 - acked) as u64));
    while store.merge_small_segments(b).unwrap().is_some() {}
    assert_eq!(store.segment_count(b).unwrap(), (1, 4_000));
    let all: Vec<i64> = events.iter().map(|e| e.event.time.0).collect();
    assert_eq!(load(&store, b).time, all);
}

#[test]
fn a_compaction_gives_the_freed_pages_back_and_never_leaves_the_file_larger() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shrink.sqlite");
    let mut store = SqliteStore::open(&path).unwrap();
    let b = new_business(&mut store, "Shop");
    let events = seeded_events(13, 2_000, 60_000);
    write_in_small_batches(&mut [&mut store], b, &events, 4, 400);
    let before = load(&store, b);
    let file = |path: &std::path::Path| std::fs::metadata(path).unwrap().len();
    // The file as the writes left it (the log folded in), before and after the compaction.
    store.give_back_space().unwrap();
    let size_before = file(&path);
    let summary = store.compact_events(b).unwrap();
    assert!(summary.rewritten && summary.segments_after == 1, "{summary:?}");
    let size_after = file(&path);
    eprintln!("compaction: {size_before} bytes before, {size_after} after ({summary:?})");
    assert!(size_after <= size_before, "the file grew from {size_before} to {size_after} bytes");
    assert_eq!((summary.file_bytes_before, summary.file_bytes_after), (size_before, size_after));
    let mut expected = super::rows_of(&before);
    expected.sort_by_key(|x| (x.0, x.1));
    assert_eq!(super::rows_of(&load(&store, b)), expected);
    drop(store);

    // A store made before incremental auto-vacuum: the compaction converts it with one VACUUM
    // and the file shrinks as well.
    let old = dir.path().join("old.sqlite");
    std::fs::copy(&path, &old).unwrap();
    {
        let conn = rusqlite::Connection::open(&old).unwrap();
        conn.execute_batch("PRAGMA journal_mode = DELETE; PRAGMA auto_vacuum = NONE; VACUUM;").unwrap();
        assert_eq!(conn.query_row("PRAGMA auto_vacuum", [], |r| r.get::<_, i64>(0)).unwrap(), 0);
    }
    let mut store = SqliteStore::open(&old).unwrap();
    write_in_small_batches(&mut [&mut store], b, &seeded_events(14, 500, 20_000), 6, 400);
    // The log folded into the file by another connection: giving space back here would convert
    // the file before the compaction does.
    rusqlite::Connection::open(&old).unwrap().query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).unwrap();
    let size_before = file(&old);
    assert!(store.compact_events(b).unwrap().rewritten);
    let size_after = file(&old);
    assert!(size_after <= size_before, "the old file grew from {size_before} to {size_after} bytes");
    let conn = rusqlite::Connection::open(&old).unwrap();
    assert_eq!(conn.query_row("PRAGMA auto_vacuum", [], |r| r.get::<_, i64>(0)).unwrap(), 2, "converted to incremental");
}

#[test]
fn the_writer_after_a_restart_reads_no_stored_key_and_still_drops_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("restart.sqlite");
    let mut store = SqliteStore::open(&path).unwrap();
    let b = new_business(&mut store, "Shop");
    let events = seeded_events(19, 300, 5_000);
    write_in_small_batches(&mut [&mut store], b, &events, 2, 500);
    drop(store);

    let mut store = SqliteStore::open(&path).unwrap();
    let log = store.log_statements().unwrap();
    // A tracking batch after the restart: one message sent again (a client's retry), one new.
    let new = seeded_events(20, 300, 1);
    let written = write_events(&mut store, b, &[events[1_234].clone(), new[0].clone()]);
    assert_eq!((written.events_added, written.events_duplicate), (1, 1));
    let statements = log.statements();
    assert!(!statements.iter().any(|s| s.contains("FROM event_keys")), "the key blobs were read: {statements:#?}");
    // Two lookups in the index, one insert: what a write runs does not grow with the store.
    assert_eq!(statements.iter().filter(|s| s.contains("event_key_index")).count(), 3, "{statements:#?}");
    assert_eq!(store.indexed_keys(b).unwrap(), 5_001);
    // A duplicate within one write is dropped too, and a rolled-back write leaves no key behind.
    let twice = write_events(&mut store, b, &[new[0].clone(), seeded_events(22, 3, 1)[0].clone(), seeded_events(22, 3, 1)[0].clone()]);
    assert_eq!((twice.events_added, twice.events_duplicate), (1, 2));
    let failed = store.write::<StoreError>(&mut |w| {
        w.add_event(b, &seeded_events(23, 3, 1)[0])?;
        Err(StoreError::Invalid("abandoned".into()))
    });
    assert!(failed.is_err());
    assert_eq!(write_events(&mut store, b, &seeded_events(23, 3, 1)).events_added, 1);
    assert_eq!(store.indexed_keys(b).unwrap(), 5_003);
    assert_eq!(load(&store, b).len(), 5_003);
}

#[test]
fn a_store_from_before_the_key_index_is_indexed_by_its_first_write() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v11.sqlite");
    let mut store = SqliteStore::open(&path).unwrap();
    let b = new_business(&mut store, "Shop");
    let events = seeded_events(29, 300, 4_000);
    write_in_small_batches(&mut [&mut store], b, &events, 8, 700);
    drop(store);
    // What an upgrade from v11 leaves: the keys in the segments' blobs only, the flag down.
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("DELETE FROM event_key_index; UPDATE businesses SET keys_indexed = 0;").unwrap();
    }
    let mut store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.indexed_keys(b).unwrap(), 0);
    // A rolled-back first write builds nothing that stays.
    let failed = store.write::<StoreError>(&mut |w| {
        w.add_event(b, &events[0])?;
        Err(StoreError::Invalid("abandoned".into()))
    });
    assert!(failed.is_err());
    assert_eq!(store.indexed_keys(b).unwrap(), 0);
    let again = write_events(&mut store, b, &events[..100]);
    assert_eq!((again.events_added, again.events_duplicate), (0, 100));
    assert_eq!(store.indexed_keys(b).unwrap(), 4_000);
    // From then on it is kept: a fresh connection finds every key.
    let mut fresh = SqliteStore::open(&path).unwrap();
    assert_eq!(write_events(&mut fresh, b, &events).events_duplicate, 4_000);
}
