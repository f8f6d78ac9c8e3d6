using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using DpAg.Data;
using DpAg.Data.Zarr;
using DpAg.Numpy;

namespace DpAg.Envs.Expert;

/// <summary>Settings of <see cref="PushTDemoRecorder"/>; defaults make the shipped <c>data/pusht_expert.zarr</c>.</summary>
public sealed record PushTDemoOptions
{
    /// <summary>Number of successful episodes to keep (default 100).</summary>
    public int Episodes { get; init; } = 100;

    /// <summary>Seed of the first attempted episode; seeds are tried in order (default 0, disjoint from evaluation seeds 100000..100049).</summary>
    public long FirstSeed { get; init; }

    /// <summary>Most env steps per episode; an episode that does not reach coverage &gt; 0.95 by then is dropped (default 300, the protocol's).</summary>
    public int MaxSteps { get; init; } = 300;

    /// <summary>Legacy reset placement; false (default) is the data-collection placement (origin exactly at the drawn (x, y), docs/pusht.md).</summary>
    public bool LegacyReset { get; init; }

    /// <summary>Also record 96 x 96 RGB images (<c>data/img</c>, float32 0..255), as the official dataset. Default false (keeps stores small).</summary>
    public bool Images { get; init; }

    /// <summary>Episodes simulated in parallel (default 1). Results do not depend on it.</summary>
    public int Workers { get; init; } = 1;

    /// <summary>Most attempted seeds, as a safety net against an expert that keeps failing (default 2 x Episodes + 20).</summary>
    public int? MaxAttempts { get; init; }

    /// <summary>Expert settings (default <see cref="PushTExpertConfig"/>).</summary>
    public PushTExpertConfig Expert { get; init; } = new();

    /// <summary>
    /// DART noise (Laskey et al. 2017): standard deviation, in px, of the Gaussian noise added to each coordinate of the
    /// EXECUTED action; the recorded label (<c>data/action</c>) stays the expert's clean action for the recorded observation.
    /// The noisy action is clipped to the reference action space [0, <see cref="PushTGeometry.WorldSize"/>] per coordinate
    /// (the kit's env itself does not clip). The noise comes from <see cref="PushTDemoRecorder.DartStream"/>, seeded from the
    /// episode's reset seed, so recordings are reproducible and independent of <see cref="Workers"/>. Default 0 (no noise:
    /// the recording is byte-identical to one made without DART); CLI <c>--dart-noise</c>.
    /// </summary>
    public double DartNoise { get; init; }

    /// <summary>
    /// Fraction of episodes recorded with DART noise when <see cref="DartNoise"/> &gt; 0; the others are clean. An episode is
    /// noisy when the first draw <c>rand()</c> of its noise stream is below the fraction (deterministic per seed). Default 1
    /// (every episode); ignored when DartNoise is 0; CLI <c>--dart-fraction</c>.
    /// </summary>
    public double DartFraction { get; init; } = 1;

