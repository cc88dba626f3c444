using System.Text.Json;
using System.Text.Json.Serialization;
using Collections.Domain.Cadence;

namespace Collections.Cli;

/// <summary>A policy file: the body of <c>PUT /api/policies/{policyId}</c>, plus <c>policyId</c> (default: the file name).</summary>
public sealed record PolicyFile
{
    public string? PolicyId { get; init; }
    public string? Name { get; init; }
    public string? Facility { get; init; }
    public AccountSegment? Segment { get; init; }
    public int? Priority { get; init; }
    public int? DueDays { get; init; }
    public IReadOnlyList<CadenceStep>? Steps { get; init; }
}

public sealed class CliInputException(string message) : Exception(message);

public static class PolicyFiles
{
    /// <summary>The API's JSON rules: camelCase, enums as camelCase strings, unknown fields refused.</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false) },
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = true,
    };

    /// <summary>Reads and validates a policy file; every problem is one <see cref="CliInputException"/> line naming the file and the field.</summary>
    public static CadencePolicy Load(string path)
    {
        if (!File.Exists(path)) throw new CliInputException($"--policy {path}: file not found");
        PolicyFile? body;
        try
        {
            body = JsonSerializer.Deserialize<PolicyFile>(File.ReadAllText(path), Json);
        }
        catch (JsonException e)
        {
            var where = e.Path is { Length: > 0 } p ? $" at {p}" : "";
            var line = e.LineNumber is { } l ? $" (line {l + 1}, position {e.BytePositionInLine + 1})" : "";
            throw new CliInputException($"{path}: invalid policy JSON{where}{line}: {FirstSentence(e.Message)}");
        }
        catch (IOException e)
        {
            throw new CliInputException($"--policy {path}: cannot read the file: {e.Message}");
        }
        if (body is null) throw new CliInputException($"{path}: the file holds no policy (null)");
        var policy = new CadencePolicy
        {
            PolicyId = body.PolicyId ?? Path.GetFileNameWithoutExtension(path),
            Version = 2,
            Name = body.Name ?? "",
            Facility = body.Facility ?? "*",
            Segment = body.Segment ?? new AccountSegment(),
            Priority = body.Priority ?? 0,
            DueDays = body.DueDays ?? 30,
            Steps = body.Steps ?? [],
        };
        var errors = CadencePolicies.Validate(policy);
        if (errors.Count > 0)
        {
            var first = errors[0];
            var more = errors.Count > 1 ? $" (and {errors.Count - 1} more)" : "";
            throw new CliInputException($"{path}: {(string.IsNullOrEmpty(first.Field) ? "" : first.Field + ": ")}{first.Message}{more}");
        }
        return policy;
    }

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return (cut > 0 ? message[..cut] : message).ReplaceLineEndings(" ").Trim();
    }
}

public static class DefaultPolicies
{
    /// <summary>
    /// The default comparison's challenger: the shipped standard cadence saved as version 2 with a text at day 7, an
    /// early call task at day 20 for balances of $100 or more, and a second text at day 40.
    /// </summary>
    public static CadencePolicy EarlyCallAndTexts
    {
        get
        {
            var standard = CadencePolicies.Standard;
            return standard with
            {
                Version = 2,
                Name = "Standard + texts (day 7, 40) + early call (day 20)",
                Steps =
                [
                    .. standard.Steps,
                    new CadenceStep { StepId = "text-7", Day = 7, Action = Domain.OutreachAction.SmsReminder, Channel = Domain.ContactChannel.Sms },
                    new CadenceStep { StepId = "call-20", Day = 20, Action = Domain.OutreachAction.CallTask, Channel = Domain.ContactChannel.Voice, MinimumBalance = 100.00m },
                    new CadenceStep { StepId = "text-40", Day = 40, Action = Domain.OutreachAction.SmsReminder, Channel = Domain.ContactChannel.Sms },
                ],
            };
        }
    }
}
