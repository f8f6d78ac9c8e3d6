using System.CommandLine;
using DpAg.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Cli;

/// <summary><c>dpag doctor</c>: checks that TorchSharp loads and computes (forward, backward, double backward).</summary>
internal static class DoctorCommand
{
    public static Command Create()
    {
        var command = new Command("doctor", "Check the runtime: natives, device, threads, and a forward/backward/double-backward computation.")
            .WithRuntimeOptions();
        command.SetAction(parse => Commands.Guarded(() =>
        {
            var info = Commands.InitRuntime(parse);
            var check = RuntimeSelfTest.Run(info.Device);
            Console.WriteLine(check);
            return 0;
        }));
        return command;
    }
}
