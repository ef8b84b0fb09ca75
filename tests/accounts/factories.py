"""factory_boy factories for accounts."""

from functools import cache

import factory
from django.contrib.auth.hashers import make_password

from accounts.models import Membership, Role, Team, User, Workspace

PASSWORD = "correct-horse-battery-staple"


@cache
def password_hash() -> str:
    """Argon2 is slow on purpose: hash the shared test password once."""
    return make_password(PASSWORD)


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    full_name = factory.Faker("name")
    password = factory.LazyFunction(password_hash)


class WorkspaceFactory(factory.django.DjangoModelFactory[Workspace]):
    class Meta:
        model = Workspace
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"workspace-{n}")
    name = factory.Sequence(lambda n: f"Workspace {n}")
    currency = "EUR"
    timezone = "Europe/Berlin"


class MembershipFactory(factory.django.DjangoModelFactory[Membership]):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    workspace = factory.SubFactory(WorkspaceFactory)
    role = Role.EDITOR


class TeamFactory(factory.django.DjangoModelFactory[Team]):
    class Meta:
        model = Team

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"Team {n}")
