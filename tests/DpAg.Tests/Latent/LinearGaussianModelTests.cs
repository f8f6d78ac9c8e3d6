using DpAg.Latent;
using DpAg.Losses;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Tests.Latent;

public class LinearGaussianModelTests
{
    private static LinearGaussianModel Diagonal() =>
        new(torch.diag(torch.tensor(new[] { 1.5, 0.7 })), torch.tensor(new[] { 0.1, -0.2 }), 0.5);

    [Fact]
    public void ExactLogLikelihoodMatchesAMonteCarloIntegralOverTheLatent()
    {
        Torch.Init(seed: 4);
        var model = Diagonal();
        var zt = torch.tensor(new[] { 0.3, -0.4 }, dtype: float64).unsqueeze(0);
        var y = model.SampleY(zt);
        // p(y | z_t) = E_{z ~ N(z_t, I)} p(y | z): average the likelihood over 400k prior draws.
        var z = zt + torch.randn(400_000, 2, dtype: float64);
        var logLik = Elbo.GaussianLogLikelihood(y.expand(400_000, 2), model.Mean(z), torch.tensor(model.LikelihoodLogVar));
        double mc = (logLik.logsumexp(0) - Math.Log(400_000)).item<double>();
        double exact = model.ExactLogLikelihood(y, zt).item<double>();
        Assert.InRange(mc - exact, -0.02, 0.02);
    }

    [Fact]
    public void ElboIsBelowTheLogLikelihoodAndTightAtTheExactPosterior()
    {
        Torch.Init(seed: 5);
        var model = Diagonal();
        var zt = torch.randn(8, 2, dtype: float64);
        var y = model.SampleY(zt + torch.randn(8, 2, dtype: float64));
        var exact = model.ExactLogLikelihood(y, zt);
        var (postMean, postCov) = model.ExactPosterior(y, zt);
        var postLogVar = postCov.diagonal().log().expand(8, 2);
        var zeros = torch.zeros(8, 2, dtype: float64);
        var lv = torch.tensor(model.LikelihoodLogVar);

        var tight = Elbo.MonteCarlo(model.Mean, y, lv, postMean, postLogVar, zt, zeros, 20_000);
        Assert.True((tight.Value - exact).abs().max().item<double>() < 0.02, "the ELBO at the exact posterior should equal log p");

        var loose = Elbo.MonteCarlo(model.Mean, y, lv, zt, zeros - 1.0, zt, zeros, 20_000);
        Assert.True((loose.Value - exact).max().item<double>() < 0, "the ELBO must lie below log p for a q that is not the posterior");
    }
}
