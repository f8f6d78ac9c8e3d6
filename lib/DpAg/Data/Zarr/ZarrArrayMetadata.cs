using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DpAg.Data.Zarr;

/// <summary>
/// The contents of a zarr v2 <c>.zarray</c> file: shape, chunk shape, dtype, compressor, fill value, chunk memory
/// order, chunk key separator. Filters are not supported.
/// </summary>
/// <param name="Shape">Array shape.</param>
/// <param name="Chunks">Chunk shape (same rank; edge chunks are stored full size).</param>
/// <param name="DataType">Element dtype.</param>
/// <param name="Compressor">Compressor, null for raw chunks.</param>
/// <param name="FillValue">Value of elements whose chunk file is missing (zarr <c>fill_value</c>; null reads as 0).</param>
/// <param name="DimensionSeparator">'.' (zarr default, keys like <c>0.1.2</c>) or '/' (nested folders).</param>
/// <param name="Order">'C' (row-major) or 'F' (column-major): the element order inside each stored chunk. The reader
/// returns C order either way; the writer writes 'C'.</param>
public sealed record ZarrArrayMetadata(int[] Shape, int[] Chunks, ZarrDataType DataType, ZarrCompressor? Compressor, double? FillValue = 0, char DimensionSeparator = '.', char Order = 'C')
{
    /// <summary>Number of chunks along each dimension (ceil(shape / chunks)).</summary>
    public int[] ChunkGrid => Shape.Select((s, d) => (s + Chunks[d] - 1) / Chunks[d]).ToArray();

    /// <summary>Bytes of one (full-size) decoded chunk.</summary>
    public long ChunkBytes => ZarrArray.Product(Chunks) * DataType.ItemSize;

    /// <summary>The chunk key for a chunk grid index (e.g. <c>3.0.0</c>); rank-0 arrays use <c>0</c>.</summary>
    public string ChunkKey(ReadOnlySpan<int> index)
    {
        if (index.Length == 0) return "0";
        var parts = new string[index.Length];
        for (int i = 0; i < index.Length; i++) parts[i] = index[i].ToString(CultureInfo.InvariantCulture);
        return string.Join(DimensionSeparator, parts);
    }

    /// <summary>Parses a <c>.zarray</c> document; every problem is a <see cref="DatasetFormatException"/> naming the file.</summary>
    public static ZarrArrayMetadata Parse(string json, string? path = null, string? key = null) => Parse(json, path, key, out _);

    /// <summary>As <see cref="Parse(string, string?, string?)"/>; <paramref name="separatorGiven"/> says whether the
    /// document names its dimension_separator (zarr before 2.8 never did, whatever the store's keys look like).</summary>
    internal static ZarrArrayMetadata Parse(string json, string? path, string? key, out bool separatorGiven)
    {
        string where = ZarrDataType.Where(path, key);
        DatasetFormatException Fail(string what, Exception? inner = null) => new($"{where}{what}", path, key, inner);
        JsonObject obj;
        try
        {
            obj = JsonNode.Parse(json) as JsonObject ?? throw Fail("is not a JSON object; expected zarr v2 array metadata.");
        }
        catch (JsonException e)
        {
            throw Fail($"is not valid JSON ({e.Message}); expected zarr v2 array metadata.", e);
        }
        int format = obj["zarr_format"] is JsonValue fv && fv.TryGetValue(out int f) ? f : -1;
        if (format != 2) throw Fail($"zarr_format is {ZarrDataType.Show(obj["zarr_format"])}, expected 2.");
        int[] shape = IntList(obj, "shape", allowZero: true, Fail);
        int[] chunks = IntList(obj, "chunks", allowZero: false, Fail);
        if (shape.Length != chunks.Length) throw Fail($"shape [{string.Join(", ", shape)}] and chunks [{string.Join(", ", chunks)}] differ in rank.");
        if (obj["dtype"] is not JsonValue dv || !dv.TryGetValue(out string? dtypeStr))
            throw Fail($"dtype is {ZarrDataType.Show(obj["dtype"])}, expected a typestr such as \"<f4\" (structured dtypes are not supported).");
        var dtype = ZarrDataType.Parse(dtypeStr, path, key);
        string order = obj["order"] is JsonValue ov && ov.TryGetValue(out string? o) ? o : "C";
        if (order is not ("C" or "F")) throw Fail($"order '{order}' is not a zarr chunk order; expected \"C\" or \"F\".");
        if (obj["filters"] is JsonArray { Count: > 0 } filters) throw Fail($"filters {ZarrDataType.Show(filters)} are not supported; expected null.");
        if (obj["filters"] is { } fl && fl is not JsonArray) throw Fail($"filters {ZarrDataType.Show(fl)} are not supported; expected null.");
        char sep = '.';
        separatorGiven = obj["dimension_separator"] is not null;
        if (obj["dimension_separator"] is JsonValue sv && sv.TryGetValue(out string? s))
        {
            if (s != "." && s != "/") throw Fail($"dimension_separator '{s}', expected '.' or '/'.");
            sep = s[0];
        }
        var compressor = ZarrCompressor.FromJson(obj["compressor"], path, key);
        double? fill = ParseFill(obj["fill_value"], dtype, Fail);
        if (ZarrArray.Product(chunks) * dtype.ItemSize > int.MaxValue) throw Fail($"chunks [{string.Join(", ", chunks)}] exceed 2 GiB per chunk.");
        return new ZarrArrayMetadata(shape, chunks, dtype, compressor, fill, sep, order[0]);
    }

