using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using DpAg.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Nets;

/// <summary>
/// Checks that PyTorch's CPU convolutions compute a U-Net correctly, and switches them to PyTorch's own kernels when
/// they do not.
/// </summary>
/// <remarks>
/// <para>Why: on an AVX-512 AMD EPYC (the kit's CI machine, 2026-12) oneDNN, the library behind PyTorch's CPU
/// convolutions, reads memory it never wrote for some channel counts. Input gradients of a width-8 or width-24 Conv1d
/// (kernel 3 or 5) and the output of a width-48 ConvTranspose1d come out wrong, or NaN when that memory held NaN.
/// A U-Net with DownDims (8, 16), (24, 48) or (48, 96) is then trained on wrong gradients; the kit's presets
/// (16/32/64, 64/128/256, 256/512/1024) compute correctly. Nothing in PyTorch reports it.</para>
/// <para>How: <see cref="MeasureError"/> fills freed memory with NaN, runs the U-Net forward and backward in float32
/// at batch 2, and compares the output and the gradients (inputs and weights) with a float64 copy of the same weights.
/// <see cref="EnsureCorrect"/> does that once per U-Net shape per process; when the error exceeds
/// <see cref="Tolerance"/> it turns oneDNN off for the process (<see cref="OneDnn.TurnOff"/>), measures again, and reports the switch on stderr.
/// Shapes that compute correctly keep oneDNN, so their speed and numbers do not change.</para>
/// </remarks>
public static class ConvolutionGuard
{
    /// <summary>Largest relative error (max |float32 - float64| / max |float64|) accepted; float32 rounding gives about 1e-6.</summary>
    public const double Tolerance = 1e-3;

    private static readonly ConcurrentDictionary<string, double> Checked = new();
    private static readonly object Gate = new();

    /// <summary>
    /// The relative error of <paramref name="net"/> in float32 on this CPU against float64, over its output and the
    /// gradients with respect to its inputs and weights, at batch <paramref name="batch"/> with freed memory filled with NaN
    /// (infinity when a result is not finite). The net's weights, gradients and the global random state are untouched.
    /// </summary>
    /// <param name="net">A U-Net on the CPU.</param>
    /// <param name="horizon">Length of the action sequence (a multiple of <see cref="UnetConfig.HorizonMultiple"/>).</param>
    /// <param name="batch">Batch size of the check (the faults seen need 2 or more).</param>
    public static double MeasureError(ConditionalUnet1D net, int horizon, int batch = 2)
    {
        ArgumentNullException.ThrowIfNull(net);
        if (horizon < 1 || horizon % net.Config.HorizonMultiple != 0)
            throw new ArgumentException($"horizon = {horizon} must be a positive multiple of {net.Config.HorizonMultiple} for DownDims ({string.Join(", ", net.Config.DownDims)}).", nameof(horizon));
        if (batch < 1) throw new ArgumentException($"batch = {batch} must be at least 1.", nameof(batch));
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(20261201);
        var sample = torch.randn([batch, horizon, net.InputDim], generator: generator);
        var timestep = torch.randint(0, 100, [batch], generator: generator);
        var cond = net.GlobalCondDim > 0 ? torch.randn([batch, net.GlobalCondDim], generator: generator) : null;

        using (var reference = BuildKeepingRandomState(net.Config, net.InputDim, net.GlobalCondDim))
        {
            reference.to(float64);
            using (torch.no_grad())
            {
                foreach (var (source, copy) in net.parameters().Zip(reference.parameters()))
                    copy.copy_(source);
            }
            var (output32, grads32) = ForwardBackward(net, sample, timestep, cond, poison: true);
            var (output64, grads64) = ForwardBackward(reference, sample.to(float64), timestep, cond?.to(float64), poison: false);
            double error = RelativeError(output32, output64);
            for (int i = 0; i < grads32.Length; i++) error = Math.Max(error, RelativeError(grads32[i], grads64[i]));
            return error;
        }
    }

    /// <summary>
    /// Makes sure <paramref name="net"/> computes correctly on this CPU (once per shape per process): measures it and,
    /// when the error exceeds <see cref="Tolerance"/>, turns oneDNN off for the process and measures again.
    /// </summary>
    /// <returns>The error the net now computes with (0 for a net that is not on the CPU: nothing is checked).</returns>
    /// <exception cref="InvalidOperationException">Still wrong without oneDNN; the message names the shape and the fix.</exception>
    public static double EnsureCorrect(ConditionalUnet1D net, int horizon, TextWriter? log = null)
    {
        ArgumentNullException.ThrowIfNull(net);
        // Only CPU convolutions go through oneDNN: a process that runs on a GPU, or a net already there, has nothing to check.
        if (TorchRuntime.Current is { } info && info.Device.type != DeviceType.CPU) return 0.0;
        if (net.parameters().FirstOrDefault() is { } first && first.device_type != DeviceType.CPU) return 0.0;
        var c = net.Config;
        // The whole config as JSON (its DownDims list compares by reference in the record), plus what else shapes the net.
        string shape = $"{JsonSerializer.Serialize(c)}|a{net.InputDim}|c{net.GlobalCondDim}|h{horizon}";
        string Key() => $"{shape}|{(OneDnn.TurnedOff ? "own" : "onednn")}";
        if (Checked.TryGetValue(Key(), out double known)) return known;
        lock (Gate)
        {
            double error = MeasureError(net, horizon);
            string dims = string.Join(", ", c.DownDims);
            if (error > Tolerance && !OneDnn.TurnedOff)
            {
                OneDnn.TurnOff($"the U-Net with DownDims ({dims}) computes wrongly with it (relative error {Format(error)} against float64)");
                double without = MeasureError(net, horizon);
                (log ?? Console.Error).WriteLine(
                    $"DpAg: oneDNN computes the U-Net with DownDims ({dims}) wrongly on this CPU (relative error {Format(error)} against float64); " +
                    $"convolutions use PyTorch's own CPU kernels for the rest of this process (error {Format(without)}; slower). The presets' widths are not affected.");
                error = without;
            }
            if (error > Tolerance)
                throw new InvalidOperationException(
                    $"The U-Net with DownDims ({dims}) computes wrongly on this CPU{(OneDnn.TurnedOff ? " even without oneDNN" : "")} " +
                    $"(relative error {Format(error)} against float64). Choose other widths (the presets' 16/32/64 or 64/128/256 are correct) or train on a GPU.");
            Checked[Key()] = error;
            return error;
        }
    }

