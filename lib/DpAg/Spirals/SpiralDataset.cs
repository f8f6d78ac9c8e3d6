using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Spirals;

/// <summary>The role of one time stamp of a trajectory.</summary>
public enum PointKind
{
    /// <summary>Seen by the encoder (the observed prefix).</summary>
    Observed = 0,

    /// <summary>Held out, inside the prefix window (interpolation target).</summary>
    Interpolation = 1,

    /// <summary>Held out, after the prefix window (extrapolation target).</summary>
    Extrapolation = 2,
}

/// <summary>
/// A set of n irregularly sampled spirals with N stamps each (row-major flat arrays, trajectory-major).
/// </summary>
/// <param name="Count">n, the number of trajectories.</param>
/// <param name="Points">N, stamps per trajectory.</param>
/// <param name="Times">(n, N) sorted time stamps in [0, 1].</param>
/// <param name="Clean">(n, N, 2) noise-free positions.</param>
/// <param name="Noisy">(n, N, 2) observed positions (clean + noise).</param>
/// <param name="Kinds">(n, N) role of each stamp.</param>
/// <param name="Clockwise">(n) direction of each spiral.</param>
/// <param name="Phase">(n) initial angle.</param>
/// <param name="Radius">(n) initial radius r0.</param>
public sealed record SpiralSet(int Count, int Points, double[] Times, double[] Clean, double[] Noisy, PointKind[] Kinds,
    bool[] Clockwise, double[] Phase, double[] Radius)
{
    /// <summary>Observed stamps per trajectory (the same for every trajectory).</summary>
    public int ObservedPerTrajectory => Count == 0 ? 0 : Enumerable.Range(0, Points).Count(j => Kinds[j] == PointKind.Observed);

    /// <summary>Copies the set to tensors on <paramref name="device"/> (float32).</summary>
    public SpiralTensors ToTensors(Device? device = null)
    {
        int n = Count, N = Points, K = ObservedPerTrajectory;
        var observedIndex = new long[n * K];
        for (int i = 0; i < n; i++)
        {
            int k = 0;
            for (int j = 0; j < N; j++)
                if (Kinds[i * N + j] == PointKind.Observed) observedIndex[i * K + k++] = j;
            if (k != K) throw new InvalidOperationException($"Trajectory {i} has {k} observed stamps, expected {K}.");
        }
        using var scope = torch.NewDisposeScope();
        var dev = device ?? CPU;
        var times = torch.tensor(Times.Select(x => (float)x).ToArray(), new long[] { n, N }, device: dev);            // (n, N)
        var noisy = torch.tensor(Noisy.Select(x => (float)x).ToArray(), new long[] { n, N, 2 }, device: dev);        // (n, N, 2)
        var clean = torch.tensor(Clean.Select(x => (float)x).ToArray(), new long[] { n, N, 2 }, device: dev);        // (n, N, 2)
        var kinds = torch.tensor(Kinds.Select(k => (long)k).ToArray(), new long[] { n, N }, device: dev);            // (n, N)
        var obsIdx = torch.tensor(observedIndex, new long[] { n, K }, device: dev);                                   // (n, K)
        return new SpiralTensors(times.MoveToOuterDisposeScope(), noisy.MoveToOuterDisposeScope(), clean.MoveToOuterDisposeScope(),
            kinds.MoveToOuterDisposeScope(), obsIdx.MoveToOuterDisposeScope());
    }
}

/// <summary>A <see cref="SpiralSet"/> (or a batch of it) as tensors.</summary>
/// <param name="Times">(B, N) sorted stamps.</param>
/// <param name="Noisy">(B, N, 2) observations.</param>
/// <param name="Clean">(B, N, 2) noise-free positions (evaluation only).</param>
/// <param name="Kinds">(B, N) <see cref="PointKind"/> as int64.</param>
/// <param name="ObservedIndex">(B, K) indices of the observed stamps, increasing.</param>
public sealed record SpiralTensors(Tensor Times, Tensor Noisy, Tensor Clean, Tensor Kinds, Tensor ObservedIndex) : IDisposable
{
    /// <summary>Rows <paramref name="index"/> (a (b) int64 tensor) of every tensor.</summary>
    public SpiralTensors Select(Tensor index) => new(Times.index_select(0, index), Noisy.index_select(0, index), Clean.index_select(0, index),
        Kinds.index_select(0, index), ObservedIndex.index_select(0, index));

