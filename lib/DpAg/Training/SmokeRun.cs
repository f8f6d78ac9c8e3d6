using DpAg.Optim;
using DpAg.Nets;
using DpAg.Runtime;
using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DpAg.Training;

/// <summary>
/// A two-minute proof that the stack trains: an MLP fits a noisy sine on synthetic data with AdamW.
/// Writes the loss curve as CSV and PNG.
/// </summary>
public static class SmokeRun
{
    /// <summary>Trains for <paramref name="steps"/> steps and returns a one-line report.</summary>
    public static string Run(int steps, string outputDir, Device device, long seed)
    {
        if (steps <= 0) throw new ArgumentException($"--steps must be positive, got {steps}.");
        torch.manual_seed(seed);
        Directory.CreateDirectory(outputDir);
        var net = Sequential(Linear(1, 64), new Mish(), Linear(64, 64), new Mish(), Linear(64, 1)).to(device);
        using var optimizer = new AdamW(net.parameters(), lr: 3e-3);
        var losses = new List<double>(steps);
        for (int step = 0; step < steps; step++)
        {
            using var scope = torch.NewDisposeScope();
            var x = torch.rand(256, 1, device: device).Times(6).Minus(3);
            var y = torch.sin(x).Plus(torch.randn_like(x).Times(0.05));
            var loss = functional.mse_loss(net.forward(x), y);
            optimizer.ZeroGrad();
            loss.backward();
            optimizer.Step();
            losses.Add(loss.item<float>());
        }
        var csv = Path.Combine(outputDir, "loss.csv");
        DpAg.IO.AtomicFile.WriteAllText(csv, "step,loss\n" + string.Join("\n", losses.Select((l, i) => $"{i},{l.ToString("R", CultureInfo.InvariantCulture)}")) + "\n");
        var plot = new ScottPlot.Plot();
        plot.Add.Scatter(Enumerable.Range(0, steps).Select(i => (double)i).ToArray(), losses.ToArray());
        plot.Axes.Left.Label.Text = "MSE loss";
        plot.Axes.Bottom.Label.Text = "step";
        plot.Title("Smoke run: MLP fits sin(x)");
        var png = Path.Combine(outputDir, "loss.png");
        plot.SavePng(png, 640, 400);
        double first = losses.Take(10).Average(), last = losses.TakeLast(10).Average();
        if (!(last < first)) throw new InvalidOperationException($"The smoke run did not learn: loss {first:G4} -> {last:G4}.");
        return $"smoke: {steps} steps on {device.type.ToString().ToLowerInvariant()}, loss {first:G4} -> {last:G4}; wrote {csv} and {png}";
    }
}
