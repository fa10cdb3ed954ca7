using System.Globalization;

namespace Simulators.Meter;

/// <summary>
/// Standalone entry: <c>dotnet run --project tests/Simulators -- meter --port 5002 --token T [--host 127.0.0.1] [--path /api/...]</c>.
/// Runs the fake API_Meter until Ctrl+C (or stdin closes when not interactive) and prints its URL.
/// </summary>
public static class MeterCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var port = 5002;
        var token = "sim-meter-token";
        var host = "127.0.0.1";
        var path = FakeApiMeter.DefaultPath;
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "meter":
                    continue;
                case "--port" when value is not null && int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var p):
                    port = p;
                    i++;
                    break;
                case "--token" when value is not null:
                    token = value;
                    i++;
                    break;
                case "--host" when value is not null:
                    host = value;
                    i++;
                    break;
                case "--path" when value is not null:
                    path = value;
                    i++;
                    break;
                default:
                    await Console.Error.WriteLineAsync($"meter: unknown or incomplete option '{args[i]}'. Usage: meter [--port 5002] [--token T] [--host 127.0.0.1] [--path {FakeApiMeter.DefaultPath}]").ConfigureAwait(false);
                    return 2;
            }
        }

        await using var meter = await FakeApiMeter.StartAsync(token, port, path, host).ConfigureAwait(false);
        await Console.Out.WriteLineAsync($"SIMULATED API_Meter listening: EXTERNAL_API_URL={meter.Url} (Bearer token set by --token). Ctrl+C to stop.").ConfigureAwait(false);
        // SIGINT and SIGTERM both stop it (the web host inside swallows SIGTERM otherwise, and the
        // process would never exit under `kill` or a supervisor).
        var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnSignal(System.Runtime.InteropServices.PosixSignalContext context)
        {
            context.Cancel = true;
            stop.TrySetResult();
        }

        using (System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, OnSignal))
        using (System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, OnSignal))
        {
            await stop.Task.ConfigureAwait(false);
        }

        var rows = meter.Rows();
        await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"Stopped after {meter.Requests.Count} requests; {rows.Count} rows stored.")).ConfigureAwait(false);
        return 0;
    }
}
