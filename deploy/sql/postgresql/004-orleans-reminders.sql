-- Collections: Orleans ADO.NET schema for PostgreSQL, part 4 of 4 (reminders).
-- Used by UseAdoNetReminderService(Invariant = "Npgsql").
-- Since 2026-12-05 the engine reads and writes this table through its own
-- GroupCommitReminderTable (src/Grains), with the same rows, versions and
-- range rules; the OrleansQuery rows below document (and keep) the provider's
-- statements, so a build of Orleans' own table still finds them.
--
-- Contract of Microsoft.Orleans.Reminders.AdoNet 10.4.2 (the classic reminder table;
-- it does NOT pass the CronExpression / NextDueUtc / LastFireUtc / Priority / Action
-- values that some newer upstream scripts reference, so these queries must not use them):
--
--   Query key              Parameters Orleans passes                       Result Orleans reads
--   UpsertReminderRowKey   ServiceId, GrainId, GrainHash, ReminderName,   one row, column Version
--                          StartTime, Period
--   ReadReminderRowsKey    ServiceId, GrainId                              reminder rows (*)
--   ReadReminderRowKey     ServiceId, GrainId, ReminderName                at most one reminder row (*)
--   ReadRangeRows1Key      ServiceId, BeginHash, EndHash                   reminder rows (*)
--   ReadRangeRows2Key      ServiceId, BeginHash, EndHash                   reminder rows (*)
--   DeleteReminderRowKey   ServiceId, GrainId, ReminderName, Version       one row, one column: deleted?
--   DeleteReminderRowsKey  ServiceId                                       nothing
--
--   (*) columns GrainId, ReminderName, StartTime, Period, Version, read by name.
--
-- Value formats:
--   GrainId    the grain id as text (e.g. "type/key"), parsed back by Orleans.
--   GrainHash, BeginHash, EndHash
--              the grain's ring position, an unsigned 32-bit number that Orleans
--              passes reinterpreted as a signed 32-bit integer.
--   StartTime  a UTC DateTime (Npgsql sends timestamptz and only accepts UTC values).
--   Period     milliseconds; Orleans sends an int when it fits and a bigint otherwise,
--              so the query casts it to bigint.
--   Version    the reminder's ETag; 0 when created, +1 on every update.

-- Serialise concurrent runs of the setup scripts.
SELECT pg_advisory_xact_lock(4242001);

CREATE TABLE IF NOT EXISTS OrleansRemindersTable
(
    ServiceId    text        NOT NULL,
    GrainId      text        NOT NULL,
    ReminderName text        NOT NULL,
    StartTime    timestamptz NOT NULL,
    Period       bigint      NOT NULL,
    GrainHash    integer     NOT NULL,
    Version      integer     NOT NULL,

    CONSTRAINT PK_OrleansRemindersTable PRIMARY KEY (ServiceId, GrainId, ReminderName)
);

-- Each silo loads the reminders whose grains hash into its part of the ring.
CREATE INDEX IF NOT EXISTS IX_OrleansRemindersTable_ServiceId_GrainHash
    ON OrleansRemindersTable (ServiceId, GrainHash);

-- UpsertReminderRowKey: create the reminder (version 0) or replace its schedule
-- (version + 1). Returns the resulting version, which becomes the reminder's ETag.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('UpsertReminderRowKey', $q$
INSERT INTO OrleansRemindersTable
    (ServiceId, GrainId, ReminderName, StartTime, Period, GrainHash, Version)
VALUES
    (@ServiceId, @GrainId, @ReminderName, @StartTime, CAST(@Period AS bigint), @GrainHash, 0)
ON CONFLICT (ServiceId, GrainId, ReminderName) DO UPDATE SET
    StartTime = excluded.StartTime,
    Period = excluded.Period,
    GrainHash = excluded.GrainHash,
    Version = OrleansRemindersTable.Version + 1
RETURNING Version;
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

-- ReadReminderRowsKey: all reminders of one grain.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('ReadReminderRowsKey', $q$
SELECT GrainId, ReminderName, StartTime, Period, Version
FROM OrleansRemindersTable
WHERE ServiceId = @ServiceId AND GrainId = @GrainId;
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

-- ReadReminderRowKey: one reminder of one grain.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('ReadReminderRowKey', $q$
SELECT GrainId, ReminderName, StartTime, Period, Version
FROM OrleansRemindersTable
WHERE ServiceId = @ServiceId AND GrainId = @GrainId AND ReminderName = @ReminderName;
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

-- ReadRangeRows1Key / ReadRangeRows2Key: reminders whose grain hash lies in the ring
-- range (BeginHash, EndHash]. Orleans compares the two bounds as signed integers and
-- uses query 1 when BeginHash < EndHash (a plain interval), and query 2 otherwise
-- (the range wraps around the end of the ring, or covers the whole ring when the
-- bounds are equal). GrainHash is stored with the same signed interpretation.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('ReadRangeRows1Key', $q$
SELECT GrainId, ReminderName, StartTime, Period, Version
FROM OrleansRemindersTable
WHERE ServiceId = @ServiceId
  AND GrainHash > @BeginHash AND GrainHash <= @EndHash;
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('ReadRangeRows2Key', $q$
SELECT GrainId, ReminderName, StartTime, Period, Version
FROM OrleansRemindersTable
WHERE ServiceId = @ServiceId
  AND (GrainHash > @BeginHash OR GrainHash <= @EndHash);
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

-- DeleteReminderRowKey: remove a reminder if its version still matches the ETag.
-- Orleans expects exactly one row with one boolean-like column
-- (true = removed, false = not found or version mismatch).
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('DeleteReminderRowKey', $q$
WITH deleted AS
(
    DELETE FROM OrleansRemindersTable
    WHERE ServiceId = @ServiceId AND GrainId = @GrainId
      AND ReminderName = @ReminderName AND Version = @Version
    RETURNING 1
)
SELECT COUNT(*) > 0 AS Deleted FROM deleted;
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

-- DeleteReminderRowsKey: remove every reminder of the service (Orleans uses this in tests).
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('DeleteReminderRowsKey', $q$
DELETE FROM OrleansRemindersTable
WHERE ServiceId = @ServiceId;
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;
