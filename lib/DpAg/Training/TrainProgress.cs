using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace DpAg.Training;

/// <summary>A snapshot after one optimiser step, for live curves (<see cref="IProgress{T}"/>) and console lines.</summary>
/// <param name="Step">0-based index of the step just done (as in the metric logs).</param>
/// <param name="TotalSteps">Steps of the whole run.</param>
/// <param name="Epoch">0-based epoch of the step, or null for an endless batch source.</param>
/// <param name="Loss">The total loss.</param>
/// <param name="Terms">The policy's loss terms.</param>
/// <param name="LearningRate">The learning rate the step used.</param>
/// <param name="GradNorm">Global gradient 2-norm before clipping.</param>
/// <param name="StepsPerSecond">Throughput since this process started training.</param>
/// <param name="Eta">Estimated time to finish, or null before a rate is known.</param>
public sealed record TrainProgress(long Step, long TotalSteps, long? Epoch, double Loss, IReadOnlyDictionary<string, double> Terms,
    double LearningRate, double GradNorm, double StepsPerSecond, TimeSpan? Eta)
{
    /// <summary>One line: step, bar (optional), loss and terms, lr, it/s, ETA.</summary>
    public string Format(bool bar)
    {
        var ci = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        long done = Step + 1;
        int width = TotalSteps.ToString(ci).Length;
        sb.Append("step ").Append(done.ToString(ci).PadLeft(width)).Append('/').Append(TotalSteps.ToString(ci));
        if (bar)
        {
            const int cells = 20;
            int filled = (int)(cells * done / Math.Max(1, TotalSteps));
            sb.Append(" [").Append('#', filled).Append('-', cells - filled).Append(']');
        }
        sb.Append(' ').Append((100.0 * done / Math.Max(1, TotalSteps)).ToString("F0", ci).PadLeft(3)).Append('%');
        if (Epoch is { } e) sb.Append(" ep ").Append(e.ToString(ci));
        sb.Append(" loss ").Append(Loss.ToString("G4", ci));
        if (Terms.Count > 0)
            sb.Append(" (").Append(string.Join(", ", Terms.Select(t => $"{t.Key} {t.Value.ToString("G3", ci)}"))).Append(')');
        sb.Append(" lr ").Append(LearningRate.ToString("0.##e+00", ci));
        sb.Append(' ').Append(StepsPerSecond.ToString(StepsPerSecond >= 10 ? "F0" : "F2", ci)).Append(" it/s");
        if (Eta is { } eta) sb.Append(" ETA ").Append(FormatSpan(eta));
        return sb.ToString();
    }

    private static string FormatSpan(TimeSpan t) => t.TotalHours >= 1
        ? $"{(int)t.TotalHours}:{t.Minutes:D2}:{t.Seconds:D2}"
        : $"{t.Minutes:D2}:{t.Seconds:D2}";
}

/// <summary>
/// Progress on a text writer (stderr by default). On a terminal it redraws one line in place (at most ~10 times a
/// second); otherwise (CI logs, notebooks, redirected output) it prints a plain line every N steps, plus the first
/// and the last step.
/// </summary>
public sealed class ConsoleProgress
{
    private readonly TextWriter _out;
    private readonly bool _interactive;
    private readonly long _every;
    private readonly Stopwatch _sinceDraw = Stopwatch.StartNew();
    private int _lastWidth;

    /// <summary>Creates a reporter.</summary>
    /// <param name="writer">Where to write; null is <see cref="Console.Error"/>.</param>
    /// <param name="interactive">Redraw in place; null: when the writer is stderr and stderr is a terminal.</param>
    /// <param name="plainEvery">Plain-line interval in steps.</param>
    public ConsoleProgress(TextWriter? writer, bool? interactive, long plainEvery)
    {
        _out = writer ?? Console.Error;
        _interactive = interactive ?? (writer is null && !Console.IsErrorRedirected);
        _every = Math.Max(1, plainEvery);
    }

    /// <summary>Whether lines are redrawn in place.</summary>
    public bool Interactive => _interactive;

    /// <summary>Shows <paramref name="p"/> if it is due.</summary>
    public void Report(TrainProgress p)
    {
        bool last = p.Step + 1 >= p.TotalSteps;
        if (_interactive)
        {
            if (!last && _sinceDraw.ElapsedMilliseconds < 100 && p.Step != 0) return;
            _sinceDraw.Restart();
            var line = p.Format(bar: true);
            _out.Write("\r" + line + new string(' ', Math.Max(0, _lastWidth - line.Length)));
            _lastWidth = line.Length;
            if (last) _out.WriteLine();
            _out.Flush();
        }
        else if (p.Step == 0 || last || (p.Step + 1) % _every == 0)
        {
            _out.WriteLine(p.Format(bar: false));
            _out.Flush();
        }
    }

    /// <summary>Prints a message on its own line (ending an in-place line first).</summary>
    public void Message(string text)
    {
        if (_interactive && _lastWidth > 0) { _out.WriteLine(); _lastWidth = 0; }
        _out.WriteLine(text);
        _out.Flush();
    }
}
