using System.Data.Common;
using Collections.Persistence;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Storage;

namespace Collections.Grains;

/// <summary>
/// Accounts written before the journal, by Orleans grain storage (state "patient-account" in <c>OrleansStorage</c>,
/// ledger included). An account with no stream of its own reads its state from there once; the account then commits it
/// to the journal and never reads it again. A database that never held such rows costs one query per process.
/// </summary>
public sealed class LegacyAccountStates(IServiceProvider services, DatabaseOptions database, ILogger<LegacyAccountStates> logger)
{
    private AnsweredOnce<bool>? _present;

    public async Task<AccountState?> ReadAsync(GrainId account, CancellationToken cancellationToken)
    {
        // A failure to answer fails this activation (and is asked again next time) rather than start it empty.
        if (!await (_present ??= new AnsweredOnce<bool>(PresentAsync)).GetAsync()) return null;
        if (services.GetKeyedService<IGrainStorage>(StorageNames.StoredBefore) is not { } storage) return null;
        var state = new GrainState<AccountState>();
        await storage.ReadStateAsync(StorageNames.AccountState, account, state);
        return state.RecordExists && state.State is { IsOpen: true } open ? open : null;
    }

    private async Task<bool> PresentAsync()
    {
        try
        {
            await using var connection = await database.OpenAsync();
            await using var command = connection.Command("SELECT 1 FROM OrleansStorage WHERE GrainTypeString = @state AND PayloadBinary IS NOT NULL LIMIT 1");
            command.WithParameter("state", StorageNames.AccountState);
            var present = await command.ExecuteScalarAsync() is not null;
            if (present) logger.LogInformation("Accounts stored before the journal were found; each moves to the journal when it is next activated");
            return present;
        }
        catch (DbException ex) when (SqlStatements.MissingTable(ex))
        {
            // No Orleans storage table (a database set up by the journal alone): nothing to carry over.
            logger.LogDebug("No accounts stored before the journal ({Error})", ex.GetType().Name);
            return false;
        }
    }
}
