using DpAg.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Tests.Training;

public class EmaModelTests
{
    [Fact]
    public void Decay_follows_diffusion_policy_EMAModel()
    {
        // DP: s = max(0, k - update_after_step - 1); 0 if s == 0; else clamp(1 - (1 + s/inv_gamma)^-power, 0, 0.9999).
        Assert.Equal(0.0, EmaModel.DecayAt(0));
        Assert.Equal(0.0, EmaModel.DecayAt(1));
        Assert.Equal(1 - Math.Pow(2, -0.75), EmaModel.DecayAt(2), 15);   // 0.40539...
        Assert.Equal(1 - Math.Pow(10, -0.75), EmaModel.DecayAt(10), 15); // 0.82217...
        Assert.Equal(0.8221720589961077, EmaModel.DecayAt(10), 12);
        Assert.Equal(1 - Math.Pow(1000, -0.75), EmaModel.DecayAt(1000), 15); // 0.99437...
        Assert.Equal(0.9943765867480965, EmaModel.DecayAt(1000), 12);
        Assert.Equal(0.9999, EmaModel.DecayAt(100_000_000)); // clamped at max_value
        // update_after_step shifts the warm-up; power 2/3 is DP's class default.
        Assert.Equal(0.0, EmaModel.DecayAt(5, updateAfterStep: 4));
        Assert.Equal(1 - Math.Pow(2, -0.75), EmaModel.DecayAt(6, updateAfterStep: 4), 15);
        Assert.Equal(1 - Math.Pow(1 + 9 / 2.0, -2.0 / 3), EmaModel.DecayAt(10, power: 2.0 / 3, invGamma: 2), 15);
        Assert.Equal(0.5, EmaModel.DecayAt(2, minValue: 0.5), 15);
    }

    [Fact]
    public void Ema_of_a_constant_parameter_converges_with_the_product_of_decays()
    {
        Torch.Init(1);
        using var live = nn.Linear(3, 2);
        using var avg = nn.Linear(3, 2);
        using (torch.no_grad()) { live.weight!.fill_(2.0); avg.weight!.fill_(-5.0); }
        var ema = new EmaModel(avg);
        ema.Step(live); // decay 0: a copy
        Assert.Equal(0.0, ema.Decay);
        Assert.True(TensorAssert.Identical(avg.weight!, live.weight!));
        for (int i = 0; i < 9; i++) ema.Step(live);
        Assert.True(avg.weight!.allclose(live.weight!, rtol: 0, atol: 1e-6));

        // Jump the live weight to 3: the gap shrinks by the product of the decays used.
        using (torch.no_grad()) live.weight!.fill_(3.0);
        double gap = 1.0;
        for (int k = 10; k < 400; k++) { gap *= EmaModel.DecayAt(k); ema.Step(live); }
        Assert.Equal(400, ema.OptimizationStep);
        double got = 3.0 - avg.weight![0, 0].ToDouble();
        Assert.Equal(gap, got, 4);
        Assert.True(got < 0.1 && got > 0); // converging but not yet there
        Assert.False(avg.weight!.requires_grad);
    }

    [Fact]
    public void Frozen_parameters_and_buffers_are_copied()
    {
        Torch.Init(2);
        using var live = nn.BatchNorm1d(4);
        using var avg = nn.BatchNorm1d(4);
        live.bias!.requires_grad = false;
        using (torch.no_grad()) { live.bias!.fill_(7.0); live.running_mean!.fill_(3.0); }
        var ema = new EmaModel(avg);
        ema.Step(live);
        using (torch.no_grad()) { live.bias!.fill_(8.0); live.running_mean!.fill_(4.0); live.weight!.fill_(10.0); }
        ema.Step(live); // k = 1: decay 0, a copy
        Assert.Equal(10.0, avg.weight![0].ToDouble(), 6);
        using (torch.no_grad()) live.weight!.fill_(20.0);
        ema.Step(live); // k = 2: decay 1 - 2^-0.75 for the trainable weight; frozen bias and buffers copied
        double d = EmaModel.DecayAt(2);
        Assert.Equal(d * 10.0 + (1 - d) * 20.0, avg.weight![0].ToDouble(), 5);
        Assert.Equal(8.0, avg.bias![0].ToDouble(), 6);
        Assert.Equal(4.0, avg.running_mean![0].ToDouble(), 6);
    }
}
