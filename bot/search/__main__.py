"""`python -m bot.search DATA_DIR`: build or catch up DATA_DIR's search index, in this process."""

import sys

from bot.search.builder import main

sys.exit(main())
