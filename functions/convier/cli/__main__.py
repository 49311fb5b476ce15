import sys

from convier.cli.app import main

sys.exit(main())
