from tests.security.conftest import api, make_api  # noqa: F401 - the same app fixtures
