using DpAg.Optim;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Globalization;
using System.Text.Json;
using DpAg.IO;
using DpAg.Policies;
using DpAg.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Training;

/// <summary>How the trainer runs (not part of the numbers, so not in <see cref="TrainConfig"/>).</summary>
public sealed record TrainerOptions
{
    /// <summary>Device for the model and batches; null: the kit runtime's device (<see cref="TorchRuntime.Current"/>), else the CPU.</summary>
    public Device? Device { get; init; }

    /// <summary>Continue from the run folder's latest checkpoint when there is one (default). False deletes the
    /// folder's checkpoints and metrics and starts over.</summary>
    public bool Resume { get; init; } = true;

    /// <summary>
    /// Seed torch's global generator with <see cref="TrainConfig.Seed"/> before building the policy, with
    /// (Seed, step) before every step, and restore its state on resume (default). Turn off only where the policy
    /// draws from <see cref="PolicyBatch.Generator"/> alone and its factory is deterministic by itself (e.g. tests
    /// running in parallel, which share the global generator).
    /// </summary>
    public bool SeedGlobalGenerator { get; init; } = true;

    /// <summary>Evaluation during training (validation episodes, best checkpoint); null: none.</summary>
    public ValidationOptions? Validation { get; init; }

    /// <summary>Called after every step, on the training thread (e.g. a notebook's live plot).</summary>
    public IProgress<TrainProgress>? Progress { get; init; }

    /// <summary>Console progress writer; null is stderr; <see cref="TextWriter.Null"/> silences it.</summary>
    public TextWriter? ConsoleWriter { get; init; }

    /// <summary>Redraw progress in place; null decides from the writer (a terminal: yes; logs, notebooks: plain lines).</summary>
    public bool? InteractiveProgress { get; init; }

    /// <summary>Test hook: runs at the start of every step, inside the fault guard (a test throws a native-looking fault here).</summary>
    internal Action<long>? BeforeStep { get; init; }

    /// <summary>Test hook: runs inside the checkpoint writer after the model files and before the state file.</summary>
    internal Action<long>? OnCheckpointWriting { get; init; }
}

/// <summary>What <see cref="Trainer.Run"/> did.</summary>
/// <param name="CompletedSteps">Optimiser steps done in total (all sessions of the run).</param>
/// <param name="TotalSteps">Steps of the whole run.</param>
/// <param name="LastLoss">The loss of the last step of this session (NaN if none ran).</param>
/// <param name="LastCheckpoint">The checkpoint written last.</param>
/// <param name="Elapsed">Wall time of this session.</param>
/// <param name="StepsThisSession">Optimiser steps this session ran (0 for a finished run found in the store).</param>
public sealed record TrainResult(long CompletedSteps, long TotalSteps, double LastLoss, CheckpointInfo? LastCheckpoint, TimeSpan Elapsed,
    long StepsThisSession)
{
    /// <summary>True when the run reached <see cref="TotalSteps"/>.</summary>
    public bool Finished => CompletedSteps >= TotalSteps;
}

/// <summary>
/// The one training loop for every policy (Diffusion Policy's workspace loop): AdamW, warm-up + cosine learning
/// rate, optional gradient clipping, EMA, per-step metrics, atomic checkpoints, exact resume and a divergence guard.
/// <para>
/// Determinism: the initial weights come from <c>policyFactory()</c> right after seeding torch with
/// <see cref="TrainConfig.Seed"/>; before step s the trainer seeds torch's global generator with
/// <see cref="BatchSource.DeriveSeed"/>(seed, s), hands the policy a fresh <see cref="PolicyBatch.Generator"/> seeded
/// from (seed, s) and asks the batch source for batch s. A run of 2N steps and a run of
/// N steps resumed for N more therefore give bitwise the same weights, EMA and logs on the same machine and thread
/// count (CPU; CUDA kernels may be non-deterministic).
/// </para>
/// A checkpoint folder holds <c>model.bin</c> and <c>ema.bin</c> (TorchSharp state dicts: parameters and buffers),
/// <c>optimizer.bin</c> (AdamW moments and step counts), <c>rng.bin</c> (torch's CPU generator state) and
/// <c>state.json</c> (step, EMA counter, config). Load a trained policy with <see cref="LoadPolicy"/>.
/// </summary>
/// <example>
/// <code>
/// var config = new TrainConfig { RunDir = "runs/dp-pusht", Epochs = 50, BatchSize = 256 };
/// using var trainer = new Trainer(config, () => new MyPolicy(policyConfig), batches);
/// var result = trainer.Run();                  // resumes by itself if runs/dp-pusht has a checkpoint
/// var policy = new MyPolicy(policyConfig);
/// Trainer.LoadPolicy(policy, config.RunDir);   // the EMA weights of the latest checkpoint
/// </code>
/// </example>
public sealed class Trainer : IDisposable
{
    /// <summary>Files of a checkpoint folder.</summary>
    public const string ModelFile = "model.bin", EmaFile = "ema.bin", OptimizerFile = "optimizer.bin", RngFile = "rng.bin";

