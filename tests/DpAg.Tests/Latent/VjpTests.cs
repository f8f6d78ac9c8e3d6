using DpAg.Latent;
using TorchSharp;
using static TorchSharp.torch;
using static DpAg.Tests.Latent.Numerics;

namespace DpAg.Tests.Latent;

public class VjpTests
{
    [Fact]
    public void VjpEqualsJacobianTransposeTimesEpsFromTheExplicitJacobianPerSample()
    {
        Torch.Init(seed: 1);
        using var scope = torch.NewDisposeScope();
        using var p = new TestPredictor();
        const int B = 3;
        var z = Randn(B, p.To, p.F).requires_grad_(true);
        var eps = p.Forward(z);
        var vjp = Vjp.Compute(eps, z);

        // Explicit Jacobian of the whole batch: (B, Ta, Da, B, To, F).
        var jac = torch.autograd.functional.jacobian(p.Forward, z.detach());
        long nOut = p.Ta * p.Da, nIn = p.To * p.F;
        var j = jac.reshape(B, nOut, B, nIn);
        for (int b = 0; b < B; b++)
        {
            var jb = j[b, TensorIndex.Colon, b, TensorIndex.Colon];                       // (Ta*Da, To*F)
            var expected = torch.matmul(jb.t(), eps[b].detach().reshape(nOut));           // J_b^T eps_b
            AssertClose(Values(expected), Values(vjp[b]), 1e-12, 1e-10, $"sample {b}");
            for (int c = 0; c < B; c++)
                if (c != b) Assert.Equal(0.0, j[b, TensorIndex.Colon, c, TensorIndex.Colon].abs().max().item<double>()); // samples independent
        }
    }

    [Fact]
    public void VjpMatchesCentralFiniteDifferencesOfHalfSquaredNormAndOfAGivenCotangent()
    {
        Torch.Init(seed: 2);
        using var scope = torch.NewDisposeScope();
        using var p = new TestPredictor();
        var z = Randn(4, p.To, p.F).requires_grad_(true);
        var eps = p.Forward(z);
        var v = Randn(4, p.Ta, p.Da);

        var force = Vjp.Compute(eps, z, retainGraph: true);
        var fd = CentralDifferences(x => 0.5 * p.Forward(x).pow(2).sum().item<double>(), z);
        AssertClose(fd, Values(force), 1e-8, 1e-6, "grad 1/2||eps||^2");

        var withV = Vjp.Compute(eps, z, v);
        var fdV = CentralDifferences(x => (p.Forward(x) * v).sum().item<double>(), z);
        AssertClose(fdV, Values(withV), 1e-8, 1e-6, "J^T v");
    }

    [Fact]
    public void BatchedVjpEqualsOneSampleAtATime()
    {
        Torch.Init(seed: 3);
        using var scope = torch.NewDisposeScope();
        using var p = new TestPredictor();
        var zAll = Randn(5, p.To, p.F);
        var z = zAll.clone().requires_grad_(true);
        var batched = Vjp.Compute(p.Forward(z), z);
        for (int b = 0; b < 5; b++)
        {
            var zb = zAll[b].unsqueeze(0).clone().requires_grad_(true);
            var single = Vjp.Compute(p.Forward(zb), zb);
            AssertClose(Values(single), Values(batched[b]), 1e-13, 1e-11, $"sample {b}");
        }
    }

    [Fact]
    public void NoGraphIsKeptUnlessAskedAndTheRetainedGraphCanBeBackpropagated()
    {
        Torch.Init(seed: 4);
        using var scope = torch.NewDisposeScope();
        using var p = new TestPredictor();
        var z = Randn(2, p.To, p.F).requires_grad_(true);
        var eps = p.Forward(z);
        var vjp = Vjp.Compute(eps, z, retainGraph: true);
        Assert.False(vjp.requires_grad);
        // The retained graph still serves the loss on eps (as the DP loss does in training).
        eps.pow(2).sum().backward();
        Assert.NotNull(z.grad);
        AssertClose(Values(2 * vjp), Values(z.grad!), 1e-12, 1e-10, "backward after retained VJP");
    }

    [Fact]
    public void CreateGraphGivesAVjpWhoseGradientIsTheHessianVectorProductOfHalfSquaredNorm()
    {
        Torch.Init(seed: 5);
        using var scope = torch.NewDisposeScope();
        using var p = new TestPredictor();
        var z = Randn(2, p.To, p.F).requires_grad_(true);
        var w = Randn(2, p.To, p.F);
        var (eps, vjp) = Vjp.OfFunction(p.Forward, z, createGraph: true);
        Assert.True(vjp.requires_grad);
        var g = torch.autograd.grad(new[] { (vjp * w).sum() }, new[] { z }, retain_graph: false, create_graph: false)[0];
        // The VJP is the function z -> grad_z 1/2||f(z)||^2; its gradient along w is the Hessian-vector product of
        // 1/2||f||^2, checked against central differences of the first-order VJP.
        var fd = CentralDifferences(x =>
        {
            using var grad = torch.enable_grad();
            var xl = x.clone().requires_grad_(true);
            var e = p.Forward(xl);
            var inner = torch.autograd.grad(new[] { 0.5 * e.pow(2).sum() }, new[] { xl }, retain_graph: false, create_graph: false)[0];
            return (inner * w).sum().item<double>();
        }, z, 1e-5);
        Assert.Equal(new long[] { 2, p.Ta, p.Da }, eps.shape);
        AssertClose(fd, Values(g), 1e-7, 1e-5, "Hessian-vector product");
    }

    [Fact]
    public void ValidationThrowsInsteadOfAbortingTheProcess()
    {
        Torch.Init(seed: 6);
        using var scope = torch.NewDisposeScope();
        using var p = new TestPredictor();
        var zPlain = Randn(2, p.To, p.F);
        var e1 = Assert.Throws<ArgumentException>(() => Vjp.Compute(p.Forward(zPlain), zPlain));
        Assert.Contains("does not require grad", e1.Message);

        var z = zPlain.clone().requires_grad_(true);
        Tensor detached;
        using (torch.no_grad()) detached = p.Forward(z);
        var e2 = Assert.Throws<ArgumentException>(() => Vjp.Compute(detached, z));
        Assert.Contains("outputs does not require grad", e2.Message);

        var eps = p.Forward(z);
        var e3 = Assert.Throws<ArgumentException>(() => Vjp.Compute(eps, z, Randn(2, p.Ta + 1, p.Da), retainGraph: true));
        Assert.Contains("shape", e3.Message);
        var e4 = Assert.Throws<ArgumentException>(() => Vjp.Compute(eps, z, retainGraph: false, createGraph: true));
        Assert.Contains("retainGraph", e4.Message);
        var e5 = Assert.Throws<ArgumentException>(() => Vjp.Compute(eps, z, eps.detach().to_type(ScalarType.Float32), retainGraph: true));
        Assert.Contains("dtype", e5.Message);
    }

    [Fact]
    public void OutputsThatDoNotDependOnTheInputGiveZeros()
    {
        Torch.Init(seed: 7);
        using var scope = torch.NewDisposeScope();
        var z = Randn(2, 3).requires_grad_(true);
        var other = Randn(2, 3).requires_grad_(true);
        var vjp = Vjp.Compute(other * 2, z);
        Assert.Equal(new long[] { 2, 3 }, vjp.shape);
        Assert.Equal(0.0, vjp.abs().sum().item<double>());
    }
}
