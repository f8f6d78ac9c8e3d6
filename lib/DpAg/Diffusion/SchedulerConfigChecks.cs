namespace DpAg.Diffusion;

/// <summary>Checks shared by the scheduler configs.</summary>
internal static class SchedulerConfigChecks
{
    public static void Common(string config, int numTrain, BetaScheduleKind kind, double betaStart, double betaEnd,
        PredictionType prediction, double clipRange, int numInference)
    {
        if (numTrain < 1)
            throw new ArgumentException($"{config}.NumTrainTimesteps must be at least 1, got {numTrain}.");
        if (!Enum.IsDefined(kind))
            throw new ArgumentException($"{config}.BetaSchedule {(int)kind} is not known; use SquaredCosCapV2 or Linear.");
        if (kind == BetaScheduleKind.Linear && !(betaStart > 0 && betaStart <= betaEnd && betaEnd < 1))
            throw new ArgumentException(
                $"{config}.BetaStart/BetaEnd must satisfy 0 < BetaStart <= BetaEnd < 1 for the linear schedule, got {betaStart} and {betaEnd}.");
        if (!Enum.IsDefined(prediction))
            throw new ArgumentException($"{config}.PredictionType {(int)prediction} is not known; use Epsilon or Sample.");
        if (!(clipRange > 0))
            throw new ArgumentException($"{config}.ClipSampleRange must be positive, got {clipRange}.");
        if (numInference < 1 || numInference > numTrain)
            throw new ArgumentException(
                $"{config}.NumInferenceSteps must be in 1..NumTrainTimesteps = 1..{numTrain}, got {numInference}.");
    }
}
