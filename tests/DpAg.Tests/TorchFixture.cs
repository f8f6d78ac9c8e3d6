using DpAg.Runtime;

namespace DpAg.Tests;

/// <summary>Every test that touches torch calls this first: it initialises the kit's runtime once per test host.</summary>
public static class Torch
{
    private static readonly Lazy<RuntimeInfo> Info = new(() => TorchRuntime.Initialize(new RuntimeOptions(Device: DeviceRequest.Cpu, Threads: 1, Quiet: true)));

    /// <summary>Initialises the runtime (CPU, one thread per test so parallel tests do not oversubscribe) and seeds torch.</summary>
    public static RuntimeInfo Init(long? seed = null)
    {
        var info = Info.Value;
        if (seed is { } s) TorchSharp.torch.manual_seed(s);
        return info;
    }
}
