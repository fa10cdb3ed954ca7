namespace Simulators;

/// <summary>Standalone entry: <c>dotnet run --project tests/Simulators -- &lt;simulator&gt; [options]</c>.</summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var rest = args.Skip(1).ToArray();
        switch (args.FirstOrDefault())
        {
            case "dify":
                return await Dify.DifyCommand.RunAsync(rest, Console.Out).ConfigureAwait(false);
            case "meter":
                return await Meter.MeterCommand.RunAsync(rest).ConfigureAwait(false);
            case "replay":
                return await Replay.ReplayCommand.RunAsync(rest, Console.Out).ConfigureAwait(false);
            case "demo":
                return await Demo.DemoCommand.RunAsync(rest, Console.Out).ConfigureAwait(false);
            default:
                await Console.Error.WriteLineAsync("usage: Simulators dify|meter|demo|replay [options] (see tests/Simulators/README.md)").ConfigureAwait(false);
                return 2;
        }
    }
}
