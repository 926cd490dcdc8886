from iocwatch.cli import main

main()
