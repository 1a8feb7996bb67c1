//! The schema as numbered migrations. A store records how far it has come in `PRAGMA user_version`
//! and applies the rest in one transaction when opened, so an old file is upgraded whole or not at
//! all. Never edit a migration that has shipped: add the next one.

/// Migration `i` takes the schema from version `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE businesses (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    currency TEXT NOT NULL,
    timezone TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

-- A merged customer keeps its row with merged_into set, so old references can be followed.
CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    business INTEGER NOT NULL REFERENCES businesses(id),
    external_id TEXT,
    email TEXT,
    name TEXT,
    first_seen INTEGER NOT NULL,
    properties TEXT NOT NULL DEFAULT '{}',
    merged_into INTEGER REFERENCES customers(id)
);
CREATE INDEX customers_business ON customers(business, merged_into);
-- Merging follows and re-points merged_into; without this each merge scans every customer.
CREATE INDEX customers_merged_into ON customers(merged_into) WHERE merged_into IS NOT NULL;

CREATE TABLE identities (
    id INTEGER PRIMARY KEY,
    business INTEGER NOT NULL REFERENCES businesses(id),
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    customer INTEGER NOT NULL REFERENCES customers(id),
    UNIQUE (business, kind, value)
);
CREATE INDEX identities_customer ON identities(customer);

-- The dictionary every event segment's text columns index into; id 0 is reserved for "absent".
CREATE TABLE strings (
    id INTEGER PRIMARY KEY,
    value TEXT NOT NULL UNIQUE
);

-- Events, in columnar segments of up to SEGMENT_ROWS rows (see segment.rs). Rows point at
-- identities, never at customers, so merging customers never rewrites a segment.
CREATE TABLE event_segments (
    id INTEGER PRIMARY KEY,
    business INTEGER NOT NULL REFERENCES businesses(id),
    rows INTEGER NOT NULL,
    min_time INTEGER NOT NULL,
    max_time INTEGER NOT NULL,
    columns BLOB NOT NULL
);
CREATE INDEX event_segments_business ON event_segments(business, id);

-- The deduplication keys of each segment's rows, apart so that loading events never reads them.
CREATE TABLE event_keys (
    segment INTEGER PRIMARY KEY REFERENCES event_segments(id),
    business INTEGER NOT NULL,
    keys BLOB NOT NULL
);
CREATE INDEX event_keys_business ON event_keys(business);

CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    business INTEGER NOT NULL REFERENCES businesses(id),
    external_id TEXT NOT NULL,
    customer INTEGER NOT NULL REFERENCES customers(id),
    time INTEGER NOT NULL,
    currency TEXT NOT NULL,
    total INTEGER NOT NULL,
    subtotal INTEGER,
    shipping INTEGER,
    tax INTEGER,
    discount INTEGER,
    status TEXT,
    channel TEXT,
    source TEXT,
    properties TEXT NOT NULL DEFAULT '{}',
    UNIQUE (business, external_id)
);
CREATE INDEX orders_customer ON orders(customer);

CREATE TABLE order_lines (
    order_id INTEGER NOT NULL REFERENCES orders(id),
    position INTEGER NOT NULL,
    sku TEXT,
    name TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    unit_price INTEGER NOT NULL,
    PRIMARY KEY (order_id, position)
) WITHOUT ROWID;

CREATE TABLE stages (
    id INTEGER PRIMARY KEY,
    business INTEGER NOT NULL REFERENCES businesses(id),
    name TEXT NOT NULL,
    position INTEGER NOT NULL,
    description TEXT NOT NULL DEFAULT ''
);

CREATE TABLE touchpoints (
    id INTEGER PRIMARY KEY,
    business INTEGER NOT NULL REFERENCES businesses(id),
    name TEXT NOT NULL,
    channel TEXT NOT NULL,
    stage INTEGER REFERENCES stages(id),
    online INTEGER NOT NULL,
    rule TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    UNIQUE (business, name)
);

-- Documents whose shape evolves with the product are kept as JSON of the model's types.
CREATE TABLE personas (
    id INTEGER PRIMARY KEY,
    business INTEGER NOT NULL REFERENCES businesses(id),
    doc TEXT NOT NULL
);

