namespace Collections.Cli.Simulation;

/// <summary>
/// Counter-based random numbers: every draw is a hash of (seed, account, day, purpose), so an account's draws do not
/// depend on how many draws came before, on the policy being simulated, or on which thread runs it. This is what makes
/// the comparison one of common random numbers: a patient who would pay on day 40 under one policy meets the same
/// coin on day 40 under the other, and only the hazard the policy produced differs.
/// </summary>
public static class Randomness
{
    /// <summary>A uniform number in [0, 1).</summary>
    public static double Uniform(ulong seed, int account, int day, int purpose)
    {
        var key = Mix(seed * 0x9E3779B97F4A7C15UL + (ulong)(uint)account);
        var h = Mix(key ^ ((ulong)(uint)(day + 1) * 0xBF58476D1CE4E5B9UL + (ulong)(uint)purpose * 0x94D049BB133111EBUL));
        return (h >> 11) * (1.0 / (1UL << 53));
    }

    /// <summary>A standard normal number (Box-Muller on two uniforms).</summary>
    public static double Normal(ulong seed, int account, int day, int purpose)
    {
        var u1 = 1.0 - Uniform(seed, account, day, purpose);
        var u2 = Uniform(seed, account, day, purpose + 1_000);
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    /// <summary>SplitMix64's finaliser: a good 64-bit mixer.</summary>
    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