    /// <summary>Throws <see cref="ArgumentException"/> naming the offending field.</summary>
    public void Validate()
    {
        if (Episodes < 1 || Episodes > 100_000)
            throw new ArgumentException($"PushTDemoOptions.Episodes must be in [1, 100000]; got {Episodes}. The shipped set has 100.", nameof(Episodes));
        if (FirstSeed < 0 || FirstSeed > uint.MaxValue)
            throw new ArgumentException($"PushTDemoOptions.FirstSeed must be in [0, 2^32 - 1]; got {FirstSeed}.", nameof(FirstSeed));
        if (MaxSteps < 1 || MaxSteps > 10_000)
            throw new ArgumentException($"PushTDemoOptions.MaxSteps must be in [1, 10000]; got {MaxSteps}. The protocol uses 300.", nameof(MaxSteps));
        if (Workers < 1 || Workers > 256)
            throw new ArgumentException($"PushTDemoOptions.Workers must be in [1, 256]; got {Workers}.", nameof(Workers));
        if (MaxAttempts is { } m && m < Episodes)
            throw new ArgumentException($"PushTDemoOptions.MaxAttempts ({m}) must be at least Episodes ({Episodes}).", nameof(MaxAttempts));
        if (!(DartNoise >= 0 && DartNoise <= PushTGeometry.WorldSize))
            throw new ArgumentException(
                $"PushTDemoOptions.DartNoise (--dart-noise) must be in [0, {PushTGeometry.WorldSize}] px; got {DartNoise}. Use 0 for clean demonstrations or a few px (e.g. 5 to 20) for DART.",
                nameof(DartNoise));
        if (!(DartFraction >= 0 && DartFraction <= 1))
            throw new ArgumentException(
                $"PushTDemoOptions.DartFraction (--dart-fraction) must be in [0, 1]; got {DartFraction}. It is the fraction of episodes recorded with noise (1 = all).",
                nameof(DartFraction));
        ArgumentNullException.ThrowIfNull(Expert);
        Expert.Validate();
    }
}

/// <summary>
/// One recorded episode. Arrays hold one row per step t: the observation BEFORE action t (<see cref="State"/> (L, 5) =
/// [agent_x, agent_y, block_x, block_y, angle mod 2 pi], <see cref="Keypoints"/> (L, 9, 2)), the action (L, 2) and
/// <see cref="NContacts"/> (L, 1) of the step that led to that observation (0 for the first), like the reference
/// collection script; <see cref="Images"/> (L, 96, 96, 3) float32 0..255 when recorded. With DART noise
/// (<see cref="PushTDemoOptions.DartNoise"/> &gt; 0) <see cref="Actions"/> are the expert's clean labels and
/// <see cref="ExecutedActions"/> the (noisy) actions that produced the next observations.
/// </summary>
/// <param name="Seed">Reset seed.</param>
/// <param name="Success">Coverage exceeded 0.95 within the step budget (only such episodes are stored).</param>
/// <param name="MaxCoverage">Largest coverage reached.</param>
/// <param name="Length">Recorded steps L (actions executed).</param>
/// <param name="State">(L, 5) row-major.</param>
/// <param name="Keypoints">(L, 9, 2) row-major.</param>
/// <param name="Actions">(L, 2) row-major.</param>
/// <param name="NContacts">(L, 1).</param>
/// <param name="Images">(L, 96, 96, 3) row-major, or null.</param>
/// <param name="ExecutedActions">(L, 2) row-major actions actually executed (label + DART noise, clipped), or null when
/// recorded with <see cref="PushTDemoOptions.DartNoise"/> = 0; equal to <paramref name="Actions"/> for a clean episode of a
/// DART run (<see cref="PushTDemoOptions.DartFraction"/> &lt; 1).</param>
/// <param name="Noisy">The executed actions carried DART noise.</param>
public sealed record PushTDemoEpisode(long Seed, bool Success, double MaxCoverage, int Length,
    float[] State, float[] Keypoints, float[] Actions, float[] NContacts, float[]? Images,
    float[]? ExecutedActions = null, bool Noisy = false);

/// <summary>Summary of a <see cref="PushTDemoRecorder.Generate"/> run.</summary>
/// <param name="KeptSeeds">Seeds of the stored (successful) episodes, in store order.</param>
/// <param name="DroppedSeeds">Seeds tried and dropped (no success within MaxSteps).</param>
/// <param name="MeanMaxCoverage">Mean over attempted episodes of the max coverage.</param>
/// <param name="MeanLength">Mean length of the kept episodes (steps).</param>
/// <param name="TotalSteps">Steps stored.</param>
/// <param name="Elapsed">Wall time of the simulation (not of writing).</param>
public sealed record PushTDemoSummary(IReadOnlyList<long> KeptSeeds, IReadOnlyList<long> DroppedSeeds, double MeanMaxCoverage,
    double MeanLength, long TotalSteps, TimeSpan Elapsed)
{
    /// <summary>Kept / attempted.</summary>
    public double SuccessRate => (double)KeptSeeds.Count / Math.Max(1, KeptSeeds.Count + DroppedSeeds.Count);

    /// <inheritdoc/>
    public override string ToString() =>
        $"kept={KeptSeeds.Count} dropped={DroppedSeeds.Count} success_rate={SuccessRate:P1} mean_max_coverage={MeanMaxCoverage:F4} " +
        $"mean_length={MeanLength:F1} steps={TotalSteps} wall={Elapsed.TotalSeconds:F1}s";
}

