"""Backup and restore of a workspace (export_workspace, import_workspace): a restore gives
back every row of every exported model, field by field, under new ids; a damaged file
writes nothing; a model of our apps cannot escape the backup."""

import io
import json
import sys
import uuid
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.db import models

from accounts.invitations import invitation_create
from accounts.models import ApiToken, Role, User, Workspace
from accounts.services import api_token_authenticate, api_token_create, api_token_revoke
from initiatives.services import (
    alignment_create,
    decision_record,
    expected_impact_create,
    experiment_create,
    idea_decline,
    idea_promote,
    idea_submit,
    idea_vote,
    initiative_create,
    initiative_transition,
    stakeholder_add,
)
from pm_value import backup
from reports.models import ReportDefinition, ReportDelivery, ReportRecipient, ReportRun, ShareLink
from reports.selectors import Scope, value_summary
from reports.services import (
    ShareLinkRefused,
    share_link_create,
    share_link_resolve,
    share_link_revoke,
    share_link_token,
)
from tests.accounts.factories import MembershipFactory, TeamFactory, UserFactory, WorkspaceFactory
from tests.strategy.factories import KeyResultFactory, MetricFactory, ObjectiveFactory, measure
from webhooks.models import WebhookDelivery, WebhookEndpoint

RELEASE = date(2026, 2, 15)
AS_OF = date(2026, 6, 30)


# --- a rich workspace ----------------------------------------------------------------------------


