using System.Globalization;
using DpAg.Data;
using DpAg.Evaluation;
using DpAg.IO;
using DpAg.Policies;
using DpAg.Training;
using TorchSharp;

namespace DpAg.Studies;

/// <summary>How one cell's checkpoints are sampled in a study's evaluation.</summary>
/// <param name="Sampler">DDPM or DDIM.</param>
/// <param name="InferenceSteps">Reverse steps.</param>
/// <param name="NoiseScale">The variant's noise scale.</param>
/// <param name="Primary">The study's sampler (every comparison uses it); false for the one a variant adds.</param>
public sealed record StudySampling(SamplerKind Sampler, int InferenceSteps, double NoiseScale, bool Primary)
{
    /// <summary>A short label: <c>ddpm100</c>, <c>ddpm100 x0.4</c>.</summary>
    public string Label => string.Create(CultureInfo.InvariantCulture,
        $"{Sampler.ToString().ToLowerInvariant()}{InferenceSteps}{(NoiseScale == 1.0 ? "" : $" x{NoiseScale:0.###}")}");
}

/// <summary>A cell with everything its run needs: spec, training config, validation and its run folder in the store.</summary>
/// <param name="Id">Variant and seed.</param>
/// <param name="Variant">The variant.</param>
/// <param name="Spec">The policy.</param>
/// <param name="Train">The training config (the budget's, with the seed and the variant's steps).</param>
/// <param name="Validation">The budget's validation (consistent sampling).</param>
/// <param name="RunDir">The run folder (<see cref="RunStore.RunDir"/>): cells with the same policy and seed share it.</param>
/// <param name="Samplings">How it is evaluated.</param>
public sealed record StudyCell(StudyCellId Id, StudyVariant Variant, PolicySpec Spec, TrainConfig Train, ValidationOptions Validation, string RunDir,
    IReadOnlyList<StudySampling> Samplings)
{
    /// <summary>Whether <paramref name="step"/> is on the run's checkpoint schedule rather than the resume point of a stopped sitting (<see cref="TrainConfig.IsScheduledCheckpoint"/>).</summary>
    public bool IsScheduledCheckpoint(long step) => Train.IsScheduledCheckpoint(step, Train.Steps ?? long.MaxValue, Validation.Every);
}

/// <summary>
/// Trains and evaluates the cells of a study in a run store. Every operation is resumable and safe to run from several
/// processes at once (one per cell, e.g. GNU parallel or a Slurm array on a shared folder): a cell's run folder is
/// locked (<see cref="RunStore.Lock"/>) while it is trained or evaluated, finished runs train nothing, and evaluations
/// already on disk are not repeated. Evaluations are small JSON files in the run folder, under
/// <c>study-eval/ENV/SAMPLING/</c>, one per checkpoint, in <c>dpag eval</c>'s <c>eval.json</c> format.
/// </summary>
public sealed class StudyRunner
{
    /// <summary>The folder of a run that holds the study's evaluations.</summary>
    public const string EvalFolder = "study-eval";

    private readonly Dictionary<PushTDatasetConfig, PushTDataset> _data = [];

    /// <summary>A runner of <paramref name="study"/> over the store at <paramref name="storeRoot"/>.</summary>
    /// <param name="study">The study.</param>
    /// <param name="storeRoot">The run store's folder.</param>
    /// <param name="datasetOverride">A dataset instead of the study's (tests).</param>
    public StudyRunner(StudyDefinition study, string storeRoot, string? datasetOverride = null)
    {
        Study = study;
        Store = new RunStore(storeRoot);
        DatasetPath = datasetOverride ?? study.DatasetPath;
    }

    /// <summary>The study.</summary>
    public StudyDefinition Study { get; }

    /// <summary>The run store.</summary>
    public RunStore Store { get; }

    /// <summary>The dataset every cell trains on.</summary>
    public string DatasetPath { get; }

    /// <summary>The dataset for <paramref name="spec"/>'s horizons (opened once).</summary>
    public PushTDataset Data(PolicySpec spec)
    {
        var config = TrainBudget.DatasetConfig(spec);
        if (!_data.TryGetValue(config, out var data)) _data[config] = data = PushTDataset.Open(DatasetPath, config);
        return data;
    }

    /// <summary>The cell <paramref name="id"/> resolved: its spec, config, validation and run folder.</summary>
    public StudyCell Resolve(StudyCellId id)
    {
        var variant = Study.Variant(id.Variant);
        var budget = Study.Budget;
        var spec = variant.Spec(budget);
        long steps = Study.StepsOf(variant);
        // A reduced budget keeps the budget's proportions: as many checkpoints and validations over the shorter run, so
        // that "the last 5 checkpoints" and the convergence grid cover the same fraction of training (the full budget's
        // intervals are unchanged: every * B / B = every).
        long Scaled(long every) => Math.Max(1, every * steps / Study.BudgetSteps);
        var train = budget.Train with { Seed = id.Seed, Steps = steps, CheckpointEvery = Scaled(budget.Train.CheckpointEvery) };
        var validation = budget.Validation(spec, id.Seed);
        validation = validation with { Every = Scaled(validation.Every), AfterEach = dir => DpAg.Plots.RunFigures.SaveLearningCurves(dir) };
        string runDir = Store.RunDir(spec, Data(spec), train, validation);
        double noise = variant.ResolvedNoiseScale(budget);
        var e = Study.Evaluation;
        var samplings = new List<StudySampling> { new(e.Sampler, e.InferenceSteps, noise, true) };
        if (variant.Sampler is { } s && (s != e.Sampler || variant.InferenceSteps != e.InferenceSteps))
            samplings.Add(new StudySampling(s, variant.InferenceSteps ?? 100, noise, false));
        return new StudyCell(id, variant, spec, train, validation, runDir, samplings);
    }

    /// <summary>Whether the cell's run has reached its last step.</summary>
    public bool IsTrained(StudyCell cell) => Directory.Exists(Path.Combine(cell.RunDir, "checkpoints")) && RunStore.IsFinished(cell.RunDir);

    /// <summary>
    /// Trains the cell (resuming where it stopped) until <paramref name="stopAfterSteps"/> total steps or the end, or until
    /// <paramref name="cancel"/> fires (then it checkpoints and returns). A finished run trains nothing.
    /// </summary>
    public TrainResult Train(StudyCell cell, torch.Device? device, TextWriter log, long? stopAfterSteps = null, int retries = 0,
        CancellationToken cancel = default)
    {
        RefuseArchive(cell, "trained");
        using var hold = RunStore.Lock(cell.RunDir, log: log);
        for (int attempt = 0; ; attempt++)
        {
            using var trainer = Store.Open(cell.Spec, Data(cell.Spec), cell.Train,
                new TrainerOptions { Device = device, Validation = cell.Validation, ConsoleWriter = log, InteractiveProgress = false });
            try { return trainer.Run(stopAfterSteps, cancel); }
            catch (TrainingFaultException e) when (attempt < retries)
            {
                log.WriteLine($"dpag study: {cell.Id.Name}: retry {attempt + 1}/{retries}: {e.Message}");
            }
        }
    }

    /// <summary>
    /// Whether the store holds archived runs (results without weights, <see cref="RunArchive"/>): such a store is for
    /// reports only, since training a cell missing from it would put weights into the folder meant for committing.
    /// </summary>
    public bool HoldsArchives => Directory.Exists(Store.Root) && Directory.EnumerateDirectories(Store.Root).Any(RunArchive.IsArchive);

    private void RefuseArchive(StudyCell cell, string what)
    {
        if (RunArchive.IsArchive(cell.RunDir))
            throw new InvalidOperationException($"{cell.Id.Name}: {cell.RunDir} is an archive (results without weights) and cannot be {what}; " +
                "use the run store that trained it, or delete the archived folder to train the cell again.");
        if (HoldsArchives)
            throw new InvalidOperationException($"{cell.Id.Name}: the store {Store.Root} holds archived runs (results without weights), so the cell cannot be {what} there; " +
                "train and evaluate in a run store (e.g. artifacts/runs) and copy the results here with RunArchive.Export (`dpag study --archive`).");
    }

    /// <summary>The checkpoints the study evaluates in a finished run: every kept one, and best/ when its step is not kept.</summary>
    public static IReadOnlyList<(string Name, long Step)> CheckpointsToEvaluate(string runDir)
    {
        var kept = PolicyRuns.Checkpoints(runDir).Select(c => (Name: c.Step.ToString(CultureInfo.InvariantCulture), c.Step)).ToList();
        if (ValidationLog.ReadBest(runDir) is { } best && kept.All(k => k.Step != best.Step)) kept.Add(("best", best.Step));
        return kept;
    }

    /// <summary>The file of one evaluation: <c>RUN/study-eval/ENV/SAMPLING-eEPISODES-mMAXSTEPS-sFIRSTSEED/NAME.json</c>.</summary>
    public string EvalFile(StudyCell cell, string environment, StudySampling sampling, string checkpointName)
    {
        var e = Study.Evaluation;
        string key = string.Create(CultureInfo.InvariantCulture,
            $"{sampling.Sampler.ToString().ToLowerInvariant()}{sampling.InferenceSteps}-ns{sampling.NoiseScale:R}-e{e.Episodes}-m{e.MaxSteps}-s{e.FirstSeed}");
        string file = checkpointName == "best" ? "best" : CheckpointStore.FolderName(long.Parse(checkpointName, CultureInfo.InvariantCulture));
        return Path.Combine(cell.RunDir, EvalFolder, environment, key, file + ".json");
    }

    /// <summary>Whether every evaluation of a trained cell is on disk.</summary>
    public bool IsEvaluated(StudyCell cell) => IsTrained(cell) && MissingEvaluations(cell).Count == 0;

    private List<(string Env, StudySampling Sampling, string Checkpoint, string File)> MissingEvaluations(StudyCell cell) =>
        [.. from env in Study.Evaluation.Environments
            from sampling in cell.Samplings
            from c in CheckpointsToEvaluate(cell.RunDir)
            let file = EvalFile(cell, env, sampling, c.Name)
            where !File.Exists(file)
            select (env, sampling, c.Name, file)];

    /// <summary>
    /// Evaluates every checkpoint of a finished cell on every environment with every sampling, skipping those on disk;
    /// returns how many were evaluated now. <paramref name="threads"/> bounds the environments stepped in parallel.
    /// </summary>
    /// <exception cref="InvalidOperationException">The run is not finished.</exception>
    public int Evaluate(StudyCell cell, torch.Device? device, TextWriter log, int? threads = null, CancellationToken cancel = default)
    {
        if (!IsTrained(cell)) throw new InvalidOperationException($"{cell.Id.Name}: the run {cell.RunDir} is not finished; train it first (`dpag study --cell {cell.Id.Name}`).");
        if (MissingEvaluations(cell).Count > 0) RefuseArchive(cell, "evaluated");
        using var hold = RunStore.Lock(cell.RunDir, log: log);
        int done = 0;
        // Listed again under the lock: another process may have held it and written evaluations while this one waited.
        foreach (var (env, sampling, checkpoint, file) in MissingEvaluations(cell))
        {
            if (cancel.IsCancellationRequested) break;
            var e = Study.Evaluation;
            var config = PushTEvalConfig.For(cell.Spec.Policy, StudyMetrics.Env(env)) with
            {
                Episodes = e.Episodes, FirstSeed = e.FirstSeed, MaxSteps = e.MaxSteps, GifEpisodes = 0,
                MaxDegreeOfParallelism = threads ?? Environment.ProcessorCount,
            };
            var result = CheckpointEvaluation.Evaluate(cell.RunDir, checkpoint, device, new InferenceOptions(sampling.Sampler, sampling.InferenceSteps) { NoiseScale = sampling.NoiseScale }, config);
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            AtomicFile.WriteAllText(file, result.ToJson());
            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"dpag study: {cell.Id.Name}: {env} {sampling.Label} checkpoint {checkpoint} (step {result.Checkpoint.Step}): score {result.Result.MeanScore:F4}, success {result.Result.SuccessRate:P0}, {result.Result.Elapsed.TotalSeconds:F0} s"));
            done++;
        }
        return done;
    }