    /// <summary>Serialises to the <c>.zarray</c> JSON that zarr-python 2 writes (sorted keys, 4-space indent).</summary>
    public string ToJson()
    {
        var obj = new JsonObject
        {
            ["chunks"] = new JsonArray(Chunks.Select(c => (JsonNode)c).ToArray()),
            ["compressor"] = Compressor?.ToJson(),
            ["dimension_separator"] = DimensionSeparator.ToString(),
            ["dtype"] = DataType.TypeString,
            ["fill_value"] = FillJson(),
            ["filters"] = null,
            ["order"] = Order.ToString(),
            ["shape"] = new JsonArray(Shape.Select(c => (JsonNode)c).ToArray()),
            ["zarr_format"] = 2,
        };
        return obj.ToJsonString(new JsonSerializerOptions { WriteIndented = true, IndentSize = 4 });
    }

    private JsonNode? FillJson()
    {
        if (FillValue is not { } v) return null;
        if (DataType.Kind == 'b') return v != 0;
        if (DataType.Kind == 'f')
        {
            if (double.IsNaN(v)) return "NaN";
            if (double.IsPositiveInfinity(v)) return "Infinity";
            if (double.IsNegativeInfinity(v)) return "-Infinity";
            return v;
        }
        return (long)v;
    }

    /// <summary>The little-endian bytes of one fill element.</summary>
    internal byte[] FillBytes()
    {
        var v = FillValue ?? 0;
        var one = Array.CreateInstance(DataType.ClrType, 1);
        switch (one)
        {
            case float[] a: a[0] = (float)v; break;
            case double[] a: a[0] = v; break;
            case Half[] a: a[0] = (Half)v; break;
            case sbyte[] a: a[0] = (sbyte)v; break;
            case short[] a: a[0] = (short)v; break;
            case int[] a: a[0] = (int)v; break;
            case long[] a: a[0] = (long)v; break;
            case byte[] a: a[0] = (byte)v; break;
            case ushort[] a: a[0] = (ushort)v; break;
            case uint[] a: a[0] = (uint)v; break;
            case ulong[] a: a[0] = (ulong)v; break;
            case bool[] a: a[0] = v != 0; break;
        }
        var bytes = new byte[DataType.ItemSize];
        ZarrArray.CopyToBytes(one, 0, bytes, 1);
        return bytes;
    }

    private static double? ParseFill(JsonNode? node, ZarrDataType dtype, Func<string, Exception?, DatasetFormatException> fail)
    {
        if (node is null) return null;
        if (node is JsonValue v)
        {
            if (v.TryGetValue(out bool b)) return b ? 1 : 0;
            if (v.TryGetValue(out double d)) return d;
            if (v.TryGetValue(out string? s))
            {
                switch (s)
                {
                    // numpy's NaN is the positive quiet NaN; .NET's double.NaN has the sign bit set, and the
                    // sign survives the narrowing to float and Half, so fill bits would differ from zarr-python's.
                    case "NaN": return BitConverter.Int64BitsToDouble(0x7FF8_0000_0000_0000);
                    case "Infinity": return double.PositiveInfinity;
                    case "-Infinity": return double.NegativeInfinity;
                }
            }
        }
        throw fail($"fill_value {ZarrDataType.Show(node)} is not supported for dtype {dtype}; expected a number, \"NaN\", \"Infinity\", \"-Infinity\", true/false or null.", null);
    }

    private static int[] IntList(JsonObject obj, string name, bool allowZero, Func<string, Exception?, DatasetFormatException> fail)
    {
        if (obj[name] is not JsonArray arr) throw fail($"'{name}' is {ZarrDataType.Show(obj[name])}, expected a list of integers.", null);
        var result = new int[arr.Count];
        for (int i = 0; i < arr.Count; i++)
        {
            if (arr[i] is not JsonValue v || !v.TryGetValue(out long x) || x < (allowZero ? 0 : 1) || x > int.MaxValue)
                throw fail($"'{name}' is {ZarrDataType.Show(arr)}; expected {(allowZero ? "non-negative" : "positive")} integers below 2^31.", null);
            result[i] = (int)x;
        }
        return result;
    }
}
