using DpAg.Policies;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Training;

/// <summary>
/// Where the trainer gets its batches: a pure function of (step, batch size, seed), so that a resumed run sees
/// exactly the batches the uninterrupted run would have seen. A source with epochs shuffles with a permutation
/// derived from (seed, epoch) and takes slice <c>step % BatchesPerEpoch</c> of it.
/// </summary>
public interface IBatchSource
{
    /// <summary>Batches in one epoch at <paramref name="batchSize"/>, or null for an endless source (then only
    /// <see cref="TrainConfig.Steps"/> can be used).</summary>
    long? BatchesPerEpoch(int batchSize);

    /// <summary>
    /// The batch of optimiser step <paramref name="step"/>: Obs (B, To, ...) and Action (B, T, Da) with B =
    /// <paramref name="batchSize"/> (the last batch of an epoch may be smaller only if the source says so in its docs).
    /// Return fresh tensors (the trainer disposes them after the step); any device, the trainer moves them.
    /// </summary>
    PolicyBatch GetBatch(long step, int batchSize, long seed);
}

/// <summary>Adapters and helpers for <see cref="IBatchSource"/>.</summary>
public static class BatchSource
{
    /// <summary>An endless source from a function of (step, batch size, seed).</summary>
    public static IBatchSource FromFunc(Func<long, int, long, PolicyBatch> getBatch) => new FuncSource(getBatch);

    /// <summary>
    /// A seed for step <paramref name="step"/> of a run seeded with <paramref name="seed"/> (and an optional
    /// <paramref name="stream"/> to separate uses): SplitMix64 of the mixed inputs, as a non-negative long.
    /// </summary>
    public static long DeriveSeed(long seed, long step, long stream = 0)
    {
        ulong z = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL ^ (ulong)step * 0xBF58476D1CE4E5B9UL ^ (ulong)stream * 0x94D049BB133111EBUL);
        z = unchecked(z + 0x9E3779B97F4A7C15UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        z ^= z >> 31;
        return (long)(z >> 1);
    }

    private sealed class FuncSource(Func<long, int, long, PolicyBatch> getBatch) : IBatchSource
    {
        public long? BatchesPerEpoch(int batchSize) => null;
        public PolicyBatch GetBatch(long step, int batchSize, long seed) => getBatch(step, batchSize, seed);
    }
}

/// <summary>
/// In-memory samples (N, To, ...) / (N, T, Da), shuffled every epoch with a permutation drawn from
/// (seed, epoch); drops the last incomplete batch so that B is fixed (Diffusion Policy's loaders keep it).
/// Suits small low-dim datasets and tests; large datasets bring their own source.
/// </summary>
public sealed class TensorBatchSource : IBatchSource
{
    private readonly IReadOnlyDictionary<string, Tensor> _obs;
    private readonly Tensor _action;

    /// <summary>Wraps the tensors (not copied; keep them alive while training).</summary>
    /// <param name="obs">Observation tensors by key, each (N, To, ...).</param>
    /// <param name="action">Actions (N, T, Da).</param>
    public TensorBatchSource(IReadOnlyDictionary<string, Tensor> obs, Tensor action)
    {
        new PolicyBatch(obs, action).Validate();
        _obs = obs;
        _action = action;
    }

    /// <summary>N, the number of samples.</summary>
    public long Count => _action.shape[0];

    /// <inheritdoc/>
    public long? BatchesPerEpoch(int batchSize)
    {
        if (batchSize > Count)
            throw new ArgumentException($"Batch size {batchSize} is larger than the dataset ({Count} samples); lower TrainConfig.BatchSize.");
        return Count / batchSize;
    }

    /// <inheritdoc/>
    public PolicyBatch GetBatch(long step, int batchSize, long seed)
    {
        long perEpoch = BatchesPerEpoch(batchSize)!.Value;
        long epoch = step / perEpoch, slot = step % perEpoch;
        using var gen = new Generator((ulong)BatchSource.DeriveSeed(seed, epoch, stream: 1));
        using var perm = torch.randperm(Count, generator: gen);
        using var index = perm.narrow(0, slot * batchSize, batchSize).to(_action.device);
        return new PolicyBatch(
            _obs.ToDictionary(kv => kv.Key, kv => kv.Value.index_select(0, index.to(kv.Value.device))),
            _action.index_select(0, index));
    }
}
