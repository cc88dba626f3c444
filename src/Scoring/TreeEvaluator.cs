using Microsoft.ML;
using Microsoft.ML.Trainers.FastTree;

namespace Collections.Scoring;

/// <summary>
/// The boosted trees of a loaded ML.NET model, copied into flat arrays and evaluated directly: the same raw score as
/// ML.NET's (checked on probe vectors when built), without the prediction engine's per-row overhead, and with each
/// tree's output at hand so that changing one feature re-evaluates only the trees that split on it. Used only for
/// numeric splits and vectors without missing values; anything else goes through ML.NET.
/// </summary>
internal sealed class TreeEvaluator
{
    private readonly Tree[] _trees;
    private readonly double _bias;
    /// <summary>For each feature, the trees that split on it.</summary>
    private readonly int[][] _treesUsing;

    private sealed record Tree(int[] Left, int[] Right, int[] Feature, float[] Threshold, double[] Leaf, double Weight);

    private TreeEvaluator(Tree[] trees, double bias, int width)
    {
        _trees = trees;
        _bias = bias;
        var users = Enumerable.Range(0, width).Select(_ => new List<int>()).ToArray();
        for (var t = 0; t < trees.Length; t++)
            foreach (var f in trees[t].Feature.Distinct())
                if (f >= 0 && f < width) users[f].Add(t);
        _treesUsing = [.. users.Select(u => u.ToArray())];
    }

    public int TreeCount => _trees.Length;

    /// <summary>A hash of the trees' structure and values (the ML.NET file itself carries timestamps).</summary>
    public byte[] Fingerprint()
    {
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        hash.AppendData(BitConverter.GetBytes(_bias));
        foreach (var tree in _trees)
        {
            hash.AppendData(BitConverter.GetBytes(tree.Weight));
            hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(tree.Left.AsSpan()));
            hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(tree.Right.AsSpan()));
            hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(tree.Feature.AsSpan()));
            hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(tree.Threshold.AsSpan()));
            hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(tree.Leaf.AsSpan()));
        }
        return hash.GetHashAndReset();
    }

    /// <summary>The evaluator of a tree-ensemble prediction transformer, or null when its trees cannot be read or have categorical splits.</summary>
    public static TreeEvaluator? TryCreate(ITransformer predictor, int width)
    {
        if (predictor is not ISingleFeaturePredictionTransformer<object> { Model: { } model }) return null;
        // A calibrated model wraps the trees as its SubModel (declared on the generic base class, and hidden by derived ones).
        var parameters = model as TreeEnsembleModelParametersBasedOnRegressionTree
                         ?? model.GetType().GetProperties().Where(p => p.Name == "SubModel" && p.GetIndexParameters().Length == 0)
                             .Select(p => p.GetValue(model)).OfType<TreeEnsembleModelParametersBasedOnRegressionTree>().FirstOrDefault();
        if (parameters?.TrainedTreeEnsemble is not { } ensemble) return null;
        var trees = new Tree[ensemble.Trees.Count];
        for (var t = 0; t < trees.Length; t++)
        {
            var tree = ensemble.Trees[t];
            if (tree.CategoricalSplitFlags.Any(c => c)) return null;
            if (tree.NumericalSplitFeatureIndexes.Any(f => f < 0 || f >= width)) return null;
            trees[t] = new Tree([.. tree.LeftChild], [.. tree.RightChild], [.. tree.NumericalSplitFeatureIndexes], [.. tree.NumericalSplitThresholds], [.. tree.LeafValues], ensemble.TreeWeights[t]);
        }
        return new TreeEvaluator(trees, ensemble.Bias, width);
    }

    public double Score(ReadOnlySpan<float> x)
    {
        var score = _bias;
        foreach (var tree in _trees) score += tree.Weight * Output(tree, x);
        return score;
    }

    /// <summary>
    /// The raw score, and for each feature j in <paramref name="effects"/> the score change from replacing x[j] by
    /// <paramref name="reference"/>[j]: score(x) − score(x with x[j] = reference[j]); zero where they are equal.
    /// </summary>
    public double ScoreWithReplacementEffects(ReadOnlySpan<float> x, ReadOnlySpan<float> reference, Span<double> effects)
    {
        Span<double> outputs = _trees.Length <= 2048 ? stackalloc double[_trees.Length] : new double[_trees.Length];
        var score = _bias;
        for (var t = 0; t < _trees.Length; t++)
        {
            outputs[t] = _trees[t].Weight * Output(_trees[t], x);
            score += outputs[t];
        }
        Span<float> changed = x.Length <= 1024 ? stackalloc float[x.Length] : new float[x.Length];
        x.CopyTo(changed);
        for (var j = 0; j < effects.Length; j++)
        {
            effects[j] = 0;
            if (x[j] == reference[j]) continue;
            changed[j] = reference[j];
            double delta = 0;
            foreach (var t in _treesUsing[j]) delta += outputs[t] - _trees[t].Weight * Output(_trees[t], changed);
            effects[j] = delta;
            changed[j] = x[j];
        }
        return score;
    }

    private static double Output(Tree tree, ReadOnlySpan<float> x)
    {
        if (tree.Feature.Length == 0) return tree.Leaf.Length > 0 ? tree.Leaf[0] : 0;
        var node = 0;
        while (node >= 0) node = x[tree.Feature[node]] <= tree.Threshold[node] ? tree.Left[node] : tree.Right[node];
        return tree.Leaf[~node];
    }
}
