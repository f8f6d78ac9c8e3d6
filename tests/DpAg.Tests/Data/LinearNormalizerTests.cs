using DpAg.Data;
using TorchSharp;

namespace DpAg.Tests.Data;

public sealed class LinearNormalizerTests
{
    [Fact]
    public void FitLimitsMapsMinMaxToMinusOneOne()
    {
        // 3 samples x 3 dims; dim 2 constant (range 0 < 1e-4), dim 1 range 5e-5 also below eps.
        float[] data = [0, 1, 7, 10, 1.00005f, 7, 4, 1, 7];
        var f = NormalizerField.FitLimits(data, 3);
        Assert.Equal(2f / 10f, f.Scale[0]);
        Assert.Equal(-1f, f.Offset[0]);
        Assert.Equal(1f, f.Scale[1]);
        Assert.Equal(-1f, f.Offset[1]);
        Assert.Equal(1f, f.Scale[2]);
        Assert.Equal(-7f, f.Offset[2]);
        Assert.Equal(new float[] { 0, 1, 7 }, f.InputMin);
        Assert.Equal(new float[] { 10, 1.00005f, 7 }, f.InputMax);
        Assert.Equal(14f / 3f, f.InputMean[0], 5);
        var n = new LinearNormalizer { ["x"] = f };
        var y = n.Normalize("x", data.Select(v => (double)v).ToArray());
        Assert.Equal(-1, y[0], 6);
        Assert.Equal(1, y[3], 6);
        Assert.Equal(-0.2, y[6], 6);
        Assert.Equal(0, y[2], 6); // constant dimension maps to 0
        Assert.Equal(0, y[1], 6);
        Assert.Equal(5e-5, y[4], 6);
        var back = n.Unnormalize("x", y);
        for (int i = 0; i < data.Length; i++) Assert.Equal(data[i], back[i], 4);
    }

    [Fact]
    public void GeneralRangeMatchesClosedForm()
    {
        var rng = new Random(5);
        var data = Enumerable.Range(0, 400).Select(_ => (float)(rng.NextDouble() * 300 - 20)).ToArray();
        var f = NormalizerField.FitLimits(data, 4);
        for (int d = 0; d < 4; d++)
        {
            float min = Enumerable.Range(0, 100).Min(i => data[4 * i + d]), max = Enumerable.Range(0, 100).Max(i => data[4 * i + d]);
            Assert.Equal(2f / (max - min), f.Scale[d]);
            Assert.Equal(-1f - f.Scale[d] * min, f.Offset[d]);
        }
        var y = new LinearNormalizer { ["a"] = f }.Normalize("a", data.Select(v => (double)v).ToArray());
        Assert.All(y, v => Assert.InRange(v, -1 - 1e-6, 1 + 1e-6));
        Assert.Equal(1, y.Max(), 5);
        Assert.Equal(-1, y.Min(), 5);
    }

    [Fact]
    public void TensorNormalizeMatchesArraysAndInverts()
    {
        Torch.Init();
        using var scope = torch.NewDisposeScope();
        var data = Enumerable.Range(0, 60).Select(i => (float)Math.Sin(i) * 30 + i).ToArray();
        var n = new LinearNormalizer { ["obs"] = NormalizerField.FitLimits(data, 2), ["image"] = NormalizerField.ImageRange() };
        var x = torch.tensor(data, [3, 10, 2]);
        var y = n.Normalize("obs", x);
        Assert.Equal(new long[] { 3, 10, 2 }, y.shape);
        var expected = n.Normalize("obs", data.Select(v => (double)v).ToArray());
        var got = y.data<float>().ToArray();
        for (int i = 0; i < got.Length; i++) Assert.Equal(expected[i], got[i], 4);
        var back = n.Unnormalize("obs", y).data<float>().ToArray();
        for (int i = 0; i < got.Length; i++) Assert.Equal(data[i], back[i], 3);
        var img = n.Normalize("image", torch.tensor(new float[] { 0, 0.5f, 1 }, [1, 3, 1, 1]));
        Assert.Equal(new float[] { -1, 0, 1 }, img.data<float>().ToArray());
        Assert.Throws<ArgumentException>(() => n.Normalize("obs", torch.zeros(4, 3)));
        Assert.Throws<KeyNotFoundException>(() => n.Normalize("nope", x));
    }

    [Fact]
    public void SaveLoadRoundTripsExactlyAndRejectsBadFiles()
    {
        using var tmp = new TempDir();
        var n = new LinearNormalizer
        {
            ["action"] = NormalizerField.FitLimits([0.1f, 3.3f, 511.7f, -2f, 1e-7f, 7f], 2),
            ["image"] = NormalizerField.ImageRange(),
        };
        var path = tmp.Sub("normalizer.json");
        n.Save(path);
        var back = LinearNormalizer.Load(path);
        Assert.Equal(n.Keys, back.Keys);
        foreach (var k in n.Keys)
        {
            Assert.Equal(n[k].Scale, back[k].Scale);
            Assert.Equal(n[k].Offset, back[k].Offset);
            Assert.Equal(n[k].InputMin, back[k].InputMin);
            Assert.Equal(n[k].InputStd, back[k].InputStd);
        }
        File.WriteAllText(path, "{\"format\": \"other\"}");
        Assert.Throws<DatasetFormatException>(() => LinearNormalizer.Load(path));
        File.WriteAllText(path, "{ nope");
        Assert.Throws<DatasetFormatException>(() => LinearNormalizer.Load(path));
        File.WriteAllText(path, "{\"format\": \"dpag-linear-normalizer-v1\", \"fields\": {\"a\": {\"scale\": [0], \"offset\": [0], \"input_min\": [0], \"input_max\": [0], \"input_mean\": [0], \"input_std\": [0]}}}");
        Assert.Contains("zero", Assert.Throws<DatasetFormatException>(() => LinearNormalizer.Load(path)).Message);
        Assert.Throws<DatasetFormatException>(() => LinearNormalizer.Load(tmp.Sub("missing.json")));
    }

    [Fact]
    public void FitRejectsBadInput()
    {
        Assert.Throws<ArgumentException>(() => NormalizerField.FitLimits([1f, 2f, 3f], 2));
        Assert.Throws<ArgumentException>(() => NormalizerField.FitLimits([1f, float.NaN], 2));
        Assert.Throws<ArgumentException>(() => NormalizerField.FitLimits([], 2));
    }
}