    private readonly TrainConfig _config;
    private readonly IBatchSource _data;
    private readonly TrainerOptions _options;
    private readonly Device _device;
    private readonly AdamW _optimizer;
    private readonly EmaModel? _ema;
    private readonly LrSchedule _schedule;
    private readonly CheckpointStore _store;
    private readonly MetricsLog _metrics;
    private readonly long? _batchesPerEpoch;
    private CheckpointInfo? _lastCheckpoint;
    private double _trainSeconds;
    private ValidationLog? _validation;

    /// <summary>
    /// Builds (or restores from the run folder's latest checkpoint) the policy, its EMA copy and the optimiser.
    /// </summary>
    /// <param name="config">Validated here.</param>
    /// <param name="policyFactory">Creates a fresh policy (called twice: the trained one and the EMA copy).</param>
    /// <param name="data">The batch source.</param>
    /// <param name="options">Device, resume, progress; null for defaults.</param>
    public Trainer(TrainConfig config, Func<PolicyBase> policyFactory, IBatchSource data, TrainerOptions? options = null)
    {
        _config = config.Validate();
        _data = data;
        _options = options ?? new TrainerOptions();
        _device = _options.Device ?? TorchRuntime.Current?.Device ?? torch.CPU;
        _batchesPerEpoch = data.BatchesPerEpoch(config.BatchSize);
        if (config.Epochs is { } epochs && _batchesPerEpoch is null)
            throw new ArgumentException($"TrainConfig.Epochs = {epochs} needs a batch source with epochs; this one is endless. Set Steps instead.", nameof(config));
        if (_batchesPerEpoch is <= 0)
            throw new ArgumentException($"The batch source has {_batchesPerEpoch} batches per epoch at BatchSize = {config.BatchSize}; lower the batch size.", nameof(config));
        TotalSteps = config.Steps ?? config.Epochs!.Value * _batchesPerEpoch!.Value;
        _schedule = new LrSchedule(config.LrSchedule, config.WarmupSteps, TotalSteps);

        Directory.CreateDirectory(config.RunDir);
        _store = new CheckpointStore(Path.Combine(config.RunDir, "checkpoints"));
        _metrics = new MetricsLog(config.RunDir);
        if (!_options.Resume) _store.Clear();
        var resumeFrom = _store.Latest();
        if (resumeFrom is not null) CheckResumable(resumeFrom);

        if (_options.SeedGlobalGenerator) TorchRuntime.Seed(config.Seed);
        Policy = policyFactory();
        if (resumeFrom is not null) Policy.load(Path.Combine(resumeFrom.Path, ModelFile));
        Policy.to(_device);
        if (config.UseEma)
        {
            var averaged = policyFactory();
            if (resumeFrom is not null) averaged.load(Path.Combine(resumeFrom.Path, EmaFile));
            else CopyState(Policy, averaged);
            averaged.to(_device);
            _ema = new EmaModel(averaged, config.EmaPower, config.EmaInvGamma, config.EmaMinValue, config.EmaMaxValue, config.EmaUpdateAfterStep);
        }
        // The optimiser is built after every load and move: loading may replace parameter tensors. Frozen
        // parameters (e.g. normaliser statistics) get no optimiser state.
        _optimizer = CreateOptimizer(Policy.parameters().Where(p => p.requires_grad), config);

        if (resumeFrom is not null)
        {
            var state = ReadState(resumeFrom);
            var optimizerFile = Path.Combine(resumeFrom.Path, OptimizerFile);
            using (var reader = new BinaryReader(File.OpenRead(optimizerFile)))
                _optimizer.Load(reader, optimizerFile);
            if (_ema is not null) _ema.OptimizationStep = state.EmaOptimizationStep;
            if (_options.SeedGlobalGenerator)
            {
                using var rng = torch.tensor(File.ReadAllBytes(Path.Combine(resumeFrom.Path, RngFile)), dtype: ScalarType.Byte);
                torch.set_rng_state(rng);
            }
            CompletedSteps = state.Step;
            _trainSeconds = state.TrainSeconds;
            _lastCheckpoint = resumeFrom;
        }
        _metrics.TruncateTo(CompletedSteps);
        if (!_options.Resume) ValidationLog.Clear(config.RunDir);
        if (_options.Validation is { } validation)
        {
            if (validation.Every < 1) throw new ArgumentException($"Validation every {validation.Every} steps: it must be at least 1.", nameof(options));
            _validation = new ValidationLog(config.RunDir, CompletedSteps);
        }
        AtomicFile.WriteAllText(Path.Combine(config.RunDir, "config.json"), config.ToJson());
    }

