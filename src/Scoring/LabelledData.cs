using System.Globalization;

namespace Collections.Scoring;

/// <summary>Rows ready for training: a row-major feature matrix, labels, and what the report needs besides.</summary>
internal sealed class LabelledData
{
    public required IReadOnlyList<string> FeatureNames { get; init; }
    /// <summary>Row-major: row i is <c>Features[i * FeatureNames.Count ..]</c>.</summary>
    public required float[] Features { get; init; }
    public required bool[] Labels { get; init; }
    public DateTimeOffset[]? Dates { get; init; }
    public decimal[]? Balances { get; init; }
    public decimal[]? Collected { get; init; }
    public double?[]? TrueProbabilities { get; init; }
    public IReadOnlyList<string> IgnoredColumns { get; init; } = [];
    public string? TimeColumn { get; init; }

    public int Count => Labels.Length;
    public int Width => FeatureNames.Count;

    public ReadOnlySpan<float> Row(int i) => Features.AsSpan(i * Width, Width);

    public static LabelledData From(IReadOnlyList<TrainingRow> rows)
    {
        var width = PaymentFeatures.Count;
        var features = new float[rows.Count * width];
        for (var i = 0; i < rows.Count; i++) rows[i].Features.CopyTo(features.AsSpan(i * width, width));
        return new LabelledData
        {
            FeatureNames = PaymentFeatures.Names, Features = features,
            Labels = [.. rows.Select(r => r.Label)], Dates = [.. rows.Select(r => r.ScoringDate)],
            Balances = [.. rows.Select(r => r.PatientBalance)], Collected = [.. rows.Select(r => r.CollectedInWindow)],
            TrueProbabilities = rows.Any(r => r.TrueProbability is not null) ? [.. rows.Select(r => r.TrueProbability)] : null,
            TimeColumn = TrainingSet.ScoringDateColumn,
        };
    }

    /// <summary>
    /// Reads any labelled CSV (see <see cref="ModelTrainer.TrainFromCsv"/> for the rules). Bad input:
    /// <see cref="FormatException"/> naming the file, line and column.
    /// </summary>
    public static LabelledData ReadCsv(string path, string labelColumn, TrainingOptions options)
    {
        using var reader = new StreamReader(path);
        var csv = new CsvReader(reader);
        List<string>? header;
        try
        {
            header = csv.ReadRecord();
        }
        catch (FormatException e)
        {
            throw new FormatException($"{path}: {e.Message}", e);
        }
        if (header is null || header.Count == 0 || header is [""]) throw new FormatException($"{path}: the file is empty (expected a header)");
        var names = header.Select(h => h.Trim()).ToList();
        int Find(string? name) => name is null ? -1 : names.FindIndex(n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase));
        var labelAt = Find(labelColumn);
        if (labelAt < 0) throw new FormatException($"{path}: line 1: no label column '{labelColumn}' (columns: {string.Join(", ", names)})");
        var timeColumn = options.TimeColumn ?? (Find(TrainingSet.ScoringDateColumn) >= 0 ? TrainingSet.ScoringDateColumn : null);
        var timeAt = Find(timeColumn);
        if (options.TimeColumn is not null && timeAt < 0) throw new FormatException($"{path}: line 1: no time column '{options.TimeColumn}'");
        int balanceAt = Find(TrainingSet.BalanceColumn), collectedAt = Find(TrainingSet.CollectedColumn), trueAt = Find(TrainingSet.TrueProbabilityColumn);
        var excluded = new HashSet<string>(options.ExcludeColumns, StringComparer.OrdinalIgnoreCase);
        var reserved = new HashSet<string>(TrainingSet.ReservedColumns, StringComparer.OrdinalIgnoreCase);
        var candidates = Enumerable.Range(0, names.Count)
            .Where(i => i != labelAt && i != timeAt && !reserved.Contains(names[i]) && !excluded.Contains(names[i]) && names[i].Length > 0)
            .ToArray();
        var ignored = new List<string>(names.Where((n, i) => i != labelAt && i != timeAt && !candidates.Contains(i) && !reserved.Contains(n)));

