using DifyUsageExporter.Configuration;
using DifyUsageExporter.Telemetry;

namespace DifyUsageExporter.Hosting;

/// <summary>Creates the JSON Lines logger factory used by every command and the daemon.</summary>
public static class Logging
{
    public static ILoggerFactory CreateFactory(LogLevelSetting level, TextWriter writer, SecretRegistry secrets, TimeProvider time)
    {
        var minimum = LogLevels.ToMinimum(level);
        return LoggerFactory.Create(builder =>
        {
            builder.ClearProviders();
            builder.SetMinimumLevel(minimum);
            // Framework chatter (Kestrel, hosting) only when something is wrong, unless debugging.
            builder.AddFilter("Microsoft", minimum == LogLevel.Debug ? LogLevel.Debug : LogLevel.Warning);
            builder.AddFilter("System", minimum == LogLevel.Debug ? LogLevel.Debug : LogLevel.Warning);
            builder.AddProvider(new JsonLinesLoggerProvider(writer, minimum, secrets, time));
        });
    }
}