    /// <summary>The encoder input: the observed prefix as (t, x, y) triples, (B, K, 3).</summary>
    public Tensor EncoderInput()
    {
        using var scope = torch.NewDisposeScope();
        var t = Times.gather(1, ObservedIndex).unsqueeze(-1);                                                // (B, K, 1)
        var xy = Noisy.gather(1, ObservedIndex.unsqueeze(-1).expand(-1, -1, 2));                             // (B, K, 2)
        return torch.cat(new[] { t, xy }, -1).MoveToOuterDisposeScope();                                     // (B, K, 3)
    }

    /// <summary>Number of trajectories B.</summary>
    public long Count => Times.shape[0];

    /// <inheritdoc/>
    public void Dispose()
    {
        Times.Dispose(); Noisy.Dispose(); Clean.Dispose(); Kinds.Dispose(); ObservedIndex.Dispose();
    }
}

/// <summary>Deterministic generator of irregularly sampled 2-D spirals (see <see cref="SpiralDataConfig"/>).</summary>
public static class SpiralDataset
{
    /// <summary>
    /// Generates TestCount + TrainCount trajectories from one seeded stream (System.Random with a seed, stable across
    /// runs and machines): the first TestCount are the test set, the rest the training set. So for one seed the test set
    /// does not depend on TrainCount and a smaller training set is a prefix of a larger one (the sweep's data sizes).
    /// </summary>
    public static (SpiralSet Train, SpiralSet Test) Generate(SpiralDataConfig config, int seed)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        var rng = new Random(seed);
        var test = GenerateSet(config, config.TestCount, rng);                  // first: the same test set for every TrainCount
        var train = GenerateSet(config, config.TrainCount, rng);                // nested: n trajectories are a prefix of n' > n
        return (train, test);
    }

    /// <summary>The noise-free position of a spiral at time <paramref name="t"/>.</summary>
    public static (double X, double Y) Position(SpiralDataConfig config, bool clockwise, double phase, double radius, double t)
    {
        double theta = phase + (clockwise ? -1 : 1) * 2 * Math.PI * config.Turns * t;
        double r = radius * (1 - config.Shrink * t);
        return (r * Math.Cos(theta), r * Math.Sin(theta));
    }

    private static SpiralSet GenerateSet(SpiralDataConfig c, int n, Random rng)
    {
        int N = c.Points;
        var times = new double[n * N];
        var clean = new double[n * N * 2];
        var noisy = new double[n * N * 2];
        var kinds = new PointKind[n * N];
        var cw = new bool[n];
        var phase = new double[n];
        var radius = new double[n];
        var stamps = new (double T, PointKind Kind)[N];
        for (int i = 0; i < n; i++)
        {
            cw[i] = rng.NextDouble() < c.ClockwiseFraction;
            phase[i] = 2 * Math.PI * rng.NextDouble();
            radius[i] = c.RadiusMin + (c.RadiusMax - c.RadiusMin) * rng.NextDouble();
            int j = 0;
            for (int k = 0; k < c.Observed; k++) stamps[j++] = (c.PrefixEnd * rng.NextDouble(), PointKind.Observed);
            for (int k = 0; k < c.Interpolation; k++) stamps[j++] = (c.PrefixEnd * rng.NextDouble(), PointKind.Interpolation);
            for (int k = 0; k < c.Extrapolation; k++) stamps[j++] = (1 - (1 - c.PrefixEnd) * rng.NextDouble(), PointKind.Extrapolation);
            Array.Sort(stamps, (a, b) => a.T.CompareTo(b.T));
            for (j = 0; j < N; j++)
            {
                int p = i * N + j;
                times[p] = stamps[j].T;
                kinds[p] = stamps[j].Kind;
                var (x, y) = Position(c, cw[i], phase[i], radius[i], stamps[j].T);
                clean[2 * p] = x;
                clean[2 * p + 1] = y;
                noisy[2 * p] = x + c.NoiseStd * Gaussian(rng);
                noisy[2 * p + 1] = y + c.NoiseStd * Gaussian(rng);
            }
        }
        return new SpiralSet(n, N, times, clean, noisy, kinds, cw, phase, radius);
    }

    /// <summary>A standard normal draw (Box-Muller).</summary>
    private static double Gaussian(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
