using System.CommandLine;
using System.Globalization;
using DpAg.Envs.Expert;

namespace DpAg.Cli;

/// <summary><c>dpag demos</c>: records Push-T expert demonstrations as a zarr replay buffer with the official keys.</summary>
internal static class DemosCommand
{
    public static Command Create()
    {
        var episodes = new Option<int>("--episodes") { Description = "Successful episodes to keep.", DefaultValueFactory = _ => 100 };
        var seed = new Option<long>("--seed") { Description = "First reset seed; seeds are tried in order (evaluation uses 100000..100049).", DefaultValueFactory = _ => 0 };
        var output = new Option<string>("--output") { Description = "Zarr folder to write (replaced atomically).", DefaultValueFactory = _ => "data/pusht_expert.zarr" };
        var images = new Option<bool>("--images") { Description = "Also record 96x96 RGB images (data/img, float32 0..255)." };
        var workers = new Option<int>("--workers") { Description = "Episodes simulated in parallel (results do not depend on it).", DefaultValueFactory = _ => Math.Max(1, Environment.ProcessorCount) };
        var maxSteps = new Option<int>("--max-steps") { Description = "Env steps per episode before it is dropped.", DefaultValueFactory = _ => 300 };
        var legacy = new Option<bool>("--legacy-reset") { Description = "Use the evaluation (legacy) reset placement instead of the data-collection one." };
        var evaluate = new Option<bool>("--evaluate") { Description = "Only run the expert on exactly --episodes seeds and print success rate and coverage (writes nothing); with --seed 100000 --episodes 50 --legacy-reset it follows the evaluation protocol." };
        var dartNoise = new Option<double>("--dart-noise") { Description = "DART: std (px) of Gaussian noise added to each coordinate of the EXECUTED action (clipped to [0, 512]); the stored label stays the expert's clean action. Seeded from each episode's seed. 0 (default) records clean demonstrations.", DefaultValueFactory = _ => 0 };
        var dartFraction = new Option<double>("--dart-fraction") { Description = "DART: fraction of episodes recorded with noise (the rest clean), chosen deterministically from each seed.", DefaultValueFactory = _ => 1 };
        var command = new Command("demos", "Record Push-T expert demonstrations (state, keypoint, action, n_contacts; img on request) into a zarr replay buffer.")
        {
            episodes, seed, output, images, workers, maxSteps, legacy, evaluate, dartNoise, dartFraction,
        };
        command.SetAction(parse => Commands.Guarded(() =>
        {
            var options = new PushTDemoOptions
            {
                Episodes = parse.GetValue(episodes),
                FirstSeed = parse.GetValue(seed),
                Images = parse.GetValue(images),
                Workers = parse.GetValue(workers),
                MaxSteps = parse.GetValue(maxSteps),
                LegacyReset = parse.GetValue(legacy),
                DartNoise = parse.GetValue(dartNoise),
                DartFraction = parse.GetValue(dartFraction),
            };
            options.Validate();
            Commands.RequirePhysicsEngine();
            string dart = options.DartNoise > 0
                ? string.Create(CultureInfo.InvariantCulture, $", DART noise {options.DartNoise} px on {options.DartFraction:P0} of episodes")
                : "";
            if (parse.GetValue(evaluate))
            {
                var eval = PushTDemoRecorder.Evaluate(options);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"demos --evaluate: seeds {options.FirstSeed}..{options.FirstSeed + options.Episodes - 1} ({(options.LegacyReset ? "legacy" : "data-collection")} reset, {options.MaxSteps} steps{dart}): " +
                    $"success={eval.SuccessRate:P1} mean_max_coverage={eval.MeanMaxCoverage:F4} mean_success_length={eval.MeanLength:F1} failed=[{string.Join(", ", eval.DroppedSeeds)}] wall={eval.Elapsed.TotalSeconds:F1}s"));
                return 0;
            }
            string path = parse.GetValue(output)!;
            Console.WriteLine($"demos: {options.Episodes} episodes from seed {options.FirstSeed}, {options.Workers} worker(s), " +
                $"{(options.LegacyReset ? "legacy" : "data-collection")} reset, images {(options.Images ? "on" : "off")}{dart} -> {path}");
            var (recorded, summary) = PushTDemoRecorder.Generate(options, (e, keptCount) =>
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  seed {e.Seed}: {(e.Success ? "kept   " : "dropped")}{(e.Noisy ? " noisy" : "")} steps={e.Length} max_coverage={e.MaxCoverage:F3} ({keptCount}/{options.Episodes} kept)")));
            PushTDemoRecorder.Save(path, recorded, options, summary);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"demos: {summary}"));
            Console.WriteLine($"demos: wrote {Path.GetFullPath(path)}");
            return 0;
        }));
        return command;
    }
}
