using System.Runtime.InteropServices;

namespace DpAg.Cli;

/// <summary>
/// Ctrl-C (SIGINT) and SIGTERM (what <c>kill</c>, <c>timeout</c> and Slurm at a job's time limit send) ask a long
/// command to stop the way <c>--stop-after</c> does: training saves a resume point after the step it is in, a study
/// stops after the step or the checkpoint evaluation it is in, and the same command continues later. Without this the
/// signal ends the process mid-step and everything since the last scheduled checkpoint is lost. A second signal ends
/// the process at once.
/// </summary>
internal static class Interrupts
{
    private static readonly CancellationTokenSource Source = new();
    private static readonly Lock Gate = new();
    private static PosixSignalRegistration[]? _registrations;
    private static PosixSignal? _received;

    /// <summary>Starts listening (once per process) and returns the token that the first signal cancels.</summary>
    public static CancellationToken Listen(TextWriter log)
    {
        lock (Gate)
        {
            _registrations ??= [.. new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM }.Select(s => PosixSignalRegistration.Create(s, context => OnSignal(context, log)))];
        }
        return Source.Token;
    }

    /// <summary>The signal that asked the command to stop, or null.</summary>
    public static PosixSignal? Received { get { lock (Gate) return _received; } }

    /// <summary>The shell's exit status for a command ended by a signal: 128 + its number (130 for SIGINT, 143 for SIGTERM).</summary>
    public static int ExitCode => Received switch { PosixSignal.SIGINT => 130, PosixSignal.SIGTERM => 143, _ => 0 };

    private static void OnSignal(PosixSignalContext context, TextWriter log)
    {
        lock (Gate)
        {
            if (_received is not null)
            {
                // Not cancelled: the runtime's default handling ends the process.
                log.WriteLine($"dpag: {context.Signal} again: quitting now, without a resume point.");
                return;
            }
            _received = context.Signal;
            context.Cancel = true;
        }
        log.WriteLine($"dpag: {context.Signal} received: stopping after the current step or evaluation, with a resume point; send it again to quit at once.");
        Source.Cancel();
    }
}
