namespace DpAg.Diffusion;

/// <summary>What the denoising network predicts (diffusers' <c>prediction_type</c>).</summary>
public enum PredictionType
{
    /// <summary>The noise epsilon that was added (Ho et al. 2020); Diffusion Policy's default.</summary>
    Epsilon,

    /// <summary>The clean sample x_0 itself (diffusers' <c>"sample"</c>).</summary>
    Sample,
}
