namespace DpAg.Evaluation;

/// <summary>One reported number of the DP-AG paper (Wang et al., NeurIPS 2025), as docs/method.md records it.</summary>
public sealed record PaperResult(string Benchmark, string Method, double Value, double? Std, string Metric);

/// <summary>The paper's reported results that the kit can be compared with.</summary>
public static class PaperResults
{
    /// <summary>Target coverage on Push-T (image, keypoint) and Dynamic Push-T (image).</summary>
    public static IReadOnlyList<PaperResult> TargetCoverage { get; } =
    [
        new("Push-T image", "DP", 0.87, 0.04, "target coverage"),
        new("Push-T image", "DP-AG", 0.93, 0.02, "target coverage"),
        new("Push-T keypoint", "DP", 0.95, 0.03, "target coverage"),
        new("Push-T keypoint", "DP-AG", 0.99, 0.01, "target coverage"),
        new("Dynamic Push-T image", "DP", 0.65, 0.85, "target coverage"),
        new("Dynamic Push-T image", "DP-AG", 0.80, 0.53, "target coverage"),
        new("Push-T image", "LSTM-GMM", 0.69, null, "target coverage"),
        new("Push-T keypoint", "LSTM-GMM", 0.67, null, "target coverage"),
        new("Push-T image", "IBC", 0.75, null, "target coverage"),
        new("Push-T keypoint", "IBC", 0.90, null, "target coverage"),
        new("Push-T image", "BET", 0.80, null, "target coverage"),
        new("Push-T keypoint", "BET", 0.79, null, "target coverage"),
        new("Push-T image", "FlowPolicy", 0.85, null, "target coverage"),
        new("Push-T keypoint", "FlowPolicy", 0.88, null, "target coverage"),
        new("Push-T image", "AdaFlow", 0.87, null, "target coverage"),
        new("Push-T keypoint", "AdaFlow", 0.91, null, "target coverage"),
    ];

    /// <summary>Average jerk on the real UR5 tasks (DP -> DP-AG); the paper's unit, not the kit's px/s^3.</summary>
    public static IReadOnlyList<PaperResult> RealRobotJerk { get; } =
    [
        new("UR5 painting", "DP", 0.083, null, "average jerk"), new("UR5 painting", "DP-AG", 0.032, null, "average jerk"),
        new("UR5 candy push", "DP", 0.107, null, "average jerk"), new("UR5 candy push", "DP-AG", 0.039, null, "average jerk"),
        new("UR5 peg-in-hole", "DP", 0.096, null, "average jerk"), new("UR5 peg-in-hole", "DP-AG", 0.036, null, "average jerk"),
    ];

    /// <summary>The paper's claim about convergence: DP-AG needs about 50 % fewer epochs than DP.</summary>
    public const double ConvergenceEpochRatio = 0.5;
}
