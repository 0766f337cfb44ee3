from codesearch.cli import main

main()
