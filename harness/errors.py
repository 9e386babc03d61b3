"""One error base class. Messages are sentences that say what to do."""


class GatewaylabError(Exception):
    """Base of every error the harness raises on purpose."""

    exit_code = 2


class ScenarioError(GatewaylabError):
    """The scenario file or a command-line choice is wrong."""


class ToolMissing(GatewaylabError):
    """nginx, Go, Toxiproxy or a built binary is not there."""


class StackError(GatewaylabError):
    """A component did not start or died while starting."""


class RunError(GatewaylabError):
    """A run folder is missing or unreadable."""


class ComponentDied(GatewaylabError):
    """A component of the stack died during the load and the scenario says stop."""

    exit_code = 1


class RunDeadline(GatewaylabError):
    """The whole run took longer than its deadline."""

    exit_code = 1
