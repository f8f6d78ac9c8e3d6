using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace DpAg.NotebookTests;

/// <summary>Every notebook runs top to bottom in the real kernel with the CI budget and shows its key outputs.</summary>
public class NotebookTests(ITestOutputHelper output)
{
    public static TheoryData<string> AllNotebooks()
    {
        var data = new TheoryData<string>();
        foreach (var path in Directory.GetFiles(Path.Combine(NotebookRunner.RepoRoot, "notebooks"), "*.ipynb").Order())
            data.Add(Path.GetFileName(path));
        return data;
    }

    [Theory]
    [MemberData(nameof(AllNotebooks))]
    public void CommittedNotebookHasNoOutputs(string notebook)
    {
        var doc = JsonNode.Parse(File.ReadAllText(Path.Combine(NotebookRunner.RepoRoot, "notebooks", notebook)))!;
        foreach (var cell in doc["cells"]!.AsArray().Where(c => (string?)c!["cell_type"] == "code"))
        {
            Assert.True(cell!["outputs"]!.AsArray().Count == 0, $"{notebook} is committed with outputs; clear them before committing.");
            Assert.True(cell["execution_count"] is null, $"{notebook} is committed with execution counts; clear outputs before committing.");
        }
    }

    private static readonly object TimesLock = new();

    [Theory]
    [MemberData(nameof(AllNotebooks))]
    public void NotebookRunsTopToBottom(string notebook)
    {
        var executed = NotebookRunner.Execute(notebook);
        string line = $"{notebook}: executed in {executed.Elapsed.TotalSeconds:F1} s (CI budget)";
        output.WriteLine(line);
        lock (TimesLock) File.AppendAllText(Path.Combine(NotebookRunner.RepoRoot, "artifacts", "notebooks", "ci-times.txt"), line + "\n");
        executed.AssertNoErrors();
        Assert.True(KeyOutputs.ContainsKey(notebook), $"{notebook} has no key-output check; add one to {nameof(KeyOutputs)}.");
        KeyOutputs[notebook](executed);
    }

