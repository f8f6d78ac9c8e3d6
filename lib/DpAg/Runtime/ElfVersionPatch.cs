using System.Buffers.Binary;
using System.Text;

namespace DpAg.Runtime;

/// <summary>
/// Makes a shared library load on a system whose libstdc++ is older than the one it was linked with,
/// when the only thing the newer version carries is a link-time anchor that no relocation uses.
/// </summary>
/// <remarks>
/// <c>libLibTorchSharp.so</c> 0.107.0 was linked with GCC 13 and requires <c>GLIBCXX_3.4.32</c>; Debian 12 and
/// Ubuntu 22.04 stop at 3.4.30. The single symbol of that version, <c>_ZSt21ios_base_library_initv</c>, is an
/// anchor. Setting <c>VER_FLG_WEAK</c> (0x2) in the <c>vna_flags</c> of the requirement's entry in
/// <c>.gnu.version_r</c> lets glibc load the library. The edit is two bytes, idempotent, and refused when any
/// other symbol depends on the version (then the library really needs the newer libstdc++).
/// </remarks>
public static class ElfVersionPatch
{
    private const uint SHT_GNU_verneed = 0x6ffffffe;
    private const uint SHT_GNU_versym = 0x6fffffff;
    private const uint SHT_DYNSYM = 11;
    private const ushort VER_FLG_WEAK = 0x2;

    /// <summary>Symbols that carry a version only as a link-time anchor; weakening their version is safe.</summary>
    public static readonly IReadOnlySet<string> AnchorSymbols = new HashSet<string> { "_ZSt21ios_base_library_initv" };

    /// <summary>One version requirement of an ELF file (an entry of <c>.gnu.version_r</c>).</summary>
    public sealed record VersionNeed(string File, string Version, bool Weak, long FlagsOffset, IReadOnlyList<string> Symbols);

    /// <summary>Reads every version requirement of a 64-bit little-endian ELF file, with the symbols that use it.</summary>
    public static IReadOnlyList<VersionNeed> ReadVersionNeeds(string path)
    {
        var elf = File.ReadAllBytes(path);
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            throw new InvalidDataException($"{path} is not an ELF file.");
        if (elf[4] != 2 || elf[5] != 1)
            throw new InvalidDataException($"{path}: only 64-bit little-endian ELF files are supported.");

        var sections = ReadSections(elf);
        var verneed = sections.FirstOrDefault(s => s.Type == SHT_GNU_verneed);
        if (verneed is null) return [];
        var strtab = sections[(int)verneed.Link];

        // Which symbols use which version index (.gnu.version is parallel to .dynsym).
        var symbolsByIndex = new Dictionary<ushort, List<string>>();
        var versym = sections.FirstOrDefault(s => s.Type == SHT_GNU_versym);
        var dynsym = sections.FirstOrDefault(s => s.Type == SHT_DYNSYM);
        if (versym is not null && dynsym is not null)
        {
            var dynstr = sections[(int)dynsym.Link];
            long count = (long)(dynsym.Size / 24);
            for (long i = 0; i < count; i++)
            {
                ushort index = (ushort)(U16(elf, versym.Offset + 2 * i) & 0x7fff);
                uint nameOffset = U32(elf, dynsym.Offset + 24 * i);
                if (!symbolsByIndex.TryGetValue(index, out var list)) symbolsByIndex[index] = list = [];
                list.Add(CString(elf, strtab: dynstr.Offset + nameOffset));
            }
        }

        var needs = new List<VersionNeed>();
        long entry = verneed.Offset;
        while (true)
        {
            ushort auxCount = U16(elf, entry + 2);
            string file = CString(elf, strtab.Offset + U32(elf, entry + 4));
            long aux = entry + U32(elf, entry + 8);
            for (int a = 0; a < auxCount; a++)
            {
                ushort flags = U16(elf, aux + 4);
                ushort other = U16(elf, aux + 6);
                string version = CString(elf, strtab.Offset + U32(elf, aux + 8));
                var symbols = symbolsByIndex.TryGetValue(other, out var s) ? s : [];
                needs.Add(new VersionNeed(file, version, (flags & VER_FLG_WEAK) != 0, aux + 4, symbols));
                uint nextAux = U32(elf, aux + 12);
                if (nextAux == 0) break;
                aux += nextAux;
            }
            uint next = U32(elf, entry + 12);
            if (next == 0) break;
            entry += next;
        }
        return needs;
    }

