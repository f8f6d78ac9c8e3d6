using System.CommandLine;

namespace DpAg.Cli;

/// <summary><c>dpag smoke</c>: a tiny CPU training run on synthetic data, to prove the whole stack end to end.</summary>
internal static class SmokeCommand
{
    public static Command Create()
    {
        var steps = new Option<int>("--steps") { Description = "Training steps.", DefaultValueFactory = _ => 300 };
        var output = new Option<string>("--output") { Description = "Folder for the loss log and figure.", DefaultValueFactory = _ => "artifacts/smoke" };
        var command = new Command("smoke", "Train a small network on synthetic data for a few hundred steps and write its loss curve.")
        {
            steps, output,
        }.WithRuntimeOptions();
        command.SetAction(parse => Commands.Guarded(() =>
        {
            var info = Commands.InitRuntime(parse);
            var result = DpAg.Training.SmokeRun.Run(parse.GetValue(steps), parse.GetValue(output)!, info.Device, parse.GetValue(Commands.Seed));
            Console.WriteLine(result);
            return 0;
        }));
        return command;
    }
}
