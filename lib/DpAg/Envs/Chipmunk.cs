using System.Runtime.InteropServices;

namespace DpAg.Envs;

/// <summary>Chipmunk2D's <c>cpVect</c>: two doubles (Debian's build defines <c>CP_USE_DOUBLES 1</c>, so cpFloat is double).</summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly record struct CpVect(double X, double Y);

/// <summary>Chipmunk2D's <c>cpTransform</c> (a, b, c, d, tx, ty), passed by value to <c>cpPolyShapeNew</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly record struct CpTransform(double A, double B, double C, double D, double Tx, double Ty)
{
    public static CpTransform Identity => new(1, 0, 0, 1, 0, 0);
}

/// <summary>One contact of <c>cpContactPointSet</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct CpContactPoint
{
    public CpVect PointA;
    public CpVect PointB;
    public double Distance;
}

/// <summary>Chipmunk2D's <c>cpContactPointSet</c> (count, normal, CP_MAX_CONTACTS_PER_ARBITER = 2 points).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct CpContactPointSet
{
    public int Count;
    public CpVect Normal;
    public CpContactPoint Point0;
    public CpContactPoint Point1;
}

/// <summary>
/// Chipmunk2D 7.0.3 (the engine under pymunk 6.2.1) bound by function pointers resolved from <c>libchipmunk.so.7</c>.
/// Only the calls the Push-T port needs. The library is loaded once, on first use (from <c>DPAG_CHIPMUNK_LIBRARY</c> when
/// set, e.g. a conda build); when it is missing the type initialiser throws a <see cref="DllNotFoundException"/> that
/// names the package to install.
/// </summary>
internal static unsafe class Chipmunk
{
    /// <summary>The shared object name of Debian's package <c>libchipmunk7</c>.</summary>
    public const string LibraryName = "libchipmunk.so.7";

    /// <summary>What to do when the library is missing.</summary>
    public const string InstallHint = "apt-get install libchipmunk7";

    private static readonly nint Handle = Load();

    public static readonly delegate* unmanaged<nint> cpSpaceNew = (delegate* unmanaged<nint>)Get("cpSpaceNew");
    public static readonly delegate* unmanaged<nint, void> cpSpaceFree = (delegate* unmanaged<nint, void>)Get("cpSpaceFree");
    public static readonly delegate* unmanaged<nint, CpVect, void> cpSpaceSetGravity = (delegate* unmanaged<nint, CpVect, void>)Get("cpSpaceSetGravity");
    public static readonly delegate* unmanaged<nint, double, void> cpSpaceSetDamping = (delegate* unmanaged<nint, double, void>)Get("cpSpaceSetDamping");
    public static readonly delegate* unmanaged<nint, int> cpSpaceGetIterations = (delegate* unmanaged<nint, int>)Get("cpSpaceGetIterations");
    public static readonly delegate* unmanaged<nint, double> cpSpaceGetCollisionSlop = (delegate* unmanaged<nint, double>)Get("cpSpaceGetCollisionSlop");
    public static readonly delegate* unmanaged<nint, double> cpSpaceGetCollisionBias = (delegate* unmanaged<nint, double>)Get("cpSpaceGetCollisionBias");
    public static readonly delegate* unmanaged<nint, double, void> cpSpaceStep = (delegate* unmanaged<nint, double, void>)Get("cpSpaceStep");
    public static readonly delegate* unmanaged<nint, nint, nint> cpSpaceAddBody = (delegate* unmanaged<nint, nint, nint>)Get("cpSpaceAddBody");
    public static readonly delegate* unmanaged<nint, nint, nint> cpSpaceAddShape = (delegate* unmanaged<nint, nint, nint>)Get("cpSpaceAddShape");
    public static readonly delegate* unmanaged<nint, nint, void> cpSpaceRemoveBody = (delegate* unmanaged<nint, nint, void>)Get("cpSpaceRemoveBody");
    public static readonly delegate* unmanaged<nint, nint, void> cpSpaceRemoveShape = (delegate* unmanaged<nint, nint, void>)Get("cpSpaceRemoveShape");
    public static readonly delegate* unmanaged<nint, nuint, nuint, nint> cpSpaceAddCollisionHandler = (delegate* unmanaged<nint, nuint, nuint, nint>)Get("cpSpaceAddCollisionHandler");

