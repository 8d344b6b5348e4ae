import CreddCLI

CreddCommand.runProcess()
