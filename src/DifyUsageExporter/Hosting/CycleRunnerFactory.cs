using DifyUsageExporter.Configuration;
using DifyUsageExporter.Storage;
using DifyUsageExporter.Sync;
using DifyUsageExporter.Usage;

namespace DifyUsageExporter.Hosting;

/// <summary>
/// Creates the export cycle the daemon and <c>run --once</c> execute. The composition point
/// where the real <c>ExportCycle</c> is plugged in (<see cref="Composition.CycleRunner"/>).
/// </summary>
public delegate ICycleRunner CycleRunnerFactory(ExporterSettings settings, StateStore store, ILoggerFactory loggers, CommandEnvironment environment);

/// <summary>Builds the usage source (the Dify extractor in production) for a command run (<see cref="Composition.UsageSource"/>).</summary>
public delegate IUsageSource UsageSourceFactory(ExporterSettings settings, StateStore store, ILoggerFactory loggers, CommandEnvironment env);
