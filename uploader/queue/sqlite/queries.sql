-- The SQLite backend's statements, one `-- name --` section each (loaded by connection.py).
--
-- Layout: `records` holds every value ever enqueued (keyed by account, inverter and day) and is
-- what an enqueue compares with; `pending` holds the claimable ones in claim order, so a claim
-- is one ordered range read plus one range delete (PERF-NOTES: the cheap shape; flipping a
-- state column under a partial index measured half the claim + ack throughput, the index's
-- deletes dominating). Each pending row carries `claimed`, the record exactly as its next
-- claim hands it out (a QueuedRecord as a JSON array, written by SQLite when the row is
-- pended): a claim reads that one column and decodes the lot with msgspec in one call, half
-- the CPU of turning eight columns per row into Python objects (docs/decisions.md).
-- A lease is one row whose blob lists its records; ack deletes it, expiry puts the records
-- back into `pending`. A claim made by the file's runner (the process holding its lock) says
-- so (`runner`): when no process holds the lock, those are a dead runner's. Sent and dead are
-- not states of a `records` row: `accounts.sent` counts deliveries, `dead_letters` holds the
-- dead.

-- schema --
CREATE TABLE IF NOT EXISTS accounts (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    sent INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS records (
    id INTEGER PRIMARY KEY,
    account INTEGER NOT NULL,
    remote_inv_id TEXT NOT NULL,
    day TEXT NOT NULL,
    period_kwh TEXT NOT NULL,
    accumulated_kwh TEXT NOT NULL,
    flags INTEGER NOT NULL,
    source TEXT,
    deadline INTEGER NOT NULL,
    first_enqueued_at REAL NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    failures INTEGER NOT NULL DEFAULT 0,
    confirmed INTEGER NOT NULL DEFAULT 0  -- the version whose processing the registry confirmed
);
CREATE UNIQUE INDEX IF NOT EXISTS records_key ON records (account, remote_inv_id, day);
CREATE INDEX IF NOT EXISTS records_flagged ON records (account, flags) WHERE flags != 0;
CREATE TABLE IF NOT EXISTS pending (
    account INTEGER NOT NULL,
    deadline INTEGER NOT NULL,
    remote_inv_id TEXT NOT NULL,
    day TEXT NOT NULL,
    record_id INTEGER NOT NULL,
    version INTEGER NOT NULL,
    first_enqueued_at REAL NOT NULL,
    claimed TEXT NOT NULL,  -- [id, version, inverter, day, period, accumulated, attempts, first]
    PRIMARY KEY (account, deadline, remote_inv_id, day)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS leases (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account INTEGER NOT NULL,
    until REAL NOT NULL,
    released INTEGER NOT NULL DEFAULT 0,
    n INTEGER NOT NULL,
    oldest REAL,
    items BLOB NOT NULL,
    runner INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS leases_until ON leases (until);
CREATE TABLE IF NOT EXISTS ledger (
    batch_id TEXT PRIMARY KEY,
    account INTEGER NOT NULL,
    records INTEGER NOT NULL,
    sent_at REAL NOT NULL,
    http_status INTEGER NOT NULL,
    process_id INTEGER,
    endpoint TEXT NOT NULL,
    status TEXT,
    status_at REAL,
    requeued INTEGER NOT NULL DEFAULT 0,
    items BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS ledger_sent_at ON ledger (sent_at);
CREATE INDEX IF NOT EXISTS ledger_awaiting ON ledger (account, sent_at)
    WHERE process_id IS NOT NULL AND (status IS NULL OR status IN ('New', 'Processing'));
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY,
    account TEXT,
    reason TEXT NOT NULL,
    source TEXT,
    at REAL NOT NULL,
    record_id INTEGER UNIQUE,
    version INTEGER,
    remote_inv_id TEXT,
    day TEXT,
    period_kwh TEXT,
    accumulated_kwh TEXT,
    raw TEXT,
    UNIQUE (source, raw)
);
CREATE INDEX IF NOT EXISTS dead_letters_at ON dead_letters (at);
-- A changed value is pending again, and supersedes a dead letter of the old one. New records
-- reach `pending` in one statement per enqueue (pend_new), cheaper than a per-row trigger.
-- (A trigger's OR REPLACE yields to the outer upsert's conflict policy: delete, then insert.)
CREATE TRIGGER IF NOT EXISTS records_changed AFTER UPDATE OF version ON records BEGIN
    DELETE FROM pending WHERE account = new.account AND deadline = new.deadline
        AND remote_inv_id = new.remote_inv_id AND day = new.day;
    INSERT INTO pending VALUES (
        new.account, new.deadline, new.remote_inv_id, new.day, new.id, new.version,
        new.first_enqueued_at,
        json_array(new.id, new.version, new.remote_inv_id, new.day, new.period_kwh,
                   new.accumulated_kwh, 1, new.first_enqueued_at));
    DELETE FROM dead_letters WHERE record_id = new.id;
END;
PRAGMA user_version = 3;

-- migrate_1_before --
-- Schema 1 kept the values in `pending` as columns; schema 2 keeps the claimed form. The old
-- table steps aside, the schema creates the new one (and the trigger), migrate_1_after fills it.
DROP TRIGGER records_changed;
ALTER TABLE pending RENAME TO pending_1;

-- migrate_1_after --
INSERT INTO pending
SELECT account, deadline, remote_inv_id, day, record_id, version, first_enqueued_at,
       json_array(record_id, version, remote_inv_id, day, period_kwh, accumulated_kwh,
                  attempts + 1, first_enqueued_at)
FROM pending_1;
DROP TABLE pending_1;

-- migrate_2_columns --
-- Schema 3 keeps, per record, the version the registry confirmed (filled from the ledger),
-- and per claim whether the file's runner made it (those of schema 2 are not known to be,
-- and run out as before).
ALTER TABLE records ADD COLUMN confirmed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE leases ADD COLUMN runner INTEGER NOT NULL DEFAULT 0;

-- ledger_confirmed_items --
SELECT items FROM ledger WHERE status = 'Success'

-- account_id --
SELECT id FROM accounts WHERE name = ?

-- account_name --
SELECT name FROM accounts WHERE id = ?

-- account_add --
INSERT OR IGNORE INTO accounts (name) VALUES (?)

-- max_record_id --
SELECT coalesce(max(id), 0) FROM records

-- upsert --
INSERT INTO records (account, remote_inv_id, day, period_kwh, accumulated_kwh, flags, source,
                     deadline, first_enqueued_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (account, remote_inv_id, day) DO UPDATE SET
    period_kwh = excluded.period_kwh,
    accumulated_kwh = excluded.accumulated_kwh,
    flags = excluded.flags,
    source = excluded.source,
    version = version + 1,
    failures = 0
WHERE period_kwh != excluded.period_kwh OR accumulated_kwh != excluded.accumulated_kwh

-- pend_new --
INSERT OR REPLACE INTO pending
SELECT account, deadline, remote_inv_id, day, id, version, first_enqueued_at,
       json_array(id, version, remote_inv_id, day, period_kwh, accumulated_kwh,
                  1, first_enqueued_at)
FROM records WHERE id > ?

-- repend --
INSERT OR IGNORE INTO pending
SELECT account, deadline, remote_inv_id, day, id, version, ?2,
       json_array(id, version, remote_inv_id, day, period_kwh, accumulated_kwh, ?1 + 1, ?2)
FROM records WHERE id = ?3 AND version = ?4

-- repend_fresh --
INSERT OR IGNORE INTO pending
SELECT account, deadline, remote_inv_id, day, id, version, first_enqueued_at,
       json_array(id, version, remote_inv_id, day, period_kwh, accumulated_kwh,
                  1, first_enqueued_at)
FROM records WHERE id = ? AND version = ?

-- unpend --
DELETE FROM pending
WHERE account = ? AND deadline = ? AND remote_inv_id = ? AND day = ? AND version = ?

-- claim --
-- One text: the aggregate takes the rows in the LIMITed subquery's order (SQLite runs such a
-- subquery as a co-routine in ORDER BY order; the contract tests hold claims to that order).
SELECT '[' || group_concat(claimed, ',') || ']' FROM (
    SELECT claimed FROM pending WHERE account = ?
    ORDER BY deadline, remote_inv_id, day LIMIT ?
)

-- claim_head --
SELECT deadline, remote_inv_id, day FROM pending WHERE account = ?
ORDER BY deadline, remote_inv_id, day LIMIT 1

-- claim_inverter --
-- One deadline's part of a one-inverter claim: the records' JSON without brackets, how many,
-- and the last day (what delete_inverter takes out of pending).
SELECT group_concat(claimed, ','), count(*), max(day) FROM (
    SELECT claimed, day FROM pending WHERE account = ? AND deadline = ? AND remote_inv_id = ?
        AND day <= ?
    ORDER BY day LIMIT ?
)

-- next_deadline --
-- The account's next deadline with pending records: an index seek, so a one-inverter claim
-- visits each deadline group without reading the other inverters' rows.
SELECT min(deadline) FROM pending WHERE account = ? AND deadline > ?

-- delete_inverter --
DELETE FROM pending WHERE account = ? AND deadline = ? AND remote_inv_id = ? AND day <= ?

-- delete_claimed --
DELETE FROM pending WHERE account = ? AND (deadline, remote_inv_id, day) <= (?, ?, ?)

-- lease_add --
INSERT INTO leases (account, until, released, n, oldest, items, runner)
VALUES (?, ?, ?, ?, ?, ?, ?)

-- lease_get --
SELECT account, until, released, items FROM leases WHERE id = ?

-- lease_set --
UPDATE leases SET n = ?, oldest = ?, items = ? WHERE id = ?

-- lease_delete --
DELETE FROM leases WHERE id = ?

-- lease_delete_whole --
DELETE FROM leases WHERE id = ? AND n = ?

-- lease_extend --
UPDATE leases SET until = ? WHERE id = ? AND released = 0 AND until > ?

-- leases_expired --
SELECT id, items FROM leases WHERE until <= ?

-- leases_of_runners --
SELECT id, items FROM leases WHERE released = 0 AND runner = 1 ORDER BY until, id

-- ledger_add --
INSERT INTO ledger (batch_id, account, records, sent_at, http_status, process_id, endpoint, items)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)

-- sent_add --
UPDATE accounts SET sent = sent + ? WHERE id = ?

-- dead_record --
INSERT OR REPLACE INTO dead_letters (account, reason, source, at, record_id, version,
                                     remote_inv_id, day, period_kwh, accumulated_kwh)
SELECT ?, ?, source, ?, id, version, remote_inv_id, day, period_kwh, accumulated_kwh
FROM records WHERE id = ? AND version = ?

-- dead_raw --
INSERT OR IGNORE INTO dead_letters (account, reason, source, at, raw) VALUES (?, ?, ?, ?, ?)

-- accounts_pending --
SELECT name FROM accounts AS a
WHERE EXISTS (SELECT 1 FROM pending AS p WHERE p.account = a.id)
ORDER BY name

-- drained --
SELECT NOT EXISTS (SELECT 1 FROM pending WHERE account = ?1)
   AND NOT EXISTS (SELECT 1 FROM leases WHERE account = ?1)

-- known_days --
-- Every stored day of one inverter-year but the dead: its latest value, whatever its state.
SELECT r.day, r.period_kwh FROM records AS r
WHERE r.account = ? AND r.remote_inv_id = ? AND r.day BETWEEN ? AND ?
  AND NOT EXISTS (SELECT 1 FROM dead_letters AS d WHERE d.record_id = r.id)
ORDER BY r.day

-- next_released_all --
SELECT a.name, min(l.until) FROM leases AS l JOIN accounts AS a ON a.id = l.account
WHERE l.released = 1 GROUP BY l.account

-- count_pending --
SELECT account, count(*), min(first_enqueued_at) FROM pending GROUP BY account

-- count_leases --
-- Each claim's kind: 'delayed' (a release waiting out its delay), 'pending' (with ?2: the claim
-- of a runner that no longer lives) or 'leased'.
SELECT account,
       CASE WHEN released = 1 THEN 'delayed' WHEN runner = 1 AND ?2 THEN 'pending'
            ELSE 'leased' END,
       sum(n), min(oldest), min(until)
