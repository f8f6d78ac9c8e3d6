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
            Assert.Contains(nb.Outputs("text/html"), s => s.Contains("<table class=\"dpag-frame\"") && s.Contains("DDIM 8") && s.Contains("learned, DDPM 100"));
            Assert.True(nb.Outputs("text/html").Count(IsPng) >= 2, "expected the loss curve and the samples figure as PNG");
        },
        ["02-variational-bound.ipynb"] = nb =>
        {
            Assert.Contains(nb.Outputs("text/plain"), s => s.Contains("exact log p(y | z_t)"));
            Assert.Contains(nb.Outputs("text/html"), s => s.Contains("exact posterior") && s.Contains("the prior N(z_t, I)"));
            Assert.Contains(nb.Outputs("text/html"), s => IsPlotly(s) && s.Contains("heatmap"));
            Assert.Contains(nb.Outputs("text/plain"), s => s.Contains("path-space KL: Girsanov formula"));
        },
        ["03-vjp-and-sde.ipynb"] = nb =>
        {
            Assert.Contains(nb.Outputs("text/html"), s => s.Contains("max |VJP - J^T eps|"));
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
            Assert.Contains(nb.Outputs("text/html"), s => s.Contains("MeanMaxCoverage") && s.Contains("<td>dp</td>") && s.Contains("<td>dp-ag</td>"));
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
        },
        ["09-dynamic-pusht.ipynb"] = nb =>
        {
            Assert.Contains(nb.Outputs("text/plain"), s => s.StartsWith("the ball moved the T in "));
            Assert.Contains(nb.Outputs("text/html"), s => s.Contains("<td>Dynamic Push-T</td>") && s.Contains("<td>dp-ag</td>"));
            Assert.Contains(nb.Outputs("text/html"), s => s.Contains("Dynamic Push-T</b>") && s.Contains("data:image/gif;base64,"));
        },
        ["07-contrastive-alignment.ipynb"] = nb =>
        {
            Assert.Contains(nb.Outputs("text/html"), s => s.Contains("PositiveCosine") && s.Contains("Uniformity"));
            Assert.Contains(nb.Outputs("text/html"), s => IsPlotly(s) && s.Contains("positive cos(u_i, v_i)"));
            Assert.Contains(nb.Outputs("text/html"), s => IsPlotly(s) && s.Contains("sample 7 evolved"));
            Assert.Contains(nb.Outputs("text/html"), IsPng);
        },
        ["10-reproducing-the-paper.ipynb"] = nb =>
        {
            var table = Assert.Single(nb.Outputs("text/html"), s => s.Contains("PaperCoverage"));
            Assert.Contains("0.95 &#177; 0.03", table);   // the paper's DP keypoint coverage next to the kit's
            Assert.Contains("0.99 &#177; 0.01", table);
            Assert.Contains(nb.Outputs("text/html"), IsPng);
            Assert.Contains(nb.Outputs("text/plain"), s => s.Contains("paper_loss_curves.png"));
            Assert.True(File.Exists(Path.Combine(NotebookRunner.RepoRoot, "artifacts", "figures", "paper_scores.png")), "notebook 10 exports its figures as PNG");
        },
        ["06-latent-continuity.ipynb"] = nb =>
        {
            Assert.Contains(nb.Outputs("text/html"), s => IsPlotly(s) && s.Contains("DP-AG (evolving): ‖Δz‖"));
            Assert.Contains(nb.Outputs("text/html"), IsPng);
            Assert.Contains(nb.Outputs("text/html"), s => s.Contains("MeanActionJerk") && s.Contains("<td>dp-ag</td>"));
        },
    };

    private static bool IsPlotly(string html) => html.Contains("Plotly chart will be drawn inside this DIV");

    private static bool IsPng(string html) => html.StartsWith("<img src=\"data:image/png;base64,iVBORw0KGgo");
}