CREATE TABLE journey_maps (
    id INTEGER PRIMARY KEY,
    business INTEGER NOT NULL REFERENCES businesses(id),
    created_at INTEGER NOT NULL
);

-- Every edit of a map is a new version; the newest is the map.
CREATE TABLE map_versions (
    map INTEGER NOT NULL REFERENCES journey_maps(id),
    version INTEGER NOT NULL,
    author TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (map, version)
) WITHOUT ROWID;

CREATE TABLE surveys (
    id INTEGER PRIMARY KEY,
    business INTEGER NOT NULL REFERENCES businesses(id),
    doc TEXT NOT NULL
);

-- Questions get their ids here so answers can point at them; their content lives in the survey doc.
CREATE TABLE questions (
    id INTEGER PRIMARY KEY,
    survey INTEGER NOT NULL REFERENCES surveys(id)
);

CREATE TABLE survey_responses (
    id INTEGER PRIMARY KEY,
    business INTEGER NOT NULL REFERENCES businesses(id),
    survey INTEGER NOT NULL REFERENCES surveys(id),
    customer INTEGER REFERENCES customers(id),
    submitted_at INTEGER NOT NULL,
    hidden TEXT NOT NULL,
    answers TEXT NOT NULL,
    dedup_key TEXT NOT NULL,
    UNIQUE (business, dedup_key)
);
CREATE INDEX survey_responses_survey ON survey_responses(survey);
CREATE INDEX survey_responses_customer ON survey_responses(customer) WHERE customer IS NOT NULL;

CREATE TABLE feedback (
    id INTEGER PRIMARY KEY,
    business INTEGER NOT NULL REFERENCES businesses(id),
    kind TEXT NOT NULL,
    source TEXT NOT NULL,
    external_id TEXT,
    customer INTEGER REFERENCES customers(id),
    author TEXT,
    time INTEGER NOT NULL,
    rating REAL,
    text TEXT NOT NULL,
    link TEXT,
    touchpoint INTEGER REFERENCES touchpoints(id),
    tags TEXT NOT NULL DEFAULT '[]',
    dedup_key TEXT NOT NULL,
    UNIQUE (business, dedup_key)
);
CREATE INDEX feedback_customer ON feedback(customer) WHERE customer IS NOT NULL;

CREATE TABLE changes (
    id INTEGER PRIMARY KEY,
    business INTEGER NOT NULL REFERENCES businesses(id),
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    date TEXT NOT NULL,
    touchpoints TEXT NOT NULL,
    stages TEXT NOT NULL,
    kpi TEXT,
    owner TEXT
);

CREATE TABLE spend (
    id INTEGER PRIMARY KEY,
    business INTEGER NOT NULL REFERENCES businesses(id),
    channel TEXT NOT NULL,
    source TEXT,
    campaign TEXT,
    start TEXT NOT NULL,
    end TEXT NOT NULL,
    currency TEXT NOT NULL,
    amount INTEGER NOT NULL
);
CREATE UNIQUE INDEX spend_unique ON spend(business, channel, coalesce(source, ''), coalesce(campaign, ''), start, end);

-- One row per import that landed, for the record.
CREATE TABLE imports (
    id INTEGER PRIMARY KEY,
    business INTEGER NOT NULL REFERENCES businesses(id),
    kind TEXT NOT NULL,
    file TEXT NOT NULL,
    added INTEGER NOT NULL,
    duplicates INTEGER NOT NULL,
    at INTEGER NOT NULL
);
"#, r#"
-- Write keys of the tracking API. Only a SHA-256 hash of each key is kept, so a copy of the store
-- gives no one the right to send events.
CREATE TABLE write_keys (
    id INTEGER PRIMARY KEY,
    business INTEGER NOT NULL REFERENCES businesses(id),
    name TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);
CREATE INDEX write_keys_business ON write_keys(business);

-- Messages the tracking API left out on purpose (bots, missing fields), counted by reason.
CREATE TABLE tracking_drops (
    business INTEGER NOT NULL REFERENCES businesses(id),
    reason TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (business, reason)
) WITHOUT ROWID;
"#, r#"
-- Accounts: people who sign in, their role in each business, sessions, invitations and API keys.
-- Secrets are kept only as hashes: Argon2id for passwords, SHA-256 for random tokens.
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE memberships (
    user INTEGER NOT NULL REFERENCES users(id),
    business INTEGER NOT NULL REFERENCES businesses(id),
    role TEXT NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),
    PRIMARY KEY (user, business)
) WITHOUT ROWID;
CREATE INDEX memberships_business ON memberships(business);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user INTEGER NOT NULL REFERENCES users(id),
    csrf TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_user ON sessions(user);

