namespace DpAg.Data.Zarr;

/// <summary>
/// The Blosc1 shuffle filters. Byte shuffle: byte j of element i moves to j*n + i (n = whole elements; trailing bytes
/// are copied). Bit shuffle (bitshuffle's bit-transpose): bit k of byte j of element i moves to bit position
/// (8j + k)*n + i, least significant bit first; applied only when n is a multiple of 8, otherwise the block is copied
/// as is (c-blosc 1.x, shuffle.c).
/// </summary>
internal static class Shuffle
{
    public static void ByteShuffle(ReadOnlySpan<byte> src, Span<byte> dst, int typeSize)
    {
        int n = src.Length / typeSize;
        for (int j = 0; j < typeSize; j++)
        {
            var row = dst.Slice(j * n, n);
            for (int i = 0, s = j; i < n; i++, s += typeSize) row[i] = src[s];
        }
        int tail = n * typeSize;
        src[tail..].CopyTo(dst[tail..]);
    }

    public static void ByteUnshuffle(ReadOnlySpan<byte> src, Span<byte> dst, int typeSize)
    {
        int n = src.Length / typeSize;
        for (int j = 0; j < typeSize; j++)
        {
            var row = src.Slice(j * n, n);
            for (int i = 0, d = j; i < n; i++, d += typeSize) dst[d] = row[i];
        }
        int tail = n * typeSize;
        src[tail..].CopyTo(dst[tail..]);
    }

    public static unsafe void BitShuffle(ReadOnlySpan<byte> src, Span<byte> dst, int typeSize)
    {
        if (dst.Length < src.Length) throw new ArgumentException("destination shorter than source.", nameof(dst));
        int n = src.Length / typeSize;
        if (n % 8 != 0)
        {
            src.CopyTo(dst);
            return;
        }
        int rowBytes = n / 8;
        fixed (byte* s0 = src)
        fixed (byte* d0 = dst)
        {
            for (int j = 0; j < typeSize; j++)
            {
                byte* rows = d0 + 8 * j * rowBytes;
                byte* s = s0 + j;
                for (int g = 0; g < rowBytes; g++, s += 8 * typeSize)
                {
                    ulong x = 0;
                    for (int m = 0; m < 8; m++) x |= (ulong)s[m * typeSize] << (8 * m);
                    x = Transpose8x8(x);
                    for (int k = 0; k < 8; k++) rows[k * rowBytes + g] = (byte)(x >> (8 * k));
                }
            }
        }
        int tail = n * typeSize;
        src[tail..].CopyTo(dst[tail..]);
    }

    public static unsafe void BitUnshuffle(ReadOnlySpan<byte> src, Span<byte> dst, int typeSize)
    {
        if (dst.Length < src.Length) throw new ArgumentException("destination shorter than source.", nameof(dst));
        int n = src.Length / typeSize;
        if (n % 8 != 0)
        {
            src.CopyTo(dst);
            return;
        }
        int rowBytes = n / 8;
        fixed (byte* s0 = src)
        fixed (byte* d0 = dst)
        {
            for (int j = 0; j < typeSize; j++)
            {
                byte* rows = s0 + 8 * j * rowBytes;
                byte* d = d0 + j;
                for (int g = 0; g < rowBytes; g++, d += 8 * typeSize)
                {
                    ulong x = 0;
                    for (int k = 0; k < 8; k++) x |= (ulong)rows[k * rowBytes + g] << (8 * k);
                    x = Transpose8x8(x);
                    for (int m = 0; m < 8; m++) d[m * typeSize] = (byte)(x >> (8 * m));
                }
            }
        }
        int tail = n * typeSize;
        src[tail..].CopyTo(dst[tail..]);
    }

    /// <summary>Transposes an 8x8 bit matrix stored as 8 bytes (row m = byte m, column k = bit k): out byte k bit m = in byte m bit k.</summary>
    internal static ulong Transpose8x8(ulong x)
    {
        ulong t = (x ^ (x >> 7)) & 0x00AA00AA00AA00AAUL;
        x ^= t ^ (t << 7);
        t = (x ^ (x >> 14)) & 0x0000CCCC0000CCCCUL;
        x ^= t ^ (t << 14);
        t = (x ^ (x >> 28)) & 0x00000000F0F0F0F0UL;
        x ^= t ^ (t << 28);
        return x;
    }
}
