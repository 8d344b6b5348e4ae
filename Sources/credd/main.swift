import CreddCLI
Credd.main()
