"""``python -m sitewatch.cli``."""

import sys

from sitewatch.cli.parser import main

if __name__ == "__main__":  # not when a spawned process (sitewatch api --workers N) imports it again
    sys.exit(main())
