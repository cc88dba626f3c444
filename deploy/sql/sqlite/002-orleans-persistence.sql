-- Collections: Orleans ADO.NET schema for SQLite, part 2 of 3 (grain persistence).
-- Used by AddAdoNetGrainStorage(..., Invariant = "System.Data.SQLite").
--
-- One row per (service, grain type, grain id) holds the serialized grain state.
--
-- How Orleans identifies a grain here (all values computed by Orleans and passed in):
--   GrainIdHash / GrainTypeHash   signed 32-bit hashes of the id and of the type name;
--                                 they make the lookup index small and fast.
--   GrainIdN0 / GrainIdN1         the numeric part of the key (Guid split in two
--                                 64-bit halves, or 0 and the integer key; 0/0 for
--                                 string keys).
--   GrainIdExtensionString        the string key, or the key extension of compound
--                                 keys; NULL when there is none.
--   GrainTypeString, ServiceId    full type name and Orleans ServiceId.
-- The hashes only narrow the search; every query also compares the full values,
-- so hash collisions are harmless.
--
-- Versioning (optimistic concurrency): Version is the ETag Orleans hands to the grain.
-- A write or clear only succeeds when the caller's version equals the stored one, and
-- then the version goes up by one. If the versions differ the queries report it (see
-- each query) and Orleans throws InconsistentStateException.
--
-- Parameters Orleans passes (Microsoft.Data.Sqlite rejects SQL that mentions a
-- parameter that was not supplied, so each query uses only its own set):
--   read:          GrainIdHash, GrainIdN0, GrainIdN1, GrainTypeHash, GrainTypeString,
--                  GrainIdExtensionString, ServiceId
--   clear, delete: the read set + GrainStateVersion (NULL when the grain has no ETag)
--   write:         the clear set + PayloadBinary
--
-- Every query is a single-statement check-and-change (or a sequence where each
-- statement is independently safe), so concurrent writers cannot both succeed.

CREATE TABLE IF NOT EXISTS OrleansStorage
(
    GrainIdHash            INTEGER NOT NULL,
    GrainIdN0              INTEGER NOT NULL,
    GrainIdN1              INTEGER NOT NULL,
    GrainTypeHash          INTEGER NOT NULL,
    GrainTypeString        TEXT    NOT NULL,
    GrainIdExtensionString TEXT    NULL,
    ServiceId              TEXT    NOT NULL,
    -- Serialized state; NULL after the state was cleared (the row and its version stay).
    PayloadBinary          BLOB    NULL,
    -- UTC time of the last change ('YYYY-MM-DD HH:MM:SS'); for people, Orleans ignores it.
    ModifiedOn             TEXT    NOT NULL,
    -- Current ETag (1 after the first write).
    Version                INTEGER NULL
);

CREATE INDEX IF NOT EXISTS IX_OrleansStorage ON OrleansStorage (GrainIdHash, GrainTypeHash);

