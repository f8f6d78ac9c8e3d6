using DpAg.Losses;
using TorchSharp;
using static TorchSharp.torch;
using static DpAg.Tests.Latent.Numerics;

namespace DpAg.Tests.Losses;

public class InfoNceTests
{
    // Anchors a1 = (1, 0), a2 = (0, 1), a3 = (3, 4); candidates c1 = (3, 4), c2 = (0, 2), c3 = (-1, 0).
    // Cosines s_ij = cos(a_i, c_j):  row 1: 3/5 = 0.6, 0, -1;  row 2: 4/5 = 0.8, 1, 0;  row 3: 25/25 = 1, 8/10 = 0.8, -3/5 = -0.6.
    private static Tensor Anchors() => torch.tensor(new double[] { 1, 0, 0, 1, 3, 4 }, dtype: ScalarType.Float64).reshape(3, 2);
    private static Tensor Candidates() => torch.tensor(new double[] { 3, 4, 0, 2, -1, 0 }, dtype: ScalarType.Float64).reshape(3, 2);
    private const double Tau = 0.8;

    private static double E(double s) => Math.Exp(s / Tau);

    // Rows (anchor i against every candidate), positive included: -s_ii/tau + log sum_j exp(s_ij/tau).
    private static readonly double[] RowsIncluded =
    {
        -0.6 / Tau + Math.Log(E(0.6) + E(0) + E(-1)),
        -1.0 / Tau + Math.Log(E(0.8) + E(1) + E(0)),
        0.6 / Tau + Math.Log(E(1) + E(0.8) + E(-0.6)),
    };

    // Rows, positive excluded: -s_ii/tau + log sum_{j != i} exp(s_ij/tau).
    private static readonly double[] RowsExcluded =
    {
        -0.6 / Tau + Math.Log(E(0) + E(-1)),
        -1.0 / Tau + Math.Log(E(0.8) + E(0)),
        0.6 / Tau + Math.Log(E(1) + E(0.8)),
    };

    // Columns (candidate j against every anchor): column 1 = (0.6, 0.8, 1), column 2 = (0, 1, 0.8), column 3 = (-1, 0, -0.6).
    private static readonly double[] ColumnsIncluded =
    {
        -0.6 / Tau + Math.Log(E(0.6) + E(0.8) + E(1)),
        -1.0 / Tau + Math.Log(E(0) + E(1) + E(0.8)),
        0.6 / Tau + Math.Log(E(-1) + E(0) + E(-0.6)),
    };

    private static readonly double[] ColumnsExcluded =
    {
        -0.6 / Tau + Math.Log(E(0.8) + E(1)),
        -1.0 / Tau + Math.Log(E(0) + E(0.8)),
        0.6 / Tau + Math.Log(E(-1) + E(0)),
    };

    private static ContrastiveConfig Config(bool included, InfoNceDirection direction) =>
        new() { Temperature = Tau, PositiveInDenominator = included, Direction = direction };

    [Fact]
    public void CosineSimilaritiesAreTheHandValues()
    {
        Torch.Init();
        using var scope = torch.NewDisposeScope();
        var s = InfoNce.CosineSimilarities(Anchors(), Candidates(), ContrastiveVectors.FlattenedChunk, 1e-12);
        AssertClose(new[] { 0.6, 0, -1, 0.8, 1, 0, 1, 0.8, -0.6 }, Values(s), 1e-15, 0, "s_ij");
    }

    [Theory]
    [InlineData(true, InfoNceDirection.OneWay)]
    [InlineData(false, InfoNceDirection.OneWay)]
    [InlineData(true, InfoNceDirection.Cycle)]
    [InlineData(false, InfoNceDirection.Cycle)]
    public void VariantsEqualTheHandComputedValues(bool included, InfoNceDirection direction)
    {
        Torch.Init();
        using var scope = torch.NewDisposeScope();
        var rows = included ? RowsIncluded : RowsExcluded;
        var columns = included ? ColumnsIncluded : ColumnsExcluded;
        var expected = direction == InfoNceDirection.OneWay ? rows : rows.Zip(columns, (r, c) => 0.5 * (r + c)).ToArray();
        var config = Config(included, direction);
        AssertClose(expected, Values(InfoNce.PerSample(Anchors(), Candidates(), config)), 1e-14, 1e-13, "per sample");
        Assert.Equal(expected.Average(), InfoNce.Loss(Anchors(), Candidates(), config).item<double>(), 1e-13);
    }

