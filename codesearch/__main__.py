from codesearch.quick import main

main()
