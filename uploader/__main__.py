"""`python -m uploader` is the `uploader` console script."""

import sys

from uploader.cli import main

sys.exit(main())
