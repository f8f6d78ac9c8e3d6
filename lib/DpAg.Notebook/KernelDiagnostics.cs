using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Events;

namespace DpAg.Notebook;

/// <summary>
/// Gives notebook cells the compiler policy every .NET SDK build has: CS1701 and CS1702 off.
/// <para>
/// TorchSharp 0.107 is built for .NET 8, so it references System.Runtime.Numerics 8.0; the kernel runs on .NET 10 and
/// compiles cells against 10.0. Whenever a cell binds a TorchSharp overload that mentions System.Numerics.Complex
/// (every <c>torch.tensor(...)</c> call does), Roslyn reports CS1701 "Assuming assembly reference ... 8.0 matches
/// identity ... 10.0, you may need to supply runtime policy". Runtime policy (binding redirects) exists only on .NET
/// Framework; .NET binds a reference to any equal or higher version, so the message never describes a problem. That is
/// why Microsoft.NET.Sdk puts <c>1701;1702</c> in every project's NoWarn (the kit's own builds never show it), but the
/// scripting compiler the kernel uses has no such option (Roslyn's ScriptOptions cannot set diagnostic options).
/// The cause cannot be removed in the kit short of a TorchSharp build for .NET 10, so the kernel's diagnostics event
/// drops exactly these two codes before the notebook front end writes them; every other warning and error still shows.
/// </para>
/// </summary>
internal static partial class KernelDiagnostics
{
    /// <summary>The codes the .NET SDK suppresses by default (Microsoft.NET.Sdk.CSharp.props: NoWarn 1701;1702).</summary>
    internal static readonly string[] BindingRedirectCodes = ["CS1701", "CS1702"];

    private static int _installed;

    /// <summary>Subscribes once to the root kernel's events; no-op outside a kernel or if the event type changed.</summary>
    public static void Install()
    {
        if (Kernel.Root is not { } root) return;
        if (Interlocked.Exchange(ref _installed, 1) == 1) return;
        var diagnosticsField = BackingField(nameof(DiagnosticsProduced.Diagnostics));
        var formattedField = BackingField(nameof(DiagnosticsProduced.FormattedDiagnostics));
        // If dotnet-interactive changes its event type the warnings come back; the notebook tests' output scan says so.
        if (diagnosticsField is null || formattedField is null) return;
        // The front end's per-request subscription is made after this one, so it sees the filtered event.
        root.KernelEvents.Subscribe(new Filter(diagnosticsField, formattedField));
    }

    private sealed class Filter(FieldInfo diagnosticsField, FieldInfo formattedField) : IObserver<KernelEvent>
    {
        public void OnNext(KernelEvent value)
        {
            if (value is not DiagnosticsProduced produced || !produced.Diagnostics.Any(d => IsBindingRedirect(d.Code))) return;
            diagnosticsField.SetValue(produced, produced.Diagnostics.Where(d => !IsBindingRedirect(d.Code)).ToArray());
            formattedField.SetValue(produced, produced.FormattedDiagnostics.Where(f => !IsBindingRedirectText(f.Value)).ToArray());
        }

        public void OnError(Exception error) { }

        public void OnCompleted() { }
    }

    internal static bool IsBindingRedirect(string? code) => code is not null && BindingRedirectCodes.Contains(code, StringComparer.OrdinalIgnoreCase);

    /// <summary>True for Roslyn's text of a CS1701/CS1702 diagnostic ("warning CS1701: ...", with or without a location).</summary>
    internal static bool IsBindingRedirectText(string? text) => text is not null && BindingRedirectText().IsMatch(text);

    [GeneratedRegex(@"^\s*(\S*\(\d+,\d+\):\s*)?warning CS170[12]:", RegexOptions.CultureInvariant)]
    private static partial Regex BindingRedirectText();

    private static FieldInfo? BackingField(string property) =>
        typeof(DiagnosticsProduced).GetField($"<{property}>k__BackingField", BindingFlags.Instance | BindingFlags.NonPublic);
}
