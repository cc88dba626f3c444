using System.Globalization;

namespace Collections.Scoring;

/// <summary>Rows ready for training: a row-major feature matrix, labels, and what the report needs besides.</summary>
internal sealed record LabelledData
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
    /// <summary>What became of every column of a CSV, in file order (empty for the engine's own rows).</summary>
    public IReadOnlyList<ColumnFate> Columns { get; init; } = [];
    /// <summary>Rows left out because their label was missing.</summary>
    public int SkippedRows { get; init; }
    /// <summary>What a positive label means, in the report's words ("paid" for the engine's own rows).</summary>
    public string PositiveClass { get; init; } = EvaluationReport.Paid;
    /// <summary>Whether the rows carry balances and collected dollars (the report leaves the dollar columns out otherwise).</summary>
    public bool HasAmounts { get; init; } = true;

    public int Count => Labels.Length;
    public int Width => FeatureNames.Count;

    public ReadOnlySpan<float> Row(int i) => Features.AsSpan(i * Width, Width);

    /// <summary>
    /// What each feature's missing values become for the trees: one below the column's smallest value less its size
    /// (a value of its own, below the rest), 0 for a column with no value. FastTree leaves every row holding a missing
    /// value out of training, so missing values are filled before training and, by the model, before scoring.
    /// </summary>
    public float[] MissingFill()
    {
        var fill = new float[Width];
        for (var j = 0; j < Width; j++)
        {
            var min = float.PositiveInfinity;
            for (var i = 0; i < Count; i++)
            {
                var v = Features[i * Width + j];
                if (!float.IsNaN(v) && v < min) min = v;
            }
            fill[j] = float.IsPositiveInfinity(min) ? 0f : min - 1f - Math.Abs(min);
        }
        return fill;
    }

    /// <summary>The same rows with every missing value replaced by <paramref name="fill"/> (the features copied; nothing else; the same data when nothing is missing).</summary>
    public LabelledData WithFilled(float[] fill)
    {
        if (!Features.Any(float.IsNaN)) return this;
        var features = (float[])Features.Clone();
        for (var k = 0; k < features.Length; k++)
            if (float.IsNaN(features[k])) features[k] = fill[k % Width];
        return this with { Features = features };
    }

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
        foreach (var name in options.ExcludeColumns)
            if (Find(name) < 0) throw new FormatException($"{path}: line 1: no column '{name}' to exclude (columns: {string.Join(", ", names)})");
        var duplicate = names.Where(n => n.Length > 0).GroupBy(n => n, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new FormatException($"{path}: line 1: the column '{duplicate.Key}' appears twice");
        int balanceAt = Find(TrainingSet.BalanceColumn), collectedAt = Find(TrainingSet.CollectedColumn), trueAt = Find(TrainingSet.TrueProbabilityColumn);
        var excluded = new HashSet<string>(options.ExcludeColumns, StringComparer.OrdinalIgnoreCase);
        var reserved = new HashSet<string>(TrainingSet.ReservedColumns, StringComparer.OrdinalIgnoreCase);
        var fates = new ColumnFate?[names.Count];
        fates[labelAt] = new ColumnFate(names[labelAt], ColumnFate.Label, options.PositiveLabel is { } positive ? $"positive class: {names[labelAt]} = {positive}" : "1/0, true/false or yes/no");
        if (timeAt >= 0) fates[timeAt] = new ColumnFate(names[timeAt], ColumnFate.Time, "orders the time split");
        for (var i = 0; i < names.Count; i++)
        {
            if (fates[i] is not null) continue;
            if (names[i].Length == 0) fates[i] = new ColumnFate($"(column {i + 1})", ColumnFate.Ignored, "the header gives it no name");
            else if (excluded.Contains(names[i])) fates[i] = new ColumnFate(names[i], ColumnFate.Excluded, "--exclude");
            else if (reserved.Contains(names[i])) fates[i] = new ColumnFate(names[i], ColumnFate.Reserved, "identity or outcome of the engine's training set, never a feature");
        }
        var candidates = Enumerable.Range(0, names.Count).Where(i => fates[i] is null).ToArray();

        var cells = candidates.Select(_ => new List<string>()).ToArray();
        var labels = new List<bool>();
        var dates = timeAt >= 0 ? new List<DateTimeOffset>() : null;
        var balances = balanceAt >= 0 ? new List<decimal>() : null;
        var collected = collectedAt >= 0 ? new List<decimal>() : null;
        var trueProbabilities = trueAt >= 0 ? new List<double?>() : null;
        var skipped = 0;
        var first = true;
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
            if (record.Select(c => c.Trim()).SequenceEqual(names, StringComparer.OrdinalIgnoreCase))
                throw new FormatException($"{path}: line {line}: repeats the header (two exports joined?); remove it");
            var labelText = record[labelAt].Trim();
            if (first && !IsMissing(labelText) && Label(labelText, options.PositiveLabel) is null && !record.Any(c => IsNumber(c.Trim())))
                throw new FormatException($"{path}: line {line}: looks like a second header (no number in it, and '{labelText}' is not a label); remove it");
            first = false;
            if (IsMissing(labelText))
            {
                skipped++; // a row without its outcome cannot teach anything
                continue;
            }
            labels.Add(Label(labelText, options.PositiveLabel)
                       ?? throw new FormatException($"{path}: line {line}, column {names[labelAt]}: '{record[labelAt]}' is not a label (1/0, true/false, yes/no; or say which value is positive with --positive)"));
            if (dates is not null)
                dates.Add(DateTimeOffset.TryParse(record[timeAt], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date)
                    ? date : throw new FormatException($"{path}: line {line}, column {names[timeAt]}: '{record[timeAt]}' is not a date"));
            balances?.Add(Money(record[balanceAt], path, line, names[balanceAt]));
            collected?.Add(Money(record[collectedAt], path, line, names[collectedAt]));
            trueProbabilities?.Add(IsMissing(record[trueAt].Trim()) ? null
                : double.TryParse(record[trueAt], NumberStyles.Float, CultureInfo.InvariantCulture, out var tp) ? tp
                : throw new FormatException($"{path}: line {line}, column {names[trueAt]}: '{record[trueAt]}' is not a number"));
            for (var k = 0; k < candidates.Length; k++) cells[k].Add(record[candidates[k]].Trim());
        }
        if (labels.Count == 0) throw new FormatException($"{path}: no labelled rows after the header{(skipped > 0 ? $" ({skipped} without a label)" : "")}");
        if (options.PositiveLabel is { } wanted && !labels.Contains(true))
            throw new FormatException($"{path}: column {names[labelAt]}: no row has the positive value '{wanted}' given by --positive");

        // Each candidate column becomes numbers, categories (one-hot), or nothing, with the reason.
        var featureNames = new List<string>();
        var columns = new List<float[]>();
        for (var k = 0; k < candidates.Length; k++)
        {
            var name = names[candidates[k]];
            var (fate, values) = ColumnEncoding.Encode(name, cells[k]);
            fates[candidates[k]] = fate;
            cells[k] = null!; // the text is no longer needed
            foreach (var (featureName, column) in values)
            {
                featureNames.Add(featureName);
                columns.Add(column);
            }
        }
        var fateList = fates.Select(f => f!).ToList();
        if (featureNames.Count == 0)
            throw new FormatException($"{path}: no feature columns (ignored: {string.Join(", ", fateList.Where(f => f.Fate == ColumnFate.Ignored).Select(f => f.Column))})");
        var width = featureNames.Count;
        var features = new float[labels.Count * width];
        for (var j = 0; j < width; j++)
            for (var i = 0; i < labels.Count; i++)
                features[i * width + j] = columns[j][i];
        return new LabelledData
        {
            FeatureNames = featureNames, Features = features, Labels = [.. labels],
            Dates = dates?.ToArray(), Balances = balances?.ToArray(), Collected = collected?.ToArray(),
            TrueProbabilities = trueProbabilities is not null && trueProbabilities.Any(p => p is not null) ? [.. trueProbabilities] : null,
            IgnoredColumns = [.. fateList.Where(f => f.Fate is ColumnFate.Ignored or ColumnFate.Excluded).Select(f => f.Column)],
            TimeColumn = dates is null ? null : names[timeAt],
            Columns = fateList, SkippedRows = skipped,
            // The engine's own training set speaks of paying; an outside file of its label column.
            PositiveClass = options.PositiveLabel is { } p ? $"{names[labelAt]} = {p}"
                : TrainingSet.RequiredReservedColumns.All(c => Find(c) >= 0) ? EvaluationReport.Paid
                : names[labelAt],
            HasAmounts = balanceAt >= 0 || collectedAt >= 0,
        };
    }

    /// <summary>Cells that mean "no value" in real exports: empty, NA, N/A, NaN, null, #N/A, ?, a lone dash or dot ("none" is a value: "no other debtors").</summary>
    public static bool IsMissing(string text) => text.Length switch
    {
        0 => true,
        > 4 => false,
        _ => MissingTokens.Contains(text),
    };

    private static readonly HashSet<string> MissingTokens = new(["na", "n/a", "nan", "null", "?", "-", ".", "#n/a"], StringComparer.OrdinalIgnoreCase);

    private static bool IsNumber(string text) => float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _);

    /// <summary>The label of a cell: 1/0, true/false, yes/no; or, with a positive value, whether the cell is it (as numbers when both are: 1 is 1.0).</summary>
    private static bool? Label(string text, string? positive)
    {
        if (positive is null) return TrainingSet.ParseLabel(text);
        if (IsMissing(text)) return null;
        var wanted = positive.Trim();
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var a) && double.TryParse(wanted, NumberStyles.Float, CultureInfo.InvariantCulture, out var b)
            ? a == b
            : string.Equals(text, wanted, StringComparison.OrdinalIgnoreCase);
    }

    private static decimal Money(string text, string path, long line, string column) =>
        text.Length == 0 ? 0m
        : decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d
        : throw new FormatException($"{path}: line {line}, column {column}: '{text}' is not a number");
}
