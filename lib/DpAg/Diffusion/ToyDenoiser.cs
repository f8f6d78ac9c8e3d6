using DpAg.Optim;
using DpAg.Nets;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DpAg.Diffusion;

/// <summary>
/// A small MLP noise predictor eps_theta(x, k) for low-dimensional toy distributions (notebook 01): the step k is
/// embedded sinusoidally, as in the U-Net, and concatenated with x.
/// </summary>
public sealed class ToyDenoiser : Module<Tensor, Tensor, Tensor>
{
    private readonly SinusoidalPosEmb step_embedding;
    private readonly TorchSharp.Modules.Sequential net;

    /// <summary>Creates the network for D = <paramref name="dim"/> dimensional samples.</summary>
    public ToyDenoiser(int dim, int hidden = 128, int stepEmbedDim = 32) : base(nameof(ToyDenoiser))
    {
        if (dim < 1 || hidden < 1) throw new ArgumentException($"ToyDenoiser: dim and hidden must be positive; got {dim}, {hidden}.");
        step_embedding = new SinusoidalPosEmb(stepEmbedDim);
        net = Sequential(
            Linear(dim + stepEmbedDim, hidden), new Mish(),
            Linear(hidden, hidden), new Mish(),
            Linear(hidden, hidden), new Mish(),
            Linear(hidden, dim));
        RegisterComponents();
    }

    /// <summary>x (B, D), timesteps (B) -> predicted noise (B, D).</summary>
    public override Tensor forward(Tensor x, Tensor timesteps) =>
        net.forward(torch.cat([x, step_embedding.forward(timesteps).to(x.dtype)], 1));

    /// <summary>
    /// Trains with the denoising loss ||eps - eps_theta(sqrt(abar_k) x0 + sqrt(1-abar_k) eps, k)||^2, k uniform;
    /// returns the loss per step. <paramref name="sampleBatch"/> draws n clean samples (n, D).
    /// </summary>
    public static List<double> Train(ToyDenoiser model, Func<long, Tensor> sampleBatch, INoiseScheduler scheduler, int steps,
        int batchSize, double lr, long seed)
    {
        if (steps < 1 || batchSize < 1) throw new ArgumentException($"Train: steps and batchSize must be positive; got {steps}, {batchSize}.");
        torch.manual_seed(seed);
        model.train();
        using var optimizer = new AdamW(model.parameters(), lr: lr);
        var losses = new List<double>(steps);
        for (int step = 0; step < steps; step++)
        {
            using var scope = torch.NewDisposeScope();
            var x0 = sampleBatch(batchSize);                                                    // (B, D)
            var noise = torch.randn_like(x0);
            var k = torch.randint(0, scheduler.NumTrainTimesteps, [batchSize], dtype: int64);   // (B)
            var loss = functional.mse_loss(model.forward(scheduler.AddNoise(x0, noise, k), k), noise);
            optimizer.ZeroGrad();
            loss.backward();
            optimizer.Step();
            losses.Add(loss.item<float>());
        }
        model.eval();
        return losses;
    }
}
