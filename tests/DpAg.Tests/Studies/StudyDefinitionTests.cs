using DpAg.Evaluation;
using DpAg.Policies;
using DpAg.Studies;
using DpAg.Tests.Cli;

namespace DpAg.Tests.Studies;

/// <summary>Study files: the committed ones parse into the variants; bad files are refused with clear messages.</summary>
public class StudyDefinitionTests
{
    private static string StudyPath(string name) => Path.Combine(CliRunner.RepoRoot, "studies", name);

    [Fact]
    public void TheCommittedStudyHasTheVariantsSeedsAndPlan()
    {
        var study = StudyDefinition.Load(StudyPath("dpag-vs-dp.json"));
        Assert.Equal("cpu", study.Budget.Name);
        Assert.Equal("dp", study.Baseline);
        var b = study.Budget;
        foreach (var name in new[] { "dp", "dpag-released", "dpag-released-x0.4" }) Assert.True(study.Variant(name).Seeds.Count >= 3, name);
        Assert.All(study.Variants, v => Assert.True(v.Seeds.Count >= 2, v.Name));

        Assert.Equal(PolicyKind.Dp, study.Variant("dp").Spec(b).Kind);
        Assert.Equal(1.0, study.Variant("dpag-released").ResolvedNoiseScale(b));
        Assert.Equal(0.4, study.Variant("dpag-released-x0.4").ResolvedNoiseScale(b), 12);
        string Json(string v) => study.Variant(v).Spec(b).ToJson();
        ActionGuidedConfig Ag(string v) => ((DpAgSpec)study.Variant(v).Spec(b)).Config;
        Assert.Equal(Json("dpag-released"), Json("dpag-released-x0.4"));   // one network, sampled two ways
        Assert.Equal(0.0, Ag("dpag-no-contrastive").Loss.ContrastiveWeight);
        var noKl = Ag("dpag-no-kl");
        Assert.Equal(0.0, noKl.Loss.KlWeight);
        Assert.InRange(Math.Exp(noKl.LogVarMin / 2), 0.999, 1.0);   // sigma pinned to 1
        Assert.Equal(1.0, Ag("dpag-eps-target").Loss.DenoisingTargetScale);
        Assert.Equal(1.0, study.Variant("dpag-eps-target").ResolvedNoiseScale(b));
        Assert.Equal(-1.0, Ag("dpag-vjp-descent").Guidance.Sign);
        Assert.Equal(0.5, Ag("dpag-gamma-0.5").Guidance.Gamma);
        Assert.Equal(2.0, Ag("dpag-gamma-2").Guidance.Gamma);
        var paper = Ag("dpag-paper");
        Assert.Equal(ActionGuidedConfig.Paper.Guidance, paper.Guidance);
        Assert.Equal(ActionGuidedConfig.Paper.Loss, paper.Loss);
        Assert.True(paper.LearnedMean && paper.EvolveLatentAtInference);

        var metrics = study.Claims.Select(c => c.Metric).ToHashSet();
        Assert.Superset(new HashSet<string> { "pusht.score", "dynamic.score", "pusht.action_jerk", "convergence.steps" }, metrics);
        var (runs, train, evaluations, eval) = StudyRunner.PlanOf(study);
        Assert.Equal(22, runs);                 // the two released forms share their 3 runs
        Assert.Equal(3 * 45 + 3 * 80 + 16 * 80 / 2, train);  // minutes, from the file's plan; the ablations at half the budget

        // Ablations at half the budget are compared with the released DP-AG at that budget, never with the full-budget DP.
        var reference = study.Variant("dpag-released-x0.4-12k");
        Assert.Equal(12000, study.StepsOf(reference));
        foreach (var v in study.Variants.Where(v => v.AblationOf == reference.Name))
        {
            Assert.Equal(12000, study.StepsOf(v));
            Assert.Equal([reference.Name], StudyTable.ComparedWith(study, v));
        }
        Assert.Equal(7, study.Variants.Count(v => v.AblationOf == reference.Name));
        Assert.Equal(["dp", "dpag-released-x0.4"], StudyTable.ComparedWith(study, study.Variant("dpag-released")));
        Assert.Empty(StudyTable.ComparedWith(study, reference));
        Assert.All(study.Claims, c => Assert.Equal(24000, study.StepsOf(study.Variant(c.Variant))));
        Assert.True(evaluations > 0 && eval > 0);

        var tiny = StudyDefinition.Load(StudyPath("ci-tiny.json"));
        Assert.Equal("ci", tiny.Budget.Name);
        Assert.Equal(4, tiny.Cells.Count);
    }

