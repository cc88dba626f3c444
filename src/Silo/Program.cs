// The Collections engine. Default (local profile): one process on SQLite with the HTTP API on http://127.0.0.1:5080.
// Cluster profile: --profile cluster --postgres "<connection string>" runs a PostgreSQL-clustered silo.
// `probe [url]`: a container's health check (exit 0 when the engine is ready).
if (Collections.Hosting.HealthProbe.IsProbe(args)) return Collections.Hosting.HealthProbe.Run(args);
try
{
    Collections.Hosting.EngineHost.Build(args).Run();
    return 0;
}
catch (Exception e) when (Collections.Hosting.StartFailure.Explain(e) is { } reason)
{
    // A reason the operator can act on, in one line (the log holds the details).
    Console.Error.WriteLine($"Collections did not start: {reason}");
    return 1;
}
