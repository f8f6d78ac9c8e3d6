using DpAg.Data;
using DpAg.Evaluation;
using DpAg.Policies;
using DpAg.Training;
using TorchSharp;

namespace DpAg.Notebook;

/// <summary>A trained policy for a notebook, with where it came from.</summary>
/// <param name="Policy">The policy (EMA weights, eval mode).</param>
/// <param name="Spec">Its spec.</param>
/// <param name="Data">The dataset it was trained on (its normaliser is the policy's).</param>
/// <param name="Source">One sentence for the reader: which run or shipped policy, and how it was made.</param>
/// <param name="RunDir">The run folder (a store run, or the shipped policy's folder).</param>
public sealed record TrainedPolicy(DiffusionPolicyBase Policy, PolicySpec Spec, PushTDataset Data, string Source, string RunDir);

/// <summary>
/// The trained DP and DP-AG that notebooks 05 to 10 show, from one place: runs are trained once, in the run store
/// (<c>artifacts/runs/</c>, shared with the main job and <c>dpag train --store</c>), and reused.
/// <list type="bullet">
/// <item>CI budget: the tiny recipe (<see cref="TrainBudget.Ci"/>), trained on first use (seconds).</item>
/// <item>Real budget: the CPU recipe (<see cref="TrainBudget.Cpu"/>, about an hour per policy on 2 cores). If the
/// store holds that run finished (the main job trains it), it is used; if not, the policy the kit ships in
/// <c>data/policies/</c> (trained with that recipe, its record beside it), unless the notebook asks to train its own.</item>
/// </list>
/// </summary>
public static class KitRuns
{
    /// <summary>The budget notebooks use now (<c>DPAG_BUDGET=ci</c>: <see cref="TrainBudget.Ci"/>, else <see cref="TrainBudget.Cpu"/>).</summary>
    public static TrainBudget Budget => Kit.IsCiBudget ? TrainBudget.Ci : TrainBudget.Cpu;

    /// <summary>The repository root (the folder holding DpAg.Notebooks.sln, found upwards from the working folder).</summary>
    public static string RepoRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "DpAg.Notebooks.sln"))) return dir.FullName;
            throw new DirectoryNotFoundException($"No DpAg.Notebooks.sln above {Environment.CurrentDirectory}; open the notebook from the kit's notebooks/ folder.");
        }
    }

    /// <summary>The run store the notebooks and the main job share.</summary>
    public static RunStore Store => new(Path.Combine(RepoRoot, "artifacts", "runs"));

    /// <summary>The shipped policy folder of <paramref name="kind"/> (dp, dp-ag).</summary>
    public static string ShippedDir(string kind) => Path.Combine(RepoRoot, "data", "policies", kind);

    /// <summary>
    /// The trained policy of <paramref name="kind"/> for the current budget (see the class summary); training, when it
    /// happens, shows live loss curves. <paramref name="trainOwn"/> trains the real budget's run in the store instead
    /// of taking the shipped policy (about an hour per policy on 2 CPU cores).
    /// </summary>
    /// <param name="kind">dp or dp-ag (released preset).</param>
    /// <param name="device">Where the policy runs.</param>
    /// <param name="trainOwn">Train the run into the store when it is not there (instead of the shipped policy).</param>
    /// <param name="seed">Training seed; null: the budget's (the shipped policies' seed). Another seed is another run.</param>
    public static TrainedPolicy Get(string kind, torch.Device device, bool trainOwn = false, long? seed = null)
    {
        var budget = Budget;
        var spec = budget.Spec(kind);
        var data = PushTDataset.Open(Path.Combine(RepoRoot, budget.Dataset), TrainBudget.DatasetConfig(spec));
        var train = seed is { } s ? budget.Train with { Seed = s } : budget.Train;
        var validation = budget.Validation(spec, train.Seed);   // as dpag train --seed does
        var store = Store;
        string dir = store.RunDir(spec, data, train, validation);
        string shipped = ShippedDir(kind);
        bool shippedSeed = train.Seed == budget.Train.Seed;
        if (!Kit.IsCiBudget && !trainOwn && shippedSeed && !RunStore.IsFinished(dir) && File.Exists(Path.Combine(shipped, PolicySpec.FileName)))
        {
            var (policy, _, checkpoint) = PolicyRuns.LoadTrained(shipped, device, "best");
            var record = File.Exists(Path.Combine(shipped, "record.json")) ? File.ReadAllText(Path.Combine(shipped, "record.json")) : "";
            return new TrainedPolicy(policy, spec, data,
                $"the shipped {spec.Name} policy (data/policies/{kind}, the {budget.Name} recipe, step {checkpoint.Step}); " +
                "the store has no finished run of that recipe (the main job trains one; or pass trainOwn: true)", shipped);
        }
        string status;
        using (RunStore.Lock(dir, log: Console.Out))
        {
            bool finished = RunStore.IsFinished(dir);
            status = finished ? "from the run store, trained earlier" : "trained now into the run store";
            using var trainer = store.Open(spec, data, train, new TrainerOptions { Device = device, ConsoleWriter = TextWriter.Null, Validation = validation });
            if (!finished) LiveTraining.Run(trainer, kind, updates: 4);
        }
        bool hasBest = ValidationLog.ReadBest(dir) is not null;
        var (trained, _, at) = PolicyRuns.LoadTrained(dir, device, hasBest ? "best" : "latest");
        return new TrainedPolicy(trained, spec, data,
            $"{spec.Name}, {status}: {Path.GetRelativePath(RepoRoot, dir)} ({budget.Name} recipe, seed {train.Seed}, {(hasBest ? "best checkpoint by validation" : "last checkpoint")}, step {at.Step})", dir);
    }
}
