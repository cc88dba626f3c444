namespace Collections.Hosting;

/// <summary>
/// <c>Collections.Silo probe [url]</c> / <c>Collections.Gateway probe [url]</c>: asks the process in this container
/// whether it is ready (exit 0) or not (exit 1), for container health checks where no curl is installed.
/// </summary>
public static class HealthProbe
{
    public static bool IsProbe(string[] args) => args is ["probe", ..];

    public static int Run(string[] args)
    {
        var url = args.Length > 1 ? args[1] : "http://127.0.0.1:8080/health/ready";
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            var status = http.GetAsync(url).GetAwaiter().GetResult().StatusCode;
            Console.WriteLine($"{url}: {(int)status}");
            return (int)status is >= 200 and < 300 ? 0 : 1;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or UriFormatException or InvalidOperationException)
        {
            Console.WriteLine($"{url}: {e.Message}");
            return 1;
        }
    }
}