def build(slug: str, *, shared: User | None = None) -> Workspace:
    """A workspace with a row of every kind, written through the services where they exist
    (so decisions, history and audit rows are what the app writes)."""
    workspace = WorkspaceFactory.create(slug=slug, name=f"{slug.title()} Inc.", vision="Ünïcode ✓")
    admin_membership = MembershipFactory.create(workspace=workspace, role=Role.ADMIN)
    admin = admin_membership.user
    editor = MembershipFactory.create(workspace=workspace, role=Role.EDITOR).user
    viewer = MembershipFactory.create(workspace=workspace, role=Role.VIEWER).user
    if shared is not None:
        MembershipFactory.create(workspace=workspace, user=shared, role=Role.VIEWER)
    growth = TeamFactory.create(workspace=workspace, name="Growth")
    TeamFactory.create(workspace=workspace, name="Platform")
    api_token_create(membership=admin_membership, name="CI")
    old, _ = api_token_create(membership=admin_membership, name="Old", read_only=True)
    api_token_revoke(token=old)

    # A child objective made before its parent: the parent link points forward.
    child = ObjectiveFactory.create(workspace=workspace, title="Activation", owner=editor)
    company = ObjectiveFactory.create(workspace=workspace, title="Grow revenue")
    child.parent = company
    child.save()
    ObjectiveFactory.create(workspace=workspace, title="Day-one value", parent=child)

    signups = MetricFactory.create(workspace=workspace, aggregation="sum", owner=editor)
    mrr = MetricFactory.create(workspace=workspace, aggregation="last", value_per_unit="1.5")
    nps = MetricFactory.create(
        workspace=workspace, aggregation="mean", direction="decrease", value_per_unit=None
    )
    days = [date(2026, 1, 1) + timedelta(days=n) for n in range(120)]
    measure(signups, {d: str(n % 7 + (n > 45) * 2) for n, d in enumerate(days)})
    measure(mrr, {d: f"{1000 + n * 3}.123456" for n, d in enumerate(days)})
    measure(nps, {d: f"-{n % 5}.5" for n, d in enumerate(days[::3])})
    KeyResultFactory.create(workspace=workspace, objective=child, metric=signups)
    KeyResultFactory.create(workspace=workspace, objective=company, metric=mrr, target="2000")

    shipped = initiative_create(
        workspace=workspace,
        by=editor,
        title="Onboarding v2 <b>bold</b>",
        hypothesis="We believe a checklist will lift sign-ups; we will know when …",
        team=growth,
        owner=editor,
        effort_weeks=Decimal("6"),
        reach=1000,
        impact=Decimal("2"),
        confidence=70,
    )
    alignment_create(initiative=shipped, objective=child, weight=60, rationale="The funnel")
    expected_impact_create(
        initiative=shipped, metric=signups, expected_change=Decimal("3"), attribution=50
    )
    expected_impact_create(initiative=shipped, metric=mrr, expected_change=Decimal("500"))
    stakeholder_add(initiative=shipped, user=viewer, role="sponsor", expectation="More trials")
    for to in ("committed", "in_delivery"):
        initiative_transition(initiative=shipped, to=to, by=editor)
    initiative_transition(initiative=shipped, to="released", by=editor, released_on=RELEASE)
    experiment_create(
        initiative=shipped,
        hypothesis="A checklist beats a tour",
        method="ab_test",
        metric=signups,
        started_on=date(2026, 1, 10),
        ended_on=date(2026, 1, 31),
        result="validated",
        learnings="It does.",
    )
    declined = initiative_create(
        workspace=workspace, by=admin, title="Loyalty points", kind="tactical", effort_weeks=None
    )
    initiative_transition(
        initiative=declined,
        to="declined",
        by=admin,
        rationale="Not our customers' problem this year.",
        revisit_on=date.today() + timedelta(days=90),
    )
    decision_record(
        workspace=workspace,
        by=admin,
        kind="defer",
        rationale="Platform work first, then this.",
        revisit_on=date.today() + timedelta(days=30),
    )

    idea = idea_submit(workspace=workspace, by=viewer, title="Dark mode", source="customer")
    idea_vote(idea=idea, by=editor)
    idea_vote(idea=idea, by=viewer)
    idea_promote(idea=idea, by=editor)  # Idea → Initiative, an initiative made later
    other = idea_submit(workspace=workspace, by=editor, title="Fax export")
    idea_decline(idea=other, by=admin, reason="Nobody has asked for it in years.")

    invitation_create(workspace=workspace, by=admin, email=f"new-{slug}@example.com", role="viewer")
    share_link_create(workspace=workspace, by=editor, scope=Scope(team=growth), label="Board")
    gone = share_link_create(
        workspace=workspace, by=editor, scope=Scope(objective=company), label="Investors"
    )
    share_link_revoke(link=gone, by=admin)

    definition = ReportDefinition.objects.create(
        workspace=workspace,
        name="Monthly value",
        team=growth,
        formats=["html", "pdf", "csv"],
        created_by=editor,
    )
    ReportRecipient.objects.create(definition=definition, user=viewer)
    ReportRecipient.objects.create(definition=definition, email="cfo@example.com")
    run = ReportRun.objects.create(
        workspace=workspace,
        definition=definition,
        period_start=date(2026, 1, 1),
        period_end=date(2026, 1, 31),
        as_of=date(2026, 1, 31),
        trigger="schedule",
        status="succeeded",
        data={"headline": "€1,234 delivered", "values": [1, "2.50", None]},
        requested_by=admin,
    )
    run.html_file.save("report.html", ContentFile(f"<h1>{slug}</h1>".encode()), save=False)
    run.csv_file.save("report.csv", ContentFile(b"=cmd|' /C calc'!A0,1\n"), save=False)
    run.save()
    ReportDelivery.objects.create(run=run, email="cfo@example.com", status="sent")
    endpoint = WebhookEndpoint.objects.create(
        workspace=workspace,
        url="https://hooks.example.com/pm",
        events=["initiative.created"],
        secret="s3cret",
        created_by=admin,
    )
    WebhookDelivery.objects.create(
        endpoint=endpoint,
        event="initiative.created",
        event_id=uuid.uuid4(),
        payload={"initiative": {"id": shipped.pk, "title": shipped.title}},
        status="succeeded",
        attempts=1,
        response_code=200,
        response_body="ok",
    )
    return workspace


# --- a generic comparison over the same discovery as the backup ---------------------------------


def _file_content(field: models.FileField, name: str) -> bytes | str:
    if not name:
        return ""
    with field.storage.open(name, "rb") as handle:
        return handle.read()