/// <summary>
/// Records <see cref="PushTExpert"/> demonstrations in the layout of the official Push-T replay buffer (docs/pusht.md
/// "Dataset"): <c>data/state</c>, <c>data/keypoint</c>, <c>data/action</c>, <c>data/n_contacts</c> (and
/// <c>data/img</c> on request), all float32, plus <c>meta/episode_ends</c>. Like the human data, only successful episodes
/// are kept and each ends at the step whose result has coverage &gt; 0.95. The root <c>.zattrs</c> records how the store was
/// made, including kept and dropped seeds, so every episode can be regenerated. Deterministic per seed.
/// </summary>
public static class PushTDemoRecorder
{
    /// <summary>
    /// The seed of an episode's DART noise stream: the low 32 bits of the SplitMix64 output for the state
    /// <c>seed XOR 0x4441525400000000</c> ("DART"), so the stream is unrelated to the reset draws of <c>RandomState(seed)</c>.
    /// </summary>
    /// <param name="seed">The episode's reset seed.</param>
    public static long DartStreamSeed(long seed)
    {
        unchecked
        {
            ulong z = (ulong)seed ^ 0x4441525400000000UL;
            z += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            z ^= z >> 31;
            return (long)(z & 0xFFFF_FFFFUL);
        }
    }

    /// <summary>
    /// The DART noise stream of an episode: <c>numpy.random.RandomState(DartStreamSeed(seed))</c> (bit-exact port). Its first
    /// <c>rand()</c> decides whether the episode is noisy (below <see cref="PushTDemoOptions.DartFraction"/>); then each step
    /// draws <c>randn()</c> for x and <c>randn()</c> for y.
    /// </summary>
    /// <param name="seed">The episode's reset seed.</param>
    public static NumpyRandomState DartStream(long seed) => new(DartStreamSeed(seed));

