import CreddCLI

await CreddCommand.runFromCommandLine()
