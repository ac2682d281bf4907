namespace QkChat.Benchmarks; static class Program { static int Main(string[] a) { return 0; } }
