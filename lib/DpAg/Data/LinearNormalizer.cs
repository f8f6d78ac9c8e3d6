using System.Text.Json;
using System.Text.Json.Nodes;
using DpAg.IO;
using DpAg.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Data;

/// <summary>
/// Affine normalisation of one field, y = x * Scale + Offset along the last dimension (length D, or 1 to broadcast
/// one scalar), with the input statistics it was fitted on. Values are float32 like the reference's parameters.
/// </summary>
/// <param name="Scale">Per-dimension scale (D) or a single scalar.</param>
/// <param name="Offset">Per-dimension offset, same length as Scale.</param>
/// <param name="InputMin">Fitted minimum per dimension.</param>
/// <param name="InputMax">Fitted maximum per dimension.</param>
/// <param name="InputMean">Fitted mean per dimension.</param>
/// <param name="InputStd">Fitted population standard deviation per dimension.</param>
public sealed record NormalizerField(float[] Scale, float[] Offset, float[] InputMin, float[] InputMax, float[] InputMean, float[] InputStd)
{
    /// <summary>Dimension D the field applies to (1 = scalar broadcast).</summary>
    public int Dimension => Scale.Length;

    /// <summary>
    /// The reference image normaliser (<c>get_image_range_normalizer</c>): [0, 1] -> [-1, 1], scale 2, offset -1 for
    /// every element.
    /// </summary>
    public static NormalizerField ImageRange() => new([2f], [-1f], [0f], [1f], [0.5f], [MathF.Sqrt(1f / 12f)]);

    /// <summary>
    /// Per-dimension min-max fit to [outputMin, outputMax] (reference <c>_fit</c> with mode "limits", fit_offset):
    /// scale = (outMax - outMin) / (max - min), offset = outMin - scale * min, computed in float32; a dimension whose
    /// range is below <paramref name="rangeEps"/> gets scale 1 and offset (outMax + outMin)/2 - min, i.e. it maps to 0.
    /// </summary>
    /// <param name="data">Samples x D values, C order.</param>
    /// <param name="dimension">D, the size of the last dimension.</param>
    /// <param name="outputMin">Lower target (reference -1).</param>
    /// <param name="outputMax">Upper target (reference 1).</param>
    /// <param name="rangeEps">Smallest range that is scaled (reference 1e-4).</param>
    public static NormalizerField FitLimits(ReadOnlySpan<float> data, int dimension, float outputMin = -1f, float outputMax = 1f, float rangeEps = 1e-4f)
    {
        if (dimension < 1) throw new ArgumentException($"dimension = {dimension}; must be >= 1.", nameof(dimension));
        if (data.Length == 0 || data.Length % dimension != 0)
            throw new ArgumentException($"data has {data.Length} values; expected a positive multiple of dimension {dimension}.", nameof(data));
        int n = data.Length / dimension;
        var min = new float[dimension];
        var max = new float[dimension];
        var sum = new double[dimension];
        var sumSq = new double[dimension];
        Array.Fill(min, float.PositiveInfinity);
        Array.Fill(max, float.NegativeInfinity);
        for (int i = 0; i < n; i++)
        {
            var row = data.Slice(i * dimension, dimension);
            for (int d = 0; d < dimension; d++)
            {
                float v = row[d];
                if (!float.IsFinite(v)) throw new ArgumentException($"data holds {v} at sample {i}, dimension {d}; normalisers need finite data.", nameof(data));
                if (v < min[d]) min[d] = v;
                if (v > max[d]) max[d] = v;
                sum[d] += v;
                sumSq[d] += (double)v * v;
            }
        }
        var scale = new float[dimension];
        var offset = new float[dimension];
        var mean = new float[dimension];
        var std = new float[dimension];
        for (int d = 0; d < dimension; d++)
        {
            float range = max[d] - min[d];
            bool ignore = range < rangeEps;
            if (ignore) range = outputMax - outputMin;
            scale[d] = (outputMax - outputMin) / range;
            offset[d] = ignore ? (outputMax + outputMin) / 2f - min[d] : outputMin - scale[d] * min[d];
            double m = sum[d] / n;
            mean[d] = (float)m;
            std[d] = (float)Math.Sqrt(Math.Max(0, sumSq[d] / n - m * m));
        }
        return new NormalizerField(scale, offset, min, max, mean, std);
    }

    internal void Check(string key)
    {
        int d = Scale.Length;
        if (d < 1 || Offset.Length != d || InputMin.Length != d || InputMax.Length != d || InputMean.Length != d || InputStd.Length != d)
            throw new ArgumentException($"normaliser field '{key}' has inconsistent lengths (scale {Scale.Length}, offset {Offset.Length}, stats {InputMin.Length}/{InputMax.Length}/{InputMean.Length}/{InputStd.Length}).");
        if (Scale.Any(s => !float.IsFinite(s) || s == 0) || Offset.Any(o => !float.IsFinite(o)))
            throw new ArgumentException($"normaliser field '{key}' has a zero or non-finite scale/offset.");
    }
}

/// <summary>
/// A set of named <see cref="NormalizerField"/>s (the reference <c>LinearNormalizer</c>): Normalize / Unnormalize for
/// torch tensors (..., D) and double arrays, saved as JSON beside checkpoints (atomic write).
/// </summary>
public sealed class LinearNormalizer
{
    private const string FormatTag = "dpag-linear-normalizer-v1";
    private readonly Dictionary<string, NormalizerField> _fields = new(StringComparer.Ordinal);

