using DpAg.Data;
using DpAg.Diffusion;
using DpAg.Envs;
using DpAg.Evaluation;
using DpAg.Losses;
using DpAg.Policies;
using DpAg.Tests.Data;
using DpAg.Tests.Policies;
using DpAg.Training;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace DpAg.Tests.Runtime;

/// <summary>
/// The kit's training, sampling, loss and evaluation paths under <see cref="GcStress"/>: none may fault, and what
/// they compute must equal the same work done without stress (a freed scalar can also silently change a number).
/// Sizes scale with <c>DPAG_STRESS</c> (<see cref="GcStress.Scale"/>).
/// </summary>
[Collection(nameof(DpAg.Tests.Training.GlobalGeneratorCollection))]
public sealed class ScalarStressTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dpag-stress-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private PushTDataset Data()
    {
        string store = Path.Combine(_dir, "demo.zarr");
        if (!Directory.Exists(store)) PushTFixture.Make([40, 40, 40, 40]).Save(store);
        return PushTDataset.Open(store, new PushTDatasetConfig());
    }

    [Theory]
    [InlineData("dp")]
    [InlineData("dp-ag")]
    public void TrainingWithEmaAndTheOptimiserSurvivesAndMatchesAnUnstressedRun(string kind)
    {
        Torch.Init();
        long steps = GcStress.Scale == 1 ? 40 : 200L * GcStress.Scale;
        var data = Data();
        byte[] Train(string name, bool stress)
        {
            string runDir = Path.Combine(_dir, $"{kind}-{name}");
            using var trainer = PolicyRuns.Create(PolicySpec.FromNames(kind, size: "tiny"), data, runDir, steps, batchSize: 8, seed: 3);
            long forced = 0;
            if (stress) forced = GcStress.Run(() => trainer.Run());
            else trainer.Run();
            if (stress) output.WriteLine($"{kind}: {steps} training steps under {forced} forced collections");
            return File.ReadAllBytes(Path.Combine(runDir, "checkpoints", CheckpointStore.FolderName(steps), Trainer.EmaFile));
        }
        var stressed = Train("stressed", stress: true);
        // The last step's weights hold every update: equal bytes mean no op read a wrong number.
        if (GcStress.Scale == 1) Assert.Equal(Train("calm", stress: false), stressed);
    }

    [Theory]
    [InlineData(SamplerKind.Ddpm)]
    [InlineData(SamplerKind.Ddim)]
    public void ReverseLoopsSurviveAndRepeat(SamplerKind sampler)
    {
        Torch.Init();
        int loops = GcStress.Scale == 1 ? (sampler == SamplerKind.Ddpm ? 2 : 10) : 10 * GcStress.Scale;
        torch.manual_seed(0);
        using var dp = new DiffusionPolicy(PolicyFixtures.TinyConfig, PolicyFixtures.Normalizer());
        torch.manual_seed(1);
        using var dpag = new ActionGuidedDiffusionPolicy(ActionGuidedConfig.ReleasedCode with { Policy = PolicyFixtures.TinyConfig, EvolveLatentAtInference = true }, PolicyFixtures.Normalizer());
        var policies = new DiffusionPolicyBase[] { dp, dpag };
        foreach (var p in policies) p.eval();
        var inference = new InferenceOptions(sampler, sampler == SamplerKind.Ddim ? 16 : 100);
        var (obs, _) = PolicyFixtures.Data(4, seed: 5);
        var raw = new Dictionary<string, Tensor> { ["obs"] = (obs["obs"] * 5 + 5).detach() };
        var calm = policies.Select(p => p.PredictActionChunk(raw, new torch.Generator(9), inference).clone()).ToArray();
        long forced = GcStress.Run(() =>
        {
            for (int i = 0; i < loops; i++)
                for (int k = 0; k < policies.Length; k++)
                {
                    using var scope = torch.NewDisposeScope();
                    var actions = policies[k].PredictActionChunk(raw, new torch.Generator(9), inference);
                    Assert.True(actions.Equals(calm[k]), $"{policies[k].Name}, loop {i}: the chunk differs from the unstressed one");
                }
        });
        output.WriteLine($"{sampler}: {loops} reverse loops of DP and of DP-AG (latent evolution on) under {forced} forced collections");
    }

    [Fact]
    public void LossesSurviveAndRepeat()
    {
        Torch.Init();
        int repeats = 200 * GcStress.Scale;
        var g = new torch.Generator(4);
        var a = torch.randn([16, 8], generator: g);
        var b = torch.randn([16, 8], generator: g);
        var mu = torch.randn([16, 8], generator: g);
        var logVar = torch.randn([16, 8], generator: g) * 0.1;
        Tensor All()
        {
            using var scope = torch.NewDisposeScope();
            var terms = new[]
            {
                InfoNce.Loss(a, b, new ContrastiveConfig()),
                KlDivergence.ToStandardNormal(mu, logVar),
                KlDivergence.ToShiftedStandardNormal(mu, logVar, a),
                DenoisingLoss.Mse(a, b, targetScale: 0.4),
                Elbo.GaussianLogLikelihood(a, b, logVar).mean(),
            };
            return torch.stack(terms).MoveToOuterDisposeScope();
        }
        var calm = All();
        GcStress.Run(() =>
        {
            for (int i = 0; i < repeats; i++)
            {
                using var got = All();
                Assert.True(got.Equals(calm), $"repeat {i}: a loss differs from the unstressed value");
            }
        });
    }

    [Fact]
    public void EvaluationSurvivesAndRepeats()
    {
        Torch.Init();
        int episodes = GcStress.Scale == 1 ? 4 : 50;
        var data = Data();
        using var trainer = PolicyRuns.Create(PolicySpec.FromNames("dp-ag", "released", "tiny"), data, Path.Combine(_dir, "eval"), 4, batchSize: 8, seed: 1);
        trainer.Run();
        var policy = (DiffusionPolicyBase)trainer.EmaPolicy!;
        policy.eval();
        var config = new PushTEvalConfig { Episodes = episodes, MaxSteps = 40, MaxDegreeOfParallelism = 1 };
        var calm = PushTRunner.Evaluate(new PolicyActor(policy, torch.CPU, 7, InferenceOptions.Ddim(8)), config);
        PushTEvalResult? stressed = null;
        GcStress.Run(() => stressed = PushTRunner.Evaluate(new PolicyActor(policy, torch.CPU, 7, InferenceOptions.Ddim(8)), config));
        Assert.Equal(calm.Episodes.Select(e => e.MaxCoverage), stressed!.Episodes.Select(e => e.MaxCoverage));
    }
    [Fact]
    public void SpiralsSeedWithRk4AndTheGuidedVjpSurvivesAndMatchesAnUnstressedRun()
    {
        Torch.Init();
        var config = DpAg.Spirals.SpiralsConfig.Ci with
        {
            Data = DpAg.Spirals.SpiralsConfig.Ci.Data with { TrainCount = 16, TestCount = 8 },
            Steps = GcStress.Scale == 1 ? 6 : 20 * GcStress.Scale,
            BatchSize = 8,
            GridPoints = 12,
            FigureTrajectories = 2,
            ContrastiveWeight = 0.1,
            Solver = DpAg.Spirals.OdeSolverConfig.Rk4Grid with { MaxStep = 0.1 },
        };
        var calm = DpAg.Spirals.SpiralsExperiment.RunSeed(config, 3, keepFigures: false).Rows;
        IReadOnlyList<DpAg.Spirals.SpiralsRow> stressed = [];
        long forced = GcStress.Run(() => stressed = DpAg.Spirals.SpiralsExperiment.RunSeed(config, 3, keepFigures: false).Rows);
        output.WriteLine($"spirals: {config.Steps} steps of both flows under {forced} forced collections");
        Assert.Equal(calm.Select(r => r.HeldOutMse), stressed.Select(r => r.HeldOutMse));
        Assert.Equal(calm.Select(r => r.FinalTrainLoss), stressed.Select(r => r.FinalTrainLoss));
    }
}
