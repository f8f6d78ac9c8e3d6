using System.Globalization;
using DpAg.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Spirals;

/// <summary>The explicit one-step method of <see cref="OdeSolver"/>.</summary>
public enum OdeMethod
{
    /// <summary>Explicit Euler, first order (the kit's first spirals experiment; kept to measure its floor).</summary>
    Euler,

    /// <summary>Classical fourth-order Runge-Kutta.</summary>
    Rk4,
}

/// <summary>
/// How a latent flow is integrated (docs/spirals.md,
/// "Assumptions of the reconstruction", the solver row). Default: RK4 on a uniform grid of step at most
/// 1/40 over [0, 1], read at the irregular stamps by cubic Hermite interpolation (fourth-order dense output).
/// </summary>
public sealed record OdeSolverConfig
{
    /// <summary>Euler or RK4.</summary>
    public OdeMethod Method { get; init; } = OdeMethod.Rk4;

    /// <summary>Largest step. +infinity with <see cref="DenseGrid"/> false is one step per gap between stamps (the
    /// kit's first experiment). Default 1/40: the true spirals turn 2 pi * 1.25 = 7.9 rad per unit time, so one RK4
    /// step covers 0.2 rad and the measured floor (true dynamics, same solver) is below 1e-8 in MSE.</summary>
    public double MaxStep { get; init; } = 1.0 / 40;

    /// <summary>True: integrate on the uniform grid t_m = m h (h = Span / ceil(Span / MaxStep)), shared by the whole
    /// batch, and read the solution at each stamp by cubic Hermite interpolation between the grid nodes (values and
    /// slopes). False: step from stamp to stamp, every gap split into ceil(largest gap in the batch / MaxStep) equal
    /// sub-steps per trajectory (exact at the stamps; needed when a correction jumps at observed stamps).</summary>
    public bool DenseGrid { get; init; } = true;

    /// <summary>Time span of the dense grid, [0, Span]; stamps must lie in it (the spirals live on [0, 1]).</summary>
    public double Span { get; init; } = 1.0;

    /// <summary>The default: RK4, step at most 1/40, dense grid.</summary>
    public static OdeSolverConfig Rk4Grid { get; } = new();

    /// <summary>The kit's first experiment: one explicit Euler step per gap between consecutive stamps.</summary>
    public static OdeSolverConfig EulerPerGap { get; } = new() { Method = OdeMethod.Euler, MaxStep = double.PositiveInfinity, DenseGrid = false };

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid field, the value received and the fix.</summary>
    public OdeSolverConfig Validate()
    {
        if (!Enum.IsDefined(Method)) throw Bad(nameof(Method), Method, "use Euler or Rk4");
        if (!(MaxStep > 0)) throw Bad(nameof(MaxStep), MaxStep, "use a positive step such as 0.025");
        if (DenseGrid && !double.IsFinite(MaxStep)) throw Bad(nameof(MaxStep), MaxStep, "a dense grid needs a finite step; use 0.025 or DenseGrid = false");
        if (!(Span > 0) || !double.IsFinite(Span)) throw Bad(nameof(Span), Span, "use the positive length of the time span, 1 for the spirals");
        return this;
    }

    /// <summary>One line for tables: "RK4, h &lt;= 0.025, dense grid".</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"{(Method == OdeMethod.Rk4 ? "RK4" : "Euler")}, {(double.IsFinite(MaxStep) ? $"h <= {MaxStep:G3}" : "one step per gap")}, {(DenseGrid ? "uniform grid + cubic Hermite at the stamps" : "stamp to stamp")}");

    private static ArgumentException Bad(string field, object value, string fix) =>
        new($"OdeSolverConfig.{field} = {Convert.ToString(value, CultureInfo.InvariantCulture)} is invalid: {fix}.", field);
}

/// <summary>Explicit fixed-step integration of an autonomous batch ODE dz/dt = f(z), differentiable end to end.</summary>
public static class OdeSolver
{
    /// <summary>
    /// Integrates dz/dt = <paramref name="field"/>(z) from z(0) = <paramref name="z0"/> and returns z at
    /// <paramref name="times"/>, dense grid or stamp to stamp as <paramref name="config"/> says.
    /// </summary>
    /// <param name="field">(B, D) -> (B, D).</param>
    /// <param name="z0">(B, D) state at t = 0.</param>
    /// <param name="times">(B, N) non-decreasing stamps in [0, Span].</param>
    /// <param name="config">Method and step.</param>
    /// <param name="atStamp">Stamp to stamp only: called after reaching stamp i with (i, z) and returns the state to
    /// keep (a jump, such as a measurement correction); null for none.</param>
    /// <returns>(B, N, D).</returns>
    public static Tensor Solve(Func<Tensor, Tensor> field, Tensor z0, Tensor times, OdeSolverConfig config, Func<long, Tensor, Tensor>? atStamp = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        if (atStamp is not null && config.DenseGrid)
            throw new ArgumentException("OdeSolver: a jump at the stamps needs DenseGrid = false (stamp to stamp).", nameof(atStamp));
        return config.DenseGrid ? SolveGrid(field, z0, times, config) : SolveStamps(field, z0, times, config, atStamp);
    }

    /// <summary>Field evaluations one <see cref="Solve"/> call makes on the dense grid: 4 M + 1 (RK4) or M + 1 (Euler).</summary>
    public static int GridEvaluations(OdeSolverConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        int m = GridSteps(config);
        return (config.Method == OdeMethod.Rk4 ? 4 * m : m) + 1;
    }

    private static int GridSteps(OdeSolverConfig c) => Math.Max(1, (int)Math.Ceiling(c.Span / c.MaxStep - 1e-9));