    /// <summary>
    /// Runs the expert on one seed and records the episode (whether or not it succeeds). Actions are rounded to float32
    /// before execution, so the stored actions replayed from the seed reproduce the stored observations. With DART noise
    /// (<see cref="PushTDemoOptions.DartNoise"/> &gt; 0, episode picked by <see cref="PushTDemoOptions.DartFraction"/>) the
    /// executed action is clip(label + DartNoise * N(0, I), 0, 512) rounded to float32, the stored label the expert's clean
    /// action for the observation, and the executed actions (stored in <see cref="PushTDemoEpisode.ExecutedActions"/>)
    /// replay the observations instead. The expert acts from the actual (noisy) state every step.
    /// </summary>
    public static PushTDemoEpisode RecordEpisode(long seed, PushTDemoOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        using var env = new PushTEnv(new PushTConfig { LegacyReset = options.LegacyReset, ImageObservations = options.Images });
        using var expert = new PushTExpert(options.Expert);
        var obs = env.Reset(seed);
        // DART: no stream at all without noise, so DartNoise = 0 records exactly what the kit recorded before DART.
        NumpyRandomState? stream = options.DartNoise > 0 ? DartStream(seed) : null;
        bool noisy = stream is not null && stream.Rand() < options.DartFraction;
        var executed = stream is not null ? new List<float>() : null;
        var state = new List<float>();
        var keypoints = new List<float>();
        var actions = new List<float>();
        var contacts = new List<float>();
        var images = options.Images ? new List<float>() : null;
        double maxCoverage = env.Coverage;
        int lastContacts = 0;
        bool success = false;
        int steps = 0;
        while (steps < options.MaxSteps && !success)
        {
            // Actions are rounded to float32 before they are executed, so replaying the stored float32 actions from the
            // seed reproduces the stored observations exactly.
            var (ax, ay) = expert.NextAction(env);
            ax = (float)ax;
            ay = (float)ay;
            double ex = ax, ey = ay;
            if (noisy)
            {
                ex = (float)Math.Clamp(ax + options.DartNoise * stream!.Randn(), 0, PushTGeometry.WorldSize);
                ey = (float)Math.Clamp(ay + options.DartNoise * stream.Randn(), 0, PushTGeometry.WorldSize);
            }
            executed?.Add((float)ex);
            executed?.Add((float)ey);
            for (int i = 0; i < 5; i++) state.Add((float)obs.State[i]);
            for (int i = 0; i < 18; i++) keypoints.Add((float)obs.Keypoints[i]);
            actions.Add((float)ax);
            actions.Add((float)ay);
            contacts.Add(lastContacts);
            if (images is not null) AppendImage(images, obs.Image!, env.Config.ImageSize);
            var result = env.Step(ex, ey);
            steps++;
            obs = result.Observation;
            lastContacts = result.Info.NContacts;
            maxCoverage = Math.Max(maxCoverage, result.Info.Coverage);
            success = result.Done;
        }
        return new PushTDemoEpisode(seed, success, maxCoverage, steps, state.ToArray(), keypoints.ToArray(), actions.ToArray(),
            contacts.ToArray(), images?.ToArray(), executed?.ToArray(), noisy);
    }

    /// <summary>[3, S, S] channel-major in [0, 1] -> (S, S, 3) in [0, 255] appended.</summary>
    private static void AppendImage(List<float> destination, float[] chw, int size)
    {
        int plane = size * size;
        for (int p = 0; p < plane; p++)
            for (int ch = 0; ch < 3; ch++)
                destination.Add(chw[ch * plane + p] * 255f);
    }

