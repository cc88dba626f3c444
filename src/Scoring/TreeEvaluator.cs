using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Microsoft.ML;
using Microsoft.ML.Trainers.FastTree;

namespace Collections.Scoring;

/// <summary>
/// The boosted trees of a loaded ML.NET model, copied into flat arrays and evaluated directly: the same raw score as
/// ML.NET's (checked on probe vectors when the model loads), without the prediction engine's per-row overhead, and
/// able to re-evaluate a tree with one feature changed. Used only for numeric splits and vectors without missing
/// values; anything else goes through ML.NET.
/// </summary>
internal sealed class TreeEvaluator
{
    // All trees' internal nodes, tree after tree; a child below zero is a leaf (~child is its index in the tree).
    private readonly int[] _feature;
    private readonly float[] _threshold;
    private readonly int[] _left;
    private readonly int[] _right;
    /// <summary>Leaf values already multiplied by their tree's weight, tree after tree.</summary>
    private readonly double[] _leaf;
    private readonly int[] _nodeStart;
    private readonly int[] _leafStart;
    private readonly int[] _nodeCount;
    private readonly double _bias;

    private TreeEvaluator(IReadOnlyList<RegressionTree> trees, IReadOnlyList<double> weights, double bias)
    {
        var nodes = trees.Sum(t => t.NumberOfNodes);
        var leaves = trees.Sum(t => t.NumberOfLeaves);
        (_feature, _threshold, _left, _right, _leaf) = (new int[nodes], new float[nodes], new int[nodes], new int[nodes], new double[leaves]);
        (_nodeStart, _leafStart, _nodeCount) = (new int[trees.Count], new int[trees.Count], new int[trees.Count]);
        int n = 0, l = 0;
        for (var t = 0; t < trees.Count; t++)
        {
            var tree = trees[t];
            (_nodeStart[t], _leafStart[t], _nodeCount[t]) = (n, l, tree.NumberOfNodes);
            for (var k = 0; k < tree.NumberOfNodes; k++, n++)
                (_feature[n], _threshold[n], _left[n], _right[n]) = (tree.NumericalSplitFeatureIndexes[k], tree.NumericalSplitThresholds[k], tree.LeftChild[k], tree.RightChild[k]);
            for (var k = 0; k < tree.NumberOfLeaves; k++, l++) _leaf[l] = weights[t] * tree.LeafValues[k];
        }
        _bias = bias;
    }

    public int TreeCount => _nodeStart.Length;

    /// <summary>The evaluator of a tree-ensemble prediction transformer, or null when its trees cannot be read or have categorical splits.</summary>
    public static TreeEvaluator? TryCreate(ITransformer predictor, int width)
    {
        if (predictor is not ISingleFeaturePredictionTransformer<object> { Model: { } model }) return null;
        // A calibrated model wraps the trees as its SubModel (declared on the generic base class, and hidden by derived ones).
        var parameters = model as TreeEnsembleModelParametersBasedOnRegressionTree
                         ?? model.GetType().GetProperties().Where(p => p.Name == "SubModel" && p.GetIndexParameters().Length == 0)
                             .Select(p => p.GetValue(model)).OfType<TreeEnsembleModelParametersBasedOnRegressionTree>().FirstOrDefault();
        if (parameters?.TrainedTreeEnsemble is not { } ensemble) return null;
        foreach (var tree in ensemble.Trees)
        {
            if (tree.CategoricalSplitFlags.Any(c => c)) return null;
            if (tree.NumericalSplitFeatureIndexes.Any(f => f < 0 || f >= width)) return null;
            if (tree.NumberOfNodes == 0 && tree.NumberOfLeaves != 1) return null;
        }
        return new TreeEvaluator(ensemble.Trees, ensemble.TreeWeights, ensemble.Bias);
    }

    /// <summary>A hash of the trees' structure and values (the ML.NET file itself carries timestamps).</summary>
    public byte[] Fingerprint()
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(BitConverter.GetBytes(_bias));
        foreach (var part in new[] { MemoryMarshal.AsBytes(_feature.AsSpan()).ToArray(), MemoryMarshal.AsBytes(_threshold.AsSpan()).ToArray(),
                     MemoryMarshal.AsBytes(_left.AsSpan()).ToArray(), MemoryMarshal.AsBytes(_right.AsSpan()).ToArray(), MemoryMarshal.AsBytes(_leaf.AsSpan()).ToArray(),
                     MemoryMarshal.AsBytes(_nodeCount.AsSpan()).ToArray() })
            hash.AppendData(part);
        return hash.GetHashAndReset();
    }

    /// <summary>
    /// The raw score after the first <paramref name="step"/>, 2 × <paramref name="step"/>, … trees (the last stage has
    /// every tree): how a tuner sees the ensemble at every size from one training (early stopping by held-out AUC).
    /// </summary>
    public void StagedScores(ReadOnlySpan<float> x, int step, Span<double> stages)
    {
        var score = _bias;
        for (var t = 0; t < _nodeStart.Length; t++)
        {
            score += Output(t, x);
            if ((t + 1) % step == 0 || t == _nodeStart.Length - 1) stages[t / step] = score;
        }
    }

    /// <summary>How many stages <see cref="StagedScores"/> gives for a step.</summary>
    public int StageCount(int step) => (_nodeStart.Length + step - 1) / step;

    public double Score(ReadOnlySpan<float> x)
    {
        var score = _bias;
        for (var t = 0; t < _nodeStart.Length; t++) score += Output(t, x);
        return score;
    }

    /// <summary>
    /// The raw score, and in <paramref name="effects"/> for each feature j: score(x) − score(x with x[j] = reference[j])
    /// (zero where they are equal). A tree's output can change only through a feature tested on x's path through it, so
    /// only those trees are evaluated again, once per such feature.
    /// </summary>
    public double ScoreWithReplacementEffects(ReadOnlySpan<float> x, ReadOnlySpan<float> reference, Span<double> effects)
    {
        effects.Clear();
        Span<float> changed = x.Length <= 1024 ? stackalloc float[x.Length] : new float[x.Length];
        x.CopyTo(changed);
        Span<int> onPath = stackalloc int[64];
        var score = _bias;
        for (var t = 0; t < _nodeStart.Length; t++)
        {
            // Walk x's path, noting the features it tests.
            var start = _nodeStart[t];
            var depth = 0;
            var node = _nodeCount[t] == 0 ? ~0 : 0;
            while (node >= 0)
            {
                var k = start + node;
                var f = _feature[k];
                if (depth < onPath.Length && onPath[..depth].IndexOf(f) < 0) onPath[depth++] = f;
                node = x[f] <= _threshold[k] ? _left[k] : _right[k];
            }
            var output = _leaf[_leafStart[t] + ~node];
            score += output;
            foreach (var f in onPath[..depth])
            {
                if (x[f] == reference[f]) continue;
                changed[f] = reference[f];
                effects[f] += output - Output(t, changed);
                changed[f] = x[f];
            }
        }
        return score;
    }

    private double Output(int t, ReadOnlySpan<float> x)
    {
        var start = _nodeStart[t];
        var node = _nodeCount[t] == 0 ? ~0 : 0;
        while (node >= 0)
        {
            var k = start + node;
            node = x[_feature[k]] <= _threshold[k] ? _left[k] : _right[k];
        }
        return _leaf[_leafStart[t] + ~node];
    }
}
