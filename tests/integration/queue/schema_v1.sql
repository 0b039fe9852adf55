-- The queue file's schema 1 (uploader 0.1), kept to test the migration to schema 2.

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
    failures INTEGER NOT NULL DEFAULT 0
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
    period_kwh TEXT NOT NULL,
    accumulated_kwh TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    first_enqueued_at REAL NOT NULL,
    PRIMARY KEY (account, deadline, remote_inv_id, day)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS leases (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account INTEGER NOT NULL,
    until REAL NOT NULL,
    released INTEGER NOT NULL DEFAULT 0,
    n INTEGER NOT NULL,
    oldest REAL,
    items BLOB NOT NULL
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
        new.period_kwh, new.accumulated_kwh, 0, new.first_enqueued_at);
    DELETE FROM dead_letters WHERE record_id = new.id;
END;
PRAGMA user_version = 1;
