// The gateway as its own process (cluster profile): an Orleans client serving the HTTP API.
Collections.Hosting.GatewayHost.Build(args).Run();
