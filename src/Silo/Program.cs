// The Collections engine. Default (local profile): one process on SQLite with the HTTP API on http://127.0.0.1:5080.
// Cluster profile: --profile cluster --postgres "<connection string>" runs a PostgreSQL-clustered silo.
Collections.Hosting.EngineHost.Build(args).Run();
