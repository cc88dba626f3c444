using System.Globalization;
using System.Text;
using Collections.Domain;
using Collections.Gateway.Security;
using Collections.Grains;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Collections.Gateway.Api;

/// <summary>Agency placements: the placement file for the agency, the list, recalls. Layout: docs/placement-file.md.</summary>
public static class PlacementEndpoints
{
    public static readonly string[] FileColumns =
    [
        "facility", "account_number", "guarantor_id", "last_name", "first_name", "address_line1", "address_line2", "city", "state", "zip",
        "phone", "email", "balance_placed", "first_statement_date", "placed_date", "policy",
    ];

    public static RouteGroupBuilder MapPlacements(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/placements/{facility}").WithTags("Agency placements").RequireAuthorization(Policies.ManagePolicies);
        group.MapGet("/", async Task<Results<Ok<IReadOnlyList<AgencyPlacement>>, ProblemHttpResult>> (string facility, string? status, IGrainFactory grains, HttpContext http) =>
            {
                if (Problems.ReadEnum<PlacementStatus>("status", status, out var wanted) is { } refused) return refused;
                var list = await grains.GetGrain<IPlacementRegisterGrain>(facility).List(wanted);
                await http.AuditShownAsync("placements.read", list.SelectMany(p => new[] { p.Account.Shown(), ShownAudit.ShownGuarantor(p.GuarantorId) }));
                return TypedResults.Ok(list);
            })
            .WithSummary("Accounts placed with the agency (status placed|recalled; all by default).");
        group.MapGet("/file", PlacementFile)
            .WithSummary("The placement file for the agency: CSV, one row per account currently placed (layout in docs/placement-file.md). Contains guarantors' contact details: every row's guarantor read is audited.");
        api.MapPost("/accounts/{facility}/{accountNumber}/placement/recall", Recall).WithTags("Agency placements").RequireAuthorization(Policies.ManagePolicies)
            .WithSummary("Recall the account from the agency, with a reason.");
        return api;
    }

    public sealed record RecallBody(string? Reason);

    private static async Task<Results<Ok<AccountResponse>, ProblemHttpResult>> Recall(string facility, string accountNumber, RecallBody body, IGrainFactory grains)
    {
        if (AccountEndpoints.CheckKey(facility, accountNumber) is { } invalid) return invalid;
        var outcome = await grains.GetGrain<IPatientAccountGrain>(new AccountKey(facility, accountNumber).ToString()).RecallPlacement(body.Reason);
        return outcome.Succeeded ? TypedResults.Ok(AccountResponse.From(outcome.Value!)) : Problems.From(outcome.Errors);
    }

    private static async Task<IResult> PlacementFile(string facility, IGrainFactory grains)
    {
        var placements = await grains.GetGrain<IPlacementRegisterGrain>(facility).List(PlacementStatus.Placed);
        var csv = new StringBuilder().AppendLine(string.Join(',', FileColumns));
        foreach (var p in placements)
        {
            var guarantor = await grains.GetGrain<IGuarantorGrain>(p.GuarantorId).Get();
            var profile = guarantor?.Profile;
            var phone = profile?.Phones.FirstOrDefault(p => p.MayBeCalled)?.Number; // never a workplace that forbids calls
            string?[] row =
            [
                p.Account.Facility, p.Account.AccountNumber, p.GuarantorId, profile?.LastName, profile?.FirstName, profile?.Address.Line1, profile?.Address.Line2,
                profile?.Address.City, profile?.Address.State, profile?.Address.Zip, phone, profile?.Email,
                p.BalancePlaced.ToString("0.00", CultureInfo.InvariantCulture), p.FirstStatementAt?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                p.PlacedAt.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), p.PolicyReference,
            ];
            csv.AppendLine(string.Join(',', row.Select(Quote)));
        }
        return Results.Text(csv.ToString(), "text/csv; charset=utf-8");
    }

    private static string Quote(string? value) =>
        value is null ? "" : value.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? $"\"{value.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : value;
}
