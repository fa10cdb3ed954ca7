namespace DifyUsageExporter.Tests; public class SmokeTests { [Xunit.Fact] public void Works() => Xunit.Assert.Equal(2, 1 + 1); }
