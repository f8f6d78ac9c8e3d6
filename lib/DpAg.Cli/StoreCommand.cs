using System.CommandLine;
using DpAg.Training;

namespace DpAg.Cli;

/// <summary><c>dpag store migrate</c>: re-keys run folders written before the per-kind spec layout so they are reused, not retrained.</summary>
internal static class StoreCommand
{
    public static Command Create()
    {
        var store = new Option<string>("--store") { Description = "The run store (the folder holding the run folders).", DefaultValueFactory = _ => "artifacts/runs" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Say what would be renamed; change nothing." };
        var migrate = new Command("migrate",
            "Re-key run folders of the older layout (key format 1: one DP-AG config for both policies): rewrites key.json and policy.json in the " +
            "per-kind spec layout (the same network and numbers), renames each folder to its new hash and leaves MIGRATED.txt; checkpoints are untouched.")
        {
            store, dryRun,
        };
        migrate.SetAction(parse => Commands.Guarded(() =>
        {
            string root = parse.GetValue(store)!;
            bool dry = parse.GetValue(dryRun);
            var outcomes = RunStoreMigration.MigrateStore(root, dry);
            foreach (var o in outcomes)
                Console.WriteLine(o.To is { } to
                    ? $"{(dry ? "would migrate" : "migrated")} {Path.GetFileName(o.From)} -> {Path.GetFileName(to)}"
                    : $"skipped {Path.GetFileName(o.From)}: {o.Reason}");
            int moved = outcomes.Count(o => o.To is not null), skipped = outcomes.Count - moved;
            Console.WriteLine($"{root}: {moved} run folder{(moved == 1 ? "" : "s")} {(dry ? "to migrate" : "migrated")}, {skipped} skipped" +
                              (outcomes.Count == 0 ? " (every folder is in the current layout)" : ""));
            return skipped > 0 ? 2 : 0;
        }));
        return new Command("store", "Maintain a run store.") { migrate };
    }
}
