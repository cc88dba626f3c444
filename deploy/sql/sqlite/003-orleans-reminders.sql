-- Collections: Orleans ADO.NET schema for SQLite, part 3 of 3 (reminders).
-- Used by UseAdoNetReminderService(Invariant = "System.Data.SQLite").
-- Since 2026-12-05 the engine reads and writes this table through its own
-- GroupCommitReminderTable (src/Grains), with the same rows, versions and
-- range rules; the OrleansQuery rows below document (and keep) the provider's
-- statements, so a build of Orleans' own table still finds them.
--
-- Orleans does not publish SQLite reminder scripts; these queries are written for the
-- contract of Orleans 10.x (Microsoft.Orleans.Reminders.AdoNet 10.4.2):
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
--   StartTime  a UTC DateTime; Microsoft.Data.Sqlite stores it as TEXT
--              'yyyy-MM-dd HH:mm:ss.FFFFFFF' and GetDateTime parses it back.
--   Period     milliseconds (Orleans reads it with GetInt64).
--   Version    the reminder's ETag; 0 when created, +1 on every update.
--
-- Only the parameters listed above may appear in each query: Microsoft.Data.Sqlite
-- throws when the SQL mentions a parameter that was not supplied.

CREATE TABLE IF NOT EXISTS OrleansRemindersTable
(
    ServiceId    TEXT    NOT NULL,
    GrainId      TEXT    NOT NULL,
    ReminderName TEXT    NOT NULL,
    StartTime    TEXT    NOT NULL,
    Period       INTEGER NOT NULL,
    GrainHash    INTEGER NOT NULL,
    Version      INTEGER NOT NULL,

    PRIMARY KEY (ServiceId, GrainId, ReminderName)
);

-- Each silo loads the reminders whose grains hash into its part of the ring.
CREATE INDEX IF NOT EXISTS IX_OrleansRemindersTable_ServiceId_GrainHash
    ON OrleansRemindersTable (ServiceId, GrainHash);

-- UpsertReminderRowKey: create the reminder (version 0) or replace its schedule
-- (version + 1). Returns the resulting version, which becomes the reminder's ETag.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('UpsertReminderRowKey', '
INSERT INTO OrleansRemindersTable
    (ServiceId, GrainId, ReminderName, StartTime, Period, GrainHash, Version)
VALUES
    (@ServiceId, @GrainId, @ReminderName, @StartTime, @Period, @GrainHash, 0)
ON CONFLICT (ServiceId, GrainId, ReminderName) DO UPDATE SET
    StartTime = excluded.StartTime,
    Period = excluded.Period,
    GrainHash = excluded.GrainHash,
    Version = Version + 1
RETURNING Version;
')
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

-- ReadReminderRowsKey: all reminders of one grain.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('ReadReminderRowsKey', '
SELECT GrainId, ReminderName, StartTime, Period, Version
FROM OrleansRemindersTable
WHERE ServiceId = @ServiceId AND GrainId = @GrainId;
')
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

-- ReadReminderRowKey: one reminder of one grain.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('ReadReminderRowKey', '
SELECT GrainId, ReminderName, StartTime, Period, Version
FROM OrleansRemindersTable
WHERE ServiceId = @ServiceId AND GrainId = @GrainId AND ReminderName = @ReminderName;
')
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

-- ReadRangeRows1Key / ReadRangeRows2Key: reminders whose grain hash lies in the ring
-- range (BeginHash, EndHash]. Orleans compares the two bounds as signed integers and
-- uses query 1 when BeginHash < EndHash (a plain interval), and query 2 otherwise
-- (the range wraps around the end of the ring, or covers the whole ring when the
-- bounds are equal). GrainHash is stored with the same signed interpretation.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('ReadRangeRows1Key', '
SELECT GrainId, ReminderName, StartTime, Period, Version
FROM OrleansRemindersTable
WHERE ServiceId = @ServiceId
  AND GrainHash > @BeginHash AND GrainHash <= @EndHash;
')
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('ReadRangeRows2Key', '
SELECT GrainId, ReminderName, StartTime, Period, Version
FROM OrleansRemindersTable
WHERE ServiceId = @ServiceId
  AND (GrainHash > @BeginHash OR GrainHash <= @EndHash);
')
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

-- DeleteReminderRowKey: remove a reminder if its version still matches the ETag.
-- Orleans expects exactly one row with one column that converts to a boolean
-- (1 = removed, 0 = not found or version mismatch). changes() counts the rows removed
-- by the DELETE just before it on this connection.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('DeleteReminderRowKey', '
DELETE FROM OrleansRemindersTable
WHERE ServiceId = @ServiceId AND GrainId = @GrainId
  AND ReminderName = @ReminderName AND Version = @Version;

SELECT changes() > 0 AS Deleted;
')
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

-- DeleteReminderRowsKey: remove every reminder of the service (Orleans uses this in tests).
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('DeleteReminderRowsKey', '
DELETE FROM OrleansRemindersTable
WHERE ServiceId = @ServiceId;
')
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;
