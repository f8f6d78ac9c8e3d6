using DpAg.Spirals;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Tests.Spirals;

public class OdeSolverTests
{
    private const double Decay = 0.5, Omega = 2 * Math.PI * 1.25;   // the spirals' angular speed

    /// <summary>dz/dt = A z, A = [[-a, -w], [w, -a]]: z(t) = exp(-a t) R(w t) z0.</summary>
    private static Tensor Linear(Tensor z)
    {
        var a = torch.tensor(new double[] { -Decay, Omega, -Omega, -Decay }, dtype: float64).reshape(2, 2);   // A^T
        return z.matmul(a);
    }

    private static Tensor ClosedForm(Tensor z0, Tensor times)
    {
        var decay = (times * -Decay).exp();                                                       // (B, N)
        var c = (times * Omega).cos() * decay;
        var s = (times * Omega).sin() * decay;
        var x0 = z0[.., 0].unsqueeze(1);
        var y0 = z0[.., 1].unsqueeze(1);
        return torch.stack(new[] { c * x0 - s * y0, s * x0 + c * y0 }, -1);                     // (B, N, 2)
    }

    private static (Tensor Z0, Tensor Times) Problem()
    {
        var gen = new Generator(17);
        var z0 = torch.randn(new long[] { 6, 2 }, dtype: float64, generator: gen);
        var times = torch.rand(new long[] { 6, 9 }, dtype: float64, generator: gen).sort(1).Values;   // irregular stamps in [0, 1)
        return (z0, times);
    }

    private static double MaxError(OdeSolverConfig config)
    {
        var (z0, times) = Problem();
        var z = OdeSolver.Solve(Linear, z0, times, config);
        return (z - ClosedForm(z0, times)).abs().max().item<double>();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Rk4MatchesTheClosedFormOfALinearSystemAtIrregularStampsWithFourthOrderConvergence(bool denseGrid)
    {
        Torch.Init();
        using var scope = torch.NewDisposeScope();
        var config = OdeSolverConfig.Rk4Grid with { DenseGrid = denseGrid };
        double coarse = MaxError(config with { MaxStep = 1.0 / 20 });
        double fine = MaxError(config with { MaxStep = 1.0 / 40 });
        Assert.True(fine < 3e-4, $"error at h = 1/40: {fine}");   // about T (h w)^4 w / 120 |z0| for RK4
        // Fourth order: halving the step divides the error by about 16 (Hermite dense output is fourth order too).
        Assert.InRange(coarse / fine, 9.0, 24.0);
    }

    [Fact]
    public void EulerIsFirstOrderAndOneStepPerGapIsFarFromTheTruth()
    {
        Torch.Init();
        using var scope = torch.NewDisposeScope();
        var euler = OdeSolverConfig.Rk4Grid with { Method = OdeMethod.Euler };
        double ratio = MaxError(euler with { MaxStep = 1.0 / 200 }) / MaxError(euler with { MaxStep = 1.0 / 400 });
        Assert.InRange(ratio, 1.7, 2.3);
        Assert.True(MaxError(OdeSolverConfig.EulerPerGap) > 0.05);
    }

    [Fact]
    public void GridSolveCountsItsEvaluationsAndRejectsStampsOutsideTheSpan()
    {
        Torch.Init();
        using var scope = torch.NewDisposeScope();
        int calls = 0;
        var (z0, times) = Problem();
        OdeSolver.Solve(z => { calls++; return Linear(z); }, z0, times, OdeSolverConfig.Rk4Grid);
        Assert.Equal(0.025, OdeSolverConfig.Rk4Grid.MaxStep, 12);
        Assert.Equal(4 * 40 + 1, calls);
        Assert.Equal(calls, OdeSolver.GridEvaluations(OdeSolverConfig.Rk4Grid));
        Assert.Throws<ArgumentException>(() => OdeSolver.Solve(Linear, z0, times + 1.0, OdeSolverConfig.Rk4Grid));
        Assert.Contains("MaxStep", Assert.Throws<ArgumentException>(() => (OdeSolverConfig.Rk4Grid with { MaxStep = 0 }).Validate()).Message);
    }

    [Fact]
    public void StampSolverAppliesTheJumpAfterEachStamp()
    {
        Torch.Init();
        using var scope = torch.NewDisposeScope();
        var (z0, times) = Problem();
        var config = OdeSolverConfig.Rk4Grid with { DenseGrid = false };
        // Zero field: the state only moves by the jumps, +1 per stamp.
        var z = OdeSolver.Solve(x => torch.zeros_like(x), z0, times, config, (i, x) => x + 1.0);
        var expected = z0.unsqueeze(1) + torch.arange(1, 10, dtype: float64).reshape(1, 9, 1);
        Assert.True((z - expected).abs().max().item<double>() < 1e-12);
        Assert.Throws<ArgumentException>(() => OdeSolver.Solve(Linear, z0, times, OdeSolverConfig.Rk4Grid, (i, x) => x));
    }

    [Fact]
    public void TrueSpiralDynamicsGiveATinyFloorForRk4AndALargeOneForOneEulerStepPerGap()
    {
        Torch.Init();
        var data = new SpiralDataConfig { TrainCount = 2, TestCount = 64 };
        var (_, test) = SpiralDataset.Generate(data, 3);
        double rk4 = SpiralTruth.NumericalFloor(data, test, OdeSolverConfig.Rk4Grid, ScalarType.Float64);
        double rk4Float = SpiralTruth.NumericalFloor(data, test, OdeSolverConfig.Rk4Grid);
        double euler = SpiralTruth.NumericalFloor(data, test, OdeSolverConfig.EulerPerGap);
        Assert.True(rk4 < 1e-9, $"RK4 floor {rk4}");
        Assert.True(rk4Float < 1e-8, $"RK4 float32 floor {rk4Float}");
        Assert.True(euler > 1e-3, $"Euler floor {euler}");                 // above the paper's MSE scale: the old bottleneck
    }
}
