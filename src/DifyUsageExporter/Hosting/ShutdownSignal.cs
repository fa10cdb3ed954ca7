using System.Runtime.InteropServices;

namespace DifyUsageExporter.Hosting;

/// <summary>
/// Turns SIGTERM, SIGINT and SIGQUIT into a cancellation token instead of terminating the process.
/// A second signal while the first is being handled gets the default action (the process ends at
/// once), so an operator can always stop a command that does not wind down.
/// </summary>
public sealed class ShutdownSignal : IDisposable
{
    private readonly CancellationTokenSource source = new();
    private readonly List<PosixSignalRegistration> registrations = [];
    private int received;

    private ShutdownSignal()
    {
        foreach (var signal in new[] { PosixSignal.SIGTERM, PosixSignal.SIGINT, PosixSignal.SIGQUIT })
        {
            registrations.Add(PosixSignalRegistration.Create(signal, context =>
            {
                if (Interlocked.Exchange(ref received, 1) == 1)
                {
                    return;
                }

                context.Cancel = true;
                Received = Name(context.Signal);
                source.Cancel();
            }));
        }
    }

    public CancellationToken Token => source.Token;

    /// <summary>The first signal received (<c>SIGINT</c>, <c>SIGTERM</c>, <c>SIGQUIT</c>), or null.</summary>
    public string? Received { get; private set; }

    public static ShutdownSignal Listen() => new();

    public void Dispose()
    {
        registrations.ForEach(r => r.Dispose());
        source.Dispose();
    }

    private static string Name(PosixSignal signal) => signal switch
    {
        PosixSignal.SIGINT => "SIGINT",
        PosixSignal.SIGTERM => "SIGTERM",
        PosixSignal.SIGQUIT => "SIGQUIT",
        _ => signal.ToString(),
    };
}
