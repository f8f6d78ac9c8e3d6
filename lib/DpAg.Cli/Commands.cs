using System.CommandLine;
using DpAg.Runtime;

namespace DpAg.Cli;

/// <summary>The verbs of <c>dpag</c>; each lives in its own file and is listed here.</summary>
internal static class Commands
{
    public static IEnumerable<Command> All() =>
    [
        DoctorCommand.Create(),
        SmokeCommand.Create(),
        FixNativesCommand.Create(),
        DemosCommand.Create(),
        TrainCommand.Create(),
        EvalCommand.Create(),
        BenchCommand.Create(),
        ReportCommand.Create(),
        SpiralsCommand.Create(),
        ShipCommand.Create(),
        TorchCommands.Export(),
        TorchCommands.Import(),
        StudyCommand.Create(),
        SiteCommand.Create(),
        SpecCommand.Create(),
        StoreCommand.Create(),
    ];

    /// <summary>Options every torch-using verb shares.</summary>
    public static readonly Option<string> Device = new("--device")
    {
        Description = "auto (CUDA when built for it and present), cpu or cuda.",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("DPAG_DEVICE") ?? "auto",
    };

    public static readonly Option<bool> AllowCpuFallback = new("--allow-cpu-fallback")
    {
        Description = "With --device cuda: run on the CPU instead of failing when no CUDA device is usable.",
    };

    public static readonly Option<int?> Threads = new("--threads")
    {
        Description = "Intra-op threads (default: all cores).",
    };

    public static readonly Option<long> Seed = new("--seed")
    {
        Description = "Random seed.",
        DefaultValueFactory = _ => 0,
    };

    /// <summary>Runs a verb body with clear one-line errors instead of stack traces for known failures.</summary>
    public static int Guarded(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (DpAg.Training.TrainingDivergedException e)
        {
            // A numerical fault: the message names the step and the loss term; the last good checkpoint is kept.
            Console.Error.WriteLine($"dpag: training stopped: {e.Message}");
            return 3;
        }
        catch (DpAg.Training.TrainingFaultException e)
        {
            Console.Error.WriteLine($"dpag: training stopped: {e.Message}");
            return 4;
        }
        catch (TypeInitializationException e) when (e.InnerException is DllNotFoundException or EntryPointNotFoundException)
        {
            Console.Error.WriteLine($"dpag: error: {e.InnerException.Message}");
            return 2;
        }
        catch (Exception e) when (e is TorchRuntimeException or DllNotFoundException or ArgumentException or InvalidDataException or IOException
                                      or DpAg.Data.DatasetFormatException or InvalidOperationException)
        {
            Console.Error.WriteLine($"dpag: error: {e.Message}");
            return 2;
        }
    }

    /// <summary>Fails before any work when the Push-T physics engine cannot be loaded (the message has the fix).</summary>
    public static void RequirePhysicsEngine()
    {
        var (available, description) = DpAg.Envs.PushTEnv.CheckPhysicsEngine();
        if (!available) throw new DllNotFoundException(description);
    }

    public static RuntimeInfo InitRuntime(ParseResult parse) => TorchRuntime.Initialize(new RuntimeOptions(
        Device: TorchRuntime.ParseDevice(parse.GetValue(Device)),
        AllowCpuFallback: parse.GetValue(AllowCpuFallback) ? true : null,
        Threads: parse.GetValue(Threads),
        Seed: parse.GetValue(Seed)));

    public static Command WithRuntimeOptions(this Command command)
    {
        command.Options.Add(Device);
        command.Options.Add(AllowCpuFallback);
        command.Options.Add(Threads);
        command.Options.Add(Seed);
        return command;
    }
}