    /// <summary>
    /// Tries seeds FirstSeed, FirstSeed + 1, ... (in batches of <see cref="PushTDemoOptions.Workers"/> x 4, each batch in
    /// parallel) until <see cref="PushTDemoOptions.Episodes"/> succeed; returns the kept episodes in seed order and a
    /// summary. Throws <see cref="InvalidOperationException"/> when MaxAttempts seeds give too few successes.
    /// </summary>
    /// <param name="options">What to record.</param>
    /// <param name="onEpisode">Called (in seed order, on the calling thread) after every attempted episode with the running kept count.</param>
    /// <param name="cancellationToken">Cancels between batches.</param>
    public static (IReadOnlyList<PushTDemoEpisode> Episodes, PushTDemoSummary Summary) Generate(PushTDemoOptions options,
        Action<PushTDemoEpisode, int>? onEpisode = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var sw = Stopwatch.StartNew();
        int maxAttempts = options.MaxAttempts ?? 2 * options.Episodes + 20;
        var kept = new List<PushTDemoEpisode>();
        var dropped = new List<long>();
        double coverageSum = 0;
        int attempted = 0;
        int batch = options.Workers * 4;
        while (kept.Count < options.Episodes && attempted < maxAttempts)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int n = Math.Min(Math.Min(batch, maxAttempts - attempted), Math.Max(options.Workers, options.Episodes - kept.Count));
            var results = new PushTDemoEpisode[n];
            long first = options.FirstSeed + attempted;
            if (first + n - 1 > uint.MaxValue)
                throw new InvalidOperationException($"seeds ran past 2^32 - 1 (first seed {options.FirstSeed}); start lower.");
            Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = options.Workers, CancellationToken = cancellationToken },
                i => results[i] = RecordEpisode(first + i, options));
            foreach (var e in results)
            {
                if (kept.Count >= options.Episodes) break;
                attempted++;
                coverageSum += e.MaxCoverage;
                if (e.Success) kept.Add(e);
                else dropped.Add(e.Seed);
                onEpisode?.Invoke(e, kept.Count);
            }
        }
        if (kept.Count < options.Episodes)
            throw new InvalidOperationException(
                $"only {kept.Count} of {attempted} attempted episodes succeeded, fewer than the {options.Episodes} asked for; raise MaxAttempts or check the expert settings.");
        var summary = new PushTDemoSummary(kept.Select(e => e.Seed).ToList(), dropped, coverageSum / Math.Max(1, attempted),
            kept.Average(e => (double)e.Length), kept.Sum(e => (long)e.Length), sw.Elapsed);
        return (kept, summary);
    }

    /// <summary>
    /// Runs the expert on exactly <see cref="PushTDemoOptions.Episodes"/> seeds from FirstSeed (in parallel, nothing kept)
    /// and summarises them; with LegacyReset = true, FirstSeed = 100000, Episodes = 50 and MaxSteps = 300 this is the
    /// evaluation protocol of docs/pusht.md (the expert acts every step from the full simulator state). DART noise, when
    /// set, is executed too (the expert's success under noise).
    /// </summary>
    public static PushTDemoSummary Evaluate(PushTDemoOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var sw = Stopwatch.StartNew();
        var results = new PushTDemoEpisode[options.Episodes];
        var light = options with { Images = false };
        Parallel.For(0, options.Episodes, new ParallelOptions { MaxDegreeOfParallelism = options.Workers, CancellationToken = cancellationToken },
            i => results[i] = RecordEpisode(options.FirstSeed + i, light));
        var kept = results.Where(e => e.Success).ToList();
        return new PushTDemoSummary(kept.Select(e => e.Seed).ToList(), results.Where(e => !e.Success).Select(e => e.Seed).ToList(),
            results.Average(e => e.MaxCoverage), kept.Count == 0 ? 0 : kept.Average(e => (double)e.Length), kept.Sum(e => (long)e.Length), sw.Elapsed);
    }

    /// <summary>
    /// Stacks episodes into a replay buffer with the official keys (img only when every episode has images), plus
    /// <c>executed_action</c> (N, 2) when every episode has executed actions (DART recordings).
    /// </summary>
    public static ReplayBuffer ToReplayBuffer(IEnumerable<PushTDemoEpisode> episodes)
    {
        ArgumentNullException.ThrowIfNull(episodes);
        var buffer = ReplayBuffer.CreateEmpty();
        foreach (var e in episodes)
        {
            var dict = new Dictionary<string, ZarrArray>(StringComparer.Ordinal)
            {
                ["state"] = ZarrArray.Create(e.State, e.Length, 5),
                ["keypoint"] = ZarrArray.Create(e.Keypoints, e.Length, 9, 2),
                ["action"] = ZarrArray.Create(e.Actions, e.Length, 2),
                ["n_contacts"] = ZarrArray.Create(e.NContacts, e.Length, 1),
            };
            if (e.Images is not null) dict["img"] = ZarrArray.Create(e.Images, e.Length, 96, 96, 3);
            if (e.ExecutedActions is not null) dict["executed_action"] = ZarrArray.Create(e.ExecutedActions, e.Length, 2);
            buffer.AddEpisode(dict);
        }
        return buffer;
    }

    /// <summary>
    /// Writes the episodes as a zarr v2 replay buffer (Blosc lz4 clevel 5, no shuffle, chunks along time only) with a root
    /// <c>.zattrs</c> describing the generation (options, kept and dropped seeds, summary), atomically: everything is written
    /// to a temporary sibling folder that then replaces <paramref name="path"/>.
    /// </summary>
    public static void Save(string path, IReadOnlyList<PushTDemoEpisode> episodes, PushTDemoOptions options, PushTDemoSummary summary)
    {
        ArgumentNullException.ThrowIfNull(episodes);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(summary);
        if (episodes.Count == 0) throw new ArgumentException("no episodes to save; generate at least one.", nameof(episodes));
        var buffer = ToReplayBuffer(episodes);
        DpAg.IO.AtomicFile.WriteDirectory(path, temp =>
        {
            buffer.Save(temp, new BloscCompressor());
            File.WriteAllText(Path.Combine(temp, ".zattrs"), Attributes(options, summary, episodes).ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        });
    }

    /// <summary>
    /// The root attributes recorded by <see cref="Save"/>; a <c>dart</c> block (noise, fraction, clip, stream, labels and the
    /// kept seeds recorded with noise) only when <see cref="PushTDemoOptions.DartNoise"/> &gt; 0, so clean stores are unchanged.
    /// </summary>
    /// <param name="options">The options the episodes were recorded with.</param>
    /// <param name="summary">The generation summary.</param>
    /// <param name="episodes">The stored episodes (for the seeds recorded with noise); null leaves that list out.</param>
    public static JsonObject Attributes(PushTDemoOptions options, PushTDemoSummary summary, IReadOnlyList<PushTDemoEpisode>? episodes = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(summary);
        var e = options.Expert;
        var attributes = new JsonObject
        {
            ["generator"] = "DpAg.Envs.Expert.PushTDemoRecorder (dpag demos)",
            ["expert"] = new JsonObject
            {
                ["contact_spacing"] = e.ContactSpacing, ["contact_gap"] = e.ContactGap, ["clearance"] = e.Clearance,
                ["push_angles"] = new JsonArray(e.PushAngles.Select(a => (JsonNode)a).ToArray()),
                ["max_push_steps"] = e.MaxPushSteps, ["max_push_speed"] = e.MaxPushSpeed, ["min_push_speed"] = e.MinPushSpeed,
                ["push_speed_gain"] = e.PushSpeedGain, ["travel_weight"] = e.TravelWeight, ["coverage_weight"] = e.CoverageWeight,
                ["max_lead"] = e.MaxLead, ["arrival_tolerance"] = e.ArrivalTolerance, ["grid_cell"] = e.GridCell, ["arena_margin"] = e.ArenaMargin,
            },
            ["first_seed"] = options.FirstSeed,
            ["max_steps"] = options.MaxSteps,
            ["legacy_reset"] = options.LegacyReset,
            ["images"] = options.Images,
            ["obs_before_action"] = true,
            ["n_contacts"] = "contacts of the step that led to the observation (0 for the first)",
            ["kept_seeds"] = new JsonArray(summary.KeptSeeds.Select(s => (JsonNode)s).ToArray()),
            ["dropped_seeds"] = new JsonArray(summary.DroppedSeeds.Select(s => (JsonNode)s).ToArray()),
            ["success_rate"] = summary.SuccessRate,
            ["mean_max_coverage"] = summary.MeanMaxCoverage,
            ["mean_length"] = summary.MeanLength,
            ["total_steps"] = summary.TotalSteps,
        };
        if (options.DartNoise > 0)
        {
            var dart = new JsonObject
            {
                ["method"] = "DART (Laskey et al. 2017): executed action = clip(expert action + N(0, noise_std_px^2 I), clip); data/action = the expert's clean action",
                ["noise_std_px"] = options.DartNoise,
                ["fraction"] = options.DartFraction,
                ["clip"] = new JsonArray(0.0, PushTGeometry.WorldSize),
                ["stream"] = "numpy RandomState(low 32 bits of splitmix64(seed ^ 0x4441525400000000)); first rand() < fraction makes the episode noisy; then randn() for x, randn() for y every step",
                ["executed_action"] = "data/executed_action holds the executed actions; they replay the stored observations from the seed",
            };
            if (episodes is not null)
                dart["noisy_kept_seeds"] = new JsonArray(episodes.Where(e => e.Noisy).Select(e => (JsonNode)e.Seed).ToArray());
            attributes["dart"] = dart;
        }
        return attributes;
    }
}
