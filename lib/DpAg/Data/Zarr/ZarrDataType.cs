namespace DpAg.Data.Zarr;

/// <summary>
/// A zarr v2 / numpy "typestr" such as <c>&lt;f4</c>, <c>&lt;i8</c>, <c>|u1</c>, <c>|b1</c>: byte order, kind and item size.
/// Supported kinds: f (2, 4, 8), i (1, 2, 4, 8), u (1, 2, 4, 8), b (1). Strings (S, U), objects (O), complex (c),
/// dates (M, m) and structured dtypes are out of scope: the kit's data are numeric.
/// </summary>
public sealed record ZarrDataType
{
    private ZarrDataType(char byteOrder, char kind, int itemSize, Type clrType)
    {
        ByteOrder = byteOrder;
        Kind = kind;
        ItemSize = itemSize;
        ClrType = clrType;
    }

    /// <summary>'&lt;' little endian, '&gt;' big endian, '|' not applicable (1-byte types).</summary>
    public char ByteOrder { get; }

    /// <summary>numpy kind: 'f' float, 'i' signed int, 'u' unsigned int, 'b' bool.</summary>
    public char Kind { get; }

    /// <summary>Bytes per element.</summary>
    public int ItemSize { get; }

    /// <summary>The .NET element type arrays of this dtype are read into (Half, float, double, sbyte, short, int, long, byte, ushort, uint, ulong, bool).</summary>
    public Type ClrType { get; }

    /// <summary>True when the stored bytes must be swapped on this (little-endian) machine.</summary>
    public bool NeedsSwap => ByteOrder == '>' && ItemSize > 1;

    /// <summary>The typestr as written in <c>.zarray</c>.</summary>
    public string TypeString => $"{ByteOrder}{Kind}{ItemSize}";

    /// <summary>Little-endian float32 (<c>&lt;f4</c>).</summary>
    public static ZarrDataType Float32 { get; } = Parse("<f4");

    /// <summary>Little-endian float64 (<c>&lt;f8</c>).</summary>
    public static ZarrDataType Float64 { get; } = Parse("<f8");

    /// <summary>Little-endian int64 (<c>&lt;i8</c>).</summary>
    public static ZarrDataType Int64 { get; } = Parse("<i8");

    /// <summary>Little-endian int32 (<c>&lt;i4</c>).</summary>
    public static ZarrDataType Int32 { get; } = Parse("<i4");

    /// <summary>Unsigned byte (<c>|u1</c>).</summary>
    public static ZarrDataType UInt8 { get; } = Parse("|u1");

    /// <inheritdoc />
    public override string ToString() => TypeString;

    /// <summary>Parses a typestr; throws <see cref="DatasetFormatException"/> for unknown or unsupported ones.</summary>
    public static ZarrDataType Parse(string typestr, string? path = null, string? key = null)
    {
        if (!TryParse(typestr, out var dt))
            throw new DatasetFormatException(
                $"{Where(path, key)}unsupported dtype '{typestr}'{OutOfScope(typestr)}; expected one of <f2, <f4, <f8, |i1, <i2, <i4, <i8, |u1, <u2, <u4, <u8, |b1 (or the '>' big-endian forms).",
                path, key);
        return dt!;
    }

    /// <summary>Why a well-formed numpy typestr of another kind is refused, so the message says it is deliberate.</summary>
    private static string OutOfScope(string typestr) =>
        typestr.Length < 2 ? "" : typestr[1] switch
        {
            'S' or 'U' => " (fixed-length strings are out of scope: this reader reads numeric and bool arrays)",
            'O' => " (object arrays, which zarr stores through an object_codec filter, are out of scope)",
            'c' => " (complex numbers are out of scope)",
            'M' or 'm' => " (datetime and timedelta arrays are out of scope)",
            'V' => " (raw void and structured dtypes are out of scope)",
            _ => "",
        };

    /// <summary>Parses a typestr, returning false for unknown or unsupported ones.</summary>
    public static bool TryParse(string? typestr, out ZarrDataType? dataType)
    {
        dataType = null;
        if (typestr is null || typestr.Length < 3) return false;
        char order = typestr[0];
        if (order != '<' && order != '>' && order != '|' && order != '=') return false;
        char kind = typestr[1];
        if (!int.TryParse(typestr.AsSpan(2), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int size)) return false;
        Type? clr = (kind, size) switch
        {
            ('f', 2) => typeof(Half),
            ('f', 4) => typeof(float),
            ('f', 8) => typeof(double),
            ('i', 1) => typeof(sbyte),
            ('i', 2) => typeof(short),
            ('i', 4) => typeof(int),
            ('i', 8) => typeof(long),
            ('u', 1) => typeof(byte),
            ('u', 2) => typeof(ushort),
            ('u', 4) => typeof(uint),
            ('u', 8) => typeof(ulong),
            ('b', 1) => typeof(bool),
            _ => null,
        };
        if (clr is null) return false;
        if (order == '=') order = '<';
        if (size == 1) order = '|';
        else if (order == '|') return false;
        dataType = new ZarrDataType(order, kind, size, clr);
        return true;
    }

    /// <summary>The little-endian dtype for a .NET element type (the writer's choice).</summary>
    public static ZarrDataType ForClrType(Type type)
    {
        string s = type == typeof(Half) ? "<f2" : type == typeof(float) ? "<f4" : type == typeof(double) ? "<f8" : type == typeof(sbyte) ? "|i1"
            : type == typeof(short) ? "<i2" : type == typeof(int) ? "<i4" : type == typeof(long) ? "<i8"
            : type == typeof(byte) ? "|u1" : type == typeof(ushort) ? "<u2" : type == typeof(uint) ? "<u4"
            : type == typeof(ulong) ? "<u8" : type == typeof(bool) ? "|b1"
            : throw new ArgumentException($"element type {type.Name} has no zarr dtype; use Half, float, double, sbyte, short, int, long, byte, ushort, uint, ulong or bool.", nameof(type));
        return Parse(s);
    }

    private static readonly System.Text.Json.JsonSerializerOptions Verbatim = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>A metadata value for an error message as the file spells it (the default encoder writes '&lt;' as \u003C).</summary>
    internal static string Show(System.Text.Json.Nodes.JsonNode? node) => node?.ToJsonString(Verbatim) ?? "missing";

    internal static string Where(string? path, string? key) =>
        (path, key) switch
        {
            (null, null) => "",
            (null, _) => $"array '{key}': ",
            (_, null) => $"{path}: ",
            _ => $"{path} (array '{key}'): ",
        };
}
