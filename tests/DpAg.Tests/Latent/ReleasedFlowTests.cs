using DpAg.Latent;
using DpAg.Losses;
using TorchSharp;
using static TorchSharp.torch;
using static DpAg.Tests.Latent.Numerics;

namespace DpAg.Tests.Latent;

/// <summary>The released code's training step assembled from the kit's pieces, with toy networks.</summary>
public class ReleasedFlowTests
{
    [Fact]
    public void OneTrainingStepBackpropagatesAndOnlyTheKlTrainsTheLogVarianceHead()
    {
        Torch.Init(seed: 81);
        using var scope = torch.NewDisposeScope();
        using var p = new TestPredictor(to: 2, f: 3);
        using var encoder = nn.Linear(5, 3);
        encoder.to(ScalarType.Float64);
        using var posterior = new GaussianPosterior(3);
        posterior.to(ScalarType.Float64);
        var obs = Randn(6, 2, 5);                                              // (B, To, Do)
        var noise = Randn(6, p.Ta, p.Da);

        var feature = encoder.forward(obs);                                   // (B, To, F)
        var (mu, logvar, sigma) = posterior.forward(feature);
        var epsPred = p.Forward(mu);                                          // (B, Ta, Da)
        var guided = ActionGuidedSde.ReleasedStep(epsPred, mu, mu, sigma, keepPredictorGraph: true);
        Tensor epsGuided;
        using (torch.no_grad()) epsGuided = p.Forward(guided.Latent);
        var config = DpAgLossConfig.ReleasedCode;
        var terms = DpAgLoss.Compute(epsPred, noise, epsGuided, mu, logvar, feature, config);

        var head = posterior.parameters().ToArray();                          // logvar_head.weight, logvar_head.bias
        var klOnly = torch.autograd.grad(new[] { config.KlWeight * terms.Kl }, head, retain_graph: true, create_graph: false);
        terms.Total.backward();
        for (int i = 0; i < head.Length; i++)
            AssertClose(Values(klOnly[i]), Values(head[i].grad!), 1e-14, 1e-12, $"logvar head parameter {i}");
        Assert.All(encoder.parameters(), q => Assert.True(q.grad is { IsInvalid: false } g && g.abs().sum().item<double>() > 0));
        Assert.All(p.Parameters(), q => Assert.True(q.grad is { IsInvalid: false } g && g.abs().sum().item<double>() > 0));
        Assert.False(epsGuided.requires_grad);
    }
}