    /// <summary>What each notebook must show, beyond running without errors.</summary>
    private static readonly Dictionary<string, Action<ExecutedNotebook>> KeyOutputs = new()
    {
        ["00-tour.ipynb"] = nb =>
        {
            Assert.Contains(nb.Outputs("stream"), s => s.Contains("DpAg: device cpu"));
            Assert.Contains(nb.Outputs("text/plain"), s => s.Contains("backward and double backward OK"));
            Assert.Contains(nb.Outputs("text/plain"), s => s.Contains("kit's own libtorch"));
            // The kit's Plotly formatter (DpAg.Plots.OfflinePlotly) keeps Plotly.NET's marker and renderPlotly_ function.
            Assert.Contains(nb.Outputs("text/html"), s => s.Contains("Plotly chart will be drawn inside this DIV") && s.Contains("renderPlotly"));
            Assert.Contains(nb.Outputs("text/html"), s => s.StartsWith("<img src=\"data:image/png;base64,iVBORw0KGgo"));
            Assert.Contains(nb.Outputs("text/html"), s => s.Contains("<table class=\"dpag-frame\"") && s.Contains("DP-AG"));
        },
        ["01-diffusion-primer.ipynb"] = nb =>
        {
            Assert.True(nb.Outputs("text/html").Count(IsPlotly) >= 3, "expected the target, forward-noising and denoising charts");
            Assert.Contains(nb.Outputs("text/html"), s => s.Contains("steps") && s.Contains("sliders")); // the denoising animation
            var samplers = NotebookValues.ParseFrame(Assert.Single(nb.Outputs("text/html"), s => s.Contains("<table class=\"dpag-frame\"") && s.Contains("learned, DDPM 100")));
            // With the exact denoiser, DDPM 100 recovers the mixture's mode weights (total variation near 0); every row is a distance.
            Assert.True(samplers.Single(r => r["Sampler"] == "DDPM 100").Num("ModeWeightTv") < 0.05, "the exact DDPM 100 sampler must recover the mode weights");
            Assert.All(samplers, r => Assert.InRange(r.Num("ModeWeightTv"), 0, 1));
            Assert.True(nb.Outputs("text/html").Count(IsPng) >= 2, "expected the loss curve and the samples figure as PNG");
        },
        ["02-variational-bound.ipynb"] = nb =>
        {
            // Every Monte Carlo estimate of the derivation agrees with its closed form within 4 standard errors, and the
            // bounds hold: the ELBO is below log p unless q is the exact posterior, where it equals log p.
            double logP = nb.Line(@"exact log p\(y \| z_t\) = (\S+)")[0];
            var fromPrior = nb.Line(@"Monte Carlo (\S+) ± (\S+) \(1 s\.e\.\) vs closed form (\S+)");
            Within(fromPrior[0], logP, fromPrior[1], "log p by sampling the prior");
            var weights = nb.Frame("Quantity", "Value", "StdErr");
            var logMeanWeight = weights.Single(r => r["Quantity"].StartsWith("log E_q[w]"));
            Within(logMeanWeight.Num("Value"), logP, logMeanWeight.Num("StdErr"), "log E_q[w]");
            var meanLogWeight = weights.Single(r => r["Quantity"].StartsWith("E_q[log w]"));
            Assert.True(meanLogWeight.Num("Value") + 4 * meanLogWeight.Num("StdErr") < logP, $"Jensen: E_q[log w] {meanLogWeight.Num("Value")} must be below log p {logP}");
            Assert.True(nb.Line(@"max \|log-likelihood - \(-MSE/\(2s²\) \+ const\)\| = (\S+)")[0] < 1e-10, "the Gaussian log-likelihood is the denoising loss up to a constant");
            foreach (var kl in nb.Frame("Prior", "ClosedForm", "MonteCarlo", "StdErr"))
                Within(kl.Num("MonteCarlo"), kl.Num("ClosedForm"), kl.Num("StdErr"), $"KL to {kl["Prior"]}");
            var elbo = nb.Frame("q", "Elbo", "StdErr", "LogP");
            var atPosterior = elbo.Single(r => r["q"] == "exact posterior");
            Within(atPosterior.Num("Elbo"), logP, atPosterior.Num("StdErr"), "the ELBO at the exact posterior");
            var atPrior = elbo.Single(r => r["q"] == "the prior N(z_t, I)");
            Assert.True(atPrior.Num("Elbo") + 4 * atPrior.Num("StdErr") < logP, "the ELBO at the prior is a strict lower bound");
            Assert.Contains(nb.Outputs("text/html"), s => IsPlotly(s) && s.Contains("heatmap"));
            var girsanov = nb.Line(@"Girsanov formula (\S+) nats, Monte Carlo log-ratio (\S+) ± (\S+)");
            Within(girsanov[1], girsanov[0], girsanov[2], "the path-space KL");
        },
        ["03-vjp-and-sde.ipynb"] = nb =>
        {
            var checks = nb.Frame("Check", "Value");
            double scale = checks.Single(r => r["Check"] == "max |VJP| (scale)").Num("Value");
            Assert.True(scale > 0, "the VJP is not zero");
            double error = checks.Single(r => r["Check"] == "max |VJP - J^T eps|").Num("Value");
            Assert.True(error <= 1e-5 * Math.Max(1, scale), $"one backward pass equals the explicit J^T eps in float32: {error} at scale {scale}");
            Assert.Equal(0, checks.Single(r => r["Check"].StartsWith("cross-sample")).Num("Value"));
            foreach (var step in nb.Frame("ObsStep", "VjpNorm", "ReleasedMoveInSigmas", "PaperMoveInSigmas"))
            {
                Assert.Equal(1, step.Num("ReleasedMoveInSigmas"), 3);                            // the released step moves one sigma
                Assert.Equal(step.Num("VjpNorm"), step.Num("PaperMoveInSigmas"), 3);             // the paper's moves gamma ||VJP|| = ||VJP||
            }
            Assert.Contains(nb.Outputs("text/html"), s => IsPlotly(s) && s.Contains("scatter3d"));
            Assert.Contains(nb.Outputs("text/html"), IsPng);
            Assert.Contains(nb.Outputs("text/html"), s => s.Contains("ReleasedMoveInSigmas"));
        },
        ["04-contrastive-loss.ipynb"] = nb =>
        {
            Assert.Contains(nb.Outputs("text/html"), s => s.Contains("ByHand") && s.Contains("cycle"));
            // Theorem 1 is a guarantee: every measured row must satisfy it.
            var theorem = Assert.Single(nb.Outputs("text/html"), s => s.Contains("CosineLowerBound") && s.Contains("Holds"));
            Assert.DoesNotContain("<td>False</td><td>True</td>", theorem);
            Assert.Contains(nb.Outputs("text/html"), s => IsPlotly(s) && s.Contains("heatmap"));
            Assert.Contains(nb.Outputs("text/html"), IsPng);
            Assert.Contains(nb.Outputs("text/html"), s => s.Contains("SmallestLThatBoundsIt"));
        },
        ["05-training.ipynb"] = nb =>
        {
            Assert.True(nb.Outputs("text/html").Count(IsPng) >= 2, "expected the loss curves and the learning curve (and live curves when it trains)");
            Assert.Contains(nb.Outputs("text/html"), s => s.Contains("step-0000000") && s.Contains("dp-ag"));
            var scores = nb.Frame("Policy", "TargetCoverage", "MeanMaxCoverage", "SuccessRate", "MeanAgentJerk");
            Assert.Equal(["dp", "dp-ag"], scores.Select(r => r["Policy"]));
            foreach (var r in scores) AssertScores(r.Num("TargetCoverage"), r.Num("MeanMaxCoverage"), r.Num("SuccessRate"), r.Num("MeanAgentJerk"));
            Assert.Contains(nb.Outputs("text/html"), s => s.Contains("data:image/gif;base64,R0lGODlh"));
        },
        ["08-irregular-spirals.ipynb"] = nb =>
        {
            Assert.Contains(nb.Outputs("text/html"), s => s.Contains("MseRatio") && s.Contains("width 16, n 32, 8 steps") && s.Contains("LatentCurvatureRatio"));
            Assert.Contains(nb.Outputs("text/html"), s => s.Contains("MseFloor") && s.Contains("RK4"));
            Assert.True(nb.Outputs("text/html").Count(IsPlotly) >= 3, "expected the effects, trajectory and latent charts");
            Assert.Contains(nb.Outputs("text/html"), IsPng);
            // The verdict is one of the three words and follows from the printed interval by the rule of docs/spirals.md.
            var effect = System.Text.RegularExpressions.Regex.Match(string.Concat(nb.Outputs("stream")),
                @"effect ln\(guided/base\): mean (\S+) low (\S+) high (\S+) pairs (\d+)");
            Assert.True(effect.Success, "expected the printed effect and interval");
            double Num(int g) => double.Parse(effect.Groups[g].Value, System.Globalization.CultureInfo.InvariantCulture);
            double mean = Num(1), low = Num(2), high = Num(3);
            Assert.True(low <= mean && mean <= high && high - low > 0, $"interval [{low}, {high}] around {mean}");
            Assert.Equal("2", effect.Groups[4].Value);                                                   // the CI sweep's paired seeds
            var line = Assert.Single(nb.Outputs("text/plain"), s => s.StartsWith("Verdict: "));
            var word = System.Text.RegularExpressions.Regex.Match(line, @"^Verdict: (reproduced|not reproduced|inconclusive)\.");
            Assert.True(word.Success, line);
            string expected = high < 0 && mean <= Math.Log(0.90) ? "reproduced" : low > Math.Log(0.0052 / 0.0095) ? "not reproduced" : "inconclusive";
            Assert.Equal(expected, word.Groups[1].Value);
            Assert.Contains(FormattableString.Invariant($"{Math.Exp(mean):F3} [{Math.Exp(low):F3}, {Math.Exp(high):F3}]"), line);
            Assert.Contains(nb.Outputs("text/plain"), s => s.StartsWith("Cells: reproduced "));
            // The solver's own error is far below what the models reach, so it cannot decide a comparison.
            double floor = nb.Frame("Solver", "MseFloor").First().Num("MseFloor");
            var cells = nb.Frame("Cell", "BaseMse", "GuidedMse", "MseRatio", "Verdict");
            Assert.Equal(8, cells.Count);
            Assert.True(floor < 0.01 * cells.Min(c => c.Num("BaseMse")), $"the RK4 floor {floor} must be far below the models' MSE");
            foreach (var c in cells)
            {
                var ratio = System.Text.RegularExpressions.Regex.Match(c["MseRatio"], @"^(\S+) \[(\S+), (\S+)\]$");
                Assert.True(ratio.Success, c["MseRatio"]);
                double r = NotebookValues.Number(ratio.Groups[1].Value), lo = NotebookValues.Number(ratio.Groups[2].Value), hi = NotebookValues.Number(ratio.Groups[3].Value);
                Assert.True(lo <= r && r <= hi, $"{c["Cell"]}: ratio {r} outside its interval [{lo}, {hi}]");
                string cellVerdict = hi < 1 && r <= 0.90 ? "reproduced" : lo > 0.0052 / 0.0095 ? "not reproduced" : "inconclusive";
                Assert.Equal(cellVerdict, c["Verdict"]);                                          // the rule of docs/spirals.md, per cell
            }
        },
        ["09-dynamic-pusht.ipynb"] = nb =>
        {
            var moved = nb.Line(@"the ball moved the T in (\d+) of (\d+) episodes");
            Assert.True(moved[0] > 0 && moved[0] <= moved[1], $"the ball must move the T in some episodes: {moved[0]} of {moved[1]}");
            var table = nb.Frame("Policy", "Task", "MeanMaxCoverage", "SuccessRate");
            Assert.Equal(4, table.Count);
            Assert.Contains(table, r => r["Task"] == "Dynamic Push-T" && r["Policy"] == "dp-ag");
            foreach (var r in table) Assert.InRange(r.Num("MeanMaxCoverage"), 0, 1);
            Assert.Contains(nb.Outputs("text/html"), s => s.Contains("Dynamic Push-T</b>") && s.Contains("data:image/gif;base64,"));
        },
        ["07-contrastive-alignment.ipynb"] = nb =>
        {
            var alignment = nb.Frame("Step", "PositiveCosine", "NegativeCosine", "Alignment", "Uniformity");
            Assert.True(alignment.Count >= 2, "the alignment is measured at several checkpoints");
            foreach (var r in alignment)
            {
                // For unit vectors ||u - v||^2 = 2 - 2 cos(u, v): the two columns are one measurement seen twice.
                Assert.Equal(2 - 2 * r.Num("PositiveCosine"), r.Num("Alignment"), 3);
                Assert.InRange(r.Num("NegativeCosine"), -1, 1);
                Assert.InRange(r.Num("Uniformity"), -8, 0);                                   // log E exp(-2 ||u_i - u_j||^2)
            }
            Assert.Contains(nb.Outputs("text/html"), s => IsPlotly(s) && s.Contains("positive cos(u_i, v_i)"));
            Assert.Contains(nb.Outputs("text/html"), s => IsPlotly(s) && s.Contains("sample 7 evolved"));
            Assert.Contains(nb.Outputs("text/html"), IsPng);
        },
        ["10-reproducing-the-paper.ipynb"] = nb =>
        {
            var table = nb.Frame("Policy", "Seeds", "Coverage", "PaperCoverage", "Success", "StepsToConverge");
            Assert.Equal(["DP", "DP-AG"], table.Select(r => r["Policy"]));
            foreach (var r in table)
            {
                Assert.True(r.Num("Seeds") >= 1);
                Assert.InRange(r.Num("Coverage"), 0, 1);                                         // the kit's own score
                Assert.InRange(r.Num("Success"), 0, 1);
                Assert.True(r.Num("StepsToConverge") >= 0);
            }
            Assert.Equal("0.95 ± 0.03", table[0]["PaperCoverage"]);                              // the paper's keypoint numbers beside them
            Assert.Equal("0.99 ± 0.01", table[1]["PaperCoverage"]);
            Assert.Contains(nb.Outputs("text/html"), IsPng);
            Assert.Contains(nb.Outputs("text/plain"), s => s.Contains("paper_loss_curves.png"));
            var started = DateTime.UtcNow - nb.Elapsed - TimeSpan.FromSeconds(5);
            foreach (var figure in new[] { "paper_loss_curves.png", "paper_scores.png" })
            {
                string path = Path.Combine(NotebookRunner.RepoRoot, "artifacts", "figures", figure);
                Assert.True(File.Exists(path) && File.GetLastWriteTimeUtc(path) >= started, $"notebook 10 writes {figure} in this run");
            }

            // The study section: one verdict per claim of the study file, computed from an interval that holds its estimate.
            var study = JsonNode.Parse(File.ReadAllText(Path.Combine(NotebookRunner.RepoRoot, "studies", "dpag-vs-dp.json")))!;
            var claims = nb.Frame("Claim", "Seeds", "TestSeeds", "Effect", "Lower", "Upper", "Verdict", "Reason");
            Assert.Equal(study["claims"]!.AsArray().Select(c => (string)c!["name"]!), claims.Select(r => r["Claim"]));
            foreach (var c in claims)
            {
                Assert.Contains(c["Verdict"], new[] { "reproduced", "not reproduced", "inconclusive at this scale" });
                if (c.Num("Seeds") == 0) { Assert.Equal("inconclusive at this scale", c["Verdict"]); continue; }
                Assert.True(c.Num("Lower") <= c.Num("Effect") && c.Num("Effect") <= c.Num("Upper"), $"{c["Claim"]}: the estimate lies in its interval");
                if (c.Num("Seeds") < 3) Assert.Equal("inconclusive at this scale", c["Verdict"]);   // the study's min_seeds
            }
            bool archived = Directory.EnumerateDirectories(Path.Combine(NotebookRunner.RepoRoot, "docs", "results"), "*-dpag-vs-dp")
                .Any(d => Directory.Exists(Path.Combine(d, "runs")));
            var source = Assert.Single(nb.Outputs("text/plain"), s => s.Contains("cells evaluated") || s.Contains("no evaluated cell yet"));
            if (archived)
            {
                Assert.Contains("cells evaluated", source);                                   // the committed results are read
                Assert.Contains(claims, c => c.Num("Seeds") >= 1);
                Assert.Contains(nb.Outputs("text/html"), s => IsPlotly(s) && s.Contains("Paired effect against dp"));
                // The committed archive pairs DP-AG sampled as released with the same run sampled at 0.4: an ablation.
                Assert.Contains(nb.Outputs("text/html"), s => IsPlotly(s) && s.Contains("Ablations: paired effect against the variant each changes")
                    && s.Contains("dpag-released vs dpag-released-x0.4 (pusht.score)"));
                // ... and the same comparisons ranked in words, the report's "which part carries the difference".
                string ranked = string.Concat(nb.Outputs("stream"));
                Assert.Contains("Ranked by the size of the effect on pusht target coverage", ranked);
                Assert.Contains("dpag-released (DP-AG as released", ranked);
                Assert.Contains("Coverage moves clearly (an interval excludes zero in at least one environment) with: ", ranked);
            }
        },
        ["06-latent-continuity.ipynb"] = nb =>
        {
            Assert.Contains(nb.Outputs("text/html"), s => IsPlotly(s) && s.Contains("DP-AG (evolving): ‖Δz‖"));
            Assert.Contains(nb.Outputs("text/html"), IsPng);
            var smoothness = nb.Frame("Policy", "MeanAgentJerk", "MeanActionJerk", "MeanMaxCoverage");
            Assert.Equal(["dp", "dp-ag"], smoothness.Select(r => r["Policy"]));
            foreach (var r in smoothness)
            {
                Assert.True(r.Num("MeanAgentJerk") > 0 && r.Num("MeanActionJerk") > 0 && double.IsFinite(r.Num("MeanActionJerk")));
                Assert.InRange(r.Num("MeanMaxCoverage"), 0, 1);
            }
        },
    };

