using System.CommandLine;
using DpAg.Policies;

namespace DpAg.Cli;

/// <summary>
/// <c>dpag spec</c>: prints a full policy spec to edit and train with <c>dpag train --spec FILE</c>, so that changing a
/// term or flipping a sign needs no C#; <c>--check FILE</c> validates an edited one.
/// </summary>
internal static class SpecCommand
{
    public static Command Create()
    {
        var policy = new Option<string>("--policy") { Description = "dp or dp-ag.", DefaultValueFactory = _ => "dp-ag" };
        var preset = new Option<string?>("--preset") { Description = "DP-AG preset: released (the authors' code; the default) or paper (the paper's equations). Not for --policy dp." };
        var size = new Option<string>("--size") { Description = "Network size: tiny, small (5.4M, CPU), pusht-lowdim (65.8M, paper), pusht-image (paper, images).", DefaultValueFactory = _ => "small" };
        var check = new Option<string?>("--check") { Description = "Validate an edited spec file instead (unknown keys, values, shapes) and print it as it will be trained." };
        var command = new Command("spec", "Print a full policy spec (JSON) to edit and train with `dpag train --spec FILE`: dpag spec --policy dp-ag --preset paper --size small > my.json")
        {
            policy, preset, size, check,
        };
        command.SetAction(parse => Commands.Guarded(() =>
        {
            var spec = parse.GetValue(check) is { } path
                ? PolicySpec.Load(path)
                : PolicySpec.FromNames(parse.GetValue(policy)!, parse.GetValue(preset), parse.GetValue(size)!);
            Console.WriteLine(spec.ToJson());
            return 0;
        }));
        return command;
    }
}