    /// <summary>The policy being trained.</summary>
    public PolicyBase Policy { get; }

    /// <summary>The EMA-averaged policy (evaluate this one, as Diffusion Policy does); null when EMA is off.</summary>
    public PolicyBase? EmaPolicy => (PolicyBase?)_ema?.Averaged;

    /// <summary>The EMA bookkeeping; null when EMA is off.</summary>
    public EmaModel? Ema => _ema;

    /// <summary>The optimiser (the kit's <see cref="AdamW"/>).</summary>
    public AdamW Optimizer => _optimizer;

    /// <summary>Steps done so far (restored on resume).</summary>
    public long CompletedSteps { get; private set; }

    /// <summary>Steps of the whole run (Steps, or Epochs x batches per epoch).</summary>
    public long TotalSteps { get; }

    /// <summary>The learning-rate schedule.</summary>
    public LrSchedule Schedule => _schedule;

    /// <summary>Training wall time of the whole run so far (all sessions, without validation).</summary>
    public TimeSpan TrainingTime => TimeSpan.FromSeconds(_trainSeconds);

    /// <summary>The validation log (null without <see cref="TrainerOptions.Validation"/>).</summary>
    public ValidationLog? Validation => _validation;

    /// <summary>The newest checkpoint of the run, if any.</summary>
    public CheckpointInfo? LastCheckpoint => _lastCheckpoint;

    /// <summary>Path of the run's CSV metrics.</summary>
    public string MetricsCsvPath => _metrics.CsvPath;

    /// <summary>
    /// AdamW with the config's lr, betas, eps and weight decay (DP: 1e-4, (0.95, 0.999), 1e-8, 1e-6):
    /// p &lt;- p (1 - lr wd), then the Adam update with bias corrections (<see cref="AdamW"/>).
    /// </summary>
    public static AdamW CreateOptimizer(IEnumerable<TorchSharp.Modules.Parameter> parameters, TrainConfig config) =>
        new(parameters, lr: config.LearningRate, beta1: config.Beta1, beta2: config.Beta2, eps: config.Eps, weightDecay: config.WeightDecay);

