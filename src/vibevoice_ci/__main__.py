from vibevoice_ci.cli import main

raise SystemExit(main())
