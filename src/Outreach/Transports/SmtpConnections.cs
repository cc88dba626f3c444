using System.Collections.Concurrent;
using System.Diagnostics;
using MailKit.Net.Smtp;
using MailKit.Security;

namespace Collections.Outreach;

/// <summary>
/// The relay connections the SMTP transport keeps open between messages: at most <c>Smtp:MaxConnections</c> at once
/// (hosted relays allow a few per client), each used for up to <c>Smtp:MessagesPerConnection</c> messages and closed
/// once unused for <c>Smtp:IdleSeconds</c>. A connection taken again is checked first (NOOP, with a short timeout of its
/// own), so one the relay closed while idle is replaced, never blamed; one that failed is never used again. A
/// connection being closed still holds its place until its QUIT is done, so the relay never sees more than the limit.
/// </summary>
public sealed class SmtpConnections : IAsyncDisposable, IDisposable
{
    private readonly ConcurrentStack<SmtpConnection> _idle = new();
    private readonly SemaphoreSlim _places;
    private readonly Func<OutreachOptions.SmtpSettings> _settings;
    private readonly Timer _sweep;
    private volatile bool _disposed;

    public SmtpConnections(Func<OutreachOptions.SmtpSettings> settings)
    {
        _settings = settings;
        _places = new SemaphoreSlim(Math.Max(1, settings().MaxConnections));
        var every = TimeSpan.FromSeconds(Math.Max(1, settings().IdleSeconds));
        _sweep = new Timer(_ => CloseIdle(), null, every, every);
    }

    /// <summary>Waits for one of the <c>MaxConnections</c> places: our own wait, not the relay's. Give it back with <see cref="ReturnAsync"/>.</summary>
    public Task WaitForPlaceAsync(CancellationToken cancellationToken) => _places.WaitAsync(cancellationToken);

    /// <summary>An idle connection that still answers, or a new one (connected, logged in). The caller holds a place.</summary>
    public async Task<SmtpConnection> TakeAsync(CancellationToken cancellationToken)
    {
        var settings = _settings();
        while (_idle.TryPop(out var idle))
        {
            if (idle.Client.IsConnected && !Expired(idle, settings) && await AnswersAsync(idle, settings, cancellationToken)) return idle;
            idle.Client.Dispose(); // dead, silent or expired: dropped at once (no QUIT), so its place is free for the new one
        }
        var client = new SmtpClient { Timeout = settings.TimeoutSeconds * 1000 };
        try
        {
            var security = !settings.UseTls ? SecureSocketOptions.None
                : settings.Port == 465 ? SecureSocketOptions.SslOnConnect : SecureSocketOptions.StartTls;
            await client.ConnectAsync(settings.Host!, settings.Port, security, cancellationToken);
            if (!string.IsNullOrEmpty(settings.User))
                await client.AuthenticateAsync(settings.User, settings.Password ?? "", cancellationToken);
        }
        catch
        {
            client.Dispose();
            throw;
        }
        return new SmtpConnection(client);
    }

    /// <summary>
    /// Whether an idle connection still answers a NOOP within a few seconds (a quarter of the timeout at most). One that
    /// does not is dropped and a new one opened, within the message's time: a half-open connection is not the relay's
    /// failure. Cancelled from outside (the message's deadline, a shutdown): the connection is closed and the cancellation goes on.
    /// </summary>
    private static async Task<bool> AnswersAsync(SmtpConnection idle, OutreachOptions.SmtpSettings settings, CancellationToken cancellationToken)
    {
        using var check = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        check.CancelAfter(TimeSpan.FromSeconds(Math.Min(5, Math.Max(1, settings.TimeoutSeconds / 4.0))));
        try
        {
            await idle.Client.NoOpAsync(check.Token);
            return true;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            idle.Client.Dispose();
            throw;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return false; // closed by the relay while idle, or silent: a new one
        }
    }

    private static bool Expired(SmtpConnection connection, OutreachOptions.SmtpSettings settings) =>
        Stopwatch.GetElapsedTime(connection.IdleSince) >= TimeSpan.FromSeconds(settings.IdleSeconds);

    /// <summary>
    /// Gives the place back, with the connection (null: none was made) kept for the next message if it is
    /// <paramref name="reusable"/> and has sent fewer than <c>MessagesPerConnection</c>; otherwise it is closed first.
    /// </summary>
    public async Task ReturnAsync(SmtpConnection? connection, bool reusable)
    {
        try
        {
            if (connection is null) return;
            if (!_disposed && reusable && connection.Sent < _settings().MessagesPerConnection && connection.Client.IsConnected)
            {
                connection.IdleSince = Stopwatch.GetTimestamp();
                _idle.Push(connection);
            }
            else
            {
                await CloseAsync(connection); // holds the place until its QUIT is done: the relay never sees more than the limit
            }
        }
        finally
        {
            _places.Release();
        }
    }

    /// <summary>Closes the connections unused for <c>IdleSeconds</c> (every <c>IdleSeconds</c>); the others stay, newest first.</summary>
    private void CloseIdle()
    {
        var settings = _settings();
        var kept = new List<SmtpConnection>();
        while (_idle.TryPop(out var idle))
        {
            if (Expired(idle, settings) || _disposed) _ = CloseAsync(idle);
            else kept.Add(idle);
        }
        for (var i = kept.Count - 1; i >= 0; i--) _idle.Push(kept[i]);
    }

    private static async Task CloseAsync(SmtpConnection connection)
    {
        try
        {
            using var quit = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            if (connection.Client.IsConnected) await connection.Client.DisconnectAsync(quit: true, quit.Token);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A QUIT that fails changes nothing: the connection is dropped.
        }
        finally
        {
            connection.Client.Dispose();
        }
    }

    /// <summary>Says QUIT on every idle connection; those still sending are closed when they come back.</summary>
    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        await _sweep.DisposeAsync();
        var closing = new List<Task>();
        while (_idle.TryPop(out var idle)) closing.Add(CloseAsync(idle));
        await Task.WhenAll(closing);
    }

    /// <summary>Drops every idle connection without a QUIT (a container disposed synchronously).</summary>
    public void Dispose()
    {
        _disposed = true;
        _sweep.Dispose();
        while (_idle.TryPop(out var idle)) idle.Client.Dispose();
    }
}

/// <summary>One open connection to the relay, and how many messages it has sent.</summary>
public sealed class SmtpConnection(SmtpClient client)
{
    public SmtpClient Client { get; } = client;
    public int Sent { get; set; }
    public long IdleSince { get; set; } = Stopwatch.GetTimestamp();
}
