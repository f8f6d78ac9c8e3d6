namespace DpAg.Tests.Runtime;

/// <summary>
/// Runs kit code while a background thread forces garbage collections and finalizers without pause: the condition
/// under which TorchSharp's implicitly made scalars are freed while libtorch still reads them (docs/CONTRIBUTING.md,
/// "Scalars"). A fault shows as an exception from the body (<c>Scalar.h</c>), and a silently wrong number as a
/// result that differs from the same code run without stress.
/// </summary>
public static class GcStress
{
    /// <summary>
    /// How much work the stress tests do: 1 in CI (40 training steps per policy, 2 DDPM and 10 DDIM reverse loops, 4
    /// episodes); N &gt; 1 gives 200 N steps, 10 N loops per sampler and 50 episodes (<c>DPAG_STRESS=100</c>: 20,000
    /// steps, 1,000 loops, the acceptance size of the fix).
    /// </summary>
    public static int Scale => int.TryParse(Environment.GetEnvironmentVariable("DPAG_STRESS"), out var s) && s > 0 ? s : 1;

    /// <summary>
    /// The generation the stress thread collects: 2 (default) forces full collections, the reproduction;
    /// DPAG_STRESS_GEN=0 collects only the youngest generation (where just-dropped scalars are).
    /// </summary>
    public static int Generation => int.TryParse(Environment.GetEnvironmentVariable("DPAG_STRESS_GEN"), out var g) && g is >= 0 and <= 2 ? g : 2;

    /// <summary>Runs <paramref name="body"/> under stress; returns how many collections the stress thread forced.</summary>
    public static long Run(Action body)
    {
        using var stop = new CancellationTokenSource();
        long collections = 0;
        var thread = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                GC.Collect(Generation, GCCollectionMode.Forced, blocking: true);
                GC.WaitForPendingFinalizers();
                collections++;
            }
        }) { IsBackground = true, Name = "gc-stress" };
        thread.Start();
        try { body(); }
        finally
        {
            stop.Cancel();
            thread.Join();
        }
        return collections;
    }
}
