using QkChat.Server.Configuration;
using QkChat.Server.Hosting;

namespace QkChat.Server;

public static class Program
{
    public static int Main(string[] args)
    {
        CommandLine line;
        try
        {
            line = CommandLine.Parse(args);
        }
        catch (ConfigException e)
        {
            Console.Error.WriteLine("qkchatd: " + e.Message);
            return ExitCodes.Usage;
        }

        switch (line.Command)
        {
            // --version must stay instant: nothing is loaded before this point.
            case "version":
                Console.WriteLine("qkchatd " + BuildInfo.Version);
                return ExitCodes.Ok;
            case "help":
                Console.WriteLine(CommandLine.Usage);
                return ExitCodes.Ok;
            case "config-docs":
                Console.Write(ConfigDocs.MarkdownTable());
                return ExitCodes.Ok;
        }

        ServerOptions options;
        try
        {
            options = ConfigLoader.Load(line.ConfigPath, line.Overrides, Environment.GetEnvironmentVariables());
        }
        catch (ConfigException e)
        {
            Console.Error.WriteLine("qkchatd: " + e.Message);
            return ExitCodes.Usage;
        }

        if (line.Command == "check-config")
        {
            // At start these are warnings (the server runs as configured); a check is there to find them.
            var unknown = UnknownSettings.InEnvironment(Environment.GetEnvironmentVariables());
            foreach (var variable in unknown)
                Console.Error.WriteLine("qkchatd: invalid configuration: " + variable.Message);
            if (unknown.Count > 0) return ExitCodes.Usage;
            Console.WriteLine("configuration ok (" + options.Source + "): " + ConfigDocs.Summary(options));
            return ExitCodes.Ok;
        }
        return ServerHost.Run(line, options);
    }
}
