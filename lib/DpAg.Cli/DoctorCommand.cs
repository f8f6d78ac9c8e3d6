using System.CommandLine;
using DpAg.Envs;
using DpAg.Nets;
using DpAg.Runtime;

namespace DpAg.Cli;

/// <summary>
/// <c>dpag doctor</c>: checks everything the kit needs before any work: the physics engine (Chipmunk2D), the notebook
/// kernel (Jupyter + the .NET kernel) and TorchSharp (loads and computes forward, backward, double backward, and the
/// CPU convolutions of a U-Net against float64, see <see cref="ConvolutionGuard"/>). Each
/// problem is printed with its fix; the exit code is 1 when the simulator or notebook tools are missing and 2 when
/// TorchSharp cannot run.
/// </summary>
internal static class DoctorCommand
{
    private static readonly Option<bool> RuntimeOnly = new("--runtime-only")
    {
        Description = "Check TorchSharp only (setup.sh uses it before the notebook kernel is registered).",
    };

    public static Command Create()
    {
        var command = new Command("doctor", "Check the kit's prerequisites: Chipmunk2D, Jupyter and the .NET kernel, TorchSharp natives, device, threads, a forward/backward/double-backward computation, and the CPU convolutions of two U-Nets against float64.")
            .WithRuntimeOptions();
        command.Options.Add(RuntimeOnly);
        command.SetAction(parse => Commands.Guarded(() =>
        {
            int missing = 0;
            if (!parse.GetValue(RuntimeOnly))
            {
                missing += Report("simulator", PushTEnv.CheckPhysicsEngine());
                missing += Report("notebooks", NotebookKernelCheck.Run());
            }
            var info = Commands.InitRuntime(parse);
            Console.WriteLine(RuntimeSelfTest.Run(info.Device));
            bool wrong = false;
            foreach (var (ok, line) in ConvolutionGuard.Survey())
            {
                if (ok) Console.WriteLine(line);
                else { Console.Error.WriteLine($"dpag: {line}"); wrong = true; }
            }
            return wrong ? 2 : missing == 0 ? 0 : 1;
        }));
        return command;
    }

    private static int Report(string what, (bool Ok, string Description) check)
    {
        if (check.Ok)
        {
            Console.WriteLine($"{what}: {check.Description}: OK");
            return 0;
        }
        Console.Error.WriteLine($"dpag: {what}: {check.Description}");
        return 1;
    }
}
