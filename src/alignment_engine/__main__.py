from alignment_engine.cli import main

main()