def snapshot(workspace: Workspace) -> dict[str, list[dict[str, Any]]]:
    """Every row of every exported model of the workspace, ordered by id, with ids replaced
    by their rank in their model's rows (users by their e-mail address), files by their
    content: two workspaces with the same data have the same snapshot."""
    plan = backup.plan()
    sections = [s for s in plan.sections if s.path is not None]
    raw = {
        s.label: list(s.rows(workspace.pk).order_by("pk").values(*[f.attname for f in s.fields]))
        for s in sections
    }
    rank = {
        s.label: {row[s.fields[0].attname]: i for i, row in enumerate(raw[s.label])}
        for s in sections
    }
    by_model_name = {s.model._meta.model_name: s.label for s in sections}
    users: dict[int, dict[str, Any]] = {}
    out: dict[str, list[dict[str, Any]]] = {}
    for section in sections:
        out[section.label] = []
        for row in raw[section.label]:
            item: dict[str, Any] = {}
            for field in section.fields:
                value = row[field.attname]
                reference = section.references.get(field.attname)
                if field.primary_key:
                    value = rank[section.label][value]
                elif reference is not None and value is not None:
                    if reference.target == backup.USER:
                        users[value] = {}
                        value = ("user", value)  # made an address below
                    else:
                        value = rank[reference.target].get(value, ("elsewhere", value))
                elif section.history_id and field.attname == section.history_id[0]:
                    value = rank[section.history_id[1]][value]
                elif section.loose and field.attname == section.loose[1] and value is not None:
                    target = by_model_name.get(row[section.loose[0]])
                    if target is not None:
                        value = rank[target].get(value, ("deleted", value))
                elif isinstance(field, models.FileField):
                    value = _file_content(field, value)
                item[field.name] = value
            out[section.label].append(item)
    people = User.objects.in_bulk(list(users))
    emails = {pk: user.email for pk, user in people.items()}
    for rows in out.values():
        for item in rows:
            for name, value in item.items():
                if isinstance(value, tuple) and value[0] == "user":
                    item[name] = emails.get(value[1], ("no such user", value[1]))
    user_fields = backup.plan().section(backup.USER).fields[1:]
    out[backup.USER] = sorted(
        ({f.name: getattr(u, f.attname) for f in user_fields} for u in people.values()),
        key=lambda u: u["email"],
    )
    return out


def differences(
    before: dict[str, list[dict[str, Any]]],
    after: dict[str, list[dict[str, Any]]],
    *,
    ignore: frozenset[tuple[str, str]] = frozenset(),
) -> list[str]:
    found = []
    for label in sorted(set(before) | set(after)):
        old, new = before.get(label, []), after.get(label, [])
        if len(old) != len(new):
            found.append(f"{label}: {len(old)} rows before, {len(new)} after")
            continue
        for index, (a, b) in enumerate(zip(old, new, strict=True)):
            for name in sorted(set(a) | set(b)):
                if (label, name) not in ignore and a.get(name) != b.get(name):
                    found.append(f"{label} row {index} {name}: {a.get(name)!r} → {b.get(name)!r}")
    return found


def row_count(snap: dict[str, list[dict[str, Any]]]) -> int:
    return sum(len(rows) for rows in snap.values())


def database_counts() -> dict[str, int]:
    """Rows of every table of our apps (exported or not) and of the users."""
    return {m._meta.label_lower: m._base_manager.count() for m in backup.our_models()}


def media_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return tmp_path / "media"


@pytest.fixture
def two_workspaces(db: None, media: Path) -> tuple[Workspace, Workspace, User]:
    shared = UserFactory.create(email="shared@example.com")
    acme = build("acme", shared=shared)
    globex = build("globex", shared=shared)
    return acme, globex, shared


def export(slug: str, path: Path) -> str:
    call_command("export_workspace", slug, output=str(path), stderr=io.StringIO())
    return path.read_text(encoding="utf-8")


def summary_figures(workspace: Workspace) -> tuple[Any, ...]:
    s = value_summary(workspace=workspace, as_of=AS_OF)
    return (
        s.counts_by_status,
        s.pipeline_value,
        s.realized_value,
        s.realized_initiatives,
        s.alignment_score,
        s.declined_initiatives,
        s.declined_ideas,
    )


