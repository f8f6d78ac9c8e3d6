# Writes the zarr v2 fixture store of ZarrFixtureTests with Debian's python3-zarr 2.13 / numcodecs, and beside each
# array the values numpy holds, as C-order little-endian bytes (<key with '/' as '_'>.bin). index.tsv lists the
# arrays the reader must decode (key, dtype, order, shape); the group "refused" holds what it must refuse.
# Usage: python3 zarr_fixtures.py STORE EXPECTED (run by tests/DpAg.Tests/Data/Zarr/ZarrFixtureTests.cs)
import json, os, sys
import numpy as np
import numcodecs, zarr
from numcodecs import Blosc, GZip, LZ4, Zlib, Zstd

root, exp = sys.argv[1], sys.argv[2]
os.makedirs(exp, exist_ok=True)
g = zarr.open_group(zarr.DirectoryStore(root), mode='w')
index = []


def values(shape, dtype, seed, run=4):
    """Values reaching every byte of the type, repeated in runs so that the codecs compress them, with the edge values a
    decoder gets wrong. Runs of 4 plus a ramp keep most blocks incompressible enough to be stored raw or memcpyed; long
    runs (run=32) make every codec compress."""
    dt = np.dtype(dtype)
    native = dt.newbyteorder('=')
    rng = np.random.RandomState(seed)
    n = int(np.prod(shape))
    if dt.kind == 'b':
        return (rng.rand(n) > 0.5).reshape(shape)
    m = (n + run - 1) // run
    if dt.kind == 'f':
        a = np.repeat(rng.randn(m) * 50, run)[:n]
        if run == 4:
            a = a + np.arange(n) % 7
        a = a.astype(native)
        fi = np.finfo(native)
        specials = np.array([np.nan, np.inf, -np.inf, -0.0, fi.tiny, fi.tiny / 4, fi.max, fi.min, fi.eps], dtype=native)
    else:
        info = np.iinfo(native)
        a = np.repeat(rng.randint(info.min, info.max, size=m, dtype=native), run)[:n]
        specials = np.array([info.min, info.max, 0, 1], dtype=native)
    k = min(n, len(specials))
    a[rng.choice(n, k, replace=False)] = specials[:k]
    return a.reshape(shape).astype(dt)


def expect(key, a):
    a = np.asarray(a)
    np.ascontiguousarray(a).astype(a.dtype.newbyteorder('<')).tofile(os.path.join(exp, key.replace('/', '_') + '.bin'))


def check(z, a):
    back = z[...]
    assert back.dtype == a.dtype and back.tobytes() == a.tobytes(), z.path


def case(key, shape, chunks, dtype, order='C', compressor=None, seed=0, run=4, **kw):
    a = values(shape, dtype, seed, run)
    z = g.create_dataset(key, shape=shape, chunks=chunks, dtype=dtype, order=order, compressor=compressor, **kw)
    z[...] = a
    check(z, a)
    expect(key, a)
    index.append((key, np.dtype(dtype).str, order, shape))


seed = iter(range(1, 10_000))
orders = ['C', 'F']

# Every dtype in both orders, in both byte orders, 3-D with partial edge chunks in every dimension.
dtypes = ['<f2', '<f4', '<f8', '|i1', '<i2', '<i4', '<i8', '|u1', '<u2', '<u4', '<u8', '|b1',
          '>f2', '>f4', '>f8', '>i2', '>i4', '>i8', '>u2', '>u4', '>u8']
for dt in dtypes:
    for o in orders:
        name = dt.replace('<', 'le_').replace('>', 'be_').replace('|', '')
        case(f'dtype/{name}_{o}', (13, 7, 5), (4, 3, 2), dt, o, Blosc('lz4', 5, Blosc.SHUFFLE), next(seed))