    [Fact]
    public void ReleasedPresetIsOneWayCrossEntropyAtTemperatureZeroPointEight()
    {
        Torch.Init();
        using var scope = torch.NewDisposeScope();
        Assert.Equal(RowsIncluded.Average(), InfoNce.Loss(Anchors(), Candidates(), ContrastiveConfig.ReleasedCode).item<double>(), 1e-13);
        // Standard cross-entropy with labels i on logits s / tau gives the same number.
        var logits = InfoNce.CosineSimilarities(Anchors(), Candidates(), ContrastiveVectors.FlattenedChunk, 1e-12)[0] / Tau;
        var ce = nn.functional.cross_entropy(logits, torch.arange(3, dtype: ScalarType.Int64));
        Assert.Equal(ce.item<double>(), InfoNce.Loss(Anchors(), Candidates(), ContrastiveConfig.ReleasedCode).item<double>(), 1e-13);
        Assert.Equal(0.5 * (RowsExcluded.Average() + ColumnsExcluded.Average()), InfoNce.Loss(Anchors(), Candidates(), ContrastiveConfig.Paper).item<double>(), 1e-13);
    }

    [Fact]
    public void PerActionStepAveragesTheStepsAndCosineIgnoresScale()
    {
        Torch.Init();
        using var scope = torch.NewDisposeScope();
        // Step 0 compares anchors with candidates; step 1 swaps them, so its rows are step 0's columns.
        var anchors = torch.stack(new[] { Anchors(), Candidates() }, 1);     // (B=3, Ta=2, Da=2)
        var candidates = torch.stack(new[] { Candidates(), Anchors() }, 1);
        var config = ContrastiveConfig.ReleasedCode with { Vectors = ContrastiveVectors.PerActionStep };
        var expected = RowsIncluded.Zip(ColumnsIncluded, (r, c) => 0.5 * (r + c)).ToArray();
        AssertClose(expected, Values(InfoNce.PerSample(anchors, candidates, config)), 1e-14, 1e-13, "per action step");
        Assert.Equal(RowsIncluded.Average(), InfoNce.Loss(2.5 * Anchors(), 0.1 * Candidates(), ContrastiveConfig.ReleasedCode).item<double>(), 1e-13);
    }

    [Theory]
    [InlineData(true, InfoNceDirection.OneWay, ContrastiveVectors.FlattenedChunk)]
    [InlineData(false, InfoNceDirection.OneWay, ContrastiveVectors.FlattenedChunk)]
    [InlineData(true, InfoNceDirection.Cycle, ContrastiveVectors.FlattenedChunk)]
    [InlineData(false, InfoNceDirection.Cycle, ContrastiveVectors.PerActionStep)]
    public void GradientsMatchFiniteDifferences(bool included, InfoNceDirection direction, ContrastiveVectors vectors)
    {
        Torch.Init(seed: 51);
        using var scope = torch.NewDisposeScope();
        var config = new ContrastiveConfig { Temperature = 0.5, PositiveInDenominator = included, Direction = direction, Vectors = vectors, DetachCandidates = false };
        var a = Randn(4, 3, 2).requires_grad_(true);
        var c = Randn(4, 3, 2).requires_grad_(true);
        var grads = torch.autograd.grad(new[] { InfoNce.Loss(a, c, config) }, new[] { a, c }, retain_graph: false, create_graph: false);
        AssertClose(CentralDifferences(x => InfoNce.Loss(x, c.detach(), config).item<double>(), a), Values(grads[0]), 1e-8, 1e-6, "d/d anchors");
        AssertClose(CentralDifferences(x => InfoNce.Loss(a.detach(), x, config).item<double>(), c), Values(grads[1]), 1e-8, 1e-6, "d/d candidates");
    }

    [Fact]
    public void DetachedCandidatesReceiveNoGradientAndBadInputsAreReported()
    {
        Torch.Init(seed: 52);
        using var scope = torch.NewDisposeScope();
        var a = Randn(4, 6).requires_grad_(true);
        var c = Randn(4, 6).requires_grad_(true);
        InfoNce.Loss(a, c, ContrastiveConfig.ReleasedCode).backward();
        Assert.NotNull(a.grad);
        Assert.True(c.grad is null || c.grad.IsInvalid);
        Assert.Contains("B = 1", Assert.Throws<ArgumentException>(() => InfoNce.Loss(Randn(1, 3), Randn(1, 3), ContrastiveConfig.Paper)).Message);
        Assert.Contains("Temperature = 0", Assert.Throws<ArgumentException>(() => InfoNce.Loss(Randn(2, 3), Randn(2, 3), ContrastiveConfig.Paper with { Temperature = 0 })).Message);
        Assert.Contains("PerActionStep", Assert.Throws<ArgumentException>(() => InfoNce.Loss(Randn(2, 3), Randn(2, 3), ContrastiveConfig.Paper with { Vectors = ContrastiveVectors.PerActionStep })).Message);
    }
}
