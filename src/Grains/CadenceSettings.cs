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

    /// <summary>
    /// How soon a missed reminder fires again (<c>Collections:Cadence:ReminderPeriod</c>, one minute by default, never
    /// less). Orleans does not fire a tick that fell due while no silo ran (a restart, a deploy, an outage); it waits
    /// for the reminder's next period. With a period of a day, a step due during a one-minute restart went a day
    /// late. Every tick re-arms the reminder at the account's next due time, so in steady state the period never
    /// fires; it only bounds how late a missed or failed tick is taken again.
    /// </summary>
    public TimeSpan ReminderPeriod { get; init; } = TimeSpan.FromMinutes(1);
}
