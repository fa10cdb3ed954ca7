namespace DifyUsageExporter.Tests.TestSupport;

/// <summary>A settable clock (TimeProvider.Testing is not available here). Timers run on the real clock, which only backoff delays use.</summary>
public sealed class ManualTimeProvider(DateTimeOffset start) : TimeProvider
{
    private readonly Lock gate = new();
    private DateTimeOffset now = start;

    public override DateTimeOffset GetUtcNow()
    {
        lock (gate)
        {
            return now;
        }
    }

    public void Advance(TimeSpan by)
    {
        lock (gate)
        {
            now += by;
        }
    }
}
