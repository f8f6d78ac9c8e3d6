using System.Reflection;
using System.Reflection.Emit;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

namespace DpAg.Tests.Runtime;

/// <summary>
/// Finds every call to TorchSharp's implicit conversion into <c>TorchSharp.Scalar</c> (<c>Scalar.op_Implicit</c>)
/// in the IL of a compiled assembly. Each such call makes a native scalar that only a finalizer frees, and nothing
/// keeps it alive during the native call that reads it (docs/CONTRIBUTING.md, "Scalars"); the kit's code passes
/// scalars made explicitly and disposed after the op instead.
/// </summary>
public static class ImplicitScalarScan
{
    /// <summary>One method of the scanned assembly that makes implicit scalars: directly (<c>op_Implicit</c> in its own
    /// IL) or through a TorchSharp method that does so inside (<c>a + b</c> is <c>Tensor.add(b, alpha: 1)</c>).</summary>
    public sealed record Hit(string Method, int Count, string Via)
    {
        public override string ToString() => $"{Method}: {Count} x {Via}";
    }

    private static readonly Dictionary<ushort, OperandType> OpCodeOperands = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => unchecked((ushort)o.Value), o => o.OperandType);

    private static readonly Lazy<HashSet<string>> TorchSharpConverters = new(() => ConvertingMethods(typeof(TorchSharp.Scalar).Assembly.Location));

    /// <summary>
    /// The methods of TorchSharp (by <c>Type::Name(parameters)</c>) that make an implicit scalar inside, directly or
    /// through each other: a call to one from the kit is a hazard the kit's own IL does not show.
    /// </summary>
    public static IReadOnlySet<string> TorchSharpMethodsThatConvert => TorchSharpConverters.Value;

    /// <summary>Scans every method body of the assembly file at <paramref name="path"/> (a kit assembly).</summary>
    public static IReadOnlyList<Hit> Scan(string path)
    {
        var converters = TorchSharpConverters.Value;
        var hits = new List<Hit>();
        foreach (var (method, calls, md) in MethodCalls(path))
        {
            var via = new List<string>();
            foreach (var call in calls)
            {
                if (IsImplicitScalar(md, call, out var source)) via.Add($"implicit {source} -> Scalar");
                else if (call.Kind == HandleKind.MemberReference && MemberKey(md, (MemberReferenceHandle)call) is { } key)
                {
                    if (converters.Contains(key)) via.Add(key.Replace("TorchSharp.", ""));
                    else if (ConvertingObject(md, (MemberReferenceHandle)call, converters) is { } made) via.Add($"makes {made.Replace("TorchSharp.", "")}, whose forward/step converts");
                }
            }
            if (via.Count > 0) hits.Add(new Hit(method, via.Count, string.Join(", ", via.Distinct())));
        }
        return hits;
    }

    /// <summary>
    /// A module or optimiser is called through virtual <c>call</c>/<c>step</c>, which the kit's IL names on a base
    /// type; so the factory or constructor that makes one whose <c>forward</c> or <c>step</c> converts is the hazard.
    /// </summary>
    private static string? ConvertingObject(MetadataReader md, MemberReferenceHandle handle, HashSet<string> converters)
    {
        var member = md.GetMemberReference(handle);
        var sig = member.DecodeMethodSignature(new TypeNames(md), null);
        var made = md.GetString(member.Name) == ".ctor" ? RefName(md, (TypeReferenceHandle)member.Parent) : sig.ReturnType;
        if (!made.StartsWith("TorchSharp.", StringComparison.Ordinal)) return null;
        return converters.Any(k => k.StartsWith(made + "::forward(", StringComparison.Ordinal) || k.StartsWith(made + "::step(", StringComparison.Ordinal))
            ? made : null;
    }

    private static HashSet<string> ConvertingMethods(string torchSharpPath)
    {
        var callers = new Dictionary<string, List<string>>();   // callee key -> caller keys
        var converting = new HashSet<string>();
        foreach (var (method, calls, md) in MethodCalls(torchSharpPath, keyed: true))
        {
            foreach (var call in calls)
            {
                // A scalar made inside TorchSharp, implicitly or with ToScalar(), is one it never disposes: count both.
                if (IsImplicitScalar(md, call, out _) || IsToScalar(md, call)) converting.Add(method);
                else if (call.Kind == HandleKind.MethodDefinition)
                {
                    var callee = DefinitionKey(md, (MethodDefinitionHandle)call);
                    if (!callers.TryGetValue(callee, out var list)) callers[callee] = list = new List<string>();
                    list.Add(method);
                }
            }
        }
        var queue = new Queue<string>(converting);
        while (queue.Count > 0)
            foreach (var caller in callers.GetValueOrDefault(queue.Dequeue()) ?? new List<string>())
                if (converting.Add(caller)) queue.Enqueue(caller);
        return converting;
    }

    /// <summary>Each method with a body: its name (or key), and the methods its IL calls.</summary>
    private static IEnumerable<(string Method, List<EntityHandle> Calls, MetadataReader Md)> MethodCalls(string path, bool keyed = false)
    {
        using var stream = File.OpenRead(path);
        using var pe = new PEReader(stream);
        var md = pe.GetMetadataReader();
        var result = new List<(string, List<EntityHandle>, MetadataReader)>();
        foreach (var typeHandle in md.TypeDefinitions)
        {
            var type = md.GetTypeDefinition(typeHandle);
            foreach (var methodHandle in type.GetMethods())
            {
                var method = md.GetMethodDefinition(methodHandle);
                if (method.RelativeVirtualAddress == 0) continue;
                var il = pe.GetMethodBody(method.RelativeVirtualAddress).GetILBytes()!;
                string name = keyed ? DefinitionKey(md, methodHandle) : $"{FullName(md, typeHandle)}::{md.GetString(method.Name)}";
                result.Add((name, CalledMethods(il), md));
            }
        }
        // The reader is used after the PE file is closed only for names already materialised: copy what is needed.
        foreach (var item in result) yield return item;
    }

    private static List<EntityHandle> CalledMethods(byte[] il)
    {
        var found = new List<EntityHandle>();
        int i = 0;
        while (i < il.Length)
        {
            ushort code = il[i];
            i++;
            if (code == 0xFE) { code = (ushort)(0xFE00 | il[i]); i++; }
            if (!OpCodeOperands.TryGetValue(code, out var operand))
                throw new InvalidDataException($"Unknown IL opcode 0x{code:X} at offset {i}.");
            switch (operand)
            {
                case OperandType.InlineNone: break;
                case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar: i += 1; break;
                case OperandType.InlineVar: i += 2; break;
                case OperandType.InlineI8 or OperandType.InlineR: i += 8; break;
                case OperandType.InlineSwitch: i += 4 + 4 * BitConverter.ToInt32(il, i); break;
                case OperandType.InlineMethod:
                    found.Add(MetadataTokens.EntityHandle(BitConverter.ToInt32(il, i)));
                    i += 4;
                    break;
                default: i += 4; break;
            }
        }
        return found;
    }

    private static string DefinitionKey(MetadataReader md, MethodDefinitionHandle handle)
    {
        var def = md.GetMethodDefinition(handle);
        var sig = def.DecodeSignature(new TypeNames(md), null);
        return $"{FullName(md, def.GetDeclaringType())}::{md.GetString(def.Name)}({string.Join(",", sig.ParameterTypes)})";
    }

    private static string? MemberKey(MetadataReader md, MemberReferenceHandle handle)
    {
        var member = md.GetMemberReference(handle);
        if (member.Parent.Kind != HandleKind.TypeReference || member.GetKind() != MemberReferenceKind.Method) return null;
        var sig = member.DecodeMethodSignature(new TypeNames(md), null);
        return $"{RefName(md, (TypeReferenceHandle)member.Parent)}::{md.GetString(member.Name)}({string.Join(",", sig.ParameterTypes)})";
    }

    private static bool IsToScalar(MetadataReader md, EntityHandle handle)
    {
        if (handle.Kind != HandleKind.MethodDefinition) return false;
        var def = md.GetMethodDefinition((MethodDefinitionHandle)handle);
        var declaring = md.GetTypeDefinition(def.GetDeclaringType());
        string name = md.GetString(def.Name);
        // 1.5.ToScalar() and friends, and Tensor.ToScalar() (THSTensor_item into a new Scalar), which Tensor.ToDouble(),
        // ToSingle(), (double)tensor and the other readers call and never dispose.
        return (md.GetString(declaring.Name) == "ScalarExtensionMethods" && name.StartsWith("To", StringComparison.Ordinal) && name.EndsWith("Scalar", StringComparison.Ordinal))
               || (md.GetString(declaring.Name) == "Tensor" && name == "ToScalar");
    }

    private static bool IsImplicitScalar(MetadataReader md, EntityHandle handle, out string source)
    {
        source = "";
        if (handle.Kind == HandleKind.MethodDefinition)
        {
            // Inside TorchSharp itself (used to list its own methods that convert internally).
            var def = md.GetMethodDefinition((MethodDefinitionHandle)handle);
            var declaring = md.GetTypeDefinition(def.GetDeclaringType());
            if (md.GetString(def.Name) != "op_Implicit" || md.GetString(declaring.Name) != "Scalar" || md.GetString(declaring.Namespace) != "TorchSharp") return false;
            var sig = def.DecodeSignature(new TypeNames(md), null);
            if (sig.ReturnType != "TorchSharp.Scalar") return false;
            source = sig.ParameterTypes.Length == 1 ? sig.ParameterTypes[0] : "?";
            return true;
        }
        if (handle.Kind != HandleKind.MemberReference) return false;
        var member = md.GetMemberReference((MemberReferenceHandle)handle);
        if (md.GetString(member.Name) != "op_Implicit" || member.Parent.Kind != HandleKind.TypeReference) return false;
        var parent = md.GetTypeReference((TypeReferenceHandle)member.Parent);
        if (md.GetString(parent.Name) != "Scalar" || md.GetString(parent.Namespace) != "TorchSharp") return false;
        var signature = member.DecodeMethodSignature(new TypeNames(md), null);
        if (signature.ReturnType != "TorchSharp.Scalar") return false;   // Scalar -> something else is harmless
        source = signature.ParameterTypes.Length == 1 ? signature.ParameterTypes[0] : "?";
        return true;
    }

    private static string RefName(MetadataReader md, TypeReferenceHandle handle)
    {
        var t = md.GetTypeReference(handle);
        var name = md.GetString(t.Name);
        if (t.ResolutionScope.Kind == HandleKind.TypeReference) return RefName(md, (TypeReferenceHandle)t.ResolutionScope) + "+" + name;
        var ns = md.GetString(t.Namespace);
        return ns.Length == 0 ? name : ns + "." + name;
    }

    private static string FullName(MetadataReader md, TypeDefinitionHandle handle)
    {
        var type = md.GetTypeDefinition(handle);
        var name = md.GetString(type.Name);
        var declaring = type.GetDeclaringType();
        if (!declaring.IsNil) return FullName(md, declaring) + "+" + name;
        var ns = md.GetString(type.Namespace);
        return ns.Length == 0 ? name : ns + "." + name;
    }

    /// <summary>Just enough of a signature decoder to name the types of op_Implicit's signature.</summary>
    private sealed class TypeNames(MetadataReader md) : ISignatureTypeProvider<string, object?>
    {
        public string GetPrimitiveType(PrimitiveTypeCode typeCode) => typeCode switch
        {
            PrimitiveTypeCode.Double => "double", PrimitiveTypeCode.Single => "float", PrimitiveTypeCode.Int32 => "int",
            PrimitiveTypeCode.Int64 => "long", PrimitiveTypeCode.Boolean => "bool", PrimitiveTypeCode.Byte => "byte",
            PrimitiveTypeCode.Int16 => "short", _ => typeCode.ToString(),
        };
        public string GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind) => RefName(md, handle);
        public string GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind) => FullName(md, handle);
        public string GetTypeFromSpecification(MetadataReader reader, object? context, TypeSpecificationHandle handle, byte rawTypeKind) => "spec";
        public string GetSZArrayType(string elementType) => elementType + "[]";
        public string GetArrayType(string elementType, ArrayShape shape) => elementType + "[,]";
        public string GetByReferenceType(string elementType) => elementType + "&";
        public string GetPointerType(string elementType) => elementType + "*";
        public string GetPinnedType(string elementType) => elementType;
        public string GetGenericInstantiation(string genericType, System.Collections.Immutable.ImmutableArray<string> typeArguments) => $"{genericType}<{string.Join(",", typeArguments)}>";
        public string GetGenericMethodParameter(object? context, int index) => "!!" + index;
        public string GetGenericTypeParameter(object? context, int index) => "!" + index;
        public string GetFunctionPointerType(MethodSignature<string> signature) => "fnptr";
        public string GetModifiedType(string modifier, string unmodifiedType, bool isRequired) => unmodifiedType;
        public string GetTypeFromSerializedName(string name) => name;
        public PrimitiveTypeCode GetUnderlyingEnumType(string type) => PrimitiveTypeCode.Int32;
        public bool IsSystemType(string type) => type == "System.Type";
        public string GetSystemType() => "System.Type";
    }
}
