namespace Collections.Domain.Arrangements;

/// <summary>
/// The patient's days: a promised date or an installment's due date is a day where the patient lives, not in UTC. When
/// the address leaves the zone open (a ZIP area across a zone line), each rule takes the reading kinder to the patient:
/// a date that is still today anywhere they may be is not in the past, and a day has ended only once it has ended in
/// every zone they may be in. <see cref="Utc"/> (no zone known) keeps days in UTC.
/// </summary>
public sealed record PatientCalendar(IReadOnlyList<string> Zones)
{
    public static readonly PatientCalendar Utc = new([]);

    /// <summary>The patient's today: the earliest date it is now in any of their zones.</summary>
    public DateOnly Today(DateTimeOffset now) => Zones.Count == 0 ? DateOnly.FromDateTime(now.UtcDateTime) : Zones.Min(z => LocalDate(now, z));

    /// <summary>The day an instant fell on for the patient: the latest date it was in any of their zones.</summary>
    public DateOnly DayOf(DateTimeOffset instant) => Zones.Count == 0 ? DateOnly.FromDateTime(instant.UtcDateTime) : Zones.Max(z => LocalDate(instant, z));

    /// <summary>When a day has begun in every zone the patient may be in.</summary>
    public DateTimeOffset StartOf(DateOnly date) =>
        Zones.Count == 0 ? new DateTimeOffset(date.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero) : Zones.Max(z => Midnight(date, Find(z)));

    /// <summary>When a day has ended in every zone the patient may be in.</summary>
    public DateTimeOffset EndOf(DateOnly date) => StartOf(date.AddDays(1));

    private static DateOnly LocalDate(DateTimeOffset instant, string zone) => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(instant, Find(zone)).DateTime);

    private static DateTimeOffset Midnight(DateOnly date, TimeZoneInfo zone)
    {
        var local = date.ToDateTime(TimeOnly.MinValue);
        while (zone.IsInvalidTime(local)) local = local.AddMinutes(30); // a zone whose clocks skip midnight: the day starts when they land
        return new DateTimeOffset(local, zone.GetUtcOffset(local)).ToUniversalTime();
    }

    // Zones come from validated profiles (an IANA name this machine knows); one whose data is gone reads as UTC.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, TimeZoneInfo> KnownZones = new(StringComparer.Ordinal);

    private static TimeZoneInfo Find(string zone) =>
        KnownZones.GetOrAdd(zone, static z => TimeZoneInfo.TryFindSystemTimeZoneById(z, out var found) ? found : TimeZoneInfo.Utc);
}
