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
        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        try
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, TimeProvider.System, stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Ctrl+C: a normal stop.
        }

        var rows = meter.Rows();
        await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"Stopped after {meter.Requests.Count} requests; {rows.Count} rows stored.")).ConfigureAwait(false);
        return 0;
    }
}
