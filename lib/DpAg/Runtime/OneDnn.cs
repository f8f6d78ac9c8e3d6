using System.Runtime.InteropServices;

namespace DpAg.Runtime;

/// <summary>
/// The switch between oneDNN (mkldnn) and PyTorch's own kernels for CPU convolutions, process-wide: what Python's
/// <c>torch.backends.mkldnn.enabled = False</c> sets (at::Context::setUserEnabledMkldnn). TorchSharp does not expose
/// it, so the symbols are looked up in the libtorch_cpu the runtime loaded, and only when the switch is used.
/// </summary>
/// <remarks>Used by <see cref="Nets.ConvolutionGuard"/> for a U-Net this CPU's oneDNN computes wrongly, and by
/// <see cref="TorchRuntime"/> for <c>DPAG_ONEDNN=off</c>.</remarks>
public static class OneDnn
{
    private static readonly object Gate = new();
    private static volatile bool _turnedOff;

    /// <summary>Whether PyTorch may use oneDNN for CPU convolutions in this process (asks libtorch).</summary>
    public static bool Enabled => Native.UserEnabledMkldnn(Native.Context());

    /// <summary>Whether <see cref="TurnOff"/> has run in this process.</summary>
    public static bool TurnedOff => _turnedOff;

    /// <summary>Turns oneDNN off for the rest of the process (PyTorch's own CPU convolution kernels are used instead).</summary>
    /// <param name="why">Why, for the error when this libtorch offers no switch.</param>
    public static void TurnOff(string why)
    {
        lock (Gate)
        {
            if (_turnedOff) return;
            try
            {
                Native.SetUserEnabledMkldnn(Native.Context(), false);
            }
            catch (Exception e) when (e is InvalidOperationException or DllNotFoundException or EntryPointNotFoundException)
            {
                throw new InvalidOperationException(
                    $"oneDNN must be turned off because {why}, but this libtorch offers no switch ({e.Message}). " +
                    "Choose other U-Net widths (the presets' 16/32/64 or 64/128/256 are correct) or train on a GPU.", e);
            }
            _turnedOff = true;
        }
    }

    /// <summary>at::globalContext() and the mkldnn switch, looked up in the libtorch_cpu the runtime loaded.</summary>
    private static unsafe class Native
    {
        private static readonly Lazy<(IntPtr Context, IntPtr Get, IntPtr Set)> Symbols = new(Load);

        public static IntPtr Context() => ((delegate* unmanaged<IntPtr>)Symbols.Value.Context)();
        public static bool UserEnabledMkldnn(IntPtr context) => ((delegate* unmanaged<IntPtr, byte>)Symbols.Value.Get)(context) != 0;
        public static void SetUserEnabledMkldnn(IntPtr context, bool enabled) => ((delegate* unmanaged<IntPtr, byte, void>)Symbols.Value.Set)(context, enabled ? (byte)1 : (byte)0);

        private static (IntPtr, IntPtr, IntPtr) Load()
        {
            string? directory = TorchRuntime.Current?.NativeDirectory;
            string file = OperatingSystem.IsWindows() ? "torch_cpu.dll" : OperatingSystem.IsMacOS() ? "libtorch_cpu.dylib" : "libtorch_cpu.so";
            IntPtr library = directory is not null && File.Exists(Path.Combine(directory, file))
                ? NativeLibrary.Load(Path.Combine(directory, file))
                : NativeLibrary.Load(file);
            // Itanium C++ names: at::globalContext(), at::Context::userEnabledMkldnn() const, at::Context::setUserEnabledMkldnn(bool).
            return (Export(library, "_ZN2at13globalContextEv"),
                    Export(library, "_ZNK2at7Context17userEnabledMkldnnEv"),
                    Export(library, "_ZN2at7Context20setUserEnabledMkldnnEb"));
        }

        private static IntPtr Export(IntPtr library, string name) =>
            NativeLibrary.TryGetExport(library, name, out var address)
                ? address
                : throw new InvalidOperationException($"libtorch_cpu has no symbol {name}; the convolution check needs a libtorch built with the Itanium C++ ABI (Linux or macOS).");
    }
}
