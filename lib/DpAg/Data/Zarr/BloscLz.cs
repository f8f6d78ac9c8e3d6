namespace DpAg.Data.Zarr;

/// <summary>
/// Decoder for Blosc's own LZ77 codec "blosclz" (c-blosc 1.x blosclz.c format): a token stream where a control
/// byte below 32 announces ctrl+1 literal bytes and a control byte of 32 or more a back-reference of length
/// (ctrl &gt;&gt; 5) + 2 (7 means extended by following bytes until one is not 255) at distance
/// ((ctrl &amp; 31) &lt;&lt; 8) + next byte + 1, with a 16-bit far distance (+8191) when that is 31/255.
/// Returns the bytes written, or -1 on malformed input (never reads or writes out of bounds).
/// </summary>
internal static class BloscLz
{
    private const int MaxDistance = 8191;

    public static int Decompress(ReadOnlySpan<byte> input, Span<byte> output)
    {
        if (input.Length == 0) return 0;
        int ip = 0, op = 0;
        int ipLimit = input.Length, opLimit = output.Length;
        uint ctrl = input[ip++] & 31u;
        while (true)
        {
            if (ctrl >= 32)
            {
                int len = (int)(ctrl >> 5) - 1;
                int ofs = (int)(ctrl & 31u) << 8;
                int code;
                if (len == 6)
                {
                    do
                    {
                        if (ip + 1 >= ipLimit) return -1;
                        code = input[ip++];
                        len += code;
                    } while (code == 255);
                }
                else if (ip + 1 >= ipLimit) return -1;
                code = input[ip++];
                len += 3;
                long reference = (long)op - ofs - code;
                if (code == 255 && ofs == 31 << 8)
                {
                    if (ip + 1 >= ipLimit) return -1;
                    ofs = input[ip++] << 8;
                    ofs += input[ip++];
                    reference = (long)op - ofs - MaxDistance;
                }
                if ((long)op + len > opLimit) return -1;
                if (reference - 1 < 0) return -1;
                if (ip >= ipLimit) break; // as c-blosc: a trailing match token is not expanded
                ctrl = input[ip++];
                int r = (int)(reference - 1);
                for (int i = 0; i < len; i++) output[op++] = output[r++];
            }
            else
            {
                int n = (int)ctrl + 1;
                if (op + n > opLimit || ip + n > ipLimit) return -1;
                input.Slice(ip, n).CopyTo(output[op..]);
                op += n;
                ip += n;
                if (ip >= ipLimit) break;
                ctrl = input[ip++];
            }
        }
        return op;
    }
}
