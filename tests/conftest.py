"""``pytest --profile cpu30``: the profile whose artifacts ``tests/artifacts`` checks (default ``smoke``).

``make test PROFILE=cpu30`` passes it on; the fixtures that read it, and each profile's
expectations, are in ``tests/artifacts/conftest.py``.
"""


def pytest_addoption(parser):
    parser.addoption("--profile", default="smoke",
                     help="profile whose artifacts tests/artifacts checks (a name under profiles/; default smoke)")
