using System.Diagnostics;
using DpAg.Envs;

namespace DpAg.Evaluation;

/// <summary>
/// Runs the Push-T evaluation protocol (docs/pusht.md): episodes with seeds FirstSeed.., legacy reset, at most MaxSteps env
/// steps, To observations per decision (padded with the first at the start), at most Ta executed actions per decision,
/// early stop once done (coverage &gt; 0.95). All episodes run in lockstep: at each decision the policy acts for every
/// unfinished episode in one call (one batched network call for a diffusion policy, whose cost is the number of calls),
/// then the episodes execute their actions in parallel, each in its own environment.
/// </summary>
public static class PushTRunner
{
    /// <summary>Control period of Push-T (s): jerks are finite differences at 10 Hz.</summary>
    public const double ControlDt = 0.1;

    /// <summary>Evaluates <paramref name="policy"/> on <paramref name="config"/>'s episodes (null: the reference protocol).</summary>
    /// <param name="policy">Acts for the unfinished episodes at each decision.</param>
    /// <param name="config">Protocol settings; null for the reference protocol.</param>
    /// <param name="progress">Hears (finished episodes, env steps so far) after each decision.</param>
    /// <param name="cancellationToken">Cancels between env steps.</param>
    public static PushTEvalResult Evaluate(IEnvPolicy policy, PushTEvalConfig? config = null, IProgress<(int Finished, long Steps)>? progress = null,
        CancellationToken cancellationToken = default) => Evaluate(policy, config, progress, cancellationToken, reset: null);

    /// <summary>As the public overload; <paramref name="reset"/> replaces <c>env.Reset(seed)</c> (tests start episodes from chosen states).</summary>
    internal static PushTEvalResult Evaluate(IEnvPolicy policy, PushTEvalConfig? config, IProgress<(int Finished, long Steps)>? progress,
        CancellationToken cancellationToken, Func<PushTEnv, PushTObservation>? reset)
    {
        ArgumentNullException.ThrowIfNull(policy);
        config ??= new PushTEvalConfig();
        config.Validate();
        var watch = Stopwatch.StartNew();
        var episodes = Enumerable.Range(0, config.Episodes)
            .Select(i => new EpisodeRecorder(config.FirstSeed + i, config, recordGif: i < config.GifEpisodes, reset)).ToList();
        try
        {
            policy.Reset();
            string name = policy.GetType().Name;
            var options = new ParallelOptions { MaxDegreeOfParallelism = config.MaxDegreeOfParallelism, CancellationToken = cancellationToken };
            while (true)
            {
                var active = Enumerable.Range(0, episodes.Count).Where(i => !episodes[i].Finished).ToList();
                if (active.Count == 0) break;
                var chunks = policy.Act(active.Select(i => new EpisodeView(i, episodes[i].History)).ToList());
                if (chunks.Count != active.Count)
                    throw new InvalidOperationException($"policy {name} returned {chunks.Count} action chunks for {active.Count} episodes; return one per episode.");
                Parallel.For(0, active.Count, options, j => episodes[active[j]].Execute(chunks[j], name, cancellationToken));
                progress?.Report((episodes.Count(e => e.Finished), episodes.Sum(e => (long)e.Steps)));
            }
            return new PushTEvalResult(episodes.Select(e => e.Result()).ToList(), watch.Elapsed);
        }
        finally
        {
            foreach (var e in episodes) e.Dispose();
        }
    }

    /// <summary>
    /// Mean jerk of a 2-D path sampled every <paramref name="dt"/> seconds: the mean over t of the Euclidean norm of the third
    /// finite difference (p[t+3] - 3 p[t+2] + 3 p[t+1] - p[t]) / dt^3, in px/s^3. The agent path includes the reset position
    /// (so T steps give T+1 points); paths shorter than 4 points give 0.
    /// </summary>
    public static double MeanJerk(IReadOnlyList<(double X, double Y)> path, double dt)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Count < 4) return 0;
        double sum = 0, inv = 1 / (dt * dt * dt);
        for (int t = 0; t + 3 < path.Count; t++)
        {
            double jx = path[t + 3].X - 3 * path[t + 2].X + 3 * path[t + 1].X - path[t].X;
            double jy = path[t + 3].Y - 3 * path[t + 2].Y + 3 * path[t + 1].Y - path[t].Y;
            sum += Math.Sqrt(jx * jx + jy * jy) * inv;
        }
        return sum / (path.Count - 3);
    }
}
