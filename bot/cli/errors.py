"""Exit codes and the usage error every command-line handler raises."""

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad usage: exit code 2 with this message."""
