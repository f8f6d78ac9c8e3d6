using System.CommandLine;
using System.Globalization;
using System.Text;
using DpAg.Evaluation;
using DpAg.IO;
using DpAg.Policies;
using DpAg.Plots;

namespace DpAg.Cli;

/// <summary><c>dpag report</c>: compares trained and evaluated runs (DP vs DP-AG) in a Markdown report with PNG figures.</summary>
internal static class ReportCommand
{
    public static Command Create()
    {
        var runs = new Option<string[]>("--runs") { Description = "Run folders (each trained by `dpag train` and evaluated by `dpag eval`).", AllowMultipleArgumentsPerToken = true, Required = true };
        var output = new Option<string>("--output") { Description = "Report folder.", DefaultValueFactory = _ => "artifacts/report" };
        var title = new Option<string>("--title") { Description = "Report title.", DefaultValueFactory = _ => "DP vs DP-AG on Push-T" };
        var command = new Command("report", "Write a Markdown report (table + loss and score figures) comparing run folders.") { runs, output, title };
        command.SetAction(parse => Commands.Guarded(() =>
        {
            var summaries = parse.GetValue(runs)!.Select(RunSummary.Load).ToList();
            string dir = parse.GetValue(output)!;
            Directory.CreateDirectory(dir);
            var figures = new List<(string File, string Caption)>();
            void Save(ScottPlot.Plot plot, string file, string caption)
            {
                AtomicFile.WriteAllBytes(Path.Combine(dir, file), plot.GetImage(800, 450).GetImageBytes(ScottPlot.ImageFormat.Png));
                figures.Add((file, caption));
            }
            Save(RunFigures.LossCurves(summaries, "denoise", "Denoising loss"), "loss_denoise.png", "Denoising loss (moving average) per policy");
            if (summaries.Any(s => s.Metrics.Any(r => r.ContainsKey("contrastive"))))
            {
                Save(RunFigures.LossCurves(summaries, "contrastive", "DP-AG contrastive loss"), "loss_contrastive.png", "DP-AG's InfoNCE term");
                Save(RunFigures.LossCurves(summaries, "kl", "DP-AG KL term"), "loss_kl.png", "DP-AG's KL term");
            }
            if (summaries.Any(s => s.Eval is not null)) Save(RunFigures.Scores(summaries, "Push-T evaluation"), "scores.png", "Mean max coverage and success rate");
            if (summaries.Any(s => s.Validation.Count > 0))
            {
                Save(RunFigures.LearningCurves(summaries, againstMinutes: false, "Learning curves (validation seeds)"), "learning_curve_steps.png",
                    "Validation score during training against training steps");
                Save(RunFigures.LearningCurves(summaries, againstMinutes: true, "Learning curves (validation seeds)"), "learning_curve_minutes.png",
                    "Validation score during training against training minutes (validation time excluded)");
            }

            var md = new StringBuilder().AppendLine(CultureInfo.InvariantCulture, $"# {parse.GetValue(title)}").AppendLine();
            md.AppendLine(CultureInfo.InvariantCulture, $"Generated {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC by `dpag report`.").AppendLine();
            md.AppendLine("| policy | train steps | final denoise loss | eval checkpoint | episodes | sampler | mean max coverage | success rate | agent jerk (px/s³) | eval time (s) |");
            md.AppendLine("| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |");
            foreach (var s in summaries)
            {
                var (_, denoise) = s.Curve("denoise");
                var e = s.Eval;
                md.AppendLine(CultureInfo.InvariantCulture,
                    $"| {s.Policy} | {s.Metrics.Count} | {(denoise.Length > 0 ? denoise[^1] : double.NaN):G4} | {e?.CheckpointStep.ToString() ?? "-"} | {e?.Episodes.ToString() ?? "-"} | " +
                    $"{(e is null ? "-" : $"{e.Sampler} {e.InferenceSteps}")} | {e?.MeanMaxCoverage.ToString("F3", CultureInfo.InvariantCulture) ?? "-"} | " +
                    $"{e?.SuccessRate.ToString("F2", CultureInfo.InvariantCulture) ?? "-"} | {e?.MeanAgentJerk.ToString("G4", CultureInfo.InvariantCulture) ?? "-"} | {e?.Seconds.ToString("F1", CultureInfo.InvariantCulture) ?? "-"} |");
            }
            md.AppendLine().AppendLine("The table scores the checkpoint named in its column (`dpag eval --checkpoint`; default the latest) on the test seeds.");
            if (summaries.Any(s => s.Protocol is not null))
            {
                md.AppendLine().AppendLine("Protocol summaries of the test score over each run's kept checkpoints (`dpag eval --checkpoint all`): the checkpoint chosen on validation seeds " +
                                           "(never sees the test set), the maximum over checkpoints (Diffusion Policy's headline; chosen on the test seeds, so optimistic) and the mean of the last checkpoints.").AppendLine();
                md.AppendLine("| policy | best by validation: step | its test score | max over checkpoints: step | score | mean of last k | k |");
                md.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
                foreach (var s in summaries.Where(s => s.Protocol is not null))
                {
                    var p = s.Protocol!;
                    md.AppendLine(CultureInfo.InvariantCulture,
                        $"| {s.Policy} | {p.BestByValidationStep?.ToString(CultureInfo.InvariantCulture) ?? "-"} | {p.BestByValidationScore?.ToString("F3", CultureInfo.InvariantCulture) ?? "-"} | {p.MaxStep} | {p.MaxScore:F3} | {p.LastMeanScore:F3} | {p.LastCount} |");
                }
            }
            if (summaries.Any(s => s.Policy == PolicySpec.KindName(PolicyKind.DpAg)))
                md.AppendLine().AppendLine("DP-AG's denoise term follows the released code: its target is noise / 0.4, so it reads 6.25x a DP loss of the same quality.");
            md.AppendLine().AppendLine("Paper (Push-T keypoint, target coverage): DP 0.95 ± 0.03, DP-AG 0.99 ± 0.01, after 5000 epochs of a 65.8M-parameter U-Net on 206 human demonstrations;" +
                                       " these runs are CPU-sized (see the table), so compare shapes, not values.").AppendLine();
            foreach (var (file, caption) in figures) md.AppendLine(CultureInfo.InvariantCulture, $"![{caption}]({file})").AppendLine();
            AtomicFile.WriteAllText(Path.Combine(dir, "report.md"), md.ToString());
            Console.WriteLine(md.ToString());
            return 0;
        }));
        return command;
    }
}