        var width = candidates.Length;
        var values = new List<float>(1 << 16);
        var numeric = Enumerable.Repeat(true, width).ToArray();
        var anyValue = new bool[width];
        var labels = new List<bool>();
        var dates = timeAt >= 0 ? new List<DateTimeOffset>() : null;
        var balances = balanceAt >= 0 ? new List<decimal>() : null;
        var collected = collectedAt >= 0 ? new List<decimal>() : null;
        var trueProbabilities = trueAt >= 0 ? new List<double?>() : null;
        while (true)
        {
            List<string>? record;
            try
            {
                record = csv.ReadRecord();
            }
            catch (FormatException e)
            {
                throw new FormatException($"{path}: {e.Message}", e);
            }
            if (record is null) break;
            var line = csv.LineNumber;
            if (record is [""]) continue;
            if (record.Count != names.Count) throw new FormatException($"{path}: line {line}: {record.Count} fields, the header has {names.Count}");
            labels.Add(TrainingSet.ParseLabel(record[labelAt])
                       ?? throw new FormatException($"{path}: line {line}, column {names[labelAt]}: '{record[labelAt]}' is not a label (1/0, true/false, yes/no)"));
            if (dates is not null)
                dates.Add(DateTimeOffset.TryParse(record[timeAt], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date)
                    ? date : throw new FormatException($"{path}: line {line}, column {names[timeAt]}: '{record[timeAt]}' is not a date"));
            balances?.Add(Money(record[balanceAt], path, line, names[balanceAt]));
            collected?.Add(Money(record[collectedAt], path, line, names[collectedAt]));
            trueProbabilities?.Add(record[trueAt].Length == 0 ? null
                : double.TryParse(record[trueAt], NumberStyles.Float, CultureInfo.InvariantCulture, out var tp) ? tp
                : throw new FormatException($"{path}: line {line}, column {names[trueAt]}: '{record[trueAt]}' is not a number"));
            for (var k = 0; k < width; k++)
            {
                var text = record[candidates[k]].Trim();
                float value;
                if (text.Length == 0) value = float.NaN;
                else if (float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value)) anyValue[k] = true;
                else if (bool.TryParse(text, out var flag))
                {
                    value = flag ? 1f : 0f;
                    anyValue[k] = true;
                }
                else
                {
                    value = float.NaN;
                    numeric[k] = false;
                }
                values.Add(value);
            }
        }
        if (labels.Count == 0) throw new FormatException($"{path}: no rows after the header");

        // Keep the numeric columns that hold at least one value; drop the others from the matrix.
        var keep = Enumerable.Range(0, width).Where(k => numeric[k] && anyValue[k]).ToArray();
        ignored.AddRange(Enumerable.Range(0, width).Where(k => !(numeric[k] && anyValue[k])).Select(k => names[candidates[k]]));
        if (keep.Length == 0) throw new FormatException($"{path}: no numeric feature columns (ignored: {string.Join(", ", ignored)})");
        float[] features;
        if (keep.Length == width) features = [.. values];
        else
        {
            features = new float[labels.Count * keep.Length];
            for (var i = 0; i < labels.Count; i++)
                for (var k = 0; k < keep.Length; k++)
                    features[i * keep.Length + k] = values[i * width + keep[k]];
        }
        return new LabelledData
        {
            FeatureNames = [.. keep.Select(k => names[candidates[k]])], Features = features, Labels = [.. labels],
            Dates = dates?.ToArray(), Balances = balances?.ToArray(), Collected = collected?.ToArray(),
            TrueProbabilities = trueProbabilities is not null && trueProbabilities.Any(p => p is not null) ? [.. trueProbabilities] : null,
            IgnoredColumns = ignored, TimeColumn = dates is null ? null : names[timeAt],
        };
    }

    private static decimal Money(string text, string path, long line, string column) =>
        text.Length == 0 ? 0m
        : decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d
        : throw new FormatException($"{path}: line {line}, column {column}: '{text}' is not a number");
}
