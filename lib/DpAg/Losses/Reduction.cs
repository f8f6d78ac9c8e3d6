namespace DpAg.Losses;

/// <summary>How a loss made of per-element terms is reduced to a scalar.</summary>
public enum Reduction
{
    /// <summary>Mean over every element (PyTorch's default; the released code's KL is "mean-reduced", docs/method.md).</summary>
    Mean,

    /// <summary>Sum over every element.</summary>
    Sum,

    /// <summary>Sum over the non-batch dimensions, mean over the batch: the per-sample ELBO scale.</summary>
    BatchMean,

    /// <summary>No reduction over the batch: a (B) tensor, summed over the non-batch dimensions.</summary>
    PerSample,
}

/// <summary>Applies a <see cref="Reduction"/> to a (B, ...) tensor of per-element terms.</summary>
internal static class Reductions
{
    internal static TorchSharp.torch.Tensor Reduce(TorchSharp.torch.Tensor terms, Reduction reduction)
    {
        switch (reduction)
        {
            case Reduction.Mean: return terms.mean();
            case Reduction.Sum: return terms.sum();
        }
        if (terms.shape.Length == 0) throw new ArgumentException($"{reduction} needs a batch dimension; got a scalar.", nameof(terms));
        var perSample = terms.shape.Length == 1 ? terms.alias() : terms.flatten(1).sum(1); // (B, ...) -> (B)
        return reduction switch
        {
            Reduction.BatchMean => perSample.mean(),
            Reduction.PerSample => perSample,
            _ => throw new ArgumentException($"reduction = {reduction} is not one of {string.Join(", ", Enum.GetNames<Reduction>())}.", nameof(reduction)),
        };
    }
}
