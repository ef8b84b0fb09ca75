"""API rate limits: each token has its own budget; past it, 429 with Retry-After, in words."""

import pytest
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import Membership
from tests.conftest import token_client

ME = "/api/v1/me/"
TEAMS = "/api/v1/workspaces/acme/teams/"


@pytest.fixture
def tiny_rates(monkeypatch: pytest.MonkeyPatch) -> None:
    # The rates are read when a throttle is made, from the class's copy of the settings.
    monkeypatch.setattr(
        SimpleRateThrottle,
        "THROTTLE_RATES",
        {"anon": "100/minute", "user": "100/minute", "token": "3/minute"},
    )


@pytest.mark.django_db
@pytest.mark.usefixtures("tiny_rates")
class TestTokenThrottle:
    def test_a_token_past_its_rate_gets_429_with_retry_after_in_words(
        self, admin: Membership
    ) -> None:
        # Given a token allowed 3 requests a minute
        client = token_client(admin)

        # When it makes a fourth
        statuses = [client.get(ME).status_code for _ in range(3)]
        response = client.get(TEAMS)

        # Then the fourth is refused, with when to come back
        assert statuses == [200, 200, 200]
        assert response.status_code == 429
        assert 0 < int(response["Retry-After"]) <= 60
        assert response.json() == {
            "detail": f"Request was throttled. Expected available in {response['Retry-After']} "
            f"second{'s' if response['Retry-After'] != '1' else ''}."
        }

    def test_each_token_of_one_member_has_its_own_budget(self, admin: Membership) -> None:
        # Given one member with two tokens, the first one used up
        first, second = token_client(admin), token_client(admin)
        for _ in range(3):
            first.get(ME)
        assert first.get(ME).status_code == 429

        # When the second token calls
        response = second.get(ME)

        # Then it is served: the limit is per token, not per user
        assert response.status_code == 200

    def test_the_browser_session_is_not_counted_against_the_tokens(
        self, admin: Membership, client: object
    ) -> None:
        from rest_framework.test import APIClient

        token = token_client(admin)
        for _ in range(3):
            token.get(ME)
        session = APIClient()
        session.force_login(admin.user)

        assert token.get(ME).status_code == 429
        assert session.get(ME).status_code == 200


def test_the_token_rate_comes_from_the_environment(tmp_path: object) -> None:
    from pathlib import Path

    from tests.test_settings import clean_env, settings_as_json

    env = clean_env(API_THROTTLE_TOKEN="7/second", VAR_DIR=str(Path(str(tmp_path))))
    rates = settings_as_json(env, ["REST_FRAMEWORK"])["REST_FRAMEWORK"]

    assert rates["DEFAULT_THROTTLE_RATES"]["token"] == "7/second"  # type: ignore[index]
    assert "accounts.throttling.TokenRateThrottle" in rates["DEFAULT_THROTTLE_CLASSES"]  # type: ignore[index]
