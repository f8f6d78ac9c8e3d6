using DpAg.Latent;
using DpAg.Losses;
using DpAg.Policies;
using DpAg.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Tests.Policies;

/// <summary>Policies are initialised from torch's global generator, so these tests run alone (seeded, repeatable).</summary>
[Collection(nameof(DpAg.Tests.Training.GlobalGeneratorCollection))]
public class PolicyTests
{
    private static PolicyBase Make(string which)
    {
        torch.manual_seed(0);
        return Create(which);
    }

    private static PolicyBase Create(string which) => which switch
    {
        "dp" => new DiffusionPolicy(PolicyFixtures.TinyConfig, PolicyFixtures.Normalizer()),
        "dp_ag_released" => new ActionGuidedDiffusionPolicy(ActionGuidedConfig.ReleasedCode with { Policy = PolicyFixtures.TinyConfig }, PolicyFixtures.Normalizer()),
        "dp_ag_paper" => new ActionGuidedDiffusionPolicy(ActionGuidedConfig.Paper with { Policy = PolicyFixtures.TinyConfig }, PolicyFixtures.Normalizer()),
        _ => throw new ArgumentException(which),
    };

    [Theory]
    [InlineData("dp", new[] { "denoise" })]
    [InlineData("dp_ag_released", new[] { "denoise", "contrastive", "kl" })]
    [InlineData("dp_ag_paper", new[] { "denoise", "contrastive", "kl" })]
    public void LossHasItsTermsAndBackpropagatesToEveryTrainableParameter(string which, string[] terms)
    {
        Torch.Init();
        using var policy = Make(which);
        var (obs, action) = PolicyFixtures.Data(6, seed: 1);
        var output = policy.ComputeLoss(new PolicyBatch(obs, action) { Generator = new torch.Generator(3) });
        Assert.Equal(terms.OrderBy(t => t), output.Terms.Keys.OrderBy(t => t));
        Assert.True(double.IsFinite(output.Loss.item<float>()));
        output.Loss.backward();
        var missing = policy.named_parameters().Where(p => p.parameter.requires_grad && p.parameter.grad is null).Select(p => p.name).ToList();
        Assert.True(missing.Count == 0, $"no gradient for: {string.Join(", ", missing)}");
    }

    [Fact]
    public void ReleasedCodeTrainsTheLogVarianceHeadOnlyThroughTheKl()
    {
        Torch.Init();
        using var policy = (ActionGuidedDiffusionPolicy)Make("dp_ag_released");
        var (obs, action) = PolicyFixtures.Data(6, seed: 2);
        var batch = new PolicyBatch(obs, action) { Generator = new torch.Generator(5) };
        var output = policy.ComputeLoss(batch);
        var logVarParams = policy.named_parameters().Where(p => p.name.Contains("logvar")).Select(p => (Tensor)p.parameter).ToList();
        Assert.NotEmpty(logVarParams);
        var full = torch.autograd.grad([output.Loss], logVarParams, retain_graph: true, create_graph: false, allow_unused: true);
        // The KL term alone, recomputed from the same observations, gives the same gradient.
        var klOnly = torch.autograd.grad([RecomputeKl(policy, obs)], logVarParams, retain_graph: false, create_graph: false, allow_unused: true);
        for (int i = 0; i < full.Count; i++)
            Assert.True(torch.allclose(full[i], klOnly[i], rtol: 1e-5, atol: 1e-7), $"log-variance head gradient differs from the KL's ({logVarParams[i].shape.Length}-d parameter {i})");
    }

    private static Tensor RecomputeKl(ActionGuidedDiffusionPolicy policy, IReadOnlyDictionary<string, Tensor> obs)
    {
        var posterior = policy.named_children().Single(c => c.name == "posterior").module as GaussianPosterior;
        var (mu, logVar, _) = posterior!.forward(obs["obs"]);
        return DpAgLossConfig.ReleasedCode.KlWeight * KlDivergence.ToStandardNormal(mu, logVar, DpAgLossConfig.ReleasedCode.KlReduction);
    }

