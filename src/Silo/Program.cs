// The Collections engine. Default (local profile): one process on SQLite with the HTTP API on http://127.0.0.1:5080.
// Cluster profile: --profile cluster --postgres "<connection string>" runs a PostgreSQL-clustered silo.
// `probe [url]`: a container's health check (exit 0 when the engine is ready).
if (Collections.Hosting.HealthProbe.IsProbe(args)) return Collections.Hosting.HealthProbe.Run(args);
return Collections.Hosting.StartFailure.Run("Collections", () => Collections.Hosting.EngineHost.Build(args));