# Every compressor and Blosc setting, both orders, 2-D with partial edge chunks.
compressors = {'raw': None, 'zlib': Zlib(1), 'gzip': GZip(5), 'zstd': Zstd(3), 'lz4': LZ4()}
for cname in ['lz4', 'lz4hc', 'zstd', 'zlib', 'blosclz']:
    for sname, s in [('noshuffle', Blosc.NOSHUFFLE), ('shuffle', Blosc.SHUFFLE), ('bitshuffle', Blosc.BITSHUFFLE)]:
        compressors[f'blosc_{cname}_{sname}'] = Blosc(cname, 5, s)
compressors['blosc_zstd_autoshuffle'] = Blosc('zstd', 5, Blosc.AUTOSHUFFLE)
for cname, comp in compressors.items():
    for o in orders:
        case(f'codec/{cname}_{o}', (37, 11), (16, 4), '<f8' if 'zlib' in cname else '<i2', o, comp, next(seed))

# Ranks 0, 1 and 4.
case('rank/r0', (), (), '<f8', 'C', None, next(seed))
for o in orders:
    case(f'rank/r1_{o}', (1000,), (300,), '<u4', o, Blosc('zstd', 5, Blosc.BITSHUFFLE), next(seed))
    case(f'rank/r4_{o}', (6, 5, 4, 3), (4, 2, 3, 2), '<i8', o, Zlib(1), next(seed))

# Multi-block and split Blosc chunks. c-blosc 1.x splits a full block into typesize streams (when typesize <= 16 and
# block/typesize >= 128) for every codec but zstd here (header flag 0x10 clear); for those it multiplies a forced block
# size by typesize and raises it to at least 64 KiB, so they need chunks of several 64 KiB; zstd keeps the forced size.
# A chunk whose size is not a multiple of the block size ends in a short leftover block, which is never split.
for cname in ['lz4', 'lz4hc', 'blosclz', 'zstd', 'zlib']:
    for sname, s in [('noshuffle', Blosc.NOSHUFFLE), ('shuffle', Blosc.SHUFFLE), ('bitshuffle', Blosc.BITSHUFFLE)]:
        case(f'blocks/{cname}_{sname}', (5000, 16), (4096, 16), '<f4', 'C', Blosc(cname, 5, s, blocksize=16384), next(seed), run=32)
case('blocks/leftover_split_f8', (12000, 3), (10000, 3), '<f8', 'C', Blosc('lz4', 5, Blosc.SHUFFLE, blocksize=8192), next(seed), run=32)
case('blocks/leftover_zstd_f8', (3000, 3), (1000, 3), '<f8', 'C', Blosc('zstd', 5, Blosc.NOSHUFFLE, blocksize=4096), next(seed), run=32)
case('blocks/leftover_bitshuffle_u2', (5000,), (3001,), '<u2', 'C', Blosc('zstd', 5, Blosc.BITSHUFFLE, blocksize=1024), next(seed), run=32)
case('blocks/split_i8', (5000, 4), (4096, 4), '<i8', 'C', Blosc('lz4', 5, Blosc.SHUFFLE, blocksize=8192), next(seed), run=32)
case('blocks/split_u2_F', (40000, 2), (32768, 2), '<u2', 'F', Blosc('blosclz', 5, Blosc.NOSHUFFLE, blocksize=32768), next(seed), run=32)
case('blocks/split_f4_F_raw_streams', (2000, 24), (1000, 24), '<f4', 'F', Blosc('lz4', 5, Blosc.SHUFFLE, blocksize=8192), next(seed))
case('blocks/auto_1MiB', (65536, 4), (65536, 4), '<f4', 'C', Blosc('lz4', 5, Blosc.SHUFFLE), next(seed))
case('blocks/tiny_memcpy', (10,), (10,), '<i2', 'C', Blosc('lz4', 5, Blosc.SHUFFLE), next(seed))

# Chunk keys: explicit '/' and '.', and stores from zarr before 2.8, which never wrote dimension_separator: flat keys
# (DirectoryStore) or nested ones (NestedDirectoryStore, whose arrays only that store class reads back).
for o in orders:
    case(f'keys/nested_{o}', (11, 6, 3), (4, 4, 2), '<f4', o, Blosc('lz4', 5, Blosc.NOSHUFFLE), next(seed), dimension_separator='/')
    case(f'keys/flat_{o}', (11, 6), (4, 4), '<f4', o, Blosc('lz4', 5, Blosc.NOSHUFFLE), next(seed), dimension_separator='.')
