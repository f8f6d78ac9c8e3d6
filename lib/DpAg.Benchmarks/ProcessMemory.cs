using System.Globalization;

namespace DpAg.Benchmarks;

/// <summary>
/// This process's resident memory from <c>/proc/self/status</c>: the current size (VmRSS) and the peak (VmHWM), which
/// Linux lets a process reset (write 5 to <c>/proc/self/clear_refs</c>), so one process can measure the peak of each
/// phase. Native (libtorch) memory is included, which the .NET GC's counters do not see.
/// </summary>
public static class ProcessMemory
{
    /// <summary>True when the peak can be read and reset here (Linux 4.0 or later).</summary>
    public static bool IsSupported { get; } = File.Exists("/proc/self/status") && File.Exists("/proc/self/clear_refs");

    /// <summary>Current resident set size in bytes, or null where unsupported.</summary>
    public static long? CurrentBytes => Read("VmRSS:");

    /// <summary>Peak resident set size in bytes since the process started or the last <see cref="ResetPeak"/>.</summary>
    public static long? PeakBytes => Read("VmHWM:");

    /// <summary>Resets the peak to the current size; returns false where the kernel does not allow it.</summary>
    public static bool ResetPeak()
    {
        if (!IsSupported) return false;
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Runs <paramref name="phase"/> and returns its peak resident size and the resident size before it.</summary>
    public static (long? PeakBytes, long? BeforeBytes) MeasurePeak(Action phase)
    {
        ArgumentNullException.ThrowIfNull(phase);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long? before = CurrentBytes;
        bool reset = ResetPeak();
        phase();
        return (reset ? PeakBytes : null, before);
    }

    private static long? Read(string field)
    {
        if (!File.Exists("/proc/self/status")) return null;
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (!line.StartsWith(field, StringComparison.Ordinal)) continue;
            var parts = line[field.Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return long.Parse(parts[0], CultureInfo.InvariantCulture) * 1024; // the kernel reports kB
        }
        return null;
    }
}
