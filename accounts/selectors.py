"""Reads for accounts: which workspaces a user belongs to, and with which role."""

from django.db.models import Count, QuerySet

from accounts.models import Membership, Team, User, Workspace


def memberships_for_user(*, user: User) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(user=user).select_related("workspace").order_by("workspace__name")
    )


def membership_for(*, user: User, slug: str) -> Membership | None:
    """The user's membership in the workspace with this slug, or None (not a member, or no
    such workspace: callers answer both with 404)."""
    return (
        Membership.objects.select_related("workspace", "user")
        .filter(user=user, workspace__slug=slug)
        .first()
    )


def workspace_overview(*, workspace: Workspace) -> dict[str, object]:
    """What the workspace home shows: its teams and how many people hold each role."""
    role_counts = dict(
        Membership.objects.filter(workspace=workspace)
        .values_list("role")
        .annotate(n=Count("id"))
        .values_list("role", "n")
    )
    teams = list(Team.objects.filter(workspace=workspace).order_by("name"))
    return {
        "teams": teams,
        "role_counts": role_counts,
        "member_count": sum(role_counts.values()),
    }


def is_member(*, workspace_id: int, user: User) -> bool:
    """Whether the user belongs to the workspace (owners, stakeholders … must)."""
    return Membership.objects.filter(workspace_id=workspace_id, user=user).exists()
