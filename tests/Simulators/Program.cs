namespace Simulators; internal static class Program { public static int Main() => 0; }