    /// <summary>Field names, sorted.</summary>
    public IReadOnlyList<string> Keys => _fields.Keys.OrderBy(k => k, StringComparer.Ordinal).ToList();

    /// <summary>The field <paramref name="key"/>; setting validates it.</summary>
    public NormalizerField this[string key]
    {
        get => _fields.TryGetValue(key, out var f) ? f : throw new KeyNotFoundException($"normaliser has no field '{key}'; fields: {string.Join(", ", Keys)}.");
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            value.Check(key);
            _fields[key] = value;
        }
    }

    /// <summary>True when field <paramref name="key"/> exists.</summary>
    public bool ContainsKey(string key) => _fields.ContainsKey(key);

    /// <summary>x * scale + offset along the last dimension; x (..., D) on any device, float32 or float64.</summary>
    public Tensor Normalize(string key, Tensor x) => Apply(key, x, forward: true);

    /// <summary>(x - offset) / scale along the last dimension.</summary>
    public Tensor Unnormalize(string key, Tensor x) => Apply(key, x, forward: false);

    /// <summary>Normalises a C-order array whose length is a multiple of D (returns a new array).</summary>
    public double[] Normalize(string key, ReadOnlySpan<double> x) => Apply(key, x, forward: true);

    /// <summary>Unnormalises a C-order array whose length is a multiple of D (returns a new array).</summary>
    public double[] Unnormalize(string key, ReadOnlySpan<double> x) => Apply(key, x, forward: false);

    private Tensor Apply(string key, Tensor x, bool forward)
    {
        var f = this[key];
        int d = f.Dimension;
        if (d > 1 && (x.dim() == 0 || x.shape[^1] != d))
            throw new ArgumentException($"normaliser field '{key}' expects a last dimension of {d}, got shape [{string.Join(", ", x.shape)}].", nameof(x));
        using var scope = torch.NewDisposeScope();
        var scale = torch.tensor(f.Scale, dtype: x.dtype, device: x.device);
        var offset = torch.tensor(f.Offset, dtype: x.dtype, device: x.device);
        var y = forward ? (x * scale).Plus(offset) : (x - offset) / scale;
        return y.MoveToOuterDisposeScope();
    }

    private double[] Apply(string key, ReadOnlySpan<double> x, bool forward)
    {
        var f = this[key];
        int d = f.Dimension;
        if (x.Length % d != 0) throw new ArgumentException($"normaliser field '{key}' expects a multiple of {d} values, got {x.Length}.", nameof(x));
        var y = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            int k = i % d;
            y[i] = forward ? x[i] * f.Scale[k] + f.Offset[k] : (x[i] - f.Offset[k]) / f.Scale[k];
        }
        return y;
    }

    /// <summary>Writes the normaliser as JSON, atomically (floats round-trip exactly).</summary>
    public void Save(string path)
    {
        var fields = new JsonObject();
        foreach (var key in Keys)
        {
            var f = _fields[key];
            fields[key] = new JsonObject
            {
                ["scale"] = Arr(f.Scale), ["offset"] = Arr(f.Offset),
                ["input_min"] = Arr(f.InputMin), ["input_max"] = Arr(f.InputMax),
                ["input_mean"] = Arr(f.InputMean), ["input_std"] = Arr(f.InputStd),
            };
        }
        var doc = new JsonObject { ["format"] = FormatTag, ["fields"] = fields };
        AtomicFile.WriteAllText(path, doc.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        static JsonArray Arr(float[] v) => new(v.Select(x => (JsonNode)JsonValue.Create(x)).ToArray());
    }

    /// <summary>Reads a normaliser written by <see cref="Save"/>; malformed files raise <see cref="DatasetFormatException"/>.</summary>
    public static LinearNormalizer Load(string path)
    {
        if (!File.Exists(path)) throw new DatasetFormatException($"{path}: normaliser file not found.", path);
        try
        {
            var doc = JsonNode.Parse(File.ReadAllText(path)) as JsonObject;
            if (doc?["format"]?.GetValue<string>() != FormatTag || doc["fields"] is not JsonObject fields)
                throw new DatasetFormatException($"{path}: not a normaliser file; expected {{\"format\": \"{FormatTag}\", \"fields\": {{...}}}}.", path);
            var result = new LinearNormalizer();
            foreach (var (key, node) in fields)
            {
                if (node is not JsonObject o) throw new DatasetFormatException($"{path}: field '{key}' is not an object.", path, key);
                float[] Get(string name) => o[name] is JsonArray a ? a.Select(v => v!.GetValue<float>()).ToArray()
                    : throw new DatasetFormatException($"{path}: field '{key}' lacks '{name}'.", path, key);
                var field = new NormalizerField(Get("scale"), Get("offset"), Get("input_min"), Get("input_max"), Get("input_mean"), Get("input_std"));
                try { result[key] = field; }
                catch (ArgumentException e) { throw new DatasetFormatException($"{path}: {e.Message}", path, key, e); }
            }
            return result;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or NullReferenceException)
        {
            throw new DatasetFormatException($"{path}: malformed normaliser JSON ({e.Message}).", path, null, e);
        }
    }
}
