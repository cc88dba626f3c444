using System.Net;
using System.Net.Sockets;

namespace Collections.TestSupport;

public static class Ports
{
    private static readonly HashSet<int> HandedOut = [];
    private static readonly (int Low, int High) Ephemeral = EphemeralRange();

    /// <summary>
    /// A TCP port that nothing is listening on right now, chosen below the kernel's ephemeral range: a port the OS
    /// hands out for port 0 is also the pool every outgoing connection (Npgsql, HttpClient) draws from, so between
    /// "free" and the engine binding it a client socket could take it (seen once in CI as AddressInUseException).
    /// No port is handed out twice in one test run.
    /// </summary>
    public static int Free()
    {
        lock (HandedOut)
        {
            for (var tries = 0; tries < 500; tries++)
            {
                var port = Random.Shared.Next(15000, 20000);
                if (port >= Ephemeral.Low && port <= Ephemeral.High) continue;
                if (HandedOut.Contains(port) || !CanBind(IPAddress.Loopback, port) || !CanBind(IPAddress.Any, port)) continue;
                HandedOut.Add(port);
                return port;
            }
            throw new InvalidOperationException("No free TCP port between 15000 and 20000 outside the ephemeral range.");
        }
    }

    private static bool CanBind(IPAddress address, int port)
    {
        try
        {
            using var listener = new TcpListener(address, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static (int, int) EphemeralRange()
    {
        try
        {
            var parts = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
            return (int.Parse(parts[0]), int.Parse(parts[1]));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return (32768, 60999);
        }
    }
}