    /// <summary>
    /// Trains until <paramref name="stopAfterSteps"/> (total completed steps; default the whole run) or until
    /// cancelled, checkpointing every <see cref="TrainConfig.CheckpointEvery"/> steps and when it stops.
    /// </summary>
    /// <exception cref="TrainingDivergedException">A loss, term, gradient norm or parameter went bad; nothing bad was saved.</exception>
    /// <exception cref="TrainingFaultException">libtorch raised an error inside a step; nothing of that step was saved.</exception>
    public TrainResult Run(long? stopAfterSteps = null, CancellationToken cancellationToken = default)
    {
        long stopAt = Math.Min(stopAfterSteps ?? TotalSteps, TotalSteps);
        var clock = Stopwatch.StartNew();
        long startStep = CompletedSteps;
        double lastLoss = double.NaN;
        var console = new ConsoleProgress(_options.ConsoleWriter, _options.InteractiveProgress, _config.ProgressEvery ?? Math.Max(1, TotalSteps / 100));
        if (startStep > 0 && startStep < stopAt)
            console.Message($"Resuming {Policy.Name} from {_lastCheckpoint?.Path} at step {startStep}/{TotalSteps}.");
        Policy.train();
        var stepClock = new Stopwatch();
        long step = Math.Max(0, CompletedSteps - 1);   // the step a native fault is reported at
        try
        {
            // A run killed between a validation step's checkpoint and its validation catches up first.
            if (_validation is not null && CompletedSteps > 0 && IsValidationStep(CompletedSteps) && !_validation.Has(CompletedSteps)
                && _lastCheckpoint?.Step == CompletedSteps)
                Validate(console);
            while (CompletedSteps < stopAt)
            {
                stepClock.Restart();
                step = CompletedSteps;
                _options.BeforeStep?.Invoke(step);
                var row = TrainStep(step);
                CompletedSteps = step + 1;
                lastLoss = row.Loss;
                _metrics.Append(row);

                double rate = (CompletedSteps - startStep) / Math.Max(1e-9, clock.Elapsed.TotalSeconds);
                var progress = new TrainProgress(step, TotalSteps, _batchesPerEpoch is { } n ? step / n : null, row.Loss, row.Terms,
                    row.LearningRate, row.GradNorm, rate, rate > 0 ? TimeSpan.FromSeconds((TotalSteps - CompletedSteps) / rate) : null);
                console.Report(progress);
                _options.Progress?.Report(progress);

                bool cancelled = cancellationToken.IsCancellationRequested;
                bool validate = _validation is not null && IsValidationStep(CompletedSteps);
                if (CompletedSteps % _config.CheckpointEvery == 0 || CompletedSteps == stopAt || cancelled || validate)
                {
                    _trainSeconds += stepClock.Elapsed.TotalSeconds;
                    stepClock.Restart();
                    SaveCheckpoint();
                }
                _trainSeconds += stepClock.Elapsed.TotalSeconds;
                if (validate) Validate(console);
                if (cancelled)
                {
                    console.Message($"Stopped on request after step {CompletedSteps}; checkpoint {_lastCheckpoint?.Path}.");
                    break;
                }
            }
        }
        catch (Exception e) when (e is ExternalException or AccessViolationException or SEHException)
        {
            // libtorch failed in a step, a checkpoint write or a validation: a half-applied update never reaches a
            // checkpoint (the step's state is not saved), and a checkpoint written before its validation is validated
            // on resume.
            throw new TrainingFaultException(step, e, _lastCheckpoint);
        }
        finally
        {
            _metrics.Flush();
        }
        return new TrainResult(CompletedSteps, TotalSteps, lastLoss, _lastCheckpoint, clock.Elapsed, CompletedSteps - startStep);
    }

    /// <summary>One optimiser step; throws <see cref="TrainingDivergedException"/> before anything bad is applied.</summary>
    private MetricsRow TrainStep(long step)
    {
        using var scope = torch.NewDisposeScope();
        if (_options.SeedGlobalGenerator) TorchRuntime.Seed(BatchSource.DeriveSeed(_config.Seed, step));
        using var generator = new Generator((ulong)BatchSource.DeriveSeed(_config.Seed, step, stream: 2), _device);
        var batch = _data.GetBatch(step, _config.BatchSize, _config.Seed).To(_device) with { Generator = generator };
        batch.Validate();
        double lr = _schedule.LearningRate(_config.LearningRate, step);
        _optimizer.LearningRate = lr;

        var output = Policy.ComputeLoss(batch);
        if (output.Loss.numel() != 1)
            throw new ArgumentException($"{Policy.Name}.ComputeLoss returned a loss of shape ({string.Join(", ", output.Loss.shape)}); it must be a scalar.");
        double loss = ScalarMath.Value(output.Loss.detach());
        var terms = new Dictionary<string, double>(output.Terms.Count);
        foreach (var (name, value) in output.Terms)
        {
            if (LossOutput.ReservedNames.Contains(name) || name.Length == 0 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '/'))
                throw new ArgumentException($"{Policy.Name}.ComputeLoss returned a term named '{name}': use letters, digits, '_', '.', '/' and none of {string.Join(", ", LossOutput.ReservedNames)}.");
            if (value.numel() != 1)
                throw new ArgumentException($"{Policy.Name}.ComputeLoss returned term '{name}' with shape ({string.Join(", ", value.shape)}); terms must be scalars (reduce with mean()).");
            terms[name] = ScalarMath.Value(value.detach());
        }
        // Terms first: a bad term also spoils the total, and its name says more.
        foreach (var (name, value) in terms) CheckValue(step, name, value, terms, loss);
        CheckValue(step, "loss", loss, terms, loss);

