-- Collections: Orleans ADO.NET schema for SQLite, part 1 of 3 (query catalogue).
--
-- How this works: the Orleans ADO.NET providers ship no SQL of their own. When a
-- provider starts, it loads the statements it needs from the OrleansQuery table
-- (one row per QueryKey) and from then on runs those texts with named parameters
-- written as @Name. The following scripts (002, 003) fill this table.
--
-- Rules for every script in this folder:
--   * the whole file runs as one command inside a transaction (Microsoft.Data.Sqlite
--     executes the statements one after another);
--   * running it again must be harmless: tables and indexes use IF NOT EXISTS, and
--     the query rows are upserted so that corrected query texts replace old ones;
--   * PRAGMA journal_mode=WAL is set by the application, not here (it cannot run
--     inside a transaction).
--
-- Orleans invariant name: "System.Data.SQLite" (Orleans maps it to Microsoft.Data.Sqlite).

CREATE TABLE IF NOT EXISTS OrleansQuery
(
    -- Name of the query, e.g. 'ReadFromStorageKey'. Orleans looks queries up by this name.
    QueryKey  TEXT NOT NULL PRIMARY KEY,
    -- SQL text Orleans executes for that key.
    QueryText TEXT NOT NULL
);
