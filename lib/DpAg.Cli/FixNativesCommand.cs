using System.CommandLine;
using DpAg.Runtime;

namespace DpAg.Cli;

/// <summary><c>dpag fix-natives DIR</c>: applies the libstdc++ compatibility fix to the LibTorchSharp copy in a build folder.</summary>
internal static class FixNativesCommand
{
    public static Command Create()
    {
        var folder = new Argument<string>("folder") { Description = "A build output folder (holding runtimes/<rid>/native/libLibTorchSharp.so)." };
        var command = new Command("fix-natives", "Apply the libstdc++ compatibility fix to a build folder's LibTorchSharp where this system needs it (idempotent).") { folder };
        command.SetAction(parse => Commands.Guarded(() =>
        {
            string dir = parse.GetValue(folder)!;
            var library = new[] { Path.Combine(dir, "runtimes", "linux-x64", "native", "libLibTorchSharp.so"), Path.Combine(dir, "libLibTorchSharp.so") }
                .FirstOrDefault(File.Exists)
                ?? throw new FileNotFoundException($"No libLibTorchSharp.so under {dir} (looked in runtimes/linux-x64/native and the folder itself). Build the kit first.");
            var patched = OperatingSystem.IsLinux() ? LibStdCxxCompat.EnsureLoadable(library) : [];
            Console.WriteLine(patched.Count > 0 ? $"{library}: marked {string.Join(", ", patched)} weak" : $"{library}: nothing to do on this system");
            return 0;
        }));
        return command;
    }
}