    [Theory]
    [InlineData("dp")]
    [InlineData("dp_ag_released")]
    public void BothPoliciesOverfitATinyDataset(string which)
    {
        Torch.Init();
        var (obs, action) = PolicyFixtures.Data(16, seed: 4);
        var dir = Path.Combine(Path.GetTempPath(), $"dpag-overfit-{which}-{Guid.NewGuid():N}");
        try
        {
            var config = new TrainConfig { RunDir = dir, Steps = 300, BatchSize = 16, LearningRate = 3e-3, WarmupSteps = 10, CheckpointEvery = 1000, UseEma = false, Seed = 1 };
            using var trainer = new Trainer(config, () => Make(which), new TensorBatchSource(obs, action), new TrainerOptions { ConsoleWriter = TextWriter.Null, SeedGlobalGenerator = false });
            trainer.Run();
            var rows = MetricsLog.ReadCsv(trainer.MetricsCsvPath);
            double first = rows.Take(20).Average(r => r["denoise"]), last = rows.TakeLast(20).Average(r => r["denoise"]);
            Assert.True(last < first / 4, $"{which}: denoising loss {first:F4} -> {last:F4}, expected at least a 4x drop");
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Theory]
    [InlineData("dp")]
    [InlineData("dp_ag_released")]
    [InlineData("dp_ag_paper")]
    public void PredictsRawActionChunksOfTheRightShapeAndRepeatsWithTheSameGenerator(string which)
    {
        Torch.Init();
        using var policy = Make(which);
        policy.eval();
        var raw = new Dictionary<string, Tensor> { ["obs"] = torch.rand(3, 2, 4) * 10 };
        var a = policy.PredictActionChunk(raw, new torch.Generator(9));
        var b = policy.PredictActionChunk(raw, new torch.Generator(9));
        Assert.Equal(new long[] { 3, 8, 2 }, a.shape);
        Assert.True(torch.allclose(a, b, rtol: 0, atol: 0));
        // Clipped samples in [-1, 1] map back into the action range [0, 512].
        Assert.InRange(a.min().item<float>(), -1e-3f, 512.001f);
        Assert.InRange(a.max().item<float>(), -1e-3f, 512.001f);
        Assert.Equal(new long[] { 3, 4, 2 }, policy.ExecutableActions(a).shape);
    }

    [Fact]
    public void EvolvingTheLatentAtInferenceChangesTheSamples()
    {
        Torch.Init(seed: 12);
        var config = ActionGuidedConfig.ReleasedCode with { Policy = PolicyFixtures.TinyConfig with { Sampler = SamplerKind.Ddim, NumInferenceSteps = 8 } };
        using var staticPolicy = new ActionGuidedDiffusionPolicy(config, PolicyFixtures.Normalizer());
        using var evolving = new ActionGuidedDiffusionPolicy(config with { EvolveLatentAtInference = true }, PolicyFixtures.Normalizer());
        evolving.load_state_dict(staticPolicy.state_dict());
        staticPolicy.eval(); evolving.eval();
        var raw = new Dictionary<string, Tensor> { ["obs"] = torch.rand(2, 2, 4) * 10 };
        var latents = new List<Tensor>();
        var a = staticPolicy.PredictActionChunk(raw, new torch.Generator(1));
        var b = evolving.PredictActionChunk(raw, new torch.Generator(1), evolving.DefaultInference with { OnStep = (_, _, _, z) => latents.Add(z) });
        Assert.False(torch.allclose(a, b));
        Assert.Equal(8, latents.Count);
        // The option asks the same of the static policy: one model, either inference, no second copy of the weights.
        Assert.True(torch.allclose(b, staticPolicy.PredictActionChunk(raw, new torch.Generator(1), InferenceOptions.Ddim(8) with { EvolveLatent = true }), rtol: 0, atol: 0));
        Assert.True(torch.allclose(a, evolving.PredictActionChunk(raw, new torch.Generator(1), InferenceOptions.Ddim(8) with { EvolveLatent = false }), rtol: 0, atol: 0));
        // Released single step: each evolved latent is mu + sigma * unit VJP, so ||(z - mu) / sigma|| = 1 per sample and
        // obs step, at every denoising step.
        using var noGrad = torch.no_grad();
        var (mu, _, sigma) = evolving.Posterior.forward(evolving.Encode(evolving.NormalizeObs(raw)));
        foreach (var z in latents)
        {
            Assert.Equal(mu.shape, z.shape);
            var moved = ((z - mu) / sigma).norm(dim: -1);                      // (B, To)
            Assert.True((moved - 1).abs().max().item<float>() < 1e-4, $"||(z - mu) / sigma|| per obs step: {moved.str()}");
        }
    }

    [Fact]
    public void SaveAndLoadGiveTheSamePredictions()
    {
        Torch.Init();
        var path = Path.Combine(Path.GetTempPath(), $"dpag-policy-{Guid.NewGuid():N}.pt");
        try
        {
            using var a = Make("dp_ag_released");
            a.save(path);
            using var b = Make("dp_ag_released");
            b.load(path);
            a.eval(); b.eval();
            var raw = new Dictionary<string, Tensor> { ["obs"] = torch.rand(2, 2, 4) * 10 };
            Assert.True(torch.allclose(a.PredictActionChunk(raw, new torch.Generator(2)), b.PredictActionChunk(raw, new torch.Generator(2)), rtol: 0, atol: 0));
            Assert.Contains(b.named_buffers(), nb => nb.name == "normalizer_action_scale");
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void BadShapesAndConfigsAreRejectedBeforeAnyWork()
    {
        Torch.Init();
        var e1 = Assert.Throws<ArgumentException>(() => (PolicyFixtures.TinyConfig with { Horizon = 10 }).Validate());
        Assert.Contains("10", e1.Message);
        var e2 = Assert.Throws<ArgumentException>(() => (PolicyFixtures.TinyConfig with { ActionSteps = 8 }).Validate());
        Assert.Contains("Ta <= T - To + 1 = 7", e2.Message);
        var e3 = Assert.Throws<ArgumentException>(() => ActionGuidedConfig.FromPreset("paper2"));
        Assert.Contains("released, paper", e3.Message);
        using var policy = Make("dp");
        var wrong = new PolicyBatch(new Dictionary<string, Tensor> { ["obs"] = torch.zeros(2, 3, 4) }, torch.zeros(2, 8, 2));
        var e4 = Assert.Throws<ArgumentException>(() => policy.ComputeLoss(wrong));
        Assert.Contains("To=2", e4.Message);
        var missing = new DpAg.Data.LinearNormalizer();
        var e5 = Assert.Throws<ArgumentException>(() => new DiffusionPolicy(PolicyFixtures.TinyConfig, missing));
        Assert.Contains("no field 'action'", e5.Message);
    }

    [Theory]
    [InlineData(SamplerKind.Ddim, 4, 1.0)]
    [InlineData(SamplerKind.Ddpm, 5, 0.4)]
    public void PredictionIsTheSchedulersReverseLoopOverTheNoisePredictor(SamplerKind sampler, int steps, double scale)
    {
        // The options say everything: the hand-written diffusers loop with that scheduler and that many steps gives the
        // same bits (a DDIM scheduler with few steps cannot silently run the config's 100).
        Torch.Init();
        using var policy = (DiffusionPolicyBase)Make("dp");
        policy.eval();
        var raw = new Dictionary<string, Tensor> { ["obs"] = torch.rand(3, 2, 4) * 10 };
        var chunk = policy.PredictActionChunk(raw, new torch.Generator(7), new InferenceOptions(sampler, steps) { NoiseScale = scale });

        using var noGrad = torch.no_grad();
        var g = new torch.Generator(7);
        var z = policy.Encode(policy.NormalizeObs(raw));                                                  // (B, To, F)
        var x = torch.randn([3, policy.Horizon, policy.ActionDim], generator: g);                         // a^K
        DpAg.Diffusion.INoiseScheduler scheduler = sampler == SamplerKind.Ddim
            ? new DpAg.Diffusion.DdimScheduler(new DpAg.Diffusion.DdimSchedulerConfig(NumInferenceSteps: steps))
            : new DpAg.Diffusion.DdpmScheduler(new DpAg.Diffusion.DdpmSchedulerConfig(NumInferenceSteps: steps));
        Assert.Equal(steps, scheduler.Timesteps.Count);
        foreach (int k in scheduler.Timesteps)
            x = scheduler.Step(policy.PredictNoise(x, torch.full(3, k, dtype: int64), z) * scale, k, x, g).PrevSample;
        Assert.True(DpAg.Tests.Training.TensorAssert.Identical(policy.UnnormalizeAction(x), chunk));
    }

    [Fact]
    public void InferenceOptionsAreCheckedBeforeAnyWork()
    {
        Torch.Init();
        using var dp = (DiffusionPolicyBase)Make("dp");
        dp.eval();
        var obs = new Dictionary<string, Tensor> { ["obs"] = torch.full(2, 2, 4, 5f) };
        var e = Assert.Throws<ArgumentException>(() => dp.PredictActionChunk(obs, null, InferenceOptions.Ddim(101)));
        Assert.Contains("1..100", e.Message);
        e = Assert.Throws<ArgumentException>(() => dp.PredictActionChunk(obs, null, InferenceOptions.Ddim(4) with { EvolveLatent = true }));
        Assert.Contains("no latent to evolve", e.Message);
        Assert.Equal(InferenceOptions.Ddpm(100) with { EvolveLatent = false }, dp.DefaultInference);
    }

    [Fact]
    public void InferenceNoiseScaleRescalesTheOutputTheSamplerSees()
    {
        Torch.Init();
        using var policy = (DiffusionPolicyBase)Make("dp");
        policy.eval();
        var obs = new Dictionary<string, Tensor> { ["obs"] = torch.full(2, 2, 4, 5f) };
        // Same weights, same noise: only the factor on the network output differs, so the samples must differ, and scale 1
        // must be exactly the default.
        var ddim1 = InferenceOptions.Ddim(1);
        var plain = policy.PredictActionChunk(obs, new torch.Generator(4), ddim1);
        Assert.Equal(1.0, ddim1.NoiseScale);
        var scaled = policy.PredictActionChunk(obs, new torch.Generator(4), ddim1 with { NoiseScale = 0.4 });
        Assert.False(torch.allclose(plain, scaled), "a rescaled output must change the sample");
        Assert.True(torch.allclose(plain, policy.PredictActionChunk(obs, new torch.Generator(4), ddim1 with { NoiseScale = 1.0 }), rtol: 0, atol: 0), "scale 1 is the default behaviour");
        var e = Assert.Throws<ArgumentException>(() => policy.PredictActionChunk(obs, null, ddim1 with { NoiseScale = 0 }));
        Assert.Contains("NoiseScale = 0", e.Message);
        Assert.Throws<ArgumentException>(() => policy.PredictActionChunk(obs, null, ddim1 with { NoiseScale = double.NaN }));
    }

    [Theory]
    [InlineData("dp", float.NaN)]
    [InlineData("dp_ag_released", float.PositiveInfinity)]
    public void NonFiniteObservationsAreRefusedWithTheKeyAndIndex(string which, float bad)
    {
        Torch.Init();
        using var policy = Make(which);
        policy.eval();
        var obs = torch.full(3, 2, 4, 5f);
        obs[1, 0, 2] = torch.tensor(bad);
        var e = Assert.Throws<ArgumentException>(() => policy.PredictActionChunk(new Dictionary<string, Tensor> { ["obs"] = obs }));
        Assert.Contains("observation 'obs'", e.Message);
        Assert.Contains("at index (1, 0, 2)", e.Message);
        Assert.Contains(bad.ToString(System.Globalization.CultureInfo.CurrentCulture), e.Message);
        // Finite observations still give finite actions.
        obs[1, 0, 2] = torch.tensor(5f);
        var actions = policy.PredictActionChunk(new Dictionary<string, Tensor> { ["obs"] = obs }, new torch.Generator(1));
        Assert.True(actions.isfinite().all().item<bool>());
    }
}

/// <summary>The released code's costly VJP (second-order graph, then detached) gives exactly the kit's numbers.</summary>
[Collection(nameof(DpAg.Tests.Training.GlobalGeneratorCollection))]
public class ReleasedVjpEmulationTests
{
    [Fact]
    public void EmulatingTheReleasedVjpChangesCostNotNumbers()
    {
        Torch.Init();
        var normalizer = PolicyFixtures.Normalizer();
        torch.manual_seed(0);
        using var kit = new ActionGuidedDiffusionPolicy(ActionGuidedConfig.ReleasedCode with { Policy = PolicyFixtures.TinyConfig }, normalizer);
        using var released = new ActionGuidedDiffusionPolicy(ActionGuidedConfig.ReleasedCode with { Policy = PolicyFixtures.TinyConfig, EmulateReleasedVjpCost = true }, normalizer);
        released.load_state_dict(kit.state_dict());
        var (obs, action) = PolicyFixtures.Data(6, seed: 8);
        var a = kit.ComputeLoss(new PolicyBatch(obs, action) { Generator = new torch.Generator(4) });
        var b = released.ComputeLoss(new PolicyBatch(obs, action) { Generator = new torch.Generator(4) });
        Assert.Equal(a.Loss.item<float>(), b.Loss.item<float>(), 6);
        foreach (var key in a.Terms.Keys) Assert.Equal(a.Terms[key].item<float>(), b.Terms[key].item<float>(), 6);
    }
}
