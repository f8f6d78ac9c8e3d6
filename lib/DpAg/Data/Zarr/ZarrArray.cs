using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace DpAg.Data.Zarr;

/// <summary>
/// An n-dimensional array held in memory in C order: a typed .NET array (<c>float[]</c>, <c>Half[]</c>, <c>long[]</c>, ...)
/// plus its shape and zarr dtype. What the zarr reader returns and the writer takes.
/// </summary>
public sealed class ZarrArray
{
    private ZarrArray(Array data, int[] shape, ZarrDataType dataType)
    {
        Data = data;
        Shape = shape;
        DataType = dataType;
    }

    /// <summary>The elements in C (row-major) order; the element type is <see cref="ZarrDataType.ClrType"/>.</summary>
    public Array Data { get; }

    /// <summary>The shape, outermost dimension first.</summary>
    public int[] Shape { get; }

    /// <summary>The dtype the array was read as (or will be written as).</summary>
    public ZarrDataType DataType { get; }

    /// <summary>Number of elements (product of <see cref="Shape"/>).</summary>
    public long Length => Data.LongLength;

    /// <summary>Number of dimensions.</summary>
    public int Rank => Shape.Length;

    /// <summary>Elements per index of the first dimension (product of Shape[1..]); 1 for 1-D arrays.</summary>
    public int RowSize => Shape.Length == 0 ? 1 : checked((int)Product(Shape.AsSpan(1)));

