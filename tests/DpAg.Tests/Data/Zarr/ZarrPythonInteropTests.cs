using DpAg.Data;
using DpAg.Data.Zarr;

namespace DpAg.Tests.Data.Zarr;

/// <summary>Writes the zarr-python reference store once per test class and deletes it afterwards.</summary>
public sealed class PythonStoreFixture : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly Lazy<(string Store, string Expected)> _written;

    public PythonStoreFixture() => _written = new(() =>
    {
        var store = _dir.Sub("store.zarr");
        var exp = _dir.Sub("expected");
        Directory.CreateDirectory(exp);
        PythonZarr.Run(ZarrPythonInteropTests.WriteScript, store, exp);
        return (store, exp);
    });

    public (string Store, string Expected) Written => _written.Value;

    public void Dispose() => _dir.Dispose();
}

public sealed class ZarrPythonInteropTests(PythonStoreFixture fixture) : IClassFixture<PythonStoreFixture>
{
    // Writes one array per case with zarr-python and the expected C-order little-endian bytes beside it.
    internal const string WriteScript = """
import sys, os, numpy as np, zarr
from numcodecs import Blosc, Zstd, LZ4, Zlib
root = sys.argv[1]; exp = sys.argv[2]
g = zarr.open_group(zarr.DirectoryStore(root), mode='w')
def vals(shape, dtype, seed):
    rng = np.random.RandomState(seed)
    n = int(np.prod(shape))
    dt = np.dtype(dtype)
    if dt.kind == 'f':
        base = np.repeat(rng.randn((n + 3) // 4) * 50, 4)[:n]
        a = (base + np.arange(n) % 7).astype(dt)
    elif dt.kind == 'b':
        a = rng.rand(n) > 0.5
    else:
        info = np.iinfo(dt)
        a = rng.randint(max(info.min, -1000), min(info.max, 1000) + 1, size=n).astype(dt)
    return a.reshape(shape)
def case(name, shape, chunks, dtype, compressor, seed, **kw):
    a = vals(shape, dtype, seed)
    z = g.create_dataset(name, shape=shape, chunks=chunks, dtype=dtype, compressor=compressor, **kw)
    z[...] = a
    a.astype(np.dtype(dtype).newbyteorder('<')).tofile(os.path.join(exp, name.replace('/', '_') + '.bin'))
case('lz4_noshuffle', (50, 3), (16, 3), '<f4', Blosc('lz4', 5, Blosc.NOSHUFFLE), 1)
case('lz4_noshuffle_split', (20, 96, 96, 3), (7, 96, 96, 3), '<f4', Blosc('lz4', 5, Blosc.NOSHUFFLE), 2)
case('zstd_bitshuffle', (100, 9, 2), (32, 9, 2), '<f4', Blosc('zstd', 5, Blosc.BITSHUFFLE), 3)
case('zstd_bitshuffle_u1', (9, 96, 96, 3), (4, 96, 96, 3), '|u1', Blosc('zstd', 5, Blosc.BITSHUFFLE), 4)
case('lz4_byteshuffle_f8', (37, 5), (10, 5), '<f8', Blosc('lz4', 5, Blosc.SHUFFLE), 5)
case('lz4_byteshuffle_split', (3000, 5), (1000, 5), '<f4', Blosc('lz4', 5, Blosc.SHUFFLE), 6)
case('lz4_bitshuffle_leftover', (1003, 3), (1003, 3), '<f8', Blosc('lz4', 5, Blosc.BITSHUFFLE, blocksize=4000), 7)
case('zlib_blosc_i8', (206,), (64,), '<i8', Blosc('zlib', 5, Blosc.SHUFFLE), 8)
case('raw_multidim', (10, 4, 3), (3, 2, 2), '<i4', None, 9)
case('nested_sep', (11, 6), (4, 4), '<f4', Blosc('lz4', 5, Blosc.NOSHUFFLE), 10, dimension_separator='/')
case('top_zstd', (40, 2), (16, 2), '<f4', Zstd(level=3), 11)
case('top_lz4', (40, 2), (16, 2), '<i2', LZ4(), 12)
case('top_zlib', (40, 2), (16, 2), '<u4', Zlib(level=1), 13)
case('big_endian', (13, 3), (5, 3), '>f8', None, 14)
case('bool_raw', (17,), (5,), '|b1', None, 15)
case('int8_blosc', (300,), (128,), '|i1', Blosc('lz4', 5, Blosc.BITSHUFFLE), 16)
case('uint64_zstd', (33, 2), (10, 2), '<u8', Blosc('zstd', 1, Blosc.SHUFFLE), 17)
z = g.create_dataset('missing_chunks', shape=(10, 4), chunks=(3, 4), dtype='<f4', fill_value=-1.5, compressor=Blosc('lz4', 5, 0))
z[0:3] = 2.0
z[9] = 3.0
a = np.full((10, 4), -1.5, dtype='<f4'); a[0:3] = 2.0; a[9] = 3.0
a.tofile(os.path.join(exp, 'missing_chunks.bin'))
case('blosclz', (300,), (300,), '<f4', Blosc('blosclz', 5, Blosc.SHUFFLE), 18)
case('blosclz_noshuffle', (20000, 3), (6000, 3), '<f4', Blosc('blosclz', 9, Blosc.NOSHUFFLE), 19)
# period 12000 > 8191: blosclz emits 16-bit far matches for this data (checked by parsing the token stream)
far = np.tile(np.repeat(np.random.RandomState(20).randint(0, 256, 1500), 8).astype('|u1'), 20)
z = g.create_dataset('blosclz_far', shape=far.shape, chunks=(far.size,), dtype='|u1', compressor=Blosc('blosclz', 5, Blosc.NOSHUFFLE))
z[...] = far; far.tofile(os.path.join(exp, 'blosclz_far.bin'))
sub = g.create_group('data'); sub.create_dataset('x', data=np.arange(12, dtype='<i8').reshape(3, 4), chunks=(2, 4), compressor=Blosc('zstd', 5, Blosc.BITSHUFFLE))
np.arange(12, dtype='<i8').tofile(os.path.join(exp, 'data_x.bin'))
print('done')
""";

