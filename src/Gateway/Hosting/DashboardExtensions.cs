using Collections.Gateway.Api;
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
                // The reminders list names every account with a cadence: too many people for one look, and each account's
                // next step is in its own audited answer (GET /api/accounts/{facility}/{number}).
                if (path.Contains("/Reminders", StringComparison.OrdinalIgnoreCase))
                    return Problems.NotFound("dashboard.reminders-hidden",
                        "The dashboard's reminder list is turned off here: it names patients' accounts. Each account's next step is in GET /api/accounts/{facility}/{number}; the reminders' count is in the metrics.");
                if (path.Contains("/GrainState", StringComparison.OrdinalIgnoreCase))
                {
                    var grainType = http.Request.Query["grainType"].ToString();
                    if (Shown(grainType, http.Request.Query["grainId"].ToString(), path) is not { } shown)
                        return Problems.NotFound("dashboard.grain-state-hidden",
                            "This grain's state names many patients at once (payments, phone numbers, registers, queues): read it through its audited API instead.");
                    await http.AuditShownAsync("dashboard.grain-state", [shown]);
                }
                return await next(context);
            });
    }

    /// <summary>Grains whose state holds no patient at all (settings, model versions, the engine's own bookkeeping).</summary>
    private static readonly string[] NoPeople = ["CadencePolicyBook", "ScoringModelRegistry", "ModelComparison", "ProjectionControl", "PortfolioRescore", "ClusterProbe"];

    /// <summary>
    /// A grain's state as what it shows: an account, a guarantor (their portal too), or a grain holding no patient.
    /// Null for every other grain (payments, the phone directory, registers, queues, and any added later): they name many
    /// patients at once, and are read through their audited API instead.
    /// </summary>
    private static (string, string)? Shown(string grainType, string grainId, string path) =>
        grainId.Length == 0 ? ("grain", path[Route.Length..])
        : grainType.Contains("PatientAccount", StringComparison.OrdinalIgnoreCase) ? ("account", grainId)
        : grainType.Contains("Guarantor", StringComparison.OrdinalIgnoreCase) || grainType.Contains("PatientPortal", StringComparison.OrdinalIgnoreCase) ? ("guarantor", grainId)
        : NoPeople.Any(t => grainType.Contains(t, StringComparison.OrdinalIgnoreCase)) ? ("grain", $"{grainType}/{grainId}")
        : null;
}
