namespace DpAg.Data;

/// <summary>
/// One training window (the reference <c>create_indices</c> row): buffer steps [BufferStart, BufferEnd) fill window
/// positions [SampleStart, SampleEnd); positions before SampleStart repeat the first copied frame, positions from
/// SampleEnd on repeat the last one.
/// </summary>
/// <param name="BufferStart">First buffer step copied.</param>
/// <param name="BufferEnd">One past the last buffer step copied.</param>
/// <param name="SampleStart">Window position of BufferStart.</param>
/// <param name="SampleEnd">Window position one past the last copied step.</param>
/// <param name="Episode">Episode the window belongs to.</param>
public readonly record struct SequenceWindow(int BufferStart, int BufferEnd, int SampleStart, int SampleEnd, int Episode);

/// <summary>
/// Fixed-length windows over the episodes of a <see cref="ReplayBuffer"/> with the exact Diffusion Policy
/// semantics (diffusion_policy/common/sampler.py): for an episode of length L, window starts run over
/// [-pad_before, L - horizon + pad_after], and out-of-episode positions repeat the first/last real frame.
/// Push-T: horizon 16, pad_before = n_obs_steps - 1 = 1, pad_after = n_action_steps - 1 = 7, giving L - 7 windows.
/// </summary>
public sealed class SequenceSampler
{
    private readonly SequenceWindow[] _windows;

    /// <summary>Builds the windows of the episodes selected by <paramref name="episodeMask"/> (null = all).</summary>
    /// <param name="buffer">The replay buffer.</param>
    /// <param name="sequenceLength">Window length T (Push-T: horizon 16).</param>
    /// <param name="padBefore">Steps allowed before an episode start (clamped to [0, T-1] as the reference does).</param>
    /// <param name="padAfter">Steps allowed after an episode end (clamped to [0, T-1]).</param>
    /// <param name="episodeMask">Episodes to use (length E), e.g. <see cref="ValidationSplit.TrainMask"/>.</param>
    public SequenceSampler(ReplayBuffer buffer, int sequenceLength, int padBefore = 0, int padAfter = 0, bool[]? episodeMask = null)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        Buffer = buffer;
        SequenceLength = sequenceLength;
        _windows = CreateIndices(buffer.EpisodeEnds, sequenceLength, episodeMask, padBefore, padAfter);
    }

    /// <summary>The buffer sampled from.</summary>
    public ReplayBuffer Buffer { get; }

    /// <summary>Window length T.</summary>
    public int SequenceLength { get; }

    /// <summary>Number of windows.</summary>
    public int Count => _windows.Length;

    /// <summary>Window <paramref name="index"/>.</summary>
    public SequenceWindow this[int index] => _windows[index];

    /// <summary>
    /// The reference <c>create_indices</c>: for each selected episode of length L, for idx in
    /// [-padBefore, L - T + padAfter]: buffer range [max(idx,0), min(idx+T, L)) (offset by the episode start) and
    /// sample range [start_offset, T - end_offset).
    /// </summary>
    public static SequenceWindow[] CreateIndices(long[] episodeEnds, int sequenceLength, bool[]? episodeMask, int padBefore, int padAfter)
    {
        ArgumentNullException.ThrowIfNull(episodeEnds);
        if (sequenceLength < 1) throw new ArgumentException($"sequenceLength = {sequenceLength}; must be >= 1.", nameof(sequenceLength));
        if (episodeMask is not null && episodeMask.Length != episodeEnds.Length)
            throw new ArgumentException($"episodeMask has {episodeMask.Length} entries for {episodeEnds.Length} episodes; pass one flag per episode.", nameof(episodeMask));
        padBefore = Math.Clamp(padBefore, 0, sequenceLength - 1);
        padAfter = Math.Clamp(padAfter, 0, sequenceLength - 1);
        var windows = new List<SequenceWindow>();
        for (int i = 0; i < episodeEnds.Length; i++)
        {
            if (episodeMask is not null && !episodeMask[i]) continue;
            int start = i == 0 ? 0 : (int)episodeEnds[i - 1];
            int length = (int)episodeEnds[i] - start;
            int minStart = -padBefore;
            int maxStart = length - sequenceLength + padAfter;
            for (int idx = minStart; idx <= maxStart; idx++)
            {
                int bufferStart = Math.Max(idx, 0) + start;
                int bufferEnd = Math.Min(idx + sequenceLength, length) + start;
                int startOffset = bufferStart - (idx + start);
                int endOffset = idx + sequenceLength + start - bufferEnd;
                windows.Add(new SequenceWindow(bufferStart, bufferEnd, startOffset, sequenceLength - endOffset, i));
            }
        }
        return windows.ToArray();
    }

    /// <summary>
    /// Copies window <paramref name="index"/> of data key <paramref name="key"/> as float32 into
    /// <paramref name="destination"/> (T x step size, C order), edge-padding with the first/last copied frame.
    /// Only the first <paramref name="steps"/> window positions are written when given (e.g. To obs steps).
    /// </summary>
    public void SampleInto(string key, int index, Span<float> destination, int? steps = null)
    {
        var w = _windows[index];
        var data = Buffer.GetFloat(key);
        int row = Buffer[key].RowSize;
        int t = steps ?? SequenceLength;
        if (t < 0 || t > SequenceLength) throw new ArgumentOutOfRangeException(nameof(steps), $"steps = {t}; must be in 0..{SequenceLength}.");
        if (destination.Length < t * row) throw new ArgumentException($"destination holds {destination.Length} floats; window needs {t} x {row}.", nameof(destination));
        for (int p = 0; p < t; p++)
        {
            int source = Math.Clamp(p - w.SampleStart + w.BufferStart, w.BufferStart, w.BufferEnd - 1);
            data.AsSpan(source * row, row).CopyTo(destination.Slice(p * row, row));
        }
    }

    /// <summary>Window <paramref name="index"/> of <paramref name="key"/> as a new float32 array (T x step size).</summary>
    public float[] Sample(string key, int index)
    {
        var result = new float[SequenceLength * Buffer[key].RowSize];
        SampleInto(key, index, result);
        return result;
    }
}