-- ReadFromStorageKey: load a grain's state.
-- Returns at most one row: PayloadBinary (NULL if cleared) and Version (the ETag).
-- No row means the grain was never written.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('ReadFromStorageKey', '
SELECT PayloadBinary, Version
FROM OrleansStorage
WHERE GrainIdHash = @GrainIdHash AND GrainTypeHash = @GrainTypeHash
  AND GrainIdN0 = @GrainIdN0 AND GrainIdN1 = @GrainIdN1
  AND GrainTypeString = @GrainTypeString
  AND GrainIdExtensionString IS @GrainIdExtensionString
  AND ServiceId = @ServiceId
LIMIT 1;
')
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

-- WriteToStorageKey: save a grain's state.
-- Orleans reads column NewGrainStateVersion and expects exactly one row on success.
--   * Grain has an ETag: update the row only if its Version still equals it; the
--     UPDATE returns the new version. On a mismatch it returns no row, which Orleans
--     treats as a conflict because it sent an ETag.
--   * Grain has no ETag (never saved): insert version 1 only if no row exists yet; the
--     INSERT returns 1. If a row already exists the last SELECT returns one row with
--     NULL, which Orleans treats as a conflict (returning no row would make Orleans
--     think the write worked). changes() is per connection, so other writers cannot
--     influence it.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('WriteToStorageKey', '
UPDATE OrleansStorage
SET PayloadBinary = @PayloadBinary,
    ModifiedOn = CURRENT_TIMESTAMP,
    Version = Version + 1
WHERE @GrainStateVersion IS NOT NULL
  AND GrainIdHash = @GrainIdHash AND GrainTypeHash = @GrainTypeHash
  AND GrainIdN0 = @GrainIdN0 AND GrainIdN1 = @GrainIdN1
  AND GrainTypeString = @GrainTypeString
  AND GrainIdExtensionString IS @GrainIdExtensionString
  AND ServiceId = @ServiceId
  AND Version = @GrainStateVersion
RETURNING Version AS NewGrainStateVersion;

INSERT INTO OrleansStorage
    (GrainIdHash, GrainIdN0, GrainIdN1, GrainTypeHash, GrainTypeString,
     GrainIdExtensionString, ServiceId, PayloadBinary, ModifiedOn, Version)
SELECT @GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainTypeHash, @GrainTypeString,
       @GrainIdExtensionString, @ServiceId, @PayloadBinary, CURRENT_TIMESTAMP, 1
WHERE @GrainStateVersion IS NULL
  AND NOT EXISTS
  (
      SELECT 1 FROM OrleansStorage
      WHERE GrainIdHash = @GrainIdHash AND GrainTypeHash = @GrainTypeHash
        AND GrainIdN0 = @GrainIdN0 AND GrainIdN1 = @GrainIdN1
        AND GrainTypeString = @GrainTypeString
        AND GrainIdExtensionString IS @GrainIdExtensionString
        AND ServiceId = @ServiceId
  )
RETURNING Version AS NewGrainStateVersion;

SELECT NULL AS NewGrainStateVersion
WHERE @GrainStateVersion IS NULL AND changes() = 0;
')
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

-- ClearStorageKey: clear a grain's state but keep the row, so the version keeps
-- counting up (a stale writer can never reuse an old ETag).
-- Returns the new version in the first column, or no row on a version mismatch
-- (Orleans then reports a conflict).
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('ClearStorageKey', '
UPDATE OrleansStorage
SET PayloadBinary = NULL,
    ModifiedOn = CURRENT_TIMESTAMP,
    Version = Version + 1
WHERE GrainIdHash = @GrainIdHash AND GrainTypeHash = @GrainTypeHash
  AND GrainIdN0 = @GrainIdN0 AND GrainIdN1 = @GrainIdN1
  AND GrainTypeString = @GrainTypeString
  AND GrainIdExtensionString IS @GrainIdExtensionString
  AND ServiceId = @ServiceId
  AND Version = @GrainStateVersion
RETURNING Version AS NewGrainStateVersion;
')
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

-- DeleteStorageKey: used instead of ClearStorageKey when the storage option
-- DeleteStateOnClear = true. Removes the row if the version matches.
-- Returns one row with a value different from the old ETag on success, or no row on
-- a version mismatch (Orleans then reports a conflict).
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('DeleteStorageKey', '
DELETE FROM OrleansStorage
WHERE GrainIdHash = @GrainIdHash AND GrainTypeHash = @GrainTypeHash
  AND GrainIdN0 = @GrainIdN0 AND GrainIdN1 = @GrainIdN1
  AND GrainTypeString = @GrainTypeString
  AND GrainIdExtensionString IS @GrainIdExtensionString
  AND ServiceId = @ServiceId
  AND Version = @GrainStateVersion
RETURNING Version + 1 AS NewGrainStateVersion;
')
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;
