using System.Diagnostics;
using System.Text;

namespace DifyUsageExporter.Tests.Support;

/// <summary>Runs the built dify-usage-exporter.dll as a real child process.</summary>
public sealed class ExporterProcess : IDisposable
{
    private readonly StringBuilder stdout = new();
    private readonly StringBuilder stderr = new();
    private readonly Lock gate = new();

    private ExporterProcess(Process process) => Process = process;

    public Process Process { get; }

    public static string DllPath => Path.Combine(AppContext.BaseDirectory, "dify-usage-exporter.dll");

    public string Stdout
    {
        get
        {
            lock (gate)
            {
                return stdout.ToString();
            }
        }
    }

    public string Stderr
    {
        get
        {
            lock (gate)
            {
                return stderr.ToString();
            }
        }
    }

    public static ExporterProcess Start(IReadOnlyDictionary<string, string> variables, string workingDirectory, params string[] args) =>
        StartFile("dotnet", [DllPath, .. args], variables, workingDirectory);

    public static ExporterProcess StartFile(string file, string[] args, IReadOnlyDictionary<string, string> variables, string workingDirectory)
    {
        var info = new ProcessStartInfo(file)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        // A clean environment: only what the test passes, plus what dotnet needs to start.
        info.Environment.Clear();
        foreach (var name in new[] { "PATH", "HOME", "DOTNET_ROOT", "DOTNET_CLI_HOME", "TMPDIR" })
        {
            if (Environment.GetEnvironmentVariable(name) is { } value)
            {
                info.Environment[name] = value;
            }
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (key, value) in variables)
        {
            info.Environment[key] = value;
        }

        var process = new Process { StartInfo = info };
        var wrapper = new ExporterProcess(process);
        process.OutputDataReceived += (_, e) => wrapper.Append(wrapper.stdout, e.Data);
        process.ErrorDataReceived += (_, e) => wrapper.Append(wrapper.stderr, e.Data);
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return wrapper;
    }

    /// <summary>Waits (bounded, generous for a loaded machine) until stdout (or stderr) contains <paramref name="text"/>.</summary>
    public async Task<bool> WaitForOutputAsync(string text, TimeSpan limit, bool stderr = false)
    {
        var end = Stopwatch.StartNew();
        string Output() => stderr ? Stderr : Stdout;
        while (end.Elapsed < limit)
        {
            if (Output().Contains(text, StringComparison.Ordinal))
            {
                return true;
            }

            if (Process.HasExited)
            {
                return Output().Contains(text, StringComparison.Ordinal);
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), TimeProvider.System, CancellationToken.None);
        }

        return false;
    }

    public async Task<int> WaitForExitAsync(TimeSpan limit)
    {
        using var timeout = new CancellationTokenSource(limit);
        await Process.WaitForExitAsync(timeout.Token);
        Process.WaitForExit();
        return Process.ExitCode;
    }

    public void Signal(string signal)
    {
        using var kill = System.Diagnostics.Process.Start("kill", ["-s", signal, Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    public void Dispose()
    {
        if (!Process.HasExited)
        {
            Process.Kill(entireProcessTree: true);
            Process.WaitForExit();
        }

        Process.Dispose();
    }

    private void Append(StringBuilder target, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (gate)
        {
            target.AppendLine(line);
        }
    }
}