    /// <summary>The planned CPU minutes of the whole study (one core per run): training plus evaluation, from <see cref="StudyDefinition.Plan"/>.</summary>
    public static (int Runs, double TrainMinutes, int Evaluations, double EvalMinutes) PlanOf(StudyDefinition study)
    {
        // Cells with the same policy, overrides, steps and seed share one run (e.g. DP-AG sampled two ways).
        var runs = study.Cells.Select(c => (Cell: c, V: study.Variant(c.Variant)))
            .GroupBy(x => (x.V.Policy, x.V.Preset, Overrides: string.Join(";", x.V.Overrides.OrderBy(o => o.Key).Select(o => $"{o.Key}={o.Value.GetRawText()}")), Steps: study.StepsOf(x.V), x.Cell.Seed))
            .ToList();
        double scale(StudyVariant v) => (double)study.StepsOf(v) / study.BudgetSteps;
        double train = runs.Sum(g => (g.First().V.Policy == PolicyKind.Dp ? study.Plan.DpTrainMinutes : study.Plan.DpAgTrainMinutes) * scale(g.First().V));
        long steps = study.BudgetSteps, every = study.Budget.Train.CheckpointEvery;
        int kept = (int)Math.Min(study.Budget.Train.KeepLastCheckpoints, Math.Max(1, steps / every)) + 1;   // + best when not kept (at most)
        int evaluations = runs.Sum(g => g.Select(x => x.V.NoiseScale ?? -1).Distinct().Count() * (g.First().V.Sampler is null ? 1 : 2)) * kept * study.Evaluation.Environments.Count;
        return (runs.Count, train, evaluations, evaluations * study.Plan.EvalMinutesPerCheckpoint);
    }
}