    public static readonly delegate* unmanaged<double, double, nint> cpBodyNew = (delegate* unmanaged<double, double, nint>)Get("cpBodyNew");
    public static readonly delegate* unmanaged<nint> cpBodyNewKinematic = (delegate* unmanaged<nint>)Get("cpBodyNewKinematic");
    public static readonly delegate* unmanaged<nint> cpBodyNewStatic = (delegate* unmanaged<nint>)Get("cpBodyNewStatic");
    public static readonly delegate* unmanaged<nint, void> cpBodyFree = (delegate* unmanaged<nint, void>)Get("cpBodyFree");
    public static readonly delegate* unmanaged<nint, CpVect> cpBodyGetPosition = (delegate* unmanaged<nint, CpVect>)Get("cpBodyGetPosition");
    public static readonly delegate* unmanaged<nint, CpVect, void> cpBodySetPosition = (delegate* unmanaged<nint, CpVect, void>)Get("cpBodySetPosition");
    public static readonly delegate* unmanaged<nint, CpVect, void> cpBodySetCenterOfGravity = (delegate* unmanaged<nint, CpVect, void>)Get("cpBodySetCenterOfGravity");
    public static readonly delegate* unmanaged<nint, CpVect> cpBodyGetVelocity = (delegate* unmanaged<nint, CpVect>)Get("cpBodyGetVelocity");
    public static readonly delegate* unmanaged<nint, CpVect, void> cpBodySetVelocity = (delegate* unmanaged<nint, CpVect, void>)Get("cpBodySetVelocity");
    public static readonly delegate* unmanaged<nint, double> cpBodyGetAngle = (delegate* unmanaged<nint, double>)Get("cpBodyGetAngle");
    public static readonly delegate* unmanaged<nint, double, void> cpBodySetAngle = (delegate* unmanaged<nint, double, void>)Get("cpBodySetAngle");
    public static readonly delegate* unmanaged<nint, double> cpBodyGetAngularVelocity = (delegate* unmanaged<nint, double>)Get("cpBodyGetAngularVelocity");
    public static readonly delegate* unmanaged<nint, double, void> cpBodySetAngularVelocity = (delegate* unmanaged<nint, double, void>)Get("cpBodySetAngularVelocity");
    public static readonly delegate* unmanaged<nint, double> cpBodyGetMoment = (delegate* unmanaged<nint, double>)Get("cpBodyGetMoment");

    public static readonly delegate* unmanaged<nint, double, CpVect, nint> cpCircleShapeNew = (delegate* unmanaged<nint, double, CpVect, nint>)Get("cpCircleShapeNew");
    public static readonly delegate* unmanaged<nint, CpVect, CpVect, double, nint> cpSegmentShapeNew = (delegate* unmanaged<nint, CpVect, CpVect, double, nint>)Get("cpSegmentShapeNew");
    public static readonly delegate* unmanaged<nint, int, CpVect*, CpTransform, double, nint> cpPolyShapeNew = (delegate* unmanaged<nint, int, CpVect*, CpTransform, double, nint>)Get("cpPolyShapeNew");
    public static readonly delegate* unmanaged<nint, int> cpPolyShapeGetCount = (delegate* unmanaged<nint, int>)Get("cpPolyShapeGetCount");
    public static readonly delegate* unmanaged<nint, int, CpVect> cpPolyShapeGetVert = (delegate* unmanaged<nint, int, CpVect>)Get("cpPolyShapeGetVert");
    public static readonly delegate* unmanaged<nint, CpVect> cpShapeGetCenterOfGravity = (delegate* unmanaged<nint, CpVect>)Get("cpShapeGetCenterOfGravity");
    public static readonly delegate* unmanaged<nint, void> cpShapeFree = (delegate* unmanaged<nint, void>)Get("cpShapeFree");
    public static readonly delegate* unmanaged<double, int, CpVect*, CpVect, double, double> cpMomentForPoly = (delegate* unmanaged<double, int, CpVect*, CpVect, double, double>)Get("cpMomentForPoly");

