using DpAg.Numpy;

namespace DpAg.Envs;

/// <summary>Settings of a <see cref="PushTEnv"/>. Defaults reproduce the reference Push-T (docs/pusht.md).</summary>
public sealed record PushTConfig
{
    /// <summary>Legacy reset placement (block position, then angle about the COG), as the evaluation protocol uses. Default true.</summary>
    public bool LegacyReset { get; init; } = true;

    /// <summary>Render a 3 x <see cref="ImageSize"/> x <see cref="ImageSize"/> image into every observation. Default false (costly).</summary>
    public bool ImageObservations { get; init; }

    /// <summary>Side of the image observation in pixels (96, the reference <c>render_size</c>).</summary>
    public int ImageSize { get; init; } = 96;

    /// <summary>The Dynamic Push-T ball disturbance; null (default) for the classic task.</summary>
    public BallDisturbanceConfig? Ball { get; init; }

    /// <summary>The classic Push-T with the legacy reset.</summary>
    public static PushTConfig Classic => new();

    /// <summary>Dynamic Push-T with the default ball (<see cref="BallDisturbanceConfig"/>).</summary>
    public static PushTConfig Dynamic => new() { Ball = new BallDisturbanceConfig() };

    /// <summary>Throws <see cref="ArgumentException"/> naming the offending field.</summary>
    public void Validate()
    {
        if (ImageSize < 8 || ImageSize > 2048)
            throw new ArgumentException($"PushTConfig.ImageSize must be in [8, 2048]; got {ImageSize}. Use 96 for the reference observations.", nameof(ImageSize));
        Ball?.Validate();
    }
}

/// <summary>
/// The Dynamic Push-T disturbance (a reconstruction; docs/pusht.md "Dynamic Push-T"): an orange ball that moves at a constant
/// speed, reflects specularly off the walls, the agent and the T, and knocks the T when it hits it.
/// Reconstruction choice: the ball is a KINEMATIC Chipmunk circle. Chipmunk resolves ball-T contacts with the ball as an
/// infinite-mass pusher (so the T is knocked, quasi-statically, like the agent pushes it); after any substep in which the
/// ball touches the T its velocity is reflected about the contact normal, so it bounces off instead of ploughing through.
/// Walls and the agent are kinematic/static for Chipmunk, so those reflections are computed analytically before each substep.
/// The speed stays constant. Placement at reset (after the agent and T): position uniform in the arena shrunk by
/// radius + 10 px, redrawn (up to 1000 times) until at least 20 px clear of the agent and radius + 80 px from the T's
/// centre of gravity; heading uniform in [0, 2 pi); all drawn from <c>RandomState(seed + SeedOffset)</c>.
/// The low-dim state appends [ball_x, ball_y, ball_vx, ball_vy] (velocity in px per env step), keypoints append the ball position.
/// </summary>
public sealed record BallDisturbanceConfig
{
    /// <summary>Ball radius in pixels (default 22, within the 20-25 px seen in the authors' video).</summary>
    public double Radius { get; init; } = 22;

    /// <summary>Ball speed in pixels per env step (default 10; one env step is 0.1 s).</summary>
    public double SpeedPerStep { get; init; } = 10;

    /// <summary>Added to the reset seed to seed the ball's own <see cref="NumpyRandomState"/> (default 7919), so the ball is reproducible per episode.</summary>
    public long SeedOffset { get; init; } = 7919;

    /// <summary>Throws <see cref="ArgumentException"/> naming the offending field.</summary>
    public void Validate()
    {
        if (!(Radius >= 2 && Radius <= 100))
            throw new ArgumentException($"BallDisturbanceConfig.Radius must be in [2, 100] px; got {Radius}. The reference look is 20-25.", nameof(Radius));
        if (!(SpeedPerStep >= 0 && SpeedPerStep <= 100))
            throw new ArgumentException($"BallDisturbanceConfig.SpeedPerStep must be in [0, 100] px per step; got {SpeedPerStep}. The reference look is about 10.", nameof(SpeedPerStep));
        if (SeedOffset < 0 || SeedOffset > uint.MaxValue)
            throw new ArgumentException($"BallDisturbanceConfig.SeedOffset must be in [0, 2^32 - 1]; got {SeedOffset}.", nameof(SeedOffset));
    }
}
