using Microsoft.ML;
using Microsoft.ML.Data;

namespace Collections.Scoring;

/// <summary>The row ML.NET reads: a fixed-length feature vector (its length is set at run time by <see cref="MlRows.Schema"/>) and the label.</summary>
internal sealed class FeatureRow
{
    public float[] Features { get; set; } = [];
    public bool Label { get; set; }
}

/// <summary>What scoring reads back: the trees' raw score (before calibration).</summary>
internal sealed class ScoreRow
{
    public float Score { get; set; }
}

internal static class MlRows
{
    public static SchemaDefinition Schema(int width) => Schema<FeatureRow>(width);

    /// <summary>The schema of a row type whose <c>Features</c> is a float vector of <paramref name="width"/>.</summary>
    public static SchemaDefinition Schema<TRow>(int width)
    {
        var schema = SchemaDefinition.Create(typeof(TRow));
        schema[nameof(FeatureRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, width);
        return schema;
    }

    public static IDataView View(MLContext ml, LabelledData data, IReadOnlyList<int> rows)
    {
        return ml.Data.LoadFromEnumerable(Enumerate(), Schema(data.Width));

        IEnumerable<FeatureRow> Enumerate()
        {
            foreach (var i in rows) yield return new FeatureRow { Features = data.Row(i).ToArray(), Label = data.Labels[i] };
        }
    }

    public static IDataView View(MLContext ml, IEnumerable<float[]> vectors, int width) =>
        ml.Data.LoadFromEnumerable(vectors.Select(v => new FeatureRow { Features = v }), Schema(width));
}
