using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Latent;

/// <summary>
/// Vector-Jacobian products (d outputs / d inputs)^T v through <c>torch.autograd.grad</c>, validated first because
/// an error inside TorchSharp's grad aborts the process instead of throwing (TorchSharp 0.107: a failing native autograd call is not turned into an exception).
/// </summary>
/// <remarks>
/// Batched, per sample: with outputs (B, ...) and inputs (B, ...) the product is grad of sum_b &lt;v_b, outputs_b&gt;
/// with respect to inputs. When the network treats samples independently (no batch statistics, e.g. no BatchNorm in
/// training mode) sample b of the result is exactly J_b^T v_b, with J_b the Jacobian of sample b's output with
/// respect to sample b's input. With v = outputs this is grad_z 1/2 ||eps||^2, DP-AG's VJP force (docs/method.md M2).
/// <para>What cannot be checked beforehand: a graph already freed by an earlier backward or grad without
/// retain_graph still aborts the process. Pass <c>retainGraph: true</c> on every pass over a graph but the last.</para>
/// </remarks>
public static class Vjp
{
    /// <summary>
    /// Returns (d <paramref name="outputs"/> / d <paramref name="inputs"/>)^T v, shaped like <paramref name="inputs"/>.
    /// </summary>
    /// <param name="outputs">eps = f(z), any shape, with an autograd graph reaching <paramref name="inputs"/>.</param>
    /// <param name="inputs">z, the tensor to differentiate with respect to; must require grad.</param>
    /// <param name="v">Cotangent shaped like <paramref name="outputs"/>; null means <paramref name="outputs"/> itself
    /// (the VJP force of Eq. 2). With <paramref name="createGraph"/> gradients also flow through v when it requires grad,
    /// so that with v = outputs the result differentiates as grad_z 1/2 ||eps||^2.</param>
    /// <param name="retainGraph">Keep the graph of <paramref name="outputs"/> so that it can be backpropagated again
    /// (true when a loss on <paramref name="outputs"/> is backpropagated later, as in DP-AG training).</param>
    /// <param name="createGraph">Build a graph of the result itself (for gradients through the VJP, second order).
    /// Requires <paramref name="retainGraph"/>: the new graph reuses the saved tensors of the old one.</param>
    /// <returns>A tensor shaped like <paramref name="inputs"/>; zeros when the outputs do not depend on the inputs.
    /// It requires grad only when <paramref name="createGraph"/> is true.</returns>
    public static Tensor Compute(Tensor outputs, Tensor inputs, Tensor? v = null, bool retainGraph = false, bool createGraph = false)
    {
        Validate(outputs, inputs, v, retainGraph, createGraph);
        using var scope = torch.NewDisposeScope();
        // With create_graph the cotangent stays in the graph (PyTorch's semantics): for v = outputs the result is then
        // differentiable as the function z -> grad_z 1/2 ||f(z)||^2, Hessian terms and J^T J terms both included.
        var cotangent = createGraph ? (v ?? outputs) : (v ?? outputs).detach();
        var grads = torch.autograd.grad(
            new[] { outputs }, new[] { inputs }, new[] { cotangent },
            retain_graph: retainGraph, create_graph: createGraph, allow_unused: true);
        var g = grads[0];
        var result = g is null || g.IsInvalid ? torch.zeros_like(inputs) : g;
        if (!createGraph) result = result.detach();
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Evaluates eps = <paramref name="f"/>(z) and its VJP at <paramref name="z"/> in one call.
    /// </summary>
    /// <param name="f">Noise predictor of the latent, z (B, ...) -> eps (B, ...), samples independent.</param>
    /// <param name="z">Latent (B, ...); must require grad (make a leaf with <c>z.detach().requires_grad_()</c>).</param>
    /// <param name="createGraph">Keep a graph through the VJP (second order); also keeps eps's graph.</param>
    /// <param name="retainGraph">Keep eps's graph for a later backward (forced true when createGraph).</param>
    public static (Tensor Eps, Tensor Vjp) OfFunction(Func<Tensor, Tensor> f, Tensor z, bool retainGraph = false, bool createGraph = false)
    {
        ArgumentNullException.ThrowIfNull(f);
        RequireGrad(z, nameof(z));
        using var scope = torch.NewDisposeScope();
        var eps = f(z);
        var vjp = Compute(eps, z, null, retainGraph || createGraph, createGraph);
        return (eps.MoveToOuterDisposeScope(), vjp.MoveToOuterDisposeScope());
    }

    /// <summary>Checks what torch.autograd.grad would otherwise abort the process on; throws clear exceptions.</summary>
    internal static void Validate(Tensor outputs, Tensor inputs, Tensor? v, bool retainGraph, bool createGraph)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        ArgumentNullException.ThrowIfNull(inputs);
        if (outputs.IsInvalid) throw new ArgumentException("outputs has been disposed.", nameof(outputs));
        if (inputs.IsInvalid) throw new ArgumentException("inputs has been disposed.", nameof(inputs));
        RequireGrad(inputs, nameof(inputs));
        if (!outputs.requires_grad)
            throw new ArgumentException(
                "outputs does not require grad: it has no autograd graph (computed under no_grad, detached, or from inputs that do not require grad). "
                + "Compute it from inputs with grad enabled.", nameof(outputs));
        if (!outputs.is_floating_point()) throw new ArgumentException($"outputs has dtype {outputs.dtype}; a floating-point dtype is needed.", nameof(outputs));
        if (v is not null)
        {
            if (v.IsInvalid) throw new ArgumentException("v has been disposed.", nameof(v));
            if (!v.shape.SequenceEqual(outputs.shape))
                throw new ArgumentException($"v has shape [{string.Join(", ", v.shape)}] but outputs has shape [{string.Join(", ", outputs.shape)}]; they must match.", nameof(v));
            if (v.dtype != outputs.dtype) throw new ArgumentException($"v has dtype {v.dtype} but outputs has {outputs.dtype}; they must match.", nameof(v));
            if (v.device_type != outputs.device_type || v.device_index != outputs.device_index)
                throw new ArgumentException($"v is on {v.device} but outputs is on {outputs.device}; they must match.", nameof(v));
        }
        if (createGraph && !retainGraph)
            throw new ArgumentException("createGraph = true needs retainGraph = true: the graph of the VJP reuses the saved tensors of the forward graph.", nameof(retainGraph));
    }

    private static void RequireGrad(Tensor t, string name)
    {
        ArgumentNullException.ThrowIfNull(t, name);
        if (!t.requires_grad)
            throw new ArgumentException(
                $"{name} does not require grad, so no VJP can be taken with respect to it. Use {name}.detach().requires_grad_() "
                + "for a leaf, or pass an encoder output computed with grad enabled.", name);
        if (!t.is_floating_point()) throw new ArgumentException($"{name} has dtype {t.dtype}; a floating-point dtype is needed.", name);
    }
}
