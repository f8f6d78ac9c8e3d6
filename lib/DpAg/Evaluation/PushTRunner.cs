using System.Diagnostics;
using DpAg.Envs;

namespace DpAg.Evaluation;

/// <summary>
/// Runs the Push-T evaluation protocol (docs/pusht.md): episodes with seeds FirstSeed.., legacy reset, at most MaxSteps env
/// steps, To observations per policy call (padded with the first at the start), at most Ta executed actions per call, early
/// stop once done (coverage &gt; 0.95). Episodes run in parallel, each with its own environment and policy instance.
/// </summary>
public static class PushTRunner
{
    /// <summary>Control period of Push-T (s): jerks are finite differences at 10 Hz.</summary>
    public const double ControlDt = 0.1;

    /// <summary>Evaluates a policy; <paramref name="policyFactory"/> is called once per episode with the episode index.</summary>
    /// <param name="policyFactory">Makes the policy for episode i (may return a shared instance only if it is thread-safe and stateless).</param>
    /// <param name="config">Protocol settings; null for the reference protocol.</param>
    /// <param name="cancellationToken">Cancels between env steps.</param>
    public static PushTEvalResult Evaluate(Func<int, IEnvPolicy> policyFactory, PushTEvalConfig? config = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(policyFactory);
        config ??= new PushTEvalConfig();
        config.Validate();
        var sw = Stopwatch.StartNew();
        var results = new PushTEpisodeResult[config.Episodes];
        var options = new ParallelOptions { MaxDegreeOfParallelism = config.MaxDegreeOfParallelism, CancellationToken = cancellationToken };
        Parallel.For(0, config.Episodes, options, i =>
        {
            var policy = policyFactory(i);
            results[i] = RunEpisode(policy, config.FirstSeed + i, config, recordGif: i < config.GifEpisodes, cancellationToken);
        });
        return new PushTEvalResult(results, sw.Elapsed);
    }

    /// <summary>Runs one episode of the protocol with the given seed.</summary>
    public static PushTEpisodeResult RunEpisode(IEnvPolicy policy, long seed, PushTEvalConfig config, bool recordGif = false, CancellationToken cancellationToken = default) =>
        RunEpisode(policy, seed, config, recordGif, cancellationToken, reset: null);

    /// <summary>As the public overload; <paramref name="reset"/> replaces <c>env.Reset(seed)</c> (tests start episodes from chosen states).</summary>
    internal static PushTEpisodeResult RunEpisode(IEnvPolicy policy, long seed, PushTEvalConfig config, bool recordGif, CancellationToken cancellationToken,
        Func<PushTEnv, PushTObservation>? reset)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(config);
        policy.Reset();
        using var episode = new EpisodeRecorder(seed, config, recordGif, reset);
        while (!episode.Finished)
        {
            var chunk = policy.Act(episode.History);
            episode.Execute(chunk, policy.GetType().Name, cancellationToken);
        }
        return episode.Result();
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