    public static readonly delegate* unmanaged<nint, CpContactPointSet> cpArbiterGetContactPointSet = (delegate* unmanaged<nint, CpContactPointSet>)Get("cpArbiterGetContactPointSet");
    public static readonly delegate* unmanaged<nint, nint*, nint*, void> cpArbiterGetBodies = (delegate* unmanaged<nint, nint*, nint*, void>)Get("cpArbiterGetBodies");

    /// <summary>Byte offset of <c>postSolveFunc</c> in <c>struct cpCollisionHandler</c> (typeA, typeB, begin, preSolve, postSolve, separate, userData).</summary>
    public const int HandlerPostSolveOffset = 4 * 8;

    /// <summary>Byte offset of <c>userData</c> in <c>struct cpCollisionHandler</c>.</summary>
    public const int HandlerUserDataOffset = 6 * 8;

    /// <summary>Forces the library to load (throws the install hint when it is missing).</summary>
    public static void EnsureLoaded() => _ = Handle;

    /// <summary>Environment variable naming a Chipmunk2D 7 shared object to use instead of the system's.</summary>
    public const string LibraryVariable = "DPAG_CHIPMUNK_LIBRARY";

    /// <summary>
    /// Looks for the library without touching this type's static state: the library file (from
    /// <see cref="LibraryVariable"/> or the system search path) and its <c>cpVersionString</c>, or why it cannot be used.
    /// </summary>
    public static bool TryLocate(out nint handle, out string description)
    {
        string? requested = Environment.GetEnvironmentVariable(LibraryVariable);
        string[] names = string.IsNullOrEmpty(requested) ? [LibraryName, "libchipmunk.so"] : [requested];
        foreach (var name in names)
        {
            if (!NativeLibrary.TryLoad(name, out handle)) continue;
            if (!NativeLibrary.TryGetExport(handle, "cpSpaceNew", out _))
            {
                description = $"{name} loads but has no export cpSpaceNew: it is not Chipmunk2D 7 ({InstallHint}).";
                return false;
            }
            description = $"{name} {Version(handle)}";
            return true;
        }
        handle = 0;
        description = string.IsNullOrEmpty(requested)
            ? $"Chipmunk2D 7 ({LibraryName}) was not found on the library search path. The Push-T simulator needs it: {InstallHint}"
            : $"Chipmunk2D 7 could not be loaded from {LibraryVariable}={requested} (missing or not a shared object for this machine). " +
              $"Point {LibraryVariable} at libchipmunk.so.7, or unset it to use the system's ({InstallHint}).";
        return false;
    }

    /// <summary>The library's own <c>cpVersionString</c> ("7.0.3"), or "(version unknown)".</summary>
    private static string Version(nint handle)
    {
        if (!NativeLibrary.TryGetExport(handle, "cpVersionString", out var address)) return "(version unknown)";
        return Marshal.PtrToStringAnsi(*(nint*)address) ?? "(version unknown)";
    }

    private static nint Load() =>
        TryLocate(out var handle, out var description) ? handle : throw new DllNotFoundException(description);

    private static nint Get(string name) =>
        NativeLibrary.TryGetExport(Handle, name, out var p)
            ? p
            : throw new EntryPointNotFoundException($"{LibraryName} has no export {name}; Chipmunk2D 7.0.x is expected ({InstallHint}).");
}