        _optimizer.ZeroGrad();
        output.Loss.backward();
        double gradNorm = nn.utils.clip_grad_norm_(Policy.parameters().Where(p => p.requires_grad && p.grad is not null), _config.MaxGradNorm ?? double.PositiveInfinity);
        if (!double.IsFinite(gradNorm))
            throw Diverged(step, "grad_norm", gradNorm, "is not finite", terms, loss);
        _optimizer.Step();
        _ema?.Step(Policy);
        return new MetricsRow(step, loss, lr, gradNorm, _ema?.Decay ?? 0.0, terms);
    }

    private bool IsValidationStep(long completedSteps) =>
        _options.Validation is { } v && (completedSteps % v.Every == 0 || completedSteps == TotalSteps);

    /// <summary>Scores the EMA policy (else the trained one) at the checkpoint just written; keeps the best weights.</summary>
    private void Validate(ConsoleProgress console)
    {
        var options = _options.Validation!;
        var policy = EmaPolicy ?? Policy;
        bool wasTraining = policy.training;
        policy.eval();
        var clock = Stopwatch.StartNew();
        var result = options.Evaluate(policy);
        if (wasTraining) policy.train();
        var row = new ValidationRow(CompletedSteps, _trainSeconds / 60, result.Score, result.SuccessRate, result.Episodes, clock.Elapsed.TotalSeconds);
        _validation!.Add(row);
        var best = _validation.Best!;
        if (best.Step == row.Step)
            _validation.SetBest(row, Path.Combine(_lastCheckpoint!.Path, _ema is not null ? EmaFile : ModelFile), options.Description);
        try { options.AfterEach?.Invoke(_config.RunDir); }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            console.Message($"warning: after validation at step {row.Step}: {e.GetType().Name}: {e.Message} (training goes on)");
        }
        console.Message(string.Create(CultureInfo.InvariantCulture,
            $"validation at step {row.Step} ({row.TrainMinutes:F1} min of training): score {row.Score:F4}, success {row.SuccessRate:P0} " +
            $"({row.Episodes} episodes, {row.EvalSeconds:F0} s); best {best.Score:F4} at step {best.Step}"));
    }

    private void CheckValue(long step, string name, double value, Dictionary<string, double> terms, double loss)
    {
        if (!double.IsFinite(value)) throw Diverged(step, name, value, "is not finite", terms, loss);
        if (_config.LossLimit is { } limit && Math.Abs(value) > limit)
            throw Diverged(step, name, value, $"exceeds LossLimit = {limit.ToString("G6", CultureInfo.InvariantCulture)}", terms, loss);
    }

    private TrainingDivergedException Diverged(long step, string term, double value, string reason, Dictionary<string, double> terms, double loss)
    {
        _metrics.Flush();
        var details = string.Join(", ", new[] { $"loss {loss.ToString("G6", CultureInfo.InvariantCulture)}" }
            .Concat(terms.Select(t => $"{t.Key} {t.Value.ToString("G6", CultureInfo.InvariantCulture)}")));
        return new TrainingDivergedException(step, term, value, reason, _lastCheckpoint, details);
    }

    /// <summary>
    /// Writes a checkpoint of the current state, after checking that every parameter and floating-point buffer is
    /// finite (else <see cref="TrainingDivergedException"/>, and nothing is written).
    /// </summary>
    public CheckpointInfo SaveCheckpoint()
    {
        using (var scope = torch.NewDisposeScope())
        {
            foreach (var (name, p) in Policy.named_parameters())
            {
                if (!p.isfinite().all().item<bool>())
                    throw new TrainingDivergedException(CompletedSteps - 1, "param:" + name, double.NaN, "holds non-finite values", _lastCheckpoint, "");
            }
            foreach (var (name, b) in Policy.named_buffers())
            {
                if (b.is_floating_point() && !b.isfinite().all().item<bool>())
                    throw new TrainingDivergedException(CompletedSteps - 1, "buffer:" + name, double.NaN, "holds non-finite values", _lastCheckpoint, "");
            }
        }
        _metrics.Flush();
        long step = CompletedSteps;
        _lastCheckpoint = _store.Save(step, dir =>
        {
            WriteBinary(Path.Combine(dir, ModelFile), w => Policy.save(w));
            if (_ema is not null) WriteBinary(Path.Combine(dir, EmaFile), w => _ema.Averaged.save(w));
            WriteBinary(Path.Combine(dir, OptimizerFile), w => _optimizer.Save(w));
            using (var rng = torch.get_rng_state())
                CheckpointStore.WriteFile(Path.Combine(dir, RngFile), s => s.Write(rng.bytes));
            _options.OnCheckpointWriting?.Invoke(step);
            var state = new TrainState(1, step, TotalSteps, Policy.Name, _ema?.OptimizationStep ?? 0, _ema?.Decay ?? 0,
                _schedule.LearningRate(_config.LearningRate, Math.Max(0, step - 1)), DateTime.UtcNow, _config, _trainSeconds);
            CheckpointStore.WriteFile(Path.Combine(dir, CheckpointStore.CompleteMarker),
                s => s.Write(JsonSerializer.SerializeToUtf8Bytes(state, TrainConfig.Json)));
        }, _config.KeepLastCheckpoints, isResumePoint: s => !_config.IsScheduledCheckpoint(s, TotalSteps, _options.Validation?.Every));
        return _lastCheckpoint;
    }

    /// <summary>
    /// Loads the weights of a checkpoint into <paramref name="policy"/> (built by the same factory as in training):
    /// the EMA weights when present and <paramref name="ema"/> is true (Diffusion Policy evaluates the EMA), else the
    /// trained ones. <paramref name="checkpoint"/> is a checkpoint folder or a run folder (its latest checkpoint).
    /// </summary>
    public static CheckpointInfo LoadPolicy(PolicyBase policy, string checkpoint, bool ema = true)
    {
        var info = File.Exists(Path.Combine(checkpoint, CheckpointStore.CompleteMarker))
            ? new CheckpointInfo(ReadStateFile(checkpoint).Step, Path.GetFullPath(checkpoint))
            : new CheckpointStore(Path.Combine(checkpoint, "checkpoints")).Latest()
              ?? throw new FileNotFoundException($"No complete checkpoint in {checkpoint} (expected a folder with {CheckpointStore.CompleteMarker}, or a run folder with checkpoints/).");
        var file = Path.Combine(info.Path, ema && File.Exists(Path.Combine(info.Path, EmaFile)) ? EmaFile : ModelFile);
        policy.load(file);
        return info;
    }

    /// <summary>Closes the metric files and frees the optimiser state; <see cref="Policy"/> and <see cref="EmaPolicy"/>
    /// stay usable (dispose them when done).</summary>
    public void Dispose()
    {
        _metrics.Dispose();
        _optimizer.Dispose();
    }

    private void CheckResumable(CheckpointInfo checkpoint)
    {
        var stored = ReadState(checkpoint).Config;
        var diffs = _config.NumericDifferences(stored);
        if (diffs.Count > 0)
            throw new ArgumentException(
                $"Cannot resume {checkpoint.Path}: the config differs in fields that change the numbers ({string.Join("; ", diffs)}). " +
                "Use the stored config (config.json), a new RunDir, or TrainerOptions.Resume = false to start over.");
    }

    private static TrainState ReadState(CheckpointInfo checkpoint) => ReadStateFile(checkpoint.Path);

    /// <summary>The <c>state.json</c> of checkpoint folder <paramref name="dir"/> (errors name the file).</summary>
    internal static TrainState ReadStateFile(string dir)
    {
        var path = Path.Combine(dir, CheckpointStore.CompleteMarker);
        try
        {
            return JsonSerializer.Deserialize<TrainState>(File.ReadAllBytes(path), TrainConfig.Json)
                   ?? throw new InvalidDataException("null state");
        }
        catch (Exception e) when (e is JsonException or InvalidDataException)
        {
            throw new InvalidDataException($"Checkpoint state {path} is unreadable ({e.Message}); delete that checkpoint folder to fall back to an older one.", e);
        }
    }

    private static void WriteBinary(string path, Action<BinaryWriter> write) => CheckpointStore.WriteFile(path, s =>
    {
        using var writer = new BinaryWriter(s, System.Text.Encoding.UTF8, leaveOpen: true);
        write(writer);
        writer.Flush();
    });

    private static void CopyState(nn.Module from, nn.Module to)
    {
        using var noGrad = torch.no_grad();
        var target = to.state_dict();
        foreach (var (name, tensor) in from.state_dict()) target[name].copy_(tensor);
    }

    /// <summary>The content of a checkpoint's <c>state.json</c>.</summary>
    internal sealed record TrainState(int FormatVersion, long Step, long TotalSteps, string Policy, long EmaOptimizationStep,
        double EmaDecay, double LearningRate, DateTime SavedUtc, TrainConfig Config, double TrainSeconds = 0);
}