    private static Tensor SolveGrid(Func<Tensor, Tensor> field, Tensor z0, Tensor times, OdeSolverConfig config)
    {
        RequireShapes(z0, times);
        using var scope = torch.NewDisposeScope();
        double lo = times.min().to(float64).item<double>(), hi = times.max().to(float64).item<double>();
        if (lo < 0 || hi > config.Span * (1 + 1e-6))
            throw new ArgumentException($"OdeSolver: stamps must lie in [0, {config.Span}], got [{lo}, {hi}].", nameof(times));
        int m = GridSteps(config);
        double h = config.Span / m;
        var zs = new List<Tensor>(m + 1) { z0 };
        var fs = new List<Tensor>(m + 1);
        var z = z0;
        var k1 = field(z);                                                                  // (B, D), f at the node
        for (int i = 0; i < m; i++)
        {
            fs.Add(k1);
            z = Step(field, z, k1, h, config.Method);
            zs.Add(z);
            k1 = field(z);                                                                  // next step's k1, the node slope
        }
        fs.Add(k1);
        var Z = torch.stack(zs, 1);                                                         // (B, M+1, D)
        var F = torch.stack(fs, 1);                                                         // (B, M+1, D)
        // Cubic Hermite between nodes a = floor(t / h) and a + 1 (the last interval takes t = Span).
        var u = times.to(z0.dtype).DividedBy(h);                                            // (B, N)
        var a = u.floor().ClampTo(0, m - 1);                                                // (B, N)
        var theta = (u - a).unsqueeze(-1);                                                  // (B, N, 1) in [0, 1]
        var ia = a.to(int64).unsqueeze(-1).expand(-1, -1, z0.shape[1]);                     // (B, N, D)
        var ib = a.Plus(1.0).to(int64).unsqueeze(-1).expand(-1, -1, z0.shape[1]);          // (B, N, D)
        var th2 = theta * theta;
        var th3 = th2 * theta;
        var h01 = th2.Times(3).Minus(th3.Times(2));                                         // 3 th^2 - 2 th^3
        var h00 = h01.SubtractedFrom(1.0);                                                  // 2 th^3 - 3 th^2 + 1
        var h10 = (th3 - th2.Times(2)).Plus(theta).Times(h);                                // h (th^3 - 2 th^2 + th)
        var h11 = (th3 - th2).Times(h);                                                     // h (th^3 - th^2)
        var result = (h00 * Z.gather(1, ia)).Plus(h10 * F.gather(1, ia)).Plus(h01 * Z.gather(1, ib)).Plus(h11 * F.gather(1, ib));
        return result.MoveToOuterDisposeScope();                                            // (B, N, D)
    }

    private static Tensor SolveStamps(Func<Tensor, Tensor> field, Tensor z0, Tensor times, OdeSolverConfig config, Func<long, Tensor, Tensor>? atStamp)
    {
        RequireShapes(z0, times);
        using var scope = torch.NewDisposeScope();
        long n = times.shape[1];
        var z = z0;
        var tPrev = torch.zeros_like(times.select(1, 0));                                   // (B)
        var states = new List<Tensor>((int)n);
        for (long i = 0; i < n; i++)
        {
            var ti = times.select(1, i);                                                    // (B)
            var gap = (ti - tPrev).to(z0.dtype);                                            // (B)
            double largest = gap.max().to(float64).item<double>();
            if (largest < -1e-12) throw new ArgumentException("OdeSolver: stamps must be non-decreasing and start at t >= 0.", nameof(times));
            int sub = double.IsFinite(config.MaxStep) ? Math.Max(1, (int)Math.Ceiling(largest / config.MaxStep - 1e-9)) : 1;
            var h = gap.DividedBy(sub).unsqueeze(1);                                        // (B, 1), per trajectory
            for (int s = 0; s < sub; s++) z = Step(field, z, field(z), h, config.Method);
            if (atStamp is not null) z = atStamp(i, z);
            states.Add(z);
            tPrev = ti;
        }
        return torch.stack(states, 1).MoveToOuterDisposeScope();                           // (B, N, D)
    }

    /// <summary>One step of size h (a number) from z with slope k1 = f(z).</summary>
    private static Tensor Step(Func<Tensor, Tensor> f, Tensor z, Tensor k1, double h, OdeMethod method)
    {
        if (method == OdeMethod.Euler) return z.Plus(k1.Times(h));
        var k2 = f(z.Plus(k1.Times(h / 2)));
        var k3 = f(z.Plus(k2.Times(h / 2)));
        var k4 = f(z.Plus(k3.Times(h)));
        return z.Plus(k1.Plus(k2.Times(2)).Plus(k3.Times(2)).Plus(k4).Times(h / 6));
    }

    /// <summary>One step of per-row size h, (B, 1), from z with slope k1 = f(z).</summary>
    private static Tensor Step(Func<Tensor, Tensor> f, Tensor z, Tensor k1, Tensor h, OdeMethod method)
    {
        if (method == OdeMethod.Euler) return z.Plus(h * k1);
        var half = h.Times(0.5);
        var k2 = f(z.Plus(half * k1));
        var k3 = f(z.Plus(half * k2));
        var k4 = f(z.Plus(h * k3));
        return z.Plus(h.DividedBy(6) * k1.Plus(k2.Times(2)).Plus(k3.Times(2)).Plus(k4));
    }

    private static void RequireShapes(Tensor z0, Tensor times)
    {
        if (z0.dim() != 2 || times.dim() != 2 || times.shape[0] != z0.shape[0])
            throw new ArgumentException($"OdeSolver: z0 must be (B, D) and times (B, N) with the same B, got ({string.Join(", ", z0.shape)}) and ({string.Join(", ", times.shape)}).");
    }
}
