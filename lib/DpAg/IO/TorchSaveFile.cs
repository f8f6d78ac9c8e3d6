using System.Collections;
using System.IO.Compression;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace DpAg.IO;

/// <summary>
/// A flat state dict <c>{name: tensor}</c> in PyTorch's own file format (<c>torch.save</c>'s zip archive with a pickle
/// and one raw little-endian record per tensor), read and written through TorchSharp.PyBridge, so that
/// <c>torch.load(path)</c> returns a dict that <c>module.load_state_dict</c> takes, and a state dict that PyTorch saved
/// loads here. Unlike <see cref="TensorExchange"/> (safetensors layout, for the kit's own reference scripts), this is
/// what a PyTorch user loads without any helper.
/// </summary>
/// <remarks>
/// The kit's files are reproducible: the same tensors in the same order give the same bytes (entries stored, not
/// compressed, with a fixed timestamp), so a round trip through the kit can be checked byte for byte.
/// </remarks>
public static class TorchSaveFile
{
    /// <summary>The timestamp of every entry: the zip format's earliest date, so that files do not depend on when they were written.</summary>
    private static readonly DateTimeOffset EntryTime = new(1980, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>How to get a plain state dict out of a Diffusion Policy checkpoint, for error messages.</summary>
    public const string ExtractHint =
        "in Python: ckpt = torch.load(path, pickle_module=dill) (add weights_only=False on PyTorch 2.6 and newer); " +
        "torch.save(ckpt['state_dicts']['ema_model'], 'ema.pt')";

    /// <summary>
    /// Writes <paramref name="tensors"/> in the given order to <paramref name="path"/> atomically, as
    /// <c>torch.save(dict)</c> would (CPU, contiguous copies; dtypes as they are).
    /// </summary>
    /// <exception cref="ArgumentException">A name is empty or repeated.</exception>
    public static void Save(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        using var scope = torch.NewDisposeScope();
        var dict = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, tensor) in tensors)
        {
            if (string.IsNullOrEmpty(name)) throw new ArgumentException("A state-dict entry has an empty name.", nameof(tensors));
            // Each tensor gets its own storage at offset 0: PyTorch reads views of a shared storage, PyBridge does not.
            if (!dict.TryAdd(name, tensor.detach().cpu().clone().contiguous()))
                throw new ArgumentException($"State-dict entry '{name}' appears twice.", nameof(tensors));
        }
        using var raw = new MemoryStream();
        PyTorchPickler.PickleStateDict(raw, dict, leaveOpen: true);
        AtomicFile.WriteAllBytes(path, Reproducible(raw));
    }

    /// <summary>
    /// Reads a state dict saved with <c>torch.save(state_dict, path)</c> (PyTorch 1.6 or newer) or by <see cref="Save"/>:
    /// CPU tensors the caller owns, by name. A Diffusion Policy checkpoint (<c>.ckpt</c>) is read too when its pickle
    /// holds only plain data, taking <c>state_dicts['ema_model']</c>; otherwise the error says how to extract it.
    /// </summary>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">Not a torch.save zip archive, or not a flat dict of tensors; the message names the entry and the fix.</exception>
    public static Dictionary<string, Tensor> Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such state-dict file.", path);
        Hashtable table;
        using (var stream = File.OpenRead(path))
        {
            Span<byte> magic = stackalloc byte[4];
            if (stream.Read(magic) < 4 || magic[0] != 0x50 || magic[1] != 0x4b || magic[2] != 0x03 || magic[3] != 0x04)
                throw new InvalidDataException($"{path} is not a torch.save zip archive (PyTorch's legacy format, or not PyTorch at all); " +
                                               "re-save it in PyTorch 1.6 or newer with torch.save(state_dict, path).");
            stream.Seek(0, SeekOrigin.Begin);
            try
            {
                table = PyTorchUnpickler.UnpickleStateDict(stream, leaveOpen: true);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                throw new InvalidDataException($"{path}: cannot read it as a state dict ({e.GetType().Name}: {e.Message}). " +
                                               $"Save a plain dict of tensors; for a Diffusion Policy checkpoint, {ExtractHint}.", e);
            }
        }
        if (table["state_dicts"] is Hashtable states)
            table = states["ema_model"] as Hashtable
                    ?? throw new InvalidDataException($"{path} is a checkpoint without state_dicts['ema_model'] (it has {Names(states)}); {ExtractHint}.");
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (DictionaryEntry entry in table)
            {
                if (entry.Key is not string name || entry.Value is not Tensor tensor)
                    throw new InvalidDataException($"{path}: entry '{entry.Key}' holds {entry.Value?.GetType().Name ?? "None"}, not a tensor; " +
                                                   $"save a flat state dict (for a Diffusion Policy checkpoint, {ExtractHint}).");
                result[name] = tensor;
            }
        }
        catch
        {
            foreach (DictionaryEntry entry in table) (entry.Value as Tensor)?.Dispose();
            throw;
        }
        return result;
    }

    private static string Names(Hashtable table) => "[" + string.Join(", ", table.Keys.Cast<object>().Select(k => $"'{k}'").Order(StringComparer.Ordinal)) + "]";

    /// <summary>PyBridge's archive rewritten with stored entries and a fixed timestamp, entry order kept.</summary>
    private static byte[] Reproducible(MemoryStream archive)
    {
        archive.Seek(0, SeekOrigin.Begin);
        using var source = new ZipArchive(archive, ZipArchiveMode.Read, leaveOpen: true);
        using var output = new MemoryStream();
        using (var target = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
            foreach (var entry in source.Entries)
            {
                var copy = target.CreateEntry(entry.FullName, CompressionLevel.NoCompression);
                copy.LastWriteTime = EntryTime;
                using var from = entry.Open();
                using var to = copy.Open();
                from.CopyTo(to);
            }
        return output.ToArray();
    }
}
