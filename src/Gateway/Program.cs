// The gateway as its own process (cluster profile): an Orleans client serving the HTTP API.
// `probe [url]`: a container's health check (exit 0 when the gateway is ready).
if (Collections.Hosting.HealthProbe.IsProbe(args)) return Collections.Hosting.HealthProbe.Run(args);
try
{
    Collections.Hosting.GatewayHost.Build(args).Run();
    return 0;
}
catch (Exception e) when (Collections.Hosting.StartFailure.Explain(e) is { } reason)
{
    // A reason the operator can act on, in one line (the log holds the details).
    Console.Error.WriteLine($"Collections gateway did not start: {reason}");
    return 1;
}
