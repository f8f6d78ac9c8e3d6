using DpAg.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Spirals;

/// <summary>
/// The generator's spirals as an autonomous ODE, to measure a solver's numerical floor: the MSE at the held-out stamps
/// when the true dynamics, started from the true state, are integrated by that solver (docs/spirals.md,
/// "Assumptions of the reconstruction", the solver row).
/// </summary>
/// <remarks>
/// State u = (x, y, c, w) with c = -Shrink r0 (radial speed) and w = +-2 pi Turns (angular speed), both constant:
/// d(x, y)/dt = c (x, y) / r + w (-y, x), r = ||(x, y)||. Its solution is <see cref="SpiralDataset.Position"/>.
/// </remarks>
public static class SpiralTruth
{
    /// <summary>The true vector field on (B, 4) states.</summary>
    public static Tensor Field(Tensor u)
    {
        using var scope = torch.NewDisposeScope();
        var xy = u.narrow(1, 0, 2);                                                             // (B, 2)
        var c = u.narrow(1, 2, 1);                                                              // (B, 1)
        var w = u.narrow(1, 3, 1);                                                              // (B, 1)
        var r = torch.linalg.norm(xy, new long[] { 1 }, keepdim: true);                         // (B, 1)
        var rotated = torch.stack(new[] { xy.select(1, 1).neg(), xy.select(1, 0) }, 1);        // (B, 2) = (-y, x)
        var velocity = (c * xy / r).Plus(w * rotated);                                          // (B, 2)
        return torch.cat(new[] { velocity, torch.zeros_like(u.narrow(1, 2, 2)) }, 1).MoveToOuterDisposeScope();   // (B, 4)
    }

    /// <summary>The true initial states of a set, (n, 4).</summary>
    public static Tensor InitialState(SpiralDataConfig config, SpiralSet set, ScalarType dtype = ScalarType.Float32)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(set);
        var data = new double[set.Count * 4];
        for (int i = 0; i < set.Count; i++)
        {
            var (x, y) = SpiralDataset.Position(config, set.Clockwise[i], set.Phase[i], set.Radius[i], 0.0);
            data[4 * i] = x;
            data[4 * i + 1] = y;
            data[4 * i + 2] = -config.Shrink * set.Radius[i];
            data[4 * i + 3] = (set.Clockwise[i] ? -1 : 1) * 2 * Math.PI * config.Turns;
        }
        return torch.tensor(data, new long[] { set.Count, 4 }).to(dtype);
    }

    /// <summary>
    /// The numerical floor of <paramref name="solver"/> on <paramref name="set"/>: MSE (both coordinates) between the
    /// true dynamics integrated by the solver and the closed form, at the held-out (interpolation and extrapolation)
    /// stamps, in <paramref name="dtype"/> (float32, the models' precision, by default).
    /// </summary>
    public static double NumericalFloor(SpiralDataConfig config, SpiralSet set, OdeSolverConfig solver, ScalarType dtype = ScalarType.Float32)
    {
        ArgumentNullException.ThrowIfNull(set);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        using var t = set.ToTensors();
        var u0 = InitialState(config, set, dtype);                                              // (n, 4)
        var u = OdeSolver.Solve(Field, u0, t.Times.to(dtype), solver);                          // (n, N, 4)
        return SpiralMetrics.Mse(u.narrow(2, 0, 2), t.Clean.to(dtype), t.Kinds, null);
    }
}
