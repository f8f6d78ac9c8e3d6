using System.Diagnostics;

namespace DpAg.Evaluation;

/// <summary>
/// Runs the evaluation protocol for all episodes in lockstep so that a network policy decides for every active
/// episode in one batched call (B = number of unfinished episodes). Same protocol and metrics as
/// <see cref="PushTRunner"/>; far faster for diffusion policies, whose cost is the number of network calls.
/// </summary>
public static class LockstepRunner
{
    /// <summary>Evaluates <paramref name="policy"/>; <paramref name="progress"/> hears (finished episodes, env steps so far).</summary>
    public static PushTEvalResult Evaluate(IBatchEnvPolicy policy, PushTEvalConfig? config = null, IProgress<(int Finished, long Steps)>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(policy);
        config ??= new PushTEvalConfig();
        config.Validate();
        var watch = Stopwatch.StartNew();
        var episodes = Enumerable.Range(0, config.Episodes)
            .Select(i => new EpisodeRecorder(config.FirstSeed + i, config, recordGif: i < config.GifEpisodes)).ToList();
        try
        {
            policy.Reset();
            string name = policy.GetType().Name;
            while (true)
            {
                var active = episodes.Where(e => !e.Finished).ToList();
                if (active.Count == 0) break;
                var chunks = policy.Act(active.Select(e => e.History).ToList());
                if (chunks.Count != active.Count)
                    throw new InvalidOperationException($"policy {name} returned {chunks.Count} action chunks for {active.Count} episodes.");
                var options = new ParallelOptions { MaxDegreeOfParallelism = config.MaxDegreeOfParallelism, CancellationToken = cancellationToken };
                Parallel.For(0, active.Count, options, i => active[i].Execute(chunks[i], name, cancellationToken));
                progress?.Report((episodes.Count(e => e.Finished), episodes.Sum(e => (long)e.Steps)));
            }
            return new PushTEvalResult(episodes.Select(e => e.Result()).ToList(), watch.Elapsed);
        }
        finally
        {
            foreach (var e in episodes) e.Dispose();
        }
    }
}