CREATE TABLE invitations (
    token_hash TEXT PRIMARY KEY,
    business INTEGER NOT NULL REFERENCES businesses(id),
    role TEXT NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),
    email TEXT,
    invited_by INTEGER NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    accepted_at INTEGER,
    accepted_by INTEGER REFERENCES users(id)
) WITHOUT ROWID;

CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY,
    user INTEGER NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    last_used INTEGER,
    revoked_at INTEGER
);
CREATE INDEX api_keys_user ON api_keys(user);
"#, r#"
-- v4: a counter per business, raised by every write transaction that changes the business's
-- data, so readers (the server's dashboard cache) can tell whether what they computed is current,
-- even when another process (a CLI import) wrote.
ALTER TABLE businesses ADD COLUMN data_version INTEGER NOT NULL DEFAULT 0;
"#, r#"
-- v5: read-only share links of journey maps. The token is kept only as its SHA-256 and the
-- optional password as an Argon2id hash (both made by the app), so a copy of the store opens no
-- map.
CREATE TABLE map_share_links (
    token_hash TEXT PRIMARY KEY,
    map INTEGER NOT NULL REFERENCES journey_maps(id),
    password_hash TEXT,
    expires_at INTEGER,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX map_share_links_map ON map_share_links(map);
"#, r#"
-- v6: the public token of a survey, the address of its page for respondents (`/s/{token}`). It is
-- kept as given, because members need to show and print the link; it is random and can be rotated.
ALTER TABLE surveys ADD COLUMN public_token TEXT;
CREATE UNIQUE INDEX surveys_public_token ON surveys(public_token);
"#, r#"
-- v7: a change's KPI in a form the engine can compute (a `ChangeMetric` as JSON) and the map card
-- it answers (`{"map", "card"}` as JSON); both optional, so changes logged before stay as they were.
ALTER TABLE changes ADD COLUMN metric TEXT;
ALTER TABLE changes ADD COLUMN answers TEXT;
"#, r#"
-- v8: import integrity. A business may declare the decimal mark of its files ('point' or 'comma';
-- NULL: not declared, and numbers whose reading depends on it are refused). Order numbers become
-- unique per business and origin ('shopify', 'stripe', '' for the business's own numbering), so
-- Shopify's #1001 and the till's #1001 are two orders. SQLite cannot change a table's UNIQUE
-- constraint, so orders and their lines are copied into new tables (the lines' foreign key
-- pointing at the new orders table, so dropping the old one deletes no referenced row) and the new
-- tables take the old names; existing orders get the origin ''.
ALTER TABLE businesses ADD COLUMN decimal_mark TEXT;

CREATE TABLE orders_v8 (
    id INTEGER PRIMARY KEY,
    business INTEGER NOT NULL REFERENCES businesses(id),
    origin TEXT NOT NULL DEFAULT '',
    external_id TEXT NOT NULL,
    customer INTEGER NOT NULL REFERENCES customers(id),
    time INTEGER NOT NULL,
    currency TEXT NOT NULL,
    total INTEGER NOT NULL,
    subtotal INTEGER,
    shipping INTEGER,
    tax INTEGER,
    discount INTEGER,
    status TEXT,
    channel TEXT,
    source TEXT,
    properties TEXT NOT NULL DEFAULT '{}',
    UNIQUE (business, origin, external_id)
);
INSERT INTO orders_v8 (id, business, origin, external_id, customer, time, currency, total, subtotal, shipping, tax, discount, status, channel, source, properties)
    SELECT id, business, '', external_id, customer, time, currency, total, subtotal, shipping, tax, discount, status, channel, source, properties FROM orders;
CREATE TABLE order_lines_v8 (
    order_id INTEGER NOT NULL REFERENCES orders_v8(id),
    position INTEGER NOT NULL,
    sku TEXT,
    name TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    unit_price INTEGER NOT NULL,
    PRIMARY KEY (order_id, position)
) WITHOUT ROWID;
INSERT INTO order_lines_v8 SELECT order_id, position, sku, name, quantity, unit_price FROM order_lines;
DROP TABLE order_lines;
DROP TABLE orders;
ALTER TABLE orders_v8 RENAME TO orders;
ALTER TABLE order_lines_v8 RENAME TO order_lines;
CREATE INDEX orders_customer ON orders(customer);
-- Orders of one number across origins, for the comparison with orders imported before v8.
CREATE INDEX orders_number ON orders(business, external_id);
"#, r#"
-- v9: the order of a business's touchpoints, as its people arrange them (the catalogue and new
-- maps list them in this order), numbered from 0 in the order they were made; and the touchpoint
-- suggestions a business dismissed, by their key, so they are not proposed again.
ALTER TABLE touchpoints ADD COLUMN position INTEGER NOT NULL DEFAULT 0;
UPDATE touchpoints SET position = (SELECT count(*) FROM touchpoints AS earlier
    WHERE earlier.business = touchpoints.business AND earlier.id < touchpoints.id);
CREATE TABLE dismissed_touchpoint_suggestions (
    business INTEGER NOT NULL REFERENCES businesses(id),
    key TEXT NOT NULL,
    dismissed_at INTEGER NOT NULL,
    PRIMARY KEY (business, key)
) WITHOUT ROWID;
"#, r#"
-- v10: from zero to a living map. Write keys record when they were last used (set once per group
-- commit of the tracking API, not per message) and when they were revoked (a revoked key stays
-- listed and sends nothing). `settings` holds store-wide choices by name (`default_business`, the
-- business `trailmap business use` picked). A business's onboarding checklist can be hidden.
-- Comments on map cards live apart from the map documents, keyed by map and card id, so
-- commenting does not make a new map version.
ALTER TABLE write_keys ADD COLUMN last_used INTEGER;
ALTER TABLE write_keys ADD COLUMN revoked_at INTEGER;

CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

ALTER TABLE businesses ADD COLUMN checklist_hidden_at INTEGER;

CREATE TABLE map_comments (
    id INTEGER PRIMARY KEY,
    map INTEGER NOT NULL REFERENCES journey_maps(id),
    card INTEGER NOT NULL,
    author INTEGER NOT NULL REFERENCES users(id),
    text TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    edited_at INTEGER
);
CREATE INDEX map_comments_card ON map_comments(map, card, id);
"#, r#"
-- v11: privacy. How many days a business keeps its raw events (NULL: for ever; see retention.rs).
ALTER TABLE businesses ADD COLUMN event_retention_days INTEGER;

-- A share link may be embedded in the pages of these origins (space-separated, NULL: none).
ALTER TABLE map_share_links ADD COLUMN frame_ancestors TEXT;

-- Password resets: one-time links an owner or `trailmap user reset-password` issues, by their
-- token's SHA-256; used once, then kept with used_at.
CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY,
    user INTEGER NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER
) WITHOUT ROWID;

-- Erasures on request. What an erasure removed, by kind (never whose), and a tombstone per
-- erased identity: SHA-256 of its kind and value, so a record naming it again is refused.
CREATE TABLE erasures (
    id INTEGER PRIMARY KEY,
    business INTEGER NOT NULL REFERENCES businesses(id),
    erased_at INTEGER NOT NULL,
    customers INTEGER NOT NULL,
    identities INTEGER NOT NULL,
    events INTEGER NOT NULL,
    orders INTEGER NOT NULL,
    survey_responses INTEGER NOT NULL,
    feedback INTEGER NOT NULL
);
CREATE TABLE erased_identities (
    business INTEGER NOT NULL REFERENCES businesses(id),
    hash TEXT NOT NULL,
    erasure INTEGER NOT NULL REFERENCES erasures(id),
    PRIMARY KEY (business, hash)
) WITHOUT ROWID;
"#, r#"
-- v12: deduplication without holding every key in memory. Each business's event keys, sorted, in
-- one index the writer looks a key up in (see dedup.rs); the per-segment key blobs stay, as the
-- row-aligned record compaction, erasure and retention copy. A store from before is indexed by
-- the first write of each business that needs it (keys_indexed goes to 1 in that transaction), so
-- the upgrade itself reads no key.
CREATE TABLE event_key_index (
    business INTEGER NOT NULL,
    key BLOB NOT NULL,
    PRIMARY KEY (business, key)
) WITHOUT ROWID;
ALTER TABLE businesses ADD COLUMN keys_indexed INTEGER NOT NULL DEFAULT 0;
-- Rewrites of a business's events that reorder or remove rows (a compaction, retention, an
-- erasure), counted so a reader that keeps events knows its rows are no longer a prefix of the
-- stored ones. A merge of small segments keeps every row in its place and does not count.
ALTER TABLE businesses ADD COLUMN event_rewrites INTEGER NOT NULL DEFAULT 0;
"#, r#"
-- v13: big writes index their keys as sorted runs instead of inserting them into the B-tree of
-- v12, which small writes keep (see dedup.rs). A run is a business's keys in chunks of 56, each
-- chunk a row keyed by its first key (keys big-endian, so byte order is numeric order); the run's
-- row counts its keys. A store indexed by v12 keeps its B-tree and starts with no run.
CREATE TABLE event_key_runs (
    business INTEGER NOT NULL,
    run INTEGER NOT NULL,
    keys INTEGER NOT NULL,
    PRIMARY KEY (business, run)
) WITHOUT ROWID;
CREATE TABLE event_key_chunks (
    business INTEGER NOT NULL,
    run INTEGER NOT NULL,
    first_key BLOB NOT NULL,
    keys BLOB NOT NULL,
    PRIMARY KEY (business, run, first_key)
) WITHOUT ROWID;
"#, r#"
-- v14: edits of feedback records in place (their tags, in the research library): the readers that keep
-- a business's feedback read it again when this count moved, since in-place edits leave no
-- higher id behind.
ALTER TABLE businesses ADD COLUMN feedback_edits INTEGER NOT NULL DEFAULT 0;
"#, r#"
-- v15: reports that reach people (see delivery.rs). Scheduled digests per business, alert rules
-- on a KPI and the periods each has fired for (once per rule and period), and the outbox of
-- e-mails and webhook calls with their attempts: the send log the app shows, and what the
-- server's delivery task retries with backoff. None of it is data an analysis reads.
CREATE TABLE digests (
    id INTEGER PRIMARY KEY,
    business INTEGER NOT NULL REFERENCES businesses(id),
    cadence TEXT NOT NULL,
    recipients TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX digests_business ON digests(business, id);
CREATE TABLE alert_rules (
    id INTEGER PRIMARY KEY,
    business INTEGER NOT NULL REFERENCES businesses(id),
    kpi TEXT NOT NULL,
    cadence TEXT NOT NULL,
    threshold REAL,
    direction TEXT NOT NULL,
    channel TEXT NOT NULL,
    target TEXT NOT NULL,
    secret TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX alert_rules_business ON alert_rules(business, id);
CREATE TABLE alert_firings (
    id INTEGER PRIMARY KEY,
    rule INTEGER NOT NULL REFERENCES alert_rules(id),
    business INTEGER NOT NULL REFERENCES businesses(id),
    period TEXT NOT NULL,
    fired_at INTEGER NOT NULL,
    message TEXT NOT NULL,
    data TEXT NOT NULL,
    UNIQUE (rule, period)
);
CREATE INDEX alert_firings_business ON alert_firings(business, id);
CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY,
    business INTEGER NOT NULL REFERENCES businesses(id),
    key TEXT UNIQUE,
    kind TEXT NOT NULL,
    channel TEXT NOT NULL,
    target TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    attachment BLOB,
    secret TEXT,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    sent_at INTEGER
);
CREATE INDEX deliveries_due ON deliveries(status, next_attempt_at);
CREATE INDEX deliveries_business ON deliveries(business, id);
"#, r#"
-- v16: writes whose events go to ClickHouse (split.rs): each is listed here in a commit of its
-- own before its transaction starts, and that transaction deletes its row, so a row that stays
-- names a write that never committed (its process killed, or a rollback whose events could not be
-- taken back), whose rows in ClickHouse are deleted when the store is next opened.
CREATE TABLE clickhouse_pending_writes (
    write_id INTEGER PRIMARY KEY,
    started_at INTEGER NOT NULL
);
"#];
