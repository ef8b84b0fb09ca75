"""Reads for accounts: which workspaces a user belongs to, and with which role."""

from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Count, Q, QuerySet

from accounts.models import ApiToken, AuditEvent, Membership, Role, Team, User, Workspace


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


def tokens_for(*, membership: Membership) -> dict[str, list[ApiToken]]:
    """The tokens page: the member's own tokens, and for an admin everyone else's in the
    workspace."""
    tokens = list(
        ApiToken.objects.filter(membership__workspace_id=membership.workspace_id)
        .select_related("membership__user")
        .order_by("-created_at", "-id")
        if membership.role == Role.ADMIN
        else ApiToken.objects.filter(membership=membership)
        .select_related("membership__user")
        .order_by("-created_at", "-id")
    )
    return {
        "own_tokens": [t for t in tokens if t.membership_id == membership.pk],
        "other_tokens": [t for t in tokens if t.membership_id != membership.pk],
    }


def members_of(*, workspace: Workspace) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(workspace=workspace)
        .select_related("user")
        .order_by("user__email")
    )


def audit_events_for(
    *,
    workspace: Workspace,
    action: str | None = None,
    actor_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[AuditEvent]:
    """The workspace's audit trail, newest first: its own events, and the sign-ins of its
    members (which belong to no workspace). Dates are UTC days, both included."""
    members = Membership.objects.filter(workspace=workspace).values("user_id")
    events = AuditEvent.objects.filter(
        Q(workspace=workspace) | Q(workspace__isnull=True, actor_id__in=members)
    )
    if action:
        events = events.filter(action=action)
    if actor_id is not None:
        events = events.filter(actor_id=actor_id)
    if date_from is not None:
        events = events.filter(created_at__gte=datetime.combine(date_from, time.min, tzinfo=UTC))
    if date_to is not None:
        end = datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=UTC)
        events = events.filter(created_at__lt=end)
    return events.select_related("actor").order_by("-created_at", "-id")
