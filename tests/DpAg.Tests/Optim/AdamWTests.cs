using DpAg.Optim;
using DpAg.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Tests.Optim;

public class AdamWTests
{
    [Fact]
    public void Two_steps_match_the_hand_computed_update_with_weight_decay()
    {
        Torch.Init();
        var config = new TrainConfig { LearningRate = 0.1, Beta1 = 0.95, Beta2 = 0.999, Eps = 1e-8, WeightDecay = 0.01 };
        double[] p0 = [1.5, -2.0, 0.25];
        using var p = new TorchSharp.Modules.Parameter(torch.tensor(p0, dtype: ScalarType.Float64));
        using var opt = Trainer.CreateOptimizer([p], config);
        double[][] grads = [[0.3, -1.2, 0.0], [-0.5, 2.0, 0.1]];

        double[] expected = (double[])p0.Clone(), m = new double[3], v = new double[3];
        for (int t = 1; t <= 2; t++)
        {
            p.grad = torch.tensor(grads[t - 1], dtype: ScalarType.Float64);
            opt.Step();
            double lr = config.LearningRate, b1 = config.Beta1, b2 = config.Beta2;
            for (int i = 0; i < 3; i++)
            {
                double g = grads[t - 1][i];
                expected[i] *= 1 - lr * config.WeightDecay;                  // decoupled weight decay
                m[i] = b1 * m[i] + (1 - b1) * g;
                v[i] = b2 * v[i] + (1 - b2) * g * g;
                double mHat = m[i] / (1 - Math.Pow(b1, t)), vHat = v[i] / (1 - Math.Pow(b2, t));
                expected[i] -= lr * mHat / (Math.Sqrt(vHat) + config.Eps);
            }
            var got = p.data<double>().ToArray();
            for (int i = 0; i < 3; i++) Assert.Equal(expected[i], got[i], 12);
        }
    }
}

/// <summary>The kit's AdamW against PyTorch's <c>torch.optim.AdamW</c> (Debian's python3-torch, bench/reference/adamw.py).</summary>
public class AdamWPyTorchTests
{
    [Fact]
    public void A_thousand_steps_equal_PyTorch_within_float32_rounding()
    {
        Torch.Init();
        var (version, detail) = DpAg.Benchmarks.PyTorchReference.Probe();
        Assert.True(version is not null, $"The PyTorch reference needs {DpAg.Benchmarks.PyTorchReference.DefaultPython} with torch: {detail}.");
        var scripts = DpAg.Benchmarks.PyTorchReference.FindScripts();
        Assert.True(scripts is not null, "bench/reference/adamw.py not found above the working or test folder.");
        const int steps = 1000, n = 257;
        using var scope = torch.NewDisposeScope();
        var g = new torch.Generator(11);
        var p0 = torch.randn([n], generator: g);
        // Gradients of changing scale (some near zero, where eps matters) and a warm-up + cosine learning rate.
        var grads = torch.randn([steps, n], generator: g) * torch.logspace(-6, 1, n).unsqueeze(0);
        double[] lrs = Enumerable.Range(0, steps).Select(s => s < 50 ? 1e-3 * s / 50 : 1e-3 * 0.5 * (1 + Math.Cos(Math.PI * (s - 50) / (steps - 50)))).ToArray();
        var config = new TrainConfig { Beta1 = 0.95, Beta2 = 0.999, Eps = 1e-8, WeightDecay = 1e-2 };
        using var dir = new DpAg.Tests.Data.TempDir();
        DpAg.IO.TensorExchange.Save(Path.Combine(dir.Path, "inputs.safetensors"), new Dictionary<string, Tensor>
        {
            ["p0"] = p0, ["grads"] = grads, ["lrs"] = torch.tensor(lrs, dtype: ScalarType.Float64),
            ["hyper"] = torch.tensor(new[] { config.Beta1, config.Beta2, config.Eps, config.WeightDecay }, dtype: ScalarType.Float64),
        });
        var run = DpAg.Benchmarks.PyTorchReference.Run(DpAg.Benchmarks.PyTorchReference.DefaultPython, [Path.Combine(scripts!, "adamw.py"), dir.Path], TimeSpan.FromSeconds(120));
        Assert.True(run.ExitCode == 0, $"adamw.py failed ({run.ExitCode}): {run.Stderr}");
        var expected = DpAg.IO.TensorExchange.Load(Path.Combine(dir.Path, "outputs.safetensors"));

        using var p = new TorchSharp.Modules.Parameter(p0.clone());
        using var opt = Trainer.CreateOptimizer([p], config);
        double worst = 0;
        for (int s = 0; s < steps; s++)
        {
            opt.LearningRate = lrs[s];
            p.grad = grads[s].clone();
            opt.Step();
            if ((s + 1) % 100 != 0) continue;
            var want = expected[$"p.{s + 1}"];
            // float32 rounding: a few ulps of each value (the two builds may fuse or order the float ops differently).
            var error = (p.detach() - want).abs() / (want.abs() + 1e-6);
            worst = Math.Max(worst, error.max().item<float>());
        }
        Assert.True(worst < 1e-5, $"largest relative difference to PyTorch over {steps} steps: {worst:G3}");
        Assert.Equal(steps, opt.StepCount);
    }
}
