// The gateway as its own process (cluster profile): an Orleans client serving the HTTP API.
// `probe [url]`: a container's health check (exit 0 when the gateway is ready).
if (Collections.Hosting.HealthProbe.IsProbe(args)) return Collections.Hosting.HealthProbe.Run(args);
return Collections.Hosting.StartFailure.Run("Collections gateway", () => Collections.Hosting.GatewayHost.Build(args));
