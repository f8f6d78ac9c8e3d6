using DpAg.Data;
using DpAg.Numpy;
using DpAg.Policies;

namespace DpAg.Training;

/// <summary>
/// Feeds a <see cref="PushTDataset"/> to the <see cref="Trainer"/>: epoch e visits the windows in a permutation drawn
/// from (run seed, e), and step s takes batch s mod (batches per epoch) of it, so any step's batch can be rebuilt
/// after a resume. The last incomplete batch of an epoch is dropped.
/// </summary>
public sealed class DatasetBatchSource(PushTDataset dataset) : IBatchSource
{
    private int[]? _order;
    private long _orderEpoch = -1;
    private long _orderSeed;

    /// <summary>The dataset being served.</summary>
    public PushTDataset Dataset { get; } = dataset;

    /// <inheritdoc/>
    public long? BatchesPerEpoch(int batchSize)
    {
        if (batchSize > Dataset.Count)
            throw new ArgumentException($"Batch size {batchSize} is larger than the dataset ({Dataset.Count} windows); lower --batch-size.");
        return Dataset.Count / batchSize;
    }

    /// <inheritdoc/>
    public PolicyBatch GetBatch(long step, int batchSize, long seed)
    {
        long perEpoch = BatchesPerEpoch(batchSize)!.Value;
        long epoch = step / perEpoch, slot = step % perEpoch;
        if (_order is null || _orderEpoch != epoch || _orderSeed != seed)
        {
            _order = new NumpyGenerator(BatchSource.DeriveSeed(seed, epoch, stream: 1) & long.MaxValue).Permutation(Dataset.Count).Select(x => (int)x).ToArray();
            _orderEpoch = epoch;
            _orderSeed = seed;
        }
        var indices = new ArraySegment<int>(_order, (int)(slot * batchSize), batchSize);
        var batch = Dataset.GetBatch(indices);
        return new PolicyBatch(batch.Obs, batch.Action);
    }
}
