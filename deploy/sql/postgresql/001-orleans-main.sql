-- Collections: Orleans ADO.NET schema for PostgreSQL, part 1 of 4 (query catalogue).
--
-- How this works: the Orleans ADO.NET providers ship no SQL of their own. When a
-- provider starts, it loads the statements it needs from the OrleansQuery table
-- (one row per QueryKey) and from then on runs those texts through Npgsql with
-- named parameters written as @Name. Scripts 002-004 fill this table.
--
-- Rules for every script in this folder:
--   * the whole file runs as one command (Npgsql, several statements) inside a
--     transaction, so nothing here may need to run outside a transaction and there
--     are no psql meta-commands;
--   * running it again must be harmless: tables and indexes use IF NOT EXISTS,
--     functions use CREATE OR REPLACE, and query rows are upserted so that
--     corrected query texts replace old ones.
--
-- Unquoted identifiers are folded to lower case by PostgreSQL; Npgsql matches the
-- column names Orleans asks for case-insensitively, so that is fine.
--
-- Orleans invariant name: "Npgsql".

-- Serialise concurrent runs of the setup scripts (for example two services starting
-- at the same moment). The lock is released when the transaction ends.
SELECT pg_advisory_xact_lock(4242001);

CREATE TABLE IF NOT EXISTS OrleansQuery
(
    -- Name of the query, e.g. 'ReadFromStorageKey'. Orleans looks queries up by this name.
    QueryKey  varchar(64) NOT NULL,
    -- SQL text Orleans executes for that key.
    QueryText text        NOT NULL,

    CONSTRAINT PK_OrleansQuery PRIMARY KEY (QueryKey)
);