    /// <summary>Wraps <paramref name="data"/> (not copied) with <paramref name="shape"/>; the dtype is the little-endian one for <typeparamref name="T"/>.</summary>
    public static ZarrArray Create<T>(T[] data, params int[] shape) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(shape);
        foreach (var d in shape)
            if (d < 0) throw new ArgumentException($"shape [{string.Join(", ", shape)}] has a negative dimension.", nameof(shape));
        if (Product(shape) != data.LongLength)
            throw new ArgumentException($"shape [{string.Join(", ", shape)}] holds {Product(shape)} elements but data has {data.LongLength}; pass a shape whose product equals data.Length.", nameof(shape));
        return new ZarrArray(data, (int[])shape.Clone(), ZarrDataType.ForClrType(typeof(T)));
    }

    /// <summary>Allocates a zero-filled array for a dtype and shape.</summary>
    internal static ZarrArray Allocate(ZarrDataType dataType, int[] shape)
    {
        long n = Product(shape);
        if (n > Array.MaxLength)
            throw new DatasetFormatException($"array of shape [{string.Join(", ", shape)}] has {n} elements, more than a .NET array holds ({Array.MaxLength}).");
        return new ZarrArray(Array.CreateInstance(dataType.ClrType, n), shape, dataType);
    }

    /// <summary>The data as <typeparamref name="T"/>[] (no copy); throws if the element type differs.</summary>
    public T[] As<T>() where T : unmanaged =>
        Data as T[] ?? throw new InvalidCastException($"array holds {DataType} ({DataType.ClrType.Name}) elements, not {typeof(T).Name}; use ToFloat() or read with the matching type.");

    /// <summary>A float32 copy of the data, converting from any numeric dtype (bool -> 0/1; half floats exactly).</summary>
    public float[] ToFloat()
    {
        if (Data is float[] f) return (float[])f.Clone();
        var result = new float[Data.LongLength];
        switch (Data)
        {
            case double[] a: for (long i = 0; i < a.LongLength; i++) result[i] = (float)a[i]; break;
            case Half[] a: for (long i = 0; i < a.LongLength; i++) result[i] = (float)a[i]; break;
            case sbyte[] a: for (long i = 0; i < a.LongLength; i++) result[i] = a[i]; break;
            case short[] a: for (long i = 0; i < a.LongLength; i++) result[i] = a[i]; break;
            case int[] a: for (long i = 0; i < a.LongLength; i++) result[i] = a[i]; break;
            case long[] a: for (long i = 0; i < a.LongLength; i++) result[i] = a[i]; break;
            case byte[] a: for (long i = 0; i < a.LongLength; i++) result[i] = a[i]; break;
            case ushort[] a: for (long i = 0; i < a.LongLength; i++) result[i] = a[i]; break;
            case uint[] a: for (long i = 0; i < a.LongLength; i++) result[i] = a[i]; break;
            case ulong[] a: for (long i = 0; i < a.LongLength; i++) result[i] = a[i]; break;
            case bool[] a: for (long i = 0; i < a.LongLength; i++) result[i] = a[i] ? 1f : 0f; break;
        }
        return result;
    }

    /// <summary>Copies <paramref name="count"/> elements from little-endian bytes into <paramref name="dest"/> at element <paramref name="destOffset"/>.</summary>
    internal static void CopyFromBytes(Array dest, long destOffset, ReadOnlySpan<byte> src, int count)
    {
        switch (dest)
        {
            case float[] a: In(a, destOffset, src, count); break;
            case double[] a: In(a, destOffset, src, count); break;
            case Half[] a: In(a, destOffset, src, count); break;
            case sbyte[] a: In(a, destOffset, src, count); break;
            case short[] a: In(a, destOffset, src, count); break;
            case int[] a: In(a, destOffset, src, count); break;
            case long[] a: In(a, destOffset, src, count); break;
            case byte[] a: In(a, destOffset, src, count); break;
            case ushort[] a: In(a, destOffset, src, count); break;
            case uint[] a: In(a, destOffset, src, count); break;
            case ulong[] a: In(a, destOffset, src, count); break;
            case bool[] a:
                var b = a.AsSpan(checked((int)destOffset), count);
                for (int i = 0; i < count; i++) b[i] = src[i] != 0;
                break;
            default: throw new NotSupportedException($"element type {dest.GetType().GetElementType()?.Name} is not a zarr dtype.");
        }
    }

    /// <summary>Copies <paramref name="count"/> elements of <paramref name="src"/> from element <paramref name="srcOffset"/> into little-endian bytes.</summary>
    internal static void CopyToBytes(Array src, long srcOffset, Span<byte> dest, int count)
    {
        switch (src)
        {
            case float[] a: Out(a, srcOffset, dest, count); break;
            case double[] a: Out(a, srcOffset, dest, count); break;
            case Half[] a: Out(a, srcOffset, dest, count); break;
            case sbyte[] a: Out(a, srcOffset, dest, count); break;
            case short[] a: Out(a, srcOffset, dest, count); break;
            case int[] a: Out(a, srcOffset, dest, count); break;
            case long[] a: Out(a, srcOffset, dest, count); break;
            case byte[] a: Out(a, srcOffset, dest, count); break;
            case ushort[] a: Out(a, srcOffset, dest, count); break;
            case uint[] a: Out(a, srcOffset, dest, count); break;
            case ulong[] a: Out(a, srcOffset, dest, count); break;
            case bool[] a: Out(a, srcOffset, dest, count); break;
            default: throw new NotSupportedException($"element type {src.GetType().GetElementType()?.Name} is not a zarr dtype.");
        }
    }

    private static void In<T>(T[] dest, long offset, ReadOnlySpan<byte> src, int count) where T : unmanaged =>
        MemoryMarshal.Cast<byte, T>(src[..(count * Unsafe.SizeOf<T>())]).CopyTo(dest.AsSpan(checked((int)offset), count));

    private static void Out<T>(T[] src, long offset, Span<byte> dest, int count) where T : unmanaged =>
        MemoryMarshal.AsBytes(src.AsSpan(checked((int)offset), count)).CopyTo(dest);

    internal static long Product(ReadOnlySpan<int> shape)
    {
        long p = 1;
        foreach (var d in shape) p = checked(p * d);
        return p;
    }

    /// <inheritdoc />
    public override string ToString() => $"ZarrArray {DataType} [{string.Join(", ", Shape)}]";
}