# --- the model discovery -------------------------------------------------------------------------


def test_every_model_of_our_apps_is_exported_or_excluded_by_name() -> None:
    plan = backup.plan()

    assert plan.escaped == [], (
        f"Models of our apps with no path of foreign keys to Workspace: {plan.escaped}. "
        "Give them one (then they are backed up), or add them to pm_value.backup.EXCLUDED "
        "with the reason they need no backup."
    )
    labels = {m._meta.label_lower for m in backup.our_models()}
    exported = {s.label for s in plan.sections}
    assert exported | set(backup.EXCLUDED) == labels
    assert set(backup.EXCLUDED) <= labels, "EXCLUDED names a model that no longer exists"
    assert {
        "strategy.measurement",
        "initiatives.historicalinitiative",
        "reports.reportrun",
    } <= exported


def test_every_model_comes_after_the_models_it_points_at() -> None:
    plan = backup.plan()
    seen: set[str] = set()
    for section in plan.sections:
        for reference in section.references.values():
            assert reference.deferred or reference.target in seen, (section.label, reference)
        seen.add(section.label)
    objective = plan.section("strategy.objective")
    assert objective.references["parent_id"].deferred  # a self-reference: second pass


# --- round trips ---------------------------------------------------------------------------------


def test_a_deleted_workspace_comes_back_row_for_row_under_new_ids(
    two_workspaces: tuple[Workspace, Workspace, User], tmp_path: Path, media: Path
) -> None:
    acme, globex, shared = two_workspaces
    before, globex_before = snapshot(acme), snapshot(globex)
    figures = summary_figures(acme)
    assert figures[2] is not None  # a realized value, from the measurements around release
    addresses = {
        link.label: share_link_token(link=link) for link in ShareLink.objects.filter(workspace=acme)
    }
    export("acme", tmp_path / "acme.json")
    people = set(member_emails(acme)) - {shared.email}

    # Wiped, with the people only it had: as in an empty database, for them.
    backup.workspace_delete(workspace=acme)
    User.objects.filter(email__in=people).delete()
    assert not Workspace.objects.filter(slug="acme").exists()

    out = io.StringIO()
    call_command("import_workspace", str(tmp_path / "acme.json"), stdout=out)

    restored = Workspace.objects.get(slug="acme")
    assert restored.pk != acme.pk
    after = snapshot(restored)
    assert differences(before, after) == []
    assert row_count(after) == row_count(before) > 300
    assert differences(globex_before, snapshot(globex)) == []
    assert "3 people created, 1 matched by e-mail address" in out.getvalue()
    # The people come back with their passwords; the shared one is the same person.
    restored_admin = User.objects.get(email=after["accounts.membership"][0]["user"])
    assert restored_admin.check_password("correct-horse-battery-staple")
    assert User.objects.filter(email=shared.email).count() == 1
    # Kept and derived figures (the realized-value caches, the stored priority) agree.
    assert summary_figures(restored) == figures
    # Addresses shared before the restore open the same links, now under new ids.
    board = share_link_resolve(token=addresses["Board"])
    assert board.team is not None
    assert (board.workspace, board.label, board.team.name) == (restored, "Board", "Growth")
    with pytest.raises(ShareLinkRefused) as refused:
        share_link_resolve(token=addresses["Investors"])
    assert refused.value.reason == "revoked"


def member_emails(workspace: Workspace) -> list[str]:
    return list(workspace.memberships.values_list("user__email", flat=True))


