using System.Collections.Concurrent;
using System.Diagnostics;
using MailKit.Net.Smtp;
using MailKit.Security;

namespace Collections.Outreach;

/// <summary>
/// The relay connections the SMTP transport keeps open between messages: at most <c>Smtp:MaxConnections</c> at once
/// (hosted relays allow a few per account), each used for up to <c>Smtp:MessagesPerConnection</c> messages and closed
/// once unused for <c>Smtp:IdleSeconds</c>. A connection taken again is checked first (NOOP), so one the relay closed
/// while idle is replaced, never blamed; one that failed is never used again. Messages wait for a free connection.
/// </summary>
public sealed class SmtpConnections : IAsyncDisposable
{
    private readonly ConcurrentStack<SmtpConnection> _idle = new();
    private readonly SemaphoreSlim _slots;
    private readonly OutreachOptions.SmtpSettings _settings;
    private int _opened;

    public SmtpConnections(OutreachOptions.SmtpSettings settings)
    {
        _settings = settings;
        _slots = new SemaphoreSlim(Math.Max(1, settings.MaxConnections));
    }

    /// <summary>Connections opened so far (a test reads it).</summary>
    public int Opened => Volatile.Read(ref _opened);

    /// <summary>Waits for one of the <c>MaxConnections</c> places; our own wait, not the relay's. Give it back with <see cref="Return"/>.</summary>
    public Task WaitForPlaceAsync(CancellationToken cancellationToken) => _slots.WaitAsync(cancellationToken);

    /// <summary>An idle connection that still answers, or a new one (connected, logged in). The caller holds a place.</summary>
    public async Task<SmtpConnection> TakeAsync(CancellationToken cancellationToken)
    {
        while (_idle.TryPop(out var idle))
        {
            if (idle.Client.IsConnected && Stopwatch.GetElapsedTime(idle.IdleSince) < TimeSpan.FromSeconds(_settings.IdleSeconds))
            {
                try
                {
                    await idle.Client.NoOpAsync(cancellationToken);
                    return idle;
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // Closed by the relay while idle: a new one below.
                }
            }
            await CloseAsync(idle);
        }
        var client = new SmtpClient { Timeout = _settings.TimeoutSeconds * 1000 };
        try
        {
            var security = !_settings.UseTls ? SecureSocketOptions.None
                : _settings.Port == 465 ? SecureSocketOptions.SslOnConnect : SecureSocketOptions.StartTls;
            await client.ConnectAsync(_settings.Host!, _settings.Port, security, cancellationToken);
            if (!string.IsNullOrEmpty(_settings.User))
                await client.AuthenticateAsync(_settings.User, _settings.Password ?? "", cancellationToken);
        }
        catch
        {
            client.Dispose();
            throw;
        }
        Interlocked.Increment(ref _opened);
        return new SmtpConnection(client);
    }

    /// <summary>
    /// Gives the place back, and the connection (null: none was made) to be used again if it is <paramref name="reusable"/>
    /// and has sent fewer than <c>MessagesPerConnection</c>; otherwise it is closed.
    /// </summary>
    public void Return(SmtpConnection? connection, bool reusable)
    {
        try
        {
            if (connection is null) return;
            if (reusable && connection.Sent < _settings.MessagesPerConnection && connection.Client.IsConnected)
            {
                connection.IdleSince = Stopwatch.GetTimestamp();
                _idle.Push(connection);
            }
            else
            {
                _ = CloseAsync(connection);
            }
        }
        finally
        {
            _slots.Release();
        }
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

    public async ValueTask DisposeAsync()
    {
        while (_idle.TryPop(out var idle)) await CloseAsync(idle);
        _slots.Dispose();
    }
}

/// <summary>One open connection to the relay, and how many messages it has sent.</summary>
public sealed class SmtpConnection(SmtpClient client)
{
    public SmtpClient Client { get; } = client;
    public int Sent { get; set; }
    public long IdleSince { get; set; }
}
