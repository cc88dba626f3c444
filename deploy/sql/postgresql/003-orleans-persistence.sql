-- Collections: Orleans ADO.NET schema for PostgreSQL, part 3 of 4 (grain persistence).
-- Used by AddAdoNetGrainStorage(..., Invariant = "Npgsql").
--
-- One row per (service, grain type, grain id) holds the serialized grain state.
--
-- How Orleans identifies a grain here (all values computed by Orleans and passed in):
--   GrainIdHash / GrainTypeHash   signed 32-bit hashes of the id and of the type name;
--                                 they keep the lookup index small.
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
-- then the version goes up by one. On a mismatch the queries report it (see each
-- query) and Orleans throws InconsistentStateException.
--
-- Parameters Orleans passes (types as Npgsql sends them):
--   read:          GrainIdHash int, GrainIdN0 bigint, GrainIdN1 bigint, GrainTypeHash int,
--                  GrainTypeString text, GrainIdExtensionString text (may be NULL),
--                  ServiceId text
--   clear, delete: the read set + GrainStateVersion int (NULL when the grain has no ETag)
--   write:         the clear set + PayloadBinary bytea

-- Serialise concurrent runs of the setup scripts.
SELECT pg_advisory_xact_lock(4242001);

CREATE TABLE IF NOT EXISTS OrleansStorage
(
    GrainIdHash            integer     NOT NULL,
    GrainIdN0              bigint      NOT NULL,
    GrainIdN1              bigint      NOT NULL,
    GrainTypeHash          integer     NOT NULL,
    GrainTypeString        text        NOT NULL,
    GrainIdExtensionString text        NULL,
    ServiceId              text        NOT NULL,
    -- Serialized state; NULL after the state was cleared (the row and its version stay).
    PayloadBinary          bytea       NULL,
    -- Time of the last change; for people, Orleans ignores it.
    ModifiedOn             timestamptz NOT NULL DEFAULT now(),
    -- Current ETag (1 after the first write).
    Version                integer     NULL
);

CREATE INDEX IF NOT EXISTS IX_OrleansStorage ON OrleansStorage (GrainIdHash, GrainTypeHash);

-- Saves a grain's state. Returns the new version, or NULL when the write was refused
-- (stale version, or a first write for a grain that already has a row).
--   * With a version: update the row only if its Version still equals it. Concurrent
--     updaters queue on the row lock and the later one no longer matches.
--   * Without a version (first save): insert version 1 unless a row exists. A
--     transaction-scoped advisory lock on the two hashes makes concurrent first saves
--     of the same grain run one after the other, so the existence check of the second
--     one sees the row of the first (each statement of a PL/pgSQL function takes a
--     fresh snapshot in READ COMMITTED).
CREATE OR REPLACE FUNCTION orleans_storage_write(
    p_grain_id_hash   integer,
    p_grain_id_n0     bigint,
    p_grain_id_n1     bigint,
    p_grain_type_hash integer,
    p_grain_type      text,
    p_grain_id_ext    text,
    p_service_id      text,
    p_version         integer,
    p_payload         bytea)
RETURNS integer
LANGUAGE plpgsql
AS $fn$
DECLARE
    new_version integer;