def test_a_copy_made_where_the_original_is_not_opens_with_none_of_its_addresses(
    two_workspaces: tuple[Workspace, Workspace, User], tmp_path: Path
) -> None:
    acme, _, _ = two_workspaces
    membership = acme.memberships.get(role=Role.ADMIN)
    _, key = api_token_create(membership=membership, name="Live")
    board = share_link_token(link=ShareLink.objects.get(workspace=acme, label="Board"))
    export("acme", tmp_path / "acme.json")
    backup.workspace_delete(workspace=acme)

    call_command(
        "import_workspace", str(tmp_path / "acme.json"), slug="acme-copy", stdout=io.StringIO()
    )

    copy = Workspace.objects.get(slug="acme-copy")
    with pytest.raises(ShareLinkRefused):
        share_link_resolve(token=board)
    assert api_token_authenticate(key=key) is None
    assert not ApiToken.objects.filter(membership__workspace=copy, revoked_at__isnull=True).exists()
    assert not copy.invitations.filter(revoked_at__isnull=True, accepted_at__isnull=True).exists()
    assert ShareLink.objects.filter(workspace=copy).count() == 2


def test_a_copy_beside_the_original_has_the_same_rows_and_keys_that_open_only_the_original(
    two_workspaces: tuple[Workspace, Workspace, User],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    acme, _, _ = two_workspaces
    membership = acme.memberships.get(role=Role.ADMIN)
    _, key = api_token_create(membership=membership, name="Live")
    board = ShareLink.objects.get(workspace=acme, label="Board")
    before = snapshot(acme)
    content = export("acme", tmp_path / "acme.json")
    users_before = User.objects.count()

    monkeypatch.setattr(sys, "stdin", io.StringIO(content))  # `import_workspace < acme.json`
    out = io.StringIO()
    call_command("import_workspace", slug="acme-copy", stdout=out)

    copy = Workspace.objects.get(slug="acme-copy")
    assert (
        differences(
            before,
            snapshot(copy),
            # The slug asked for, and what is unique across the database: renewed in a copy.
            ignore=frozenset(
                {
                    ("accounts.workspace", "slug"),
                    ("accounts.apitoken", "key_hash"),
                    ("accounts.apitoken", "revoked_at"),
                    ("reports.sharelink", "nonce"),
                    ("accounts.invitation", "key_hash"),
                    ("accounts.invitation", "revoked_at"),
                    # A copy e-mails nobody and calls no receiver on its own.
                    ("reports.reportdefinition", "scheduled"),
                    ("webhooks.webhookendpoint", "active"),
                    ("webhooks.webhookendpoint", "disabled_at"),
                    ("webhooks.webhookendpoint", "disabled_reason"),
                }
            ),
        )
        == []
    )
    assert differences(before, snapshot(acme)) == []
    assert User.objects.count() == users_before  # everyone matched by address
    assert "API tokens were revoked in the copy" in out.getvalue()
    # The shared address opens the original's link; the copy's link has an address of its own.
    assert share_link_resolve(token=share_link_token(link=board)) == board
    copied_board = ShareLink.objects.get(workspace=copy, label="Board")
    assert share_link_resolve(token=share_link_token(link=copied_board)).workspace == copy
    assert not ReportDefinition.objects.filter(workspace=copy, scheduled=True).exists()
    assert not WebhookEndpoint.objects.filter(workspace=copy, active=True).exists()
    assert "scheduled reports are paused" in out.getvalue()
    copied_tokens = ApiToken.objects.filter(membership__workspace=copy)
    assert copied_tokens.count() == 3
    assert not copied_tokens.filter(revoked_at__isnull=True).exists()
    token = api_token_authenticate(key=key)
    assert token is not None
    assert token.membership.workspace == acme


def test_the_export_is_json_lines_with_a_header_sections_and_a_last_line(
    two_workspaces: tuple[Workspace, Workspace, User], tmp_path: Path
) -> None:
    lines = export("acme", tmp_path / "acme.json").splitlines()

    header, last = json.loads(lines[0]), json.loads(lines[-1])
    assert header["format"] == "pm-value-workspace"
    assert header["workspace"] == "acme"
    assert last["end"] is True
    assert sum(last["rows"].values()) == sum(1 for line in lines if line.startswith("["))
    assert "correct-horse" not in "".join(lines)  # a hash, not the password
    run_rows = [line for line in lines if '"report.html"' in line or "reports/" in line]
    assert run_rows, "the report files travel in the file"


# --- damaged files write nothing -----------------------------------------------------------------


def _cut_mid_line(text: str) -> str:
    """Cut inside a line (never at its end, whatever the lengths of the random values)."""
    lines = text.splitlines(keepends=True)
    middle = len(lines) // 2
    return "".join(lines[:middle]) + lines[middle][: len(lines[middle]) // 2]


def _cut_at_line(text: str) -> str:
    return "".join(text.splitlines(keepends=True)[:-1])


def _dangling(text: str) -> str:
    """An alignment that points at an objective the file does not hold."""
    lines = text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if '"model":"initiatives.alignment"' in line)
    fields = json.loads(lines[start])["fields"]
    row = json.loads(lines[start + 1])
    row[fields.index("objective_id")] = 999_999_999
    lines[start + 1] = json.dumps(row) + "\n"
    return "".join(lines)


def _same_day_twice(text: str) -> str:
    """A measurement written twice: the file's checks pass, a constraint refuses it."""
    lines = text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if '"model":"strategy.measurement"' in line)
    row = json.loads(lines[start + 1])
    row[0] += 10_000_000  # another id, the same metric and day
    lines.insert(start + 2, json.dumps(row) + "\n")
    last = json.loads(lines[-1])
    last["rows"]["strategy.measurement"] += 1
    lines[-1] = json.dumps(last) + "\n"
    return "".join(lines)