    public static readonly TheoryData<string, Type, int[]> Cases = new()
    {
        { "lz4_noshuffle", typeof(float), [50, 3] },
        { "lz4_noshuffle_split", typeof(float), [20, 96, 96, 3] },
        { "zstd_bitshuffle", typeof(float), [100, 9, 2] },
        { "zstd_bitshuffle_u1", typeof(byte), [9, 96, 96, 3] },
        { "lz4_byteshuffle_f8", typeof(double), [37, 5] },
        { "lz4_byteshuffle_split", typeof(float), [3000, 5] },
        { "lz4_bitshuffle_leftover", typeof(double), [1003, 3] },
        { "zlib_blosc_i8", typeof(long), [206] },
        { "raw_multidim", typeof(int), [10, 4, 3] },
        { "nested_sep", typeof(float), [11, 6] },
        { "top_zstd", typeof(float), [40, 2] },
        { "top_lz4", typeof(short), [40, 2] },
        { "top_zlib", typeof(uint), [40, 2] },
        { "big_endian", typeof(double), [13, 3] },
        { "bool_raw", typeof(bool), [17] },
        { "int8_blosc", typeof(sbyte), [300] },
        { "uint64_zstd", typeof(ulong), [33, 2] },
        { "missing_chunks", typeof(float), [10, 4] },
        { "data/x", typeof(long), [3, 4] },
        { "blosclz", typeof(float), [300] },
        { "blosclz_noshuffle", typeof(float), [20000, 3] },
        { "blosclz_far", typeof(byte), [240000] },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void ReadsStoresWrittenByZarrPython(string key, Type elementType, int[] shape)
    {
        var (store, exp) = fixture.Written;
        var array = ZarrStore.ReadArray(store, key);
        Assert.Equal(elementType, array.DataType.ClrType);
        Assert.Equal(shape, array.Shape);
        var expected = File.ReadAllBytes(Path.Combine(exp, key.Replace('/', '_') + ".bin"));
        var actual = new byte[expected.Length];
        ZarrArray.CopyToBytes(array.Data, 0, actual, (int)array.Length);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void GroupsAndArraysAreListed()
    {
        var (store, _) = fixture.Written;
        Assert.True(ZarrStore.IsGroup(store));
        Assert.True(ZarrStore.IsGroup(store, "data"));
        Assert.Equal(["x"], ZarrStore.ListArrays(store, "data"));
    }
}