legacy = g.create_group('legacy')
for name, shape, chunks, dt, o, nested in [
        ('nested_2d', (9, 7), (4, 3), '<i4', 'C', True), ('nested_3d_F', (5, 6, 7), (2, 4, 3), '<f2', 'F', True),
        ('nested_1d', (50,), (16,), '<u8', 'C', True), ('flat_2d', (9, 7), (4, 3), '<i4', 'C', False)]:
    key = f'legacy/{name}'
    path = os.path.join(root, 'legacy', name)
    store = zarr.NestedDirectoryStore(path) if nested else zarr.DirectoryStore(path)
    a = values(shape, dt, next(seed))
    z = zarr.open_array(store, mode='w', shape=shape, chunks=chunks, dtype=dt, order=o, compressor=Zstd(1))
    z[...] = a
    meta_file = os.path.join(path, '.zarray')
    meta = json.load(open(meta_file))
    meta.pop('dimension_separator', None)
    json.dump(meta, open(meta_file, 'w'), indent=4, sort_keys=True)
    check(zarr.Array(zarr.NestedDirectoryStore(path) if nested else zarr.DirectoryStore(path)), a)
    expect(key, a)
    index.append((key, np.dtype(dt).str, o, shape))

# Missing chunks read as the fill value, in F order and as half floats too.
for dt, fill, o in [('<f4', -1.5, 'C'), ('<f8', float('nan'), 'C'), ('<f2', float('nan'), 'F'), ('<i2', 7, 'F')]:
    key = f'fill/{dt[1:]}_{o}'
    z = g.create_dataset(key, shape=(10, 6), chunks=(3, 4), dtype=dt, fill_value=fill, order=o, compressor=Blosc('zstd', 5, Blosc.SHUFFLE))
    z[0:3, 0:4] = values((3, 4), dt, next(seed))
    z[9, :] = 2
    a = z[...]
    expect(key, a)
    index.append((key, np.dtype(dt).str, o, (10, 6)))

# Out of scope: the reader must refuse these, naming the file and the field.
r = g.create_group('refused')
r.create_dataset('bz2', data=np.arange(100, dtype='<i4'), chunks=(50,), compressor=numcodecs.BZ2(1))
r.create_dataset('lzma', data=np.arange(100, dtype='<i4'), chunks=(50,), compressor=numcodecs.LZMA())
r.create_dataset('bytes', data=np.array([b'ab', b'cde'] * 5, dtype='|S3'), chunks=(4,))
r.create_dataset('unicode', data=np.array(['ab', 'cde'] * 5, dtype='<U3'), chunks=(4,))
r.create_dataset('object', data=np.array(['ab', 'cde'] * 5, dtype=object), chunks=(4,), dtype=object, object_codec=numcodecs.VLenUTF8())
r.create_dataset('complex', data=np.arange(10, dtype='<c8'), chunks=(4,))
r.create_dataset('datetime', data=np.arange(10).astype('<M8[s]'), chunks=(4,))
r.create_dataset('structured', data=np.zeros(10, dtype=[('a', '<i4'), ('b', '<f4')]), chunks=(4,))
r.create_dataset('filters', data=np.arange(10, dtype='<i4'), chunks=(4,), filters=[numcodecs.Delta(dtype='<i4')])
r.create_dataset('snappy', data=np.tile(np.arange(64, dtype='<i4'), 8), chunks=(512,), compressor=Blosc('snappy', 5, Blosc.SHUFFLE))

with open(os.path.join(exp, 'index.tsv'), 'w') as f:
    for key, dt, o, shape in index:
        f.write(f"{key}\t{dt}\t{o}\t{','.join(map(str, shape))}\n")
print(len(index))
