using System.Globalization;

namespace DpAg.Spirals;

/// <summary>
/// The irregular-spirals generator's constants (docs/method.md, the paper's synthetic regression). Each trajectory is a 2-D
/// spiral x(t) = r(t) (cos theta(t), sin theta(t)) on t in [0, 1], with theta(t) = phase + s * 2 pi * Turns * t
/// (s = +1 counter-clockwise, -1 clockwise), r(t) = r0 * (1 - Shrink * t), r0 uniform in [RadiusMin, RadiusMax],
/// phase uniform in [0, 2 pi), observed with Gaussian noise at random (irregular) time stamps.
/// </summary>
/// <remarks>
/// Time stamps per trajectory (all sorted together, N = Observed + Interpolation + Extrapolation):
/// <see cref="Observed"/> encoder inputs and <see cref="Interpolation"/> held-out points, both uniform in
/// [0, <see cref="PrefixEnd"/>]; <see cref="Extrapolation"/> held-out points uniform in (PrefixEnd, 1].
/// The paper gives no generator constants; these are the kit's choices (values of order 1, noise well below the
/// reported MSE scale so that an MSE near 0.005 is reachable).
/// </remarks>
public sealed record SpiralDataConfig
{
    /// <summary>Training trajectories.</summary>
    public int TrainCount { get; init; } = 512;

    /// <summary>Held-out (test) trajectories.</summary>
    public int TestCount { get; init; } = 128;

    /// <summary>Points per trajectory the encoder sees (the observed prefix), in [0, PrefixEnd].</summary>
    public int Observed { get; init; } = 12;

    /// <summary>Held-out points inside the prefix window (interpolation targets).</summary>
    public int Interpolation { get; init; } = 8;

    /// <summary>Held-out points after the prefix window (extrapolation targets).</summary>
    public int Extrapolation { get; init; } = 12;

    /// <summary>End of the observed window as a fraction of the time span [0, 1].</summary>
    public double PrefixEnd { get; init; } = 0.5;

    /// <summary>Number of turns over t in [0, 1].</summary>
    public double Turns { get; init; } = 1.25;

    /// <summary>Relative shrink of the radius at t = 1: r(1) = r0 (1 - Shrink).</summary>
    public double Shrink { get; init; } = 0.5;

    /// <summary>Smallest initial radius r0.</summary>
    public double RadiusMin { get; init; } = 0.6;

    /// <summary>Largest initial radius r0.</summary>
    public double RadiusMax { get; init; } = 1.0;

    /// <summary>Standard deviation of the Gaussian observation noise (per coordinate).</summary>
    public double NoiseStd { get; init; } = 0.03;

    /// <summary>Probability of a clockwise spiral.</summary>
    public double ClockwiseFraction { get; init; } = 0.5;

    /// <summary>Total stamps per trajectory.</summary>
    public int Points => Observed + Interpolation + Extrapolation;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid field, the value received and the fix.</summary>
    public SpiralDataConfig Validate()
    {
        if (TrainCount < 2) throw Bad(nameof(TrainCount), TrainCount, "use at least 2 training trajectories");
        if (TestCount < 1) throw Bad(nameof(TestCount), TestCount, "use at least 1 test trajectory");
        if (Observed < 2) throw Bad(nameof(Observed), Observed, "use at least 2 observed points");
        if (Interpolation < 1) throw Bad(nameof(Interpolation), Interpolation, "use at least 1 interpolation point");
        if (Extrapolation < 1) throw Bad(nameof(Extrapolation), Extrapolation, "use at least 1 extrapolation point");
        if (!(PrefixEnd > 0 && PrefixEnd < 1)) throw Bad(nameof(PrefixEnd), PrefixEnd, "use a fraction strictly between 0 and 1, e.g. 0.5");
        if (!double.IsFinite(Turns) || Turns <= 0) throw Bad(nameof(Turns), Turns, "use a positive number of turns, e.g. 1.25");
        if (!(Shrink >= 0 && Shrink < 1)) throw Bad(nameof(Shrink), Shrink, "use a value in [0, 1)");
        if (!(RadiusMin > 0 && RadiusMax >= RadiusMin)) throw Bad(nameof(RadiusMin), $"{RadiusMin}..{RadiusMax}", "use 0 < RadiusMin <= RadiusMax");
        if (!(NoiseStd >= 0) || !double.IsFinite(NoiseStd)) throw Bad(nameof(NoiseStd), NoiseStd, "use a non-negative standard deviation");
        if (!(ClockwiseFraction >= 0 && ClockwiseFraction <= 1)) throw Bad(nameof(ClockwiseFraction), ClockwiseFraction, "use a probability in [0, 1]");
        return this;
    }

    private static ArgumentException Bad(string field, object value, string fix) =>
        new($"SpiralDataConfig.{field} = {Convert.ToString(value, CultureInfo.InvariantCulture)} is invalid: {fix}.", field);
}