BEGIN
    IF p_version IS NOT NULL THEN
        UPDATE OrleansStorage
        SET PayloadBinary = p_payload,
            ModifiedOn = now(),
            Version = Version + 1
        WHERE GrainIdHash = p_grain_id_hash AND GrainTypeHash = p_grain_type_hash
          AND GrainIdN0 = p_grain_id_n0 AND GrainIdN1 = p_grain_id_n1
          AND GrainTypeString = p_grain_type
          AND GrainIdExtensionString IS NOT DISTINCT FROM p_grain_id_ext
          AND ServiceId = p_service_id
          AND Version = p_version
        RETURNING Version INTO new_version;
        RETURN new_version;
    END IF;

    PERFORM pg_advisory_xact_lock(p_grain_id_hash, p_grain_type_hash);

    INSERT INTO OrleansStorage
        (GrainIdHash, GrainIdN0, GrainIdN1, GrainTypeHash, GrainTypeString,
         GrainIdExtensionString, ServiceId, PayloadBinary, ModifiedOn, Version)
    SELECT p_grain_id_hash, p_grain_id_n0, p_grain_id_n1, p_grain_type_hash, p_grain_type,
           p_grain_id_ext, p_service_id, p_payload, now(), 1
    WHERE NOT EXISTS
    (
        SELECT 1 FROM OrleansStorage
        WHERE GrainIdHash = p_grain_id_hash AND GrainTypeHash = p_grain_type_hash
          AND GrainIdN0 = p_grain_id_n0 AND GrainIdN1 = p_grain_id_n1
          AND GrainTypeString = p_grain_type
          AND GrainIdExtensionString IS NOT DISTINCT FROM p_grain_id_ext
          AND ServiceId = p_service_id
    )
    RETURNING Version INTO new_version;
    RETURN new_version;
END
$fn$;

-- ReadFromStorageKey: load a grain's state.
-- Returns at most one row: PayloadBinary (NULL if cleared) and Version (the ETag).
-- No row means the grain was never written.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('ReadFromStorageKey', $q$
SELECT PayloadBinary, Version
FROM OrleansStorage
WHERE GrainIdHash = @GrainIdHash AND GrainTypeHash = @GrainTypeHash
  AND GrainIdN0 = @GrainIdN0 AND GrainIdN1 = @GrainIdN1
  AND GrainTypeString = @GrainTypeString
  AND GrainIdExtensionString IS NOT DISTINCT FROM @GrainIdExtensionString
  AND ServiceId = @ServiceId
LIMIT 1;
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

-- WriteToStorageKey: save a grain's state. Always one row, column NewGrainStateVersion:
-- the new version, or NULL when refused (Orleans then throws InconsistentStateException).
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('WriteToStorageKey', $q$
SELECT orleans_storage_write(
    @GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainTypeHash, @GrainTypeString,
    @GrainIdExtensionString, @ServiceId, @GrainStateVersion, @PayloadBinary) AS NewGrainStateVersion;
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

-- ClearStorageKey: clear a grain's state but keep the row, so the version keeps
-- counting up (a stale writer can never reuse an old ETag).
-- Returns the new version, or no row on a version mismatch (Orleans reports a conflict).
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('ClearStorageKey', $q$
UPDATE OrleansStorage
SET PayloadBinary = NULL,
    ModifiedOn = now(),
    Version = Version + 1
WHERE GrainIdHash = @GrainIdHash AND GrainTypeHash = @GrainTypeHash
  AND GrainIdN0 = @GrainIdN0 AND GrainIdN1 = @GrainIdN1
  AND GrainTypeString = @GrainTypeString
  AND GrainIdExtensionString IS NOT DISTINCT FROM @GrainIdExtensionString
  AND ServiceId = @ServiceId
  AND Version = @GrainStateVersion
RETURNING Version AS NewGrainStateVersion;
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;

-- DeleteStorageKey: used instead of ClearStorageKey when the storage option
-- DeleteStateOnClear = true. Removes the row if the version matches.
-- Returns a value different from the old ETag on success, or no row on a version
-- mismatch (Orleans reports a conflict).
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('DeleteStorageKey', $q$
DELETE FROM OrleansStorage
WHERE GrainIdHash = @GrainIdHash AND GrainTypeHash = @GrainTypeHash
  AND GrainIdN0 = @GrainIdN0 AND GrainIdN1 = @GrainIdN1
  AND GrainTypeString = @GrainTypeString
  AND GrainIdExtensionString IS NOT DISTINCT FROM @GrainIdExtensionString
  AND ServiceId = @ServiceId
  AND Version = @GrainStateVersion
RETURNING Version + 1 AS NewGrainStateVersion;
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;