    /// <summary>
    /// Marks the requirements on <paramref name="versions"/> weak in <paramref name="path"/>, atomically (a patched
    /// copy replaces the file by rename, so a hard link into a package cache is never modified).
    /// Returns the versions that were newly weakened (empty when the file was already patched).
    /// </summary>
    /// <exception cref="InvalidOperationException">A version to weaken is used by a real (non-anchor) symbol.</exception>
    public static IReadOnlyList<string> WeakenVersions(string path, IReadOnlyCollection<string> versions)
    {
        var targets = ReadVersionNeeds(path).Where(n => versions.Contains(n.Version)).ToList();
        foreach (var need in targets)
        {
            var real = need.Symbols.Where(s => !AnchorSymbols.Contains(s)).ToList();
            if (real.Count > 0)
                throw new InvalidOperationException(
                    $"{path} needs {need.Version} for {string.Join(", ", real.Take(5))}; marking it weak would break those " +
                    "symbols. Install a newer libstdc++ (GCC 13 or later, e.g. from conda-forge) instead.");
        }
        var toPatch = targets.Where(n => !n.Weak).ToList();
        if (toPatch.Count == 0) return [];

        var bytes = File.ReadAllBytes(path);
        foreach (var need in toPatch)
        {
            ushort flags = U16(bytes, need.FlagsOffset);
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan((int)need.FlagsOffset, 2), (ushort)(flags | VER_FLG_WEAK));
        }
        string temp = path + $".patch-{Environment.ProcessId}.tmp";
        File.WriteAllBytes(temp, bytes);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(temp, File.GetUnixFileMode(path));
        File.Move(temp, path, overwrite: true);
        return toPatch.Select(n => n.Version).ToList();
    }

    /// <summary>The GLIBCXX_* version names that a libstdc++ file defines.</summary>
    public static IReadOnlySet<string> DefinedGlibcxxVersions(string libstdcxxPath)
    {
        // Version definition names live in .dynstr; a scan for the NUL-terminated names is exact enough here.
        var text = Encoding.ASCII.GetString(File.ReadAllBytes(libstdcxxPath));
        var found = new HashSet<string>();
        int at = 0;
        while ((at = text.IndexOf("GLIBCXX_", at, StringComparison.Ordinal)) >= 0)
        {
            int end = text.IndexOf('\0', at);
            if (end < 0) break;
            found.Add(text[at..end]);
            at = end;
        }
        return found;
    }

    private sealed record Section(uint Type, long Offset, ulong Size, uint Link);

    private static List<Section> ReadSections(byte[] elf)
    {
        long shoff = (long)U64(elf, 0x28);
        ushort shentsize = U16(elf, 0x3A), shnum = U16(elf, 0x3C);
        var list = new List<Section>(shnum);
        for (int i = 0; i < shnum; i++)
        {
            long h = shoff + (long)i * shentsize;
            list.Add(new Section(U32(elf, h + 4), (long)U64(elf, h + 0x18), U64(elf, h + 0x20), U32(elf, h + 0x28)));
        }
        return list;
    }

    private static ushort U16(byte[] b, long at) => BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan((int)at, 2));
    private static uint U32(byte[] b, long at) => BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan((int)at, 4));
    private static ulong U64(byte[] b, long at) => BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan((int)at, 8));

    private static string CString(byte[] b, long strtab)
    {
        int end = Array.IndexOf(b, (byte)0, (int)strtab);
        return Encoding.ASCII.GetString(b, (int)strtab, end - (int)strtab);
    }
}
