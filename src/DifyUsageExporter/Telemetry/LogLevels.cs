using DifyUsageExporter.Configuration;

namespace DifyUsageExporter.Telemetry;

/// <summary>Maps between LOG_LEVEL, <see cref="LogLevel"/> and the four level names written to the log.</summary>
public static class LogLevels
{
    public static LogLevel ToMinimum(LogLevelSetting setting) => setting switch
    {
        LogLevelSetting.Error => LogLevel.Error,
        LogLevelSetting.Warn => LogLevel.Warning,
        LogLevelSetting.Debug => LogLevel.Debug,
        _ => LogLevel.Information,
    };

    public static string Name(LogLevel level) => level switch
    {
        LogLevel.Critical or LogLevel.Error => "error",
        LogLevel.Warning => "warn",
        LogLevel.Information => "info",
        _ => "debug",
    };
}
