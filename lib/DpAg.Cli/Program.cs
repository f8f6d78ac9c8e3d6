using System.CommandLine;
using DpAg.Cli;

// `dpag`: one verb per job. Each verb initialises the TorchSharp runtime first (see DpAg.Runtime.TorchRuntime).
var root = new RootCommand("dpag: the DP-AG research kit's command line (Action-Guided Diffusion Policy, NeurIPS 2025).");
foreach (var command in Commands.All()) root.Subcommands.Add(command);
return await root.Parse(args).InvokeAsync();
