using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using DpAg.Evaluation;

namespace DpAg.Cli;

/// <summary><c>dpag ship</c>: exports a run's chosen weights as a policy the kit ships (data/policies/), with its record.</summary>
internal static class ShipCommand
{
    public static Command Create()
    {
        var runDir = new Option<string>("--run-dir") { Description = "The trained run folder.", Required = true };
        var checkpoint = new Option<string>("--checkpoint") { Description = "latest, best or a kept step.", DefaultValueFactory = _ => "best" };
        var output = new Option<string>("--output") { Description = "The folder to write (replaced), e.g. data/policies/dp.", Required = true };
        var command = new Option<string?>("--train-command") { Description = "The command that trained the run, for the record." };
        var verb = new Command("ship", "Export a trained run's EMA weights (with spec, normaliser and a record of how it was made and what it scores) as a shipped policy.")
        {
            runDir, checkpoint, output, command,
        }.WithRuntimeOptions();
        verb.SetAction(parse => Commands.Guarded(() =>
        {
            Commands.RequirePhysicsEngine();
            var info = Commands.InitRuntime(parse);
            string dir = parse.GetValue(runDir)!;
            var record = new JsonObject
            {
                ["train_command"] = parse.GetValue(command),
                ["source_run"] = Path.GetFileName(Path.GetFullPath(dir).TrimEnd('/')),
                ["commit"] = Git("rev-parse", "HEAD"),
                ["date_utc"] = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm"),
                ["machine"] = ShippedPolicy.Machine(),
                ["threads"] = info.Threads,
            };
            var written = ShippedPolicy.Export(dir, parse.GetValue(checkpoint)!, parse.GetValue(output)!, record, info.Device);
            Console.WriteLine(written.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
            return 0;
        }));
        return verb;
    }

    private static string? Git(params string[] args)
    {
        try
        {
            var start = new ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in args) start.ArgumentList.Add(a);
            using var p = Process.Start(start)!;
            var text = p.StandardOutput.ReadToEnd().Trim();
            p.WaitForExit();
            return p.ExitCode == 0 ? text : null;
        }
        catch (System.ComponentModel.Win32Exception) { return null; }
    }
}