FROM leases WHERE until > ?1 OR released = 1
GROUP BY 1, 2

-- count_sent --
SELECT id, name, sent FROM accounts

-- count_dead --
SELECT account, count(*) FROM dead_letters GROUP BY account

-- count_flagged --
SELECT account, flags, count(*) FROM records WHERE flags != 0 GROUP BY account, flags

-- in_flight --
SELECT coalesce(sum(n), 0) FROM leases WHERE released = 0 AND until > ?

-- list_dead --
SELECT id, account, reason, source, at, record_id IS NOT NULL AS replayable, remote_inv_id, day, period_kwh,
       accumulated_kwh, raw
FROM dead_letters WHERE id > ? AND (? IS NULL OR account = ?)
ORDER BY id LIMIT ?

-- replay_dead --
INSERT OR IGNORE INTO pending
SELECT r.account, r.deadline, r.remote_inv_id, r.day, r.id, r.version, r.first_enqueued_at,
       json_array(r.id, r.version, r.remote_inv_id, r.day, r.period_kwh, r.accumulated_kwh,
                  1, r.first_enqueued_at)
FROM dead_letters AS d JOIN records AS r ON r.id = d.record_id AND r.version = d.version
WHERE ? IS NULL OR d.account = ?

-- replay_reset_failures --
UPDATE records SET failures = 0
WHERE id IN (SELECT record_id FROM dead_letters WHERE record_id IS NOT NULL
             AND (? IS NULL OR account = ?))

