using DpAg.Data;
using DpAg.Data.Zarr;

namespace DpAg.Tests.Data;

/// <summary>Small synthetic Push-T-shaped replay buffers with values that encode (episode, step).</summary>
internal static class PushTFixture
{
    /// <summary>Step value: action[t] = (global step t, 1000 + episode); state = (t + 0.5, 2t, 3, 4, episode); keypoint[k] = (t + k, -t - k).</summary>
    public static ReplayBuffer Make(int[] lengths, bool images = false, bool nContacts = false)
    {
        var buffer = ReplayBuffer.CreateEmpty();
        int t0 = 0;
        for (int e = 0; e < lengths.Length; e++)
        {
            int l = lengths[e];
            var action = new float[l * 2];
            var state = new float[l * 5];
            var kp = new float[l * 18];
            for (int i = 0; i < l; i++)
            {
                int t = t0 + i;
                action[2 * i] = t;
                action[2 * i + 1] = 1000 + e;
                state[5 * i] = t + 0.5f; state[5 * i + 1] = 2 * t; state[5 * i + 2] = 3; state[5 * i + 3] = 4; state[5 * i + 4] = e;
                for (int k = 0; k < 9; k++) { kp[18 * i + 2 * k] = t + k; kp[18 * i + 2 * k + 1] = -t - k; }
            }
            var episode = new Dictionary<string, ZarrArray>
            {
                ["action"] = ZarrArray.Create(action, l, 2),
                ["state"] = ZarrArray.Create(state, l, 5),
                ["keypoint"] = ZarrArray.Create(kp, l, 9, 2),
            };
            if (nContacts) episode["n_contacts"] = ZarrArray.Create(Enumerable.Repeat(1f, l).ToArray(), l, 1);
            if (images)
            {
                var img = new float[l * 96 * 96 * 3];
                for (int i = 0; i < l; i++)
                    for (int p = 0; p < 96 * 96; p++)
                        for (int c = 0; c < 3; c++)
                            img[(i * 96 * 96 + p) * 3 + c] = ((t0 + i) * 7 + p + 50 * c) % 256;
                episode["img"] = ZarrArray.Create(img, l, 96, 96, 3);
            }
            buffer.AddEpisode(episode);
            t0 += l;
        }
        return buffer;
    }
}