    [Fact]
    public void CellsAreNamedVariantSlashSeed()
    {
        var study = StudyDefinition.Load(StudyPath("ci-tiny.json"));
        Assert.Equal(new StudyCellId("dpag", 1), study.Cell("dpag/1"));
        Assert.Contains("not a cell of study ci-tiny", Assert.Throws<ArgumentException>(() => study.Cell("dp/7")).Message);
        Assert.Contains("use VARIANT/SEED", Assert.Throws<ArgumentException>(() => study.Cell("dp")).Message);
    }

    private const string Good = """
        { "name": "t", "budget": "ci", "seeds": [0, 1], "baseline": "dp",
          "variants": [ { "name": "dp", "policy": "dp" }, { "name": "ag", "policy": "dp-ag" OVERRIDES } ] CLAIMS }
        """;

    private static string Bad(string overrides = "", string claims = "") => Good.Replace("OVERRIDES", overrides).Replace("CLAIMS", claims);

    private static string Refused(string json) => Assert.ThrowsAny<Exception>(() => StudyDefinition.Parse(json, "bad.json")).Message;

    [Fact]
    public void BadStudyFilesAreRefusedWithClearMessages()
    {
        Assert.Equal(2, StudyDefinition.Parse(Bad(), "good.json").Variants.Count);

        var m = Refused(Bad(", \"overrides\": { \"contrastiv_weight\": 0 }"));
        Assert.Contains("variant 'ag': unknown override 'contrastiv_weight'", m);
        Assert.Contains("contrastive_weight", m);   // the known keys are listed
        Assert.Contains("vjp_sign", m);
        Assert.Contains("needs a number", Refused(Bad(", \"overrides\": { \"gamma\": \"big\" }")));
        Assert.Contains("LatentGuidanceConfig.Sign = 0.5 is invalid", Refused(Bad(", \"overrides\": { \"vjp_sign\": 0.5 }")));
        Assert.Contains("needs one of", Refused(Bad(", \"overrides\": { \"guidance_form\": \"Sideways\" }")));
        Assert.Contains("noise_scale -1 is invalid", Refused(Bad(", \"noise_scale\": -1")));
        Assert.Contains("unknown field 'seed'", Refused(Bad(", \"seed\": 3")));
        Assert.Contains("Known: name, description, policy", Refused(Bad(", \"seed\": 3")));
        Assert.Contains("unknown field 'budgett'", Refused("""{ "budgett": "ci" }"""));
        Assert.Contains("not valid JSON", Refused("{ \"name\": "));
        Assert.Contains("unknown budget 'gpu-week'", Refused(Good.Replace("\"ci\"", "\"gpu-week\"").Replace("OVERRIDES", "").Replace("CLAIMS", "")));
        Assert.Contains("policy 'lstm' is unknown", Refused(Bad().Replace("\"policy\": \"dp-ag\"", "\"policy\": \"lstm\"")));
        Assert.Contains("variant name 'dp' is used 2 times", Refused(Bad().Replace("\"name\": \"ag\"", "\"name\": \"dp\"")));
        Assert.Contains("baseline 'dp' is not a variant", Refused(Bad().Replace("{ \"name\": \"dp\", \"policy\": \"dp\" }, ", "")));
        Assert.Contains("seeds [0, 0] repeats a seed", Refused(Bad().Replace("[0, 1]", "[0, 0]")));
        Assert.Contains("'seeds' is missing", Refused(Bad().Replace("\"seeds\": [0, 1], ", "")));
        Assert.Contains("is DP, whose network the DP-AG overrides do not change",
            Refused(Bad().Replace("{ \"name\": \"dp\", \"policy\": \"dp\" }", "{ \"name\": \"dp\", \"policy\": \"dp\", \"overrides\": { \"gamma\": 2 } }")));
        Assert.Contains("an ablation needs its reference's budget", Refused(Bad(", \"steps\": 20, \"ablation_of\": \"dp\"")));
        Assert.Contains("unknown metric 'pusht.coverage'",
            Refused(Bad(claims: ", \"claims\": [ { \"name\": \"c\", \"variant\": \"ag\", \"metric\": \"pusht.coverage\", \"paper_effect\": 0.04 } ]")));
        Assert.Contains("compares the baseline 'dp' with itself",
            Refused(Bad(claims: ", \"claims\": [ { \"name\": \"c\", \"variant\": \"dp\", \"metric\": \"pusht.score\", \"paper_effect\": 0.04 } ]")));
        Assert.Contains("paper_effect -0.04 must be positive",
            Refused(Bad(claims: ", \"claims\": [ { \"name\": \"c\", \"variant\": \"ag\", \"metric\": \"pusht.score\", \"paper_effect\": -0.04 } ]")));
        Assert.Contains("trains 20 steps and the baseline 'dp' 40; a claim compares the same budget",
            Refused(Bad(", \"steps\": 20", ", \"claims\": [ { \"name\": \"c\", \"variant\": \"ag\", \"metric\": \"pusht.score\", \"paper_effect\": 0.04 } ]")));
        Assert.Contains("environments [pusht, moon] must be distinct names from: pusht, dynamic",
            Refused(Bad(claims: ", \"evaluation\": { \"environments\": [\"pusht\", \"moon\"] }")));
    }

