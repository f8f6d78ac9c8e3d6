using DpAg.Envs;

namespace DpAg.Evaluation;

/// <summary>
/// One evaluation episode under the protocol: owns the environment, keeps the observation history the policy sees
/// (padded at reset by repeating the first observation, as Diffusion Policy's multi-step wrapper does), executes up to
/// Ta actions per policy call, stops at done or the step limit, and accumulates the episode's metrics.
/// </summary>
internal sealed class EpisodeRecorder : IDisposable
{
    private readonly PushTEnv _env;
    private readonly PushTEvalConfig _config;
    private readonly List<PushTObservation> _history;
    private readonly List<(double X, double Y)> _agentPath;
    private readonly List<(double X, double Y)> _actions = [];
    private readonly List<byte[]>? _frames;
    private double _maxReward, _maxCoverage;
    private bool _done;

    /// <summary>Resets a fresh environment to <paramref name="seed"/> (or with <paramref name="reset"/>).</summary>
    public EpisodeRecorder(long seed, PushTEvalConfig config, bool recordGif = false, Func<PushTEnv, PushTObservation>? reset = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        Seed = seed;
        _config = config;
        _env = new PushTEnv(config.Env);
        var first = reset is null ? _env.Reset(seed) : reset(_env);
        _history = Enumerable.Repeat(first, config.ObsSteps).ToList();
        _agentPath = [first.AgentPosition];
        _frames = recordGif ? [_env.Render(config.GifSize, drawAction: true)] : null;
    }

    /// <summary>The episode's seed.</summary>
    public long Seed { get; }

    /// <summary>Env steps taken so far.</summary>
    public int Steps { get; private set; }

    /// <summary>True once the task is done or the step limit is reached.</summary>
    public bool Finished => _done || Steps >= _config.MaxSteps;

    /// <summary>The last To observations, oldest first.</summary>
    public IReadOnlyList<PushTObservation> History => _history;

    /// <summary>Executes the first Ta actions of <paramref name="chunk"/> (fewer if the episode ends).</summary>
    public void Execute(IReadOnlyList<double[]>? chunk, string policyName, CancellationToken cancellationToken = default)
    {
        if (chunk is null || chunk.Count == 0)
            throw new InvalidOperationException($"policy {policyName} returned no actions at step {Steps} of seed {Seed}; return at least one [x, y].");
        int n = Math.Min(chunk.Count, _config.ActionSteps);
        for (int j = 0; j < n && !Finished; j++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var a = chunk[j];
            if (a is null || a.Length != 2 || !double.IsFinite(a[0]) || !double.IsFinite(a[1]))
                throw new InvalidOperationException($"policy {policyName} returned an invalid action at step {Steps} of seed {Seed}; each action is a finite [x, y].");
            var r = _env.Step(a[0], a[1]);
            Steps++;
            _actions.Add((a[0], a[1]));
            _agentPath.Add(r.Observation.AgentPosition);
            _maxReward = Math.Max(_maxReward, r.Reward);
            _maxCoverage = Math.Max(_maxCoverage, r.Info.Coverage);
            _done = r.Done;
            _history.RemoveAt(0);
            _history.Add(r.Observation);
            _frames?.Add(_env.Render(_config.GifSize, drawAction: true));
        }
    }

    /// <summary>The episode's metrics (and its animation when recorded).</summary>
    public PushTEpisodeResult Result()
    {
        byte[]? gif = _frames is null ? null : GifWriter.Encode(_frames, _config.GifSize, _config.GifSize, delayMs: 100);
        return new PushTEpisodeResult(Seed, Steps, _maxReward, _maxCoverage, _maxCoverage >= PushTGeometry.SuccessThreshold,
            PushTRunner.MeanJerk(_agentPath, PushTRunner.ControlDt), PushTRunner.MeanJerk(_actions, PushTRunner.ControlDt), gif);
    }

    /// <inheritdoc/>
    public void Dispose() => _env.Dispose();
}