-- replay_forget --
DELETE FROM dead_letters WHERE record_id IS NOT NULL AND (? IS NULL OR account = ?)

-- purge_records --
-- A record pending again (a stale claim's rejection raced a new claim) stays queued.
DELETE FROM records
WHERE id IN (SELECT record_id FROM dead_letters WHERE record_id IS NOT NULL
             AND (? IS NULL OR at < ?))
  AND NOT EXISTS (SELECT 1 FROM pending AS p WHERE p.account = records.account
                  AND p.deadline = records.deadline AND p.remote_inv_id = records.remote_inv_id
                  AND p.day = records.day)

-- purge_dead --
DELETE FROM dead_letters WHERE ? IS NULL OR at < ?

-- ledger_awaiting --
SELECT l.batch_id, a.name, l.records, l.sent_at, l.http_status, l.process_id, l.endpoint,
       l.status, l.status_at
FROM ledger AS l JOIN accounts AS a ON a.id = l.account
WHERE l.account = ? AND l.process_id IS NOT NULL
  AND (l.status IS NULL OR l.status IN ('New', 'Processing'))
ORDER BY l.sent_at LIMIT ?

-- ledger_status --
UPDATE ledger SET status = ?, status_at = ? WHERE batch_id = ?

-- ledger_take --
UPDATE ledger SET requeued = 1 WHERE batch_id = ? AND requeued = 0 RETURNING account, items

-- record_failures --
SELECT failures FROM records WHERE id = ? AND version = ?

-- record_failed --
UPDATE records SET failures = failures + 1 WHERE id = ?

-- ledger_items --
SELECT items FROM ledger WHERE batch_id = ?

-- confirm_record --
UPDATE records SET confirmed = ?2 WHERE id = ?1 AND version = ?2

-- ledger_awaiting_items --
SELECT items FROM ledger WHERE account = ? AND process_id IS NOT NULL
  AND (status IS NULL OR status IN ('New', 'Processing'))

-- records_between --
-- A page of an account's records in a day range, in (inverter, day) order after the cursor
-- and up to inverter ?7 (one inverter: the same as the cursor's), with what decides their
-- state: pending, a dead letter, confirmed (leases are the caller's).
SELECT r.id, r.version, r.remote_inv_id, r.day, r.period_kwh, r.accumulated_kwh,
       EXISTS (SELECT 1 FROM pending AS p WHERE p.account = r.account
               AND p.deadline = r.deadline AND p.remote_inv_id = r.remote_inv_id
               AND p.day = r.day),
       EXISTS (SELECT 1 FROM dead_letters AS d WHERE d.record_id = r.id),
       r.confirmed = r.version
FROM records AS r
WHERE r.account = ?1 AND (r.remote_inv_id, r.day) > (?4, ?5) AND r.remote_inv_id <= ?7
  AND r.day BETWEEN ?2 AND ?3
ORDER BY r.remote_inv_id, r.day LIMIT ?6

-- account_leases --
SELECT released, items FROM leases WHERE account = ?

-- requeue_record --
-- Pending again, where the value is still the one read back and it is no dead letter (a
-- record already pending keeps its row).
INSERT OR IGNORE INTO pending
SELECT account, deadline, remote_inv_id, day, id, version, first_enqueued_at,
       json_array(id, version, remote_inv_id, day, period_kwh, accumulated_kwh,
                  1, first_enqueued_at)
FROM records WHERE id = ?1 AND version = ?2 AND account = ?3
  AND NOT EXISTS (SELECT 1 FROM dead_letters WHERE record_id = ?1)

-- unconfirm_record --
UPDATE records SET confirmed = 0 WHERE id = ?

-- deadlines --
SELECT a.name,
       (SELECT count(*) FROM pending WHERE account = a.id AND deadline BETWEEN ?1 AND ?2),
       (SELECT count(*) FROM pending WHERE account = a.id AND deadline < ?1),
       (SELECT min(deadline) FROM pending WHERE account = a.id AND deadline >= ?1)
FROM accounts AS a WHERE EXISTS (SELECT 1 FROM pending WHERE account = a.id)

-- ledger_prune --
DELETE FROM ledger WHERE sent_at < ?

-- slots_schema --
-- The limiter's slots (queue/slots.py): a few rows per rate key, each gone once its `until` has
-- passed. Added beside schema 2, created on open where missing: an uploader that predates it
-- opens the file as before and ignores the table.
CREATE TABLE IF NOT EXISTS limiter_slots (
    owner TEXT NOT NULL,
    key TEXT NOT NULL,
    slot TEXT NOT NULL,
    until REAL NOT NULL,
    PRIMARY KEY (owner, key, slot)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS limiter_slots_until ON limiter_slots (until);

-- slots_exist --
SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'limiter_slots'

-- slots_put --
INSERT INTO limiter_slots (owner, key, slot, until) VALUES (?, ?, ?, ?)
ON CONFLICT (owner, key, slot) DO UPDATE SET until = excluded.until

-- slots_prune --
DELETE FROM limiter_slots WHERE until <= ?

-- slots_of --
SELECT owner, key, slot, until FROM limiter_slots WHERE owner = ? AND until > ?
