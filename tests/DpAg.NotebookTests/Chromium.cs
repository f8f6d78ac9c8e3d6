using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DpAg.NotebookTests;

/// <summary>
/// Headless Chromium (Debian's <c>chromium</c>) driven over the DevTools protocol on a WebSocket: one browser, one tab
/// per page. Started with the flags these machines need (no sandbox as root, no GPU, no background networking, a
/// fresh profile), so it never reaches for the network on its own.
/// </summary>
public sealed class Chromium : IDisposable
{
    private readonly Process _process;
    private readonly string _profile;
    private readonly ClientWebSocket _socket = new();
    private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonObject>> _pending = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _reader;
    private int _nextId;

    /// <summary>Every protocol event: method, params and the session it belongs to (null for the browser).</summary>
    public event Action<string, JsonObject, string?>? Event;

    /// <summary>The Chromium to use: <c>DPAG_CHROMIUM</c>, else /usr/bin/chromium, else chromium on PATH; null when none.</summary>
    public static string? FindExecutable()
    {
        if (Environment.GetEnvironmentVariable("DPAG_CHROMIUM") is { Length: > 0 } configured) return configured;
        if (File.Exists("/usr/bin/chromium")) return "/usr/bin/chromium";
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
            foreach (var name in new[] { "chromium", "chromium-browser" })
                if (dir.Length > 0 && File.Exists(Path.Combine(dir, name))) return Path.Combine(dir, name);
        return null;
    }

    private Chromium(Process process, string profile)
    {
        _process = process;
        _profile = profile;
        _reader = Task.CompletedTask;
        var port = WaitForDevToolsPort(profile, process, TimeSpan.FromSeconds(30));
        _socket.ConnectAsync(new Uri($"ws://127.0.0.1:{port.Port}{port.Path}"), CancellationToken.None).GetAwaiter().GetResult();
        _reader = Task.Run(ReadLoop);
    }

    /// <summary>Starts Chromium; fails with the install command when it is missing.</summary>
    public static Chromium Launch(string? executable = null)
    {
        executable ??= FindExecutable() ?? throw new InvalidOperationException(
            "Chromium is not installed; the browser test needs it: run scripts/setup.sh --test-deps (apt-get install chromium), or set DPAG_CHROMIUM.");
        string profile = Path.Combine(Path.GetTempPath(), $"dpag-chromium-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(profile);
        var start = new ProcessStartInfo(executable) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in new[]
                 {
                     "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--disable-extensions", "--disable-default-apps", "--mute-audio",
                     "--hide-scrollbars", $"--user-data-dir={profile}", "--remote-debugging-port=0", "about:blank",
                 })
            start.ArgumentList.Add(arg);
        var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {executable}.");
        // Chromium logs (D-Bus, GPU) go to stderr; drain them so a full pipe never blocks it.
        process.ErrorDataReceived += (_, _) => { };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        try { return new Chromium(process, profile); }
        catch
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            throw;
        }
    }

    private static (int Port, string Path) WaitForDevToolsPort(string profile, Process process, TimeSpan timeout)
    {
        string file = Path.Combine(profile, "DevToolsActivePort");
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < timeout)
        {
            if (process.HasExited) throw new InvalidOperationException($"Chromium exited at start (code {process.ExitCode}).");
            if (File.Exists(file))
            {
                var lines = File.ReadAllLines(file);
                if (lines.Length >= 2 && int.TryParse(lines[0], out int port)) return (port, lines[1]);
            }
            Thread.Sleep(100);
        }
        throw new TimeoutException($"Chromium did not open its DevTools port within {timeout.TotalSeconds:F0} s.");
    }

    /// <summary>Sends a command and waits for its result; a protocol error becomes an exception naming the method.</summary>
    public async Task<JsonObject> SendAsync(string method, JsonObject? parameters = null, string? session = null, TimeSpan? timeout = null)
    {
        int id = Interlocked.Increment(ref _nextId);
        var message = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters ?? new JsonObject() };
        if (session is not null) message["sessionId"] = session;
        var reply = new TaskCompletionSource<JsonObject>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = reply;
        var bytes = Encoding.UTF8.GetBytes(message.ToJsonString());
        lock (_socket) _socket.SendAsync(bytes, WebSocketMessageType.Text, true, CancellationToken.None).GetAwaiter().GetResult();
        var done = await Task.WhenAny(reply.Task, Task.Delay(timeout ?? TimeSpan.FromSeconds(60)));
        _pending.TryRemove(id, out _);
        if (done != reply.Task) throw new TimeoutException($"Chromium did not answer {method} in time.");
        var result = await reply.Task;
        if (result["error"] is { } error) throw new InvalidOperationException($"Chromium: {method} failed: {error.ToJsonString()}");
        return result["result"]?.AsObject() ?? new JsonObject();
    }

    private async Task ReadLoop()
    {
        var buffer = new byte[1 << 16];
        var message = new MemoryStream();
        try
        {
            while (!_stop.IsCancellationRequested && _socket.State == WebSocketState.Open)
            {
                var part = await _socket.ReceiveAsync(buffer, _stop.Token);
                if (part.MessageType == WebSocketMessageType.Close) break;
                message.Write(buffer, 0, part.Count);
                if (!part.EndOfMessage) continue;
                var node = JsonNode.Parse(message.GetBuffer().AsSpan(0, (int)message.Length))?.AsObject();
                message.SetLength(0);
                if (node is null) continue;
                if (node["id"] is { } idNode && _pending.TryGetValue(idNode.GetValue<int>(), out var waiter)) waiter.TrySetResult(node);
                else if ((string?)node["method"] is { } method)
                    Event?.Invoke(method, node["params"]?.AsObject() ?? new JsonObject(), (string?)node["sessionId"]);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException or JsonException) { }
        foreach (var waiter in _pending.Values) waiter.TrySetException(new InvalidOperationException("Chromium closed the DevTools connection."));
    }

    public void Dispose()
    {
        _stop.Cancel();
        try { _socket.Abort(); } catch (WebSocketException) { }
        try { _reader.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
        catch (InvalidOperationException) { }
        _process.Dispose();
        _socket.Dispose();
        _stop.Dispose();
        try { Directory.Delete(_profile, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
