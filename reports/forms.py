"""The value dashboard's GET filters: the period, and the scope (a team, an objective
subtree). A team or objective that is not one of the workspace's is an error on its field,
in words; the view answers 400 with the form, never a 500 and never a wider scope."""

from typing import Any

from django import forms

from accounts.models import Team, Workspace
from reports.dashboard import DEFAULT_PERIOD, PERIODS
from reports.selectors import Scope
from strategy.forms import parent_choices
from strategy.models import Objective


class DashboardFilterForm(forms.Form):
    period = forms.ChoiceField(
        choices=list(PERIODS.items()),
        required=False,
        initial=DEFAULT_PERIOD,
        error_messages={
            "invalid_choice": "“%(value)s” is not a period the dashboard knows: choose one "
            "of the list."
        },
    )
    team = forms.ChoiceField(
        required=False,
        error_messages={
            "invalid_choice": "There is no team “%(value)s” in this workspace: choose one "
            "of the list, or all teams."
        },
    )
    objective = forms.ChoiceField(
        required=False,
        error_messages={
            "invalid_choice": "There is no objective “%(value)s” in this workspace: choose "
            "one of the list, or all objectives."
        },
    )

    def __init__(self, *args: Any, workspace: Workspace, scoped: bool = True, **kwargs: Any):
        """`scoped=False`: the period only (a shared page, whose scope is the link's)."""
        if args and args[0] is not None and not args[0].get("period"):
            # An address without a period shows the default one, and its select says so.
            data = args[0].copy()
            data["period"] = DEFAULT_PERIOD
            args = (data, *args[1:])
        super().__init__(*args, **kwargs)
        self.workspace = workspace
        self._teams: dict[str, Team] = {}
        self._objectives: dict[str, Objective] = {}
        if not scoped:
            del self.fields["team"]
            del self.fields["objective"]
            return
        teams = list(Team.objects.filter(workspace=workspace).order_by("name"))
        self._teams = {str(t.pk): t for t in teams}
        self.fields["team"].choices = [("", "All teams"), *((str(t.pk), t.name) for t in teams)]  # type: ignore[attr-defined]
        choices, allowed = parent_choices(workspace)
        self._objectives = {str(pk): o for pk, o in allowed.items()}
        self.fields["objective"].choices = [("", "All objectives"), *choices[1:]]  # type: ignore[attr-defined]

    @property
    def objectives(self) -> dict[str, Objective]:
        """The workspace's objectives by id (as text), from the query the choices made."""
        return self._objectives

    def period_key(self) -> str:
        data = getattr(self, "cleaned_data", {})
        return data.get("period") or DEFAULT_PERIOD

    def scope(self) -> Scope:
        """The scope the valid form asks for."""
        data = getattr(self, "cleaned_data", {})
        return Scope(
            team=self._teams.get(data.get("team") or ""),
            objective=self._objectives.get(data.get("objective") or ""),
        )

    def filtering(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return bool(data.get("team") or data.get("objective"))