    /// <summary>A Monte Carlo estimate agrees with its exact value within 4 of its standard errors.</summary>
    private static void Within(double estimate, double exact, double standardError, string what)
    {
        Assert.True(standardError > 0, $"{what}: standard error {standardError} must be positive");
        Assert.True(Math.Abs(estimate - exact) <= 4 * standardError,
            $"{what}: Monte Carlo {estimate} is {Math.Abs(estimate - exact) / standardError:F1} standard errors from the exact {exact}");
    }

    /// <summary>Target coverage is the mean of min(1, max coverage / 0.95), so it lies between the mean max coverage and that over 0.95.</summary>
    private static void AssertScores(double targetCoverage, double meanMaxCoverage, double successRate, double jerk)
    {
        Assert.InRange(meanMaxCoverage, 0, 1);
        Assert.InRange(targetCoverage, meanMaxCoverage - 1e-4, Math.Min(1, meanMaxCoverage / 0.95) + 1e-4);
        Assert.InRange(successRate, 0, 1);
        Assert.True(jerk > 0 && double.IsFinite(jerk), $"jerk {jerk}");
    }

    private static bool IsPlotly(string html) => html.Contains("Plotly chart will be drawn inside this DIV");

    private static bool IsPng(string html) => html.StartsWith("<img src=\"data:image/png;base64,iVBORw0KGgo");
}
