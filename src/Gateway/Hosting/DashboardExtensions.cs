using Collections.Gateway.Security;
using Orleans.Dashboard;

namespace Collections.Hosting;

/// <summary>
/// Orleans' own dashboard (silos, grain activations, method timings, reminders) at <c>/dashboard</c>, for
/// administrators only: it can show any grain's state, which here is patients' data, and reminders named by account.
/// Every look at a grain's state or the reminders is audited with what was asked for. On by default;
/// <c>Collections:Dashboard:Enabled=false</c> leaves it out (silos and gateways must agree).
/// </summary>
public static class DashboardExtensions
{
    public const string Route = "/dashboard";

    public static bool DashboardEnabled(IConfiguration configuration) => configuration.GetValue("Collections:Dashboard:Enabled", true);

    public static void AddCollectionsDashboard(this ISiloBuilder silo, IConfiguration configuration)
    {
        if (DashboardEnabled(configuration)) silo.AddDashboard(o => o.HideTrace = true);
    }

    public static void AddCollectionsDashboard(this IClientBuilder client, IConfiguration configuration)
    {
        if (DashboardEnabled(configuration)) client.AddDashboard(o => o.HideTrace = true);
    }

    public static void MapCollectionsDashboard(this WebApplication app)
    {
        if (!DashboardEnabled(app.Configuration)) return;
        app.MapOrleansDashboard(Route)
            .RequireAuthorization(Policies.OperateCluster)
            .WithCallerContext()
            .AddEndpointFilter(async (context, next) =>
            {
                var http = context.HttpContext;
                var path = http.Request.Path.Value ?? "";
                var action = path.Contains("/GrainState", StringComparison.OrdinalIgnoreCase) ? "dashboard.grain-state"
                    : path.Contains("/Reminders", StringComparison.OrdinalIgnoreCase) ? "dashboard.reminders" : null;
                if (action is not null)
                {
                    var asked = http.Request.Query.TryGetValue("grainId", out var id) ? $"{http.Request.Query["grainType"]}/{id}" : path[Route.Length..];
                    await http.AuditShownAsync(action, [("grain", asked)]);
                }
                return await next(context);
            });
    }
}
