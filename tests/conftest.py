"""Collection order: the real run behind Traefik goes last, so that the build of Traefik that `make test`
starts beside the other tests (scripts/test-with-traefik) has had the most time when that file waits for it."""

LAST = {"test_traefik_run.py"}


def pytest_collection_modifyitems(session, config, items):
    items.sort(key=lambda item: item.path.name in LAST)  # stable: every other test keeps its order
