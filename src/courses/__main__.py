from courses.cli import main

raise SystemExit(main())
