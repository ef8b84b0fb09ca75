"""Invariants of accounts held by the database itself."""

import pytest
from django.db import IntegrityError, transaction

from accounts.models import Membership, Team, User, Workspace
from tests.accounts.factories import UserFactory


@pytest.mark.django_db
class TestConstraints:
    def test_one_membership_per_user_and_workspace(self, admin: Membership) -> None:
        with pytest.raises(IntegrityError), transaction.atomic():
            Membership.objects.create(user=admin.user, workspace=admin.workspace, role="viewer")

    def test_a_role_outside_the_three_is_refused_by_the_database(
        self, workspace: Workspace
    ) -> None:
        user = UserFactory.create()
        with pytest.raises(IntegrityError), transaction.atomic():
            Membership.objects.create(user=user, workspace=workspace, role="owner")

    def test_e_mail_addresses_are_unique_whatever_their_case(self) -> None:
        UserFactory.create(email="ann@example.com")
        with pytest.raises(IntegrityError), transaction.atomic():
            User.objects.create(email="ANN@example.com")

    def test_team_names_are_unique_per_workspace_whatever_their_case(
        self, workspace: Workspace, other_workspace: Workspace
    ) -> None:
        Team.objects.create(workspace=workspace, name="Growth")
        Team.objects.create(workspace=other_workspace, name="Growth")
        with pytest.raises(IntegrityError), transaction.atomic():
            Team.objects.create(workspace=workspace, name="growth")

    def test_a_currency_must_have_three_letters(self) -> None:
        with pytest.raises(IntegrityError), transaction.atomic():
            Workspace.objects.create(slug="x", name="X", currency="EU")


@pytest.mark.django_db
def test_users_log_in_with_their_e_mail_in_any_case() -> None:
    from django.contrib.auth import authenticate

    from tests.accounts.factories import PASSWORD

    user = UserFactory.create(email="ann@example.com")
    assert authenticate(username="ann@example.com", password=PASSWORD) == user
    assert authenticate(username="ann@example.com", password="wrong-password") is None
