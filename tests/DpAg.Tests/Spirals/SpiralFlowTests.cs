using DpAg.Spirals;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Tests.Spirals;

public class SpiralFlowTests
{
    private const int K = 4, D = 6, H = 16;

    private static SpiralFlow Model(FlowGuidanceConfig? guidance, long seed = 11)
    {
        torch.manual_seed(seed);
        var model = new SpiralFlow(K, D, H, OdeSolverConfig.Rk4Grid with { MaxStep = 0.1 }, guidance);
        model.to(float64);
        return model;
    }

    /// <summary>Explicit Jacobian of the decoder at each sample, (B, 2, D), from torch's functional jacobian.</summary>
    private static Tensor DecoderJacobian(SpiralFlow model, Tensor z)
    {
        long b = z.shape[0];
        var jac = torch.autograd.functional.jacobian(x => model.Decode(x), z.detach());      // (B, 2, B, D)
        return torch.stack(Enumerable.Range(0, (int)b).Select(i => jac[i, TensorIndex.Colon, i, TensorIndex.Colon]).ToArray());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void OutputEnergyDirectionIsJacobianTransposeTimesOutputFromTheExplicitJacobian(bool throughGraph)
    {
        Torch.Init();
        using var scope = torch.NewDisposeScope();
        using var model = Model(FlowGuidanceConfig.Paper);
        var z = torch.randn(3, D, dtype: float64);
        var jac = DecoderJacobian(model, z);                                                  // (B, 2, D)
        var output = model.Decode(z).detach();                                                // (B, 2)
        var expected = torch.einsum("bod,bo->bd", jac, output);                               // J^T dec(z) per sample
        // throughGraph: z carries a graph (training, create_graph); otherwise the detached leaf path (evaluation).
        var zIn = throughGraph ? (z.requires_grad_(true) * 1.0) : z;
        var got = model.Direction(zIn, null, FlowGuidanceConfig.Paper);
        Assert.True((got.detach() - expected).abs().max().item<double>() < 1e-12, $"max error {(got.detach() - expected).abs().max().item<double>()}");
        Assert.Equal(throughGraph, got.requires_grad);
    }

    [Fact]
    public void ReleasedNormalisationIsTheUnitVjpAndPrefixResidualUsesTheResidual()
    {
        Torch.Init();
        using var scope = torch.NewDisposeScope();
        using var model = Model(FlowGuidanceConfig.ReleasedCode);
        var z = torch.randn(4, D, dtype: float64);
        var target = torch.randn(4, 2, dtype: float64);
        var jac = DecoderJacobian(model, z);
        var raw = torch.einsum("bod,bo->bd", jac, model.Decode(z).detach());
        var unit = model.Direction(z, null, FlowGuidanceConfig.ReleasedCode);
        var expected = raw / torch.linalg.vector_norm(raw, 2, new long[] { 1 }, keepdim: true);
        Assert.True((unit - expected).abs().max().item<double>() < 1e-12);
        var residual = model.Direction(z, target, FlowGuidanceConfig.PrefixResidualCorrection);
        var expectedResidual = torch.einsum("bod,bo->bd", jac, model.Decode(z).detach() - target);
        Assert.True((residual - expectedResidual).abs().max().item<double>() < 1e-12);
    }

    [Fact]
    public void DifferentiableCorrectionHasTheGradientOfItsFiniteDifferences()
    {
        Torch.Init();
        using var scope = torch.NewDisposeScope();
        using var model = Model(FlowGuidanceConfig.Paper);
        var z = torch.randn(2, D, dtype: float64).requires_grad_(true);
        var w = torch.randn(2, D, dtype: float64);
        // d/dz of <w, J^T dec(z)> through create_graph, against central differences of the same scalar.
        var scalar = (model.Direction(z, null, FlowGuidanceConfig.Paper) * w).sum();
        var grad = torch.autograd.grad(new[] { scalar }, new[] { z }, retain_graph: false, create_graph: false)[0];
        const double h = 1e-5;
        var zd = z.detach();
        for (int b = 0; b < 2; b++)
            for (int d = 0; d < D; d++)
            {
                var e = torch.zeros_like(zd); e[b, d] = torch.tensor(h, dtype: float64);
                double f(Tensor x) => (model.Direction(x, null, FlowGuidanceConfig.Paper) * w).sum().item<double>();
                double fd = (f(zd + e) - f(zd - e)) / (2 * h);
                Assert.Equal(fd, grad[b, d].item<double>(), 6);
            }
    }

    [Fact]
    public void GuidedModelWithoutItsCorrectionOrWithGammaZeroIsTheBaseFlow()
    {
        Torch.Init();
        using var scope = torch.NewDisposeScope();
        using var baseFlow = Model(null);
        using var guided = Model(FlowGuidanceConfig.Paper);
        using var zeroGamma = Model(FlowGuidanceConfig.Paper with { Gamma = 0 });
        var prefix = torch.rand(3, K, 3, dtype: float64);
        var times = torch.rand(3, 7, dtype: float64).sort(1).Values;
        using var noGrad = torch.no_grad();
        var a = baseFlow.Rollout(prefix, times);
        var b = guided.Rollout(prefix, times, guided: false);
        var c = zeroGamma.Rollout(prefix, times);
        var g = guided.Rollout(prefix, times);
        Assert.Equal(new long[] { 3, 7, 2 }, a.Outputs.shape);
        Assert.Equal(new long[] { 3, 7, D }, a.Latents.shape);
        Assert.Equal(0.0, (a.Outputs - b.Outputs).abs().max().item<double>());
        Assert.Equal(0.0, (a.Outputs - c.Outputs).abs().max().item<double>());
        Assert.False(torch.allclose(a.Outputs, g.Outputs));
    }

    [Fact]
    public void OneGuidedEulerStepAddsSignGammaHTimesTheVjp()
    {
        Torch.Init();
        using var scope = torch.NewDisposeScope();
        var config = FlowGuidanceConfig.Paper with { Gamma = 0.7, Sign = -1 };
        torch.manual_seed(3);
        using var model = new SpiralFlow(K, D, H, OdeSolverConfig.EulerPerGap, config);
        model.to(float64);
        var prefix = torch.rand(2, K, 3, dtype: float64);
        var times = torch.tensor(new double[] { 0.3, 0.2 }, dtype: float64).reshape(2, 1);
        using var noGrad = torch.no_grad();
        var z0 = model.forward(prefix);
        var plain = model.Rollout(prefix, times, guided: false).Latents.select(1, 0);            // z0 + h f(z0)
        var guided = model.Rollout(prefix, times).Latents.select(1, 0);
        var expected = plain + times * (-0.7) * model.Direction(z0, null, config);
        Assert.True((guided - expected).abs().max().item<double>() < 1e-12);
    }

    [Fact]
    public void PrefixResidualActsOnlyAtObservedStamps()
    {
        Torch.Init();
        using var scope = torch.NewDisposeScope();
        using var model = Model(FlowGuidanceConfig.PrefixResidualCorrection);
        var prefix = torch.rand(2, K, 3, dtype: float64);
        var times = torch.rand(2, 5, dtype: float64).sort(1).Values;
        var obs = torch.randn(2, 5, 2, dtype: float64);
        using var noGrad = torch.no_grad();
        var none = model.Rollout(prefix, times, obs, torch.zeros(2, 5, dtype: ScalarType.Bool));
        var plain = model.Rollout(prefix, times, guided: false);
        Assert.True(torch.allclose(none.Outputs, plain.Outputs));
        var mask = torch.tensor(new bool[] { false, false, true, false, false, false, false, false, false, false }).reshape(2, 5);
        var one = model.Rollout(prefix, times, obs, mask);
        Assert.True(torch.allclose(one.Latents[.., ..2], plain.Latents[.., ..2]));             // before the observed stamp
        Assert.False(torch.allclose(one.Latents[0, 2], plain.Latents[0, 2]));                  // corrected at it
        Assert.True(torch.allclose(one.Latents[1], plain.Latents[1]));                         // sample 1 has no observed stamp
        Assert.Throws<ArgumentException>(() => model.Rollout(prefix, times));
    }
}

public class DenseRolloutTests
{
    [Fact]
    public void PrefixResidualGridRolloutAppliesTheCorrectionAtTheMergedObservedStamps()
    {
        Torch.Init();
        using var scope = torch.NewDisposeScope();
        var data = new SpiralDataConfig { TrainCount = 2, TestCount = 3, Observed = 4, Interpolation = 1, Extrapolation = 1 };
        var (_, test) = SpiralDataset.Generate(data, 0);
        using var t = test.ToTensors();
        torch.manual_seed(4);
        using var model = new SpiralFlow(4, 6, 16, OdeSolverConfig.Rk4Grid, FlowGuidanceConfig.PrefixResidualCorrection with { Gamma = 2 });
        using var noGrad = torch.no_grad();
        var prefix = t.EncoderInput();
        var grid = SpiralsExperiment.Grid(20).unsqueeze(0).expand(3, -1);
        var dense = SpiralsExperiment.DenseRollout(model, t, prefix, grid);
        Assert.Equal(new long[] { 3, 20, 6 }, dense.Latents.shape);
        Assert.True(torch.allclose(dense.Outputs, model.Decode(dense.Latents), 1e-5, 1e-6));
        var plain = model.Rollout(prefix, grid, guided: false);
        Assert.True((dense.Latents[.., 19] - plain.Latents[.., 19]).abs().max().item<float>() > 1e-4);   // corrected on the way
    }
}
