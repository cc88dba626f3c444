using System.Globalization;
using System.Text;

namespace Collections.Scoring;

/// <summary>
/// Builds labelled rows from account histories, and writes and reads them as CSV. The CSV is what
/// <c>collections model train</c> reads: a header <c>AccountId,ScoringDate,Label,BalanceAtScoring,CollectedInWindow,TrueProbability</c>
/// followed by every feature name; ISO 8601 dates, invariant-culture numbers, label 1 or 0, an empty true probability when unknown.
/// </summary>
public static class TrainingSet
{
    public const string AccountIdColumn = "AccountId";
    public const string ScoringDateColumn = "ScoringDate";
    public const string LabelColumn = "Label";
    public const string BalanceColumn = "BalanceAtScoring";
    public const string CollectedColumn = "CollectedInWindow";
    public const string TrueProbabilityColumn = "TrueProbability";
    public const string TreatmentGroupColumn = "TreatmentGroup";

    /// <summary>The columns of a row that are not features: identity, time, label and outcome. A trainer never uses them as features.</summary>
    public static IReadOnlyList<string> ReservedColumns { get; } = [AccountIdColumn, ScoringDateColumn, LabelColumn, BalanceColumn, CollectedColumn, TrueProbabilityColumn, TreatmentGroupColumn];

    /// <summary>The reserved columns every engine export has (files written before groups were kept lack <see cref="TreatmentGroupColumn"/>).</summary>
    public static IReadOnlyList<string> RequiredReservedColumns { get; } = [.. ReservedColumns.Where(c => c != TreatmentGroupColumn)];

    /// <summary>
    /// One row per account and scoring date where the account is labellable (it was open, the patient owed something,
    /// and the label window ended by <paramref name="now"/>): features at the date, label from what came after.
    /// </summary>
    public static IEnumerable<TrainingRow> Rows(IEnumerable<AccountHistory> histories, IReadOnlyList<DateTimeOffset> scoringDates, LabelDefinition definition, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(histories);
        ArgumentNullException.ThrowIfNull(scoringDates);
        ArgumentNullException.ThrowIfNull(definition);
        return Iterate();

        IEnumerable<TrainingRow> Iterate()
        {
            foreach (var history in histories)
                foreach (var date in scoringDates)
                {
                    if (history.OpenedAt > date) continue;
                    if (PaymentLabel.Evaluate(history, date, definition, now) is not { } outcome) continue;
                    yield return new TrainingRow
                    {
                        AccountId = history.AccountId, ScoringDate = date, Features = FeatureExtractor.Extract(history, date), Label = outcome.Paid,
                        PatientBalance = outcome.PatientBalance, CollectedInWindow = outcome.CollectedInWindow,
                        TreatmentGroup = history.TreatmentAssignedAt is { } assigned && date < assigned ? null : history.TreatmentGroup,
                    };
                }
        }
    }

    public static IReadOnlyList<string> Header { get; } = [.. ReservedColumns, .. PaymentFeatures.Names];

    public static void WriteCsv(TextWriter writer, IEnumerable<TrainingRow> rows)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(rows);
        writer.Write(string.Join(',', Header));
        writer.Write('\n');
        var line = new StringBuilder(1024);
        var values = new float[PaymentFeatures.Count];
        foreach (var row in rows)
        {
            line.Clear();
            line.Append(Quote(row.AccountId)).Append(',')
                .Append(row.ScoringDate.ToString("O", CultureInfo.InvariantCulture)).Append(',')
                .Append(row.Label ? '1' : '0').Append(',')
                .Append(row.PatientBalance.ToString(CultureInfo.InvariantCulture)).Append(',')
                .Append(row.CollectedInWindow.ToString(CultureInfo.InvariantCulture)).Append(',')
                .Append(row.TrueProbability?.ToString("R", CultureInfo.InvariantCulture) ?? "").Append(',')
                .Append(row.TreatmentGroup ?? "");
            row.Features.CopyTo(values);
            foreach (var v in values) line.Append(',').Append(v.ToString("R", CultureInfo.InvariantCulture));
            line.Append('\n');
            writer.Write(line);
        }
    }

    /// <summary>Reads a CSV written by <see cref="WriteCsv"/> (columns may come in any order). Bad input: <see cref="FormatException"/> naming the line and column.</summary>
    public static IReadOnlyList<TrainingRow> ReadCsv(TextReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var csv = new CsvReader(reader);
        var header = csv.ReadRecord() ?? throw new FormatException("line 1: the file is empty (expected a header)");
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < header.Count; i++) index.TryAdd(header[i].Trim(), i);
        foreach (var name in RequiredReservedColumns.Concat(PaymentFeatures.Names))
            if (!index.ContainsKey(name)) throw new FormatException($"line 1: column {name} is missing");
        var featureIndex = PaymentFeatures.Names.Select(n => index[n]).ToArray();
        var rows = new List<TrainingRow>();
        var values = new float[PaymentFeatures.Count];
        while (csv.ReadRecord() is { } record)
        {
            var line = csv.LineNumber;
            if (record.Count == 1 && record[0].Length == 0) continue;
            if (record.Count != header.Count) throw new FormatException($"line {line}: {record.Count} fields, the header has {header.Count}");
            string Field(string column) => record[index[column]];
            if (!DateTimeOffset.TryParse(Field(ScoringDateColumn), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date))
                throw new FormatException($"line {line}, column {ScoringDateColumn}: '{Field(ScoringDateColumn)}' is not a date");
            var label = ParseLabel(Field(LabelColumn)) ?? throw new FormatException($"line {line}, column {LabelColumn}: '{Field(LabelColumn)}' is not 1/0, true/false or yes/no");
            for (var i = 0; i < featureIndex.Length; i++)
            {
                var text = record[featureIndex[i]];
                if (text.Length == 0) values[i] = float.NaN;
                else if (!float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]))
                    throw new FormatException($"line {line}, column {PaymentFeatures.Names[i]}: '{text}' is not a number");
            }
            rows.Add(new TrainingRow
            {
                AccountId = Field(AccountIdColumn), ScoringDate = date, Label = label, Features = PaymentFeatures.FromArray(values),
                PatientBalance = ParseDecimal(Field(BalanceColumn), line, BalanceColumn),
                CollectedInWindow = ParseDecimal(Field(CollectedColumn), line, CollectedColumn),
                TrueProbability = Field(TrueProbabilityColumn) is { Length: > 0 } p
                    ? double.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture, out var tp) ? tp : throw new FormatException($"line {line}, column {TrueProbabilityColumn}: '{p}' is not a number")
                    : null,
                TreatmentGroup = index.TryGetValue(TreatmentGroupColumn, out var g) && record[g] is { Length: > 0 } group ? group : null,
            });
        }
        return rows;
    }

    /// <summary>1/0, true/false, yes/no (any case); null for anything else.</summary>
    public static bool? ParseLabel(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Trim().ToLowerInvariant() switch
        {
            "1" or "1.0" or "true" or "yes" or "y" => true,
            "0" or "0.0" or "false" or "no" or "n" => false,
            _ => null,
        };
    }

    private static decimal ParseDecimal(string text, long line, string column) =>
        text.Length == 0 ? 0m
        : decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d
        : throw new FormatException($"line {line}, column {column}: '{text}' is not a number");

    private static string Quote(string value) =>
        value.IndexOfAny([',', '"', '\n', '\r']) < 0 ? value : $"\"{value.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";
}
