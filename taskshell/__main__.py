from taskshell.cli import main

raise SystemExit(main())
