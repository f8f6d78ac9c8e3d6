namespace DpAg.Training;

/// <summary>
/// Thrown when a training step fails inside native code (libtorch raised an error: for example TorchSharp 0.107's
/// freed-scalar fault, <c>Scalar.h</c>). The step's in-memory state is not trusted and nothing of it is saved;
/// <see cref="LastGoodCheckpoint"/> is untouched, and running the same command again resumes from it
/// (<c>dpag train --retries N</c> does that by itself).
/// </summary>
public sealed class TrainingFaultException : Exception
{
    /// <summary>Creates the exception; the message is one line naming the step, the native error and how to resume.</summary>
    public TrainingFaultException(long step, Exception inner, CheckpointInfo? lastGoodCheckpoint)
        : base(Compose(step, inner, lastGoodCheckpoint), inner)
    {
        Step = step;
        LastGoodCheckpoint = lastGoodCheckpoint;
    }

    /// <summary>The 0-based index of the step that failed (as in the metric logs).</summary>
    public long Step { get; }

    /// <summary>The newest checkpoint, written before the failure and left as it was; null if none was written yet.</summary>
    public CheckpointInfo? LastGoodCheckpoint { get; }

    private static string Compose(long step, Exception inner, CheckpointInfo? last)
    {
        // libtorch's messages run over many lines (a C++ backtrace): keep what failed and where it was raised.
        var lines = inner.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var what = lines.FirstOrDefault() ?? inner.GetType().Name;
        var where = lines.FirstOrDefault(l => l.StartsWith("Exception raised from", StringComparison.Ordinal));
        if (where is not null) what += "; " + where.Replace(" (most recent call first):", "");
        return $"Native fault at step {step} ({inner.GetType().Name}: {what}). " +
               (last is null
                   ? "No checkpoint had been written yet; running the same command again starts over. "
                   : $"The last good checkpoint ({last.Path}, after {last.Step} steps) is untouched; running the same command again resumes from it. ") +
               "dpag train --retries N resumes by itself.";
    }
}