    private static string Format(double value) => value.ToString("G2", CultureInfo.InvariantCulture);

    /// <summary>
    /// For <c>dpag doctor</c>: the error of the small preset's U-Net (64, 128, 256) and of a U-Net (8, 16) that some
    /// CPUs' oneDNN computes wrongly, the latter after <see cref="EnsureCorrect"/>; one line each, ending in OK or FAILED.
    /// </summary>
    public static IReadOnlyList<(bool Ok, string Line)> Survey(int horizon = 16, int actionDim = 2, int globalCondDim = 40)
    {
        var lines = new List<(bool, string)>();
        foreach (var dims in new[] { new[] { 64, 128, 256 }, new[] { 8, 16 } })
        {
            using (var net = BuildKeepingRandomState(new UnetConfig { DownDims = dims, DiffusionStepEmbedDim = 32, NGroups = 4 }, actionDim, globalCondDim))
            {
                double raw = MeasureError(net, horizon);
                string kernels = OneDnn.TurnedOff ? "PyTorch's own kernels (oneDNN off)" : "oneDNN";
                string shape = $"CPU convolutions, U-Net ({string.Join(", ", dims)}): relative error {Format(raw)} against float64 with {kernels}";
                if (raw <= Tolerance) { lines.Add((true, $"{shape}: OK")); continue; }
                try
                {
                    double now = EnsureCorrect(net, horizon, TextWriter.Null);
                    lines.Add((now <= Tolerance && OneDnn.TurnedOff, $"{shape} (faulty on this CPU); {Format(now)} with PyTorch's own kernels, which the kit switches to for a U-Net it affects: {(now <= Tolerance ? "OK" : "FAILED")}"));
                }
                catch (InvalidOperationException e)
                {
                    lines.Add((false, $"{shape}: FAILED: {e.Message}"));
                }
            }
        }
        // After a switch the native symbols are known to exist: ask libtorch whether it took effect.
        if (OneDnn.TurnedOff) lines.Add((!OneDnn.Enabled, $"CPU convolutions: libtorch reports oneDNN {(OneDnn.Enabled ? "on (the switch did not take effect): FAILED" : "off: OK")}"));
        return lines;
    }

    /// <summary>A U-Net for the check; building a module draws its initial weights from the global generator, whose state is put back.</summary>
    private static ConditionalUnet1D BuildKeepingRandomState(UnetConfig config, int inputDim, int globalCondDim)
    {
        using var rng = torch.get_rng_state();
        var net = new ConditionalUnet1D(config, inputDim, globalCondDim);
        torch.set_rng_state(rng);
        return net;
    }

    private static (Tensor Output, Tensor[] Grads) ForwardBackward(ConditionalUnet1D net, Tensor sample, Tensor timestep, Tensor? cond, bool poison)
    {
        var x = sample.detach().clone().requires_grad_(true);
        var c = cond?.detach().clone().requires_grad_(true);
        using var grad = torch.enable_grad();
        if (poison) PoisonFreedMemory();
        var output = net.forward(x, timestep, c);
        if (poison) PoisonFreedMemory();
        // Gradients with respect to the inputs (oneDNN's backward-data kernels) and the weights (backward-weights);
        // autograd.grad returns them without touching the parameters' .grad.
        var inputs = (c is null ? new[] { x } : new[] { x, c }).Concat(net.parameters()).ToArray();
        var grads = torch.autograd.grad([output.mul(output).sum()], inputs);
        return (output.detach(), grads.Select(g => g.detach()).ToArray());
    }

    /// <summary>Allocates and frees NaN-filled blocks so that a kernel reading memory it never wrote gives NaN.</summary>
    private static void PoisonFreedMemory()
    {
        // All blocks live at once, so that malloc hands out (and later reuses) distinct chunks.
        using var nan = float.NaN.ToScalar();
        var blocks = new List<Tensor>();
        foreach (long size in new long[] { 1 << 10, 1 << 12, 1 << 14, 1 << 16, 1 << 18 })
            for (int i = 0; i < 8; i++) blocks.Add(torch.full([size], nan, dtype: float32));
        foreach (var block in blocks) block.Dispose();
    }

    private static double RelativeError(Tensor value, Tensor reference)
    {
        double scale = reference.abs().max().item<double>();
        double error = (value.to(float64) - reference).abs().max().item<double>() / Math.Max(scale, 1e-30);
        return double.IsFinite(error) ? error : double.PositiveInfinity;
    }
}
