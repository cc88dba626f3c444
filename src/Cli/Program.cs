return await Collections.Cli.CliApp.RunAsync(args, Console.Out, Console.Error);
