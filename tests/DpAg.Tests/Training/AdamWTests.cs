using DpAg.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Tests.Training;

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
            opt.step();
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
