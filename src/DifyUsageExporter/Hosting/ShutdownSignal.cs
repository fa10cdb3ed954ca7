using System.Runtime.InteropServices;

namespace DifyUsageExporter.Hosting;

/// <summary>Turns SIGTERM, SIGINT and SIGQUIT into a cancellation token instead of terminating the process.</summary>
public sealed class ShutdownSignal : IDisposable
{
    private readonly CancellationTokenSource source = new();
    private readonly List<PosixSignalRegistration> registrations = [];

    private ShutdownSignal()
    {
        foreach (var signal in new[] { PosixSignal.SIGTERM, PosixSignal.SIGINT, PosixSignal.SIGQUIT })
        {
            registrations.Add(PosixSignalRegistration.Create(signal, context =>
            {
                context.Cancel = true;
                source.Cancel();
            }));
        }
    }

    public CancellationToken Token => source.Token;

    public static ShutdownSignal Listen() => new();

    public void Dispose()
    {
        registrations.ForEach(r => r.Dispose());
        source.Dispose();
    }
}