    [Fact]
    public void CellsUseTheRunsOfDpagTrainBudget()
    {
        // A study cell without overrides is the run `dpag train --budget B --store S --seed N` makes: the store reuses it.
        Torch.Init();
        var study = StudyDefinition.Load(StudyPath("ci-tiny.json"));
        var runner = new StudyRunner(study, Path.Combine(Path.GetTempPath(), "unused-store"), Path.Combine(CliRunner.RepoRoot, "data", "pusht_expert.zarr"));
        var budget = TrainBudget.Ci;
        foreach (var (kind, variant) in new[] { ("dp", "dp"), ("dp-ag", "dpag") })
        {
            var spec = budget.Spec(kind);
            var data = DpAg.Data.PushTDataset.Open(runner.DatasetPath, TrainBudget.DatasetConfig(spec));
            foreach (long seed in new long[] { 0, 1 })
                Assert.Equal(runner.Store.RunDir(spec, data, budget.Train with { Seed = seed }, budget.Validation(spec, seed)),
                    runner.Resolve(new StudyCellId(variant, seed)).RunDir);
        }
        Assert.NotEqual(runner.Resolve(new StudyCellId("dp", 0)).RunDir, runner.Resolve(new StudyCellId("dp", 1)).RunDir);
        Assert.False(Directory.Exists(runner.Store.Root));   // resolving creates nothing
    }

    [Fact]
    public void AReducedBudgetKeepsTheBudgetsProportions()
    {
        // Half the steps: checkpoints and validations every half as many steps, so the last checkpoints and the
        // convergence grid cover the same fraction of training; the full-budget cells are unchanged.
        Torch.Init();
        var study = StudyDefinition.Parse("""
            { "name": "t", "budget": "ci", "seeds": [0], "baseline": "dp",
              "variants": [ { "name": "dp", "policy": "dp" }, { "name": "ref", "policy": "dp-ag", "steps": 20 },
                            { "name": "abl", "policy": "dp-ag", "steps": 20, "overrides": { "gamma": 2 }, "ablation_of": "ref" } ] }
            """, "half.json");
        var runner = new StudyRunner(study, Path.Combine(Path.GetTempPath(), "unused-store"), Path.Combine(CliRunner.RepoRoot, "data", "pusht_expert.zarr"));
        var full = runner.Resolve(new StudyCellId("dp", 0));
        Assert.Equal((40L, 20L, 20L), (full.Train.Steps!.Value, full.Train.CheckpointEvery, full.Validation.Every));
        foreach (var name in new[] { "ref", "abl" })
        {
            var half = runner.Resolve(new StudyCellId(name, 0));
            Assert.Equal((20L, 10L, 10L), (half.Train.Steps!.Value, half.Train.CheckpointEvery, half.Validation.Every));
        }
        Assert.Equal(["ref"], StudyTable.ComparedWith(study, study.Variant("abl")));
        Assert.Empty(StudyTable.ComparedWith(study, study.Variant("ref")));
        Assert.Empty(StudyTable.ComparedWith(study, study.Variant("dp")));
    }
}
