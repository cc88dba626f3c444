using Collections.Domain.Arrangements;
using Collections.Domain.Compliance;

namespace Collections.Grains;

/// <summary>
/// The numbers the cadence runs on, from configuration: <c>Collections:Cadence:DayLength</c> (one day; shorter to
/// watch a cadence run in minutes), <c>Collections:Compliance:*</c> and <c>Collections:Arrangements:*</c>.
/// </summary>
public sealed class CadenceSettings
{
    public TimeSpan DayLength { get; init; } = TimeSpan.FromDays(1);
    public ComplianceRules Compliance { get; init; } = new();
    public ArrangementRules Arrangements { get; init; } = new();

    /// <summary>Days from a credit balance appearing to its refund being due (<c>Collections:Refunds:DueDays</c>; many states require 60).</summary>
    public int RefundDueDays { get; init; } = 60;

    /// <summary>How often a reminder re-fires if a tick could not re-arm it (never more often than Orleans allows).</summary>
    public TimeSpan ReminderPeriod => DayLength < TimeSpan.FromMinutes(1) ? TimeSpan.FromMinutes(1) : DayLength;
}
