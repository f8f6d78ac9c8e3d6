using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.IO;

/// <summary>
/// Named tensors in the safetensors layout, so that the kit and PyTorch can exchange weights and inputs
/// (TorchSharp's <c>Module.save</c> format is not PyTorch's). Layout: an 8-byte little-endian header length N, a UTF-8
/// JSON header of N bytes <c>{"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...}</c>, then the
/// raw little-endian data, offsets relative to the end of the header. bench/reference/dpag_reference.py reads and
/// writes the same files (without the safetensors package).
/// </summary>
/// <remarks>Supported dtypes: float32 (F32), float64 (F64), int64 (I64). Tensors are copied to the CPU to be written.</remarks>
public static class TensorExchange
{
    /// <summary>Writes <paramref name="tensors"/> (names sorted) to <paramref name="path"/> atomically.</summary>
    /// <exception cref="ArgumentException">A tensor has a dtype other than float32, float64 or int64.</exception>
    public static void Save(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var header = new SortedDictionary<string, object>(StringComparer.Ordinal);
        var chunks = new List<byte[]>();
        long offset = 0;
        foreach (var (name, tensor) in tensors.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            var bytes = ToBytes(name, tensor);
            header[name] = new { dtype = DtypeName(name, tensor.dtype), shape = tensor.shape, data_offsets = new[] { offset, offset + bytes.Length } };
            chunks.Add(bytes);
            offset += bytes.Length;
        }
        var text = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header));
        int pad = (8 - text.Length % 8) % 8;
        AtomicFile.Write(path, stream =>
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)(text.Length + pad));
            stream.Write(length);
            stream.Write(text);
            for (int i = 0; i < pad; i++) stream.WriteByte((byte)' ');
            foreach (var c in chunks) stream.Write(c);
        });
    }

    /// <summary>Reads every tensor of a file written by <see cref="Save"/> or by PyTorch's side; CPU tensors the caller owns.</summary>
    /// <exception cref="InvalidDataException">The file is truncated, its header is not valid JSON or a dtype is unsupported.</exception>
    public static Dictionary<string, Tensor> Load(string path)
    {
        var data = File.ReadAllBytes(path);
        if (data.Length < 8) throw new InvalidDataException($"{path}: {data.Length} bytes; a tensor file starts with an 8-byte header length.");
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(data);
        if (n > (ulong)(data.Length - 8)) throw new InvalidDataException($"{path}: header length {n} exceeds the file ({data.Length} bytes).");
        int bodyStart = 8 + (int)n;
        using var doc = JsonDocument.Parse(data.AsMemory(8, (int)n));
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var entry in doc.RootElement.EnumerateObject())
        {
            if (entry.Name == "__metadata__") continue;
            var dtype = entry.Value.GetProperty("dtype").GetString();
            var shape = entry.Value.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()).ToArray();
            var offsets = entry.Value.GetProperty("data_offsets").EnumerateArray().Select(x => x.GetInt64()).ToArray();
            long begin = offsets.Length == 2 ? bodyStart + offsets[0] : -1, end = offsets.Length == 2 ? bodyStart + offsets[1] : -1;
            if (begin < bodyStart || begin > end || end > data.Length)
                throw new InvalidDataException($"{path}: tensor '{entry.Name}' has data offsets [{string.Join(", ", offsets)}] outside the file.");
            var span = data.AsSpan((int)begin, (int)(end - begin));
            if (shape.Contains(0L))
            {
                result[entry.Name] = torch.empty(shape, dtype: dtype switch
                {
                    "F32" => ScalarType.Float32, "F64" => ScalarType.Float64, "I64" => ScalarType.Int64,
                    _ => throw new InvalidDataException($"{path}: tensor '{entry.Name}' has dtype '{dtype}'; supported: F32, F64, I64."),
                });
                continue;
            }
            result[entry.Name] = dtype switch
            {
                "F32" => torch.tensor(MemoryMarshal.Cast<byte, float>(span).ToArray(), shape),
                "F64" => torch.tensor(MemoryMarshal.Cast<byte, double>(span).ToArray(), shape),
                "I64" => torch.tensor(MemoryMarshal.Cast<byte, long>(span).ToArray(), shape),
                _ => throw new InvalidDataException($"{path}: tensor '{entry.Name}' has dtype '{dtype}'; supported: F32, F64, I64."),
            };
        }
        return result;
    }

    private static string DtypeName(string name, ScalarType dtype) => dtype switch
    {
        ScalarType.Float32 => "F32",
        ScalarType.Float64 => "F64",
        ScalarType.Int64 => "I64",
        _ => throw new ArgumentException($"Tensor '{name}' has dtype {dtype}; the exchange format supports float32, float64 and int64."),
    };

    private static byte[] ToBytes(string name, Tensor tensor)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("The tensor exchange format is little-endian.");
        var cpu = tensor.detach().cpu().contiguous();
        string dtype = DtypeName(name, cpu.dtype);
        if (cpu.numel() == 0) return [];                 // TorchSharp's accessor cannot copy out an empty tensor
        return dtype switch
        {
            "F32" => MemoryMarshal.AsBytes(cpu.data<float>().ToArray().AsSpan()).ToArray(),
            "F64" => MemoryMarshal.AsBytes(cpu.data<double>().ToArray().AsSpan()).ToArray(),
            _ => MemoryMarshal.AsBytes(cpu.data<long>().ToArray().AsSpan()).ToArray(),
        };
    }
}