@pytest.mark.parametrize(
    ("damage", "slug", "message"),
    [
        (_cut_mid_line, "acme-copy", "not valid JSON"),
        (_cut_at_line, "acme-copy", "was cut short"),
        (_dangling, "acme-copy", "points at strategy.objective 999999999, which is not in"),
        (_same_day_twice, "acme-copy", "The database refused the rows of strategy.measurement"),
        (lambda text: text, None, "A workspace with the slug “acme” exists already"),
        (lambda text: '{"hello": 1}\n', "acme-copy", "not a workspace backup"),
        (lambda text: text, "Not a slug!", "cannot be a workspace slug"),
    ],
    ids=[
        "truncated-json",
        "truncated-at-a-line",
        "dangling-id",
        "refused-by-a-constraint",
        "slug-taken",
        "not-a-backup",
        "bad-slug",
    ],
)
def test_a_damaged_file_is_refused_in_words_and_writes_nothing(
    two_workspaces: tuple[Workspace, Workspace, User],
    tmp_path: Path,
    media: Path,
    damage: Any,
    slug: str | None,
    message: str,
) -> None:
    damaged = tmp_path / "damaged.json"
    damaged.write_text(damage(export("acme", tmp_path / "acme.json")), encoding="utf-8")
    counts, files = database_counts(), media_files(media)

    with pytest.raises(CommandError, match=message) as refused:
        call_command("import_workspace", str(damaged), slug=slug)

    assert "Nothing was imported" in str(refused.value) or "slug" in str(refused.value)
    assert database_counts() == counts
    assert media_files(media) == files


def test_an_unknown_workspace_is_refused_in_words(db: None, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="There is no workspace with the slug “nope”"):
        call_command("export_workspace", "nope", output=str(tmp_path / "nope.json"))
    assert not (tmp_path / "nope.json").exists()


def test_history_that_names_a_deleted_row_comes_back_with_the_link_empty(
    db: None, tmp_path: Path
) -> None:
    workspace = WorkspaceFactory.create(slug="initech")
    editor = MembershipFactory.create(workspace=workspace, role=Role.EDITOR).user
    team = TeamFactory.create(workspace=workspace, name="Gone")
    initiative = initiative_create(workspace=workspace, by=editor, title="TPS", team=team)
    team.delete()  # the history's copy of the link has no constraint: it still names it
    export("initech", tmp_path / "initech.json")

    out = io.StringIO()
    call_command("import_workspace", str(tmp_path / "initech.json"), slug="initech-2", stdout=out)

    copy = Workspace.objects.get(slug="initech-2")
    history = initiative.history.model.objects.filter(workspace=copy)
    assert list(history.values_list("title", "team_id")) == [("TPS", None)]
    assert "links to rows deleted before the export" in out.getvalue()
