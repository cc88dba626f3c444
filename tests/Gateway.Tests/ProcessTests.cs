using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Collections.TestSupport;

namespace Collections.Gateway.Tests;

/// <summary>The real executables, killed with SIGKILL, as an operator would.</summary>
public sealed class ProcessTests
{
    [Fact]
    public async Task Killing_the_local_engine_with_sigkill_loses_no_cent()
    {
        var data = TestDatabases.NewFolder();
        var http = new Uri($"http://127.0.0.1:{Ports.Free()}");
        string[] args = ["--data", data, "--urls", http.ToString(), "--silo-port", Ports.Free().ToString(), "--gateway-port", Ports.Free().ToString()];
        string account;
        using (var engine = await EngineProcess.StartAsync("Silo", http, args))
        {
            using var client = Client(http, data);
            account = await Api.OpenAccountAsync(client);
            Assert.Equal(HttpStatusCode.Created, (await Api.PostEntryAsync(client, account, Api.Charge(250.00m))).StatusCode);
            Assert.Equal(HttpStatusCode.Created, (await Api.PostEntryAsync(client, account, Api.Payment(40.00m), "payment-1")).StatusCode);
            engine.KillHard();
        }

        using (await EngineProcess.StartAsync("Silo", http, args))
        {
            using var client = Client(http, data);
            var view = await client.GetJsonAsync(account);
            Assert.Equal(210.00m, view.GetProperty("balances").GetProperty("balance").GetDecimal());
            Assert.Equal(2, view.GetProperty("entries").GetArrayLength());

            // The client never saw an answer? It retries with the same key, and nothing is posted twice.
            var retry = await Api.PostEntryAsync(client, account, Api.Payment(40.00m), "payment-1");
            Assert.True(retry.Headers.Contains("Idempotent-Replayed"));
            Assert.Equal(2, (await client.GetJsonAsync(account)).GetProperty("entries").GetArrayLength());
        }
    }

    [PostgresFact]
    public async Task In_the_cluster_profile_an_account_is_still_served_after_a_silo_is_killed()
    {
        var postgres = TestDatabases.PostgresConnectionString!;
        var clusterId = TestDatabases.NewServiceId();
        string[] Common(string data) => ["--profile", "cluster", "--postgres", postgres, "--cluster-id", clusterId, "--Collections:ServiceId", clusterId, "--data", data];

        var siloHealth1 = new Uri($"http://127.0.0.1:{Ports.Free()}");
        var siloHealth2 = new Uri($"http://127.0.0.1:{Ports.Free()}");
        var gatewayHttp = new Uri($"http://127.0.0.1:{Ports.Free()}");
        using var silo1 = await EngineProcess.StartAsync("Silo", siloHealth1,
            [.. Common(TestDatabases.NewFolder()), "--urls", siloHealth1.ToString(), "--silo-port", Ports.Free().ToString(), "--gateway-port", Ports.Free().ToString()]);
        using var silo2 = await EngineProcess.StartAsync("Silo", siloHealth2,
            [.. Common(TestDatabases.NewFolder()), "--urls", siloHealth2.ToString(), "--silo-port", Ports.Free().ToString(), "--gateway-port", Ports.Free().ToString()]);
        using var gateway = await EngineProcess.StartAsync("Gateway", gatewayHttp, [.. Common(TestDatabases.NewFolder()), "--urls", gatewayHttp.ToString()]);

        // The shared test database may already hold an admin key from an earlier run, so make one for this test.
        var (_, adminKey) = await new Collections.Persistence.ApiKeyStore(Collections.Persistence.DatabaseOptions.Postgres(postgres), TimeProvider.System)
            .CreateAsync("cluster test", Collections.Persistence.Roles.Admin, "test");
        using var client = new HttpClient { BaseAddress = gatewayHttp, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", adminKey);
        var accounts = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            var account = await Api.OpenAccountAsync(client);
            await Api.PostEntryAsync(client, account, Api.Charge(250.00m));
            await Api.PostEntryAsync(client, account, Api.Payment(40.00m));
            accounts.Add(account);
        }

        silo2.KillHard();

        foreach (var account in accounts)
        {
            var balance = await EventuallyAsync(async () =>
            {
                var response = await client.GetAsync(account);
                response.EnsureSuccessStatusCode();
                return (await response.JsonAsync()).GetProperty("balances").GetProperty("balance").GetDecimal();
            }, TimeSpan.FromSeconds(120));
            Assert.Equal(210.00m, balance);
        }
    }

    private static HttpClient Client(Uri baseAddress, string dataFolder)
    {
        var client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
        var key = File.ReadAllText(Path.Combine(dataFolder, "admin-api-key")).Trim();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    private static async Task<T> EventuallyAsync<T>(Func<Task<T>> attempt, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                return await attempt();
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(1000);
            }
        }
    }
}
