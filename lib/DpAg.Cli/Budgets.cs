using System.CommandLine;

namespace DpAg.Cli;

/// <summary>
/// Named recipes for <c>dpag train --budget NAME</c>: option values as a run file would hold them (docs/results/ says
/// what each reached, measured). A --config file and the command line override any of them.
/// </summary>
internal static class Budgets
{
    private static readonly Dictionary<string, string> Json = new(StringComparer.OrdinalIgnoreCase)
    {
        // The tests' budget: a tiny network for a few steps, validated twice on two short episodes.
        ["ci"] = """
                 { "size": "tiny", "steps": 40, "batch-size": 8, "lr": 3e-4, "warmup": 4, "checkpoint-every": 20,
                   "keep-checkpoints": 2, "eval-every": 20, "eval-episodes": 2, "eval-inference-steps": 4 }
                 """,
        // Two CPU cores, about an hour per policy: the small U-Net on the DART demonstrations, validated every 2000
        // steps on 20 episodes with DDIM 16; five checkpoints kept for the protocol's mean over the last ones.
        ["cpu"] = """
                  { "size": "small", "dataset": "data/pusht_dart.zarr", "steps": 24000, "batch-size": 64, "lr": 3e-4,
                    "warmup": 500, "checkpoint-every": 2000, "keep-checkpoints": 5, "eval-every": 2000,
                    "eval-episodes": 20, "eval-inference-steps": 16 }
                  """,
    };

    /// <summary>The budget names.</summary>
    public static IEnumerable<string> Names => Json.Keys;

    /// <summary>The values of budget <paramref name="name"/> (null: no budget).</summary>
    /// <exception cref="ArgumentException">An unknown name (the message lists the known ones).</exception>
    public static ConfigFile? Get(string? name, IEnumerable<Option> known)
    {
        if (string.IsNullOrEmpty(name)) return null;
        if (!Json.TryGetValue(name, out var json))
            throw new ArgumentException($"--budget: unknown budget '{name}'. Known: {string.Join(", ", Names)}.");
        return ConfigFile.FromJson($"--budget {name}", json, known);
    }
}
