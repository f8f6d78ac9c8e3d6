using DpAg.Optim;
using DpAg.Training;
using System.Diagnostics;
using DpAg.Losses;
using DpAg.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Spirals;

/// <summary>A progress snapshot of <see cref="SpiralsExperiment.Run"/>.</summary>
/// <param name="Model">Model being trained.</param>
/// <param name="Seed">Seed.</param>
/// <param name="Step">Steps done (1-based).</param>
/// <param name="TotalSteps">Steps per model.</param>
/// <param name="Loss">Loss of the last step.</param>
/// <param name="Cell">The sweep cell (<see cref="SpiralsCell.Label"/>), empty outside a sweep.</param>
public sealed record SpiralsProgress(string Model, int Seed, int Step, int TotalSteps, double Loss, string Cell = "");

/// <summary>
/// The irregular-spirals experiment end to end (docs/method.md, "Reported results"): for each seed, generate the data,
/// train the Base Flow and the VJP-Guided Flow from the same initialisation on the same batches, evaluate both (and the
/// trivial baseline) on the held-out trajectories, and keep the first seed's traces for figures.
/// </summary>
public static class SpiralsExperiment
{
    /// <summary>Runs the experiment on the CPU (or <paramref name="device"/>); the caller sets torch's thread count.</summary>
    /// <param name="config">Experiment constants (<see cref="SpiralsConfig.Ci"/>, <see cref="SpiralsConfig.Real"/>).</param>
    /// <param name="progress">Optional per-step progress.</param>
    /// <param name="device">Device; null means CPU.</param>
    public static SpiralsReport Run(SpiralsConfig config, IProgress<SpiralsProgress>? progress = null, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        var wall = Stopwatch.StartNew();
        var rows = new List<SpiralsRow>();
        SpiralsFigureData? figures = null;
        foreach (int seed in config.Seeds)
        {
            var (seedRows, seedFigures) = RunSeed(config, seed, keepFigures: figures is null, progress, device);
            rows.AddRange(seedRows);
            figures ??= seedFigures;
        }
        return new SpiralsReport(config, rows, Summarise(rows), figures!, wall.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// One seed: generate the data, evaluate the trivial baseline, train the Base Flow and the VJP-Guided Flow from the
    /// same initialisation (<see cref="SpiralFlow.Initialise"/> with the seed) on the same batches (a generator seeded from
    /// the seed), evaluate both. Uses no global random state, so seeds may run on parallel threads.
    /// </summary>
    /// <returns>The trivial, base and guided rows, and the figure data when <paramref name="keepFigures"/>.</returns>
    public static (IReadOnlyList<SpiralsRow> Rows, SpiralsFigureData? Figures) RunSeed(SpiralsConfig config, int seed, bool keepFigures,
        IProgress<SpiralsProgress>? progress = null, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        var dev = device ?? CPU;
        var (train, test) = SpiralDataset.Generate(config.Data, seed);
        using var trainT = train.ToTensors(dev);
        using var testT = test.ToTensors(dev);
        var rows = new List<SpiralsRow> { TrivialRow(test, testT, seed) };
        var traces = new List<SpiralsModelTrace>();
        foreach (bool guided in new[] { false, true })
        {
            string name = guided ? SpiralModels.Guided : SpiralModels.Base;
            // Same initialisation for both models, from a generator of their own (not torch's global one).
            using (var model = new SpiralFlow(config.Data.Observed, config.LatentDim, config.Hidden, config.Solver, guided ? config.Guidance : null).Initialise(seed))
            {
                model.to(dev);
                var sw = Stopwatch.StartNew();
                var losses = Train(model, trainT, config, seed, guided, name, progress);
                double seconds = sw.Elapsed.TotalSeconds;
                var (row, trace) = Evaluate(model, testT, config, name, seed, seconds, losses, keepTrace: keepFigures);
                rows.Add(row);
                if (trace is not null) traces.Add(trace);
            }
        }
        return (rows, keepFigures ? FigureData(config, test, seed, traces) : null);
    }

    /// <summary>Per-model mean and std over seeds of <paramref name="rows"/>.</summary>
    public static IReadOnlyList<SpiralsSummary> Summarise(IEnumerable<SpiralsRow> rows) => rows.GroupBy(r => r.Model).Select(SummariseModel).ToList();

    /// <summary>
    /// Trains <paramref name="model"/>: Adam, cosine-decayed learning rate (to 10 %), MSE to the noisy observations at
    /// every stamp, plus (guided, weight &gt; 0) InfoNCE between the unguided and guided outputs. Batches are drawn by a
    /// generator seeded with <paramref name="seed"/>, so both models see the same batches.
    /// </summary>
    /// <returns>The loss per step.</returns>
    public static double[] Train(SpiralFlow model, SpiralTensors train, SpiralsConfig config, int seed, bool guided, string name = "",
        IProgress<SpiralsProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(config);
        model.train();
        var device = train.Times.device;
        using var optimizer = new AdamW(model.parameters(), lr: config.LearningRate);   // weight decay 0: Adam
        using var generator = new Generator((ulong)(seed + 1) * 7919UL, device);
        var losses = new double[config.Steps];
        int batch = (int)Math.Min(config.BatchSize, train.Count);
        bool contrastive = guided && config.ContrastiveWeight > 0;
        for (int step = 0; step < config.Steps; step++)
        {
            using var scope = torch.NewDisposeScope();
            double lr = config.LearningRate * (0.1 + 0.45 * (1 + Math.Cos(Math.PI * step / config.Steps)));
            optimizer.LearningRate = lr;
            var index = torch.randperm(train.Count, generator: generator, device: device)[..batch];   // (b)
            var b = train.Select(index);
            var prefix = b.EncoderInput();                                                              // (b, K, 3)
            using var observedKind = ((long)PointKind.Observed).ToScalar();
            var observedMask = b.Kinds.eq(observedKind);                                                // (b, N)
            var roll = model.Rollout(prefix, b.Times, b.Noisy, observedMask, guided: true);
            var loss = nn.functional.mse_loss(roll.Outputs, b.Noisy);
            if (contrastive)
            {
                var plain = model.Rollout(prefix, b.Times, b.Noisy, observedMask, guided: false);
                loss = loss.Plus(InfoNce.Loss(plain.Outputs.flatten(1), roll.Outputs.flatten(1), config.Contrastive).Times(config.ContrastiveWeight));
            }
            double value = loss.item<float>();
            if (!double.IsFinite(value))
                throw new InvalidOperationException($"Spirals: the {name} loss became {value} at step {step} (seed {seed}); lower SpiralsConfig.LearningRate or FlowGuidanceConfig.Gamma.");
            optimizer.ZeroGrad();
            loss.backward();
            nn.utils.clip_grad_norm_(model.parameters(), config.GradClip);
            optimizer.Step();
            losses[step] = value;
            progress?.Report(new SpiralsProgress(name, seed, step + 1, config.Steps, value));
        }
        model.eval();
        return losses;
    }

    /// <summary>
    /// Evaluates a trained model on the test set: MSEs against the clean trajectories at the irregular stamps, and
    /// smoothness on a regular grid of <see cref="SpiralsConfig.GridPoints"/> stamps on (0, 1].
    /// </summary>
    public static (SpiralsRow Row, SpiralsModelTrace? Trace) Evaluate(SpiralFlow model, SpiralTensors test, SpiralsConfig config, string name, int seed,
        double trainSeconds, double[] losses, bool keepTrace)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(test);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(losses);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        model.eval();
        var prefix = test.EncoderInput();
        using var observedKind = ((long)PointKind.Observed).ToScalar();
        var observedMask = test.Kinds.eq(observedKind);
        var roll = model.Rollout(prefix, test.Times, test.Noisy, observedMask);
        double interp = SpiralMetrics.Mse(roll.Outputs, test.Clean, test.Kinds, PointKind.Interpolation);
        double extrap = SpiralMetrics.Mse(roll.Outputs, test.Clean, test.Kinds, PointKind.Extrapolation);
        double heldOut = SpiralMetrics.Mse(roll.Outputs, test.Clean, test.Kinds, null);
        // The trained model's own solver error: the same rollout with a step four times smaller, compared at the
        // held-out stamps (near 0 when the solver is not the bottleneck for the learned field either).
        var fine = model.Rollout(prefix, test.Times, test.Noisy, observedMask, solver: FinerSolver(model.Solver));
        double solverError = SpiralMetrics.Mse(roll.Outputs, fine.Outputs, test.Kinds, null);
        var grid = Grid(config.GridPoints, test.Times.device);                                          // (G)
        var gridTimes = grid.unsqueeze(0).expand(test.Count, -1);                                        // (B, G)
        var dense = DenseRollout(model, test, prefix, gridTimes);
        double step = SpiralMetrics.MeanSquaredStep(dense.Latents);
        double curvature = SpiralMetrics.MeanSquaredCurvature(dense.Latents);
        double outCurv = SpiralMetrics.MeanSquaredCurvature(dense.Outputs);
        int tail = Math.Max(1, losses.Length / 10);
        var row = new SpiralsRow(name, seed, interp, extrap, heldOut, step, curvature, curvature / step, outCurv, trainSeconds, losses.TakeLast(tail).Average(),
            StepsTo(losses, config.ConvergenceLoss), solverError);
        SpiralsModelTrace? trace = null;
        if (keepTrace)
        {
            int f = config.FigureTrajectories;
            var outs = dense.Outputs[..f];                                                               // (F, G, 2)
            var lats = dense.Latents[..f];                                                               // (F, G, D)
            var pca = SpiralMetrics.Pca2(lats.reshape(-1, lats.shape[2])).reshape(f, config.GridPoints, 2); // (F*G, D) -> (F, G, 2)
            trace = new SpiralsModelTrace(name, ToJagged(outs), ToJagged(lats), ToJagged(pca), losses);
        }
        return (row, trace);
    }

    /// <summary>
    /// The rollout on the regular grid (B, G). A PrefixResidual correction acts at observed stamps, so for that target
    /// the grid is merged with each trajectory's observed stamps, the rollout runs over the union and only the grid
    /// points are returned; otherwise the grid alone is integrated.
    /// </summary>
    internal static FlowRollout DenseRollout(SpiralFlow model, SpiralTensors test, Tensor prefix, Tensor gridTimes)
    {
        long b = gridTimes.shape[0], g = gridTimes.shape[1];
        if (model.Guidance is not { Target: GuidanceTarget.PrefixResidual })
            return model.Rollout(prefix, gridTimes, torch.zeros(b, g, 2, device: gridTimes.device),
                torch.zeros(b, g, dtype: ScalarType.Bool, device: gridTimes.device));
        using var scope = torch.NewDisposeScope();
        var obsTimes = test.Times.gather(1, test.ObservedIndex);                                         // (B, K)
        var obsValues = test.Noisy.gather(1, test.ObservedIndex.unsqueeze(-1).expand(-1, -1, 2));         // (B, K, 2)
        var (times, order) = torch.cat(new[] { gridTimes, obsTimes }, 1).sort(1, stable: true);          // (B, G+K)
        using var firstObserved = g.ToScalar();
        var isObserved = order.ge(firstObserved);                                                         // (B, G+K)
        var values = torch.cat(new[] { torch.zeros(b, g, 2, device: gridTimes.device), obsValues }, 1)
            .gather(1, order.unsqueeze(-1).expand(-1, -1, 2));                                           // (B, G+K, 2)
        var roll = model.Rollout(prefix, times, values, isObserved);
        var keep = isObserved.logical_not().unsqueeze(-1);                                                // (B, G+K, 1)
        // Each row keeps exactly G grid points, in time order (the grid is increasing and the sort is stable).
        var outputs = roll.Outputs.masked_select(keep.expand_as(roll.Outputs)).reshape(b, g, 2);        // (B, G, 2)
        var latents = roll.Latents.masked_select(keep.expand_as(roll.Latents)).reshape(b, g, -1);       // (B, G, D)
        return new FlowRollout(outputs.MoveToOuterDisposeScope(), latents.MoveToOuterDisposeScope());
    }

    /// <summary>The solver with a step four times smaller (one step per gap becomes steps of at most 1/128).</summary>
    public static OdeSolverConfig FinerSolver(OdeSolverConfig solver)
    {
        ArgumentNullException.ThrowIfNull(solver);
        return double.IsFinite(solver.MaxStep) ? solver with { MaxStep = solver.MaxStep / 4 } : solver with { MaxStep = 0.25 / 32 };
    }

    /// <summary>The regular evaluation grid t_i = i / G, i = 1..G.</summary>
    public static Tensor Grid(int points, Device? device = null) =>
        torch.linspace(1.0 / points, 1.0, points, dtype: float32, device: device ?? CPU);

    private static SpiralsRow TrivialRow(SpiralSet test, SpiralTensors testT, int seed)
    {
        using var scope = torch.NewDisposeScope();
        var pred = torch.tensor(SpiralMetrics.TrivialPrediction(test).Select(x => (float)x).ToArray(), new long[] { test.Count, test.Points, 2 }, device: testT.Times.device);
        return new SpiralsRow(SpiralModels.Trivial, seed,
            SpiralMetrics.Mse(pred, testT.Clean, testT.Kinds, PointKind.Interpolation),
            SpiralMetrics.Mse(pred, testT.Clean, testT.Kinds, PointKind.Extrapolation),
            SpiralMetrics.Mse(pred, testT.Clean, testT.Kinds, null),
            double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN);
    }

    private static SpiralsFigureData FigureData(SpiralsConfig config, SpiralSet test, int seed, List<SpiralsModelTrace> traces)
    {
        int f = config.FigureTrajectories, N = test.Points, G = config.GridPoints;
        var grid = Enumerable.Range(1, G).Select(i => (double)i / G).ToArray();
        var clean = new double[f][][];
        var observed = new double[f][][];
        var heldOut = new double[f][][];
        for (int i = 0; i < f; i++)
        {
            clean[i] = grid.Select(t =>
            {
                var (x, y) = SpiralDataset.Position(config.Data, test.Clockwise[i], test.Phase[i], test.Radius[i], t);
                return new[] { x, y };
            }).ToArray();
            var stamps = Enumerable.Range(i * N, N).Select(p => (p, new[] { test.Times[p], test.Noisy[2 * p], test.Noisy[2 * p + 1] })).ToList();
            observed[i] = stamps.Where(s => test.Kinds[s.p] == PointKind.Observed).Select(s => s.Item2).ToArray();
            heldOut[i] = stamps.Where(s => test.Kinds[s.p] != PointKind.Observed).Select(s => s.Item2).ToArray();
        }
        return new SpiralsFigureData(seed, grid, clean, observed, heldOut, config.Data.PrefixEnd, traces);
    }

    private static SpiralsSummary SummariseModel(IGrouping<string, SpiralsRow> g)
    {
        MeanStd S(Func<SpiralsRow, double> f)
        {
            var xs = g.Select(f).ToArray();
            double mean = xs.Average();
            double std = xs.Length > 1 ? Math.Sqrt(xs.Sum(x => (x - mean) * (x - mean)) / (xs.Length - 1)) : 0;
            return new MeanStd(mean, std);
        }
        return new SpiralsSummary(g.Key, g.Count(), S(r => r.InterpMse), S(r => r.ExtrapMse), S(r => r.HeldOutMse), S(r => r.LatentStep),
            S(r => r.LatentCurvature), S(r => r.LatentCurvatureRatio), S(r => r.OutputCurvature), S(r => r.TrainSeconds), S(r => r.StepsToLoss));
    }

    /// <summary>First step (1-based) at which the 25-step moving average of <paramref name="losses"/> is at most
    /// <paramref name="level"/>; NaN if it never is.</summary>
    public static double StepsTo(IReadOnlyList<double> losses, double level)
    {
        ArgumentNullException.ThrowIfNull(losses);
        const int window = 25;
        double sum = 0;
        for (int i = 0; i < losses.Count; i++)
        {
            sum += losses[i];
            if (i >= window) sum -= losses[i - window];
            if (i >= window - 1 && sum / window <= level) return i + 1;
        }
        return double.NaN;
    }

    private static double[][][] ToJagged(Tensor t)
    {
        var data = t.to(float64).cpu().data<double>().ToArray();
        int a = (int)t.shape[0], b = (int)t.shape[1], c = (int)t.shape[2];
        var result = new double[a][][];
        for (int i = 0; i < a; i++)
        {
            result[i] = new double[b][];
            for (int j = 0; j < b; j++) result[i][j] = data.AsSpan((i * b + j) * c, c).ToArray();
        }
        return result;
    }
}
