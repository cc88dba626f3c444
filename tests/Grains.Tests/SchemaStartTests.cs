using Collections.Persistence;
using Collections.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;

namespace Collections.Grains.Tests;

public sealed class SchemaStartTests
{
    [PostgresFact]
    public async Task Silos_started_together_each_bring_the_schema_up_to_date_without_failing()
    {
        // Compose and Kubernetes start their silos at once; each applies the schema at start on the same database.
        var database = await TestDatabases.PostgresAsync();

        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => DatabaseSchema.ApplyAsync(database, NullLogger.Instance))));

        await DatabaseSchema.ApplyAsync(database, NullLogger.Instance); // and again, one alone
    }
}
